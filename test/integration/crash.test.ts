/**
 * Crash test: the CLI `sync --flow all` runs as a child process against the simulators (TDS on PGlite,
 * BatiSimply) with an on-disk buffer, and is killed with SIGKILL at many points spread over every phase:
 *  - at the engine's named checkpoints × hit counts (the child kills itself, see test/support/proof/cli-child.ts),
 *  - while a project creation is in flight (the simulator in this process received the POST, the child is
 *    killed before it can read the answer),
 *  - after seeded random delays (reading phases, anywhere).
 * After each kill the CLI is run again to completion, and the end state is checked: every expected BatiSimply
 * project exactly once (by projectCode), every validated hour exactly once in SuiviMO with the right
 * NbH0/NbH3/NbH4, nothing else. Everything is deterministic by SEED except the instants of the timed kills.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliChild, runCliChild, type ChildResult } from '../support/proof/child.js';
import { SeededRandom } from '../support/datasets/batigest.js';
import { startWorld, type World } from '../support/proof/world.js';

const SEED = 20261125;
let BUNDLE = '';
/** Lease TTL of the engine is 120 s: the rerun "happens later", as a restart after a crash would. */
const LATER_MS = 125_000;

type KillPoint = (
  | { kind: 'checkpoint'; name: string; n: number; then?: { name: string; n: number } }
  | { kind: 'post'; n: number }
  | { kind: 'delay'; ms: number }
) & { embedded?: boolean };

const label = (p: KillPoint): string =>
  (p.embedded ? '[tampon intégré] ' : '') +
  (p.kind === 'checkpoint' ? `${p.name}:${p.n}${p.then ? ` puis ${p.then.name}:${p.then.n}` : ''}` : p.kind === 'post' ? `POST n°${p.n} en vol` : `après ${p.ms} ms`);

/** Kill points spread over every phase, hit counts drawn from the seed within the known number of hits. */
function killPlan(projects: number, creates: number, hourBatches: number, runMs: number, embeddedRunMs: number): KillPoint[] {
  const rng = new SeededRandom(SEED);
  const some = (lo: number, hi: number, k: number): number[] => {
    const out = new Set<number>();
    while (out.size < k) out.add(rng.int(lo, hi));
    return [...out].sort((a, b) => a - b);
  };
  const cp = (name: string, n: number): KillPoint => ({ kind: 'checkpoint', name, n });
  const plan: KillPoint[] = [
    cp('run:started', 1), // push run started, nothing done
    cp('run:started', 2), // push done, hours run started
    ...[1, ...some(2, projects - 1, 2), projects].map((n) => cp('push:before-remote', n)),
    ...[1, ...some(2, projects - 1, 3), projects].map((n) => cp('push:after-remote', n)),
    ...[1, ...some(2, projects - 1, 1), projects].map((n) => cp('push:after-commit', n)),
    cp('hours:after-intent', 1),
    ...Array.from({ length: hourBatches }, (_, i) => cp('hours:before-remote', i + 1)),
    ...Array.from({ length: hourBatches }, (_, i) => cp('hours:after-remote', i + 1)),
    ...Array.from({ length: hourBatches }, (_, i) => cp('hours:after-commit', i + 1)),
    ...some(1, creates, 3).map((n): KillPoint => ({ kind: 'post', n })),
    // Timed kills at seeded fractions (10–70 %) of an uninterrupted run measured beforehand.
    ...some(10, 70, 3).map((pc): KillPoint => ({ kind: 'delay', ms: Math.round((runMs * pc) / 100) })),
    // Killed again while recovering.
    { kind: 'checkpoint', name: 'push:after-remote', n: rng.int(2, projects - 1), then: { name: 'push:before-remote', n: 1 } },
    { kind: 'checkpoint', name: 'hours:after-remote', n: 1, then: { name: 'hours:after-intent', n: 1 } },
    // The same on the embedded (PGlite, on disk) buffer.
    { kind: 'checkpoint', name: 'hours:after-remote', n: 1, embedded: true },
    { kind: 'delay', ms: Math.round((embeddedRunMs * rng.int(10, 70)) / 100), embedded: true },
  ];
  return plan;
}

const runChild = (args: string[], env: Record<string, string>, watch?: (child: ChildProcess) => () => void): Promise<ChildResult> =>
  runCliChild(BUNDLE, args, env, watch);

let world: World;
let work: string;

beforeAll(async () => {
  BUNDLE = await buildCliChild('cli-child');
  world = await startWorld({ seed: SEED % 1000, chantiers: 60, salaries: 10, validatedSlots: 300, buffer: 'postgres' });
  work = mkdtempSync(join(tmpdir(), 'cbs-crash-'));
});

