/**
 * Every rule of SPEC §3 through the sync engine. Runs against the simulators (real gateway and client over
 * TDS and HTTP) and, for speed of diagnosis, against in-memory ports over the same data.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import { HARNESSES } from '../support/sync/harnesses.js';
import { U1, U2, U3, type Harness } from '../support/sync/harness.js';

describe.each(HARNESSES)('sync flows (%s)', (_name, make) => {
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

  const items = async (runId: string) => h.buffer.listRunItems(runId);

  it('pushes chantiers once with the settings fields, skips rows without name, then makes zero writes', async () => {
    const [r1] = await h.engine().run('push');
    expect(r1).toMatchObject({ status: 'succeeded', counts: { created: 3, updated: 0, skipped: 1, failed: 0 } });
    const p = h.state.findProjectByCode('00000101')!;
    expect(p).toMatchObject({
      projectName: 'Rénovation cuisine',
      customerName: 'Dupont Jean',
      hoursSold: 120,
      budget: { amount: 45000.5, currency: 'EUR' },
      startEstimated: '2026-02-01',
      headQuarter: { id: 7 },
      projectManager: 'Conducteur Travaux',
      projectColor: '#ff8800',
      address: { street: '12 rue des Lilas', postalCode: '69003', city: 'Lyon', countryCode: 'FR' },
    });
    const skipped = (await items(r1!.runId)).filter((i) => i.action === 'skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.reason).toMatch(/00000104 sans nom/);
    expect(h.projectsByCode('00000104')).toHaveLength(0);

    h.resetWrites();
    const [r2] = await h.engine().run('push');
    expect(r2).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 0, unchanged: 3, writes: 0 } });
    expect(await h.writes()).toEqual({ bsPost: 0, bsPut: 0, suiviMo: 0 });
  });

  it('updates a renamed chantier instead of creating a duplicate', async () => {
    await h.engine().run('push');
    await h.updateChantier('00000102', { description: 'Extension garage double', dateModif: '2026-07-10T10:00:00' });
    h.resetWrites();
    const [r] = await h.engine().run('push');
    expect(r!.counts).toMatchObject({ created: 0, updated: 1, unchanged: 2 });
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 1 });
    expect(h.projectsByCode('00000102')).toEqual([expect.objectContaining({ projectName: 'Extension garage double' })]);
  });

  it('devis mode sends only devis in states 0, 3, 4 and no chantier', async () => {
    h.settings.mode = 'devis';
    const [r] = await h.engine().run('push');
    expect(r!.counts).toMatchObject({ created: 3, failed: 0 });
    const codes = [...h.state.projects.values()].map((p) => p.projectCode).sort();
    expect(codes).toEqual(['D0000001', 'D0000002', 'D0000003']);
    expect(h.state.findProjectByCode('D0000002')).toMatchObject({ projectName: 'Isolation combles', hoursSold: 35.5 });
  });

  it('adopts existing projects by code with an empty buffer (reinstall): no duplicate, no write when equal', async () => {
    await h.engine().run('push');
    await h.updateChantier('00000103', { heuresVendues: 200 });
    const fresh = await h.newBuffer();
    h.resetWrites();
    const [r] = await h.engine({ buffer: fresh }).run('push');
    expect(r).toMatchObject({ status: 'succeeded', counts: { created: 0, updated: 1, unchanged: 2 } });
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 1 });
    for (const c of ['00000101', '00000102', '00000103']) expect(h.projectsByCode(c)).toHaveLength(1);
    expect(h.state.findProjectByCode('00000103')?.hoursSold).toBe(200);
    const adopted = (await h.buffer.listRuns(1))[0];
    expect(adopted).toBeDefined();
  });

  it('records a conflict when a project changed on both sides, and the latest change wins', async () => {
    await h.engine().run('push');
    // BatiSimply edit after our push, Batigest edit dated earlier than it: BatiSimply wins.
    const p = h.state.findProjectByCode('00000101')!;
    p.projectName = 'Nom saisi dans BatiSimply';
    p.lastModifiedDate = new Date(h.clock.now().getTime() + 60_000).toISOString();
    await h.updateChantier('00000101', { description: 'Cuisine (Batigest)', dateModif: '2026-07-01T08:00:00' });
    // BatiSimply edit, Batigest edit later: Batigest wins.
    const q = h.state.findProjectByCode('00000102')!;
    q.projectName = 'Autre nom BatiSimply';
    q.lastModifiedDate = new Date(h.clock.now().getTime() + 60_000).toISOString();
    await h.updateChantier('00000102', { description: 'Garage (Batigest)', dateModif: '2099-01-01T08:00:00' });
    h.resetWrites();
    const [r] = await h.engine().run('push');
    expect(r!.counts.conflicts).toBe(2);
    const conflicts = (await items(r!.runId)).filter((i) => i.action === 'conflict');
    expect(conflicts.map((c) => c.record_key).sort()).toEqual(['chantier:00000101', 'chantier:00000102']);
    expect(h.state.findProjectByCode('00000101')?.projectName).toBe('Nom saisi dans BatiSimply');
    expect(h.state.findProjectByCode('00000102')?.projectName).toBe('Garage (Batigest)');
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 1 });
  });

  it('sees no conflict when only Batigest changed, even with the clock of this PC 10 minutes behind BatiSimply', async () => {
    const late = { now: () => new Date(h.clock.now().getTime() - 600_000) };
    await h.engine({ clock: late }).run('push');
    await h.updateChantier('00000103', { description: 'Toiture et zinguerie' });
    const [r] = await h.engine({ clock: late }).run('push');
    expect(r!.counts).toMatchObject({ updated: 1, conflicts: 0 });
    expect(h.state.findProjectByCode('00000103')?.projectName).toBe('Toiture et zinguerie');
  });

  it('a crash after the remote create and before the buffer commit creates no duplicate on rerun', async () => {
    let kill = true;
    const hooks = {
      checkpoint: (name: string) => {
        if (kill && name === 'push:after-remote') {
          kill = false;
          throw new Error('process killed');
        }
      },
    };
    const [r1] = await h.engine({ hooks }).run('push');
    expect(r1!.status).toBe('failed');
    // The killed record was created in BatiSimply but never committed in the buffer (others in flight may have finished).
    const before = h.state.projects.size;
    expect(before).toBeGreaterThanOrEqual(1);
    const pending = [...(await h.buffer.loadRecords('chantier')).values()].filter((r) => r.intent === 'create' && !r.batisimply_id);
    expect(pending).toHaveLength(1);
    const [r2] = await h.engine().run('push');
    expect(r2).toMatchObject({ status: 'succeeded', counts: { created: 3 - before, failed: 0 } });
    expect((await items(r2!.runId)).find((i) => i.record_key === `chantier:${pending[0]!.source_code}`)).toMatchObject({ action: 'adopted' });
    for (const c of ['00000101', '00000102', '00000103']) expect(h.projectsByCode(c)).toHaveLength(1);
    const [r3] = await h.engine().run('push');
    expect(r3!.counts).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
  });

  it('refuses a second run of the same flow at once, on this PC and on another PC sharing the buffer', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = h.engine({ machineName: 'PC-BUREAU', hooks: { checkpoint: (n) => (n === 'run:started' ? gate : undefined) } });
    const running = slow.run('push');
    await new Promise((r) => setTimeout(r, 50));
    await expect(slow.run('push')).rejects.toMatchObject({ code: 'SYNC_ALREADY_RUNNING' });
    const other = h.engine({ machineName: 'PC-ATELIER' });
    const err = await other.run('push').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('BUFFER_LOCKED');
    expect((err as AppError).message).toContain('PC-BUREAU');
    release();
    const [r] = await running;
    expect(r).toMatchObject({ status: 'succeeded', machine: 'PC-BUREAU' });
    expect((await h.buffer.listRuns(1))[0]?.machine).toBe('PC-BUREAU');
    // Released: the other PC can run now.
    const [r2] = await other.run('push');
    expect(r2!.machine).toBe('PC-ATELIER');
  });

  // ------------------------------------------------------------------ hours

  /** Pushes the chantiers, then seeds time slots on their projects. */
  async function withSlots(): Promise<Record<string, number>> {
    await h.engine().run('push');
    const pid = (code: string): number => h.projectsByCode(code)[0]!.id;
    const slot = (id: number, startDate: string, userId: string, code: string, minutes: number, extra: Record<string, unknown> = {}) =>
      h.state.addSlot({ id, startDate, userId, projectId: pid(code), managementStatus: 'VALIDATED', totalTimeMinutes: minutes, ...extra });
    // Summer: 22:30 UTC is 00:30 the next day in Paris.
    slot(1, '2026-07-01T22:30:00Z', U1, '00000101', 450, { hasHomeToWorkJourney: true });
    // Same chantier, salarié and Paris day as slot 1: aggregated into one SuiviMO row.
    slot(2, '2026-07-02T12:00:00Z', U1, '00000101', 90, { hasPackedLunch: true });
    // Winter: 23:30 UTC is 00:30 the next day; 22:30 UTC stays the same day.
    slot(3, '2026-01-20T23:30:00Z', U2, '00000102', 480);
    slot(4, '2026-01-20T22:30:00Z', U2, '00000103', 60);
    slot(5, '2026-07-03T07:00:00Z', U2, '00000101', 420, { managementStatus: 'PENDING' });
    slot(6, '2026-07-03T07:00:00Z', U3, '00000101', 300);
    return { '00000101': pid('00000101') };
  }

  it('imports validated hours into SuiviMO (Paris days, aggregation, flags), reports unmapped users by name, then writes nothing', async () => {
    await withSlots();
    const [r] = await h.engine().run('hours');
    // Paul Leroy's validated slot waits for a salarié: the run is partial and says so.
    expect(r).toMatchObject({ status: 'partial' });
    expect(r!.message).toContain(" 5 h validées en attente, non écrites dans Sage Batigest : 1 créneau d'un utilisateur BatiSimply sans salarié Sage Batigest (à associer dans « Correspondance des salariés »).");
    expect(await h.suiviMo()).toEqual([
      { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-02', nbH0: 9, nbH3: 1, nbH4: 1 },
      { codeChantier: '00000102', codeSalarie: 'S02', date: '2026-01-21', nbH0: 8, nbH3: 0, nbH4: 0 },
      { codeChantier: '00000103', codeSalarie: 'S02', date: '2026-01-20', nbH0: 1, nbH3: 0, nbH4: 0 },
    ]);
    const its = await items(r!.runId);
    const unmapped = its.find((i) => i.record_key === `user:${U3}`);
    expect(unmapped?.reason).toContain('Paul Leroy');
    expect(its.find((i) => i.record_key === 'slots:not-validated')?.reason).toMatch(/1 créneau/);

    h.resetWrites();
    const [r2] = await h.engine().run('hours');
    expect(r2!.counts).toMatchObject({ created: 0, updated: 0, writes: 0 });
    expect(await h.writes()).toEqual({ bsPost: 0, bsPut: 0, suiviMo: 0 });
  });

  it('moves or updates the SuiviMO row of an edited slot, never a second row', async () => {
    await withSlots();
    await h.engine().run('hours');
    const row = async (c: string, s: string, d: string) => (await h.suiviMo()).filter((x) => x.codeChantier === c && x.codeSalarie === s && x.date === d);

    // Edited hours.
    h.state.editSlot(3, { totalTimeMinutes: 510 });
    await h.engine().run('hours');
    expect(await row('00000102', 'S02', '2026-01-21')).toEqual([expect.objectContaining({ nbH0: 8.5 })]);

    // Moved to another day.
    h.state.editSlot(3, { day: '2026-01-22' });
    await h.engine().run('hours');
    expect(await row('00000102', 'S02', '2026-01-21')).toEqual([]);
    expect(await row('00000102', 'S02', '2026-01-23')).toEqual([expect.objectContaining({ nbH0: 8.5 })]);

    // Moved to another chantier.
    h.state.editSlot(3, { projectId: h.projectsByCode('00000103')[0]!.id });
    await h.engine().run('hours');
    expect(await row('00000102', 'S02', '2026-01-23')).toEqual([]);
    expect(await row('00000103', 'S02', '2026-01-23')).toEqual([expect.objectContaining({ nbH0: 8.5 })]);

    // Moved to another user.
    h.state.editSlot(3, { userId: U1 });
    await h.engine().run('hours');
    expect(await row('00000103', 'S02', '2026-01-23')).toEqual([]);
    expect(await row('00000103', 'S01', '2026-01-23')).toEqual([expect.objectContaining({ nbH0: 8.5 })]);

    // One slot of an aggregated row moves away: the row keeps the other slot's hours.
    h.state.editSlot(2, { day: '2026-07-05' });
    await h.engine().run('hours');
    expect(await row('00000101', 'S01', '2026-07-02')).toEqual([expect.objectContaining({ nbH0: 7.5, nbH3: 1, nbH4: 0 })]);
    expect(await row('00000101', 'S01', '2026-07-05')).toEqual([expect.objectContaining({ nbH0: 1.5, nbH3: 0, nbH4: 1 })]);
    expect(await h.suiviMo()).toHaveLength(5 - 1);
  });

  it('gives the same SuiviMO when the window is read one local day at a time (moves across segments, deletions)', async () => {
    await withSlots();
    const run = async () => (await h.engine({ hoursSegmentDays: 1 }).run('hours'))[0]!;
    const first = await run();
    expect(first.counts).toMatchObject({ created: 4, writes: 3 });
    expect(await h.suiviMo()).toEqual([
      { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-02', nbH0: 9, nbH3: 1, nbH4: 1 },
      { codeChantier: '00000102', codeSalarie: 'S02', date: '2026-01-21', nbH0: 8, nbH3: 0, nbH4: 0 },
      { codeChantier: '00000103', codeSalarie: 'S02', date: '2026-01-20', nbH0: 1, nbH3: 0, nbH4: 0 },
    ]);
    // Slot 3 moves two days later (a later segment), slot 2 leaves its aggregated row for 5 July (a later
    // segment), and slot 4 moves one day EARLIER (a segment already read when its new day is written).
    h.state.editSlot(3, { day: '2026-01-23' });
    h.state.editSlot(2, { day: '2026-07-05' });
    h.state.editSlot(4, { day: '2026-01-18' });
    const moved = await run();
    expect(moved.counts).toMatchObject({ updated: 3 });
    expect(await h.suiviMo()).toEqual([
      { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-02', nbH0: 7.5, nbH3: 1, nbH4: 0 },
      { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-05', nbH0: 1.5, nbH3: 0, nbH4: 1 },
      { codeChantier: '00000102', codeSalarie: 'S02', date: '2026-01-24', nbH0: 8, nbH3: 0, nbH4: 0 },
      { codeChantier: '00000103', codeSalarie: 'S02', date: '2026-01-18', nbH0: 1, nbH3: 0, nbH4: 0 },
    ]);
    // A deleted slot is only concluded after the last segment: its hours go (setting on), the others stay.
    h.settings.hours.removeUnvalidated = true;
    h.state.deleteSlot(3);
    const deleted = await run();
    expect((await items(deleted.runId)).find((i) => i.record_key === 'slot:3')).toMatchObject({ action: 'removed' });
    expect((await h.suiviMo()).map((r) => `${r.codeChantier}/${r.date}`)).toEqual(['00000101/2026-07-02', '00000101/2026-07-05', '00000103/2026-01-18']);
    // And a rerun, in one segment or in many, writes nothing.
    h.resetWrites();
    expect((await run()).counts).toMatchObject({ created: 0, updated: 0, writes: 0 });
    expect((await h.engine().run('hours'))[0]!.counts).toMatchObject({ created: 0, updated: 0, writes: 0 });
    expect(await h.writes()).toEqual({ bsPost: 0, bsPut: 0, suiviMo: 0 });
  });

  it('reports an un-validated or deleted slot, and removes its hours when the setting says so', async () => {
    await withSlots();
    await h.engine().run('hours');
    h.state.editSlot(4, { managementStatus: 'REJECTED' });
    const [r] = await h.engine().run('hours');
    expect((await items(r!.runId)).find((i) => i.record_key === 'slot:4')).toMatchObject({ action: 'reported' });
    expect((await h.suiviMo()).some((x) => x.codeChantier === '00000103')).toBe(true);

    h.settings.hours.removeUnvalidated = true;
    const [r2] = await h.engine().run('hours');
    expect((await items(r2!.runId)).find((i) => i.record_key === 'slot:4')).toMatchObject({ action: 'removed' });
    expect((await h.suiviMo()).some((x) => x.codeChantier === '00000103')).toBe(false);

    h.state.deleteSlot(3);
    const [r3] = await h.engine().run('hours');
    expect((await items(r3!.runId)).find((i) => i.record_key === 'slot:3')).toMatchObject({ action: 'removed' });
    expect((await h.suiviMo()).some((x) => x.codeChantier === '00000102')).toBe(false);
  });

  it('imports the hours of a user once mapped, and reports unknown chantiers', async () => {
    await withSlots();
    h.state.addProject({ projectCode: '99999999', projectName: 'Projet hors Batigest' });
    h.state.addSlot({ id: 7, startDate: '2026-07-06T07:00:00Z', userId: U1, projectId: h.state.findProjectByCode('99999999')!.id, managementStatus: 'VALIDATED', totalTimeMinutes: 60 });
    const [r] = await h.engine().run('hours');
    expect((await items(r!.runId)).find((i) => i.record_key === 'chantier:99999999')?.reason).toMatch(/introuvable dans Sage Batigest/);
    expect((await h.suiviMo()).some((x) => x.codeSalarie === 'PL')).toBe(false);
    await h.setCodebs('PL', U3);
    const [r2] = await h.engine().run('hours');
    expect(r2!.counts.created).toBe(1);
    expect((await h.suiviMo()).filter((x) => x.codeSalarie === 'PL')).toEqual([
      { codeChantier: '00000101', codeSalarie: 'PL', date: '2026-07-03', nbH0: 5, nbH3: 0, nbH4: 0 },
    ]);
  });

  it('records a conflict when a SuiviMO row was edited in Batigest and its slot in BatiSimply; the newer BatiSimply edit wins', async () => {
    await withSlots();
    await h.engine().run('hours');
    // Someone corrects the row by hand in Batigest…
    await h.batigest.applySuiviMo([{ kind: 'upsert', row: { codeChantier: '00000102', codeSalarie: 'S02', date: '2026-01-21', nbH0: 7, nbH3: 1, nbH4: 0 } }]);
    // …and the slot is edited in BatiSimply afterwards.
    h.clock.set(new Date(h.clock.now().getTime() + 3_600_000));
    h.state.editSlot(3, { totalTimeMinutes: 450 });
    const [r] = await h.engine().run('hours');
    expect(r!.counts.conflicts).toBe(1);
    const c = (await items(r!.runId)).find((i) => i.action === 'conflict');
    expect(c?.record_key).toBe('suivimo:00000102|S02|2026-01-21');
    expect(c?.reason).toMatch(/modifiée dans Sage Batigest.*BatiSimply/);
    expect((await h.suiviMo()).filter((x) => x.codeChantier === '00000102')).toEqual([
      { codeChantier: '00000102', codeSalarie: 'S02', date: '2026-01-21', nbH0: 7.5, nbH3: 0, nbH4: 0 },
    ]);
  });

  it('a cancelled run leaves a consistent state and the rerun completes', async () => {
    await withSlots();
    const ac = new AbortController();
    const eng = h.engine({ hooks: { checkpoint: (n) => (n === 'hours:after-intent' ? ac.abort() : undefined) } });
    const [r] = await eng.run('hours', { signal: ac.signal });
    expect(r!.status).toBe('cancelled');
    expect(await h.buffer.countDirtyKeys()).toBeGreaterThan(0);
    const [r2] = await h.engine().run('hours');
    expect(r2!.status).toBe('partial'); // completes; only Paul Leroy's unmapped slot still waits
    expect(r2!.counts.failed).toBe(0);
    expect(await h.buffer.countDirtyKeys()).toBe(0);
    expect(await h.suiviMo()).toHaveLength(3);
    h.resetWrites();
    await h.engine().run('hours');
    expect((await h.writes()).suiviMo).toBe(0);
  });

  it('a crash after the SuiviMO write and before the buffer commit converges on rerun', async () => {
    await withSlots();
    const [r] = await h.engine({ hooks: { checkpoint: (n) => { if (n === 'hours:after-remote') throw new Error('killed'); } } }).run('hours');
    expect(r!.status).toBe('failed');
    h.state.editSlot(1, { totalTimeMinutes: 480 });
    await h.engine().run('hours');
    expect(await h.suiviMo()).toEqual([
      { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-02', nbH0: 9.5, nbH3: 1, nbH4: 1 },
      { codeChantier: '00000102', codeSalarie: 'S02', date: '2026-01-21', nbH0: 8, nbH3: 0, nbH4: 0 },
      { codeChantier: '00000103', codeSalarie: 'S02', date: '2026-01-20', nbH0: 1, nbH3: 0, nbH4: 0 },
    ]);
  });
});
