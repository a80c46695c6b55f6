/**
 * The flow lease after a crash: a restart on the same PC takes over the lease of its dead predecessor at once;
 * a live process of this PC, or another PC, keeps it (the latter until expiry). On PGlite and PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BatigestPort, BatisimplyPort } from '../../src/main/services/ports.js';
import type { BufferStore } from '../../src/main/services/buffer/index.js';
import { SyncEngine, type SyncHooks } from '../../src/main/services/sync/engine.js';
import { createSyncFlows } from '../../src/main/services/sync/flows/index.js';
import { AppError } from '../../src/shared/errors.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { BUFFER_KINDS, createTestBuffer, type TestBuffer } from '../support/sync/buffers.js';
import { testSettings } from '../support/sync/harness.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const TTL = 120_000;

/** A child process that exits at once: its pid is dead afterwards. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  const pid = child.pid;
  await new Promise((resolve) => child.once('exit', resolve));
  if (!pid) throw new Error('no pid');
  return pid;
}

/** A child process that stays alive until killed. */
async function liveChild(): Promise<ChildProcess & { pid: number }> {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => undefined, 1000)'], { stdio: 'ignore' });
  await new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  if (!child.pid) throw new Error('no pid');
  return child as ChildProcess & { pid: number };
}

const ports = { batigest: {} as BatigestPort, batisimply: {} as BatisimplyPort };

/** One registry per process, shared by its engines (as the app's sync feature does). */
const localLeases = new Set<string>();

/** An engine whose flows fail right after taking the lease (no Batigest/BatiSimply behind): enough to see the lease. */
function engine(buffer: BufferStore, machineName: string, clock: { now(): Date }, hooks?: SyncHooks, registry: Set<string> | null = localLeases): SyncEngine {
  return new SyncEngine({ flows: createSyncFlows(), ...ports, buffer, settings: () => testSettings(), clock, logger: memoryLogger(), machineName, hooks, ...(registry ? { localLeases: registry } : {}), leaseTtlMs: TTL, retryAttempts: 1, retryBaseMs: 1 });
}

/** Runs the hours flow on a new engine and returns the lease row seen once the run has started (null: refused). */
async function leaseSeenByRun(buffer: BufferStore, machineName: string, clock: { now(): Date }): Promise<{ holder: string } | null> {
  let seen: { holder: string } | null = null;
  const e = engine(buffer, machineName, clock, {
    checkpoint: async (name) => {
      if (name === 'run:started') seen = (await buffer.listLeases()).find((l) => l.flow === 'hours') ?? null;
    },
  });
  try {
    await e.runFlow('hours');
  } catch (err) {
    if (err instanceof AppError && err.code === 'BUFFER_LOCKED') return null;
    throw err;
  }
  return seen;
}

const putLease = (s: BufferStore, holder: string, machine: string, now = t0): Promise<unknown> =>
  s.acquireLease({ flow: 'hours', holder, machine, runId: 'old-run', now, ttlMs: TTL });

