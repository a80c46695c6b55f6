/**
 * The three drivers of the conformance suite and what each reports, reduced to comparable values:
 *  - tedious through mssql (the connector's own driver): sp_executesql RPC with typed parameters;
 *  - FreeTDS `tsql` (DB-Library/libtds CLI): a text batch — parameters sent as `EXEC sp_executesql N'…', N'@p0 …', @p0 = …`;
 *    column types read from its protocol dump (TDSDUMP), row counts too (tsql prints none for DML);
 *  - pyodbc over the FreeTDS ODBC driver (Debian python3-pyodbc + tdsodbc): `?` placeholders, which FreeTDS
 *    sends as RPC sp_prepexec / sp_executesql with NTEXT statement text.
 *
 * Each driver sees the types with its own precision: tedious the full SQL Server type, tsql the TDS type and
 * size, pyodbc the ODBC description (a Python class, size, precision, scale). `tsqlView` / `odbcView` derive
 * from tedious' type what the other two must report; values are canonicalised per type family.
 */
import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sql from 'mssql';
import { z } from 'zod';
import { type CorpusEntry, type CorpusParam, toQmark } from './corpus.js';

export const ODBC_DRIVER = '/usr/lib/x86_64-linux-gnu/odbc/libtdsodbc.so';
export const PYTHON = '/usr/bin/python3';
const ODBC_CLIENT = fileURLToPath(new URL('./odbc_client.py', import.meta.url));

export interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
}

export interface DriverSet {
  columns: { name: string; type: string }[];
  rows: (string | null)[][];
}

export interface DriverResult {
  id: string;
  error: number | null;
  message?: string;
  sets: DriverSet[];
  /** row counts of the statements that returned no rows (DML), in order */
  counts: number[];
}

