/**
 * The state of the connector as ONE pure function of the facts the main process gathers (`Overview`,
 * contract.ts: licence, settings completeness, schedule and pause, the run in progress, the last run of
 * each flow, what waits for a person) and of the clock. The tray (icon, tooltip, first menu line), the
 * notification policy and the dashboard (state, « À traiter », one card per flow) all read it, so they
 * never disagree.
 *
 * States, strongest first:
 *   licence    the licence forbids syncing (nothing runs until it is sorted);
 *   running    a run is in progress;
 *   paused     scheduled runs are suspended (« Suspendre 1 h / 4 h / jusqu'à demain »);
 *   error      a flow's last run failed, a scheduled attempt could not start, or the buffer is unreadable;
 *   attention  something waits for a person: salariés without correspondence, unknown chantiers, items in
 *              failure, imports in error, a licence expiring within 7 days or offline past half its grace,
 *              a configuration to finish;
 *   ok         « à jour ».
 *
 * Times are shown in the local time of the machine computing the text (the PC of the tray, the browser of
 * the dashboard): both are the office PC.
 */
import type { FlowFacts, NavTarget, Overview, WaitingGroup } from './contract.js';
import { count } from './plural.js';

export type StateKind = 'ok' | 'running' | 'attention' | 'error' | 'paused' | 'licence';
export const STATE_KINDS: readonly StateKind[] = ['ok', 'running', 'attention', 'error', 'paused', 'licence'];

export const STATE_LABELS: Record<StateKind, string> = {
  ok: 'À jour',
  running: 'Synchronisation en cours',
  attention: 'Attention requise',
  error: 'Erreur',
  paused: 'En pause',
  licence: 'Licence',
};

/** One thing that needs someone, with the way to fix it. `id` is stable; `keys` are what it is about. */
export interface Problem {
  id: string;
  keys: string[];
  severity: 'error' | 'warning';
  flow: string | null;
  /** Short: « 4 salariés sans correspondance — 99 h en attente ». */
  title: string;
  /** The title without the flow's name, for the flow's own card (« 1 élément en échec »). */
  short?: string;
  /** One or two sentences: what it means and what to do. */
  detail: string;
  fix: { label: string; target: NavTarget };
}

export type FlowCardKind = 'ok' | 'running' | 'attention' | 'error' | 'never';

export interface FlowCard {
  flow: string;
  /** « Sage Batigest → BatiSimply ». */
  title: string;
  kind: FlowCardKind;
  /** Badge text: « À jour », « En cours », « À traiter », « Erreur », « Jamais lancé ». */
  badge: string;
  /** « à jour — dernier succès il y a 3 min, prochain à 10:45 », or what needs doing. */
  line: string;
  problems: Problem[];
}

export interface ConnectorState {
  kind: StateKind;
  label: string;
  /** The first line of the tray menu: last success and next run (or what runs, or why nothing does). */
  headline: string;
  problems: Problem[];
  flows: FlowCard[];
  lastSuccessAt: string | null;
  /** The next scheduled run (null: off, paused or blocked). */
  nextRunAt: string | null;
  pausedUntil: string | null;
  /** « Synchroniser maintenant » is possible: configured, licence allowing, nothing running. */
  canSync: boolean;
  /**
   * False while the licence has not been verified yet since the start, or the buffer is still being opened
   * (what they say is then unknown, not bad): the notification policy waits for a settled state.
   */
  settled: boolean;
}

// ---------------------------------------------------------------------------------------------
// Time in words
// ---------------------------------------------------------------------------------------------

