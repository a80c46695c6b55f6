/**
 * The CLI as the crash test runs it in a child process: the real `runCli` (settings file, data folder,
 * gateway, client, buffer, engine) with three test-only injections, all through `runCli`'s overrides
 * (nothing of this is in the shipped CLI or the Electron app):
 *
 *  - CONNECTEUR_TEST_CRASH_AT=<checkpoint>:<n> — at the n-th time the engine reaches that checkpoint the
 *    process prints `CRASH <checkpoint> <n>` and sends itself SIGKILL (no cleanup, no finally, no flush);
 *  - CONNECTEUR_TEST_CLOCK_OFFSET_MS — the run's clock is shifted (a restart "later": the lease of the
 *    killed process has expired, as it would have when a user restarts after a crash);
 *  - the licence check is replaced by an accepting stub (the licence service has its own tests; the crash
 *    test is about the sync engine).
 *
 * The crash test bundles this file with esbuild (fast start) and runs it with `node`.
 */
import { runCli } from '../../../src/main/cli.js';
import type { CheckpointName, SyncHooks } from '../../../src/main/services/sync/engine.js';

function crashHooks(spec: string | undefined): SyncHooks | undefined {
  if (!spec) return undefined;
  const m = /^([a-z]+:[a-z-]+):(\d+)$/.exec(spec);
  if (!m) throw new Error(`CONNECTEUR_TEST_CRASH_AT invalide : ${spec}`);
  const target = m[1] as CheckpointName;
  const n = Number(m[2]);
  let hits = 0;
  return {
    checkpoint(name) {
      if (name !== target || ++hits !== n) return;
      process.stdout.write(`CRASH ${name} ${n}\n`);
      process.kill(process.pid, 'SIGKILL');
      // SIGKILL is delivered before this line runs; never resolve, to be sure nothing else happens.
      return new Promise<void>(() => undefined);
    },
  };
}

const offset = Number(process.env.CONNECTEUR_TEST_CLOCK_OFFSET_MS ?? 0);
const hooks = crashHooks(process.env.CONNECTEUR_TEST_CRASH_AT);
const code = await runCli(process.argv.slice(2), undefined, {
  clock: { now: () => new Date(Date.now() + offset) },
  runtime: { licence: { assertSyncAllowed: async () => undefined } },
  ...(hooks ? { hooks } : {}),
});
process.exit(code);
