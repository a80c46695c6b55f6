/**
 * Errors and concurrency through the simulators: one bad record never stops a run, transient faults are
 * retried, a fatal fault fails the run with a French message, and PCs sharing a PostgreSQL buffer take turns.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/shared/errors.js';
import type { BufferStore } from '../../src/main/services/buffer/index.js';
import { useSimHarness, U1, type Harness } from '../support/sync/harness.js';
import { createTestBuffer, type TestBuffer } from '../support/sync/buffers.js';

describe('sync resilience (simulators)', () => {
  let h!: Harness;
  useSimHarness((x) => (h = x));

  it('journals a rejected project with its reason, goes on with the others, and retries it next run', async () => {
    h.sims!.bs.faults.add({ route: 'POST /api/project', status: 400, times: 1, body: { title: 'Bad Request', detail: 'invalid' } });
    const [r] = await h.engine().run('push');
    expect(r).toMatchObject({ status: 'partial', counts: { created: 2, failed: 1 } });
    const failed = (await h.buffer.listRunItems(r!.runId)).filter((i) => i.action === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.reason).toMatch(/Nouvel essai au prochain passage/);
    const [r2] = await h.engine().run('push');
    expect(r2).toMatchObject({ status: 'succeeded', counts: { created: 1, failed: 0, unchanged: 2 } });
    expect(h.state.projects.size).toBe(3);
  });

  it('retries the journal write when the buffer connection drops as the run ends: the run and its lines are kept once', async () => {
    h.sims!.bs.faults.add({ route: 'POST /api/project', status: 400, times: 1, body: { title: 'Bad Request', detail: 'invalid' } });
    // The buffer as the engine sees it, whose first two journal writes fail like a lost PostgreSQL connection.
    const flaky = Object.create(h.buffer) as BufferStore;
    let failures = 2;
    flaky.closeRun = async (r, items) => {
      if (failures-- > 0) throw new AppError('BUFFER_UNREACHABLE', 'La base tampon PostgreSQL est injoignable.', { detail: 'test: connection terminated', retryable: true });
      return h.buffer.closeRun(r, items);
    };
    const [r] = await h.engine({ buffer: flaky }).run('push');
    expect(failures).toBe(-1);
    expect(r).toMatchObject({ status: 'partial', counts: { created: 2, failed: 1 } });
    expect(await h.buffer.getRun(r!.runId)).toMatchObject({ status: 'partial', created: 2, failed: 1, message: r!.message });
    expect((await h.buffer.listRunItems(r!.runId)).filter((i) => i.action === 'failed')).toHaveLength(1);
  });

  it('retries transient BatiSimply faults (503, 429, dropped connection) and succeeds', async () => {
    h.sims!.bs.faults.add({ route: 'GET /api/project', status: 503, times: 1 });
    h.sims!.bs.faults.add({ route: 'POST /api/project', status: 429, retryAfterSeconds: 0, times: 1 });
    h.sims!.bs.faults.add({ route: 'POST /api/project', reset: true, times: 1 });
    const [r] = await h.engine().run('push');
    expect(r).toMatchObject({ status: 'succeeded', counts: { created: 3, failed: 0 } });
    for (const c of ['00000101', '00000102', '00000103']) expect(h.projectsByCode(c)).toHaveLength(1);
  });

  it('retries a SQL Server deadlock on the SuiviMO write', async () => {
    await h.engine().run('push');
    h.state.addSlot({ id: 1, startDate: '2026-07-01T07:00:00Z', userId: U1, projectId: h.projectsByCode('00000101')[0]!.id, managementStatus: 'VALIDATED', totalTimeMinutes: 120 });
    h.sims!.tds.faults.failNext('deadlock', /SuiviMO/);
    const [r] = await h.engine().run('hours');
    expect(r).toMatchObject({ status: 'succeeded', counts: { created: 1 } });
    expect(await h.suiviMo()).toEqual([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-01', nbH0: 2, nbH3: 0, nbH4: 0 }]);
  });

  it('fails the run with a French message when the BatiSimply account is disabled, and records it', async () => {
    h.sims!.bs.setAccountDisabled(h.settings.batisimply.username, true);
    h.sims!.bs.revokeTokens();
    const [r] = await h.engine().run('push');
    expect(r!.status).toBe('failed');
    expect(r!.errorCode).toMatch(/^BS_/);
    expect(r!.message).toMatch(/[éèà]|identifiant|mot de passe/i);
    const run = await h.buffer.getRun(r!.runId);
    expect(run).toMatchObject({ status: 'failed', error_code: r!.errorCode });
    expect(h.state.projects.size).toBe(0);
  });

  describe('two PCs sharing a PostgreSQL buffer', () => {
    let pg!: TestBuffer;
    beforeAll(async () => {
      pg = await createTestBuffer('postgres');
    });
    afterAll(async () => {
      await pg?.close();
    });

    it('runs the flows on PostgreSQL, one PC at a time; another PC takes over when the holder disappears', async () => {
      const pc1 = await pg.reopen();
      const pc2 = await pg.reopen();
      // PC-BUREAU started a run and vanished (no release): its lease is held until it expires.
      const t0 = h.clock.now();
      await pc1.acquireLease({ flow: 'push', holder: 'PC-BUREAU#dead', machine: 'PC-BUREAU', runId: 'dead-run', now: t0, ttlMs: 120_000 });
      await pc1.startRun({ id: 'dead-run', flow: 'push', machine: 'PC-BUREAU', trigger: 'schedule', now: t0 });
      const err = await h.engine({ machineName: 'PC-ATELIER', buffer: pc2 }).run('push').catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'BUFFER_LOCKED' });
      expect((err as Error).message).toContain('PC-BUREAU');
      // Two minutes later, the lease has expired: PC-ATELIER takes over.
      h.clock.set(new Date(t0.getTime() + 121_000));
      const [r] = await h.engine({ machineName: 'PC-ATELIER', buffer: pc2 }).run('push');
      expect(r).toMatchObject({ status: 'succeeded', machine: 'PC-ATELIER', counts: { created: 3 } });
      expect((await pc1.getRun('dead-run'))?.status).toBe('interrupted');
      // PC-BUREAU comes back: the shared buffer says everything is pushed, no write.
      h.resetWrites();
      const [r2] = await h.engine({ machineName: 'PC-BUREAU', buffer: pc1 }).run('push');
      expect(r2!.counts).toMatchObject({ created: 0, updated: 0, unchanged: 3 });
      expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 0 });
      const machines = (await pc1.listRuns(10, 'push')).map((x) => `${x.machine}:${x.status}`);
      expect(machines).toEqual(expect.arrayContaining(['PC-ATELIER:succeeded', 'PC-BUREAU:succeeded', 'PC-BUREAU:interrupted']));
    });
  });
});