const HHMM = (d: Date) => d.toLocaleTimeString('fr-FR', { hour: '2-digit', minute: '2-digit' });
const dayKey = (d: Date) => `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;

/** « à l'instant », « il y a 3 min », « il y a 2 h », « il y a 3 jours ». */
export function ago(iso: string, now: Date): string {
  const ms = now.getTime() - Date.parse(iso);
  if (!Number.isFinite(ms) || ms < 60_000) return "à l'instant";
  const min = Math.floor(ms / 60_000);
  if (min < 60) return `il y a ${min} min`;
  const h = Math.floor(min / 60);
  if (h < 24) return `il y a ${h} h`;
  return `il y a ${count(Math.floor(h / 24), 'jour', 'jours')}`;
}

/** « à 10:45 » (today), « demain à 07:00 », « le 12/03 à 10:45 ». */
export function atTime(iso: string, now: Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  if (dayKey(d) === dayKey(now)) return `à ${HHMM(d)}`;
  const tomorrow = new Date(now.getTime());
  tomorrow.setDate(tomorrow.getDate() + 1);
  if (dayKey(d) === dayKey(tomorrow)) return `demain à ${HHMM(d)}`;
  return `le ${d.toLocaleDateString('fr-FR', { day: '2-digit', month: '2-digit' })} à ${HHMM(d)}`;
}

/** « jusqu'à 14:30 » (today), « jusqu'à demain 07:00 », « jusqu'au 12/03 à 10:45 ». */
export function untilTime(iso: string, now: Date): string {
  const t = atTime(iso, now);
  if (t.startsWith('demain à ')) return `jusqu'à demain ${t.slice('demain à '.length)}`;
  if (t.startsWith('le ')) return `jusqu'au ${t.slice(3)}`;
  return `jusqu'${t}`;
}

const hoursText = (h: number) => `${h.toLocaleString('fr-FR', { maximumFractionDigits: 2 })} h`;
const list = (names: string[], total: number) => {
  const shown = names.slice(0, 3).join(', ');
  return total > 3 ? `${shown}…` : shown;
};

// ---------------------------------------------------------------------------------------------
// Flows
// ---------------------------------------------------------------------------------------------

/** The flow as the user names it, with the software's name. */
export function flowTitle(flow: string, software: string): string {
  if (flow === 'push') return `${software} → BatiSimply`;
  if (flow === 'hours') return `BatiSimply → ${software}`;
  if (flow === 'imports') return `Imports vers ${software}`;
  if (flow === 'all') return 'Tout synchroniser';
  return flow;
}

// ---------------------------------------------------------------------------------------------
// Problems
// ---------------------------------------------------------------------------------------------

const LOCK_CODES = new Set(['BUFFER_LOCKED', 'SYNC_ALREADY_RUNNING']);

/** Where an error code is fixed. */
function fixOfCode(code: string): Problem['fix'] {
  if (code.startsWith('LICENSE_')) return { label: 'Ouvrir la licence', target: { page: 'licence' } };
  if (code.startsWith('SQL_') || code.startsWith('BS_') || code.startsWith('BUFFER_') || code.startsWith('SETTINGS_') || code === 'SECRET_UNAVAILABLE' || code === 'NOT_CONFIGURED') {
    return { label: 'Vérifier les réglages', target: { page: 'settings' } };
  }
  return { label: 'Voir le journal', target: { page: 'journal' } };
}

