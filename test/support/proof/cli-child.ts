/**
 * The CLI as the crash test runs it in a child process: the real `runCli` (settings file, data folder,
 * gateway, client, buffer, engine) with three test-only injections, all through `runCli`'s overrides
 * (nothing of this is in the shipped CLI or the Electron app):
 *
 *  - CONNECTEUR_TEST_CRASH_AT=<checkpoint>:<n> — at the n-th time the engine reaches that checkpoint the
 *    process prints `CRASH <checkpoint> <n>` and sends itself SIGKILL (no cleanup, no finally, no flush);
 *  - CONNECTEUR_TEST_IMPORTS_POLL_MS — how often the import agent looks at Batigest's import folder (ms);
 *  - CONNECTEUR_TEST_CLOCK_OFFSET_MS — the run's clock is shifted (a restart "later": the lease of the
 *    killed process has expired, as it would have when a user restarts after a crash);
 *  - the licence check is replaced by an accepting stub (the licence service has its own tests; the crash
 *    test is about the sync engine);
 *  - CONNECTEUR_TEST_KILL_BUFFER_TX=<n> (remote buffer only) — inside the n-th buffer transaction, the session
 *    of that transaction is ended from another connection (pg_terminate_backend): the child prints
 *    `KILLING <pid> <n>` before, `KILLED <pid> <n>` once the server has dropped it; every transaction prints
 *    `TX <n>` (n = 0: count only).
 *    The buffer is the real one (openRemoteBuffer + BufferStore); only its `transaction` is wrapped.
 *
 * The crash test bundles this file with esbuild (fast start) and runs it with `node`.
 */
import { readFileSync } from 'node:fs';
import pg from 'pg';
import { runCli } from '../../../src/main/cli.js';
import { BufferStore, openRemoteBuffer, type BufferDb } from '../../../src/main/services/buffer/index.js';
import type { CheckpointName, SyncHooks } from '../../../src/main/services/sync/engine.js';
import { settingsSchema } from '../../../src/shared/settings.js';

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

/** The real remote buffer of the settings file, whose n-th transaction loses its session. */
async function killingBuffer(spec: string | undefined): Promise<BufferStore | undefined> {
  if (spec === undefined) return undefined;
  const target = Number(spec);
  const settings = settingsSchema.parse(JSON.parse(readFileSync(process.env.CONNECTEUR_SETTINGS_FILE ?? '', 'utf8')));
  const remote = settings.buffer.remote;
  const db = await openRemoteBuffer(remote);
  let n = 0;
  let armed = false; // transactions of the CLI run only (not of the migrations below)
  const wrapped: BufferDb = {
    kind: db.kind,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    transaction: (fn) =>
      db.transaction(async (tx) => {
        if (!armed) return fn(tx);
        const i = ++n;
        process.stdout.write(`TX ${i}\n`);
        if (i === target) {
          const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          const admin = new pg.Client({ host: remote.host, port: remote.port, user: remote.user, password: remote.password, database: 'postgres' });
          await admin.connect();
          try {
            process.stdout.write(`KILLING ${row!.pid} ${i}\n`);
            await admin.query('SELECT pg_terminate_backend($1)', [row!.pid]);
            while ((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [row!.pid])).rowCount) await new Promise((r) => setTimeout(r, 5));
          } finally {
            await admin.end();
          }
          process.stdout.write(`KILLED ${row!.pid} ${i}\n`);
        }
        return fn(tx);
      }),
  };
  const store = new BufferStore(wrapped);
  await store.init();
  armed = true;
  return store;
}

const offset = Number(process.env.CONNECTEUR_TEST_CLOCK_OFFSET_MS ?? 0);
const hooks = crashHooks(process.env.CONNECTEUR_TEST_CRASH_AT);
const buffer = await killingBuffer(process.env.CONNECTEUR_TEST_KILL_BUFFER_TX);
const pollMs = process.env.CONNECTEUR_TEST_IMPORTS_POLL_MS ? Number(process.env.CONNECTEUR_TEST_IMPORTS_POLL_MS) : undefined;
const code = await runCli(process.argv.slice(2), undefined, {
  clock: { now: () => new Date(Date.now() + offset) },
  runtime: { licence: { assertSyncAllowed: async () => undefined }, ...(buffer ? { buffer } : {}), ...(pollMs !== undefined ? { importsPollMs: pollMs } : {}) },
  ...(hooks ? { hooks } : {}),
});
await buffer?.db.close().catch(() => undefined);
process.exit(code);
