/**
 * One buffer session killed (pg_terminate_backend) in the middle of a run must not crash the CLI: every pg
 * client has its error listener, the run ends with a French message. The CLI runs as a child process against
 * the simulators with a remote PostgreSQL buffer; inside the n-th buffer transaction the child has the server
 * end exactly that transaction's session (test/support/proof/cli-child.ts, CONNECTEUR_TEST_KILL_BUFFER_TX) and
 * prints KILLED once it is gone, so each attempt proves its fault fired. 20 attempts spread over every
 * transaction of a run.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliChild, runCliChild, type ChildResult } from '../support/proof/child.js';
import { startWorld, type World } from '../support/proof/world.js';

let BUNDLE = '';
const ATTEMPTS = 20;

const runChild = (args: string[], env: Record<string, string>): Promise<ChildResult> => runCliChild(BUNDLE, args, env);

let world: World;
let work: string;

beforeAll(async () => {
  BUNDLE = await buildCliChild('cli-child-session-kill');
  world = await startWorld({ seed: 16, chantiers: 12, salaries: 4, validatedSlots: 40, buffer: 'postgres' });
  work = mkdtempSync(join(tmpdir(), 'cbs-session-kill-'));
}, 120_000);

afterAll(async () => {
  await world?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('one buffer session killed during a CLI run', () => {
  it(`${ATTEMPTS} attempts, each transaction of a run in turn: no unhandled error, a French message, exit 0 or 1`, async () => {
    const attempt = async (i: number, tx: number) => {
      await world.reset();
      const settingsFile = join(work, `settings-${i}.json`);
      writeFileSync(settingsFile, JSON.stringify(world.settings));
      return runChild(['sync', '--flow', 'all'], { CONNECTEUR_DATA_DIR: join(work, `run-${i}`), CONNECTEUR_SETTINGS_FILE: settingsFile, CONNECTEUR_TEST_KILL_BUFFER_TX: String(tx) });
    };
    // Control: how many buffer transactions a run makes (none killed), and that it succeeds.
    const control = await attempt(-1, 0);
    expect(control.code, control.err).toBe(0);
    const transactions = (control.out.match(/^TX \d+$/gm) ?? []).length;
    expect(transactions).toBeGreaterThanOrEqual(3);

    const problems: string[] = [];
    let fired = 0;
    for (let i = 0; i < ATTEMPTS; i++) {
      const tx = 1 + ((i * 7) % transactions);
      const r = await attempt(i, tx);
      const all = `${r.out}\n${r.err}`;
      const killing = new RegExp(`^KILLING \\d+ ${tx}$`, 'm').test(r.out);
      const killed = new RegExp(`^KILLED \\d+ ${tx}$`, 'm').test(r.out);
      if (killed) fired++;
      const french = /Exécution (réussie|échouée|terminée avec des erreurs|interrompue)|base tampon/i.test(all);
      const crash = /Unhandled 'error' event|Emitted 'error' event|^\s+at .+:\d+:\d+\)?$/m.test(r.err);
      console.log(`tentative ${i + 1} (transaction ${tx}/${transactions}) : ${killed ? 'session tuée' : killing ? 'session en cours d’arrêt' : 'PAS TUÉE'}, code ${r.code ?? r.signal}${crash ? ', PLANTAGE' : ''} — ${(r.out.split('\n').filter((l) => l.includes('Exécution')).map((l) => l.replace(/ \(poste .*$/, '')).join(' | ') || r.err.split('\n')[0] || '').slice(0, 260)}`);
      if (!killed) problems.push(`${i + 1}: the session of transaction ${tx} was not killed`);
      if (crash) problems.push(`${i + 1}: crash ${r.err.slice(0, 400)}`);
      if (!french) problems.push(`${i + 1}: no French message: ${all.slice(-400)}`);
      if (r.code !== 0 && r.code !== 1) problems.push(`${i + 1}: exit ${r.code ?? r.signal}`);
    }
    expect(problems).toEqual([]);
    expect(fired).toBe(ATTEMPTS);
    // And the next run, without any fault, completes.
    const after = await runChild(['sync', '--flow', 'all'], { CONNECTEUR_DATA_DIR: join(work, `run-${ATTEMPTS - 1}`), CONNECTEUR_SETTINGS_FILE: join(work, `settings-${ATTEMPTS - 1}.json`), CONNECTEUR_TEST_CLOCK_OFFSET_MS: '125000' });
    expect(after.code, after.err).toBe(0);
  }, 600_000);
});