export function run(cmd: string, args: string[], opts: { input?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** One line per missing driver (empty when all three are installed). */
export async function missingDrivers(where: { tsql?: string; python?: string; odbcDriver?: string } = {}): Promise<string[]> {
  const tsql = where.tsql ?? 'tsql';
  const python = where.python ?? PYTHON;
  const driver = where.odbcDriver ?? ODBC_DRIVER;
  const missing: string[] = [];
  const ok = (cmd: string, args: string[]): Promise<boolean> =>
    new Promise((resolve) => execFile(cmd, args, { timeout: 20_000 }, (e) => resolve(!e)));
  if (!(await ok(tsql, ['-C']))) missing.push('FreeTDS tsql is missing (Debian package freetds-bin)');
  if (!existsSync(python) || !(await ok(python, ['-c', 'import pyodbc']))) missing.push(`pyodbc is missing for ${python} (Debian package python3-pyodbc)`);
  if (!existsSync(driver)) missing.push(`the FreeTDS ODBC driver ${driver} is missing (Debian packages tdsodbc, unixodbc)`);
  return missing;
}

// ------------------------------------------------------------------------------------------------ types

/** tedious' column type as a SQL Server type name. */
function tediousType(c: { type: unknown; length?: number; precision?: number; scale?: number }): string {
  const decl = String((c.type as { declaration?: string }).declaration ?? '');
  const len = c.length ?? 0;
  switch (decl) {
    case 'nvarchar':
    case 'nchar':
      return `${decl}(${len > 8000 || len === 0xffff ? 'max' : len / 2})`;
    case 'varchar':
    case 'char':
    case 'varbinary':
    case 'binary':
      return `${decl}(${len > 8000 || len === 0xffff ? 'max' : len})`;
    case 'decimal':
    case 'numeric':
      return `decimal(${c.precision},${c.scale})`;
    case 'datetime2':
    case 'time':
    case 'datetimeoffset':
      return `${decl}(${c.scale})`;
    default:
      return decl;
  }
}

const TDS_TYPES: Record<number, (size: number) => string> = {
  231: (s) => `nvarchar(${s > 8000 || s < 0 ? 'max' : s / 2})`,
  239: (s) => `nchar(${s / 2})`,
  167: (s) => `varchar(${s > 8000 || s < 0 ? 'max' : s})`,
  175: (s) => `char(${s})`,
  99: () => 'ntext',
  35: () => 'text',
  34: () => 'image',
  38: (s) => ({ 1: 'tinyint', 2: 'smallint', 4: 'int', 8: 'bigint' })[s] ?? `int?${s}`,
  48: () => 'tinyint',
  52: () => 'smallint',
  56: () => 'int',
  127: () => 'bigint',
  104: () => 'bit',
  50: () => 'bit',
  109: (s) => (s === 4 ? 'real' : 'float'),
  62: () => 'float',
  59: () => 'real',
  110: (s) => (s === 4 ? 'smallmoney' : 'money'),
  60: () => 'money',
  122: () => 'smallmoney',
  111: (s) => (s === 4 ? 'smalldatetime' : 'datetime'),
  61: () => 'datetime',
  58: () => 'smalldatetime',
  106: () => 'decimal',
  108: () => 'decimal',
  40: () => 'date',
  41: () => 'time',
  42: () => 'datetime2',
  43: () => 'datetimeoffset',
  36: () => 'uniqueidentifier',
  165: (s) => `varbinary(${s > 8000 || s < 0 ? 'max' : s})`,
  173: (s) => `binary(${s})`,
  98: () => 'sql_variant',
};

/** What tsql's dump must show for a column tedious reports as `t` (no precision/scale, no fractional scale). */
export function tsqlView(t: string): string {
  return t.replace(/^(decimal|numeric)\(.*\)$/, 'decimal').replace(/^(datetime2|time|datetimeoffset)\(\d+\)$/, '$1');
}

/** What pyodbc's description must show for a column tedious reports as `t`. */
export function odbcView(t: string): string {
  const m = /^(\w+)(?:\((.*)\))?$/.exec(t);
  const name = m?.[1] ?? t;
  const arg = m?.[2];
  switch (name) {
    case 'nvarchar':
    case 'varchar':
    case 'nchar':
    case 'char':
      return `string(${arg})`;
    case 'ntext':
      return 'string(1073741823)';
    case 'text':
      return 'string(2147483647)';
    case 'uniqueidentifier':
      return 'string(36)';
    case 'money':
      return 'decimal(19,4)';
    case 'smallmoney':
      return 'decimal(10,4)';
    case 'datetimeoffset':
      // FreeTDS ODBC hands datetimeoffset to pyodbc as text ('2024-01-02 10:11:12.0000000 +01:00')
      return 'string(34)';
    case 'varbinary':
    case 'binary':
      return `binary(${arg})`;
    case 'image':
      return 'binary(2147483647)';
    default:
      return t;
  }
}

function odbcType(c: { pyType: string; size: number; precision: number; scale: number }): string {
  switch (c.pyType) {
    case 'str':
      return `string(${c.size === 0 ? 'max' : c.size})`;
    case 'int':
      return ({ 3: 'tinyint', 5: 'smallint', 10: 'int', 19: 'bigint' } as Record<number, string>)[c.size] ?? `int?${c.size}`;
    case 'bool':
      return 'bit';
    case 'float':
      return c.size === 24 ? 'real' : 'float';
    case 'Decimal':
      return `decimal(${c.precision},${c.scale})`;
    case 'datetime':
      return c.size === 23 && c.scale === 3 ? 'datetime' : c.size === 16 && c.scale === 0 ? 'smalldatetime' : `datetime2(${c.scale})`;
    case 'date':
      return 'date';
    case 'time':
      return `time(${c.scale})`;
    case 'bytearray':
    case 'bytes':
      return `binary(${c.size === 0 ? 'max' : c.size})`;
    default:
      return `${c.pyType}(${c.size})`;
  }
}

// ------------------------------------------------------------------------------------------------ values

const MONTHS: Record<string, string> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };

/** tsql's 'Jan  2 2024 10:00AM' → '2024-01-02 10:00'. */
function tsqlDate(s: string): string {
  const m = /^(\w{3}) +(\d{1,2}) (\d{4}) +(\d{1,2}):(\d{2})(AM|PM)$/.exec(s.trim());
  if (!m) return s;
  let h = Number(m[4]) % 12;
  if (m[6] === 'PM') h += 12;
  return `${m[3]}-${MONTHS[m[1]!]}-${m[2]!.padStart(2, '0')} ${String(h).padStart(2, '0')}:${m[5]}`;
}

/** '2024-01-02 10:00:00.5+01:00' → '2024-01-02 10:00:00.500' (milliseconds, the precision tedious reads). */
function temporal(s: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}(?::\d{2})?)(?:\.(\d+))?/.exec(s.trim());
  if (!m) return s;
  const hms = m[2]!.length === 5 ? `${m[2]}:00` : m[2]!;
  return `${m[1]} ${hms}.${(m[3] ?? '').padEnd(3, '0').slice(0, 3)}`;
}

