/**
 * TDS simulator, T-SQL side: the real mssql driver against the simulator over loopback —
 * result sets, typed parameters, translation (TOP, brackets, dbo., INFORMATION_SCHEMA, functions,
 * upserts), transactions and SQL Server errors.
 */
import sql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AdminBackend, type TdsSimulator, createPgliteBackend, startTdsSimulator } from '../support/tds/index.js';
import { loadSample } from '../support/tds/sample.js';

const DB = 'BTG_SQL';
let backend: AdminBackend;
let sim: TdsSimulator;
let pool: sql.ConnectionPool;

const config = (): sql.config => ({
  server: sim.host,
  port: sim.port,
  user: 'batigest',
  password: 'Mot de passe #1',
  database: DB,
  options: { encrypt: false, trustServerCertificate: true },
  pool: { max: 5, min: 0 },
});

async function sqlError(p: Promise<unknown>): Promise<{ number?: number; class?: number; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { number?: number; class?: number; message: string };
  }
  throw new Error('expected a SQL error');
}

beforeAll(async () => {
  backend = await createPgliteBackend();
  await loadSample(backend, DB);
  sim = await startTdsSimulator({ backend, logins: { batigest: 'Mot de passe #1' } });
  pool = await new sql.ConnectionPool(config()).connect();
});

afterAll(async () => {
  await pool?.close();
  await sim?.close();
  await backend?.close();
});

