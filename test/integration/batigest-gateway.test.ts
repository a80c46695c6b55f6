/**
 * Batigest gateway against the TDS simulator (real mssql/tedious driver over a socket, PGlite behind):
 * diagnosis, column detection (v1/v2, overrides, missing columns), keyset readers, Etat filter, accents, codebs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATIGEST_COLUMNS, generateBatigestCompany, type BatigestCompanyOptions } from '../support/datasets/batigest.js';
import { normaliseBatigestCode } from '../../src/main/services/batigest/index.js';
import type { ChantierSource, DevisSource } from '../../src/shared/domain.js';
import type { SkippedSourceRow } from '../../src/main/services/batigest/index.js';
import { captureLogger } from './batigest-helpers.js';
import { SIM_PASSWORD, SIM_USER, startBatigestSim, type BatigestSimEnv } from './batigest-sim.js';
import { startTdsSimulator } from '../support/tds/index.js';
import { BatigestGateway } from '../../src/main/services/batigest/index.js';

const V1: BatigestCompanyOptions = { seed: 'v1-sarl', chantiers: 2500, devis: 600, salaries: 25, suiviMo: 50, variant: 'v1', withCodebs: true };
const V2: BatigestCompanyOptions = { seed: 'v2-sas', chantiers: 120, devis: 90, salaries: 12, suiviMo: 20, variant: 'v2', withCodebs: false };

let env: BatigestSimEnv;

beforeAll(async () => {
  env = await startBatigestSim({ btg_v1: V1, btg_v2: V2 });
});
afterAll(async () => {
  await env?.close();
});

async function all<T>(it: AsyncIterable<T[]>): Promise<{ rows: T[]; pages: number }> {
  const rows: T[] = [];
  let pages = 0;
  for await (const p of it) {
    pages++;
    rows.push(...p);
  }
  return { rows, pages };
}

describe('testConnection against the simulator', () => {
  it('succeeds with the server version and the database name, never logging the password', async () => {
    const logger = captureLogger();
    const g = env.gateway('btg_v1', {}, logger);
    const d = await g.testConnection();
    expect(d.ok).toBe(true);
    expect(d.code).toBeNull();
    expect(d.message).toContain('btg_v1');
    expect(d.details.version).toMatch(/SQL Server/);
    expect(d.details.tables).toContain('SuiviMO');
    expect(logger.lines.join('\n')).not.toContain(SIM_PASSWORD);
  });

  it('wrong password → login failed (18456), in French', async () => {
    const d = await env.gateway('btg_v1', { password: 'mauvais' }).testConnection();
    expect(d).toMatchObject({ ok: false, code: 'SQL_LOGIN_FAILED' });
    expect(d.message).toMatch(/mot de passe/);
  });

  it('unknown database → database missing (4060)', async () => {
    const d = await env.gateway('societe_inconnue').testConnection();
    expect(d).toMatchObject({ ok: false, code: 'SQL_DATABASE_MISSING' });
    expect(d.message).toContain('societe_inconnue');
  });
});

describe('TLS with a self-signed certificate', () => {
  it('refuses the certificate when trustServerCertificate is false, accepts it when true', async () => {
    const tlsSim = await startTdsSimulator({ backend: env.backend, host: '127.0.0.1', port: 0, logins: { [SIM_USER]: SIM_PASSWORD }, tls: { mode: 'on' } });
    try {
      const mk = (trustServerCertificate: boolean) =>
        new BatigestGateway({
          settings: { ...env.settings('btg_v1'), server: `${tlsSim.host},${tlsSim.port}`, encrypt: true, trustServerCertificate },
          logger: captureLogger(),
        });
      const refused = await mk(false).testConnection();
      expect(refused).toMatchObject({ ok: false, code: 'SQL_CERTIFICATE_REFUSED' });
      expect(refused.message).toMatch(/certificat/);
      const trusted = await mk(true).testConnection();
      expect(trusted).toMatchObject({ ok: true, code: null });
    } finally {
      await tlsSim.close();
    }
  });
});

describe('named instance through the SQL Server Browser (UDP 1434)', () => {
  it('connects to host\\INSTANCE and diagnoses an unknown instance', async (ctx) => {
    let named: Awaited<ReturnType<typeof startTdsSimulator>> | null = null;
    for (let attempt = 0; attempt < 20 && !named; attempt++) {
      try {
        named = await startTdsSimulator({ backend: env.backend, host: '127.0.0.1', port: 0, logins: { [SIM_USER]: SIM_PASSWORD }, instanceName: 'BATIGEST' });
      } catch (e) {
        // UDP 1434 is shared by every simulator with an instance name: wait for another test to release it.
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    if (!named) return ctx.skip();
    try {
      const ok = await env.gateway('btg_v1', { server: '127.0.0.1\\BATIGEST' }).testConnection();
      expect(ok).toMatchObject({ ok: true, code: null });
      const unknown = await env.gateway('btg_v1', { server: '127.0.0.1\\COMPTA', connectTimeoutMs: 3000 }).testConnection();
      expect(unknown).toMatchObject({ ok: false, code: 'SQL_INSTANCE_NOT_FOUND' });
      expect(unknown.message).toMatch(/COMPTA/);
    } finally {
      await named.close();
    }
  });
});

describe('failures while running', () => {
  it('a request that exceeds the request timeout is a retryable TIMEOUT', async () => {
    const g = env.gateway('btg_v1', { requestTimeoutMs: 1000 });
    await g.readSalaries(); // connected, columns detected
    env.sim.faults.failNext('timeout', /Salarie/, 1);
    await expect(g.readSalaries()).rejects.toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(await g.readSalaries()).toHaveLength(25);
  });

  it('a dropped connection is a retryable error and the next call reconnects', async () => {
    const g = env.gateway('btg_v1');
    await g.readSalaries();
    env.sim.faults.failNext('drop', /Salarie/, 1);
    const err = await g.readSalaries().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SQL_HOST_UNREACHABLE', retryable: true });
    expect(await g.readSalaries()).toHaveLength(25);
  });
});

describe('column detection', () => {
  it('detects the v1 and v2 namings', async () => {
    for (const [db, variant] of [['btg_v1', 'v1'], ['btg_v2', 'v2']] as const) {
      const tables = await env.gateway(db).detectColumns();
      const ch = tables.find((t) => t.table === 'chantier');
      expect(ch?.exists).toBe(true);
      expect(ch?.warnings).toEqual([]);
      const eff = Object.fromEntries((ch?.mapping ?? []).map((m) => [m.logical, m.effective]));
      expect(eff).toEqual(BATIGEST_COLUMNS[variant].chantier);
      const dv = tables.find((t) => t.table === 'devis');
      expect(Object.fromEntries((dv?.mapping ?? []).map((m) => [m.logical, m.effective]))).toEqual(BATIGEST_COLUMNS[variant].devis);
      const sal = tables.find((t) => t.table === 'salarie');
      const salEff = Object.fromEntries((sal?.mapping ?? []).map((m) => [m.logical, m.effective]));
      expect(salEff.nom).toBe(BATIGEST_COLUMNS[variant].salarie.nom);
      expect(salEff.codebs).toBe(variant === 'v1' ? 'codebs' : null);
      expect(sal?.columns.map((c) => c.name)).toContain(BATIGEST_COLUMNS[variant].salarie.prenom);
    }
  });

  it('applies an override from settings (validated against the real columns)', async () => {
    const g = env.gateway('btg_v2', { columnOverrides: { chantier: { description: 'ville' }, devis: {}, salarie: {} } });
    const t = (await g.detectColumns()).find((x) => x.table === 'chantier');
    const m = t?.mapping.find((x) => x.logical === 'description');
    expect(m).toMatchObject({ detected: 'Libelle', override: 'Ville', effective: 'Ville' });
    const { rows } = await all(g.readChantiers({ pageSize: 1000 }));
    expect(rows.every((r) => r.description === r.ville)).toBe(true);
  });

  it('an override naming a column that does not exist is a clear error', async () => {
    const g = env.gateway('btg_v2', { columnOverrides: { chantier: { nomClient: 'NomCli]; DROP TABLE x --' }, devis: {}, salarie: {} } });
    const t = (await g.detectColumns()).find((x) => x.table === 'chantier');
    expect(t?.warnings.join(' ')).toMatch(/n'existe pas dans la table ChantierDef/);
    await expect(all(g.readChantiers())).rejects.toMatchObject({ code: 'SQL_COLUMN_MISSING' });
  });

  it('a missing required column names the table and the candidates', async () => {
    await env.backend.adminExec('btg_nocol', `CREATE TABLE "ChantierDef" ("Code" varchar(8) PRIMARY KEY, "Ville" varchar(60))`);
    const g = env.gateway('btg_nocol');
    const err = await all(g.readChantiers()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'SQL_COLUMN_MISSING' });
    expect((err as Error).message).toMatch(/ChantierDef.*nomclient, client, nom/);
    await expect(all(g.readDevis())).rejects.toMatchObject({ code: 'SQL_TABLE_MISSING' });
    const d = await g.testConnection();
    expect(d).toMatchObject({ ok: false, code: 'SQL_TABLE_MISSING' });
  });
});

describe('readers', () => {
  it('pages through 2,500 chantiers: every row exactly once, values and accents unchanged', async () => {
    const g = env.gateway('btg_v1');
    const { rows, pages } = await all(g.readChantiers({ pageSize: 170 }));
    const expected = env.companies.btg_v1?.chantiers ?? [];
    expect(rows).toHaveLength(2500);
    expect(pages).toBe(Math.ceil(2500 / 170));
    expect(new Set(rows.map((r) => r.code)).size).toBe(2500);
    const byCode = new Map<string, ChantierSource>(rows.map((r) => [r.code, r]));
    for (const e of expected) {
      const r = byCode.get(e.code);
      expect(r, e.code).toBeDefined();
      expect(r?.nomClient).toBe(e.nomClient);
      expect(r?.adresse).toBe(e.adresse);
      expect(r?.codePostal).toBe(e.codePostal);
      expect(r?.dateDebut).toBe(e.dateDebut);
      expect(r?.heuresVendues).toBe(e.heuresVendues);
    }
    expect(rows.some((r) => r.nomClient?.includes("'") && /[éèêôœ]/.test(r.nomClient))).toBe(true);
    // same seed → same data, as loaded
    expect(generateBatigestCompany(V1).chantiers).toEqual(expected);
  });

  it('reads only devis with Etat 0, 3 or 4', async () => {
    const { rows } = await all(env.gateway('btg_v2').readDevis({ pageSize: 25 }));
    const expected = (env.companies.btg_v2?.devis ?? []).filter((d) => [0, 3, 4].includes(d.etat));
    expect(rows.map((r) => r.code).sort()).toEqual(expected.map((d) => d.code).sort());
    expect(new Set(rows.map((r: DevisSource) => r.etat))).toEqual(new Set([0, 3, 4]));
    const one = expected[0];
    expect(rows.find((r) => r.code === one?.code)).toMatchObject({ nom: one?.nom, sujet: one?.sujet, tempsMO: one?.tempsMO, date: one?.date });
  });

  it('pads numeric codes to 8 and reports rows without a code instead of returning them', async () => {
    await env.backend.adminExec(
      'btg_v2',
      `INSERT INTO "ChantierDef" ("Code", "Client", "Etat") VALUES ('', 'Bénédicte Dupré-Lefèvre', 'E'), ('4242', 'L''Hôpital', 'E')`,
    );
    const skipped: SkippedSourceRow[] = [];
    const { rows } = await all(env.gateway('btg_v2').readChantiers({ pageSize: 50, onSkip: (s) => skipped.push(s) }));
    expect(rows.find((r) => r.nomClient === "L'Hôpital" && r.code === normaliseBatigestCode('4242'))?.code).toBe('00004242');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ table: 'ChantierDef', code: null, label: 'Bénédicte Dupré-Lefèvre' });
    expect(skipped[0]?.reason).toMatch(/sans code/);
    await env.backend.adminExec('btg_v2', `DELETE FROM "ChantierDef" WHERE "Code" IN ('', '4242')`);
  });

  it('stops when cancelled', async () => {
    const ac = new AbortController();
    const g = env.gateway('btg_v1');
    let pages = 0;
    const run = async () => {
      for await (const _p of g.readChantiers({ pageSize: 100, signal: ac.signal })) {
        pages++;
        if (pages === 2) ac.abort();
      }
    };
    await expect(run()).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(pages).toBe(2);
  });

  it('reads every salarié with its codebs', async () => {
    const sal = await env.gateway('btg_v1').readSalaries();
    const expected = env.companies.btg_v1?.salaries ?? [];
    expect(sal.map((s) => [s.code, s.nom, s.prenom, s.codebs]).sort()).toEqual(expected.map((s) => [s.code, s.nom, s.prenom, s.codebs]).sort());
  });
});

describe('employee mapping (Salarie.codebs)', () => {
  it('without codebs: readers work, mapping fails with CODEBS_COLUMN_MISSING until the column is created', async () => {
    const g = env.gateway('btg_v2');
    expect(await g.hasCodebsColumn()).toBe(false);
    const status = await g.codebsStatus();
    expect(status).toMatchObject({ exists: false, table: 'Salarie', column: 'codebs' });
    const sal = await g.readSalaries();
    expect(sal).toHaveLength(12);
    expect(sal.every((s) => s.codebs === null)).toBe(true);
    const first = sal[0]?.code ?? '';
    const uuid = '0f1e2d3c-4b5a-4697-8877-665544332211';
    const err = await g.writeEmployeeMapping(first, uuid).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'CODEBS_COLUMN_MISSING' });
    expect((err as Error).message).toMatch(/codebs/);

    expect(await g.createCodebsColumn()).toMatchObject({ exists: true });
    expect(await g.hasCodebsColumn()).toBe(true);
    expect(await g.createCodebsColumn()).toMatchObject({ exists: true }); // idempotent
    await g.writeEmployeeMapping(first, uuid);
    const second = sal[1]?.code ?? '';
    // the same BatiSimply user moved to another salarié: the first one is cleared
    expect(await g.writeEmployeeMapping(second, uuid)).toEqual({ cleared: 1 });
    const after = await env.gateway('btg_v2').readSalaries();
    expect(after.find((s) => s.code === second)?.codebs).toBe(uuid);
    expect(after.find((s) => s.code === first)?.codebs).toBeNull();
    await g.writeEmployeeMapping(second, null);
    expect((await g.readSalaries()).every((s) => s.codebs === null)).toBe(true);
  });

  it('rejects an unknown salarié and an invalid UUID', async () => {
    const g = env.gateway('btg_v1');
    await expect(g.writeEmployeeMapping('INCONNU', '0f1e2d3c-4b5a-4697-8877-665544332211')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(g.writeEmployeeMapping('JP', "x' OR 1=1 --")).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });
});
