/**
 * Several PCs on one remote buffer, with real processes: CLI children (test/support/proof/cli-child.ts, the real
 * `runCli`) against the PostgreSQL of 127.0.0.1 and the simulators started here (SQL Server TDS, BatiSimply).
 * Every child gets its own machine name and data folder, as a PC would. Time runs SCALE times faster in every
 * child (same T0): the 120 s lease lasts 120/SCALE real seconds, the 60 s schedule 60/SCALE.
 *
 *  - frozen holder: PC-A is stopped (SIGSTOP) just before a BatiSimply create, past the lease's expiry; PC-B takes
 *    the flow over and finishes it; PC-A is resumed (SIGCONT) → it stops without any write (fencing). On the engine
 *    before fencing, PC-A's create lands after PC-B's: a duplicate project.
 *  - holder killed mid-run (SIGKILL at checkpoints) → another PC takes over later, exactly-once.
 *  - PC-A's buffer connection goes through a loopback TCP proxy that is cut while PC-A waits before a write; PC-B
 *    takes over; the proxy comes back → PC-A stops without writing.
 *  - two, then three `connecteur service` processes with the schedule on for several intervals → each flow ran
 *    once per interval in total.
 * Duplicates and losses are counted from the simulators (BatiSimply projects by code, SuiviMO rows read from the
 * TDS backend), not from the engine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCliChild } from '../support/proof/child.js';
import type { Settings } from '../../src/shared/settings.js';
import { PG, startWorld, type World } from '../support/proof/world.js';

let BUNDLE = '';
const SCALE = 30;
const TTL_REAL_MS = 120_000 / SCALE;
const INTERVAL_S = 60;
const INTERVAL_REAL_MS = (INTERVAL_S * 1000) / SCALE;
const T0 = Date.now();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Child {
  proc: ChildProcess;
  out: string;
  err: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  waitFor(line: RegExp): Promise<void>;
}

let world: World;
let work: string;
let seq = 0;

function settingsFor(machine: string, over: (s: Settings) => void = () => undefined): string {
  const s = structuredClone(world.settings);
  s.machineName = machine;
  over(s);
  const file = join(work, `settings-${machine}-${++seq}.json`);
  writeFileSync(file, JSON.stringify(s));
  return file;
}

function start(machine: string, args: string[], env: Record<string, string> = {}, over?: (s: Settings) => void): Child {
  const dataDir = join(work, `data-${machine}-${++seq}`);
  mkdirSync(dataDir, { recursive: true });
  const proc = spawn(process.execPath, [BUNDLE, ...args], {
    env: {
      ...process.env,
      CONNECTEUR_DATA_DIR: dataDir,
      CONNECTEUR_SETTINGS_FILE: settingsFor(machine, over),
      CONNECTEUR_TEST_TIME_SCALE: String(SCALE),
      CONNECTEUR_TEST_T0: String(T0),
      // The server ends a session idle in a transaction after 20 s in the app: here a quarter of the scaled lease.
      CONNECTEUR_TEST_IDLE_TX_MS: String(TTL_REAL_MS / 4),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const waiters: { re: RegExp; resolve: () => void }[] = [];
  const child: Child = {
    proc,
    out: '',
    err: '',
    exited: new Promise((res) => proc.on('close', (code, signal) => res({ code, signal }))),
    waitFor: (re) =>
      new Promise<void>((resolve, reject) => {
        if (re.test(child.out)) return resolve();
        waiters.push({ re, resolve });
        void child.exited.then(() => reject(new Error(`${machine} s'est arrêté avant ${re} : ${child.out.slice(-400)} ${child.err.slice(-600)}`)));
      }),
  };
  proc.stdout!.on('data', (d: Buffer) => {
    child.out += d.toString();
    for (const w of [...waiters]) if (w.re.test(child.out)) w.resolve();
  });
  proc.stderr!.on('data', (d: Buffer) => (child.err += d.toString()));
  return child;
}

async function runToEnd(machine: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  const c = start(machine, args, env);
  const r = await c.exited;
  return { code: r.code, out: c.out, err: c.err };
}

/** BatiSimply writes seen by the simulator (creates and updates of projects). */
const bsWrites = (): number => world.bs.log.count('POST /api/project') + world.bs.log.count('PUT /api/project/{id}');

