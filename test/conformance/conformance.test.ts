/**
 * Cross-driver conformance of the SQL Server simulator: every statement of corpus.json (the gateway's, captured
 * from a full sync, and the hand-written client ones) runs through tedious (mssql), FreeTDS `tsql` and pyodbc over
 * the FreeTDS ODBC driver, each on its own copy of the same database; the three must report the same error
 * numbers, the same result sets (column names, types, rows) and the same row counts.
 * A missing driver fails the suite (one line saying which Debian package to install); it is never skipped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { smallCompany } from '../support/sync/harness.js';
import { loadBatigestCompany } from '../support/datasets/batigest.js';
import { createPgliteBackend, startTdsSimulator, type AdminBackend, type TdsSimulator } from '../support/tds/index.js';
import { type CorpusEntry, loadCorpus } from './corpus.js';
import { type DriverResult, type Target, ODBC_DRIVER, PYTHON, canonical, run, missingDrivers, odbcView, runOdbc, runTedious, runTsql, tsqlView } from './drivers.js';

/** Schema changes first (the databases start like a Batigest without codebs: the gateway adds it). */
const corpus = ((all: CorpusEntry[]) => [...all.filter((e) => /^\s*ALTER\b/i.test(e.sql)), ...all.filter((e) => !/^\s*ALTER\b/i.test(e.sql))])(loadCorpus());
const USER = 'conformance';
const DATABASE = 'BTG_CONFORMITE';
const PASSWORD = "Mot'de#passe";

/** Names with mixed case and accents for the collation entries. */
const NOMS = `CREATE TABLE "Noms" ("id" integer PRIMARY KEY, "Nom" varchar(20) NOT NULL, "Code" varchar(10) UNIQUE);
INSERT INTO "Noms" VALUES (1, 'b', 'k1'), (2, 'A', 'K2'), (3, 'a', 'k3'), (4, 'B', 'k4'), (5, 'é', 'k5'), (6, 'e', 'k6'), (7, 'f', 'k7'),
  (8, 'Éa', 'k8'), (9, 'ea', 'k9'), (10, 'Zoé', 'k10'), (11, 'zoe', 'k11'), (12, '10%', 'k12'), (13, 'a_b', 'k13');`;

const backends: AdminBackend[] = [];
const sims: TdsSimulator[] = [];
let missing: string[] = [];
const results: Record<'tedious' | 'tsql' | 'odbc', Map<string, DriverResult>> = { tedious: new Map(), tsql: new Map(), odbc: new Map() };

beforeAll(async () => {
  missing = await missingDrivers();
  if (missing.length) return;
  // one simulator and one database per driver, all alike (same name: DB_NAME() answers the same)
  const target = async (): Promise<Target> => {
    const backend = await createPgliteBackend();
    backends.push(backend);
    await loadBatigestCompany(backend, DATABASE, { ...smallCompany(), withCodebs: false });
    await backend.adminExec(DATABASE, NOMS);
    const sim = await startTdsSimulator({ backend, logins: { [USER]: PASSWORD } });
    sims.push(sim);
    return { host: sim.host, port: sim.port, user: USER, password: PASSWORD, database: DATABASE };
  };
  const [tt, ts, to] = [await target(), await target(), await target()];
  const [t, s, o] = await Promise.all([runTedious(tt, corpus), runTsql(ts, corpus), runOdbc(to, corpus)]);
  for (const r of t) results.tedious.set(r.id, r);
  for (const r of s) results.tsql.set(r.id, r);
  for (const r of o) results.odbc.set(r.id, r);
}, 600_000);

afterAll(async () => {
  for (const s of sims) await s.close();
  for (const b of backends) await b.close();
});

/** Differences between tedious (the reference: full SQL Server types) and the two FreeTDS drivers for one entry. */
function differences(e: CorpusEntry): string[] {
  const t = results.tedious.get(e.id);
  const s = results.tsql.get(e.id);
  const o = results.odbc.get(e.id);
  if (!t || !s || !o) return ['missing result'];
  const out: string[] = [];
  const err = (r: DriverResult): string => (r.error === null ? 'no error' : `error ${r.error}${r.message ? ` (${r.message.split('\n')[0]})` : ''}`);
  if (e.error !== undefined && t.error !== e.error) out.push(`tedious: expected error ${e.error}, got ${err(t)}`);
  if (s.error !== t.error) out.push(`tsql: ${err(s)} vs tedious ${err(t)}`);
  if (o.error !== t.error) out.push(`pyodbc: ${err(o)} vs tedious ${err(t)}`);
  if (t.error !== null || out.length) return out;
  for (const [name, r] of [['tsql', s], ['pyodbc', o]] as const) {
    if (r.sets.length !== t.sets.length) {
      out.push(`${name}: ${r.sets.length} result sets vs ${t.sets.length}`);
      continue;
    }
    t.sets.forEach((ts, k) => {
      const rs = r.sets[k]!;
      const names = ts.columns.map((c) => c.name);
      if (JSON.stringify(rs.columns.map((c) => c.name)) !== JSON.stringify(names)) out.push(`${name} set ${k}: names ${JSON.stringify(rs.columns.map((c) => c.name))} vs ${JSON.stringify(names)}`);
      const want = ts.columns.map((c) => (name === 'tsql' ? tsqlView(c.type) : odbcView(c.type)));
      const got = rs.columns.map((c) => c.type);
      if (JSON.stringify(got) !== JSON.stringify(want)) out.push(`${name} set ${k}: types ${JSON.stringify(got)} vs ${JSON.stringify(want)} (tedious ${JSON.stringify(ts.columns.map((c) => c.type))})`);
      if (rs.rows.length !== ts.rows.length) {
        out.push(`${name} set ${k}: ${rs.rows.length} rows vs ${ts.rows.length}`);
        return;
      }
      ts.rows.forEach((row, i) => {
        row.forEach((tv, j) => {
          const type = ts.columns[j]!.type;
          const v = canonical(rs.rows[i]![j], type, name === 'tsql' ? 'tsql' : 'odbc');
          // tsql prints dates and times to the minute: compare at that precision
          const same = name === 'tsql' && v !== null && tv !== null && /^(date|time|datetime|smalldatetime|datetime2|datetimeoffset)\b/.test(type) ? tv.startsWith(v) || v.startsWith(tv) : v === tv;
          if (!same) out.push(`${name} set ${k} row ${i} ${ts.columns[j]!.name}: ${JSON.stringify(v)} vs ${JSON.stringify(tv)}`);
        });
      });
    });
    // FreeTDS ODBC reports no count for a statement that changed no row: compare the non-zero counts
    const nz = (c: number[]): string => JSON.stringify(name === 'pyodbc' ? c.filter((x) => x !== 0) : c);
    if (nz(r.counts) !== nz(t.counts)) out.push(`${name}: row counts ${JSON.stringify(r.counts)} vs ${JSON.stringify(t.counts)}`);
  }
  return out;
}