describe('result sets', () => {
  it('returns rows with SQL Server types through brackets and dbo., each column named as the select list writes it', async () => {
    const r = await pool.request().query(
      'SELECT TOP 2 [Code], nomclient, DateDebut, TotalMO, Etat FROM [dbo].[ChantierDef] ORDER BY [Code]',
    );
    // SQL Server names a result column after the identifier as written in the query (`nomclient`), not the catalog case
    expect(r.recordset).toEqual([
      { Code: '00000001', nomclient: "Société Générale d'Électricité", DateDebut: new Date('2024-01-15T00:00:00Z'), TotalMO: 120.5, Etat: 'E' },
      { Code: '00000002', nomclient: 'Mairie de Saint-Étienne', DateDebut: new Date('2024-03-01T00:00:00Z'), TotalMO: 80, Etat: 'E' },
    ]);
    const cols = r.recordset.columns;
    expect(cols.TotalMO!.type).toBe(sql.Decimal);
    expect(cols.TotalMO!.scale).toBe(2);
    expect(cols.Code!.type).toBe(sql.NVarChar);
    expect(r.rowsAffected).toEqual([2]);
  });

  it('keeps bracketed aliases case-sensitive and leaves unnamed expressions unnamed', async () => {
    const r = await pool.request().query('SELECT TOP (1) [Code] AS [code], [Code] AS [__key], COUNT(*) OVER () FROM dbo.ChantierDef ORDER BY Code');
    expect(Object.keys(r.recordset[0]!)).toEqual(['code', '__key', '']);
    const c = await pool.request().query('SELECT COUNT(*) FROM dbo.Salarie');
    expect(c.recordset[0]).toEqual({ '': 3 });
  });

  it('sends several result sets and row counts per batch', async () => {
    const r = await pool.request().batch('SELECT Code FROM Salarie WHERE Actif = 1 ORDER BY Code; SELECT 1 AS a, NULL AS b; UPDATE Salarie SET Prenom = Prenom WHERE 1 = 0');
    expect(r.recordsets).toHaveLength(2);
    expect((r.recordsets as sql.IRecordSet<Record<string, unknown>>[])[0]!.map((x) => x.Code)).toEqual(['S001', 'S002']);
    expect((r.recordsets as sql.IRecordSet<Record<string, unknown>>[])[1]![0]).toEqual({ a: 1, b: null });
    expect(r.rowsAffected).toEqual([2, 1, 0]);
  });

  it('sorts NULLs first in ascending order, last in descending order, like SQL Server', async () => {
    const asc = await pool.request().query('SELECT TOP 3 Code FROM dbo.ChantierDef ORDER BY DateFin, Code DESC');
    expect(asc.recordset.map((x) => x.Code)).toEqual(['00000001', '00000003', '00000002']);
    const desc = await pool.request().query('SELECT Code FROM dbo.ChantierDef ORDER BY DateFin DESC OFFSET 0 ROWS FETCH NEXT 3 ROWS ONLY');
    expect(desc.recordset.map((x) => x.Code)).toEqual(['00000002', '00000003', '00000001']);
    const win = await pool.request().query('SELECT Code, ROW_NUMBER() OVER (ORDER BY DateFin) AS n FROM dbo.ChantierDef ORDER BY n');
    expect(win.recordset[0]).toEqual({ Code: '00000001', n: '1' });
  });

  it('converts character columns compared with integers, as SQL Server does', async () => {
    const r = await pool.request().query('SELECT Code FROM dbo.ChantierDef WHERE Code = 2 OR Code IN (3)  ORDER BY Code');
    expect(r.recordset.map((x) => x.Code)).toEqual(['00000002', '00000003']);
    const e = await sqlError(pool.request().query('SELECT Code FROM dbo.Salarie WHERE Code = 1'));
    expect([e.number, e.message]).toEqual([245, "Conversion failed when converting the nvarchar value 'S001' to data type int."]);
  });

  it('pages with OFFSET/FETCH and TOP (@n)', async () => {
    const a = await pool.request().input('n', sql.Int, 2).query('SELECT TOP (@n) Code FROM dbo.ChantierDef ORDER BY Code DESC');
    expect(a.recordset.map((x) => x.Code)).toEqual(['00000003', '00000002']);
    const b = await pool.request().query('SELECT Code FROM dbo.ChantierDef ORDER BY Code OFFSET 1 ROWS FETCH NEXT 1 ROWS ONLY');
    expect(b.recordset.map((x) => x.Code)).toEqual(['00000002']);
  });

  it('evaluates T-SQL functions: ISNULL, LEN, +, DATEADD, DATEDIFF, CONVERT, GETDATE, @@VERSION, SERVERPROPERTY, DB_NAME', async () => {
    const r = await pool.request().query(`SELECT ISNULL(DateFin, '1900-01-01') AS fin, LEN('abc  ') AS l, Nom + ' ' + Prenom AS full_name,
      DATEADD(day, 10, '2024-01-25') AS d, DATEDIFF(month, '2024-01-31', '2024-03-01') AS m,
      CONVERT(varchar(10), CAST('2024-02-05' AS date), 103) AS fr, CONVERT(varchar(8), CAST('2024-02-05' AS date), 112) AS iso,
      CASE WHEN GETDATE() > '2020-01-01' THEN 1 ELSE 0 END AS now_ok, DB_NAME() AS db,
      SERVERPROPERTY('ProductVersion') AS v, LTRIM(RTRIM('  x ')) AS t
      FROM dbo.Salarie s JOIN dbo.ChantierDef c ON c.Code = '00000001' WHERE s.Code = 'S002'`);
    expect(r.recordset[0]).toEqual({
      fin: new Date('1900-01-01T00:00:00Z'),
      l: 3,
      full_name: "N'Diaye Aïssa",
      d: new Date('2024-02-04T00:00:00Z'),
      m: 2,
      fr: '05/02/2024',
      iso: '20240205',
      now_ok: 1,
      db: DB,
      v: '15.0.2000',
      t: 'x',
    });
    const pad = await pool.request().query(
      "SELECT RIGHT('00000000' + CAST(42 AS varchar(8)), 8) AS a, REPLICATE('0', 8 - LEN('123')) + '123' AS b, ISNUMERIC('12.5') AS c, ISNUMERIC('x') AS d, 'a' + CHAR(65) AS e",
    );
    expect(pad.recordset[0]).toEqual({ a: '00000042', b: '00000123', c: 1, d: 0, e: 'aA' });
    const v = await pool.request().query('SELECT @@VERSION AS [version], DB_NAME() AS [databaseName]');
    expect(v.recordset[0].version).toMatch(/^Microsoft SQL Server 2019/);
    expect(v.recordset[0].databaseName).toBe(DB);
  });
});

