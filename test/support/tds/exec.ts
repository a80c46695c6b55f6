/**
 * Batch executor of the TDS simulator: runs parsed T-SQL statements against a backend session
 * and writes the TDS token stream (COLMETADATA/ROW/DONE, ENVCHANGE for transactions, ERROR).
 */
import nodeSqlParser from 'node-sql-parser';
import type { BackendSession, QueryResult } from './backend.js';
import { DATATYPE_INFO_COLUMNS, PROC_IDS, bareProcName, datatypeInfoRows, supportedProc } from './procs.js';
import {
  type Catalog,
  type ExecArg,
  type ResultColumnHint,
  type SelectItem,
  type Stmt,
  type Tok,
  Translator,
  TsqlError,
  type VarValue,
  parseBatch,
  syntaxError,
  tokenize,
  translateType,
} from './tsql.js';
import {
  type ColType,
  type Column,
  DONE_STATUS,
  type ParamValue,
  TOKEN,
  Writer,
  colMetadata,
  decimalScaleOf,
  done,
  envChangeBytes,
  infoOrError,
  returnStatus,
  row,
  writeTypeInfo,
  writeValue,
} from './wire.js';

export { PROC_IDS };

/** One RPC parameter as received: name ('' when positional), OUTPUT flag, type and value. */
export interface RpcParam {
  name: string;
  output: boolean;
  value: ParamValue;
}

export type FaultKind = 'deadlock' | 'timeout' | 'drop';

export interface ExecEnv {
  session: BackendSession;
  database: string;
  /** database collation name (French_CI_AS…) and its 5 TDS bytes */
  collation: string;
  collationBytes: Buffer;
  serverName: string;
  serverVersion: string;
  versionString: string;
  spid: number;
  catalog(): Promise<Catalog>;
  invalidateCatalog(): void;
  fault(text: string): FaultKind | null;
  /** resolves when the client sends an attention or the connection closes */
  waitForAttention(): Promise<void>;
  drop(): void;
  countStatement(): void;
  /** The server's databases and whether this login may open each (sys.databases, HAS_DBACCESS). */
  databases?(): Promise<{ name: string; access: boolean }[]>;
  /** capture hook: every SQL text the client sends (batch text, sp_executesql/sp_prepare statement), with its parameters */
  onStatementText?(kind: 'batch' | 'rpc', sql: string, params: { name: string; sqlType: string; value: string | null }[]): void;
}

export class CancelledError extends Error {}
export class DroppedError extends Error {}

const { Parser } = nodeSqlParser;
const parser = new Parser();
const parseCache = new Map<string, string | null>();

