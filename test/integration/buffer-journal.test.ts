/**
 * The journal and mapping read queries of the buffer (src/main/services/buffer/journal.ts) on an
 * embedded PGlite buffer: filters, local-day range, paging, the engine's actions as the UI names
 * them, labels, and the validated hours waiting per BatiSimply user without a salarié.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BufferStore, openEmbeddedBuffer } from '../../src/main/services/buffer/index.js';
import { JournalQueries } from '../../src/main/services/buffer/journal.js';

let store: BufferStore;
let q: JournalQueries;
const counts = { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, conflicts: 0, writes: 0 };

beforeAll(async () => {
  store = new BufferStore(await openEmbeddedBuffer());
  await store.init();
  q = new JournalQueries(store.db);
  // Three runs: 22:30 UTC on 31 March is already 1 April in Paris (summer time).
  const runs = [
    { id: 'r1', flow: 'push' as const, at: '2026-03-30T08:00:00Z', status: 'succeeded' as const, trigger: 'manual' },
    { id: 'r2', flow: 'hours' as const, at: '2026-03-31T22:30:00Z', status: 'interrupted' as const, trigger: 'schedule' },
    { id: 'r3', flow: 'push' as const, at: '2026-04-02T09:00:00Z', status: 'partial' as const, trigger: 'schedule' },
  ];
  for (const r of runs) {
    await store.startRun({ id: r.id, flow: r.flow, machine: 'PC-1', trigger: r.trigger, now: new Date(r.at) });
    if (r.status !== 'interrupted') await store.finishRun({ id: r.id, status: r.status, counts, errorCode: null, message: 'ok', now: new Date(r.at) });
  }
  await store.markInterrupted('hours', 'other', new Date('2026-04-01T00:00:00Z'));
  await store.commitPush({
    kind: 'chantier',
    code: '00000101',
    name: 'Rénovation cuisine',
    sourceHash: 'h',
    sourceModified: null,
    batisimplyId: '9',
    pushedHash: 'h',
    remoteModified: null,
    now: new Date(),
  });
  await store.replaceEmployees(
    [{ batisimply_user_id: 'u-1', first_name: 'Paul', last_name: 'Leroy', email: null, salarie_code: null, salarie_name: null }],
    new Date(),
  );
  await store.addRunItems(
    'r3',
    [
      { recordKey: 'chantier:00000101', action: 'adopted', reason: 'Projet BatiSimply existant repris par son code 00000101 (aucune modification nécessaire).' },
      { recordKey: 'chantier:00000102', action: 'adopted', reason: 'Projet BatiSimply existant repris par son code 00000102 et mis à jour.' },
      { recordKey: 'slot:7', action: 'reported', reason: 'Créneau 7 supprimé dans BatiSimply.' },
      { recordKey: 'slot:8', action: 'removed', reason: 'Heures retirées.' },
      { recordKey: 'user:u-1', action: 'skipped', reason: 'Aucun salarié.' },
      { recordKey: 'chantier:00000103', action: 'failed', reason: 'Refusé.' },
      { recordKey: 'chantier:00000104', action: 'created', reason: null },
    ],
    new Date(),
  );
  // Time slots: two validated slots of an unmapped user in the window, one older, one of another state.
  const slot = (id: string, user: string, minutes: number, start: string) =>
    JSON.stringify({ id, startDate: start, user: { id: user, firstName: 'Zoé', lastName: 'Martin', email: 'zoe@exemple.fr' }, totalTimeMinutes: minutes });
  await store.transaction(async (tx) => {
    const rows: [string, string, number, string, string][] = [
      ['s1', 'u-2', 240, '2026-04-01T06:00:00Z', 'unmapped_user'],
      ['s2', 'u-2', 90, '2026-04-02T06:00:00Z', 'unmapped_user'],
      ['s3', 'u-2', 600, '2025-01-02T06:00:00Z', 'unmapped_user'],
      ['s4', 'u-3', 60, '2026-04-02T06:00:00Z', 'written'],
    ];
    for (const [id, user, minutes, start, state] of rows) {
      await tx.upsertSlot(
        { slotId: id, content: slot(id, user, minutes, start), contentHash: id, status: 'VALIDATED', startUtc: new Date(start), remoteModified: null, state: state as 'written', reason: null, changed: true },
        new Date(),
      );
    }
  });
}, 60_000);

afterAll(async () => {
  await store?.db.close();
});

describe('journal queries', () => {
  it('filters runs by flow, statuses, trigger and Paris local days, newest first, with paging', async () => {
    const page = { limit: 50, offset: 0 };
    expect((await q.listRuns({}, page)).rows.map((r) => r.id)).toEqual(['r3', 'r2', 'r1']);
    expect((await q.listRuns({ flow: 'push' }, page)).rows.map((r) => r.id)).toEqual(['r3', 'r1']);
    expect((await q.listRuns({ statuses: ['failed', 'interrupted'] }, page)).rows.map((r) => r.id)).toEqual(['r2']);
    expect((await q.listRuns({ trigger: 'schedule' }, page)).total).toBe(2);
    // r2 started at 22:30 UTC on 31 March = 1 April 00:30 in Paris
    expect((await q.listRuns({ fromDay: '2026-04-01', toDay: '2026-04-01', timezone: 'Europe/Paris' }, page)).rows.map((r) => r.id)).toEqual(['r2']);
    expect((await q.listRuns({ fromDay: '2026-04-01', toDay: '2026-04-01', timezone: 'UTC' }, page)).rows.map((r) => r.id)).toEqual([]);
    expect((await q.listRuns({ toDay: '2026-03-31', timezone: 'Europe/Paris' }, page)).rows.map((r) => r.id)).toEqual(['r1']);
    const p2 = await q.listRuns({}, { limit: 2, offset: 2 });
    expect(p2).toMatchObject({ total: 3, rows: [{ id: 'r1' }] });
    expect((await q.lastRunAt('schedule'))?.toISOString()).toBe('2026-04-02T09:00:00.000Z');
    expect(await q.lastRunAt('cli')).toBeNull();
  });

  it('items: engine actions as the UI names them, labels from the records and the employees, filter and paging', async () => {
    const { rows, total } = await q.listItems('r3', { limit: 100, offset: 0 });
    expect(total).toBe(7);
    expect(rows.map((r) => [r.record_key, r.ui_action, r.label])).toEqual([
      ['chantier:00000101', 'unchanged', 'Rénovation cuisine'],
      ['chantier:00000102', 'updated', null],
      ['slot:7', 'skipped', null],
      ['slot:8', 'deleted', null],
      ['user:u-1', 'skipped', 'Paul Leroy'],
      ['chantier:00000103', 'failed', null],
      ['chantier:00000104', 'created', null],
    ]);
    expect(rows.at(-1)!.reason).toBeNull(); // stored as '' by the engine, null for the UI
    const skipped = await q.listItems('r3', { uiActions: ['skipped'], limit: 1, offset: 1 });
    expect(skipped).toMatchObject({ total: 2, rows: [{ record_key: 'user:u-1' }] });
  });

  it('slot users: validated slots waiting for a salarié in the window, with their minutes', async () => {
    const users = await q.slotUsers(new Date('2026-01-01T00:00:00Z'));
    expect(users).toEqual([
      { user_id: 'u-2', first_name: 'Zoé', last_name: 'Martin', email: 'zoe@exemple.fr', slots_waiting: 2, minutes_waiting: 330, slots_seen: 2 },
      { user_id: 'u-3', first_name: 'Zoé', last_name: 'Martin', email: 'zoe@exemple.fr', slots_waiting: 0, minutes_waiting: 0, slots_seen: 1 },
    ]);
  });
});