describe('typed parameters round-trip', () => {
  const cases: [string, sql.ISqlType | (() => sql.ISqlType), unknown, unknown?][] = [
    ['int', sql.Int, -123456],
    ['bigint', sql.BigInt, '9007199254740993'],
    ['smallint', sql.SmallInt, -32000],
    ['tinyint', sql.TinyInt, 250],
    ['bit', sql.Bit, true],
    ['decimal', sql.Decimal(18, 4), 1234.5678],
    ['numeric', sql.Numeric(10, 2), -99.5],
    ['float', sql.Float, 3.141592653589793],
    ['real', sql.Real, 1.5],
    ['varchar', sql.VarChar(50), "l'été à Noël"],
    ['nvarchar', sql.NVarChar(50), 'Zoé Müller — 日本'],
    ['nvarchar(max)', sql.NVarChar(sql.MAX), 'é'.repeat(6000)],
    ['date', sql.Date, new Date('2024-02-29T00:00:00Z')],
    ['datetime', sql.DateTime, new Date('2024-02-29T13:14:15.123Z')],
    ['datetime2', sql.DateTime2(7), new Date('2024-02-29T13:14:15.456Z')],
    ['uniqueidentifier', sql.UniqueIdentifier, '6F9619FF-8B86-D011-B42D-00C04FC964FF'],
    ['null nvarchar', sql.NVarChar(10), null],
    ['null int', sql.Int, null],
  ];
  for (const [name, type, value, expected] of cases) {
    it(name, async () => {
      const r = await pool.request().input('p', type, value).query('SELECT @p AS v');
      expect(r.recordset[0].v).toEqual(expected === undefined ? value : expected);
    });
  }

  it('uses parameters in WHERE, INSERT and UPDATE', async () => {
    const req = () =>
      pool
        .request()
        .input('c', sql.NVarChar(8), '00000001')
        .input('s', sql.NVarChar(8), 'S003')
        .input('d', sql.Date, new Date('2024-02-06T00:00:00Z'))
        .input('h', sql.Decimal(18, 4), 3.25)
        .input('t', sql.Int, 1);
    const ins = await req().query('INSERT INTO dbo.SuiviMO (CodeChantier, CodeSalarie, [Date], NbH0, NbH3, NbH4) VALUES (@c, @s, @d, @h, @t, 0)');
    expect(ins.rowsAffected).toEqual([1]);
    const upd = await req().query('UPDATE dbo.SuiviMO SET NbH0 = NbH0 + @h WHERE CodeChantier = @c AND CodeSalarie = @s AND [Date] = @d');
    expect(upd.rowsAffected).toEqual([1]);
    const sel = await req().query('SELECT NbH0, NbH3 FROM dbo.SuiviMO WHERE CodeChantier = @c AND CodeSalarie = @s AND [Date] = @d');
    expect(sel.recordset[0]).toEqual({ NbH0: 6.5, NbH3: 1 });
    const del = await req().query('DELETE FROM dbo.SuiviMO WHERE CodeSalarie = @s');
    expect(del.rowsAffected).toEqual([1]);
  });
});

describe('prepared statements (sp_prepare / sp_execute / sp_unprepare)', () => {
  it('prepares once and executes with different parameters', async () => {
    const ps = new sql.PreparedStatement(pool);
    ps.input('code', sql.NVarChar(8));
    await ps.prepare('SELECT Nom FROM dbo.Salarie WHERE Code = @code');
    try {
      expect((await ps.execute({ code: 'S001' })).recordset).toEqual([{ Nom: 'Lefèvre' }]);
      expect((await ps.execute({ code: 'S003' })).recordset).toEqual([{ Nom: 'Müller' }]);
    } finally {
      await ps.unprepare();
    }
  });
});

