/**
 * Run status through the simulators: an hours run that leaves validated hours unwritten (user without a
 * salarié, unknown chantier) ends 'partial' with a French message saying how many hours wait and why; a
 * push run whose only skips are rows without a code or name stays 'succeeded' and its message names them.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JournalQueries } from '../../src/main/services/buffer/journal.js';
import { simHarness, U1, U3, type Harness } from '../support/sync/harness.js';

describe('run status (simulators)', () => {
  let h!: Harness;
  beforeAll(async () => {
    h = await simHarness();
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h.reset();
  });

  const journalStatus = async (runId: string): Promise<string | undefined> =>
    (await new JournalQueries(h.buffer.db).listRuns({}, { limit: 50, offset: 0 })).rows.find((r) => r.id === runId)?.status;

  it('a push run that only skipped rows without name succeeds and says so', async () => {
    const [r] = await h.engine().run('push');
    expect(r).toMatchObject({ status: 'succeeded', counts: { created: 3, skipped: 1, failed: 0 } });
    expect(r!.message).toContain(' 1 ligne de Sage Batigest ignorée : 1 sans nom ni client (détail dans le journal).');
    expect(await journalStatus(r!.runId)).toBe('succeeded');
    expect((await h.buffer.getRun(r!.runId))?.message).toBe(r!.message);
  });

  it('an hours run leaving validated hours unwritten is partial, says how many hours wait and why, then succeeds once fixed', async () => {
    await h.engine().run('push');
    const p101 = h.projectsByCode('00000101')[0]!.id;
    h.state.addProject({ projectCode: '99999999', projectName: 'Projet hors Batigest' });
    const p999 = h.state.findProjectByCode('99999999')!.id;
    h.state.addSlot({ id: 1, startDate: '2026-07-01T07:00:00Z', userId: U1, projectId: p101, managementStatus: 'VALIDATED', totalTimeMinutes: 120 });
    // Paul Leroy (U3) has no salarié in Batigest: 1 h 30 waits.
    h.state.addSlot({ id: 2, startDate: '2026-07-02T07:00:00Z', userId: U3, projectId: p101, managementStatus: 'VALIDATED', totalTimeMinutes: 90 });
    // A chantier Batigest does not know: 1 h waits.
    h.state.addSlot({ id: 3, startDate: '2026-07-03T07:00:00Z', userId: U1, projectId: p999, managementStatus: 'VALIDATED', totalTimeMinutes: 60 });

    const [r] = await h.engine().run('hours');
    expect(r).toMatchObject({ status: 'partial', counts: { created: 1, failed: 0 } });
    expect(r!.message).toContain('2,5 h validées en attente');
    expect(r!.message).toContain("1 créneau d'un utilisateur BatiSimply sans salarié Sage Batigest");
    expect(r!.message).toContain('1 créneau sur un chantier inconnu de Sage Batigest');
    expect(await journalStatus(r!.runId)).toBe('partial');
    expect(await new JournalQueries(h.buffer.db).listRuns({ statuses: ['partial'] }, { limit: 50, offset: 0 }).then((x) => x.rows.map((y) => y.id))).toContain(r!.runId);

    // Nothing changed: the hours still wait, the run is still partial.
    const [again] = await h.engine().run('hours');
    expect(again!.status).toBe('partial');
    expect(again!.message).toContain('2,5 h validées en attente');

    // Paul gets his salarié: only the unknown chantier's hour waits.
    await h.setCodebs('PL', U3);
    const [r2] = await h.engine().run('hours');
    expect(r2!.status).toBe('partial');
    expect(r2!.message).toContain(' 1 h validée en attente');
    expect(r2!.message).not.toMatch(/sans salarié/);

    // The stray slot is moved to a known chantier: nothing waits any more.
    h.state.editSlot(3, { projectId: p101 });
    const [r3] = await h.engine().run('hours');
    expect(r3!.status).toBe('succeeded');
    expect(r3!.message).not.toMatch(/en attente/);
    expect(await journalStatus(r3!.runId)).toBe('succeeded');
  });
});
