/**
 * Batch executor of the TDS simulator: runs parsed T-SQL statements against a backend session
 * and writes the TDS token stream (COLMETADATA/ROW/DONE, ENVCHANGE for transactions, ERROR).
 */
import nodeSqlParser from 'node-sql-parser';
import type { BackendSession, QueryResult } from './backend.js';
import {
  type Catalog,
  type Stmt,
  type Tok,
  Translator,
  TsqlError,
  parseBatch,
  resultColumnName,
  syntaxError,
  tokenize,
  translateType,
} from './tsql.js';
import {
  type ColType,
  type Column,
  DONE_STATUS,
  TOKEN,
  Writer,
  colMetadata,
  decimalScaleOf,
  done,
  envChangeBytes,
  infoOrError,
  returnStatus,
  row,
} from './wire.js';

export type FaultKind = 'deadlock' | 'timeout' | 'drop';

export interface ExecEnv {
  session: BackendSession;
  database: string;
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
  const normalized = text.replace(/\bTOP\s*\(\s*[^()]*\)/gi, 'TOP 1').replace(/@@\w+/g, '0').replace(/^\s*DELETE\s+(?!FROM\b)/i, 'DELETE FROM ');
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

function colTypeFor(pgType: number, typmod: number | undefined, values: unknown[]): ColType {
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
    case 1184:
      return { t: 'datetime2', scale: 7 };
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
  rowcount = 0;
  private txSeq = 0n;
  private txDescriptor = Buffer.alloc(8);
  private vars = new Map<string, { pgCast: string | null; value: string | null }>();
  cancelled = false;
  private lastStatement = '';

  constructor(private readonly env: ExecEnv) {}

  /** Runs a SQL batch or sp_executesql statement; writes the whole token stream to `w`. */
  async batch(sql: string, params: Map<string, { pgCast: string | null; value: string | null }> | null, rpc: boolean, w: Writer): Promise<void> {
    this.vars = new Map(params ?? []);
    const doneTok = rpc ? TOKEN.DONEINPROC : TOKEN.DONE;
    let failed = false;
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
      infoOrError(w, TOKEN.ERROR, { number: err.number, state: err.state, class: err.sqlClass, message: err.message }, this.env.serverName);
    }
    const inx = this.trancount > 0 ? DONE_STATUS.INXACT : 0;
    if (rpc) {
      returnStatus(w, failed ? -6 : 0);
      done(w, TOKEN.DONEPROC, (failed ? DONE_STATUS.ERROR : 0) | inx, 0, 0);
    } else {
      done(w, TOKEN.DONE, (failed ? DONE_STATUS.ERROR : 0) | inx, 0, 0);
    }
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
        return;
      }
      case 'declare':
        this.env.countStatement();
        for (const v of s.vars) {
          const ty = translateType(tokenize(v.type), 0).sql;
          const value = v.init ? await this.evalScalar(v.init, v.initText ?? '', ty) : null;
          this.vars.set(v.name, { pgCast: ty, value });
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
        await this.execSql(s, w, doneTok);
        return;
    }
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
    this.catalogSnapshot = await this.env.catalog();
    const tr = new Translator(this.ctx());
    const t = tr.translate(s.toks);
    const r = await this.run(t.sql, t.params);
    if (t.isDdl) this.env.invalidateCatalog();
    if (r.fields.length > 0) {
      const cols: Column[] = r.fields.map((f, i) => ({
        name: resultColumnName(f.name, t.names),
        type: colTypeFor(f.pgType, f.typmod, r.rows.map((x) => x[i])),
      }));
      colMetadata(w, cols);
      for (const x of r.rows) row(w, cols, x);
      this.rowcount = r.rows.length;
      done(w, doneTok, DONE_STATUS.MORE | (this.nocount ? 0 : DONE_STATUS.COUNT), 0xc1, r.rows.length);
      return;
    }
    this.rowcount = t.isDdl ? 0 : r.rowCount;
    const countable = !t.isDdl && !this.nocount;
    done(w, doneTok, DONE_STATUS.MORE | (countable ? DONE_STATUS.COUNT : 0), CURCMD[s.verb] ?? 0, countable ? r.rowCount : 0);
  }
}