describe('cross-driver conformance (tedious, FreeTDS tsql, pyodbc over FreeTDS ODBC)', () => {
  it('finds the three drivers', () => {
    expect(missing, `conformance drivers missing: ${missing.join('; ')}`).toEqual([]);
  });

  it('names each missing driver in one line (the suite then fails, never skips)', async () => {
    expect(await missingDrivers({ tsql: '/nonexistent/tsql', python: '/nonexistent/python3', odbcDriver: '/nonexistent/libtdsodbc.so' })).toEqual([
      'FreeTDS tsql is missing (Debian package freetds-bin)',
      'pyodbc is missing for /nonexistent/python3 (Debian package python3-pyodbc)',
      'the FreeTDS ODBC driver /nonexistent/libtdsodbc.so is missing (Debian packages tdsodbc, unixodbc)',
    ]);
  });

  it('has a corpus with every gateway statement and the client cases', () => {
    expect(corpus.filter((e) => e.source === 'gateway').length).toBeGreaterThanOrEqual(10);
    expect(corpus.filter((e) => e.source === 'client').length).toBeGreaterThanOrEqual(30);
  });

  it.each(corpus.map((e) => [e.id, e] as const))('%s: same errors, result sets and counts through the three drivers', (_id, e) => {
    if (missing.length) throw new Error(`conformance drivers missing: ${missing.join('; ')}`);
    const diff = differences(e);
    expect(diff, diff.join('\n')).toEqual([]);
    // an entry that proves an error gets it; the others run without one
    if (e.error === undefined) expect(results.tedious.get(e.id)!.error, results.tedious.get(e.id)!.message).toBeNull();
  });

  it('pyodbc without autocommit (SET IMPLICIT_TRANSACTIONS ON): uncommitted changes are rolled back at close, committed ones kept', async () => {
    if (missing.length) throw new Error(`conformance drivers missing: ${missing.join('; ')}`);
    const sim = sims[2]!;
    const script = [
      'import json, sys, pyodbc',
      `cs = "DRIVER={${ODBC_DRIVER}};SERVER=${sim.host};PORT=${sim.port};UID=${USER};PWD={${PASSWORD}};DATABASE=${DATABASE};TDS_Version=7.4;ClientCharset=UTF-8"`,
      'c = pyodbc.connect(cs, autocommit=False); k = c.cursor()',
      'k.execute("UPDATE Noms SET Nom = ? WHERE id = 9", "oublie"); tc = k.execute("SELECT @@TRANCOUNT").fetchone()[0]; c.close()',
      'c = pyodbc.connect(cs, autocommit=False); k = c.cursor()',
      'after_close = k.execute("SELECT Nom FROM Noms WHERE id = 9").fetchone()[0]',
      'k.execute("UPDATE Noms SET Nom = ? WHERE id = 9", "valide"); c.commit(); c.close()',
      'c = pyodbc.connect(cs, autocommit=True); after_commit = c.cursor().execute("SELECT Nom FROM Noms WHERE id = 9").fetchone()[0]; c.close()',
      'json.dump({"trancount": tc, "after_close": after_close, "after_commit": after_commit}, sys.stdout)',
    ].join('\n');
    const r = await run(PYTHON, ['-c', script]);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(out).toEqual({ trancount: 1, after_close: 'ea', after_commit: 'valide' });
  });

  it('agrees on every value: figures of the comparison', () => {
    if (missing.length) throw new Error(`conformance drivers missing: ${missing.join('; ')}`);
    const all = corpus.map((e) => results.tedious.get(e.id)!);
    const figures = {
      statements: corpus.length,
      gateway: corpus.filter((e) => e.source === 'gateway').length,
      errors: all.filter((r) => r.error !== null).length,
      resultSets: all.reduce((n, r) => n + r.sets.length, 0),
      columns: all.reduce((n, r) => n + r.sets.reduce((m, s) => m + s.columns.length, 0), 0),
      rows: all.reduce((n, r) => n + r.sets.reduce((m, s) => m + s.rows.length, 0), 0),
      values: all.reduce((n, r) => n + r.sets.reduce((m, s) => m + s.rows.length * s.columns.length, 0), 0),
      disagreements: corpus.reduce((n, e) => n + differences(e).length, 0),
    };
    process.stdout.write(`conformance: ${JSON.stringify(figures)}\n`);
    expect(figures.disagreements).toBe(0);
    expect(figures.values).toBeGreaterThan(500);
    expect(figures.errors).toBeGreaterThanOrEqual(10);
  });
});
