/**
 * Database collation of the SQL Server simulator, on both backends (PGlite and a PostgreSQL server): French_CI_AS by
 * default (case-insensitive, accent-sensitive) applied to =, LIKE, ORDER BY, GROUP BY, DISTINCT and unique keys,
 * trailing spaces ignored by =, and a case-sensitive French_CS_AS database chosen with createDatabase.
 */
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteBackend, startTdsSimulator, type AdminBackend, type TdsSimulator } from '../support/tds/index.js';
import { pgServerBackend } from './batigest-sim.js';

const TABLE = `CREATE TABLE "Client" ("Code" varchar(10) PRIMARY KEY, "Nom" varchar(40) NOT NULL, "Ville" char(12));
INSERT INTO "Client" VALUES ('c1', 'martin', 'Lyon'), ('C2', 'Martin', 'lyon'), ('c3', 'MARTIN', 'LYON'), ('c4', 'Émile', 'Évian'),
  ('c5', 'emile', 'evian'), ('c6', 'Zoé', 'Paris'), ('c7', 'zoe', 'paris'), ('PAD  ', 'padded  ', 'Nice');`;

describe.each([['PGlite'], ['PostgreSQL server']])('database collation (%s backend)', (kind) => {
  let backend!: AdminBackend;
  let drop: (() => Promise<void>) | null = null;
  let sim!: TdsSimulator;
  let ci!: sql.ConnectionPool;
  let cs!: sql.ConnectionPool;
  const q = async (pool: sql.ConnectionPool, text: string, params: Record<string, string> = {}): Promise<Record<string, unknown>[]> => {
    const r = pool.request();
    for (const [k, v] of Object.entries(params)) r.input(k, sql.NVarChar(100), v);
    return (await r.query(text)).recordset as Record<string, unknown>[];
  };
  const codes = (rows: Record<string, unknown>[]): string[] => rows.map((r) => String(r.Code));

  beforeAll(async () => {
    if (kind === 'PGlite') backend = await createPgliteBackend();
    else ({ backend, drop } = await pgServerBackend());
    await backend.adminExec('BTG_CI', TABLE);
    await backend.createDatabase('BTG_CS', { collation: 'French_CS_AS' });
    await backend.adminExec('BTG_CS', TABLE);
    sim = await startTdsSimulator({ backend, logins: { sa: 'Secret#1' } });
    const open = (database: string) =>
      new sql.ConnectionPool({ server: sim.host, port: sim.port, user: 'sa', password: 'Secret#1', database, options: { encrypt: false, trustServerCertificate: true } }).connect();
    ci = await open('BTG_CI');
    cs = await open('BTG_CS');
  }, 120_000);
  afterAll(async () => {
    await ci?.close();
    await cs?.close();
    await sim?.close();
    await backend?.close();
    await drop?.();
  });

  it('reports the collation as SQL Server does (SERVERPROPERTY, DATABASEPROPERTYEX, INFORMATION_SCHEMA)', async () => {
    const [r] = await q(ci, "SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Collation') AS nvarchar(128)) AS db, CAST(SERVERPROPERTY('Collation') AS nvarchar(128)) AS srv");
    expect(r).toEqual({ db: 'French_CI_AS', srv: 'French_CI_AS' });
    const [c] = await q(cs, "SELECT CAST(DATABASEPROPERTYEX(DB_NAME(), 'Collation') AS nvarchar(128)) AS db");
    expect(c!.db).toBe('French_CS_AS');
    const cols = await q(cs, "SELECT COLUMN_NAME, COLLATION_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'client' ORDER BY ORDINAL_POSITION");
    expect(cols).toEqual([
      { COLUMN_NAME: 'Code', COLLATION_NAME: 'French_CS_AS' },
      { COLUMN_NAME: 'Nom', COLLATION_NAME: 'French_CS_AS' },
      { COLUMN_NAME: 'Ville', COLLATION_NAME: 'French_CS_AS' },
    ]);
  });

  it('= and IN ignore case but not accents (CI_AS); the _CS_ database keeps case', async () => {
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom = 'MARTIN' ORDER BY Code"))).toEqual(['c1', 'C2', 'c3']);
    expect(codes(await q(ci, 'SELECT Code FROM Client WHERE Code IN (@a, @b) ORDER BY Code', { a: 'C1', b: 'c2' }))).toEqual(['c1', 'C2']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom = 'EMILE' ORDER BY Code"))).toEqual(['c5']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom = 'ÉMILE' ORDER BY Code"))).toEqual(['c4']);
    expect(codes(await q(cs, "SELECT Code FROM Client WHERE Nom = 'MARTIN' ORDER BY Code"))).toEqual(['c3']);
    expect(codes(await q(cs, 'SELECT Code FROM Client WHERE Code = @a', { a: 'C1' }))).toEqual([]);
  });

  it('= ignores trailing spaces on either side, like SQL Server (padded codes)', async () => {
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Code = 'pad'"))).toEqual(['PAD  ']);
    expect(codes(await q(ci, 'SELECT Code FROM Client WHERE Code = @c', { c: 'PAD   ' }))).toEqual(['PAD  ']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom = 'padded' AND Code <> 'c1'"))).toEqual(['PAD  ']);
    expect(codes(await q(cs, "SELECT Code FROM Client WHERE Code = 'PAD'"))).toEqual(['PAD  ']);
    expect(codes(await q(cs, "SELECT Code FROM Client WHERE Code = 'pad'"))).toEqual([]);
  });

  it('LIKE (%, _, [set], [^set], ESCAPE) follows the collation', async () => {
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom LIKE 'mar%' ORDER BY Code"))).toEqual(['c1', 'C2', 'c3']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom LIKE '[ÉZ]%' ORDER BY Code"))).toEqual(['c4', 'c6', 'c7']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom LIKE 'e%' ORDER BY Code"))).toEqual(['c5']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom NOT LIKE '%i%' ORDER BY Code"))).toEqual(['c6', 'c7', 'PAD  ']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom LIKE 'PAD%!_' ESCAPE '!' OR Nom LIKE 'padded%' ORDER BY Code"))).toEqual(['PAD  ']);
    expect(codes(await q(ci, "SELECT Code FROM Client WHERE Nom LIKE 'Zo_' AND Nom LIKE '[^a-y]%' ORDER BY Code"))).toEqual(['c6', 'c7']);
    expect(codes(await q(cs, "SELECT Code FROM Client WHERE Nom LIKE 'mar%' ORDER BY Code"))).toEqual(['c1']);
  });

  it('ORDER BY, GROUP BY, DISTINCT and MIN follow the collation', async () => {
    const order = (await q(ci, 'SELECT Nom FROM Client ORDER BY Nom, Code')).map((r) => String(r.Nom).toLowerCase());
    expect(order).toEqual(['emile', 'émile', 'martin', 'martin', 'martin', 'padded  ', 'zoe', 'zoé']);
    expect(await q(ci, 'SELECT COUNT(*) AS n FROM (SELECT Nom FROM Client GROUP BY Nom) AS g')).toEqual([{ n: 6 }]);
    expect(await q(ci, 'SELECT COUNT(DISTINCT Ville) AS n FROM Client')).toEqual([{ n: 5 }]);
    expect(await q(cs, 'SELECT COUNT(DISTINCT Nom) AS n FROM Client')).toEqual([{ n: 8 }]);
    expect(await q(cs, "SELECT Nom FROM Client WHERE Nom LIKE '[mM]%' ORDER BY Nom")).toEqual([{ Nom: 'martin' }, { Nom: 'Martin' }, { Nom: 'MARTIN' }]);
  });

  it('unique keys compare under the collation (2627 for a case variant in CI, accepted in CS)', async () => {
    await expect(q(ci, "INSERT INTO Client (Code, Nom) VALUES ('C1', 'doublon')")).rejects.toMatchObject({ number: 2627 });
    await q(cs, "INSERT INTO Client (Code, Nom) VALUES ('C1', 'autre')");
    expect(codes(await q(cs, "SELECT Code FROM Client WHERE Code LIKE 'c1' OR Code = 'C1' ORDER BY Code"))).toEqual(['c1', 'C1']);
  });

  it('tables and columns created through T-SQL get the database collation', async () => {
    await q(ci, 'CREATE TABLE Tmp (k nvarchar(10) NOT NULL PRIMARY KEY)');
    await q(ci, "INSERT INTO Tmp (k) VALUES ('abc')");
    await expect(q(ci, "INSERT INTO Tmp (k) VALUES ('ABC')")).rejects.toMatchObject({ number: 2627 });
    await q(ci, 'ALTER TABLE Tmp ADD v nvarchar(10) NULL');
    await q(ci, "UPDATE Tmp SET v = 'Été' WHERE k = 'ABC'");
    expect(await q(ci, "SELECT k FROM Tmp WHERE v = 'ÉTÉ'")).toEqual([{ k: 'abc' }]);
    expect(await q(ci, "SELECT CHARINDEX('B', k) AS i, REPLACE(k, 'B', '-') AS r FROM Tmp")).toEqual([{ i: 2, r: 'a-c' }]);
  });
});
