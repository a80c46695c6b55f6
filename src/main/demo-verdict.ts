/**
 * The verdict of `npm run demo` (pure): what its second run claims, checked on the numbers it prints.
 *
 * Claim: the second run, from a restarted process on the same buffer with nothing changed on either side,
 * writes nothing — 0 POST and 0 PUT to BatiSimply, 0 SuiviMO write, 0 project code twice in BatiSimply — and
 * each flow ran to its end (a run that stopped early writes nothing either, and would prove nothing).
 *
 * The hours of BatiSimply users that no Batigest salarié is mapped to wait, by design of the demo company:
 * their runs end « terminée avec des erreurs » (partial) for that reason. They are shown as what they are —
 * expected here, with the way to import them — and never make the verdict fail. The exit code is 0 exactly
 * when the claim holds; every number in the message is one of the facts given.
 */
import type { RunStatus } from '../shared/contract.js';
import type { SyncFlow } from '../shared/domain.js';

export interface SecondRunFacts {
  /** Requests seen by BatiSimply during the second run. */
  posts: number;
  puts: number;
  /** SuiviMO operations of the second run's hours flow. */
  suiviMoWrites: number;
  /** Project codes present more than once in BatiSimply after the second run. */
  duplicateCodes: readonly string[];
  /** The second run's flows as the engine ended them. */
  runs: { flow: Exclude<SyncFlow, 'all'>; status: RunStatus; failed: number; message: string }[];
  /** BatiSimply users without a Batigest salarié, and how many of their validated slots wait. */
  waiting: { name: string; slots: number }[];
}

export interface DemoVerdict {
  ok: boolean;
  exitCode: 0 | 1;
  /** Lines to print, in order. */
  lines: string[];
}

const rules = new Intl.PluralRules('fr-FR');
/** `n` followed by the singular or plural form (French: 0 and 1 take the singular). */
export function countFr(n: number, one: string, other: string): string {
  return `${n.toLocaleString('fr-FR')} ${rules.select(n) === 'one' ? one : other}`;
}

const FLOW_FR = { push: 'Chantiers → BatiSimply', hours: 'Heures → Batigest' } as const;
/** How the demo names a run's end (« partielle » as in the app: some items wait, nothing is lost). */
export const DEMO_STATUS_FR: Record<RunStatus, string> = {
  running: 'encore en cours',
  success: 'réussie',
  partial: 'partielle',
  failed: 'échouée',
  cancelled: 'annulée',
};

/** Lists names as French prose: « A », « A et B », « A, B et C ». */
function listFr(names: string[]): string {
  if (names.length <= 1) return names.join('');
  return `${names.slice(0, -1).join(', ')} et ${names[names.length - 1]}`;
}

export function demoVerdict(f: SecondRunFacts): DemoVerdict {
  const lines: string[] = [];
  const writes = `${countFr(f.posts, 'POST', 'POST')}, ${countFr(f.puts, 'PUT', 'PUT')} vers BatiSimply, ${countFr(f.suiviMoWrites, 'écriture', 'écritures')} SuiviMO`;
  const dupes = f.duplicateCodes.length;
  const wrote = f.posts > 0 || f.puts > 0 || f.suiviMoWrites > 0 || dupes > 0;
  const flows = (['push', 'hours'] as const).map((flow) => ({ flow, run: f.runs.find((r) => r.flow === flow) ?? null }));
  const unfinished = flows.filter(({ run }) => !run || (run.status !== 'success' && run.status !== 'partial') || run.failed > 0);

  if (!wrote && unfinished.length === 0) {
    lines.push(`✓ Le 2e passage n'a rien écrit : ${writes}, aucun code de projet en double dans BatiSimply.`);
  } else {
    if (wrote) {
      const dupeText = dupes === 0 ? 'aucun code de projet en double' : `${countFr(dupes, 'code de projet', 'codes de projet')} en double (${f.duplicateCodes.slice(0, 5).join(', ')}${dupes > 5 ? '…' : ''})`;
      lines.push(`✗ Le 2e passage a écrit alors que rien n'avait changé : ${writes}, ${dupeText}.`);
    }
    for (const { flow, run } of unfinished) {
      if (!run) lines.push(`✗ Le 2e passage n'a pas exécuté le flux ${FLOW_FR[flow]}.`);
      else if (run.failed > 0) lines.push(`✗ ${FLOW_FR[flow]} : ${countFr(run.failed, 'élément', 'éléments')} en erreur au 2e passage — ${run.message}`);
      else lines.push(`✗ ${FLOW_FR[flow]} : exécution ${DEMO_STATUS_FR[run.status]} au 2e passage — ${run.message}`);
    }
  }

  const waiting = f.waiting.filter((w) => w.slots > 0);
  if (waiting.length > 0) {
    const slots = waiting.reduce((n, w) => n + w.slots, 0);
    const who = countFr(waiting.length, 'utilisateur BatiSimply', 'utilisateurs BatiSimply');
    const shown = waiting.slice(0, 5).map((w) => w.name);
    const names = waiting.length > 5 ? `${shown.join(', ')}…` : listFr(shown);
    const partial = f.runs.some((r) => r.flow === 'hours' && r.status === 'partial');
    lines.push(
      `ℹ Attendu dans cette démo : ${who} sans salarié Sage Batigest associé (${names}) — ${countFr(slots, 'créneau validé attend', 'créneaux validés attendent')}, rien n'est perdu${partial ? " ; c'est pourquoi l'import des heures est « partiel »" : ''}.`,
    );
    lines.push(
      `  Pour les importer : associez-les dans l'application, page « Correspondance salariés » (à essayer dans un navigateur avec « npm run try »), ou renseignez leur code BatiSimply (colonne codebs) dans Sage Batigest ; leurs heures seront écrites au passage suivant.`,
    );
  }

  const ok = !wrote && unfinished.length === 0;
  return { ok, exitCode: ok ? 0 : 1, lines };
}
