/**
 * The opt-in chantiers-back flow (issue 18) against the simulators, in both column variants: only the ticked fields
 * of the projects changed in BatiSimply reach ChantierDef, in one transaction; conflicts go to the later
 * modification; every other column of every row stays byte-identical; option off → no statement ever writes
 * ChantierDef (counted on the TDS simulator's captured statements).
 */
import mssql from 'mssql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BATIGEST_COLUMNS, generateBatigestCompany, pgLiteral, type BatigestVariant } from '../support/datasets/batigest.js';
import { simHarness, testSettings, type Harness } from '../support/sync/harness.js';
import type { Settings } from '../../src/shared/settings.js';

const WRITES_CHANTIERDEF = /\b(UPDATE|INSERT\s+INTO|DELETE\s+FROM|MERGE|ALTER\s+TABLE|DROP\s+TABLE|TRUNCATE\s+TABLE)\s+(\[dbo\]\.)?\[?ChantierDef\b/i;

describe.each(['v1', 'v2'] as const)('chantiers-back (%s)', (variant: BatigestVariant) => {
  let h!: Harness;
  let pool!: mssql.ConnectionPool;
  let on = true;
  const cols = BATIGEST_COLUMNS[variant].chantier;
  beforeAll(async () => {
    const company = () => generateBatigestCompany({ seed: `back-${variant}`, chantiers: 40, devis: 0, salaries: 1, suiviMo: 0, variant, withCodebs: true });
    const settings = () =>
      testSettings((s: Settings) => {
        s.chantiers.back = { enabled: on, fields: on ? ['dateFin', 'ville'] : [] };
        s.chantiers.scopeMonths = 600;
      });
    h = await simHarness(company, settings);
    pool = await new mssql.ConnectionPool({ server: '127.0.0.1', port: h.sims!.tds.port, user: 'sa', password: 'Secret#1', database: 'BTG_TEST', options: { encrypt: false, trustServerCertificate: true } }).connect();
  });
  afterAll(async () => {
    await pool?.close();
    await h?.close();
  });
  beforeEach(async () => {
    on = true;
    await h.reset();
  });

  /** Every cell of every ChantierDef row, as the wire gives it (dates as ISO, numbers as text). */
  const snapshot = async (): Promise<Map<string, Record<string, string | null>>> => {
    const r = await pool.request().query('SELECT * FROM [dbo].[ChantierDef] ORDER BY [Code]');
    const out = new Map<string, Record<string, string | null>>();
    for (const row of r.recordset as Record<string, unknown>[]) {
      const cells: Record<string, string | null> = {};
      for (const [k, v] of Object.entries(row)) cells[k] = v === null ? null : v instanceof Date ? v.toISOString() : String(v);
      out.set(String(row.Code), cells);
    }
    return out;
  };
  const items = async (runId: string) => h.buffer.listRunItems(runId);
  /** Changes a project as a BatiSimply user would (the server dates it). */
  const editRemote = (code: string, patch: Record<string, unknown>, at: string) => {
    const p = [...h.state.projects.values()].find((x) => x.projectCode === code)!;
    Object.assign(p, patch, { lastModifiedDate: at });
    return p;
  };

  it('writes only the ticked fields of the projects changed in BatiSimply; every other cell stays identical; the push then writes nothing', async () => {
    await h.engine().run('push');
    const [a, b] = h.company.chantiers.filter((c) => c.etat === 'E' && c.description);
    const before = await snapshot();
    const w0 = h.chantierWrites!();
    const pa = editRemote(a!.code, { endEstimated: '2026-12-31', customerName: 'Client changé dans BatiSimply' }, '2026-07-15T13:00:00Z');
    pa.address = { ...(pa.address ?? {}), city: 'Annecy', street: 'Rue changée (non cochée)' };
    editRemote(b!.code, { startEstimated: '2020-01-01' }, '2026-07-15T13:00:00Z'); // dateDebut is not ticked
    h.clock.set(new Date('2026-07-15T14:00:00Z'));
    const [r] = await h.engine().run('chantiers-back');
    expect(r).toMatchObject({ status: 'succeeded', counts: { updated: 1, failed: 0, conflicts: 0 } });
    const after = await snapshot();
    expect([...after.keys()]).toEqual([...before.keys()]);
    for (const [code, cells] of before) {
      for (const [col, v] of Object.entries(cells)) {
        if (code === a!.code && col === cols.dateFin) expect(after.get(code)![col]).toBe('2026-12-31T00:00:00.000Z');
        else if (code === a!.code && col === cols.ville) expect(after.get(code)![col]).toBe('Annecy');
        else expect({ code, col, v: after.get(code)![col] }).toEqual({ code, col, v });
      }
    }
    const lines = (await items(r!.runId)).map((i) => i.reason);
    expect(lines).toContain(`Chantier ${a!.code} : la ville modifiée dans BatiSimply (« ${a!.ville} » → « Annecy »), reportée dans Sage Batigest.`);
    expect(lines.some((l) => l?.startsWith(`Chantier ${a!.code} : la date de fin modifiée dans BatiSimply (`) && l.includes('« 2026-12-31 »'))).toBe(true);
    expect(h.chantierWrites!() - w0).toBe(2);

    // the push that follows: no conflict, and it puts Batigest's values back on the fields that were not ticked
    h.resetWrites();
    const [p] = await h.engine().run('push');
    expect(p!.counts.conflicts).toBe(0);
    expect(h.state.findProjectByCode(a!.code)).toMatchObject({ endEstimated: '2026-12-31', address: expect.objectContaining({ city: 'Annecy' }) });
    // nothing changed since: no write on either side
    const again = await h.engine().run('all');
    expect(again.map((x) => x.flow)).toEqual(['chantiers-back', 'push', 'hours']);
    expect(again[0]!.counts).toMatchObject({ writes: 0, updated: 0 });
    expect(h.chantierWrites!() - w0).toBe(2);
  });

  it('decides a field changed on both sides by the later modification date, and journals old, new and winner', async () => {
    await h.engine().run('push');
    const [a, b] = h.company.chantiers.filter((c) => c.etat === 'E' && c.description);
    // a: Batigest changed later than BatiSimply → Batigest wins, nothing written
    await h.adminExec!(`UPDATE "ChantierDef" SET "${cols.ville}" = 'Lyon 2', "${cols.dateModif}" = '2026-07-15T16:00:00' WHERE "Code" = ${pgLiteral(a!.code)}`);
    editRemote(a!.code, { address: { ...(h.state.findProjectByCode(a!.code)!.address ?? {}), city: 'Grenoble' } }, '2026-07-15T13:00:00Z');
    // b: BatiSimply changed later → BatiSimply wins, written
    await h.adminExec!(`UPDATE "ChantierDef" SET "${cols.ville}" = 'Vienne', "${cols.dateModif}" = '2026-07-15T09:00:00' WHERE "Code" = ${pgLiteral(b!.code)}`);
    editRemote(b!.code, { address: { ...(h.state.findProjectByCode(b!.code)!.address ?? {}), city: 'Chambéry' } }, '2026-07-15T13:00:00Z');
    h.clock.set(new Date('2026-07-15T17:00:00Z'));
    const [r] = await h.engine().run('chantiers-back');
    expect(r!.counts).toMatchObject({ conflicts: 2, updated: 1 });
    const snap = await snapshot();
    expect(snap.get(a!.code)![cols.ville]).toBe('Lyon 2');
    expect(snap.get(b!.code)![cols.ville]).toBe('Chambéry');
    const conflicts = (await items(r!.runId)).filter((i) => i.action === 'conflict').map((i) => i.reason);
    expect(conflicts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(new RegExp(`^Chantier ${a!.code} : la ville modifiée dans Sage Batigest \\(« Lyon 2 », .*\\) et dans BatiSimply \\(« Grenoble », .*\\) : la valeur de Sage Batigest est conservée \\(plus récente\\)`)),
        expect.stringMatching(new RegExp(`^Chantier ${b!.code} : la ville modifiée dans Sage Batigest \\(« Vienne », .*\\) et dans BatiSimply \\(« Chambéry », .*\\) : la modification BatiSimply, plus récente, est reportée`)),
      ]),
    );
    // the push then sends Batigest's winning value of a to BatiSimply
    await h.engine().run('push');
    expect(h.state.findProjectByCode(a!.code)?.address?.city).toBe('Lyon 2');
  });

  it('a value SQL Server refuses (too long for its column) holds back only its chantier, journaled; the others are written', async () => {
    await h.engine().run('push');
    const [a, b] = h.company.chantiers.filter((c) => c.etat === 'E' && c.description);
    const long = 'Saint-Rémy-de-Provence '.repeat(10).trim(); // wider than the column
    const pa = editRemote(a!.code, {}, '2026-07-15T13:00:00Z');
    pa.address = { ...(pa.address ?? {}), city: long };
    const pb = editRemote(b!.code, {}, '2026-07-15T13:00:00Z');
    pb.address = { ...(pb.address ?? {}), city: 'Chamonix' };
    h.clock.set(new Date('2026-07-15T14:00:00Z'));
    const [r] = await h.engine().run('chantiers-back');
    expect(r).toMatchObject({ status: 'partial', counts: { updated: 1, failed: 1 } });
    const snap = await snapshot();
    expect(snap.get(a!.code)![cols.ville]).toBe(a!.ville);
    expect(snap.get(b!.code)![cols.ville]).toBe('Chamonix');
    const failed = (await items(r!.runId)).filter((i) => i.action === 'failed');
    expect(failed).toEqual([expect.objectContaining({ record_key: `chantier:${a!.code}`, reason: expect.stringMatching(/a refusé les valeurs venues de BatiSimply .* Nouvel essai au prochain passage\.$/) })]);
    // corrected in BatiSimply: written on the next run
    editRemote(a!.code, { address: { ...(pa.address ?? {}), city: 'Saint-Rémy' } }, '2026-07-15T15:00:00Z');
    h.clock.set(new Date('2026-07-15T16:00:00Z'));
    const [r2] = await h.engine().run('chantiers-back');
    expect(r2!.counts).toMatchObject({ updated: 1, failed: 0 });
    expect((await snapshot()).get(a!.code)![cols.ville]).toBe('Saint-Rémy');
  });

  it('a crash after the ChantierDef transaction and before the buffer commit: the rerun writes nothing twice, sees no conflict', async () => {
    await h.engine().run('push');
    const [a] = h.company.chantiers.filter((c) => c.etat === 'E' && c.description);
    const pa = editRemote(a!.code, {}, '2026-07-15T13:00:00Z');
    pa.address = { ...(pa.address ?? {}), city: 'Annecy' };
    h.clock.set(new Date('2026-07-15T14:00:00Z'));
    const w0 = h.chantierWrites!();
    const [crashed] = await h.engine({ hooks: { checkpoint: (n) => { if (n === 'back:after-write') throw new Error('killed'); } } }).run('chantiers-back');
    expect(crashed!.status).toBe('failed');
    expect((await snapshot()).get(a!.code)![cols.ville]).toBe('Annecy'); // committed in Batigest
    const [r] = await h.engine().run('chantiers-back');
    expect(r).toMatchObject({ status: 'succeeded', counts: { writes: 0, conflicts: 0 } });
    expect(h.chantierWrites!() - w0).toBe(1);
    const [p] = await h.engine().run('push');
    expect(p!.counts).toMatchObject({ conflicts: 0, failed: 0 });
    expect(h.state.findProjectByCode(a!.code)?.address?.city).toBe('Annecy');
  });

  it('option off: nothing is ever written to ChantierDef, by any flow, run by name or within « Tout synchroniser »', async () => {
    on = false;
    await h.reset();
    const before = await snapshot();
    const w0 = h.chantierWrites!();
    h.sims!.tds.capture.start();
    await h.engine().run('all');
    for (const c of h.company.chantiers.slice(0, 5)) editRemote(c.code, { endEstimated: '2027-01-01', address: { city: 'Ailleurs' } }, '2026-07-15T13:00:00Z');
    h.clock.set(new Date('2026-07-16T12:00:00Z'));
    const all = await h.engine().run('all');
    const [byName] = await h.engine().run('chantiers-back');
    const captured = h.sims!.tds.capture.stop();
    expect(all.map((x) => x.flow)).toEqual(['push', 'hours']);
    expect(byName!.message).toMatch(/désactivé/);
    expect(captured.length).toBeGreaterThan(5); // the capture works: the push read ChantierDef
    expect(captured.some((c) => /ChantierDef/i.test(c.sql))).toBe(true);
    expect(captured.filter((c) => WRITES_CHANTIERDEF.test(c.sql))).toEqual([]);
    expect(h.chantierWrites!() - w0).toBe(0);
    expect(await snapshot()).toEqual(before);
  });
});