describe('upsert patterns used by the gateway', () => {
  it('UPDATE … FROM (VALUES …) then INSERT … SELECT … WHERE NOT EXISTS, one count per statement', async () => {
    const values = '(VALUES (@p0, @p1, CAST(@p2 AS date), CAST(@p3 AS decimal(18,4)), CAST(@p4 AS int), CAST(@p5 AS int)), (@p6, @p7, CAST(@p8 AS date), CAST(@p9 AS decimal(18,4)), CAST(@p10 AS int), CAST(@p11 AS int))) AS v([CodeChantier], [CodeSalarie], [Date], [NbH0], [NbH3], [NbH4])';
    const text =
      `UPDATE [dbo].[SuiviMO] SET [NbH0] = v.[NbH0], [NbH3] = v.[NbH3], [NbH4] = v.[NbH4] FROM ${values} WHERE v.[CodeChantier] = [SuiviMO].[CodeChantier] AND v.[CodeSalarie] = [SuiviMO].[CodeSalarie] AND v.[Date] = [SuiviMO].[Date];\n` +
      `INSERT INTO [dbo].[SuiviMO] ([CodeChantier], [CodeSalarie], [Date], [NbH0], [NbH3], [NbH4]) SELECT v.[CodeChantier], v.[CodeSalarie], v.[Date], v.[NbH0], v.[NbH3], v.[NbH4] FROM ${values} WHERE NOT EXISTS (SELECT 1 FROM [dbo].[SuiviMO] AS s WHERE s.[CodeChantier] = v.[CodeChantier] AND s.[CodeSalarie] = v.[CodeSalarie] AND s.[Date] = v.[Date])`;
    const run = (h: number) =>
      pool
        .request()
        .input('p0', sql.NVarChar, '00000002').input('p1', sql.NVarChar, 'S001').input('p2', sql.Date, new Date('2024-03-04T00:00:00Z'))
        .input('p3', sql.Decimal(18, 4), h).input('p4', sql.Int, 0).input('p5', sql.Int, 1)
        .input('p6', sql.NVarChar, '00000001').input('p7', sql.NVarChar, 'S001').input('p8', sql.Date, new Date('2024-02-05T00:00:00Z'))
        .input('p9', sql.Decimal(18, 4), h).input('p10', sql.Int, 1).input('p11', sql.Int, 0)
        .query(text);
    expect((await run(4)).rowsAffected).toEqual([1, 1]);
    expect((await run(5.25)).rowsAffected).toEqual([2, 0]);
    const r = await pool.request().query(
      "SELECT s.[CodeChantier], s.[NbH0], s.[NbH4] FROM [dbo].[SuiviMO] AS s INNER JOIN (VALUES ('00000002', 'S001', CAST('2024-03-04' AS date)), ('00000001', 'S001', CAST('2024-02-05' AS date))) AS v([CodeChantier], [CodeSalarie], [Date]) ON s.[CodeChantier] = v.[CodeChantier] AND s.[CodeSalarie] = v.[CodeSalarie] AND s.[Date] = v.[Date] ORDER BY s.[CodeChantier]",
    );
    expect(r.recordset).toEqual([
      { CodeChantier: '00000001', NbH0: 5.25, NbH4: 0 },
      { CodeChantier: '00000002', NbH0: 5.25, NbH4: 1 },
    ]);
  });

  it('UPDATE …; IF @@ROWCOUNT = 0 INSERT … in one batch', async () => {
    const up = (nom: string) =>
      pool.request().input('code', sql.NVarChar, 'S009').input('nom', sql.NVarChar, nom)
        .query('UPDATE dbo.Salarie SET Nom = @nom WHERE Code = @code; IF @@ROWCOUNT = 0 INSERT INTO dbo.Salarie (Code, Nom) VALUES (@code, @nom)');
    expect((await up('Petit')).rowsAffected).toEqual([0, 1]);
    expect((await up('Grand')).rowsAffected).toEqual([1]);
    const r = await pool.request().query("SELECT Nom FROM Salarie WHERE Code = 'S009'");
    expect(r.recordset[0].Nom).toBe('Grand');
    await pool.request().query("DELETE Salarie WHERE Code = 'S009'");
  });

  it('UPDATE with a join and a table alias', async () => {
    const r = await pool.request().query(
      "UPDATE s SET s.Prenom = c.Etat FROM dbo.Salarie s INNER JOIN dbo.ChantierDef c ON c.Code = '00000003' WHERE s.Code = 'S003'",
    );
    expect(r.rowsAffected).toEqual([1]);
    const v = await pool.request().query("SELECT Prenom FROM Salarie WHERE Code = 'S003'");
    expect(v.recordset[0].Prenom).toBe('T');
  });
});

