/**
 * SuiviMO batch writer against the TDS simulator: one transaction, bounded statements, rollback, deadlock.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SuiviMoOp, SuiviMoRow } from '../../src/shared/domain.js';
import { AppError } from '../../src/shared/errors.js';
import { startBatigestSim, type BatigestSimEnv } from './batigest-sim.js';

const DB = 'btg_suivi';

describe.each([['PGlite'], ['PostgreSQL server']] as const)('applySuiviMo (simulator backend: %s)', (backendName) => {
  let env: BatigestSimEnv;

  beforeAll(async () => {
    env = await startBatigestSim(
      { [DB]: { seed: 'suivi', chantiers: 60, devis: 5, salaries: 15, suiviMo: 400, variant: 'v1', withCodebs: true } },
      { backend: backendName === 'PGlite' ? 'pglite' : 'pg' },
    );
  });
  afterAll(async () => {
    await env?.close();
  });

  async function countRows(): Promise<number> {
    const s = await env.backend.openSession(DB);
    try {
      const r = await s.query('SELECT count(*)::int AS n FROM "SuiviMO"');
      return Number(r.rows[0]?.[0]);
    } finally {
      await s.close();
    }
  }

  const company = () => {
    const c = env.companies[DB];
    if (!c) throw new Error('no company');
    return c;
  };

  describe('batch', () => {
    it('inserts, updates, moves and deletes in one transaction with a bounded number of statements', async () => {
      const g = env.gateway(DB);
      const existing = company().suiviMo;
      const chantiers = company().chantiers.map((c) => c.code);
      const salaries = company().salaries.map((s) => s.code);
      // 700 new rows on dates beyond the generated ones (2027+), so they cannot collide
      const fresh: SuiviMoRow[] = Array.from({ length: 700 }, (_, i) => ({
        codeChantier: chantiers[i % chantiers.length] ?? '',
        codeSalarie: salaries[i % salaries.length] ?? '',
        date: new Date(Date.UTC(2027, 0, 1 + Math.floor(i / 10))).toISOString().slice(0, 10),
        nbH0: 7 + (i % 4) / 4,
        nbH3: i % 2,
        nbH4: 1,
      }));
      const toUpdate = existing.slice(0, 100);
      const toMove = existing.slice(100, 150);
      const toDelete = existing.slice(150, 200);
      const ops: SuiviMoOp[] = [
        ...fresh.map((row) => ({ kind: 'upsert' as const, row })),
        ...toUpdate.map((r) => ({ kind: 'upsert' as const, row: { ...r, nbH0: 3.5, nbH3: 0, nbH4: 0 } })),
        ...toMove.map((r, i) => ({
          kind: 'move' as const,
          from: { codeChantier: r.codeChantier, codeSalarie: r.codeSalarie, date: r.date },
          row: { ...r, date: new Date(Date.UTC(2028, 0, 1 + i)).toISOString().slice(0, 10), nbH0: 8 },
        })),
        ...toDelete.map((r) => ({ kind: 'delete' as const, key: { codeChantier: r.codeChantier, codeSalarie: r.codeSalarie, date: r.date } })),
      ];
      const before = await countRows();
      env.sim.stats.reset();
      g.resetStats();
      const res = await g.applySuiviMo(ops);
      expect(res).toEqual({ inserted: 750, updated: 100, deleted: 100 });
      expect(await countRows()).toBe(before + 700 - 50);

      // 100 deletes → 1 statement; 850 upserts → 3 chunks × (UPDATE + INSERT): 7 statements in 4 SQL requests,
      // plus the transaction's begin/commit and the driver's SET TRANSACTION ISOLATION LEVEL batch.
      expect(g.stats.statements).toBe(7);
      expect(g.stats.roundTrips).toBe(6);
      expect(env.sim.stats.statements).toBeLessThanOrEqual(7 + 1);
      expect(env.sim.stats.batches + env.sim.stats.rpcs).toBeLessThanOrEqual(4 + 3);

      const back = await g.readSuiviMo([...fresh.slice(0, 5), ...toUpdate.slice(0, 5), ...toDelete.slice(0, 5)]);
      expect(back).toHaveLength(10);
      expect(back.find((r) => r.codeChantier === toUpdate[0]?.codeChantier && r.date === toUpdate[0]?.date && r.codeSalarie === toUpdate[0]?.codeSalarie)).toMatchObject({ nbH0: 3.5, nbH3: 0, nbH4: 0 });
      expect(back.find((r) => r.date === fresh[3]?.date && r.codeChantier === fresh[3]?.codeChantier && r.codeSalarie === fresh[3]?.codeSalarie)).toEqual(fresh[3]);
      const moved = await g.readSuiviMo(toMove.map((r) => ({ codeChantier: r.codeChantier, codeSalarie: r.codeSalarie, date: r.date })));
      expect(moved).toEqual([]);
    });

    it('an error in the middle of the batch leaves nothing half-written', async () => {
      const g = env.gateway(DB);
      const victim = company().suiviMo[300];
      if (!victim) throw new Error('no row');
      const key = { codeChantier: victim.codeChantier, codeSalarie: victim.codeSalarie, date: victim.date };
      const before = await countRows();
      const ops: SuiviMoOp[] = [
        { kind: 'delete', key },
        // CodeChantier is varchar(8): a 12-character code is rejected by the server
        { kind: 'upsert', row: { codeChantier: 'TROP-LONG-123', codeSalarie: victim.codeSalarie, date: '2029-01-01', nbH0: 1, nbH3: 0, nbH4: 0 } },
      ];
      await expect(g.applySuiviMo(ops)).rejects.toMatchObject({ code: expect.stringMatching(/^SQL_/) });
      expect(await countRows()).toBe(before);
      expect(await g.readSuiviMo([key])).toHaveLength(1);
    });

    it('fencing: a batch whose lease confirmation fails right before the COMMIT is rolled back, nothing visible', async () => {
      const g = env.gateway(DB);
      const victim = company().suiviMo[310];
      if (!victim) throw new Error('no row');
      const key = { codeChantier: victim.codeChantier, codeSalarie: victim.codeSalarie, date: victim.date };
      const before = await countRows();
      let asked = 0;
      const lost = new AppError('SYNC_LEASE_LOST', 'Le flux a été repris par le poste PC-B.');
      const ops: SuiviMoOp[] = [
        { kind: 'delete', key },
        { kind: 'upsert', row: { codeChantier: victim.codeChantier, codeSalarie: victim.codeSalarie, date: '2029-02-01', nbH0: 3, nbH3: 0, nbH4: 0 } },
      ];
      const confirm = async () => {
        asked++;
        throw lost;
      };
      await expect(g.applySuiviMo(ops, { confirm })).rejects.toBe(lost);
      expect(asked).toBe(1);
      expect(await countRows()).toBe(before);
      expect(await g.readSuiviMo([key])).toHaveLength(1);
    });

    it('a deadlock is a retryable SQL_DEADLOCK, rolled back, and the retry succeeds', async () => {
      const g = env.gateway(DB);
      const victim = company().suiviMo[310];
      if (!victim) throw new Error('no row');
      const key = { codeChantier: victim.codeChantier, codeSalarie: victim.codeSalarie, date: victim.date };
      const ops: SuiviMoOp[] = [
        { kind: 'delete', key },
        { kind: 'upsert', row: { ...victim, date: '2030-05-06', nbH0: 2.25 } },
      ];
      env.sim.faults.failNext('deadlock', /INSERT/i, 1);
      const err = await g.applySuiviMo(ops).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'SQL_DEADLOCK', retryable: true });
      expect(await g.readSuiviMo([key])).toHaveLength(1);
      expect(await g.applySuiviMo(ops)).toEqual({ inserted: 1, updated: 0, deleted: 1 });
      expect(await g.readSuiviMo([key])).toHaveLength(0);
      expect(await g.readSuiviMo([{ ...key, date: '2030-05-06' }])).toEqual([{ ...victim, date: '2030-05-06', nbH0: 2.25 }]);
      // a later, different failure on the same gateway is not mistaken for a deadlock
      const later = await g
        .applySuiviMo([{ kind: 'upsert', row: { ...victim, codeChantier: 'TROP-LONG-123' } }])
        .catch((e: unknown) => e);
      expect(later).toMatchObject({ code: 'SQL_ERROR', retryable: false });
    });

    it('an empty batch sends nothing', async () => {
      const g = env.gateway(DB);
      g.resetStats();
      expect(await g.applySuiviMo([])).toEqual({ inserted: 0, updated: 0, deleted: 0 });
      expect(g.stats.roundTrips).toBe(0);
    });
  });
});
