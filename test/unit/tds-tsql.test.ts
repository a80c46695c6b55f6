/**
 * T-SQL front end of the TDS simulator: tokenizer, batch splitting and the PostgreSQL translation
 * (no server needed; the integration tests run the same constructs through mssql).
 */
import { describe, expect, it } from 'vitest';
import { type Catalog, type CatalogTable, Translator, TsqlError, describeSelect, parseBatch, tokenize } from '../support/tds/tsql.js';
import { normalise, toQmark } from '../conformance/corpus.js';

function table(name: string, cols: [string, boolean][]): CatalogTable {
  return { name, columns: new Map(cols.map(([c, notNull]) => [c.toLowerCase(), { name: c, pgType: 'text', notNull }])) };
}
const catalog: Catalog = {
  tables: new Map([
    ['salarie', table('Salarie', [['Code', true], ['Nom', false], ['codebs', false]])],
    ['suivimo', table('SuiviMO', [['CodeChantier', true], ['CodeSalarie', true], ['Date', true], ['NbH0', false]])],
  ]),
};

function tr(sql: string, vars: Record<string, string | null> = {}): { sql: string; params: (string | null)[] } {
  const [stmt] = parseBatch(sql);
  if (stmt?.kind !== 'sql') throw new Error('not a plain statement');
  const t = new Translator({
    catalog,
    database: 'BTG',
    serverVersion: '15.0.2000',
    versionString: 'Microsoft SQL Server 2019',
    serverName: 'SIM',
    spid: 52,
    rowcount: 7,
    trancount: 0,
    vars: new Map(Object.entries(vars).map(([k, v]) => [k, { pgCast: null, value: v }])),
  }).translate(stmt.toks);
  return { sql: t.sql, params: t.params };
}

describe('tokenizer', () => {
  it('reads N-strings with doubled quotes, bracketed names, variables and skips comments', () => {
    const toks = tokenize("SELECT [Nom ]]x], N'l''été' /* c /* nested */ */ -- fin\n, @p1, @@ROWCOUNT");
    expect(toks.map((t) => [t.k, t.v])).toEqual([
      ['word', 'SELECT'], ['qid', 'Nom ]x'], ['comma', ','], ['str', "l'été"], ['comma', ','], ['var', '@p1'], ['comma', ','], ['sysvar', '@@ROWCOUNT'],
    ]);
  });
  it('reports an unclosed quote as 105', () => {
    expect(() => tokenize("SELECT 'abc")).toThrow(TsqlError);
  });
});

describe('batch splitting', () => {
  it('splits statements without semicolons, keeps CASE … ELSE … END and INSERT … SELECT together', () => {
    const b = parseBatch("UPDATE t SET a = CASE WHEN b = 1 THEN 2 ELSE 3 END WHERE c = 1 IF @@ROWCOUNT = 0 INSERT INTO t (a) SELECT 1 UNION ALL SELECT 2 SELECT 3");
    expect(b.map((s) => s.kind)).toEqual(['sql', 'if', 'sql']);
    const iff = b[1]!;
    expect(iff.kind === 'if' && iff.then.kind === 'sql' && iff.then.text).toBe('INSERT INTO t (a) SELECT 1 UNION ALL SELECT 2');
  });
  it("reads the driver's initial SET options", () => {
    const b = parseBatch('set textsize 2147483647\nset quoted_identifier on\nset transaction isolation level read committed');
    expect(b.map((s) => (s.kind === 'setopt' ? s.option : s.kind))).toEqual(['TEXTSIZE', 'QUOTED_IDENTIFIER', 'TRANSACTION ISOLATION LEVEL READ']);
  });
  it('reads an unknown word at the start of a batch as a procedure call, as SQL Server does (2812 when run)', () => {
    const [s] = parseBatch('SELEC 1');
    expect(s).toMatchObject({ kind: 'exec', proc: 'SELEC' });
    expect(() => parseBatch('SELEC * FROM t')).toThrow("Incorrect syntax near '*'.");
  });
});

