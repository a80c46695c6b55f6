/** What the benchmark's scenarios share: BatiSimply projects and slots for a generated company, the children's bundles. */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Settings } from '../../src/shared/settings.js';
import { settingsSchema } from '../../src/shared/settings.js';
import type { ChantierSource } from '../../src/shared/domain.js';
import { mapChantier } from '../../src/main/services/sync/mapping.js';
import { batisimplyUsersFor, SeededRandom, type BatigestCompany } from '../support/datasets/batigest.js';
import type { SimSeed } from '../support/batisimply/index.js';

const DEFAULTS = settingsSchema.parse({}).batisimply.project;
export const PROJECT_DEFAULTS: Settings['batisimply']['project'] = { ...DEFAULTS, headQuarterId: '7', projectManager: 'Conducteur Travaux' };

/** BatiSimply projects with exactly the content the engine would send (so a first sync adopts them). */
export function projectsFor(company: BatigestCompany): NonNullable<SimSeed['projects']> {
  return company.chantiers.map((c, i) => {
    const src: ChantierSource = { ...c, dateModif: null };
    const m = mapChantier(src, PROJECT_DEFAULTS);
    if (!m.ok) throw new Error(m.reason);
    return { id: i + 1, ...(m.input as object), projectCode: m.code, projectName: m.name } as NonNullable<SimSeed['projects']>[number];
  });
}

export function slotsFor(company: BatigestCompany, n: number, allValidated: boolean, seed: number): NonNullable<SimSeed['timeSlots']> {
  const rng = new SeededRandom(seed);
  const users = batisimplyUsersFor(company);
  const day0 = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const out: NonNullable<SimSeed['timeSlots']> = [];
  for (let i = 0; i < n; i++) {
    const u = users[rng.int(0, users.length - 1)]!;
    out.push({
      startDate: new Date(day0 - rng.int(2, 170) * 86_400_000 + rng.int(6 * 60, 15 * 60) * 60_000).toISOString(),
      userId: u.id,
      projectId: rng.int(1, company.chantiers.length),
      managementStatus: allValidated || rng.chance(0.75) ? 'VALIDATED' : rng.pick(['PENDING', 'SUBMITTED', 'REJECTED']),
      totalTimeMinutes: rng.int(2, 40) * 15,
      hasPackedLunch: rng.chance(0.6),
      hasHomeToWorkJourney: rng.chance(0.5),
    });
  }
  return out;
}

/**
 * Compiles test/bench/<name>.ts into one ES module (npm packages stay external, resolved from node_modules as in
 * the installed app). Written under test-output/ so that those packages resolve from the project.
 */
export async function bundleEntry(name: 'child' | 'rest-child'): Promise<string> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const outfile = join(root, 'test-output', 'bench', `${name}.mjs`);
  await build({
    entryPoints: [fileURLToPath(new URL(`./${name}.ts`, import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return outfile;
}