describe.each(BUFFER_KINDS)('flow lease on %s', (kind) => {
  let tb!: TestBuffer;
  beforeAll(async () => {
    tb = await createTestBuffer(kind);
  });
  afterAll(async () => {
    await tb?.close();
  });
  beforeEach(async () => {
    await tb.store.db.query('TRUNCATE run_items, runs, leases');
  });
  const clock = { now: () => new Date(t0.getTime() + 5_000) };

  it('takes over at once the lease of a dead process of this PC, and marks its run interrupted', async () => {
    const pid = await deadPid();
    const old = `PC-A#${pid}#0b7d1a0e-dead-4000-8000-000000000000`;
    await putLease(tb.store, old, 'PC-A');
    await tb.store.startRun({ id: 'old-run', flow: 'hours', machine: 'PC-A', trigger: 'cli', now: t0 });
    const seen = await leaseSeenByRun(tb.store, 'PC-A', clock);
    expect(seen?.holder).toMatch(new RegExp(`^PC-A#${process.pid}#[0-9a-f-]{36}$`));
    expect(seen?.holder).not.toBe(old);
    expect((await tb.store.listRuns(5)).find((r) => r.id === 'old-run')?.status).toBe('interrupted');
    expect(await tb.store.listLeases()).toEqual([]);
  });

  it('refuses while the holder process of this PC is alive (the CLI running while the app starts)', async () => {
    const child = await liveChild();
    try {
      const held = `PC-A#${child.pid}#0b7d1a0e-live-4000-8000-000000000000`;
      await putLease(tb.store, held, 'PC-A');
      await expect(engine(tb.store, 'PC-A', clock).runFlow('hours')).rejects.toMatchObject({ code: 'BUFFER_LOCKED' });
      expect((await tb.store.listLeases())[0]?.holder).toBe(held);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('refuses while another engine of this process runs the flow, takes over once it no longer does', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const first = engine(tb.store, 'PC-A', clock, {
      checkpoint: async (name) => {
        if (name !== 'run:started') return;
        started();
        await gate;
      },
    });
    const firstRun = first.runFlow('hours');
    await running;
    const heldByFirst = (await tb.store.listLeases())[0]?.holder ?? '';
    expect(heldByFirst).toMatch(new RegExp(`^PC-A#${process.pid}#`));
    await expect(engine(tb.store, 'PC-A', clock).runFlow('hours')).rejects.toMatchObject({ code: 'BUFFER_LOCKED' });
    release();
    await firstRun;
    // An instance of this process left its lease behind (release failed) and does not run the flow any more.
    const leftOver = `PC-A#${process.pid}#0b7d1a0e-gone-4000-8000-000000000000`;
    await putLease(tb.store, leftOver, 'PC-A');
    const seen = await leaseSeenByRun(tb.store, 'PC-A', clock);
    expect(seen?.holder).toMatch(new RegExp(`^PC-A#${process.pid}#`));
    expect(seen?.holder).not.toBe(leftOver);
  });

  it('without a shared registry, never takes over a lease of its own pid before it expires', async () => {
    const leftOver = `PC-A#${process.pid}#0b7d1a0e-nreg-4000-8000-000000000000`;
    await putLease(tb.store, leftOver, 'PC-A');
    await expect(engine(tb.store, 'PC-A', clock, undefined, null).runFlow('hours')).rejects.toMatchObject({ code: 'BUFFER_LOCKED' });
    expect((await tb.store.listLeases()).find((l) => l.flow === 'hours')?.holder).toBe(leftOver);
    await tb.store.releaseLease('hours', leftOver);
  });

  it('leaves the lease of another PC alone until it expires, even with a pid dead here', async () => {
    const pid = await deadPid();
    const other = `PC-B#${pid}#0b7d1a0e-othr-4000-8000-000000000000`;
    await putLease(tb.store, other, 'PC-B');
    await expect(engine(tb.store, 'PC-A', clock).runFlow('hours')).rejects.toMatchObject({ code: 'BUFFER_LOCKED' });
    expect((await tb.store.listLeases())[0]?.holder).toBe(other);
    const later = { now: () => new Date(t0.getTime() + TTL + 1_000) };
    const seen = await leaseSeenByRun(tb.store, 'PC-A', later);
    expect(seen?.holder).toMatch(/^PC-A#/);
  });

  it('keeps a lease of this PC in the older holder format (no pid) until it expires', async () => {
    await putLease(tb.store, 'PC-A#0b7d1a0e-olde-4000-8000-000000000000', 'PC-A');
    await expect(engine(tb.store, 'PC-A', clock).runFlow('hours')).rejects.toMatchObject({ code: 'BUFFER_LOCKED' });
  });

  it('lets exactly one of two restarting processes take over a dead holder', async () => {
    const pid = await deadPid();
    const old = `PC-A#${pid}#0b7d1a0e-dead-4000-8000-000000000000`;
    await putLease(tb.store, old, 'PC-A');
    const second = await tb.reopen();
    const take = (s: BufferStore, holder: string) =>
      s.takeOverLease({ flow: 'hours', fromHolder: old, holder, machine: 'PC-A', runId: holder, now: clock.now(), ttlMs: TTL });
    const results = await Promise.all([take(tb.store, 'PC-A#1#x'), take(second, 'PC-A#2#y')]);
    const winners = results.filter((r) => r !== null);
    expect(winners).toHaveLength(1);
    expect((await tb.store.listLeases())[0]?.holder).toBe(winners[0]?.holder);
    // Through the engine: two engines of two "restarted processes" race; one runs, the other is refused.
    await tb.store.db.query('TRUNCATE leases');
    await putLease(tb.store, old, 'PC-A');
    // The winner waits at run:started until the loser has its answer, so it cannot release the lease before.
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const hold: SyncHooks = { checkpoint: (name) => (name === 'run:started' ? gate : undefined) };
    const settle = (p: Promise<unknown>) => p.then(() => 'ran' as const, (e: unknown) => e);
    const runs = [settle(engine(tb.store, 'PC-A', clock, hold).runFlow('hours')), settle(engine(second, 'PC-A', clock, hold).runFlow('hours'))];
    const first = await Promise.race(runs);
    expect(first).toMatchObject({ code: 'BUFFER_LOCKED' });
    release();
    const outcomes = await Promise.all(runs);
    expect(outcomes.filter((o) => o === 'ran')).toHaveLength(1);
    expect(outcomes.filter((o) => o instanceof AppError && o.code === 'BUFFER_LOCKED')).toHaveLength(1);
  });
});