async function bufferQuery<T>(sql: string, params: unknown[] = []): Promise<T[]> {
  const c = new pg.Client({ ...PG, database: world.settings.buffer.remote.database });
  await c.connect();
  try {
    return (await c.query(sql, params)).rows as T[];
  } finally {
    await c.end();
  }
}

/** A loopback TCP proxy to PostgreSQL that can be cut (connections destroyed, new ones refused) and restored. */
async function startProxy(): Promise<{ port: number; cut(): void; restore(): void; destroyed: number; refused: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  let blocked = false;
  const state = { destroyed: 0, refused: 0 };
  const server = net.createServer((client) => {
    if (blocked) {
      state.refused++;
      client.destroy();
      return;
    }
    const upstream = net.connect(PG.port, PG.host);
    sockets.add(client).add(upstream);
    const drop = (): void => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    cut() {
      blocked = true;
      for (const s of sockets) {
        state.destroyed++;
        s.destroy();
      }
      sockets.clear();
    },
    restore() {
      blocked = false;
    },
    get destroyed() {
      return state.destroyed;
    },
    get refused() {
      return state.refused;
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

const totals = { intervals: 0, kills: 0, freezes: 0, cuts: 0, duplicates: 0, lost: 0 };

async function checkWorld(what: string): Promise<void> {
  const c = await world.check();
  totals.duplicates += c.duplicates;
  totals.lost += c.lost;
  expect({ what, duplicates: c.duplicates, lost: c.lost, wrong: c.wrong }).toEqual({ what, duplicates: 0, lost: 0, wrong: [] });
}

beforeAll(async () => {
  BUNDLE = await buildCliChild('cli-child-multi');
  world = await startWorld({ seed: 404, chantiers: 24, salaries: 6, validatedSlots: 120, existingProjects: 4, buffer: 'postgres' });
  work = mkdtempSync(join(tmpdir(), 'cbs-multi-pc-'));
}, 120_000);

afterAll(async () => {
  console.log(
    `plusieurs postes : ${totals.intervals} intervalles planifiés, ${totals.kills} processus tués, ${totals.freezes} gel(s), ${totals.cuts} coupure(s) du proxy, ${totals.duplicates} doublon(s), ${totals.lost} perdu(s)`,
  );
  await world?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('several PCs on one PostgreSQL buffer (real processes)', () => {
  it('a holder frozen past the lease (SIGSTOP) and resumed after another PC took over writes nothing more', async () => {
    await world.reset({ buffer: 'postgres' });
    const go = join(work, `go-freeze-${++seq}`);
    const a = start('PC-A', ['sync', '--flow', 'push'], { CONNECTEUR_TEST_PAUSE_AT: `push:before-remote:4:${go}` });
    await a.waitFor(/PAUSE push:before-remote 4/);
    a.proc.kill('SIGSTOP');
    totals.freezes++;
    await sleep(TTL_REAL_MS + 1500);
    const b = await runToEnd('PC-B', ['sync', '--flow', 'all']);
    expect(b.code, b.err).toBe(0);
    const writesBefore = bsWrites();
    writeFileSync(go, '');
    a.proc.kill('SIGCONT');
    const endA = await a.exited;
    // PC-A went on after the resume (the hook returned), then stopped on its lease, without any write: no BatiSimply
    // request after the resume, no duplicate project (a create after PC-B's would be one).
    expect(a.out).toMatch(/RESUMED push:before-remote 4/);
    const c = await world.check();
    const seen = { writesAfterResume: bsWrites() - writesBefore, exit: endA.code, duplicates: c.duplicates, lost: c.lost, wrong: c.wrong };
    console.log('gel :', JSON.stringify(seen));
    expect(seen).toEqual({ writesAfterResume: 0, exit: 1, duplicates: 0, lost: 0, wrong: [] });
    expect(a.out + a.err).toMatch(/repris par le poste PC-B/);
    const runs = await bufferQuery<{ machine: string; status: string; error_code: string | null }>("SELECT machine, status, error_code FROM runs WHERE flow = 'push' ORDER BY seq");
    expect(runs).toEqual([
      { machine: 'PC-A', status: 'failed', error_code: 'SYNC_LEASE_LOST' },
      { machine: 'PC-B', status: 'succeeded', error_code: null },
    ]);
    await checkWorld('gel');
  }, 60_000);

  it('a holder frozen before a SuiviMO batch and resumed after another PC took over writes no SuiviMO row', async () => {
    await world.reset({ buffer: 'postgres' });
    const go = join(work, `go-freeze-hours-${++seq}`);
    const a = start('PC-A', ['sync', '--flow', 'hours'], { CONNECTEUR_TEST_PAUSE_AT: `hours:before-remote:1:${go}` });
    await a.waitFor(/PAUSE hours:before-remote 1/);
    a.proc.kill('SIGSTOP');
    totals.freezes++;
    await sleep(TTL_REAL_MS + 1500);
    const b = await runToEnd('PC-B', ['sync', '--flow', 'all']);
    expect(b.code, b.err).toBe(0);
    // Every row PC-B wrote is marked (+1000 h) in the TDS backend: a later write of PC-A would show as a row without it.
    await world.adminExec('UPDATE "SuiviMO" SET "NbH0" = "NbH0" + 1000');
    const before = (await world.suiviRows()).length;
    writeFileSync(go, '');
    a.proc.kill('SIGCONT');
    const endA = await a.exited;
    expect(a.out).toMatch(/RESUMED hours:before-remote 1/);
    const rows = await world.suiviRows();
    const seen = { rowsWrittenAfterResume: rows.filter((r) => r.nbH0 < 1000).length, rowsBefore: before, rowsAfter: rows.length, exit: endA.code };
    expect(seen).toEqual({ rowsWrittenAfterResume: 0, rowsBefore: before, rowsAfter: before, exit: 1 });
    expect(a.out + a.err).toMatch(/repris par le poste PC-B/);
    await world.adminExec('UPDATE "SuiviMO" SET "NbH0" = "NbH0" - 1000');
    await checkWorld('gel avant SuiviMO');
  }, 60_000);

  it('a holder killed mid-run is taken over by another PC, exactly once', async () => {
    for (const point of ['push:after-remote:5', 'hours:after-remote:1']) {
      await world.reset({ buffer: 'postgres' });
      const a = await runToEnd('PC-A', ['sync', '--flow', 'all'], { CONNECTEUR_TEST_CRASH_AT: point });
      expect(a.out).toMatch(/^CRASH /m);
      totals.kills++;
      // PC-B starts before the lease of PC-A expired: refused, naming PC-A; after the expiry: it takes over.
      const early = await runToEnd('PC-B', ['sync', '--flow', 'all']);
      expect(early.code).toBe(1);
      expect(early.err).toMatch(/en cours sur le poste PC-A/);
      await sleep(TTL_REAL_MS + 500);
      const b = await runToEnd('PC-B', ['sync', '--flow', 'all']);
      expect(b.code, b.err).toBe(0);
      await checkWorld(`tué à ${point}`);
    }
  }, 90_000);

  it("a PC whose buffer connection is cut (loopback proxy) loses its lease and writes nothing once it is back", async () => {
    await world.reset({ buffer: 'postgres' });
    const proxy = await startProxy();
    try {
      const go = join(work, `go-cut-${++seq}`);
      const a = start('PC-A', ['sync', '--flow', 'push'], { CONNECTEUR_TEST_PAUSE_AT: `push:before-remote:3:${go}` }, (s) => {
        s.buffer.remote.port = proxy.port;
      });
      await a.waitFor(/PAUSE push:before-remote 3/);
      proxy.cut();
      totals.cuts++;
      // The fault fired: PC-A's connections were cut, and its heartbeat's new ones refused.
      expect(proxy.destroyed).toBeGreaterThan(0);
      await sleep(TTL_REAL_MS + 1500);
      expect(proxy.refused).toBeGreaterThan(0);
      const b = await runToEnd('PC-B', ['sync', '--flow', 'all']);
      expect(b.code, b.err).toBe(0);
      const writesBefore = bsWrites();
      proxy.restore();
      writeFileSync(go, '');
      const endA = await a.exited;
      expect(a.out).toMatch(/RESUMED push:before-remote 3/);
      expect(bsWrites() - writesBefore).toBe(0);
      expect(endA.code).toBe(1);
      expect(a.out + a.err).toMatch(/repris par le poste PC-B/);
      await checkWorld('coupure');
    } finally {
      await proxy.close();
    }
  }, 60_000);

  it('a PC whose connector is older than the buffer is refused: « mettez à jour ce poste »', async () => {
    await world.reset({ buffer: 'postgres' });
    const first = await runToEnd('PC-1', ['sync', '--flow', 'push']);
    expect(first.code, first.err).toBe(0);
    // Another PC, updated first, migrated the buffer further than this version knows.
    await bufferQuery("INSERT INTO schema_migrations (version, name) VALUES (9999, 'migration d''une version plus récente')");
    const old = start('PC-ANCIEN', ['service'], {}, (s) => {
      s.schedule = { ...s.schedule, enabled: true, intervalSeconds: INTERVAL_S, flows: 'all' };
    });
    const end = await old.exited;
    expect(end.code).toBe(1);
    expect(old.err).toMatch(/mettez à jour ce poste/);
    expect(old.out).not.toMatch(/Service démarré/);
    const sync = await runToEnd('PC-ANCIEN', ['sync', '--flow', 'hours']);
    expect(sync.code).toBe(1);
    expect(sync.err).toMatch(/mettez à jour ce poste/);
    expect(await bufferQuery("SELECT 1 FROM runs WHERE machine = 'PC-ANCIEN'")).toEqual([]);
  }, 60_000);

  it('3 PCs with the schedule on, the one running a flow killed: the others take over after the lease, exactly once', async () => {
    await world.reset({ buffer: 'postgres' });
    const pcs = [1, 2, 3].map((i) =>
      start(`PC-${i}`, ['service'], {}, (s) => {
        s.schedule = { ...s.schedule, enabled: true, intervalSeconds: INTERVAL_S, flows: 'all', retries: 0 };
      }),
    );
    await Promise.all(pcs.map((p) => p.waitFor(/Service démarré/)));
    // The first interval's job imports everything: kill the PC whose run is in progress.
    let victim: Child | undefined;
    for (let i = 0; i < 2000 && !victim; i++) {
      const held = await bufferQuery<{ machine: string }>("SELECT machine FROM runs WHERE status = 'running' LIMIT 1");
      const name = held[0]?.machine;
      if (name) victim = pcs[Number(name.slice(3)) - 1];
      else await sleep(5);
    }
    expect(victim).toBeDefined();
    victim!.proc.kill('SIGKILL');
    totals.kills++;
    const killedAt = Date.now();
    await sleep(TTL_REAL_MS + 4 * INTERVAL_REAL_MS);
    const others = pcs.filter((p) => p !== victim);
    for (const p of others) p.proc.kill('SIGTERM');
    await Promise.all(pcs.map((p) => p.exited));
    const runs = await bufferQuery<{ flow: string; machine: string; status: string; started_at: Date }>('SELECT flow, machine, status, started_at FROM runs ORDER BY seq');
    // The killed run was found dead by the PC that took the flow over (interrupted); the flows went on after it.
    expect(runs.filter((r) => r.status === 'interrupted').length).toBeGreaterThanOrEqual(1);
    const later = runs.filter((r) => new Date(r.started_at).getTime() > T0 + (killedAt - T0) * SCALE && r.status === 'succeeded');
    expect(new Set(later.map((r) => r.flow))).toEqual(new Set(['push', 'hours']));
    const slotOf = (ms: number): number => Math.floor(ms / (INTERVAL_S * 1000));
    const per = new Map<string, number>();
    for (const r of runs.filter((x) => x.status === 'succeeded')) {
      const k = `${r.flow} ${slotOf(new Date(r.started_at).getTime())}`;
      per.set(k, (per.get(k) ?? 0) + 1);
    }
    expect([...per.entries()].filter(([, c]) => c > 1)).toEqual([]);
    console.log(`poste tué : ${victim!.proc.pid}, ${runs.length} exécutions, ${runs.filter((r) => r.status === 'interrupted').length} interrompue(s)`);
    await checkWorld('poste planifié tué');
  }, 60_000);

  for (const n of [2, 3]) {
    it(`${n} PCs with the schedule on: each flow runs once per interval in total`, async () => {
      await world.reset({ buffer: 'postgres' });
      const listBefore = world.bs.log.count('GET /api/timeSlotManagement/allUsers');
      const pcs = Array.from({ length: n }, (_, i) =>
        start(`PC-${i + 1}`, ['service'], {}, (s) => {
          s.schedule = { ...s.schedule, enabled: true, intervalSeconds: INTERVAL_S, flows: 'all', retries: 0 };
        }),
      );
      await Promise.all(pcs.map((p) => p.waitFor(/Service démarré/)));
      const startedAt = Date.now();
      const intervals = 7;
      await sleep(intervals * INTERVAL_REAL_MS + INTERVAL_REAL_MS / 2);
      for (const p of pcs) p.proc.kill('SIGTERM');
      const ends = await Promise.all(pcs.map((p) => p.exited));
      expect(ends.map((e) => e.code), pcs.map((p) => p.err).join('\n')).toEqual(pcs.map(() => 0));
      const runs = await bufferQuery<{ flow: string; machine: string; status: string; started_at: Date; trigger: string }>(
        'SELECT flow, machine, status, started_at, trigger FROM runs ORDER BY seq',
      );
      // Intervals on the children's (scaled) clock; those wholly inside the test window are counted.
      const scaled = (real: number): number => T0 + (real - T0) * SCALE;
      const slotOf = (ms: number): number => Math.floor(ms / (INTERVAL_S * 1000));
      const first = slotOf(scaled(startedAt)) + 2;
      const last = slotOf(scaled(Date.now())) - 1;
      totals.intervals += last - first + 1;
      const per = new Map<string, number>();
      for (const r of runs) {
        expect(r.trigger).toBe('schedule');
        expect(r.status).toBe('succeeded');
        const k = `${r.flow} ${slotOf(new Date(r.started_at).getTime())}`;
        per.set(k, (per.get(k) ?? 0) + 1);
      }
      // Never two runs of a flow in one interval; every whole interval had its run of each flow.
      expect([...per.entries()].filter(([, c]) => c > 1)).toEqual([]);
      const missing: string[] = [];
      for (const flow of ['push', 'hours']) for (let s = first; s <= last; s++) if (!per.has(`${flow} ${s}`)) missing.push(`${flow} ${s}`);
      expect(missing).toEqual([]);
      expect(last - first + 1).toBeGreaterThanOrEqual(intervals - 3);
      // Several PCs took part (the lease is not one PC's for ever).
      expect(new Set(runs.map((r) => r.machine)).size).toBeGreaterThan(1);
      // Independently of the journal: every hours run lists the window from BatiSimply, so the simulator saw as many
      // listings as the journal has hours runs times the listings per run.
      const hoursRuns = runs.filter((r) => r.flow === 'hours').length;
      const listings = world.bs.log.count('GET /api/timeSlotManagement/allUsers') - listBefore;
      expect(listings % hoursRuns).toBe(0);
      console.log(`${n} postes : ${runs.length} exécutions (${hoursRuns} heures), intervalles ${first}…${last}, machines ${[...new Set(runs.map((r) => r.machine))].join(', ')}`);
      await checkWorld(`${n} postes planifiés`);
    }, 90_000);
  }
});
