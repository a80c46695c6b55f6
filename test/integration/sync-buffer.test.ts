/** The buffer database: same suite on embedded PGlite and on the real PostgreSQL server. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/main/services/buffer/index.js';
import { BUFFER_KINDS, createTestBuffer, type TestBuffer } from '../support/sync/buffers.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const at = (ms: number): Date => new Date(t0.getTime() + ms);

describe.each(BUFFER_KINDS)('buffer on %s', (kind) => {
  let tb!: TestBuffer;
  beforeAll(async () => {
    tb = await createTestBuffer(kind);
  });
  afterAll(async () => {
    await tb?.close();
  });
  beforeEach(async () => {
    await tb.store.db.query('TRUNCATE sync_records, time_slots, slot_keys, suivimo_written, employees, run_items, runs, leases');
  });

  it('applies the migrations once and records them', async () => {
    const again = await migrate(tb.store.db);
    expect(again).toEqual([]);
    const rows = await tb.store.db.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
  });

  it('rolls a failed transaction back', async () => {
    await expect(
      tb.store.transaction(async (tx) => {
        await tx.markDirty([{ codeChantier: 'C1', codeSalarie: 'S1', day: '2026-03-01' }]);
        throw new Error('boom');
      }),
    ).rejects.toThrow();
    expect((await tb.store.loadWritten()).size).toBe(0);
  });

  it('keeps a push intent until its commit, then the pushed hash and id', async () => {
    const s = tb.store;
    await s.setIntent({ kind: 'chantier', code: '00000001', name: 'Maison', hash: 'h1', sourceModified: null, intent: 'create', now: t0 });
    let r = (await s.loadRecords('chantier')).get('00000001');
    expect(r).toMatchObject({ intent: 'create', intent_hash: 'h1', batisimply_id: null, pushed_hash: null });
    await s.commitPush({ kind: 'chantier', code: '00000001', name: 'Maison', sourceHash: 'h1', sourceModified: null, batisimplyId: '42', pushedHash: 'h1', remoteModified: null, now: at(1000) });
    r = (await s.loadRecords('chantier')).get('00000001');
    expect(r).toMatchObject({ intent: null, batisimply_id: '42', pushed_hash: 'h1', attempts: 0 });
    expect(r?.pushed_at?.toISOString()).toBe(at(1000).toISOString());
    await s.recordError({ kind: 'chantier', code: '00000001', name: 'Maison', hash: 'h2', error: 'refusé', now: at(2000) });
    r = (await s.loadRecords('chantier')).get('00000001');
    expect(r).toMatchObject({ last_error: 'refusé', attempts: 1, batisimply_id: '42' });
    expect((await s.loadRecords('devis')).size).toBe(0);
    expect((await s.findRecordByBatisimplyId('42'))?.source_code).toBe('00000001');
    // The hours flow's id → code map: pushed records of both kinds, nothing for records never pushed.
    await s.commitPush({ kind: 'devis', code: 'D0007', name: 'Devis', sourceHash: 'h', sourceModified: null, batisimplyId: 'q-7', pushedHash: 'h', remoteModified: null, now: at(3000) });
    await s.setIntent({ kind: 'chantier', code: '00000002', name: 'Garage', hash: 'h3', sourceModified: null, intent: 'create', now: at(3000) });
    expect(await s.loadProjectCodes()).toEqual(new Map([['42', '00000001'], ['q-7', 'D0007']]));
  });

  it('stores slots, the slot → key map and dirty/written SuiviMO keys', async () => {
    const s = tb.store;
    const key = { codeChantier: '00000001', codeSalarie: 'SAL01', day: '2026-03-02' };
    await s.transaction(async (tx) => {
      await tx.upsertSlot({ slotId: 'a', content: '{}', contentHash: 'x', status: 'VALIDATED', startUtc: t0, remoteModified: null, state: 'written', reason: null, changed: true }, t0);
      await tx.setSlotKey({ slot_id: 'a', code_chantier: key.codeChantier, code_salarie: key.codeSalarie, day: key.day, minutes: 90, trajet: 1, panier: 0 }, t0);
      await tx.markDirty([key]);
    });
    expect((await s.loadSlots()).get('a')?.state).toBe('written');
    // What the hours flow compares with: hash, state and start, without the stored content.
    expect(await s.loadSlotBriefs()).toEqual(new Map([['a', { slot_id: 'a', content_hash: 'x', state: 'written', start_utc: t0 }]]));
    expect((await s.loadSlotKeys()).get('a')).toMatchObject({ minutes: 90, trajet: 1, panier: 0 });
    expect(await s.countDirtyKeys()).toBe(1);
    await s.transaction((tx) => tx.commitWritten(key, { minutes: 90, trajet: 1, panier: 0 }, at(5)));
    const w = [...(await s.loadWritten()).values()];
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ minutes: 90, dirty: false });
    await s.transaction((tx) => tx.commitWritten(key, null, at(6)));
    expect((await s.loadWritten()).size).toBe(0);
    await s.transaction((tx) => tx.deleteSlotKey('a'));
    expect((await s.loadSlotKeys()).size).toBe(0);
  });

  it('journals runs with their items and machine', async () => {
    const s = tb.store;
    await s.startRun({ id: 'r1', flow: 'push', machine: 'PC-BUREAU', trigger: 'cli', now: t0 });
    await s.addRunItems('r1', [{ recordKey: 'chantier:1', action: 'skipped', reason: 'Chantier sans nom' }], at(1));
    await s.finishRun({ id: 'r1', status: 'partial', counts: { created: 1, updated: 2, unchanged: 3, skipped: 1, failed: 0, conflicts: 0, writes: 3 }, errorCode: null, message: 'ok', now: at(2) });
    const runs = await s.listRuns(5);
    expect(runs[0]).toMatchObject({ id: 'r1', machine: 'PC-BUREAU', status: 'partial', created: 1, updated: 2, writes: 3 });
    expect((await s.listRunItems('r1'))[0]).toMatchObject({ record_key: 'chantier:1', reason: 'Chantier sans nom' });
    await s.startRun({ id: 'r2', flow: 'push', machine: 'PC-BUREAU', trigger: 'cli', now: at(3) });
    expect(await s.markInterrupted('push', 'r3', at(4))).toBe(1);
    expect((await s.getRun('r2'))?.status).toBe('interrupted');
  });

  it('gives a lease to one holder, lets it renew, and lets another take it over once expired', async () => {
    const s = tb.store;
    const other = await tb.reopen();
    const a = await s.acquireLease({ flow: 'hours', holder: 'PC1#a', machine: 'PC1', runId: 'r1', now: t0, ttlMs: 60_000 });
    expect(a.acquired).toBe(true);
    const b = await other.acquireLease({ flow: 'hours', holder: 'PC2#b', machine: 'PC2', runId: 'r2', now: at(30_000), ttlMs: 60_000 });
    expect(b).toMatchObject({ acquired: false, lease: { machine: 'PC1' } });
    expect((await other.acquireLease({ flow: 'push', holder: 'PC2#b', machine: 'PC2', runId: 'r3', now: at(30_000), ttlMs: 60_000 })).acquired).toBe(true);
    expect(await s.renewLease({ flow: 'hours', holder: 'PC1#a', now: at(50_000), ttlMs: 60_000 })).toBe(true);
    expect((await other.acquireLease({ flow: 'hours', holder: 'PC2#b', machine: 'PC2', runId: 'r2', now: at(100_000), ttlMs: 60_000 })).acquired).toBe(false);
    // PC1 disappears: its lease expires at 110 s.
    const c = await other.acquireLease({ flow: 'hours', holder: 'PC2#b', machine: 'PC2', runId: 'r2', now: at(111_000), ttlMs: 60_000 });
    expect(c).toMatchObject({ acquired: true, lease: { machine: 'PC2' } });
    expect(await s.renewLease({ flow: 'hours', holder: 'PC1#a', now: at(112_000), ttlMs: 60_000 })).toBe(false);
    await other.releaseLease('hours', 'PC2#b');
    expect((await s.listLeases()).map((l) => l.flow)).toEqual(['push']);
  });

  it('caches the employee mapping', async () => {
    await tb.store.replaceEmployees(
      [{ batisimply_user_id: 'u1', first_name: 'Jean', last_name: 'Martin', email: null, salarie_code: 'S01', salarie_name: 'Jean Martin' }],
      t0,
    );
    expect(await tb.store.listEmployees()).toMatchObject([{ batisimply_user_id: 'u1', salarie_code: 'S01' }]);
  });
});

describe('embedded buffer on disk', () => {
  it('keeps its data across restarts and refuses a second program while one has it open', async () => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { spawn } = await import('node:child_process');
    const { embeddedLockFile, openEmbeddedBuffer, BufferStore } = await import('../../src/main/services/buffer/index.js');
    const dir = mkdtempSync(join(tmpdir(), 'cbs-buffer-'));
    try {
      const a = new BufferStore(await openEmbeddedBuffer(dir));
      await a.init();
      await a.startRun({ id: 'r1', flow: 'hours', machine: 'PC', trigger: 'cli', now: t0 });
      await a.db.close();
      // Another live process holds the lock.
      const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
      try {
        writeFileSync(embeddedLockFile(dir), String(other.pid));
        await expect(openEmbeddedBuffer(dir)).rejects.toMatchObject({ code: 'BUFFER_LOCKED' });
      } finally {
        other.kill();
      }
      await new Promise((r) => other.once('exit', r));
      // Its process is gone (crash): the stale lock is taken over, the data is still there.
      const b = new BufferStore(await openEmbeddedBuffer(dir));
      await b.init();
      expect((await b.getRun('r1'))?.machine).toBe('PC');
      await b.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