describe('INFORMATION_SCHEMA and DDL', () => {
  it('reports original-case names, dbo schema and SQL Server type names, compared case-insensitively', async () => {
    const r = await pool
      .request()
      .input('t0', sql.NVarChar, 'salarie')
      .input('t1', sql.NVarChar, 'CHANTIERDEF')
      .query("SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = 'dbo' AND TABLE_NAME IN (@t0, @t1) ORDER BY TABLE_NAME, ORDINAL_POSITION");
    const salarie = r.recordset.filter((x) => x.TABLE_NAME === 'Salarie');
    expect(salarie.map((x) => x.COLUMN_NAME)).toEqual(['Code', 'Nom', 'Prenom', 'Actif']);
    expect(salarie[0]).toEqual({ TABLE_NAME: 'Salarie', COLUMN_NAME: 'Code', DATA_TYPE: 'nvarchar', IS_NULLABLE: 'NO' });
    expect(r.recordset.find((x) => x.COLUMN_NAME === 'CPChantier')?.TABLE_NAME).toBe('ChantierDef');
    const t = await pool.request().query("SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME");
    expect(t.recordset.map((x) => x.TABLE_NAME)).toEqual(['ChantierDef', 'Salarie', 'SuiviMO']);
  });

  it('ALTER TABLE ADD through T-SQL is visible to the next statement on another connection', async () => {
    await backend.adminExec(DB, 'CREATE TABLE "Extra" ("Code" varchar(8) PRIMARY KEY)');
    const other = await new sql.ConnectionPool({ ...config(), pool: { max: 1, min: 0 } }).connect();
    try {
      await pool.request().batch("IF COL_LENGTH('dbo.Extra', 'codebs') IS NULL ALTER TABLE [dbo].[Extra] ADD [codebs] nvarchar(64) NULL");
      const r = await other.request().query("SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'Extra' ORDER BY ORDINAL_POSITION");
      expect(r.recordset.map((x) => x.COLUMN_NAME)).toEqual(['Code', 'codebs']);
      await other.request().input('u', sql.NVarChar, 'a1b2').query("INSERT INTO dbo.Extra (Code, CODEBS) VALUES ('X1', @u)");
      const v = await pool.request().query('SELECT [codebs] FROM [dbo].[Extra]');
      expect(v.recordset[0]).toEqual({ codebs: 'a1b2' });
      // idempotent: second run does nothing
      await pool.request().batch("IF COL_LENGTH('dbo.Extra', 'codebs') IS NULL ALTER TABLE [dbo].[Extra] ADD [codebs] nvarchar(64) NULL");
    } finally {
      await other.close();
    }
  });
});

