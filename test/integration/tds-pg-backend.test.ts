/**
 * TDS simulator on the PostgreSQL server backend (one schema per Batigest database, one pg
 * client per TDS connection), driven by mssql over loopback.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminBackend, type TdsSimulator, createPgBackend, startTdsSimulator } from '../support/tds/index.js';
import { loadSample } from '../support/tds/sample.js';

const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';
const dbName = `cbs_test_tds_${randomBytes(4).toString('hex')}`;
let backend: AdminBackend;
let sim: TdsSimulator;

async function admin(text: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN });
  await c.connect();
  try {
    await c.query(text);
  } finally {
    await c.end();
  }
}

beforeAll(async () => {
  await admin(`CREATE DATABASE ${dbName}`);
  backend = await createPgBackend({ connectionString: `postgres://postgres@127.0.0.1:5432/${dbName}` });
  await loadSample(backend, 'BTG_A');
  await backend.adminExec('BTG_B', 'CREATE TABLE "Salarie" ("Code" varchar(8) PRIMARY KEY, "Nom" varchar(60))');
  sim = await startTdsSimulator({ backend, logins: { sa: 'S3cret!' } });
});

afterAll(async () => {
  await sim?.close();
  await backend?.close();
  await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
});

const cfg = (database: string): sql.config => ({
  server: sim.host,
  port: sim.port,
  user: 'sa',
  password: 'S3cret!',
  database,
  options: { encrypt: false },
  pool: { max: 3, min: 0 },
});

describe('PostgreSQL server backend', () => {
  it('lists one database per schema and isolates them', async () => {
    expect((await backend.databases()).sort()).toEqual(['BTG_A', 'BTG_B']);
    const a = await new sql.ConnectionPool(cfg('BTG_A')).connect();
    const b = await new sql.ConnectionPool(cfg('btg_b')).connect();
    try {
      expect((await a.request().query('SELECT COUNT(*) AS n FROM dbo.Salarie')).recordset[0].n).toBe(3);
      expect((await b.request().query('SELECT COUNT(*) AS n FROM dbo.Salarie')).recordset[0].n).toBe(0);
      const cols = await b.request().query("SELECT TABLE_CATALOG, TABLE_NAME, COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'salarie' ORDER BY ORDINAL_POSITION");
      expect(cols.recordset).toEqual([
        { TABLE_CATALOG: 'BTG_B', TABLE_NAME: 'Salarie', COLUMN_NAME: 'Code' },
        { TABLE_CATALOG: 'BTG_B', TABLE_NAME: 'Salarie', COLUMN_NAME: 'Nom' },
      ]);
      const ch = await a.request().query('SELECT TOP 1 Code, TotalMO FROM ChantierDef ORDER BY Code');
      expect(ch.recordset[0]).toEqual({ Code: '00000001', TotalMO: 120.5 });
      expect(ch.recordset.columns.TotalMO!.precision).toBe(18);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('runs concurrent transactions on separate PostgreSQL sessions', async () => {
    const pool = await new sql.ConnectionPool(cfg('BTG_B')).connect();
    try {
      const t1 = new sql.Transaction(pool);
      const t2 = new sql.Transaction(pool);
      await t1.begin();
      await t2.begin();
      await new sql.Request(t1).query("INSERT INTO Salarie (Code, Nom) VALUES ('A1', 'Un')");
      await new sql.Request(t2).query("INSERT INTO Salarie (Code, Nom) VALUES ('A2', 'Deux')");
      const seen = await new sql.Request(t1).query('SELECT Code FROM Salarie ORDER BY Code');
      expect(seen.recordset.map((x) => x.Code)).toEqual(['A1']);
      await t1.commit();
      await t2.rollback();
      const r = await pool.request().query('SELECT Code FROM Salarie ORDER BY Code');
      expect(r.recordset.map((x) => x.Code)).toEqual(['A1']);
    } finally {
      await pool.close();
    }
  });

  it('rejects an unknown database with 4060', async () => {
    const err = await new sql.ConnectionPool({ ...cfg('BTG_Z'), connectionRetryInterval: 100 } as sql.config)
      .connect()
      .then(() => null, (e: unknown) => e as sql.ConnectionError);
    expect(err?.message).toBe('Cannot open database "BTG_Z" requested by the login. The login failed.');
  });
});
