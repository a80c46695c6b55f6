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
 *  - CONNECTEUR_TEST_PAUSE_AT=<checkpoint>:<n>:<file> (multi-PC tests) — at the n-th time the engine reaches that
 *    checkpoint the process prints `PAUSE <checkpoint> <n>` and waits until <file> exists (the test freezes it
 *    meanwhile with SIGSTOP, or cuts its buffer connection), then goes on;
 *  - CONNECTEUR_TEST_TIME_SCALE=<f> with CONNECTEUR_TEST_T0=<ms> (multi-PC tests) — time runs f times faster from
 *    T0 for the clock, the scheduler's timers and the lease heartbeat, the same for every process given the same
 *    T0: a 120 s lease and a 60 s schedule last 120/f and 60/f real seconds.
 *
 * The crash test bundles this file with esbuild (fast start) and runs it with `node`.
 */
import { existsSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { runCli } from '../../../src/main/cli.js';
import { BufferStore, openRemoteBuffer, type BufferDb } from '../../../src/main/services/buffer/index.js';
import type { Timers } from '../../../src/main/services/scheduler/scheduler.js';
import type { CheckpointName, SyncHooks } from '../../../src/main/services/sync/engine.js';
import { settingsSchema } from '../../../src/shared/settings.js';

/** Waits at the n-th hit of a checkpoint until a file exists. */
function pauseHooks(spec: string | undefined): SyncHooks | undefined {
  if (!spec) return undefined;
  const m = /^([a-z]+:[a-z-]+):(\d+):(.+)$/.exec(spec);
  if (!m) throw new Error(`CONNECTEUR_TEST_PAUSE_AT invalide : ${spec}`);
  const target = m[1] as CheckpointName;
  const n = Number(m[2]);
  const file = m[3]!;
  let hits = 0;
  return {
    async checkpoint(name) {
      if (name !== target || ++hits !== n) return;
      process.stdout.write(`PAUSE ${name} ${n}\n`);
      while (!existsSync(file)) await new Promise((r) => setTimeout(r, 10));
      process.stdout.write(`RESUMED ${name} ${n}\n`);
    },
  };
}

function bothHooks(a: SyncHooks | undefined, b: SyncHooks | undefined): SyncHooks | undefined {
  if (!a || !b) return a ?? b;
  return {
    async checkpoint(name, detail) {
      await a.checkpoint?.(name, detail);
      await b.checkpoint?.(name, detail);
    },
  };
}

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

/**
 * The real remote buffer of the settings file, whose n-th transaction loses its session (`spec`), and/or whose
 * sessions are ended by the server when idle in a transaction longer than `idleTxMs` (CONNECTEUR_TEST_IDLE_TX_MS:
 * the 20 s of the app, shortened like the rest of time in the multi-PC tests).
 */
async function killingBuffer(spec: string | undefined, idleTxMs: string | undefined): Promise<BufferStore | undefined> {
  if (spec === undefined && idleTxMs === undefined) return undefined;
  const target = spec === undefined ? -1 : Number(spec);
  const settings = settingsSchema.parse(JSON.parse(readFileSync(process.env.CONNECTEUR_SETTINGS_FILE ?? '', 'utf8')));
  const remote = settings.buffer.remote;
  const db = await openRemoteBuffer({ ...remote, ...(idleTxMs ? { idleInTransactionMs: Number(idleTxMs) } : {}) });
  let n = 0;
  let armed = false; // transactions of the CLI run only (not of the migrations below)
  const wrapped: BufferDb = {
    kind: db.kind,
    query: (sql, params) => db.query(sql, params),
    exec: (sql) => db.exec(sql),
    close: () => db.close(),
    transaction: (fn) =>
      db.transaction(async (tx) => {
        if (!armed || target < 0) return fn(tx);
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
const scale = Number(process.env.CONNECTEUR_TEST_TIME_SCALE ?? 1);
const t0 = Number(process.env.CONNECTEUR_TEST_T0 ?? Date.now());
const hooks = bothHooks(crashHooks(process.env.CONNECTEUR_TEST_CRASH_AT), pauseHooks(process.env.CONNECTEUR_TEST_PAUSE_AT));
const buffer = await killingBuffer(process.env.CONNECTEUR_TEST_KILL_BUFFER_TX, process.env.CONNECTEUR_TEST_IDLE_TX_MS);
const pollMs = process.env.CONNECTEUR_TEST_IMPORTS_POLL_MS ? Number(process.env.CONNECTEUR_TEST_IMPORTS_POLL_MS) : undefined;
const timers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms / scale);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};
const code = await runCli(process.argv.slice(2), undefined, {
  clock: { now: () => new Date(t0 + (Date.now() - t0) * scale + offset) },
  runtime: { licence: { assertSyncAllowed: async () => undefined }, ...(buffer ? { buffer } : {}), ...(pollMs !== undefined ? { importsPollMs: pollMs } : {}) },
  ...(hooks ? { hooks } : {}),
  ...(scale !== 1 ? { timers } : {}),
});
await buffer?.db.close().catch(() => undefined);
process.exit(code);