describe('SQL Server errors', () => {
  it('208 invalid object name, 207 invalid column name', async () => {
    const a = await sqlError(pool.request().query('SELECT * FROM dbo.Inconnue'));
    expect([a.number, a.class, a.message]).toEqual([208, 16, "Invalid object name 'Inconnue'."]);
    const b = await sqlError(pool.request().query('SELECT CodeInconnu FROM dbo.Salarie'));
    expect([b.number, b.class, b.message]).toEqual([207, 16, "Invalid column name 'CodeInconnu'."]);
  });

  it('2627 duplicate key', async () => {
    const e = await sqlError(pool.request().query("INSERT INTO dbo.Salarie (Code, Nom) VALUES ('S001', 'Doublon')"));
    expect(e.number).toBe(2627);
    expect(e.class).toBe(14);
    expect(e.message).toMatch(/^Violation of PRIMARY KEY constraint '.*'\. Cannot insert duplicate key in object 'dbo\.Salarie'\. The duplicate key value is \(S001\)\.$/);
  });

  it('102 incorrect syntax, including what node-sql-parser lets through', async () => {
    for (const text of ['SELEC * FROM Salarie', 'SELECT FROM Salarie', 'SELECT Code FROM Salarie WHERE', 'SELECT Code,, Nom FROM Salarie', 'SELECT 1 +']) {
      const e = await sqlError(pool.request().query(text));
      expect(e.number, text).toBe(102);
      expect(e.message, text).toMatch(/^Incorrect syntax near '.*'\./);
    }
  });

  it('MERGE is rejected (simulator limitation)', async () => {
    const e = await sqlError(
      pool.request().query("MERGE dbo.Salarie AS t USING (SELECT 'S001' AS Code) AS s ON t.Code = s.Code WHEN MATCHED THEN UPDATE SET Nom = 'x';"),
    );
    expect(e.number).toBe(102);
    expect(e.message).toMatch(/MERGE/);
    const r = await pool.request().query("SELECT Nom FROM Salarie WHERE Code = 'S001'");
    expect(r.recordset[0].Nom).toBe('Lefèvre');
  });

  it('8152 string truncation, 105 unclosed quote, 137 undeclared variable', async () => {
    expect((await sqlError(pool.request().query("INSERT INTO Salarie (Code, Nom) VALUES ('TROPLONG12', 'x')"))).number).toBe(8152);
    expect((await sqlError(pool.request().query("SELECT 'abc"))).number).toBe(105);
    expect((await sqlError(pool.request().batch('SELECT @nope'))).number).toBe(137);
  });

  it('1205 deadlock victim (injected) rolls the transaction back', async () => {
    const tx = new sql.Transaction(pool);
    await tx.begin();
    await new sql.Request(tx).query("INSERT INTO Salarie (Code, Nom) VALUES ('S100', 'Avant')");
    sim.faults.failNext('deadlock', /INSERT/i, 1);
    const e = await sqlError(
      new sql.Request(tx).input('c', sql.NVarChar, 'S101').query("UPDATE Salarie SET Nom = 'y' WHERE Code = @c; INSERT INTO Salarie (Code, Nom) VALUES (@c, 'Victime')"),
    );
    expect([e.number, e.class]).toEqual([1205, 13]);
    expect(e.message).toMatch(/deadlocked on lock resources with another process and has been chosen as the deadlock victim/);
    // the server announced the rollback (ENVCHANGE): mssql marks the transaction aborted
    const rb = await tx.rollback().then(() => null, (x: unknown) => x as sql.TransactionError);
    expect(rb?.code).toBe('EABORT');
    const r = await pool.request().query("SELECT COUNT(*) AS n FROM Salarie WHERE Code IN ('S100', 'S101')");
    expect(r.recordset[0].n).toBe(0);
    // the pool still works afterwards
    expect((await pool.request().query('SELECT 1 AS ok')).recordset[0].ok).toBe(1);
  });
});

