/**
 * Hostile text and data from outside (issue 16, items 11-13): a U+0000 in a BatiSimply name or code, impossible
 * calendar dates, two slots with the same id in one listing. Each bad item is journaled with its reason (or made
 * storable), the other items go on, and a rerun goes on too. Through the real client and gateway over the
 * simulators (crafted answers where the simulator cannot hold such data), and in memory.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JournalQueries } from '../../src/main/services/buffer/journal.js';
import { refreshEmployeeMapping } from '../../src/main/services/sync/employees.js';
import { HARNESSES } from '../support/sync/harnesses.js';
import { U1, U3, type Harness } from '../support/sync/harness.js';

describe.each(HARNESSES)('hostile input (%s)', (_name, make) => {
  let h!: Harness;
  beforeAll(async () => {
    h = await make();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  const items = async (runId: string) => (await h.buffer.listRunItems(runId)).map((i) => ({ key: i.record_key, action: i.action, reason: i.reason }));
  const mapping = () => refreshEmployeeMapping({ batigest: h.batigest, batisimply: h.batisimply, buffer: h.buffer, clock: h.clock });

  it('a U+0000 in an unmapped BatiSimply user’s name blocks neither the hours import, nor its rerun, nor the employee mapping', async () => {
    await h.engine().run('push');
    const p101 = h.projectsByCode('00000101')[0]!.id;
    // Paul Leroy (U3) has no salarié; his name comes with a NUL character.
    h.state.users.get(U3)!.lastName = 'Le\u0000roy';
    h.state.addSlot({ id: 1, startDate: '2026-07-01T07:00:00Z', userId: U1, projectId: p101, managementStatus: 'VALIDATED', totalTimeMinutes: 120 });
    h.state.addSlot({ id: 2, startDate: '2026-07-02T07:00:00Z', userId: U3, projectId: p101, managementStatus: 'VALIDATED', totalTimeMinutes: 90 });

    const [r] = await h.engine().run('hours');
    expect(r).toMatchObject({ status: 'partial', errorCode: null, counts: { created: 1, failed: 0 } });
    expect(await h.suiviMo()).toEqual([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-01', nbH0: 2, nbH3: 0, nbH4: 0 }]);
    expect((await items(r!.runId)).find((i) => i.key === `user:${U3}`)?.reason).toBe(
      "Aucun salarié Sage Batigest pour l'utilisateur BatiSimply Paul Leroy : 1 créneau non importé. Associez-le à un salarié dans « Correspondance des salariés » ; ses heures seront importées au prochain passage.",
    );
    const [again] = await h.engine().run('hours');
    expect(again).toMatchObject({ status: 'partial', errorCode: null });
    // The mapping screen (and `connecteur mapping`) reads the waiting hours from the stored slots (as jsonb).
    const waiting = await new JournalQueries(h.buffer.db).slotUsers(new Date('2026-01-01T00:00:00Z'));
    expect(waiting.find((w) => w.user_id === U3)).toMatchObject({ last_name: 'Le\uFFFDroy', slots_waiting: 1, minutes_waiting: 90 });

    // A user whose id holds a NUL cannot be mapped (nor stored): left out, the others are listed.
    h.state.addUser({ id: 'u\u0000-9', firstName: 'Id', lastName: 'Abîmé' });
    const rows = await mapping();
    expect(rows.map((x) => x.userId).sort()).toEqual([...h.company.salaries.map((x) => x.batisimplyUserId)].sort());
    expect(rows.find((x) => x.userId === U3)).toEqual({ userId: U3, name: 'Paul Leroy', email: expect.any(String), salarieCode: null, salarieName: null });
    expect((await h.buffer.listEmployees()).find((e) => e.batisimply_user_id === U3)?.last_name).toBe('Leroy');
  });

  it('a U+0000 in a BatiSimply project code: the slot waits as an unknown chantier (journaled, marked), the others are imported', async () => {
    await h.engine().run('push');
    const p101 = h.projectsByCode('00000101')[0]!.id;
    const odd = h.state.addProject({ projectCode: 'CH\u0000X', projectName: 'Projet au code abîmé' });
    h.state.addSlot({ id: 1, startDate: '2026-07-01T07:00:00Z', userId: U1, projectId: p101, managementStatus: 'VALIDATED', totalTimeMinutes: 120 });
    h.state.addSlot({ id: 2, startDate: '2026-07-02T07:00:00Z', userId: U1, projectId: odd.id, managementStatus: 'VALIDATED', totalTimeMinutes: 60 });
    const [r] = await h.engine().run('hours');
    expect(r).toMatchObject({ status: 'partial', errorCode: null, counts: { created: 1 } });
    expect((await h.suiviMo()).map((x) => x.codeChantier)).toEqual(['00000101']);
    expect((await items(r!.runId)).find((i) => i.key.startsWith('chantier:CH'))).toEqual({
      key: 'chantier:CH\uFFFDX',
      action: 'skipped',
      reason: 'Chantier CH\uFFFDX introuvable dans Sage Batigest : 1 créneau non importé. Vérifiez le code du chantier ; nouvel essai au prochain passage.',
    });
    expect((await h.buffer.loadSlots()).get('2')).toMatchObject({ state: 'unknown_chantier', reason: 'Chantier CH\uFFFDX inconnu dans Sage Batigest' });
  });

  it('a U+0000 in a Batigest chantier name is dropped from the project; a code or a salarié code with one is refused with a reason', async (ctx) => {
    if (h.sims) return ctx.skip(); // the TDS simulator's PostgreSQL cannot hold a NUL: in memory (SQL Server can)
    await h.updateChantier('00000102', { description: 'Extension\u0000 garage' });
    h.company.chantiers.push({ ...h.company.chantiers[0]!, code: 'CH\u0000X', description: 'Abri' });
    const [r] = await h.engine().run('push');
    expect(r).toMatchObject({ status: 'succeeded', counts: { created: 3, skipped: 2, failed: 0 } });
    expect(h.projectsByCode('00000102')).toEqual([expect.objectContaining({ projectName: 'Extension garage' })]);
    expect((await items(r!.runId)).find((i) => i.key === 'chantier:CH\uFFFDX')).toEqual({
      key: 'chantier:CH\uFFFDX',
      action: 'skipped',
      reason: 'Chantier CH\uFFFDX ignoré : son code dans Sage Batigest contient un caractère nul ou illisible. Corrigez le code dans Sage Batigest pour le synchroniser.',
    });
    // Hours: a salarié whose code holds a NUL is left out with a reason; the others are written.
    const s02 = h.company.salaries.find((x) => x.code === 'S02')!;
    s02.code = 'S\u000002';
    const p101 = h.projectsByCode('00000101')[0]!.id;
    h.state.addSlot({ id: 1, startDate: '2026-07-01T07:00:00Z', userId: U1, projectId: p101, managementStatus: 'VALIDATED', totalTimeMinutes: 120 });
    h.state.addSlot({ id: 2, startDate: '2026-07-01T07:00:00Z', userId: s02.batisimplyUserId, projectId: p101, managementStatus: 'VALIDATED', totalTimeMinutes: 60 });
    const [hours] = await h.engine().run('hours');
    expect(hours).toMatchObject({ status: 'partial', errorCode: null, counts: { created: 1 } });
    expect((await h.suiviMo()).map((x) => x.codeSalarie)).toEqual(['S01']);
    expect((await items(hours!.runId)).find((i) => i.key === 'salarie:S\uFFFD02')?.reason).toBe(
      'Salarié S\uFFFD02 ignoré : son code dans Sage Batigest contient un caractère nul ou illisible, ses heures ne peuvent pas être écrites. Corrigez le code dans Sage Batigest.',
    );
  });

  it('crafted listing: a NUL in a slot id or a user id makes that slot unreadable (journaled), the others are imported', async (ctx) => {
    if (!h.sims) return ctx.skip(); // the in-memory port cannot serve such an answer
    await h.engine().run('push');
    const project = { id: h.projectsByCode('00000101')[0]!.id, projectCode: '00000101' };
    const slot = (id: unknown, o: Record<string, unknown> = {}) => ({
      id,
      startDate: '2026-07-01T07:00:00Z',
      endDate: '2026-07-01T09:00:00Z',
      user: { id: U1, firstName: 'Jean', lastName: 'Martin' },
      project,
      managementStatus: 'VALIDATED',
      totalTimeMinutes: 120,
      ...o,
    });
    h.sims.bs.faults.add({
      route: 'GET /api/timeSlotManagement/allUsers',
      body: [slot(1), slot('2\u0000', { startDate: '2026-07-02T07:00:00Z' }), slot(3, { startDate: '2026-07-03T07:00:00Z', user: { id: `${U1}\u0000` } })],
      times: Infinity,
    });
    const [r] = await h.engine().run('hours');
    expect(r).toMatchObject({ errorCode: null, counts: { created: 1 } });
    expect(r!.status).toBe('partial');
    expect(await h.suiviMo()).toEqual([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-01', nbH0: 2, nbH3: 0, nbH4: 0 }]);
    const its = await items(r!.runId);
    expect(its.find((i) => i.key === 'slot:2\uFFFD')).toEqual({
      key: 'slot:2\uFFFD',
      action: 'skipped',
      reason:
        "Créneau 2\uFFFD illisible dans la réponse de BatiSimply (champ « id » invalide (caractère nul ou illisible)) : il n'est pas importé, et ses heures déjà importées (s'il y en a) restent dans Sage Batigest. Corrigez-le dans BatiSimply ; nouvel essai au prochain passage.",
    });
    expect(its.find((i) => i.key === 'slot:3')?.reason).toMatch(/^Créneau 3 illisible dans la réponse de BatiSimply \(champ « user\.id » invalide \(caractère nul ou illisible\)\)/);
  });

  it('an impossible calendar date (30 February) is never rolled over to March: the slot is skipped and journaled', async (ctx) => {
    if (!h.sims) return ctx.skip(); // the simulator's own slots are real dates: a crafted answer
    await h.engine().run('push');
    const project = { id: h.projectsByCode('00000101')[0]!.id, projectCode: '00000101' };
    const slot = (id: number, startDate: string, o: Record<string, unknown> = {}) => ({
      id,
      startDate,
      endDate: startDate.replace('T08', 'T16'),
      user: { id: U1, firstName: 'Jean', lastName: 'Martin' },
      project,
      managementStatus: 'VALIDATED',
      totalTimeMinutes: 480,
      ...o,
    });
    h.sims.bs.faults.add({
      route: 'GET /api/timeSlotManagement/allUsers',
      body: [slot(1, '2026-02-27T08:00:00Z'), slot(2, '2026-02-30T08:00:00Z'), slot(3, '2026-03-03T08:00:00Z', { lastModifiedDate: '2026-04-31T10:00:00Z' })],
      times: Infinity,
    });
    const [r] = await h.engine().run('hours');
    expect(r).toMatchObject({ errorCode: null, counts: { created: 2 } });
    expect(r!.status).toBe('partial');
    expect((await h.suiviMo()).map((x) => [x.date, x.nbH0])).toEqual([
      ['2026-02-27', 8],
      ['2026-03-03', 8],
    ]);
    expect((await items(r!.runId)).find((i) => i.key === 'slot:2')).toEqual({
      key: 'slot:2',
      action: 'skipped',
      reason: "Créneau 2 de Jean Martin : date de début impossible (« 2026-02-30T08:00:00Z »). Il n'est pas importé ; corrigez-le dans BatiSimply.",
    });
    expect(r!.message).toContain(" 1 créneau impossible ou illisible non importé (à corriger dans BatiSimply).");
    // The impossible modification date of slot 3 is not kept as 1 May.
    expect((await h.buffer.loadSlots()).get('3')?.remote_modified ?? null).toBeNull();
  });

  it('two slots with the same id in one listing (7 and "7"): identical ones count once, different ones are both skipped with a reason', async (ctx) => {
    if (!h.sims) return ctx.skip(); // a crafted answer
    await h.engine().run('push');
    const project = { id: h.projectsByCode('00000101')[0]!.id, projectCode: '00000101' };
    const slot = (id: unknown, startDate: string, minutes: number) => ({
      id,
      startDate,
      endDate: startDate.replace('T07', 'T17'),
      user: { id: U1, firstName: 'Jean', lastName: 'Martin' },
      project,
      managementStatus: 'VALIDATED',
      totalTimeMinutes: minutes,
    });
    h.sims.bs.faults.add({
      route: 'GET /api/timeSlotManagement/allUsers',
      body: [slot(5, '2026-07-01T07:00:00Z', 60), slot('5', '2026-07-01T07:00:00Z', 60), slot(7, '2026-07-02T07:00:00Z', 120), slot('7', '2026-07-02T07:00:00Z', 240)],
      times: Infinity,
    });
    const [r] = await h.engine().run('hours');
    expect(r).toMatchObject({ errorCode: null, counts: { created: 1 } });
    expect(r!.status).toBe('partial');
    expect(await h.suiviMo()).toEqual([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-01', nbH0: 1, nbH3: 0, nbH4: 0 }]);
    const its = await items(r!.runId);
    expect(its.find((i) => i.key === 'slot:7')).toEqual({
      key: 'slot:7',
      action: 'skipped',
      reason:
        "Créneau 7 illisible dans la réponse de BatiSimply (2 créneaux différents portent l'identifiant 7) : il n'est pas importé, et ses heures déjà importées (s'il y en a) restent dans Sage Batigest. Corrigez-le dans BatiSimply ; nouvel essai au prochain passage.",
    });
    expect(its.filter((i) => i.key === 'slot:5')).toEqual([]);
  });
});