describe('translation to PostgreSQL', () => {
  it('maps names case-insensitively onto the catalog, drops dbo., turns TOP into LIMIT', () => {
    expect(tr('SELECT TOP (500) [code] AS [code], nom FROM [dbo].[SALARIE] WHERE Code > @last ORDER BY [Code]', { '@last': 'S1' })).toEqual({
      sql: 'SELECT "Code" AS "code", "Nom" FROM "Salarie" WHERE "Code" > $1 ORDER BY "Code" LIMIT (500)',
      params: ['S1'],
    });
  });
  it('adds NULLS FIRST to nullable ORDER BY items', () => {
    expect(tr('SELECT Code FROM Salarie ORDER BY Nom DESC, Code').sql).toBe('SELECT "Code" FROM "Salarie" ORDER BY "Nom" DESC NULLS LAST, "Code"');
  });
  it('rewrites UPDATE alias … FROM table alias JOIN … into PostgreSQL UPDATE … FROM … WHERE', () => {
    expect(tr('UPDATE s SET s.Nom = m.NbH0 FROM dbo.Salarie s INNER JOIN dbo.SuiviMO m ON m.CodeSalarie = s.Code WHERE s.Code = @c', { '@c': 'S1' }).sql).toBe(
      'UPDATE "Salarie" AS "s" SET "Nom" = "m"."NbH0" FROM "SuiviMO" "m" WHERE ("m"."CodeSalarie" = "s"."Code") AND (tds_sys.pad_eq("s"."Code", $1))',
    );
  });
  it('translates functions and string concatenation', () => {
    expect(tr("SELECT ISNULL(Nom, '') + ' ' + CONVERT(varchar(10), GETDATE(), 103), LEN(Nom), DATEADD(dd, -1, GETDATE()), DB_NAME(), @@ROWCOUNT FROM Salarie WHERE Nom LIKE N'%é%'").sql).toBe(
      "SELECT COALESCE(\"Nom\", '') + ' ' + CAST(to_char(LOCALTIMESTAMP(3), 'DD/MM/YYYY') AS varchar(10)), tds_sys.len(\"Nom\"), tds_sys.dateadd('day', - 1, LOCALTIMESTAMP(3)), 'BTG', 7 FROM \"Salarie\" WHERE \"Nom\" OPERATOR(tds_sys.~~%) '%é%'",
    );
  });
  it('reads INFORMATION_SCHEMA from the case-preserving views', () => {
    expect(tr("SELECT COLUMN_NAME FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_NAME = 'salarie'").sql).toBe(
      'SELECT "COLUMN_NAME" FROM tds_sys.columns WHERE "TABLE_NAME" = \'salarie\'',
    );
  });
  it('translates ALTER TABLE ADD with T-SQL types', () => {
    expect(tr('ALTER TABLE [dbo].[Salarie] ADD [Badge] nvarchar(64) NULL, [Actif] bit').sql).toBe(
      'ALTER TABLE "Salarie" ADD "Badge" varchar(64) NULL, ADD "Actif" boolean',
    );
  });
  it('translates CREATE TABLE column types (not as function calls)', () => {
    expect(tr('CREATE TABLE dbo.T (Code char(8) NOT NULL PRIMARY KEY, Nom nvarchar(60), H decimal(18,4), D datetime, B bit)').sql).toBe(
      'CREATE TABLE "T" ("Code" char(8) NOT NULL PRIMARY KEY, "Nom" varchar(60), "H" numeric(18,4), "D" timestamp(3), "B" boolean)',
    );
  });

  it('refuses an undeclared variable with 137', () => {
    expect(() => tr('SELECT @x')).toThrow('Must declare the scalar variable "@x".');
  });

  it('compares character columns with a value ignoring trailing spaces, but not in an UPDATE SET list', () => {
    expect(tr("UPDATE Salarie SET codebs = @u WHERE Code = @c AND Nom <> ''", { '@u': 'x', '@c': 'S1' }).sql).toBe(
      'UPDATE "Salarie" SET "codebs" = $1 WHERE tds_sys.pad_eq("Code", $2) AND NOT tds_sys.pad_eq("Nom", \'\')',
    );
  });
  it('translates NOT LIKE and LIKE … ESCAPE to the collation operators', () => {
    expect(tr("SELECT Code FROM Salarie WHERE Nom NOT LIKE 'a%' AND Nom LIKE '10!%' ESCAPE '!'").sql).toBe(
      'SELECT "Code" FROM "Salarie" WHERE "Nom" OPERATOR(tds_sys.!~~%) \'a%\' AND "Nom" OPERATOR(tds_sys.~~%) tds_sys.like_escape(\'10!%\', \'!\')',
    );
  });
});