describe('transactions', () => {
  it('mssql Transaction commit and rollback (Transaction Manager requests)', async () => {
    const tx = new sql.Transaction(pool);
    await tx.begin();
    await new sql.Request(tx).query("INSERT INTO Salarie (Code, Nom) VALUES ('T001', 'Commit')");
    await tx.commit();
    const tx2 = new sql.Transaction(pool);
    await tx2.begin();
    await new sql.Request(tx2).query("INSERT INTO Salarie (Code, Nom) VALUES ('T002', 'Rollback')");
    const inside = await new sql.Request(tx2).query("SELECT COUNT(*) AS n FROM Salarie WHERE Code = 'T002'");
    expect(inside.recordset[0].n).toBe(1);
    await tx2.rollback();
    const r = await pool.request().query("SELECT Code FROM Salarie WHERE Code LIKE 't00%' ORDER BY Code");
    expect(r.recordset.map((x) => x.Code)).toEqual(['T001']);
  });

  it('a duplicate key inside a transaction fails the statement but keeps the transaction', async () => {
    const tx = new sql.Transaction(pool);
    await tx.begin();
    await new sql.Request(tx).query("INSERT INTO Salarie (Code, Nom) VALUES ('T010', 'Un')");
    expect((await sqlError(new sql.Request(tx).query("INSERT INTO Salarie (Code, Nom) VALUES ('T010', 'Deux')"))).number).toBe(2627);
    await new sql.Request(tx).query("INSERT INTO Salarie (Code, Nom) VALUES ('T011', 'Trois')");
    await tx.commit();
    const r = await pool.request().query("SELECT Code FROM Salarie WHERE Code IN ('T010', 'T011') ORDER BY Code");
    expect(r.recordset.map((x) => x.Code)).toEqual(['T010', 'T011']);
  });

  it('BEGIN TRAN / COMMIT / ROLLBACK in batch text, @@TRANCOUNT, 3902 without a transaction', async () => {
    const r = await pool.request().batch(
      "BEGIN TRAN; INSERT INTO Salarie (Code, Nom) VALUES ('T020', 'x'); SELECT @@TRANCOUNT AS c; ROLLBACK TRAN; SELECT COUNT(*) AS n FROM Salarie WHERE Code = 'T020'",
    );
    expect((r.recordsets as sql.IRecordSet<Record<string, unknown>>[])[0]![0]).toEqual({ c: 1 });
    expect((r.recordsets as sql.IRecordSet<Record<string, unknown>>[])[1]![0]).toEqual({ n: 0 });
    await pool.request().batch("BEGIN TRANSACTION; INSERT INTO Salarie (Code, Nom) VALUES ('T021', 'y'); COMMIT TRANSACTION");
    const c = await pool.request().query("SELECT COUNT(*) AS n FROM Salarie WHERE Code = 'T021'");
    expect(c.recordset[0].n).toBe(1);
    expect((await sqlError(pool.request().batch('COMMIT'))).number).toBe(3902);
  });

  it('SET NOCOUNT ON suppresses row counts; SET options are accepted', async () => {
    const r = await pool.request().batch("SET NOCOUNT ON; SET XACT_ABORT ON; SET ANSI_WARNINGS ON; UPDATE Salarie SET Nom = Nom WHERE Code = 'S001'; SET NOCOUNT OFF");
    expect(r.rowsAffected).toEqual([]);
    expect((await sqlError(pool.request().batch('SET NIMPORTEQUOI ON'))).number).toBe(102);
  });
  it('SET FMTONLY ON sends the columns without rows and runs nothing; SET ROWCOUNT n limits the rows', async () => {
    const r = await pool.request().batch("SET FMTONLY ON; SELECT Code, Nom FROM Salarie; UPDATE Salarie SET Nom = 'jamais' WHERE Code = 'S001'; SET FMTONLY OFF; SELECT Nom FROM Salarie WHERE Code = 'S001'");
    const sets = r.recordsets as sql.IRecordSet<Record<string, unknown>>[];
    expect(sets.map((x) => x.length)).toEqual([0, 1]);
    expect(Object.keys(sets[0]!.columns)).toEqual(['Code', 'Nom']);
    expect(sets[1]).toEqual([{ Nom: 'Lefèvre' }]);
    const l = (await pool.request().batch('SET ROWCOUNT 2; SELECT Code FROM Salarie ORDER BY Code; SET ROWCOUNT 0; SELECT COUNT(*) AS n FROM Salarie')).recordsets as sql.IRecordSet<Record<string, unknown>>[];
    expect(l[0]).toEqual([{ Code: 'S001' }, { Code: 'S002' }]);
    expect(Number(l[1]![0]!.n)).toBeGreaterThan(2);
  });
});

