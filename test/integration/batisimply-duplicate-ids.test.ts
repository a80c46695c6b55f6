/**
 * Duplicate ids in one listing (issue 16, item 13), through the real client and the BatiSimply simulator: the same
 * item read twice counts once; different items under one id are never a silent « last one wins ».
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RejectedTimeSlot } from '../../src/main/services/ports.js';
import { canonical, DistinctById } from '../../src/main/services/batisimply/distinct.js';
import { startBatisimplySimulator, type BatisimplySimulator } from '../support/batisimply/index.js';
import { makeClient } from '../support/batisimply/harness.js';

let sim: BatisimplySimulator;
beforeAll(async () => {
  sim = await startBatisimplySimulator({});
});
afterEach(() => {
  sim.faults.clear();
});
afterAll(async () => {
  await sim.close();
});

const slot = (id: unknown, minutes: number) => ({
  id,
  startDate: '2026-07-01T07:00:00Z',
  endDate: '2026-07-01T15:00:00Z',
  user: { id: 'u-1' },
  project: { id: 1, projectCode: '00000101' },
  managementStatus: 'VALIDATED',
  totalTimeMinutes: minutes,
});
const window = { start: new Date('2026-06-20T00:00:00Z'), end: new Date('2026-07-10T00:00:00Z') };

describe('duplicate ids in a listing', () => {
  it('time slots: 7 and "7" identical → one; different → both left out, reported once with a French reason', async () => {
    const { client, logger } = makeClient(sim);
    sim.faults.add({ route: 'GET /api/timeSlotManagement/allUsers', body: [slot(5, 60), slot('5', 60), slot(7, 120), slot('7', 240), slot(8, 30)], times: Infinity });
    const rejected: RejectedTimeSlot[] = [];
    const slots = await client.listTimeSlots(window, { onInvalid: (r) => rejected.push(r) });
    expect(slots.map((s) => [s.id, s.totalTimeMinutes])).toEqual([
      ['5', 60],
      ['8', 30],
    ]);
    expect(rejected).toEqual([{ id: '7', reason: "2 créneaux différents portent l'identifiant 7" }]);
    expect(logger.text()).toMatch(/identifiants en double avec des contenus différents.*"7"/);
    // Without onInvalid (strict listing), the last one read is kept, and the log says so.
    const strict = await client.listTimeSlots(window);
    expect(strict.find((s) => s.id === '7')?.totalTimeMinutes).toBe(240);
  });

  it('projects: two different projects under one id → the last one read is kept (the freshest), logged', async () => {
    const { client, logger } = makeClient(sim);
    sim.faults.add({ route: 'GET /api/project', body: [{ id: 9, projectCode: 'A', projectName: 'Avant' }, { id: '9', projectCode: 'A', projectName: 'Après' }], times: Infinity });
    const projects = await client.listProjects();
    expect(projects.map((p) => [p.id, p.projectName])).toEqual([['9', 'Après']]);
    expect(logger.text()).toMatch(/identifiants en double avec des contenus différents.*"9"/);
  });

  it('DistinctById: same content counts once whatever the key order; three versions are counted', () => {
    const d = new DistinctById<{ a: number; b?: number }>((x) => x);
    expect(d.add('1', { a: 1, b: 2 })).toBe(true);
    expect(d.add('1', { b: 2, a: 1 })).toBe(false);
    expect(d.conflicts().size).toBe(0);
    d.add('1', { a: 2 });
    d.add('1', { a: 3 });
    expect(d.conflicts()).toEqual(new Map([['1', 3]]));
    expect(d.values(true)).toEqual([]);
    expect(canonical({ b: [1, { d: 1, c: undefined }], a: null })).toBe('{"a":null,"b":[1,{"d":1}]}');
  });
});