function waitingProblem(g: WaitingGroup, software: string): Problem | null {
  if (g.count <= 0) return null;
  const base = { id: `${g.flow}:${g.kind}`, keys: g.keys, severity: 'warning' as const, flow: g.flow };
  const runTarget = (action: 'failed' | 'skipped'): NavTarget => (g.runId ? { page: 'journal', runId: g.runId, action } : { page: 'journal' });
  switch (g.kind) {
    case 'unmapped_user':
      return {
        ...base,
        title: `${count(g.count, 'salarié sans correspondance', 'salariés sans correspondance')}${g.hours ? ` — ${hoursText(g.hours)} en attente` : ''}`,
        detail: `Les heures validées de ${list(g.names, g.count)} ne peuvent pas être écrites dans ${software} tant que ${g.count > 1 ? 'ces utilisateurs BatiSimply ne sont pas associés' : "cet utilisateur BatiSimply n'est pas associé"} à un salarié.`,
        fix: { label: g.count > 1 ? 'Associer ces salariés' : 'Associer ce salarié', target: { page: 'mapping' } },
      };
    case 'unknown_chantier':
      return {
        ...base,
        title: `${count(g.count, `chantier inconnu de ${software}`, `chantiers inconnus de ${software}`)}${g.hours ? ` — ${hoursText(g.hours)} en attente` : ''}`,
        detail: `Des heures validées portent sur ${list(g.names, g.count)} : vérifiez le code du chantier dans BatiSimply ou dans ${software}. Elles seront importées au prochain passage une fois corrigé.`,
        fix: { label: 'Voir les créneaux concernés', target: runTarget('skipped') },
      };
    case 'failed_items':
      return {
        ...base,
        title: `${count(g.count, 'élément en échec', 'éléments en échec')} : ${flowTitle(g.flow, software)}`,
        short: count(g.count, 'élément en échec', 'éléments en échec'),
        detail: 'Chacun est réessayé à chaque passage ; le journal donne la raison de chacun.',
        fix: { label: 'Voir les éléments en échec', target: runTarget('failed') },
      };
    case 'import_error':
      return {
        ...base,
        title: count(g.count, 'import en erreur', 'imports en erreur'),
        detail: `${list(g.names, g.count)} : le journal donne la raison de chacun.`,
        fix: { label: 'Voir les imports en erreur', target: runTarget('failed') },
      };
    case 'import_waiting':
      return {
        ...base,
        title: count(g.count, "fichier en attente d'import", "fichiers en attente d'import"),
        detail: `${list(g.names, g.count)} attendent d'être pris en compte par ${software}.`,
        fix: { label: 'Voir le journal', target: runTarget('skipped') },
      };
  }
}

function licenceProblem(o: Overview): Problem | null {
  const l = o.licence;
  if (!l) return null;
  // Not verified yet since the start (state 'error' = no answer yet): nothing to say about it.
  if (l.state === 'error') return null;
  if (!l.syncAllowed) {
    return { id: 'licence', keys: [l.state], severity: 'error', flow: null, title: 'Licence : synchronisation suspendue', detail: l.message, fix: { label: 'Ouvrir la licence', target: { page: 'licence' } } };
  }
  if ((l.state === 'valid' || l.state === 'expiring') && l.daysLeft !== null && l.daysLeft <= 7) {
    const when = l.daysLeft <= 0 ? "aujourd'hui" : `dans ${count(l.daysLeft, 'jour', 'jours')}`;
    return {
      id: 'licence-expiring',
      keys: ['expiring'],
      severity: 'warning',
      flow: null,
      title: `La licence expire ${when}`,
      detail: 'Faites-la renouveler par le Groupe SAGES : à son expiration, la synchronisation s’arrête.',
      fix: { label: 'Ouvrir la licence', target: { page: 'licence' } },
    };
  }
  if (l.state === 'offline_grace' && l.graceDaysLeft !== null && l.graceDaysLeft <= l.graceDays / 2) {
    return {
      id: 'licence-offline',
      keys: ['offline'],
      severity: 'warning',
      flow: null,
      title: 'Licence non vérifiée : service injoignable',
      detail: `Sans connexion au service de licence, la synchronisation s'arrêtera ${l.graceDaysLeft <= 0 ? "aujourd'hui" : `dans ${count(l.graceDaysLeft, 'jour', 'jours')}`}. Vérifiez l'accès à Internet de ce poste.`,
      fix: { label: 'Ouvrir la licence', target: { page: 'licence' } },
    };
  }
  return null;
}

const SETUP_NAMES: Record<Overview['setup']['missing'][number], string> = {
  sqlServer: 'SQL Server',
  batisimply: 'compte BatiSimply',
};