describe('batches with control flow and variables', () => {
  it('DECLARE / SET / IF [NOT] EXISTS … BEGIN … END ELSE', async () => {
    const text = `DECLARE @code nvarchar(8) = 'S050', @n int = 2;
      SET @n = @n + 1;
      IF NOT EXISTS (SELECT 1 FROM dbo.Salarie WHERE Code = @code)
      BEGIN
        INSERT INTO dbo.Salarie (Code, Nom) VALUES (@code, 'Nouveau');
        SELECT @n AS n, 'inserted' AS what
      END
      ELSE
        SELECT @n AS n, CASE WHEN @n > 2 THEN 'exists' ELSE 'never' END AS what`;
    const a = await pool.request().batch(text);
    expect(a.recordset[0]).toEqual({ n: 3, what: 'inserted' });
    const b = await pool.request().batch(text);
    expect(b.recordset[0]).toEqual({ n: 3, what: 'exists' });
    await pool.request().batch("DELETE FROM dbo.Salarie WHERE Code = 'S050'");
  });

  it('common table expressions and PRINT (INFO message)', async () => {
    const req = pool.request();
    const infos: string[] = [];
    req.on('info', (i: { message: string }) => infos.push(i.message));
    const r = await req.batch(
      "PRINT 'début'; WITH actifs AS (SELECT Code, Nom FROM dbo.Salarie WHERE Actif = 1) SELECT COUNT(*) AS n FROM actifs",
    );
    expect(r.recordset[0]).toEqual({ n: 2 });
    expect(infos).toContain('début');
  });

  it('dates: DATEADD on columns and GETDATE in WHERE', async () => {
    const r = await pool.request().query(
      "SELECT Code, DATEADD(month, 1, DateDebut) AS plus1 FROM ChantierDef WHERE DateDebut >= DATEADD(year, -50, GETDATE()) AND DateFin IS NOT NULL ORDER BY Code",
    );
    expect(r.recordset).toEqual([
      { Code: '00000002', plus1: new Date('2024-04-01T00:00:00Z') },
      { Code: '00000003', plus1: new Date('2023-12-20T00:00:00Z') },
    ]);
  });

  it('unsupported constructs answer SQL Server errors', async () => {
    expect((await sqlError(pool.request().batch('SELECT * FROM #tmp'))).number).toBe(208);
    expect((await sqlError(pool.request().batch('EXEC sp_who'))).number).toBe(2812);
    expect((await sqlError(pool.request().batch('DECLARE @x int; SELECT @x = 1'))).number).toBe(102);
    expect((await sqlError(pool.request().batch("INSERT INTO Salarie (Code, Nom) OUTPUT inserted.Code VALUES ('Z', 'z')"))).number).toBe(102);
    // the connection is still fine
    expect((await pool.request().query('SELECT 2 AS two')).recordset[0].two).toBe(2);
  });
});

describe('robustness', () => {
  it('answers garbage with SQL Server errors and keeps the connection usable', async () => {
    const inputs = [
      'SELECT (', ')', 'BEGIN', 'END', 'IF', 'ELSE SELECT 1', 'IF 1 = 1', 'SELECT * FROM', 'SELECT [abc', '/* unclosed',
      'SET @x = 1', 'COMMIT TRAN nope', 'ROLLBACK', 'SELECT 1 FROM Salarie WHERE Code = ', "SELECT 'a' + 1",
      'SELECT Code FROM Salarie GROUP BY', 'UPDATE Salarie SET', 'INSERT INTO Salarie VALUES', 'DELETE', 'DROP TABLE Nope',
      'SELECT CAST(1 AS nimporte)', "SELECT DATEADD(fortnight, 1, '2024-01-01')", 'SELECT CONVERT(varchar(10), 1, 999)',
      'SELECT 1/0', "SELECT CAST('abc' AS int)", 'SELECT * FROM Salarie s JOIN ChantierDef c', 'TRUNCATE', 'WITH',
      'SELECT TOP 10 PERCENT * FROM Salarie', 'UPDATE TOP (1) Salarie SET Nom = Nom', 'SAVE TRAN x', 'GO',
      'SELECT NomInconnu() FROM Salarie', 'BEGIN TRY SELECT 1 END TRY BEGIN CATCH END CATCH', ';;;',
    ];
    for (const text of inputs) {
      const e = await sqlError(pool.request().batch(text)).catch(() => null);
      if (process.env.TDS_FUZZ_LOG) console.log(JSON.stringify(text), e ? `${e.number} ${e.message}` : "OK");
      if (e) {
        expect(typeof e.number, `${text}: ${e.message}`).toBe('number');
        expect(e.message, text).not.toMatch(/internal error/);
      }
    }
    expect((await pool.request().query("SELECT COUNT(*) AS n FROM Salarie WHERE Code = 'S001'")).recordset[0].n).toBe(1);
  });
});
