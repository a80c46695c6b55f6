/**
 * The gateway compares codes and codebs UUIDs the way SQL Server does (French_CI_AS: case-insensitive, trailing
 * spaces ignored), against the simulator with the same collation: an upper-case or padded codebs maps its salarié,
 * a padded Salarie.Code is found, SuiviMO keys differing in case are one row, read-back rows answer the keys asked.
 * And, on a case-sensitive (_CS_) database, case is kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { simHarness, U1, U2, type Harness } from '../support/sync/harness.js';
import { loadBatigestCompany } from '../support/datasets/batigest.js';
import { createPgliteBackend, startTdsSimulator, type AdminBackend, type TdsSimulator } from '../support/tds/index.js';
import { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { sqlServerSettingsSchema } from '../../src/shared/settings.js';
import { smallCompany } from '../support/sync/harness.js';
import { captureLogger } from './batigest-helpers.js';
import { pgServerBackend } from './batigest-sim.js';

describe('the sync maps salariés and SuiviMO keys as SQL Server compares them', () => {
  let h!: Harness;
  beforeAll(async () => {
    h = await simHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('an upper-case, padded codebs maps its salarié: the hours are imported', async () => {
    await h.reset();
    await h.setCodebs('S01', `${U1.toUpperCase()}   `);
    await h.engine().run('push');
    const pid = h.projectsByCode('00000101')[0]!.id;
    h.state.addSlot({ id: 1, startDate: '2026-07-02T07:00:00Z', userId: U1, projectId: pid, managementStatus: 'VALIDATED', totalTimeMinutes: 420 });
    const [r] = await h.engine().run('hours');
    expect(r!.status).toBe('succeeded');
    expect(await h.suiviMo()).toEqual([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-02', nbH0: 7, nbH3: 0, nbH4: 0 }]);
    const salaries = await h.batigest.readSalaries();
    expect(salaries.find((s) => s.code === 'S01')?.codebs).toBe(U1);
  });
});

describe.each([['PGlite'], ['PostgreSQL server']])('gateway comparisons under the database collation (%s backend)', (kind) => {
  let backend!: AdminBackend;
  let drop: (() => Promise<void>) | null = null;
  let sim!: TdsSimulator;
  const gateways: BatigestGateway[] = [];
  const gateway = (database: string): BatigestGateway => {
    const g = new BatigestGateway({
      settings: sqlServerSettingsSchema.parse({ server: `${sim.host},${sim.port}`, database, user: 'sa', password: 'Secret#1', encrypt: false, trustServerCertificate: true }),
      logger: captureLogger(),
    });
    gateways.push(g);
    return g;
  };
  const rows = async (database: string, sql: string): Promise<unknown[][]> => {
    const s = await backend.openSession(database);
    try {
      return (await s.query(sql)).rows;
    } finally {
      await s.close();
    }
  };

  beforeAll(async () => {
    if (kind === 'PGlite') backend = await createPgliteBackend();
    else ({ backend, drop } = await pgServerBackend());
    await loadBatigestCompany(backend, 'BTG_CI', smallCompany());
    await backend.createDatabase('BTG_CS', { collation: 'French_CS_AS' });
    await loadBatigestCompany(backend, 'BTG_CS', smallCompany());
    for (const db of ['BTG_CI', 'BTG_CS']) {
      // a salarié whose code Batigest stored padded, another mapped with an upper-case padded UUID
      await backend.adminExec(db, `INSERT INTO "Salarie" ("Code", "Nom", "Prenom", "codebs") VALUES ('PAD  ', 'Padding', 'Paul', NULL)`);
      await backend.adminExec(db, `UPDATE "Salarie" SET "codebs" = '${U2.toUpperCase()}  ' WHERE "Code" = 'S02'`);
    }
    sim = await startTdsSimulator({ backend, logins: { sa: 'Secret#1' } });
  });
  afterAll(async () => {
    for (const g of gateways) await g.close();
    await sim?.close();
    await backend?.close();
    await drop?.();
  });

  it('reads codebs as the lower-case UUID SQL Server compares equal to it', async () => {
    const salaries = await gateway('BTG_CI').readSalaries();
    expect(salaries.find((s) => s.code === 'S02')?.codebs).toBe(U2);
    expect(salaries.find((s) => s.code === 'PAD')?.codebs).toBeNull();
  });

  it('maps a padded salarié code and moves a UUID held in upper case by another salarié', async () => {
    const g = gateway('BTG_CI');
    expect(await g.writeEmployeeMapping('PAD', U2)).toEqual({ cleared: 1 });
    expect(await rows('BTG_CI', `SELECT "Code", "codebs" FROM "Salarie" WHERE "Code" IN ('PAD  ', 'S02') ORDER BY 1`)).toEqual([
      ['PAD  ', U2],
      ['S02', null],
    ]);
    // the same code typed in another case is the same salarié on a French_CI_AS database
    expect(await g.writeEmployeeMapping('pad', null)).toEqual({ cleared: 0 });
    expect(await rows('BTG_CI', `SELECT "codebs" FROM "Salarie" WHERE "Code" = 'PAD  '`)).toEqual([[null]]);
  });

  it('writes SuiviMO keys that differ only in case or trailing spaces as one row (CI), the last op winning', async () => {
    const g = gateway('BTG_CI');
    const row = (codeSalarie: string, nbH0: number) => ({ kind: 'upsert' as const, row: { codeChantier: '00000101', codeSalarie, date: '2026-03-02', nbH0, nbH3: 0, nbH4: 0 } });
    expect(await g.applySuiviMo([row('S01', 7), row('s01 ', 8)])).toEqual({ inserted: 1, updated: 0, deleted: 0 });
    expect(await rows('BTG_CI', `SELECT "CodeSalarie", "NbH0"::float FROM "SuiviMO" WHERE "Date" = '2026-03-02'`)).toEqual([['s01', 8]]);
    // read back with the keys as the caller spells them
    const back = await g.readSuiviMo([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-03-02' }]);
    expect(back).toEqual([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-03-02', nbH0: 8, nbH3: 0, nbH4: 0 }]);
    expect(await g.applySuiviMo([{ kind: 'delete', key: { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-03-02' } }])).toMatchObject({ deleted: 1 });
  });

  it('keeps keys that differ in case apart on a case-sensitive database', async () => {
    const g = gateway('BTG_CS');
    const row = (codeSalarie: string, nbH0: number) => ({ kind: 'upsert' as const, row: { codeChantier: '00000101', codeSalarie, date: '2026-03-03', nbH0, nbH3: 0, nbH4: 0 } });
    expect(await g.applySuiviMo([row('S01', 7), row('s01', 8)])).toEqual({ inserted: 2, updated: 0, deleted: 0 });
    const back = await g.readSuiviMo([{ codeChantier: '00000101', codeSalarie: 'S01', date: '2026-03-03' }]);
    expect(back.map((r) => [r.codeSalarie, r.nbH0])).toEqual([['S01', 7]]);
    await expect(g.writeEmployeeMapping('pad', U1)).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