/** Everything that needs someone, errors first (stable order otherwise). */
export function problemsOf(o: Overview): Problem[] {
  const sw = o.softwareLabel;
  const out: Problem[] = [];
  if (!o.setup.completed) {
    out.push({
      id: 'setup',
      keys: ['wizard'],
      severity: 'warning',
      flow: null,
      title: 'Configuration à terminer',
      detail: "L'assistant de configuration n'a pas été terminé : rien n'est synchronisé pour le moment.",
      fix: { label: "Ouvrir l'assistant", target: { page: 'setup' } },
    });
  } else if (o.setup.missing.length > 0) {
    out.push({
      id: 'setup',
      keys: [...o.setup.missing],
      severity: 'warning',
      flow: null,
      title: 'Réglages incomplets',
      detail: `À renseigner : ${o.setup.missing.map((m) => SETUP_NAMES[m]).join(', ')}.`,
      fix: { label: 'Ouvrir les réglages', target: { page: 'settings' } },
    });
  }
  const lic = licenceProblem(o);
  if (lic) out.push(lic);
  if (o.bufferError) {
    out.push({ id: 'buffer', keys: ['buffer'], severity: 'error', flow: null, title: 'Base tampon inaccessible', detail: o.bufferError, fix: { label: 'Vérifier les réglages', target: { page: 'settings' } } });
  }
  const latestStart = Math.max(0, ...o.flows.map((f) => (f.lastRun ? Date.parse(f.lastRun.startedAt) : 0)));
  // A scheduled attempt refused by the licence is the licence's problem (told by the licence facts, gone with it).
  if (o.lastAttempt && !LOCK_CODES.has(o.lastAttempt.code) && !o.lastAttempt.code.startsWith('LICENSE_') && Date.parse(o.lastAttempt.at) >= latestStart) {
    out.push({
      id: 'attempt',
      keys: [o.lastAttempt.code],
      severity: 'error',
      flow: null,
      title: 'Synchronisation planifiée impossible',
      detail: o.lastAttempt.message,
      fix: fixOfCode(o.lastAttempt.code),
    });
  }
  for (const f of o.flows) {
    if (f.lastRun?.status === 'failed') {
      out.push({
        id: `${f.flow}:failed`,
        keys: ['failed'],
        severity: 'error',
        flow: f.flow,
        title: `Échec : ${flowTitle(f.flow, sw)}`,
        detail: f.lastRun.message ?? 'La dernière exécution a échoué : le journal en donne la raison.',
        fix: { label: 'Voir le journal', target: { page: 'journal', runId: f.lastRun.id } },
      });
    }
  }
  for (const g of o.waiting) {
    const p = waitingProblem(g, sw);
    if (p) out.push(p);
  }
  return [...out.filter((p) => p.severity === 'error'), ...out.filter((p) => p.severity !== 'error')];
}

// ---------------------------------------------------------------------------------------------
// The state
// ---------------------------------------------------------------------------------------------

function activePause(o: Overview, now: Date): string | null {
  const p = o.schedule.pausedUntil;
  return p && Date.parse(p) > now.getTime() ? p : null;
}

function nextPart(o: Overview, f: FlowFacts, now: Date): string {
  if (!o.schedule.enabled) return 'synchronisation automatique désactivée';
  if (!f.scheduled) return 'hors planification';
  const pause = activePause(o, now);
  if (pause) return `en pause ${untilTime(pause, now)}`;
  if (o.schedule.nextRunAt) return `prochain ${atTime(o.schedule.nextRunAt, now)}`;
  return 'prochain passage à planifier';
}

function progressText(o: Overview): string {
  const p = o.running?.progress;
  if (!p) return 'démarrage';
  return `${p.label}${p.total !== null ? ` ${p.done}/${p.total}` : ''}`;
}