/** node-sql-parser check (transactsql); returns the offending token text, or null when it parses. */
function parserCheck(text: string): string | null {
  const cached = parseCache.get(text);
  if (cached !== undefined) return cached;
  // node-sql-parser does not know TOP (expr); SQL Server does
  // nor @@SYSVAR followed by an alias
  const normalized = text.replace(/\bTOP\s*\(\s*[^()]*\)/gi, 'TOP 1').replace(/@@\w+/g, '0').replace(/^\s*DELETE\s+(?!FROM\b)/i, 'DELETE FROM ')
    // nor the IMAGE type, COUNT_BIG or LIKE … ESCAPE
    .replace(/(\bAS\s+|(?:\bADD|[(,])\s*[\p{L}\p{N}_[\]]+\s+)image\b/giu, '$1varbinary')
    .replace(/\bCOUNT_BIG\s*\(/gi, 'COUNT(')
    .replace(/\s+ESCAPE\s+N?'[^']*'/gi, '');
  let result: string | null = null;
  try {
    parser.astify(normalized, { database: 'transactsql' });
  } catch (e) {
    const loc = (e as { location?: { start?: { offset?: number } } }).location?.start?.offset;
    const rest = typeof loc === 'number' ? normalized.slice(loc) : '';
    const m = /^\s*([\p{L}\p{N}_@#$]+|\[[^\]]*\]?|'[^']*'?|\S)/u.exec(rest);
    result = m ? m[1]! : (/([\p{L}\p{N}_@#$\]]+|\S)\s*$/u.exec(normalized)?.[1] ?? '');
  }
  if (parseCache.size > 5000) parseCache.clear();
  parseCache.set(text, result);
  return result;
}

const DANGLING = new Set(['SELECT', 'FROM', 'WHERE', 'AND', 'OR', 'SET', 'VALUES', 'ON', 'BY', 'JOIN', 'INTO', 'NOT', 'IN', 'LIKE', 'AS', 'HAVING']);

/** Checks the parser lets through (it accepts e.g. `SELECT FROM t`, `SELEC 1` starts are caught earlier). */
function ownChecks(toks: Tok[]): void {
  const first = toks[0]!;
  const second = toks[1];
  if (first.v.toUpperCase() === 'SELECT') {
    if (!second) throw syntaxError('SELECT');
    const w = second.k === 'word' ? second.v.toUpperCase() : '';
    if (w === 'FROM' || w === 'WHERE' || second.k === 'comma' || second.k === 'rp') throw syntaxError(second.v);
  }
  const last = toks[toks.length - 1]!;
  if ((last.k === 'word' && DANGLING.has(last.v.toUpperCase())) || last.k === 'op' || last.k === 'comma' || last.k === 'dot') {
    throw syntaxError(last.v);
  }
  for (let i = 1; i < toks.length; i++) {
    const a = toks[i - 1]!;
    const b = toks[i]!;
    if (a.k === 'comma' && (b.k === 'comma' || (b.k === 'word' && b.v.toUpperCase() === 'FROM'))) throw syntaxError(b.v);
  }
}

const CURCMD: Record<string, number> = { SELECT: 0xc1, INSERT: 0xc3, DELETE: 0xc4, UPDATE: 0xc5, WITH: 0xc1 };

const SET_OPTIONS = new Set(
  (
    'ANSI_NULLS ANSI_NULL_DFLT_ON ANSI_NULL_DFLT_OFF ANSI_PADDING ANSI_WARNINGS ANSI_DEFAULTS ARITHABORT ARITHIGNORE ' +
    'CONCAT_NULL_YIELDS_NULL CURSOR_CLOSE_ON_COMMIT DATEFIRST DATEFORMAT IMPLICIT_TRANSACTIONS LANGUAGE LOCK_TIMEOUT ' +
    'NOCOUNT QUOTED_IDENTIFIER TEXTSIZE TRANSACTION XACT_ABORT DEADLOCK_PRIORITY NUMERIC_ROUNDABORT ROWCOUNT ' +
    'STATISTICS FMTONLY NOEXEC CONTEXT_INFO QUERY_GOVERNOR_COST_LIMIT'
  ).split(' '),
);

interface PgErrorLike {
  code?: string;
  message?: string;
  detail?: string;
  table?: string;
  constraint?: string;
  column?: string;
}

export function mapPgError(e: unknown, database: string, statement = ''): TsqlError {
  if (e instanceof TsqlError) return e;
  const err = e as PgErrorLike;
  const msg = err.message ?? String(e);
  const quoted = /"([^"]+)"/.exec(msg)?.[1] ?? '';
  switch (err.code) {
    case '42P01':
      return new TsqlError(208, `Invalid object name '${quoted}'.`, 16, 1);
    case '42703': {
      const name = quoted || /column (\S+) does not exist/.exec(msg)?.[1]?.split('.').pop() || '';
      return new TsqlError(207, `Invalid column name '${name}'.`, 16, 1);
    }
    case '23505': {
      const key = /Key \((.*)\)=\((.*)\) already exists/.exec(err.detail ?? '');
      const kind = (err.constraint ?? '').endsWith('_pkey') ? 'PRIMARY KEY' : 'UNIQUE KEY';
      return new TsqlError(
        2627,
        `Violation of ${kind} constraint '${err.constraint ?? ''}'. Cannot insert duplicate key in object 'dbo.${err.table ?? ''}'. The duplicate key value is (${key?.[2] ?? ''}).`,
        14,
        1,
      );
    }
    case '23502':
      return new TsqlError(
        515,
        `Cannot insert the value NULL into column '${err.column ?? quoted}', table '${database}.dbo.${err.table ?? ''}'; column does not allow nulls. INSERT fails.`,
        16,
        2,
      );
    case '23503':
      return new TsqlError(547, `The statement conflicted with the FOREIGN KEY constraint "${err.constraint ?? ''}". The conflict occurred in database "${database}", table "dbo.${err.table ?? ''}".`, 16, 0);
    case '22P02':
    case '22007':
    case '22008': {
      const m = /invalid input syntax for type ([\w ]+): "(.*)"/.exec(msg) ?? /date\/time field value out of range: "(.*)"/.exec(msg);
      if (m && m.length === 3) {
        const types: Record<string, string> = {
          integer: 'int', smallint: 'smallint', bigint: 'bigint', numeric: 'numeric', boolean: 'bit', uuid: 'uniqueidentifier',
          date: 'date', 'timestamp without time zone': 'datetime', 'double precision': 'float', real: 'real',
        };
        const target = types[m[1]!] ?? m[1]!;
        if (target === 'date' || target === 'datetime') {
          return new TsqlError(241, 'Conversion failed when converting date and/or time from character string.', 16, 1);
        }
        if (target === 'uniqueidentifier') {
          return new TsqlError(8169, 'Conversion failed when converting from a character string to uniqueidentifier.', 16, 2);
        }
        return new TsqlError(245, `Conversion failed when converting the nvarchar value '${m[2]}' to data type ${target}.`, 16, 1);
      }
      return new TsqlError(241, 'Conversion failed when converting date and/or time from character string.', 16, 1);
    }
    case '22003':
      return new TsqlError(8115, `Arithmetic overflow error converting expression to data type numeric.`, 16, 2);
    case '22001':
      return new TsqlError(8152, 'String or binary data would be truncated.', 16, 14);
    case '22012':
      return new TsqlError(8134, 'Divide by zero error encountered.', 16, 1);
    case '42601': {
      const near =
        /at or near "([^"]*)"/.exec(msg)?.[1] ?? (/([\p{L}\p{N}_@#$\]]+|\S)\s*;?\s*$/u.exec(statement)?.[1] ?? '').replace(/^\[|\]$/g, '');
      return new TsqlError(102, `Incorrect syntax near '${near}'.`, 15, 1);
    }
    case '42883': {
      const fn = /function ([\w.]+)\(/.exec(msg)?.[1];
      if (fn && !/operator/.test(msg)) return new TsqlError(195, `'${fn.replace(/^tds_sys\./, '')}' is not a recognized built-in function name.`, 15, 10);
      return new TsqlError(402, `The data types are incompatible in the operator. (${msg})`, 16, 1);
    }
    case '42804':
    case '42846':
      return new TsqlError(206, `Operand type clash. (${msg})`, 16, 2);
    case '42P07':
      return new TsqlError(2714, `There is already an object named '${quoted}' in the database.`, 16, 6);
    case '42701':
      return new TsqlError(2705, `Column names in each table must be unique. Column name '${quoted}' is specified more than once.`, 16, 4);
    case '42702':
      return new TsqlError(209, `Ambiguous column name '${quoted}'.`, 16, 1);
    case '40P01':
      return deadlockError(0);
    default:
      return new TsqlError(50000, `TDS simulator: backend error ${err.code ?? ''}: ${msg}`, 16, 1);
  }
}

export function deadlockError(spid: number): TsqlError {
  return new TsqlError(
    1205,
    `Transaction (Process ID ${spid}) was deadlocked on lock resources with another process and has been chosen as the deadlock victim. Rerun the transaction.`,
    13,
    51,
  );
}

/** A SQL Server type name ('nvarchar(8)', 'decimal(18,2)', 'datetime', 'varbinary(max)'…) as a TDS column type. */
export function sqlTypeToColType(sqlType: string): ColType | null {
  const m = /^\s*([a-z0-9_]+)\s*(?:\(\s*([^)]*)\))?\s*$/i.exec(sqlType);
  if (!m) return null;
  const name = m[1]!.toLowerCase();
  const args = (m[2] ?? '').split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
  const len = (dflt: number, max: number): number | 'max' => (args[0] === 'max' ? 'max' : Math.min(max, Number(args[0] ?? dflt) || dflt));
  const scale = (): number => Math.min(7, Number(args[0] ?? 7));
  switch (name) {
    case 'tinyint':
      return { t: 'int', size: 1 };
    case 'smallint':
      return { t: 'int', size: 2 };
    case 'int':
      return { t: 'int', size: 4 };
    case 'bigint':
      return { t: 'int', size: 8 };
    case 'bit':
      return { t: 'bit' };
    case 'real':
      return { t: 'float', size: 4 };
    case 'float':
      return { t: 'float', size: 8 };
    case 'decimal':
    case 'numeric':
      return { t: 'decimal', precision: Math.min(38, Number(args[0] ?? 18)), scale: Number(args[1] ?? 0) };
    case 'money':
      return { t: 'money', size: 8 };
    case 'smallmoney':
      return { t: 'money', size: 4 };
    case 'nvarchar':
    case 'sysname':
      return { t: 'nvarchar', maxChars: name === 'sysname' ? 128 : len(1, 4000) };
    case 'varchar':
      return { t: 'varchar', maxChars: len(1, 8000) };
    case 'nchar':
      return { t: 'nchar', chars: Number(args[0] ?? 1) || 1 };
    case 'char':
      return { t: 'char', chars: Number(args[0] ?? 1) || 1 };
    case 'ntext':
      return { t: 'ntext' };
    case 'text':
      return { t: 'text' };
    case 'image':
      return { t: 'image' };
    case 'date':
      return { t: 'date' };
    case 'datetime':
      return { t: 'datetime', size: 8 };
    case 'smalldatetime':
      return { t: 'datetime', size: 4 };
    case 'datetime2':
      return { t: 'datetime2', scale: scale() };
    case 'datetimeoffset':
      return { t: 'datetimeoffset', scale: scale() };
    case 'time':
      return { t: 'time', scale: scale() };
    case 'uniqueidentifier':
      return { t: 'guid' };
    case 'varbinary':
      return { t: 'varbinary', max: len(1, 8000) };
    case 'binary':
      return { t: 'binary', size: Number(args[0] ?? 1) || 1 };
    case 'sql_variant':
      return { t: 'variant' };
    default:
      return null;
  }
}

/** The family of a TDS type, to check a declared type against what PostgreSQL computed. */
function family(t: ColType): string {
  switch (t.t) {
    case 'int':
    case 'bit':
    case 'float':
    case 'decimal':
    case 'money':
      return 'number';
    case 'nvarchar':
    case 'varchar':
    case 'nchar':
    case 'char':
    case 'ntext':
    case 'text':
      return 'string';
    case 'image':
    case 'varbinary':
    case 'binary':
      return 'binary';
    case 'date':
    case 'datetime':
    case 'datetime2':
      return 'datetime';
    case 'variant':
      return 'string';
    default:
      return t.t;
  }
}

/** The column type SQL Server would send: the declared type (catalog, CAST, parameter) when it fits the value's type. */
function colTypeFor(pgType: number, typmod: number | undefined, values: unknown[], hint: string | null = null): ColType {
  const derived = pgColType(pgType, typmod, values);
  const declared = hint ? sqlTypeToColType(hint) : null;
  if (!declared) return derived;
  const fd = family(derived);
  const fh = family(declared);
  if (fd === fh || (fh === 'number' && fd === 'number') || (fd === 'string' && fh !== 'binary')) {
    // a string hint on a string value: keep (n)varchar(max) when a value does not fit the declared length
    if ((declared.t === 'nvarchar' || declared.t === 'varchar') && declared.maxChars !== 'max') {
      if (values.some((v) => v !== null && v !== undefined && String(v).length > (declared.maxChars as number))) return { ...declared, maxChars: 'max' };
    }
    if (fh === 'string' && fd !== 'string') return derived;
    return declared;
  }
  return derived;
}

function pgColType(pgType: number, typmod: number | undefined, values: unknown[]): ColType {
  switch (pgType) {
    case 16:
      return { t: 'bit' };
    case 20:
      return { t: 'int', size: 8 };
    case 21:
      return { t: 'int', size: 2 };
    case 23:
    case 26:
      return { t: 'int', size: 4 };
    case 700:
      return { t: 'float', size: 4 };
    case 701:
      return { t: 'float', size: 8 };
    case 1700: {
      if (typmod !== undefined && typmod >= 4) {
        const p = ((typmod - 4) >> 16) & 0xffff;
        const s = (typmod - 4) & 0xffff;
        if (p >= 1 && p <= 38) return { t: 'decimal', precision: p, scale: s };
      }
      let scale = 0;
      for (const v of values) if (v !== null && v !== undefined) scale = Math.max(scale, decimalScaleOf(v));
      return { t: 'decimal', precision: 38, scale: Math.min(scale, 20) };
    }
    case 1082:
      return { t: 'date' };
    case 1114:
      return { t: 'datetime2', scale: 7 };
    case 1184:
      return { t: 'datetimeoffset', scale: 7 };
    case 1083:
      return { t: 'time', scale: 7 };
    case 2950:
      return { t: 'guid' };
    case 17: {
      const long = values.some((v) => v && (v as Uint8Array).length > 8000);
      return { t: 'varbinary', max: long ? 'max' : 8000 };
    }
    default: {
      let maxChars: number | 'max' = 4000;
      if (pgType === 1043 && typmod !== undefined && typmod > 4 && typmod - 4 <= 4000) maxChars = typmod - 4;
      if (values.some((v) => v !== null && v !== undefined && String(v).length > (maxChars as number))) maxChars = 'max';
      return { t: 'nvarchar', maxChars };
    }
  }
}

export class Executor {
  trancount = 0;
  nocount = false;
  xactAbort = false;
  /** SET IMPLICIT_TRANSACTIONS ON (what ODBC drivers send when autocommit is off) */
  implicitTransactions = false;
  /** SET FMTONLY ON: result metadata only, nothing executed */
  fmtOnly = false;
  /** SET ROWCOUNT n: at most n rows per result set (0: no limit) */
  rowcountLimit = 0;
  rowcount = 0;
  private txSeq = 0n;
  private txDescriptor = Buffer.alloc(8);
  private vars = new Map<string, VarValue>();
  cancelled = false;
  private lastStatement = '';
  /** end offset in the writer of the last DONE token a statement wrote (its status is made final at batch end) */
  private lastDoneEnd = -1;
  private prepared = new Map<number, { stmt: string; decl: string }>();
  private nextHandle = 1;

  constructor(private readonly env: ExecEnv) {}

  private writeDone(w: Writer, tok: number, status: number, curCmd: number, count: number): void {
    done(w, tok, status, curCmd, count);
    if (tok === TOKEN.DONE) this.lastDoneEnd = w.length;
  }

  private writeError(w: Writer, err: TsqlError): void {
    infoOrError(w, TOKEN.ERROR, { number: err.number, state: err.state, class: err.sqlClass, message: err.message }, this.env.serverName);
  }

  /**
   * Runs a SQL batch (rpc = false) or the statement of sp_executesql/sp_execute (rpc = true); writes the whole
   * token stream to `w`: one DONE per statement, the last one final (no DONE_MORE), as SQL Server does; for an
   * RPC, DONEINPROC per statement then RETURNSTATUS, the output parameters (`returnValues`) and DONEPROC.
   */
  async batch(sql: string, params: Map<string, VarValue> | null, rpc: boolean, w: Writer, returnValues?: (w: Writer) => void): Promise<void> {
    this.vars = new Map(params ?? []);
    const doneTok = rpc ? TOKEN.DONEINPROC : TOKEN.DONE;
    let failed = false;
    this.lastDoneEnd = -1;
    try {
      const stmts = parseBatch(sql);
      for (const s of stmts) {
        if (this.cancelled) throw new CancelledError();
        await this.exec(s, w, doneTok);
      }
    } catch (e) {
      if (e instanceof CancelledError || e instanceof DroppedError) throw e;
      failed = true;
      const err = mapPgError(e, this.env.database, this.lastStatement);
      if (err.number === 1205 || (this.xactAbort && this.trancount > 0)) await this.abortTransaction(w);
      this.writeError(w, err);
    }
    const inx = this.trancount > 0 ? DONE_STATUS.INXACT : 0;
    if (rpc) {
      returnStatus(w, failed ? -6 : 0);
      returnValues?.(w);
      done(w, TOKEN.DONEPROC, (failed ? DONE_STATUS.ERROR : 0) | inx, 0, 0);
    } else if (!failed && this.lastDoneEnd === w.length) {
      // the last statement's DONE ends the batch: clear its DONE_MORE bit, keep its count
      w.patchU16(w.length - 12, w.peekU16(w.length - 12) & ~DONE_STATUS.MORE);
    } else {
      done(w, TOKEN.DONE, (failed ? DONE_STATUS.ERROR : 0) | inx, 0, 0);
    }
  }

  // ----- RPC -----------------------------------------------------------------------------------

  /** Parses `@a int, @b nvarchar(10) OUTPUT` (the @params of sp_executesql / sp_prepare). */
  private parseDeclaration(decl: string): { name: string; sqlType: string; output: boolean }[] {
    if (!decl.trim()) return [];
    const out: { name: string; sqlType: string; output: boolean }[] = [];
    const toks = tokenize(decl);
    let cur: Tok[] = [];
    let depth = 0;
    const flush = (): void => {
      if (!cur.length) return;
      if (cur[0]!.k !== 'var') throw syntaxError(cur[0]!.v);
      let body = cur.slice(1);
      if (body[0] && body[0].k === 'word' && body[0].v.toUpperCase() === 'AS') body = body.slice(1);
      const last = body[body.length - 1];
      const output = !!last && last.k === 'word' && ['OUTPUT', 'OUT'].includes(last.v.toUpperCase());
      if (output) body = body.slice(0, -1);
      if (!body.length) throw syntaxError(cur[0]!.v);
      const ty = body.map((t) => (t.k === 'comma' ? ',' : t.v)).join('').toLowerCase();
      translateType(body, 0); // 2715 on an unknown type
      out.push({ name: cur[0]!.v.toLowerCase(), sqlType: ty, output });
      cur = [];
    };
    for (const t of toks) {
      if (t.k === 'lp') depth++;
      else if (t.k === 'rp') depth--;
      if (t.k === 'comma' && depth === 0) {
        flush();
        continue;
      }
      cur.push(t);
    }
    flush();
    return out;
  }

  /** Binds parameter values (named, or positional against the declaration); 8178 for a declared one not supplied. */
  private bind(values: RpcParam[], decl: string, stmt: string): { vars: Map<string, VarValue>; outputs: { ordinal: number; name: string; sqlType: string }[] } {
    const declared = this.parseDeclaration(decl);
    const vars = new Map<string, VarValue>();
    const outputs: { ordinal: number; name: string; sqlType: string }[] = [];
    values.forEach((p, i) => {
      const raw = p.name || declared[i]?.name || '';
      const key = (raw.startsWith('@') ? raw : '@' + raw).toLowerCase();
      const d = declared.find((x) => x.name === key);
      vars.set(key, { pgCast: p.value.pgCast, value: p.value.value, sqlType: p.value.sqlType === 'null' ? (d?.sqlType ?? 'int') : p.value.sqlType });
      if (p.output) outputs.push({ ordinal: i, name: key, sqlType: d?.sqlType ?? p.value.sqlType });
    });
    for (const d of declared) {
      if (!vars.has(d.name)) {
        throw new TsqlError(8178, `The parameterized query '(${decl.slice(0, 100)})${stmt.slice(0, 100)}' expects the parameter '${d.name}', which was not supplied.`, 16, 1);
      }
    }
    return { vars, outputs };
  }

  private returnValue(w: Writer, ordinal: number, name: string, sqlType: string, value: string | null): void {
    const t = sqlTypeToColType(sqlType) ?? { t: 'nvarchar', maxChars: 4000 };
    const body = new Writer().u16(ordinal).bvarchar(name).u8(0x01).u32(0).u16(0x0001);
    writeTypeInfo(body, t, this.env.collationBytes);
    writeValue(body, t, value);
    w.u8(TOKEN.RETURNVALUE).bytes(body.toBuffer());
  }

  private procError(w: Writer, err: TsqlError): void {
    this.writeError(w, err);
    returnStatus(w, -6);
    done(w, TOKEN.DONEPROC, DONE_STATUS.ERROR | (this.trancount > 0 ? DONE_STATUS.INXACT : 0), 0, 0);
  }

  /** An RPC request: sp_executesql, sp_prepare, sp_execute, sp_prepexec, sp_unprepare, sp_datatype_info; 2812 for others. */
  async rpc(proc: string, params: RpcParam[], w: Writer): Promise<void> {
    const name = supportedProc(proc);
    const arg = (n: string, pos: number): RpcParam | undefined => params.find((p) => p.name.toLowerCase() === n) ?? params[pos];
    const text = (p: RpcParam | undefined): string => p?.value.value ?? '';
    const capture = (sql: string, values: RpcParam[]): void =>
      this.env.onStatementText?.('rpc', sql, values.map((p) => ({ name: p.name, sqlType: p.value.sqlType, value: p.value.value })));
    try {
      switch (name) {
        case 'sp_executesql': {
          const stmt = text(arg('@stmt', 0));
          const decl = params.length > 1 ? text(arg('@params', 1)) : '';
          const values = params.slice(Math.min(2, params.length));
          capture(stmt, values);
          const b = this.bind(values, decl, stmt);
          await this.batch(stmt, b.vars, true, w, (x) => {
            for (const o of b.outputs) this.returnValue(x, o.ordinal + 2, o.name, o.sqlType, this.vars.get(o.name)?.value ?? null);
          });
          return;
        }
        case 'sp_prepare':
        case 'sp_prepexec': {
          const decl = text(arg('@params', 1));
          const stmt = text(arg('@stmt', 2));
          this.parseDeclaration(decl);
          const handle = this.nextHandle++;
          this.prepared.set(handle, { stmt, decl });
          const writeHandle = (x: Writer): void => this.returnValue(x, 0, params[0]?.name || '@handle', 'int', String(handle));
          if (name === 'sp_prepare') {
            capture(stmt, []);
            returnStatus(w, 0);
            writeHandle(w);
            done(w, TOKEN.DONEPROC, this.trancount > 0 ? DONE_STATUS.INXACT : 0, 0, 0);
            return;
          }
          const values = params.slice(3);
          capture(stmt, values);
          const b = this.bind(values, decl, stmt);
          await this.batch(stmt, b.vars, true, w, writeHandle);
          return;
        }
        case 'sp_execute': {
          const handle = Number(params[0]?.value.value);
          const prep = this.prepared.get(handle);
          if (!prep) throw new TsqlError(8179, `Could not find prepared statement with handle ${params[0]?.value.value ?? 'NULL'}.`, 16, 4);
          const values = params.slice(1);
          capture(prep.stmt, values);
          const b = this.bind(values, prep.decl, prep.stmt);
          await this.batch(prep.stmt, b.vars, true, w);
          return;
        }
        case 'sp_unprepare': {
          const handle = Number(params[0]?.value.value);
          if (!this.prepared.delete(handle)) throw new TsqlError(8179, `Could not find prepared statement with handle ${params[0]?.value.value ?? 'NULL'}.`, 16, 4);
          returnStatus(w, 0);
          done(w, TOKEN.DONEPROC, this.trancount > 0 ? DONE_STATUS.INXACT : 0, 0, 0);
          return;
        }
        case 'sp_datatype_info': {
          this.datatypeInfo(params[0]?.value.value ?? null, params[1]?.value.value ?? null, w);
          returnStatus(w, 0);
          done(w, TOKEN.DONEPROC, this.trancount > 0 ? DONE_STATUS.INXACT : 0, 0, 0);
          return;
        }
        default:
          throw new TsqlError(2812, `Could not find stored procedure '${bareProcName(proc)}'.`, 16, 62);
      }
    } catch (e) {
      if (e instanceof CancelledError || e instanceof DroppedError) throw e;
      this.procError(w, mapPgError(e, this.env.database));
    }
  }

  private datatypeInfo(dataType: string | null, odbcVer: string | null, w: Writer): void {
    const rows = datatypeInfoRows(dataType === null ? null : Number(dataType), odbcVer === null ? 2 : Number(odbcVer), !/_CI_/i.test(this.env.collation));
    colMetadata(w, DATATYPE_INFO_COLUMNS, this.env.collationBytes);
    for (const r of rows) row(w, DATATYPE_INFO_COLUMNS, r);
    done(w, TOKEN.DONEINPROC, DONE_STATUS.MORE | DONE_STATUS.COUNT, 0xc1, rows.length);
  }

  /** EXEC proc args… inside a batch: sp_executesql and sp_datatype_info run; other procedures → 2812. */
  private async execProc(proc: string, args: ExecArg[], w: Writer): Promise<void> {
    const name = supportedProc(proc);
    if (name !== 'sp_executesql' && name !== 'sp_datatype_info') {
      throw new TsqlError(2812, `Could not find stored procedure '${bareProcName(proc)}'.`, 16, 62);
    }
    const value = async (a: ExecArg): Promise<string | null> => {
      if (a.toks.length === 1 && a.toks[0]!.k === 'str') return a.toks[0]!.v;
      if (a.toks.length === 1 && a.toks[0]!.k === 'var') return this.vars.get(a.toks[0]!.v.toLowerCase())?.value ?? null;
      return this.evalScalar(a.toks, a.text, null);
    };
    this.env.countStatement();
    if (name === 'sp_datatype_info') {
      const a = args.find((x) => x.name === '@data_type') ?? args.find((x) => !x.name);
      const v = args.find((x) => x.name === '@odbcver') ?? args.filter((x) => !x.name)[1];
      this.datatypeInfo(a ? await value(a) : null, v ? await value(v) : null, w);
    } else {
      const stmtArg = args.find((x) => x.name === '@stmt') ?? args[0];
      const declArg = args.find((x) => x.name === '@params') ?? (args[1] && !args[1].name ? args[1] : undefined);
      const stmt = stmtArg ? ((await value(stmtArg)) ?? '') : '';
      const decl = declArg ? ((await value(declArg)) ?? '') : '';
      const declared = this.parseDeclaration(decl);
      const rest = args.filter((x) => x !== stmtArg && x !== declArg);
      const params: RpcParam[] = [];
      for (const [i, a] of rest.entries()) {
        const d = (a.name ? declared.find((x) => x.name === a.name) : declared[i]) ?? null;
        const sqlType = d?.sqlType ?? 'nvarchar(4000)';
        const stringy = /^(n?(var)?char|n?text|sysname)\b/.test(sqlType);
        params.push({ name: a.name ?? d?.name ?? '', output: a.output, value: { sqlType, pgCast: stringy ? null : translateType(tokenize(sqlType), 0).sql, value: await value(a) } });
      }
      this.env.onStatementText?.('rpc', stmt, params.map((p) => ({ name: p.name, sqlType: p.value.sqlType, value: p.value.value })));
      const b = this.bind(params, decl, stmt);
      const outer = this.vars;
      this.vars = b.vars;
      try {
        for (const s of parseBatch(stmt)) {
          if (this.cancelled) throw new CancelledError();
          await this.exec(s, w, TOKEN.DONEINPROC);
        }
      } finally {
        this.vars = outer;
      }
    }
    returnStatus(w, 0);
    done(w, TOKEN.DONEPROC, DONE_STATUS.MORE | (this.trancount > 0 ? DONE_STATUS.INXACT : 0), 0, 0);
  }

  private async abortTransaction(w: Writer): Promise<void> {
    if (this.trancount === 0) return;
    this.trancount = 0;
    await this.env.session.rollback().catch(() => undefined);
    envChangeBytes(w, 10, Buffer.alloc(0), this.txDescriptor);
  }

  private ctx(): ConstructorParameters<typeof Translator>[0] {
    return {
      catalog: this.catalogSnapshot!,
      database: this.env.database,
      serverVersion: this.env.serverVersion,
      versionString: this.env.versionString,
      serverName: this.env.serverName,
      spid: this.env.spid,
      rowcount: this.rowcount,
      caseSensitive: !/_CI_/i.test(this.env.collation),
      collation: this.env.collation,
      trancount: this.trancount,
      vars: this.vars,
    };
  }

  private catalogSnapshot: Catalog | null = null;

  /** Runs one backend statement with statement-level atomicity inside a transaction. */
  private async run(sql: string, params: (string | null)[]): Promise<QueryResult> {
    if (process.env.TDS_DEBUG) process.stderr.write(`[tds] ${sql} ${JSON.stringify(params)}\n`);
    const s = this.env.session;
    if (this.trancount === 0) return s.query(sql, params);
    await s.query('SAVEPOINT tds_stmt');
    try {
      const r = await s.query(sql, params);
      await s.query('RELEASE SAVEPOINT tds_stmt');
      return r;
    } catch (e) {
      await s.query('ROLLBACK TO SAVEPOINT tds_stmt').catch(() => undefined);
      throw e;
    }
  }

  private async evalScalar(expr: Tok[], exprText: string, cast: string | null): Promise<string | null> {
    this.catalogSnapshot = await this.env.catalog();
    const check = parserCheck(`SELECT ${exprText}`);
    if (check !== null) throw syntaxError(check);
    const tr = new Translator(this.ctx());
    const e = tr.expr(expr);
    const sql = cast ? `SELECT CAST(CAST((${e}) AS ${cast}) AS text)` : `SELECT CAST((${e}) AS text)`;
    const r = await this.run(sql, tr.parameters);
    const v = r.rows[0]?.[0];
    return v === null || v === undefined ? null : String(v);
  }

  private async applyFault(text: string): Promise<void> {
    const f = this.env.fault(text);
    if (!f) return;
    if (f === 'deadlock') throw deadlockError(this.env.spid);
    if (f === 'drop') {
      this.env.drop();
      throw new DroppedError();
    }
    await this.env.waitForAttention();
    throw new CancelledError();
  }

  private async exec(s: Stmt, w: Writer, doneTok: number): Promise<void> {
    switch (s.kind) {
      case 'unsupported':
        throw s.error;
      case 'exec':
        await this.execProc(s.proc, s.args, w);
        return;
      case 'block':
        for (const x of s.body) {
          if (this.cancelled) throw new CancelledError();
          await this.exec(x, w, doneTok);
        }
        return;
      case 'if': {
        this.env.countStatement();
        const v = await this.evalCondition(s.cond, s.condText);
        this.rowcount = 0;
        if (v) await this.exec(s.then, w, doneTok);
        else if (s.else) await this.exec(s.else, w, doneTok);
        return;
      }
      case 'begintran':
        this.env.countStatement();
        if (this.trancount === 0) await this.beginTransaction(w);
        else this.trancount++;
        return;
      case 'commit':
        this.env.countStatement();
        await this.commitTransaction(w);
        return;
      case 'rollback':
        this.env.countStatement();
        await this.rollbackTransaction(w);
        return;
      case 'setopt': {
        const first = s.option.split(' ')[0]!;
        if (!SET_OPTIONS.has(first)) throw syntaxError(s.option.split(' ')[0] ?? 'SET');
        if (first === 'NOCOUNT') this.nocount = s.value === 'ON';
        if (first === 'XACT_ABORT') this.xactAbort = s.value === 'ON';
        if (first === 'IMPLICIT_TRANSACTIONS' || first === 'ANSI_DEFAULTS') this.implicitTransactions = s.value === 'ON';
        if (first === 'FMTONLY') this.fmtOnly = s.value === 'ON';
        if (first === 'ROWCOUNT') {
          const n = Number(s.value);
          if (!Number.isInteger(n) || n < 0) throw syntaxError(s.value);
          this.rowcountLimit = n;
        }
        return;
      }
      case 'declare':
        this.env.countStatement();
        for (const v of s.vars) {
          const ty = translateType(tokenize(v.type), 0).sql;
          const value = v.init ? await this.evalScalar(v.init, v.initText ?? '', ty) : null;
          this.vars.set(v.name, { pgCast: ty, value, sqlType: v.type.replace(/\s+/g, '').toLowerCase() });
        }
        return;
      case 'setvar': {
        this.env.countStatement();
        const cur = this.vars.get(s.name);
        if (!cur) throw new TsqlError(137, `Must declare the scalar variable "${s.name}".`, 15, 2);
        cur.value = await this.evalScalar(s.expr, s.text, cur.pgCast);
        this.rowcount = 1;
        return;
      }
      case 'print': {
        const v = await this.evalScalar(s.expr, s.text, null);
        infoOrError(w, TOKEN.INFO, { number: 0, state: 1, class: 0, message: v ?? '' }, this.env.serverName);
        return;
      }
      case 'sql':
        if (/\bsys\s*\.\s*databases\b/i.test(s.text)) await this.sysDatabases(s.text, w, doneTok);
        else await this.execSql(s, w, doneTok);
        return;
    }
  }

  /**
   * `SELECT name FROM sys.databases [WHERE HAS_DBACCESS(name) = 1 [AND database_id > 4]] [ORDER BY name]`: the
   * databases of the backend (all of them, or those the login may open). Other queries of sys.databases → 102.
   */
  private async sysDatabases(text: string, w: Writer, doneTok: number): Promise<void> {
    const m = /^\s*SELECT\s+\[?name\]?\s+FROM\s+(?:\[?master\]?\.)?\[?sys\]?\.\[?databases\]?(\s+WHERE\s+HAS_DBACCESS\s*\(\s*\[?name\]?\s*\)\s*=\s*1(?:\s+AND\s+database_id\s*>\s*4)?)?(?:\s+ORDER\s+BY\s+\[?name\]?(?:\s+ASC)?)?\s*;?\s*$/i.exec(text);
    if (!m) {
      throw new TsqlError(102, "Incorrect syntax near 'databases'. (TDS simulator: only SELECT name FROM sys.databases [WHERE HAS_DBACCESS(name) = 1 [AND database_id > 4]] [ORDER BY name] is supported)", 15, 1);
    }
    this.env.countStatement();
    const all = (await this.env.databases?.()) ?? [{ name: this.env.database, access: true }];
    const names = all.filter((d) => !m[1] || d.access).map((d) => d.name).sort((a, b) => a.localeCompare(b));
    const cols = [{ name: 'name', type: { t: 'nvarchar', maxChars: 128 } as const }];
    colMetadata(w, cols, this.env.collationBytes);
    for (const n of names) row(w, cols, [n]);
    this.rowcount = names.length;
    this.writeDone(w, doneTok, DONE_STATUS.MORE | (this.nocount ? 0 : DONE_STATUS.COUNT) | (this.trancount > 0 ? DONE_STATUS.INXACT : 0), 0xc1, names.length);
  }

  private async evalCondition(cond: Tok[], condText: string): Promise<boolean> {
    this.catalogSnapshot = await this.env.catalog();
    const check = parserCheck(`SELECT 1 WHERE ${condText}`);
    if (check !== null) throw syntaxError(check);
    const tr = new Translator(this.ctx());
    const e = tr.expr(cond);
    const r = await this.run(`SELECT CASE WHEN ${e} THEN 1 ELSE 0 END`, tr.parameters);
    return Number(r.rows[0]?.[0]) === 1;
  }

  private async beginTransaction(w: Writer): Promise<void> {
    await this.env.session.begin();
    this.trancount = 1;
    this.txSeq++;
    this.txDescriptor = Buffer.alloc(8);
    this.txDescriptor.writeBigUInt64LE(BigInt(this.env.spid) * 0x100000000n + this.txSeq);
    envChangeBytes(w, 8, this.txDescriptor, Buffer.alloc(0));
  }

  private async commitTransaction(w: Writer): Promise<void> {
    if (this.trancount === 0) {
      throw new TsqlError(3902, 'The COMMIT TRANSACTION request has no corresponding BEGIN TRANSACTION.', 16, 1);
    }
    this.trancount--;
    if (this.trancount === 0) {
      await this.env.session.commit();
      envChangeBytes(w, 9, Buffer.alloc(0), this.txDescriptor);
    }
  }

  private async rollbackTransaction(w: Writer): Promise<void> {
    if (this.trancount === 0) {
      throw new TsqlError(3903, 'The ROLLBACK TRANSACTION request has no corresponding BEGIN TRANSACTION.', 16, 1);
    }
    this.trancount = 0;
    await this.env.session.rollback();
    envChangeBytes(w, 10, Buffer.alloc(0), this.txDescriptor);
  }

  /** Transaction Manager request (packet type 0x0E). */
  async transactionManager(requestType: number, beginAfter: boolean, w: Writer): Promise<void> {
    try {
      if (requestType === 5) {
        if (this.trancount === 0) await this.beginTransaction(w);
        else this.trancount++;
      } else if (requestType === 7 || requestType === 8) {
        if (requestType === 7) await this.commitTransaction(w);
        else await this.rollbackTransaction(w);
        if (beginAfter) await this.beginTransaction(w);
      } else {
        throw new TsqlError(102, `TDS simulator: transaction manager request ${requestType} is not supported.`, 16, 1);
      }
      done(w, TOKEN.DONE, this.trancount > 0 ? DONE_STATUS.INXACT : 0, 0, 0);
    } catch (e) {
      const err = mapPgError(e, this.env.database);
      infoOrError(w, TOKEN.ERROR, { number: err.number, state: err.state, class: err.sqlClass, message: err.message }, this.env.serverName);
      done(w, TOKEN.DONE, DONE_STATUS.ERROR, 0, 0);
    }
  }

  /** RESETCONNECTION: roll back and restore session options. */
  async reset(w: Writer): Promise<void> {
    if (this.trancount > 0) {
      this.trancount = 0;
      await this.env.session.rollback().catch(() => undefined);
    }
    this.nocount = false;
    this.xactAbort = false;
    this.implicitTransactions = false;
    this.fmtOnly = false;
    this.rowcountLimit = 0;
    envChangeBytes(w, 18, Buffer.alloc(0), Buffer.alloc(0));
  }

  private async execSql(s: Extract<Stmt, { kind: 'sql' }>, w: Writer, doneTok: number): Promise<void> {
    if (s.verb === 'MERGE') {
      throw new TsqlError(
        102,
        "Incorrect syntax near 'MERGE'. (TDS simulator limitation: MERGE is not supported; use UPDATE then INSERT)",
        15,
        1,
      );
    }
    ownChecks(s.toks);
    const bad = parserCheck(s.text);
    if (bad !== null) throw syntaxError(bad);
    if (s.toks.some((t, i) => t.k === 'word' && t.v.toUpperCase() === 'OUTPUT' && i > 0 && ['INSERT', 'UPDATE', 'DELETE'].includes(s.verb))) {
      throw new TsqlError(102, "Incorrect syntax near 'OUTPUT'. (TDS simulator: OUTPUT clauses are not supported)", 15, 1);
    }
    if (s.verb === 'SELECT' && s.toks[1]?.k === 'var' && s.toks[2]?.k === 'op' && s.toks[2].v === '=') {
      throw new TsqlError(102, "Incorrect syntax near '='. (TDS simulator: SELECT @var = … is not supported; use SET @var = (SELECT …))", 15, 1);
    }
    this.lastStatement = s.text;
    await this.applyFault(s.text);
    this.env.countStatement();
    // IMPLICIT_TRANSACTIONS ON: a statement that reads or changes a table opens a transaction, kept until COMMIT/ROLLBACK
    if (this.implicitTransactions && this.trancount === 0 && (s.verb !== 'SELECT' || s.toks.some((t) => t.k === 'word' && t.v.toUpperCase() === 'FROM'))) {
      await this.beginTransaction(w);
    }
    this.catalogSnapshot = await this.env.catalog();
    const tr = new Translator(this.ctx());
    const t = tr.translate(s.toks);
    if (this.fmtOnly && !t.returnsRows) {
      // FMTONLY: statements that return no rows are not run
      this.writeDone(w, doneTok, DONE_STATUS.MORE | (this.trancount > 0 ? DONE_STATUS.INXACT : 0), CURCMD[s.verb] ?? 0, 0);
      return;
    }
    const r = await this.run(t.sql, t.params);
    if (r.fields.length > 0 && (this.fmtOnly || (this.rowcountLimit > 0 && r.rows.length > this.rowcountLimit))) {
      r.rows = this.fmtOnly ? [] : r.rows.slice(0, this.rowcountLimit);
    }
    if (t.isDdl) {
      // new character columns get the database collation
      await this.run('SELECT tds_sys.apply_collation($1)', [this.env.collation]);
      this.env.invalidateCatalog();
    }
    const inx = this.trancount > 0 ? DONE_STATUS.INXACT : 0;
    if (r.fields.length > 0) {
      const hints = resultHints(t.select, r.fields.length);
      const cols: Column[] = r.fields.map((f, i) => ({
        name: hints?.[i]?.name ?? (f.name === '?column?' ? '' : f.name),
        type: colTypeFor(f.pgType, f.typmod, r.rows.map((x) => x[i]), hints?.[i]?.sqlType ?? null),
      }));
      colMetadata(w, cols, this.env.collationBytes);
      for (const x of r.rows) row(w, cols, x);
      this.rowcount = r.rows.length;
      this.writeDone(w, doneTok, DONE_STATUS.MORE | inx | (this.nocount || this.fmtOnly ? 0 : DONE_STATUS.COUNT), 0xc1, r.rows.length);
      return;
    }
    this.rowcount = t.isDdl ? 0 : r.rowCount;
    const countable = !t.isDdl && !this.nocount;
    this.writeDone(w, doneTok, DONE_STATUS.MORE | inx | (countable ? DONE_STATUS.COUNT : 0), CURCMD[s.verb] ?? 0, countable ? r.rowCount : 0);
  }
}

/** Per result column: the name and declared type from the select list (`*` expanded), when they can be matched. */
function resultHints(items: SelectItem[] | null, fieldCount: number): (ResultColumnHint | null)[] | null {
  if (!items) return null;
  const unknownStars = items.filter((x) => x.kind === 'star' && x.columns === null).length;
  const known = items.reduce((n, x) => n + (x.kind === 'one' ? 1 : (x.columns?.length ?? 0)), 0);
  if (unknownStars > 1 || (unknownStars === 0 && known !== fieldCount)) return null;
  const fill = fieldCount - known;
  if (fill < 0) return null;
  const out: (ResultColumnHint | null)[] = [];
  for (const x of items) {
    if (x.kind === 'one') out.push(x.hint);
    else if (x.columns) out.push(...x.columns);
    else for (let k = 0; k < fill; k++) out.push(null);
  }
  return out;
}
