/**
 * Fencing of the flow lease (issue 20), in one process: the generation of each acquisition, the buffer of a run
 * refusing every statement once the lease was taken over (nothing of it written), a takeover waiting for the commit
 * of a transaction already checked, the heartbeat that keeps the lease of a long call, the once-per-interval rule of
 * scheduled runs, and a buffer migrated by a newer connector refused. The same with real processes (freeze, kill,
 * cut connection, schedulers): test/integration/multi-pc.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { LATEST_BUFFER_VERSION } from '../../src/main/services/buffer/migrations.js';
import { BufferStore } from '../../src/main/services/buffer/store.js';
import { FlowLease, localProcessProbe } from '../../src/main/services/sync/lease.js';
import { AppError } from '../../src/shared/errors.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { BUFFER_KINDS, useTestBuffer, type TestBuffer } from '../support/sync/buffers.js';
import { memoryHarness } from '../support/sync/harness.js';

const TTL = 120_000;
const t0 = new Date('2026-03-01T10:00:00Z');
const later = (ms: number) => new Date(t0.getTime() + ms);

const take = (s: BufferStore, holder: string, now = t0) => s.acquireLease({ flow: 'push', holder, machine: holder.split('#')[0]!, runId: `run-${holder}`, now, ttlMs: TTL });

const fenceOf = (holder: string, generation: number) => ({ flow: 'push', holder, generation, label: 'Sage Batigest → BatiSimply' });

const lostOf = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

describe.each(BUFFER_KINDS)('lease fencing on %s', (kind) => {
  let tb!: TestBuffer;
  useTestBuffer(kind, (x) => (tb = x), ['run_items', 'runs', 'leases', 'sync_records']);

  it('gives every acquisition a new generation, also after a release and on a takeover', async () => {
    const a = await take(tb.store, 'PC-A#1#x');
    await tb.store.releaseLease('push', 'PC-A#1#x');
    const b = await take(tb.store, 'PC-B#1#y');
    const c = await tb.store.takeOverLease({ flow: 'push', fromHolder: 'PC-B#1#y', holder: 'PC-B#2#z', machine: 'PC-B', runId: 'r', now: t0, ttlMs: TTL });
    const d = await take(tb.store, 'PC-A#1#x', later(TTL + 1));
    const gens = [a.lease!.generation, b.lease!.generation, c!.generation, d.lease!.generation];
    expect(gens.every((g) => g > 0)).toBe(true);
    expect([...gens].sort((x, y) => x - y)).toEqual(gens);
    expect(new Set(gens).size).toBe(4);
  });

  it("refuses every statement of a run whose lease was taken over, naming the PC, and writes none of it", async () => {
    const a = await take(tb.store, 'PC-A#1#x');
    const fenced = tb.store.fenced(fenceOf('PC-A#1#x', a.lease!.generation));
    const intent = (code: string) => ({ kind: 'chantier' as const, code, name: code, hash: 'h', sourceModified: null, intent: 'create' as const, now: t0 });
    await fenced.setIntent(intent('C1'));
    // PC-A froze past the expiry; PC-B took the flow over.
    const b = await take(tb.store, 'PC-B#1#y', later(TTL + 1));
    expect(b.acquired).toBe(true);
    const err = await lostOf(fenced.setIntent(intent('C2')));
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('SYNC_LEASE_LOST');
    expect((err as AppError).message).toMatch(/repris par le poste PC-B/);
    expect(((await lostOf(fenced.transaction((tx) => tx.markDirty([{ codeChantier: 'C', codeSalarie: 'S', day: '2026-03-01' }])))) as AppError).code).toBe('SYNC_LEASE_LOST');
    expect([...(await tb.store.loadRecords('chantier')).keys()]).toEqual(['C1']);
    expect(await tb.store.countDirtyKeys()).toBe(0);
    // Released since: the PC of the latest run is named.
    await tb.store.startRun({ id: 'run-b', flow: 'push', machine: 'PC-B', trigger: 'schedule', now: later(TTL + 2) });
    await tb.store.releaseLease('push', 'PC-B#1#y');
    expect(((await lostOf(fenced.setIntent(intent('C3')))) as AppError).message).toMatch(/repris par le poste PC-B/);
  });

  it('confirms the lease before an external write, and refuses once it was taken over', async () => {
    const clock = { now: () => t0 };
    const lease = new FlowLease({ buffer: tb.store, clock, logger: memoryLogger(), machineName: 'PC-A', holder: 'PC-A#1#x', ttlMs: TTL, probe: localProcessProbe }, 'push');
    let lost: AppError | null = null;
    lease.onLost = (e) => (lost = e);
    await lease.acquire('run-a', () => 'Sage Batigest → BatiSimply');
    await lease.confirm();
    clock.now = () => later(TTL / 2);
    await lease.confirm(); // extended: still ours past the first expiry
    expect((await take(tb.store, 'PC-B#1#y', later(TTL + 1))).acquired).toBe(false);
    expect((await take(tb.store, 'PC-B#1#y', later(TTL / 2 + TTL + 1))).acquired).toBe(true);
    const err = await lostOf(lease.confirm());
    expect((err as AppError).code).toBe('SYNC_LEASE_LOST');
    expect(lost).toBe(err);
  });

  it('keeps the lease of a run stuck in one long call (heartbeat), and lets it go when the heartbeat stops', async () => {
    const ttl = 300;
    const lease = new FlowLease({ buffer: tb.store, clock: { now: () => new Date() }, logger: memoryLogger(), machineName: 'PC-A', holder: 'PC-A#1#x', ttlMs: ttl, probe: localProcessProbe }, 'push');
    await lease.acquire('run-a', () => 'Sage Batigest → BatiSimply');
    lease.startHeartbeat();
    const other = () => tb.store.acquireLease({ flow: 'push', holder: 'PC-B#1#y', machine: 'PC-B', runId: 'b', now: new Date(), ttlMs: ttl });
    try {
      // Three lease durations with no progress event at all: the heartbeat alone renewed it.
      await new Promise((r) => setTimeout(r, 3 * ttl));
      expect((await other()).acquired).toBe(false);
    } finally {
      lease.stopHeartbeat();
    }
    await new Promise((r) => setTimeout(r, ttl + 100));
    expect((await other()).acquired).toBe(true);
  });

  if (kind === 'postgres') {
    it('makes a takeover wait for the commit of a transaction already checked against the lease', async () => {
      const a = await take(tb.store, 'PC-A#1#x');
      const other = await tb.reopen();
      const fenced = tb.store.fenced(fenceOf('PC-A#1#x', a.lease!.generation));
      const order: string[] = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      let inside!: () => void;
      const entered = new Promise<void>((r) => (inside = r));
      const tx = fenced.transaction(async (t) => {
        await t.markDirty([{ codeChantier: 'C', codeSalarie: 'S', day: '2026-03-01' }]);
        inside();
        await gate;
        order.push('commit A');
      });
      await entered;
      const takeover = take(other, 'PC-B#1#y', later(TTL + 1)).then((r) => {
        order.push('takeover B');
        return r;
      });
      // The takeover is waiting on the lease row: a session of this database waits for a lock.
      for (let i = 0; ; i++) {
        const waiting = await other.db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        if ((waiting[0]?.n ?? 0) > 0) break;
        if (i > 500) {
          release();
          throw new Error('the takeover never waited');
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      release();
      await tx;
      expect((await takeover).acquired).toBe(true);
      expect(order).toEqual(['commit A', 'takeover B']);
      expect(await tb.store.countDirtyKeys()).toBe(1);
      await other.db.close();
    });
  }

  it('refuses a buffer migrated by a newer connector: « mettez à jour ce poste »', async () => {
    await tb.store.db.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [LATEST_BUFFER_VERSION + 1, 'from a newer PC']);
    try {
      const err = await lostOf(new BufferStore(tb.store.db).init());
      expect((err as AppError).code).toBe('BUFFER_SCHEMA_NEWER');
      expect((err as AppError).message).toMatch(/mettez à jour ce poste/);
    } finally {
      await tb.store.db.query('DELETE FROM schema_migrations WHERE version = $1', [LATEST_BUFFER_VERSION + 1]);
    }
    await new BufferStore(tb.store.db).init();
  });
});

describe('scheduled runs once per interval over all PCs', () => {
  it('skips a flow already run in this interval by another PC, runs it again in the next one', async () => {
    const h = await memoryHarness();
    try {
      const every = 300_000;
      const [first] = await h.engine({ machineName: 'PC-A' }).run('push', { trigger: 'schedule', oncePerMs: every });
      expect(first?.status).toBe('succeeded');
      const err = await lostOf(h.engine({ machineName: 'PC-B' }).run('push', { trigger: 'schedule', oncePerMs: every }));
      expect((err as AppError).code).toBe('SYNC_ALREADY_DONE');
      expect((err as AppError).message).toMatch(/déjà été synchronisé dans cet intervalle par le poste PC-A/);
      // 'all': the flow already done is skipped, the other one runs.
      const all = await h.engine({ machineName: 'PC-B' }).run('all', { trigger: 'schedule', oncePerMs: every });
      expect(all.map((r) => r.flow)).toEqual(['hours']);
      // A manual run is never skipped, and does not make the schedule skip; the next interval runs again.
      expect((await h.engine({ machineName: 'PC-B' }).run('push'))[0]?.status).toBe('succeeded');
      expect((await lostOf(h.engine({ machineName: 'PC-C' }).run('push', { trigger: 'schedule', oncePerMs: every })) as AppError).code).toBe('SYNC_ALREADY_DONE');
      h.clock.set(new Date(h.clock.now().getTime() + every));
      expect((await h.engine({ machineName: 'PC-B' }).run('hours'))[0]?.status).toBe('succeeded');
      expect((await h.engine({ machineName: 'PC-C' }).run('hours', { trigger: 'schedule', oncePerMs: every }))[0]?.status).toBe('succeeded');
      h.clock.set(new Date(h.clock.now().getTime() + every));
      expect((await h.engine({ machineName: 'PC-B' }).run('push', { trigger: 'schedule', oncePerMs: every }))[0]?.status).toBe('succeeded');
    } finally {
      await h.close();
    }
  });
});