function trimNumber(s: string): string {
  let t = s.trim();
  if (/^[-+]?\d*\.\d+$/.test(t) || /^[-+]?\d+\.$/.test(t)) t = t.replace(/0+$/, '').replace(/\.$/, '');
  if (t === '-0' || t === '') t = '0';
  return t.replace(/^\+/, '').replace(/^(-?)0+(\d)/, '$1$2');
}

/**
 * A value as text comparable across drivers, given the column's SQL Server type (tedious' view) and which driver
 * produced it. Date and time values from tsql are printed to the minute: they compare at that precision.
 */
export function canonical(value: unknown, type: string, driver: 'tedious' | 'tsql' | 'odbc'): string | null {
  if (value === null || value === undefined) return null;
  if (driver === 'tsql' && value === 'NULL') return null;
  const name = type.replace(/\(.*$/, '');
  switch (name) {
    case 'bit':
      return value === true || value === '1' || value === 1 ? '1' : '0';
    case 'tinyint':
    case 'smallint':
    case 'int':
    case 'bigint':
    case 'decimal':
    case 'numeric':
    case 'money':
    case 'smallmoney':
      return trimNumber(typeof value === 'number' ? String(value) : String(value));
    case 'real':
      return String(Number(Number(value).toPrecision(6)));
    case 'float':
      return String(Number(Number(value).toPrecision(15)));
    case 'date':
      if (value instanceof Date) return value.toISOString().slice(0, 10);
      return (driver === 'tsql' ? tsqlDate(String(value)) : String(value)).slice(0, 10);
    case 'time':
      if (value instanceof Date) return value.toISOString().slice(11, 23);
      return driver === 'tsql' ? tsqlDate(String(value)).slice(11, 16) : temporal(`1970-01-01 ${String(value)}`).slice(11);
    case 'datetime':
    case 'smalldatetime':
    case 'datetime2':
    case 'datetimeoffset':
      if (value instanceof Date) return value.toISOString().replace('T', ' ').slice(0, 23);
      return driver === 'tsql' ? tsqlDate(String(value)) : temporal(String(value));
    case 'uniqueidentifier':
      return String(value).toLowerCase();
    case 'varbinary':
    case 'binary':
    case 'image':
      if (Buffer.isBuffer(value)) return value.toString('hex');
      return String(value).replace(/^0x/i, '').toLowerCase();
    default:
      return String(value);
  }
}

// ------------------------------------------------------------------------------------------------ tedious

function mssqlType(sqlType: string): sql.ISqlType | (() => sql.ISqlType) {
  const m = /^(\w+)(?:\((.*)\))?$/.exec(sqlType.toLowerCase());
  const name = m?.[1] ?? '';
  const args = (m?.[2] ?? '').split(',').map((x) => x.trim());
  const len = (d: number): number => (args[0] === 'max' ? sql.MAX : Number(args[0] || d));
  switch (name) {
    case 'nvarchar':
      return sql.NVarChar(len(4000));
    case 'varchar':
      return sql.VarChar(len(8000));
    case 'nchar':
      return sql.NChar(len(1));
    case 'char':
      return sql.Char(len(1));
    case 'ntext':
      return sql.NText();
    case 'text':
      return sql.Text();
    case 'int':
      return sql.Int();
    case 'bigint':
      return sql.BigInt();
    case 'smallint':
      return sql.SmallInt();
    case 'tinyint':
      return sql.TinyInt();
    case 'bit':
      return sql.Bit();
    case 'decimal':
    case 'numeric':
      return sql.Decimal(Number(args[0] || 18), Number(args[1] || 0));
    case 'money':
      return sql.Money();
    case 'smallmoney':
      return sql.SmallMoney();
    case 'float':
      return sql.Float();
    case 'real':
      return sql.Real();
    case 'date':
      return sql.Date();
    case 'datetime':
      return sql.DateTime();
    case 'smalldatetime':
      return sql.SmallDateTime();
    case 'datetime2':
      return sql.DateTime2(Number(args[0] || 7));
    case 'datetimeoffset':
      return sql.DateTimeOffset(Number(args[0] || 7));
    case 'time':
      return sql.Time(Number(args[0] || 7));
    case 'uniqueidentifier':
      return sql.UniqueIdentifier();
    case 'varbinary':
      return sql.VarBinary(len(8000));
    case 'binary':
      return sql.VarBinary(len(1));
    case 'image':
      return sql.Image();
    default:
      throw new Error(`conformance: no mssql type for ${sqlType}`);
  }
}

function jsValue(p: CorpusParam): unknown {
  if (p.value === null) return null;
  const t = p.sqlType.toLowerCase();
  if (/^(int|smallint|tinyint|real|float)$/.test(t)) return Number(p.value);
  if (t === 'bigint') return p.value;
  if (/^(decimal|numeric|money|smallmoney)/.test(t)) return Number(p.value);
  if (t === 'bit') return p.value === '1' || p.value === 'true';
  if (t === 'date') return new Date(`${p.value.slice(0, 10)}T00:00:00Z`);
  if (/^(datetime|smalldatetime|datetime2|datetimeoffset)/.test(t)) return new Date(/[zZ+]|-\d\d:?\d\d$/.test(p.value.slice(10)) ? p.value : `${p.value.replace(' ', 'T')}Z`);
  if (/^time/.test(t)) return new Date(`1970-01-01T${p.value}Z`);
  if (/^(varbinary|binary|image)/.test(t)) return Buffer.from(p.value.replace(/^\\x|^0x/i, ''), 'hex');
  return p.value;
}

export async function runTedious(target: Target, entries: CorpusEntry[]): Promise<DriverResult[]> {
  const pool = await new sql.ConnectionPool({
    server: target.host,
    port: target.port,
    user: target.user,
    password: target.password,
    database: target.database,
    options: { encrypt: false, trustServerCertificate: true },
    pool: { max: 1, min: 0 },
  }).connect();
  const out: DriverResult[] = [];
  try {
    for (const e of entries) {
      const req = pool.request();
      req.arrayRowMode = true;
      for (const p of e.params) req.input(p.name.slice(1), mssqlType(p.sqlType), jsValue(p));
      try {
        const r = (await req.query(e.sql)) as unknown as {
          recordsets: unknown[][][];
          columns?: { name: string; type: unknown; length?: number; precision?: number; scale?: number }[][];
          rowsAffected: number[];
        };
        const sets: DriverSet[] = (r.columns ?? []).map((cols, i) => {
          const types = cols.map((c) => tediousType(c));
          return {
            columns: cols.map((c, j) => ({ name: c.name, type: types[j]! })),
            rows: (r.recordsets[i] ?? []).map((row) => row.map((v, j) => canonical(v, types[j]!, 'tedious'))),
          };
        });
        // rowsAffected holds every DONE count, result sets included: keep those of statements without rows
        const counts = r.rowsAffected.slice();
        for (const s of sets) {
          const k = counts.indexOf(s.rows.length);
          if (k >= 0) counts.splice(k, 1);
        }
        out.push({ id: e.id, error: null, sets, counts });
      } catch (err) {
        const x = err as { number?: number; message?: string; originalError?: { info?: { number?: number } } };
        out.push({ id: e.id, error: x.number ?? x.originalError?.info?.number ?? -1, message: x.message, sets: [], counts: [] });
      }
    }
  } finally {
    await pool.close();
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ tsql

function tsqlLiteral(p: CorpusParam): string {
  if (p.value === null) return 'NULL';
  const t = p.sqlType.toLowerCase();
  if (/^(int|smallint|tinyint|bigint|real|float|decimal|numeric|money|smallmoney)/.test(t)) return p.value;
  if (t === 'bit') return p.value === 'true' || p.value === '1' ? '1' : '0';
  if (/^(varbinary|binary|image)/.test(t)) return '0x' + p.value.replace(/^\\x|^0x/i, '');
  return `N'${p.value.replace(/'/g, "''")}'`;
}

/** The entry as one text batch: with parameters, `EXEC sp_executesql N'…', N'@p0 type, …', @p0 = value, …`. */
export function tsqlBatch(e: CorpusEntry): string {
  if (e.params.length === 0) return e.sql;
  const decl = e.params.map((p) => `${p.name} ${p.sqlType}`).join(', ');
  const vals = e.params.map((p) => `${p.name} = ${tsqlLiteral(p)}`).join(', ');
  return `EXEC sp_executesql N'${e.sql.replace(/'/g, "''")}', N'${decl}', ${vals}`;
}

const FS = '\x1f';
const RS = '\x1e';

/** Parses one tsql run: the TDSDUMP (column types, DONE counts) and stdout (names, rows). */
function parseTsql(id: string, stdout: string, stderr: string, dump: string): DriverResult {
  const msgs = [...stderr.matchAll(/^Msg (\d+) \(severity (\d+), state \d+\)/gm)].filter((m) => Number(m[2]) > 10);
  if (msgs.length > 0) return { id, error: Number(msgs[0]![1]), message: stderr.trim(), sets: [], counts: [] };
  // dump: result sets (columns) and DONE row counts in order
  const events: ({ kind: 'cols'; types: { type: number; size: number }[] } | { kind: 'done'; count: number | null })[] = [];
  const lines = dump.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (/set current_results \(\d+ columns?\)|setting up \d+ columns/.test(l)) {
      if (/setting up/.test(l)) events.push({ kind: 'cols', types: [] });
    } else if (/server's type = (\d+)/.test(l)) {
      const type = Number(/server's type = (\d+)/.exec(l)![1]);
      let size = 0;
      for (let j = i + 1; j < Math.min(lines.length, i + 4); j++) {
        const m = /column_size = -?\d+ \((-?\d+) on server\)/.exec(lines[j]!);
        if (m) {
          size = Number(m[1]);
          break;
        }
      }
      const last = events[events.length - 1];
      if (last?.kind === 'cols') last.types.push({ type, size });
    } else if (/done_count_valid = (\d)/.test(l)) {
      const valid = /done_count_valid = 1/.test(l);
      const m = valid ? /rows_affected = (\d+)/.exec(lines[i + 1] ?? '') : null;
      events.push({ kind: 'done', count: m ? Number(m[1]) : null });
    }
  }
  // stdout: after the locale lines and the prompts, sets of header RS rows RS … "(n rows affected)\n"
  let body = stdout.replace(/^(locale is .*\n|locale charset is .*\n|using default charset .*\n|Setting .* as default database.*\n)*/, '');
  body = body.replace(/^(\d+> )+/, '').replace(/(\n|^)\d+> $/, '$1').replace(/\d+> $/, '');
  const sets: DriverSet[] = [];
  const counts: number[] = [];
  let pos = 0;
  let pending: { type: number; size: number }[] | null = null;
  const readRecord = (): string[] => {
    const end = body.indexOf(RS, pos);
    if (end < 0) throw new Error(`tsql output of ${id}: record expected at ${pos}: ${JSON.stringify(body.slice(pos, pos + 80))}`);
    const rec = body.slice(pos, end);
    pos = end + 1;
    return rec.split(FS);
  };
  for (const ev of events) {
    if (ev.kind === 'cols') {
      pending = ev.types;
      continue;
    }
    if (pending) {
      const names = readRecord();
      const types = pending.map((t) => TDS_TYPES[t.type]?.(t.size) ?? `tds${t.type}`);
      const n = ev.count ?? 0;
      const rows: string[][] = [];
      for (let k = 0; k < n; k++) rows.push(readRecord());
      const footer = /^\(\d+ rows? affected\)\n/.exec(body.slice(pos));
      if (footer) pos += footer[0].length;
      sets.push({ columns: names.map((name, j) => ({ name, type: types[j] ?? '?' })), rows });
      pending = null;
    } else if (ev.count !== null) counts.push(ev.count);
  }
  return { id, error: null, sets, counts };
}

export async function runTsql(target: Target, entries: CorpusEntry[]): Promise<DriverResult[]> {
  const dir = mkdtempSync(join(tmpdir(), 'conf-tsql-'));
  try {
    const out: DriverResult[] = [];
    for (const [i, e] of entries.entries()) {
      const dumpFile = join(dir, `dump-${i}.log`);
      const conf = join(dir, 'freetds.conf');
      writeFileSync(conf, '[global]\n\ttds version = 7.4\n\tclient charset = UTF-8\n');
      const r = await run('tsql', ['-H', target.host, '-p', String(target.port), '-U', target.user, '-P', target.password, '-D', target.database, '-t', FS, '-r', RS], {
        input: `${tsqlBatch(e)}\ngo\n`,
        env: { ...process.env, TDSDUMP: dumpFile, FREETDSCONF: conf, TDSVER: '7.4' },
      });
      const dump = existsSync(dumpFile) ? readFileSync(dumpFile, 'latin1') : '';
      // the statements the dump shows after the login: skip everything up to the request of this batch
      const at = dump.search(/tds_submit_query\(\)|tds_submit_query_params\(\)/);
      out.push(parseTsql(e.id, r.stdout, r.stderr, at >= 0 ? dump.slice(at) : dump));
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------------------------------------ pyodbc

const odbcOutput = z.object({
  results: z.array(
    z.object({
      id: z.string(),
      error: z.number().nullable(),
      message: z.string().optional(),
      counts: z.array(z.number()),
      sets: z.array(
        z.object({
          columns: z.array(z.object({ name: z.string(), pyType: z.string(), size: z.number(), precision: z.number(), scale: z.number() })),
          rows: z.array(z.array(z.string().nullable())),
        }),
      ),
    }),
  ),
});

export async function runOdbc(target: Target, entries: CorpusEntry[]): Promise<DriverResult[]> {
  const job = {
    connection: { driver: ODBC_DRIVER, ...target },
    entries: entries.map((e) => ({ id: e.id, ...toQmark(e.sql, e.params) })),
  };
  const r = await run(PYTHON, [ODBC_CLIENT], { input: JSON.stringify(job), timeoutMs: 300_000 });
  if (r.code !== 0) throw new Error(`pyodbc client failed (${r.code}): ${r.stderr.trim().split('\n').pop()}`);
  const parsed = odbcOutput.parse(JSON.parse(r.stdout));
  return parsed.results.map((x) => ({
    id: x.id,
    error: x.error,
    message: x.message,
    counts: x.counts,
    sets: x.sets.map((s) => ({ columns: s.columns.map((c) => ({ name: c.name, type: odbcType(c) })), rows: s.rows })),
  }));
}
