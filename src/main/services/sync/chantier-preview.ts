/**
 * Réglages › Chantiers before the first run (issue 18): how many chantiers the chosen scope sends, the Etat values
 * with their counts and meaning, the devis' chantier column, and for a few chantiers the sold hours each source
 * gives and the project name each name source gives. Reads Batigest only (the same rules as the push flow).
 */
import type { ChantiersPreview } from '../../../shared/contract.js';
import type { ChantierSource } from '../../../shared/domain.js';
import { AppError } from '../../../shared/errors.js';
import type { ChantiersSettings } from '../../../shared/settings.js';
import type { BatigestPort, BatigestSetupPort } from '../ports.js';
import { chantierLife, describeEtats, projectNameOf } from './chantier-life.js';
import { clean, normaliseCode } from './mapping.js';

const SAMPLES = 5;

type PreviewPort = Pick<BatigestPort, 'readChantiers' | 'chantierEtatCounts' | 'readDevisHours'> & Pick<BatigestSetupPort, 'detectColumns'>;

async function devisHours(g: PreviewPort, states: readonly number[]): Promise<{ hours: Map<string, number> | null; error: string | null }> {
  try {
    return { hours: await g.readDevisHours(states), error: null };
  } catch (e) {
    if (e instanceof AppError && e.code === 'SQL_COLUMN_MISSING') return { hours: null, error: e.message };
    throw e;
  }
}

function nameExamples(c: ChantierSource | undefined): ChantiersPreview['nameExamples'] {
  if (!c) return { libelle: null, client: null, codeLibelle: null };
  const code = normaliseCode(c.code);
  const [l, cl] = [clean(c.description), clean(c.nomClient)];
  return { libelle: projectNameOf(code, l, cl, 'libelle'), client: projectNameOf(code, l, cl, 'client'), codeLibelle: projectNameOf(code, l, cl, 'codeLibelle') };
}

export async function previewChantiers(g: PreviewPort, s: ChantiersSettings, now: Date, signal?: AbortSignal): Promise<ChantiersPreview> {
  const tables = await g.detectColumns();
  const link = tables.find((t) => t.table === 'devis')?.mapping.find((m) => m.logical === 'chantier');
  const etats = describeEtats(await g.chantierEtatCounts(), s.etatRoles);
  const { hours, error } = await devisHours(g, s.devisStates);
  const byRole = { open: 0, finished: 0, closed: 0, ignored: 0 };
  for (const e of etats) byRole[e.role] += e.count;
  let total = 0;
  let inScope = 0;
  const samples: ChantiersPreview['samples'] = [];
  let first: ChantierSource | undefined;
  for await (const page of g.readChantiers({ signal })) {
    for (const c of page) {
      total++;
      if (!chantierLife(c, s, now).inScope) continue;
      inScope++;
      first ??= c;
      const code = normaliseCode(c.code);
      const fromDevis = hours?.get(code) ?? null;
      // prefer chantiers that have devis hours, so the two sources can be compared
      if (samples.length < SAMPLES && (fromDevis !== null || inScope > 50)) {
        samples.push({ code, name: projectNameOf(code, clean(c.description), clean(c.nomClient), s.nameSource) ?? code, fromChantier: c.heuresVendues, fromDevis });
      }
    }
  }
  return {
    total,
    inScope,
    scopeMonths: s.scopeMonths,
    byRole,
    etats,
    devisLink: { detected: link?.detected ?? null, effective: link?.effective ?? null, candidates: link?.candidates ?? [] },
    devisHoursError: error,
    samples,
    nameExamples: nameExamples(first),
  };
}