afterAll(async () => {
  await world?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('crash test (SIGKILL of the CLI at every phase)', () => {
  it('ends with every project and every validated hour exactly once, whatever the kill point', async () => {
    // Control runs without any kill (remote and embedded buffer): correct result, and their durations.
    const control = async (buffer: 'postgres' | 'pglite-dir'): Promise<number> => {
      await world.reset({ buffer });
      const file = join(work, `settings-control-${buffer}.json`);
      writeFileSync(file, JSON.stringify(world.settings));
      const t0 = Date.now();
      const r = await runChild(['sync', '--flow', 'all'], { CONNECTEUR_DATA_DIR: join(work, `control-${buffer}`), CONNECTEUR_SETTINGS_FILE: file });
      const ms = Date.now() - t0;
      expect(r.code, r.err).toBe(0);
      const c = await world.check();
      expect({ duplicates: c.duplicates, lost: c.lost, wrong: c.wrong }).toEqual({ duplicates: 0, lost: 0, wrong: [] });
      return ms;
    };
    const runMs = await control('postgres');
    const embeddedRunMs = await control('pglite-dir');
    const hourBatches = Math.ceil(world.expectedSuivi.size / 250);
    const plan = killPlan(world.expectedCodes.length, world.expectedCodes.length - world.preexisting.size, hourBatches, runMs, embeddedRunMs);
    let duplicates = 0;
    let lost = 0;
    let killed = 0;
    const problems: string[] = [];
    for (const [i, point] of plan.entries()) {
      await world.reset({ buffer: point.embedded ? 'pglite-dir' : 'postgres' });
      const t0 = Date.now();
      const dataDir = join(work, `run-${i}`);
      const settingsFile = join(work, `settings-${i}.json`);
      writeFileSync(settingsFile, JSON.stringify(world.settings));
      const base = { CONNECTEUR_DATA_DIR: dataDir, CONNECTEUR_SETTINGS_FILE: settingsFile, CONNECTEUR_LOG_LEVEL: 'info' };
      const args = ['sync', '--flow', 'all'];
      let first: ChildResult;
      if (point.kind === 'checkpoint') {
        first = await runChild(args, { ...base, CONNECTEUR_TEST_CRASH_AT: `${point.name}:${point.n}` });
        if (point.then && first.signal === 'SIGKILL') {
          const again = await runChild(args, { ...base, CONNECTEUR_TEST_CRASH_AT: `${point.then.name}:${point.then.n}`, CONNECTEUR_TEST_CLOCK_OFFSET_MS: String(LATER_MS) });
          if (again.signal !== 'SIGKILL') problems.push(`${label(point)} : la 2e exécution n'a pas été tuée (${again.code})`);
        }
      } else if (point.kind === 'post') {
        const bs = world.bs;
        first = await runChild(args, base, (child) => {
          const t = setInterval(() => {
            if (bs.log.count('POST /api/project') >= point.n) {
              child.kill('SIGKILL');
              clearInterval(t);
            }
          }, 1);
          return () => clearInterval(t);
        });
      } else {
        first = await runChild(args, base, (child) => {
          const t = setTimeout(() => child.kill('SIGKILL'), point.ms);
          return () => clearTimeout(t);
        });
      }
      if (first.signal === 'SIGKILL') killed++;
      else if (point.kind !== 'delay') problems.push(`${label(point)} : pas tué (code ${first.code}) ${first.err.slice(0, 300)}`);
      const offset = String(point.kind === 'checkpoint' && point.then ? 2 * LATER_MS : LATER_MS);
      const rerun = await runChild(args, { ...base, CONNECTEUR_TEST_CLOCK_OFFSET_MS: offset });
      if (rerun.code !== 0) problems.push(`${label(point)} : la reprise a échoué (code ${rerun.code}) ${rerun.out.slice(-300)} ${rerun.err.slice(0, 300)}`);
      const c = await world.check();
      duplicates += c.duplicates;
      lost += c.lost;
      console.log(`point ${i + 1}/${plan.length} ${label(point)} : ${first.signal ?? first.code} puis ${rerun.code}, ${c.duplicates} doublon(s), ${c.lost} perdu(s), ${c.wrong.length} écart(s) (${Date.now() - t0} ms)`);
      if (c.duplicates || c.lost || c.wrong.length) problems.push(`${label(point)} : ${c.duplicates} doublon(s), ${c.lost} perdu(s) ${c.wrong.slice(0, 3).join(' ; ')}`);
    }
    console.log(
      `${killed} kill points, ${duplicates} duplicates, ${lost} lost (${plan.length} planned, ${plan.length - killed} timed kill(s) came after the end of the run; ${world.expectedCodes.length} projects and ${world.expectedSuivi.size} SuiviMO rows expected each time)`,
    );
    expect(killed).toBeGreaterThanOrEqual(25);
    expect(problems).toEqual([]);
    expect(duplicates).toBe(0);
    expect(lost).toBe(0);
  }, 600_000);
});