describe('result columns (COLMETADATA names and types)', () => {
  const items = (sql: string) => {
    const [s] = parseBatch(sql);
    if (s?.kind !== 'sql') throw new Error('not a statement');
    return describeSelect(s.toks, { tables: new Map([['salarie', { name: 'Salarie', columns: new Map([['code', { name: 'Code', pgType: 'character varying', sqlType: 'nvarchar(8)' }], ['nom', { name: 'Nom', pgType: 'character varying', sqlType: 'nvarchar(60)' }]]) }]]) }, new Map([['@p', { pgCast: null, value: 'x', sqlType: 'nvarchar(4000)' }]]));
  };
  it('expands * and t.* from the catalog, names columns as written, leaves expressions unnamed, types CAST and literals', () => {
    expect(items('SELECT TOP 3 * FROM dbo.Salarie')).toEqual([{ kind: 'star', columns: [{ name: 'Code', sqlType: 'nvarchar(8)' }, { name: 'Nom', sqlType: 'nvarchar(60)' }] }]);
    expect(items("SELECT s.*, code, s.NOM n, COUNT(*), CAST(1 AS tinyint) AS t, N'é', @p FROM Salarie AS s")).toEqual([
      { kind: 'star', columns: [{ name: 'Code', sqlType: 'nvarchar(8)' }, { name: 'Nom', sqlType: 'nvarchar(60)' }] },
      { kind: 'one', hint: { name: 'code', sqlType: 'nvarchar(8)' } },
      { kind: 'one', hint: { name: 'n', sqlType: 'nvarchar(60)' } },
      { kind: 'one', hint: { name: '', sqlType: 'int' } },
      { kind: 'one', hint: { name: 't', sqlType: 'tinyint' } },
      { kind: 'one', hint: { name: '', sqlType: 'nvarchar(1)' } },
      { kind: 'one', hint: { name: '', sqlType: 'nvarchar(4000)' } },
    ]);
    expect(items('SELECT * FROM (VALUES (1)) AS v(a)')).toEqual([{ kind: 'star', columns: null }]);
  });
});

describe('conformance corpus normalisation', () => {
  it('keeps the first row of a VALUES list and renumbers the parameters in order', () => {
    const n = normalise('DELETE FROM T WHERE EXISTS (SELECT 1 FROM (VALUES (@p6, CAST(@p7 AS date)), (@p8, CAST(@p9 AS date))) AS v(a, b) WHERE v.a = T.a)', [
      { name: '@p6', sqlType: 'nvarchar(4000)', value: 'A' },
      { name: '@p7', sqlType: 'date', value: '2026-01-01' },
      { name: '@p8', sqlType: 'nvarchar(4000)', value: 'B' },
      { name: '@p9', sqlType: 'date', value: '2026-01-02' },
    ]);
    expect(n.sql).toBe('DELETE FROM T WHERE EXISTS (SELECT 1 FROM (VALUES (@p0, CAST(@p1 AS date))) AS v(a, b) WHERE v.a = T.a)');
    expect(n.params).toEqual([{ name: '@p0', sqlType: 'nvarchar(4000)', value: 'A' }, { name: '@p1', sqlType: 'date', value: '2026-01-01' }]);
    expect(toQmark('SELECT @p0 WHERE a = @p1 OR b = @p0', n.params)).toEqual({ sql: 'SELECT ? WHERE a = ? OR b = ?', params: [n.params[0], n.params[1], n.params[0]] });
  });
});