function flowCard(o: Overview, f: FlowFacts, problems: Problem[], now: Date): FlowCard {
  const title = flowTitle(f.flow, o.softwareLabel);
  if (!o.journalKnown) return { flow: f.flow, title, kind: 'never', badge: 'Lecture…', line: 'lecture de la base tampon en cours', problems: [] };
  const mine = problems.filter((p) => p.flow === f.flow);
  const success = f.lastSuccessAt ? `dernier succès ${ago(f.lastSuccessAt, now)}` : 'aucun succès pour le moment';
  const next = nextPart(o, f, now);
  if (o.running?.flow === f.flow) return { flow: f.flow, title, kind: 'running', badge: 'En cours', line: `en cours — ${progressText(o)}`, problems: mine };
  if (f.lastRun?.status === 'failed') {
    return { flow: f.flow, title, kind: 'error', badge: 'Erreur', line: `erreur — ${f.lastRun.message ?? 'dernière exécution en échec'} (${success})`, problems: mine };
  }
  const waiting = mine.filter((p) => p.severity === 'warning');
  if (waiting.length > 0) {
    const what = waiting.map((p) => p.short ?? p.title).join(' ; ');
    return { flow: f.flow, title, kind: 'attention', badge: 'À traiter', line: `à traiter — ${what} (${success}, ${next})`, problems: mine };
  }
  if (!f.lastRun) return { flow: f.flow, title, kind: 'never', badge: 'Jamais lancé', line: `jamais synchronisé — ${next}`, problems: mine };
  return { flow: f.flow, title, kind: 'ok', badge: 'À jour', line: `à jour — ${success}, ${next}`, problems: mine };
}

function latest(isos: (string | null)[]): string | null {
  let best: string | null = null;
  for (const x of isos) if (x && (!best || Date.parse(x) > Date.parse(best))) best = x;
  return best;
}

export function connectorState(o: Overview, now: Date): ConnectorState {
  const problems = problemsOf(o);
  const flows = o.flows.map((f) => flowCard(o, f, problems, now));
  const pausedUntil = activePause(o, now);
  const lastSuccessAt = latest(o.flows.map((f) => f.lastSuccessAt));
  const licenceBlocks = o.licence !== null && !o.licence.syncAllowed;
  let kind: StateKind;
  if (licenceBlocks) kind = 'licence';
  else if (o.running) kind = 'running';
  else if (pausedUntil && o.schedule.enabled) kind = 'paused';
  else if (problems.some((p) => p.severity === 'error')) kind = 'error';
  else if (problems.length > 0) kind = 'attention';
  else kind = 'ok';
  const nextRunAt = o.schedule.enabled && !pausedUntil && !licenceBlocks ? o.schedule.nextRunAt : null;

  const success = lastSuccessAt ? `Dernier succès ${ago(lastSuccessAt, now)}` : 'Aucune synchronisation réussie pour le moment';
  let next: string;
  if (!o.schedule.enabled) next = 'synchronisation automatique désactivée';
  else if (pausedUntil) next = `en pause ${untilTime(pausedUntil, now)}`;
  else if (nextRunAt) next = `prochain ${atTime(nextRunAt, now)}`;
  else next = '';
  let headline: string;
  if (kind === 'licence') headline = o.licence?.message ?? 'La licence ne permet pas de synchroniser.';
  else if (kind === 'running' && o.running) headline = `En cours : ${flowTitle(o.running.flow, o.softwareLabel)} — ${progressText(o)}`;
  else if (!o.setup.completed) headline = 'Configuration à terminer';
  else if (!o.journalKnown) headline = 'Lecture de la base tampon…';
  else headline = next ? `${success} · ${next}` : success;

  return {
    kind,
    label: STATE_LABELS[kind],
    headline,
    problems,
    flows,
    lastSuccessAt,
    nextRunAt,
    pausedUntil,
    canSync: o.setup.completed && !licenceBlocks && !o.running,
    settled: o.licence?.state !== 'error' && o.journalKnown,
  };
}
