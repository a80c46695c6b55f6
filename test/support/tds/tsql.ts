/**
 * T-SQL front end of the TDS simulator: tokenizer, batch splitter (statements, IF/ELSE,
 * BEGIN…END, DECLARE, SET, transactions) and a token-level translator to PostgreSQL.
 *
 * Identifier model: tables and columns live in PostgreSQL with their ORIGINAL case (created
 * with double-quoted names). Every T-SQL identifier is resolved case-insensitively against a
 * catalog of the current database and re-emitted double-quoted with the stored case; unknown
 * identifiers (aliases, missing columns) are emitted double-quoted as written, so PostgreSQL
 * reports "does not exist" which we map to 207/208.
 */

export class TsqlError extends Error {
  constructor(
    readonly number: number,
    message: string,
    readonly sqlClass = 15,
    readonly state = 1,
  ) {
    super(message);
  }
}

export const syntaxError = (near: string): TsqlError =>
  new TsqlError(102, `Incorrect syntax near '${near}'.`, 15, 1);

export type TokKind = 'word' | 'qid' | 'str' | 'num' | 'var' | 'sysvar' | 'op' | 'lp' | 'rp' | 'comma' | 'semi' | 'dot';

export interface Tok {
  k: TokKind;
  v: string;
  pos: number;
  end: number;
  /** string literal written N'…' (nvarchar) */
  national?: boolean;
}

const OPS = ['<>', '!=', '>=', '<=', '!<', '!>', '+=', '-=', '*=', '/=', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|', '^', '~'];

export function tokenize(sql: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\f' || c === '\v' || c === '\u00a0') {
      i++;
      continue;
    }
    if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      if (depth > 0) throw new TsqlError(113, 'Missing end comment mark \'*/\'.');
      continue;
    }
    const start = i;
    /** Reads a literal or quoted name from just after its opening quote to `close`; a doubled `close` is one character. */
    const readQuoted = (close: string): string => {
      let v = '';
      for (;;) {
        if (i >= n) throw new TsqlError(105, `Unclosed quotation mark after the character string '${v}'.`);
        if (sql[i] === close) {
          if (sql[i + 1] === close) {
            v += close;
            i += 2;
            continue;
          }
          i++;
          return v;
        }
        v += sql[i];
        i++;
      }
    };
    if (c === "'" || ((c === 'N' || c === 'n') && sql[i + 1] === "'")) {
      i += c === "'" ? 1 : 2;
      const national = c !== "'";
      const v = readQuoted("'");
      out.push({ k: 'str', v, pos: start, end: i, ...(national ? { national } : {}) });
      continue;
    }
    if (c === '[' || c === '"') {
      i++;
      const v = readQuoted(c === '[' ? ']' : '"');
      out.push({ k: 'qid', v, pos: start, end: i });
      continue;
    }
    if (c === '@') {
      const sys = sql[i + 1] === '@';
      i += sys ? 2 : 1;
      while (i < n && /[\p{L}\p{N}_@#$]/u.test(sql[i]!)) i++;
      out.push({ k: sys ? 'sysvar' : 'var', v: sql.slice(start, i), pos: start, end: i });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(sql[i + 1] ?? ''))) {
      if (c === '0' && (sql[i + 1] === 'x' || sql[i + 1] === 'X')) {
        i += 2;
        while (i < n && /[0-9a-fA-F]/.test(sql[i]!)) i++;
      } else {
        while (i < n && /[0-9]/.test(sql[i]!)) i++;
        if (sql[i] === '.') {
          i++;
          while (i < n && /[0-9]/.test(sql[i]!)) i++;
        }
        if ((sql[i] === 'e' || sql[i] === 'E') && /[-+0-9]/.test(sql[i + 1] ?? '')) {
          i += 2;
          while (i < n && /[0-9]/.test(sql[i]!)) i++;
        }
      }
      out.push({ k: 'num', v: sql.slice(start, i), pos: start, end: i });
      continue;
    }
    if (/[\p{L}_#]/u.test(c)) {
      while (i < n && /[\p{L}\p{N}_@#$]/u.test(sql[i]!)) i++;
      out.push({ k: 'word', v: sql.slice(start, i), pos: start, end: i });
      continue;
    }
    if (c === '(') {
      out.push({ k: 'lp', v: c, pos: start, end: ++i });
      continue;
    }
    if (c === ')') {
      out.push({ k: 'rp', v: c, pos: start, end: ++i });
      continue;
    }
    if (c === ',') {
      out.push({ k: 'comma', v: c, pos: start, end: ++i });
      continue;
    }
    if (c === ';') {
      out.push({ k: 'semi', v: c, pos: start, end: ++i });
      continue;
    }
    if (c === '.') {
      out.push({ k: 'dot', v: c, pos: start, end: ++i });
      continue;
    }
    const op = OPS.find((o) => sql.startsWith(o, i));
    if (op) {
      i += op.length;
      out.push({ k: 'op', v: op, pos: start, end: i });
      continue;
    }
    throw syntaxError(c);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Batch structure

export type Stmt =
  | { kind: 'sql'; verb: string; toks: Tok[]; text: string }
  | { kind: 'if'; cond: Tok[]; condText: string; then: Stmt; else?: Stmt }
  | { kind: 'block'; body: Stmt[] }
  | { kind: 'begintran' }
  | { kind: 'commit' }
  | { kind: 'rollback' }
  | { kind: 'setopt'; option: string; value: string }
  | { kind: 'setvar'; name: string; expr: Tok[]; text: string }
  | { kind: 'declare'; vars: { name: string; type: string; init?: Tok[]; initText?: string }[] }
  | { kind: 'print'; expr: Tok[]; text: string }
  | { kind: 'exec'; proc: string; args: ExecArg[] }
  | { kind: 'unsupported'; error: TsqlError };

/** One argument of EXEC proc: `value`, `@name = value`, optionally OUTPUT. */
export interface ExecArg {
  name: string | null;
  toks: Tok[];
  text: string;
  output: boolean;
}

const STMT_START = new Set([
  'SELECT', 'INSERT', 'UPDATE', 'DELETE', 'IF', 'ELSE', 'BEGIN', 'END', 'COMMIT', 'ROLLBACK', 'SET',
  'DECLARE', 'CREATE', 'ALTER', 'DROP', 'EXEC', 'EXECUTE', 'PRINT', 'MERGE', 'WHILE', 'RETURN',
  'TRUNCATE', 'USE', 'SAVE', 'GO', 'WITH', 'RAISERROR', 'THROW', 'GRANT',
]);

const up = (t: Tok | undefined): string => (t && t.k === 'word' ? t.v.toUpperCase() : '');

export function parseBatch(sql: string): Stmt[] {
  const toks = tokenize(sql);
  const p = new BatchParser(sql, toks);
  const out: Stmt[] = [];
  while (!p.eof()) {
    const s = p.statement();
    if (s) out.push(s);
  }
  return out;
}

class BatchParser {
  i = 0;
  constructor(
    private readonly sql: string,
    private readonly toks: Tok[],
  ) {}
  eof(): boolean {
    while (this.toks[this.i]?.k === 'semi') this.i++;
    return this.i >= this.toks.length;
  }
  peek(o = 0): Tok | undefined {
    return this.toks[this.i + o];
  }
  text(from: number, to: number): string {
    if (to <= from) return '';
    return this.sql.slice(this.toks[from]!.pos, this.toks[to - 1]!.end);
  }

  /** Collects tokens of one plain statement, stopping at the next statement boundary. */
  collect(verb: string): Tok[] {
    const start = this.i;
    let depth = 0;
    let caseDepth = 0;
    let sawSet = false;
    let sawBody = false; // INSERT: VALUES/SELECT seen; WITH: main statement seen
    this.i++;
    for (; this.i < this.toks.length; this.i++) {
      const t = this.toks[this.i]!;
      if (t.k === 'lp') depth++;
      else if (t.k === 'rp') {
        depth--;
        if (depth < 0) throw syntaxError(')');
      } else if (t.k === 'semi' && depth === 0) break;
      else if (t.k === 'word' && depth === 0) {
        const w = t.v.toUpperCase();
        const prev = up(this.toks[this.i - 1]);
        if (w === 'CASE') caseDepth++;
        else if (w === 'END' && caseDepth > 0) {
          caseDepth--;
          continue;
        }
        if (caseDepth > 0) continue;
        if (!STMT_START.has(w)) {
          if (verb === 'INSERT' && w === 'VALUES') sawBody = true;
          continue;
        }
        if (w === 'SELECT') {
          if (['UNION', 'ALL', 'EXCEPT', 'INTERSECT'].includes(prev)) continue;
          if (verb === 'INSERT' && !sawBody) {
            sawBody = true;
            continue;
          }
        }
        if (verb === 'WITH' && !sawBody && ['SELECT', 'INSERT', 'UPDATE', 'DELETE'].includes(w)) {
          sawBody = true;
          continue;
        }
        if (w === 'SET' && verb === 'UPDATE' && !sawSet) {
          sawSet = true;
          continue;
        }
        if (w === 'WITH') continue;
        if ((w === 'DELETE' || w === 'UPDATE') && prev === 'ON') continue;
        if (w === 'IF' && (prev === 'TABLE' || prev === 'COLUMN' || prev === 'CONSTRAINT' || prev === 'VIEW')) continue;
        if ((w === 'DROP' || w === 'ALTER') && verb === 'ALTER') continue;
        if (w === 'SET' && (verb === 'ALTER' || verb === 'CREATE')) continue;
        break;
      }
    }
    if (depth > 0) throw syntaxError(this.toks[this.toks.length - 1]?.v ?? '');
    return this.toks.slice(start, this.i);
  }

  statement(): Stmt | null {
    while (this.peek()?.k === 'semi') this.i++;
    const t = this.peek();
    if (!t) return null;
    if (t.k !== 'word') throw syntaxError(t.v);
    const w = t.v.toUpperCase();
    switch (w) {
      case 'SELECT':
      case 'INSERT':
      case 'UPDATE':
      case 'DELETE':
      case 'CREATE':
      case 'ALTER':
      case 'DROP':
      case 'TRUNCATE':
      case 'WITH':
      case 'MERGE': {
        const from = this.i;
        const toks = this.collect(w);
        return { kind: 'sql', verb: w, toks, text: this.text(from, this.i) };
      }
      case 'IF': {
        this.i++;
        const from = this.i;
        let depth = 0;
        for (; this.i < this.toks.length; this.i++) {
          const c = this.toks[this.i]!;
          if (c.k === 'lp') depth++;
          else if (c.k === 'rp') depth--;
          else if (depth === 0 && c.k === 'word' && STMT_START.has(c.v.toUpperCase()) && c.v.toUpperCase() !== 'SELECT') break;
        }
        const cond = this.toks.slice(from, this.i);
        if (cond.length === 0) throw syntaxError('IF');
        const then = this.statement();
        if (!then) throw syntaxError(this.toks[this.toks.length - 1]!.v);
        let elseStmt: Stmt | undefined;
        if (up(this.peek()) === 'ELSE' || (this.peek()?.k === 'semi' && up(this.peek(1)) === 'ELSE')) {
          if (this.peek()?.k === 'semi') this.i++;
          this.i++;
          elseStmt = this.statement() ?? undefined;
        }
        return { kind: 'if', cond, condText: this.text(from, from + cond.length), then, else: elseStmt };
      }
      case 'BEGIN': {
        const nx = up(this.peek(1));
        if (nx === 'TRAN' || nx === 'TRANSACTION') {
          this.i += 2;
          this.skipTranName();
          return { kind: 'begintran' };
        }
        if (nx === 'TRY' || nx === 'CATCH' || nx === 'DISTRIBUTED') {
          this.i++;
          throw new TsqlError(102, `Incorrect syntax near '${this.peek()!.v}'. (TDS simulator: BEGIN ${nx} is not supported)`);
        }
        this.i++;
        const body: Stmt[] = [];
        for (;;) {
          while (this.peek()?.k === 'semi') this.i++;
          const c = this.peek();
          if (!c) throw syntaxError('BEGIN');
          if (up(c) === 'END') {
            this.i++;
            break;
          }
          const s = this.statement();
          if (s) body.push(s);
        }
        return { kind: 'block', body };
      }
      case 'COMMIT':
      case 'ROLLBACK': {
        this.i++;
        const nx = up(this.peek());
        if (nx === 'TRAN' || nx === 'TRANSACTION' || nx === 'WORK') this.i++;
        this.skipTranName();
        return { kind: w === 'COMMIT' ? 'commit' : 'rollback' };
      }
      case 'SET': {
        const nx = this.peek(1);
        if (nx?.k === 'var') {
          this.i += 2;
          const op = this.peek();
          if (op?.k !== 'op' || op.v !== '=') throw syntaxError(op?.v ?? nx.v);
          this.i++;
          const from = this.i;
          const expr = this.collectExpr();
          return { kind: 'setvar', name: nx.v.toLowerCase(), expr, text: this.text(from, this.i) };
        }
        const from = this.i;
        const toks = this.collect('SET');
        const words = toks.slice(1).map((x) => x.v);
        const option = (words.slice(0, -1).join(' ') || words.join(' ')).toUpperCase();
        if (toks.length < 2) throw syntaxError('SET');
        void from;
        return { kind: 'setopt', option, value: (words[words.length - 1] ?? '').toUpperCase() };
      }
      case 'DECLARE': {
        this.i++;
        const vars: { name: string; type: string; init?: Tok[]; initText?: string }[] = [];
        for (;;) {
          const v = this.peek();
          if (v?.k !== 'var') throw syntaxError(v?.v ?? 'DECLARE');
          this.i++;
          if (up(this.peek()) === 'AS') this.i++;
          const tfrom = this.i;
          let depth = 0;
          while (this.i < this.toks.length) {
            const c = this.toks[this.i]!;
            if (c.k === 'lp') depth++;
            else if (c.k === 'rp') depth--;
            else if (depth === 0 && (c.k === 'comma' || c.k === 'semi' || (c.k === 'op' && c.v === '='))) break;
            else if (depth === 0 && c.k === 'word' && STMT_START.has(c.v.toUpperCase())) break;
            this.i++;
          }
          const type = this.text(tfrom, this.i);
          if (!type) throw syntaxError(v.v);
          const entry: { name: string; type: string; init?: Tok[]; initText?: string } = { name: v.v.toLowerCase(), type };
          if (this.peek()?.k === 'op' && this.peek()!.v === '=') {
            this.i++;
            const from = this.i;
            entry.init = this.collectExpr(true);
            entry.initText = this.text(from, this.i);
          }
          vars.push(entry);
          if (this.peek()?.k === 'comma') {
            this.i++;
            continue;
          }
          break;
        }
        return { kind: 'declare', vars };
      }
      case 'PRINT': {
        this.i++;
        const from = this.i;
        const expr = this.collectExpr();
        return { kind: 'print', expr, text: this.text(from, this.i) };
      }
      case 'EXEC':
      case 'EXECUTE': {
        const toks = this.collect(w);
        let j = 1;
        if (toks[j]?.k === 'var' && toks[j + 1]?.k === 'op' && toks[j + 1]!.v === '=') j += 2;
        if (toks[j]?.k === 'lp') {
          return { kind: 'unsupported', error: new TsqlError(102, "Incorrect syntax near '('. (TDS simulator: EXEC (string) is not supported; use sp_executesql)", 15, 1) };
        }
        const parts: string[] = [];
        while (toks[j] && (toks[j]!.k === 'word' || toks[j]!.k === 'qid')) {
          parts.push(toks[j]!.v);
          j++;
          if (toks[j]?.k !== 'dot') break;
          j++;
        }
        if (parts.length === 0) throw syntaxError(toks[j]?.v ?? w);
        const args: ExecArg[] = [];
        let cur: Tok[] = [];
        let depth = 0;
        const flush = (): void => {
          if (cur.length === 0) return;
          let name: string | null = null;
          let body = cur;
          if (body[0]!.k === 'var' && body[1]?.k === 'op' && body[1].v === '=') {
            name = body[0]!.v.toLowerCase();
            body = body.slice(2);
          }
          let output = false;
          const lastWord = up(body[body.length - 1]);
          if (lastWord === 'OUTPUT' || lastWord === 'OUT') {
            output = true;
            body = body.slice(0, -1);
          }
          if (body.length === 0) throw syntaxError(cur[cur.length - 1]!.v);
          args.push({ name, toks: body, text: this.sql.slice(body[0]!.pos, body[body.length - 1]!.end), output });
          cur = [];
        };
        for (; j < toks.length; j++) {
          const c = toks[j]!;
          if (c.k === 'lp') depth++;
          else if (c.k === 'rp') depth--;
          if (depth === 0 && c.k === 'comma') {
            flush();
            continue;
          }
          cur.push(c);
        }
        flush();
        return { kind: 'exec', proc: parts.join('.'), args };
      }
      default:
        if (this.i === 0 && !STMT_START.has(w) && !KEYWORDS.has(w)) {
          // the first statement of a batch may call a procedure without EXEC: `sp_who`, `SELEC 1` (→ 2812);
          // what follows must then read as procedure arguments
          for (let j = 1; j < this.toks.length; j++) {
            const a = this.toks[j]!;
            if (a.k === 'semi' || (a.k === 'word' && STMT_START.has(a.v.toUpperCase()))) break;
            const ok = a.k === 'str' || a.k === 'num' || a.k === 'var' || a.k === 'comma' || a.k === 'word' || a.k === 'qid' || a.k === 'dot' || (a.k === 'op' && (a.v === '-' || a.v === '='));
            if (!ok) throw syntaxError(a.v);
          }
          this.toks.unshift({ k: 'word', v: 'EXEC', pos: t.pos, end: t.pos });
          return this.statement();
        }
        throw syntaxError(t.v);
    }
  }

  private skipTranName(): void {
    const c = this.peek();
    if (c && (c.k === 'var' || c.k === 'qid' || (c.k === 'word' && !STMT_START.has(c.v.toUpperCase())))) this.i++;
  }

  /** Expression up to the next statement boundary (depth 0). */
  private collectExpr(stopAtComma = false): Tok[] {
    const from = this.i;
    let depth = 0;
    let caseDepth = 0;
    for (; this.i < this.toks.length; this.i++) {
      const c = this.toks[this.i]!;
      if (c.k === 'lp') depth++;
      else if (c.k === 'rp') depth--;
      else if (depth === 0 && c.k === 'semi') break;
      else if (depth === 0 && stopAtComma && c.k === 'comma') break;
      else if (depth === 0 && c.k === 'word') {
        const w = c.v.toUpperCase();
        if (w === 'CASE') caseDepth++;
        else if (w === 'END' && caseDepth > 0) caseDepth--;
        else if (caseDepth === 0 && STMT_START.has(w)) break;
      }
    }
    if (this.i === from) throw syntaxError(this.toks[from - 1]?.v ?? '');
    return this.toks.slice(from, this.i);
  }
}

// ---------------------------------------------------------------------------------------------
// Catalog

export interface CatalogColumn {
  name: string;
  pgType: string;
  notNull?: boolean;
  /** SQL Server type of the column as INFORMATION_SCHEMA reports it, e.g. 'nvarchar(8)', 'decimal(18,2)' */
  sqlType?: string;
}
export interface CatalogTable {
  name: string;
  columns: Map<string, CatalogColumn>;
}
export interface Catalog {
  tables: Map<string, CatalogTable>;
}

const INFO_SCHEMA_COLUMNS = [
  'TABLE_CATALOG', 'TABLE_SCHEMA', 'TABLE_NAME', 'TABLE_TYPE', 'COLUMN_NAME', 'ORDINAL_POSITION',
  'COLUMN_DEFAULT', 'IS_NULLABLE', 'DATA_TYPE', 'CHARACTER_MAXIMUM_LENGTH', 'CHARACTER_OCTET_LENGTH',
  'NUMERIC_PRECISION', 'NUMERIC_SCALE', 'DATETIME_PRECISION', 'COLLATION_NAME', 'CHARACTER_SET_NAME',
];

// ---------------------------------------------------------------------------------------------
// Translation

/** Words that are never identifiers when written bare (T-SQL reserved words + clause words). */
const KEYWORDS = new Set(
  (
    'ADD ALL ALTER AND ANY AS ASC BETWEEN BY CASE CHECK COLUMN CONSTRAINT CREATE CROSS CURRENT_DATE ' +
    'CURRENT_TIMESTAMP DEFAULT DELETE DESC DISTINCT DROP ELSE END ESCAPE EXCEPT EXISTS FOREIGN FROM FULL ' +
    'GROUP HAVING IN INNER INSERT INTERSECT INTO IS JOIN KEY LEFT LIKE NOT NULL ON OR ORDER OUTER ' +
    'PRIMARY REFERENCES RIGHT SELECT SET TABLE THEN TOP TRUNCATE UNION UNIQUE UPDATE VALUES WHEN WHERE ' +
    'WITH OFFSET ROWS ROW FETCH NEXT FIRST ONLY CASCADE NO ACTION IF OVER PARTITION COLLATE INDEX VIEW ' +
    'NULLS LAST APPLY PERCENT TIES LIMIT'
  ).split(' '),
);

const TYPE_WORDS = new Set(
  (
    'INT INTEGER BIGINT SMALLINT TINYINT BIT DECIMAL NUMERIC MONEY SMALLMONEY FLOAT REAL VARCHAR NVARCHAR ' +
    'CHAR NCHAR TEXT NTEXT DATE DATETIME DATETIME2 SMALLDATETIME TIME DATETIMEOFFSET UNIQUEIDENTIFIER ' +
    'VARBINARY BINARY IMAGE SYSNAME XML'
  ).split(' '),
);

const DATEPARTS: Record<string, string> = {
  YEAR: 'year', YY: 'year', YYYY: 'year', QUARTER: 'quarter', QQ: 'quarter', Q: 'quarter',
  MONTH: 'month', MM: 'month', M: 'month', DAYOFYEAR: 'dayofyear', DY: 'dayofyear', Y: 'dayofyear',
  DAY: 'day', DD: 'day', D: 'day', WEEK: 'week', WK: 'week', WW: 'week', WEEKDAY: 'weekday', DW: 'weekday',
  HOUR: 'hour', HH: 'hour', MINUTE: 'minute', MI: 'minute', N: 'minute', SECOND: 'second', SS: 'second',
  S: 'second', MILLISECOND: 'millisecond', MS: 'millisecond',
};

const CONVERT_STYLES: Record<number, string> = {
  1: 'MM/DD/YY', 101: 'MM/DD/YYYY', 2: 'YY.MM.DD', 102: 'YYYY.MM.DD', 3: 'DD/MM/YY', 103: 'DD/MM/YYYY',
  4: 'DD.MM.YY', 104: 'DD.MM.YYYY', 5: 'DD-MM-YY', 105: 'DD-MM-YYYY', 10: 'MM-DD-YY', 110: 'MM-DD-YYYY',
  11: 'YY/MM/DD', 111: 'YYYY/MM/DD', 12: 'YYMMDD', 112: 'YYYYMMDD', 8: 'HH24:MI:SS', 108: 'HH24:MI:SS',
  20: 'YYYY-MM-DD HH24:MI:SS', 120: 'YYYY-MM-DD HH24:MI:SS', 21: 'YYYY-MM-DD HH24:MI:SS.MS',
  121: 'YYYY-MM-DD HH24:MI:SS.MS', 23: 'YYYY-MM-DD', 126: 'YYYY-MM-DD"T"HH24:MI:SS.MS',
};

export interface TranslateContext {
  catalog: Catalog;
  database: string;
  serverVersion: string;
  versionString: string;
  serverName: string;
  spid: number;
  rowcount: number;
  trancount: number;
  /** declared variables and RPC parameters, lower-case name including '@' */
  vars: Map<string, VarValue>;
  /** the database collation compares case-sensitively (_CS_) */
  caseSensitive?: boolean;
  /** the database collation name (SERVERPROPERTY / DATABASEPROPERTYEX 'Collation') */
  collation?: string;
}

export interface VarValue {
  pgCast: string | null;
  value: string | null;
  /** SQL Server type as declared or sent, e.g. 'nvarchar(4000)', 'int' */
  sqlType?: string;
}

/** What SQL Server would report for one result column: its name ('' for an expression) and its type. */
export interface ResultColumnHint {
  name: string;
  /** SQL Server type name ('nvarchar(8)', 'int', 'decimal(18,2)'…), or null to derive it from the value */
  sqlType: string | null;
}

/** One item of a select list: a column or expression, or `*` / `t.*` over known or unknown sources. */
export type SelectItem = { kind: 'one'; hint: ResultColumnHint } | { kind: 'star'; columns: ResultColumnHint[] | null };

export interface Translated {
  sql: string;
  params: (string | null)[];
  /** the top-level select list, when the statement returns rows and it could be analysed */
  select: SelectItem[] | null;
  /** lower-case words used as column names/aliases in the statement (to name result columns) */
  names: Set<string>;
  isDdl: boolean;
  returnsRows: boolean;
}

export function translateType(toks: Tok[], i: number): { sql: string; next: number } {
  const t = toks[i]!;
  const w = t.v.toUpperCase();
  let args: string[] = [];
  let next = i + 1;
  if (toks[next]?.k === 'lp') {
    const close = findClose(toks, next);
    args = toks.slice(next + 1, close).filter((x) => x.k !== 'comma').map((x) => x.v.toUpperCase());
    next = close + 1;
  }
  const a = args.join(',');
  let sql: string;
  switch (w) {
    case 'INT':
    case 'INTEGER':
      sql = 'integer';
      break;
    case 'BIGINT':
      sql = 'bigint';
      break;
    case 'SMALLINT':
      sql = 'smallint';
      break;
    case 'TINYINT':
      sql = 'tds_sys.t_tinyint';
      break;
    case 'BIT':
      sql = 'boolean';
      break;
    case 'DECIMAL':
    case 'NUMERIC':
      sql = a ? `numeric(${a})` : 'numeric(18,0)';
      break;
    case 'MONEY':
      sql = 'tds_sys.t_money';
      break;
    case 'SMALLMONEY':
      sql = 'tds_sys.t_smallmoney';
      break;
    case 'FLOAT':
      sql = args[0] && Number(args[0]) <= 24 ? 'real' : 'double precision';
      break;
    case 'REAL':
      sql = 'real';
      break;
    case 'VARCHAR':
    case 'NVARCHAR':
      sql = !a || a === 'MAX' ? (a ? 'text' : 'varchar(30)') : `varchar(${a})`;
      break;
    case 'CHAR':
    case 'NCHAR':
      sql = a ? `char(${a})` : 'char(1)';
      break;
    case 'TEXT':
      sql = 'tds_sys.t_text';
      break;
    case 'NTEXT':
      sql = 'tds_sys.t_ntext';
      break;
    case 'XML':
      sql = 'text';
      break;
    case 'SYSNAME':
      sql = 'varchar(128)';
      break;
    case 'DATE':
      sql = 'date';
      break;
    case 'DATETIME':
      sql = 'timestamp(3)';
      break;
    case 'SMALLDATETIME':
      sql = 'tds_sys.t_smalldatetime';
      break;
    case 'DATETIME2':
      sql = 'tds_sys.t_datetime2';
      break;
    case 'TIME':
      sql = a ? `time(${Math.min(6, Number(a))})` : 'time';
      break;
    case 'DATETIMEOFFSET':
      sql = 'timestamptz';
      break;
    case 'UNIQUEIDENTIFIER':
      sql = 'uuid';
      break;
    case 'VARBINARY':
    case 'BINARY':
      sql = 'bytea';
      break;
    case 'IMAGE':
      sql = 'tds_sys.t_image';
      break;
    default:
      throw new TsqlError(2715, `Column, parameter, or variable #1: Cannot find data type ${t.v}.`, 16, 6);
  }
  return { sql, next };
}

export function findClose(toks: Tok[], lp: number): number {
  let depth = 0;
  for (let i = lp; i < toks.length; i++) {
    if (toks[i]!.k === 'lp') depth++;
    else if (toks[i]!.k === 'rp') {
      depth--;
      if (depth === 0) return i;
    }
  }
  throw syntaxError(toks[lp]!.v);
}

function splitArgs(toks: Tok[], lp: number, rp: number): Tok[][] {
  const args: Tok[][] = [];
  let cur: Tok[] = [];
  let depth = 0;
  for (let i = lp + 1; i < rp; i++) {
    const t = toks[i]!;
    if (t.k === 'lp') depth++;
    else if (t.k === 'rp') depth--;
    if (t.k === 'comma' && depth === 0) {
      args.push(cur);
      cur = [];
      continue;
    }
    cur.push(t);
  }
  if (cur.length || args.length) args.push(cur);
  return args;
}

const quoteIdent = (s: string): string => '"' + s.replace(/"/g, '""') + '"';
const quoteLit = (s: string): string => "'" + s.replace(/'/g, "''") + "'";

const HINTS = new Set(
  'NOLOCK ROWLOCK UPDLOCK HOLDLOCK READPAST TABLOCK TABLOCKX XLOCK PAGLOCK READUNCOMMITTED READCOMMITTED SERIALIZABLE REPEATABLEREAD NOWAIT'.split(' '),
);

/**
 * Structural rewrites done on the token list before translation: TOP → LIMIT, T-SQL UPDATE…FROM
 * with joins → PostgreSQL UPDATE…FROM…WHERE, INSERT without INTO, DELETE without FROM,
 * ALTER TABLE ADD a, b → ADD a, ADD b, table hints removed.
 */
function restructure(input: Tok[], notNull: (column: string) => boolean = () => false): Tok[] {
  let toks = input.slice();
  const mk = (k: TokKind, v: string): Tok => ({ k, v, pos: -1, end: -1 });
  // table hints
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (up(t) === 'WITH' && toks[i + 1]?.k === 'lp' && HINTS.has(up(toks[i + 2]))) {
      const close = findClose(toks, i + 1);
      toks.splice(i, close - i + 1);
      i--;
    } else if (t.k === 'lp' && HINTS.has(up(toks[i + 1])) && toks[i + 2]?.k === 'rp' && i > 0 && (toks[i - 1]!.k === 'word' || toks[i - 1]!.k === 'qid')) {
      toks.splice(i, 3);
      i--;
    }
  }
  const verb = up(toks[0]);
  if (verb === 'INSERT' && up(toks[1]) !== 'INTO') toks.splice(1, 0, mk('word', 'INTO'));
  if (verb === 'DELETE' && up(toks[1]) !== 'FROM') {
    if (up(toks[1]) === 'TOP') throw new TsqlError(102, "Incorrect syntax near 'TOP'. (TDS simulator: DELETE TOP is not supported)");
    // DELETE alias FROM table alias JOIN … is not supported; DELETE table WHERE … is
    const hasFrom = toks.slice(2).some((t) => up(t) === 'FROM');
    if (hasFrom) throw new TsqlError(102, "Incorrect syntax near 'FROM'. (TDS simulator: DELETE … FROM with joins is not supported)");
    toks.splice(1, 0, mk('word', 'FROM'));
  }
  if (verb === 'ALTER' && up(toks[1]) === 'TABLE') {
    let depth = 0;
    let inAdd = false;
    for (let i = 2; i < toks.length; i++) {
      const t = toks[i]!;
      if (t.k === 'lp') depth++;
      else if (t.k === 'rp') depth--;
      else if (depth === 0 && up(t) === 'ADD') inAdd = true;
      else if (depth === 0 && inAdd && t.k === 'comma') {
        toks.splice(i + 1, 0, mk('word', 'ADD'));
        i++;
      }
    }
  }
  // TOP
  for (let i = 0; i < toks.length; i++) {
    if (up(toks[i]) !== 'TOP') continue;
    const prev = up(toks[i - 1]);
    if (prev !== 'SELECT' && prev !== 'DISTINCT') throw new TsqlError(102, `Incorrect syntax near 'TOP'. (TDS simulator: TOP is supported in SELECT only)`);
    let exprEnd: number;
    let expr: Tok[];
    if (toks[i + 1]?.k === 'lp') {
      exprEnd = findClose(toks, i + 1);
      expr = toks.slice(i + 1, exprEnd + 1);
    } else if (toks[i + 1]?.k === 'num' || toks[i + 1]?.k === 'var') {
      exprEnd = i + 1;
      expr = [toks[i + 1]!];
    } else throw syntaxError('TOP');
    const after = up(toks[exprEnd + 1]);
    if (after === 'PERCENT' || (after === 'WITH' && up(toks[exprEnd + 2]) === 'TIES')) {
      throw new TsqlError(102, `Incorrect syntax near '${after}'. (TDS simulator: TOP … ${after} is not supported)`);
    }
    // depth of the SELECT
    let depth = 0;
    let end = toks.length;
    for (let j = exprEnd + 1; j < toks.length; j++) {
      const t = toks[j]!;
      if (t.k === 'lp') depth++;
      else if (t.k === 'rp') {
        if (depth === 0) {
          end = j;
          break;
        }
        depth--;
      } else if (depth === 0 && ['UNION', 'EXCEPT', 'INTERSECT'].includes(up(t))) {
        end = j;
        break;
      }
    }
    toks = [...toks.slice(0, i), ...toks.slice(exprEnd + 1, end), mk('word', 'LIMIT'), ...expr, ...toks.slice(end)];
    i--;
  }
  if (verb === 'UPDATE') toks = restructureUpdate(toks);
  return nullsOrdering(toks, notNull);
}

/** SQL Server sorts NULLs first in ascending order (PostgreSQL: last): add NULLS FIRST/LAST to ORDER BY items. */
function nullsOrdering(input: Tok[], notNull: (column: string) => boolean): Tok[] {
  const mk = (v: string): Tok => ({ k: 'word', v, pos: -1, end: -1 });
  const out: Tok[] = [];
  const stops = new Set(['OFFSET', 'LIMIT', 'FETCH', 'UNION', 'EXCEPT', 'INTERSECT', 'FOR', 'OPTION']);
  let i = 0;
  while (i < input.length) {
    const t = input[i]!;
    out.push(t);
    i++;
    if (up(t) !== 'ORDER' || up(input[i]) !== 'BY') continue;
    out.push(input[i]!);
    i++;
    let depth = 0;
    let item: Tok[] = [];
    const flush = (): void => {
      if (!item.length) return;
      const last = up(item[item.length - 1]);
      const hasNulls = item.some((x, j) => up(x) === 'NULLS' && j >= item.length - 2);
      const bare = item.filter((x) => up(x) !== 'ASC' && up(x) !== 'DESC');
      // a single NOT NULL column: no NULLS clause, so PostgreSQL can still walk the index
      const simple =
        (bare.length === 1 || (bare.length === 3 && bare[1]!.k === 'dot')) &&
        (bare[bare.length - 1]!.k === 'word' || bare[bare.length - 1]!.k === 'qid') &&
        notNull(bare[bare.length - 1]!.v.toLowerCase());
      out.push(...item);
      if (!hasNulls && !simple) out.push(mk('NULLS'), mk(last === 'DESC' ? 'LAST' : 'FIRST'));
      item = [];
    };
    for (; i < input.length; i++) {
      const c = input[i]!;
      if (c.k === 'lp') depth++;
      else if (c.k === 'rp') {
        if (depth === 0) break;
        depth--;
      } else if (depth === 0 && c.k === 'semi') break;
      else if (depth === 0 && c.k === 'word' && stops.has(up(c))) break;
      if (depth === 0 && c.k === 'comma') {
        flush();
        out.push(c);
        continue;
      }
      item.push(c);
    }
    flush();
  }
  return out;
}

function restructureUpdate(toks: Tok[]): Tok[] {
  const mk = (k: TokKind, v: string): Tok => ({ k, v, pos: -1, end: -1 });
  if (up(toks[1]) === 'TOP') throw new TsqlError(102, "Incorrect syntax near 'TOP'. (TDS simulator: UPDATE TOP is not supported)");
  // locate SET, FROM, WHERE at depth 0
  let setAt = -1;
  let fromAt = -1;
  let whereAt = -1;
  let depth = 0;
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.k === 'lp') depth++;
    else if (t.k === 'rp') depth--;
    else if (depth === 0) {
      const w = up(t);
      if (w === 'SET' && setAt < 0) setAt = i;
      else if (w === 'FROM' && setAt >= 0 && fromAt < 0) fromAt = i;
      else if (w === 'WHERE' && setAt >= 0 && whereAt < 0) whereAt = i;
    }
  }
  if (setAt < 0) throw syntaxError(toks[toks.length - 1]!.v);
  const target = toks.slice(1, setAt);
  let setList = toks.slice(setAt + 1, fromAt >= 0 ? fromAt : whereAt >= 0 ? whereAt : toks.length);
  // strip qualifiers on assignment targets: SET a.x = … → SET x = …
  const cleaned: Tok[] = [];
  depth = 0;
  for (let i = 0; i < setList.length; i++) {
    const t = setList[i]!;
    if (t.k === 'lp') depth++;
    else if (t.k === 'rp') depth--;
    const atStart = i === 0 || (depth === 0 && setList[i - 1]!.k === 'comma');
    if (atStart && setList[i + 1]?.k === 'dot' && setList[i + 3]?.k === 'op') {
      i += 1;
      continue;
    }
    cleaned.push(t);
  }
  setList = cleaned;
  if (fromAt < 0) return [toks[0]!, ...target, mk('word', 'SET'), ...setList, ...(whereAt >= 0 ? toks.slice(whereAt) : [])];
  const fromEnd = whereAt >= 0 ? whereAt : toks.length;
  const fromToks = toks.slice(fromAt + 1, fromEnd);
  const where = whereAt >= 0 ? toks.slice(whereAt + 1) : [];
  // split FROM into sources: first source, then [INNER] JOIN src ON cond …
  const sources: { src: Tok[]; on: Tok[] }[] = [];
  let cur: Tok[] = [];
  let on: Tok[] | null = null;
  depth = 0;
  const flush = (): void => {
    if (cur.length) sources.push({ src: cur, on: on ?? [] });
    cur = [];
    on = null;
  };
  for (let i = 0; i < fromToks.length; i++) {
    const t = fromToks[i]!;
    if (t.k === 'lp') depth++;
    else if (t.k === 'rp') depth--;
    const w = depth === 0 ? up(t) : '';
    if (w === 'LEFT' || w === 'RIGHT' || w === 'FULL' || w === 'OUTER' || w === 'CROSS') {
      throw new TsqlError(102, `Incorrect syntax near '${t.v}'. (TDS simulator: UPDATE with outer joins is not supported)`);
    }
    if (w === 'INNER') continue;
    if (w === 'JOIN' || (depth === 0 && t.k === 'comma' && on === null)) {
      flush();
      continue;
    }
    if (w === 'ON' && on === null) {
      on = [];
      continue;
    }
    if (on !== null) (on as Tok[]).push(t);
    else cur.push(t);
  }
  flush();
  const nameOf = (src: Tok[]): { table: string; alias: string } => {
    const ids = src.filter((x) => x.k === 'word' || x.k === 'qid').filter((x) => up(x) !== 'AS' && up(x) !== 'DBO' && x.v.toLowerCase() !== 'dbo');
    const table = (ids[0]?.v ?? '').toLowerCase();
    const alias = (ids[ids.length - 1]?.v ?? '').toLowerCase();
    return { table, alias };
  };
  const targetName = target.filter((x) => x.k === 'word' || x.k === 'qid').map((x) => x.v.toLowerCase()).filter((x) => x !== 'dbo').pop() ?? '';
  const idx = sources.findIndex((s) => {
    if (s.src[0]?.k === 'lp') return false;
    const n = nameOf(s.src);
    return n.alias === targetName || n.table === targetName;
  });
  const conds: Tok[][] = sources.filter((s) => s.on.length).map((s) => s.on);
  if (idx < 0) {
    // UPDATE t SET … FROM other sources: PostgreSQL form already (join conditions move to WHERE)
    const others = sources.map((s) => s.src);
    return buildUpdate(toks[0]!, target, setList, others, [...conds, ...(where.length ? [where] : [])]);
  }
  const self = sources[idx]!;
  const others = sources.filter((_, j) => j !== idx).map((s) => s.src);
  const selfSrc = self.src.filter((x) => up(x) !== 'AS');
  const n = nameOf(self.src);
  const aliasTok = selfSrc[selfSrc.length - 1]!;
  const tableToks = n.alias !== n.table ? selfSrc.slice(0, -1) : selfSrc;
  const newTarget = n.alias !== n.table ? [...tableToks, mk('word', 'AS'), aliasTok] : tableToks;
  return buildUpdate(toks[0]!, newTarget, setList, others, [...conds, ...(where.length ? [where] : [])]);
}

function buildUpdate(verb: Tok, target: Tok[], setList: Tok[], others: Tok[][], conds: Tok[][]): Tok[] {
  const mk = (k: TokKind, v: string): Tok => ({ k, v, pos: -1, end: -1 });
  const out: Tok[] = [verb, ...target, mk('word', 'SET'), ...setList];
  if (others.length) {
    out.push(mk('word', 'FROM'));
    others.forEach((o, i) => {
      if (i) out.push(mk('comma', ','));
      out.push(...o);
    });
  }
  if (conds.length) {
    out.push(mk('word', 'WHERE'));
    conds.forEach((c, i) => {
      if (i) out.push(mk('word', 'AND'));
      out.push(mk('lp', '('), ...c, mk('rp', ')'));
    });
  }
  return out;
}

const STRING_FUNCS_RENAME: Record<string, string> = {
  ISNULL: 'COALESCE',
  LEN: 'tds_sys.len',
  CHARINDEX: 'tds_sys.charindex',
  YEAR: 'tds_sys.year_of',
  MONTH: 'tds_sys.month_of',
  DAY: 'tds_sys.day_of',
  COL_LENGTH: 'tds_sys.col_length',
  OBJECT_ID: 'tds_sys.object_id',
  COUNT_BIG: 'count',
  CEILING: 'ceiling',
  NEWID: 'gen_random_uuid',
  SPACE: 'tds_sys.space',
  REPLICATE: 'repeat',
  CHAR: 'chr',
  NCHAR: 'chr',
  ISNUMERIC: 'tds_sys.isnumeric',
  DATALENGTH: 'tds_sys.datalength',
  SQUARE: 'tds_sys.square',
};

export class Translator {
  private params: (string | null)[] = [];
  private paramIndex = new Map<string, number>();
  private names = new Set<string>();
  private colMap = new Map<string, string>();
  private tableMap = new Map<string, string>();
  /** aliases defined with AS (lower-case → as written) */
  private aliases = new Map<string, string>();
  /** token range of an UPDATE's SET list (assignments, not comparisons) */
  private assignRange: [number, number] | null = null;

  constructor(private readonly ctx: TranslateContext) {}

  translate(input: Tok[]): Translated {
    const toks = restructure(input, (col) => {
      let seen = false;
      for (const tab of this.ctx.catalog.tables.values()) {
        const c = tab.columns.get(col);
        if (c) {
          if (!c.notNull) return false;
          seen = true;
        }
      }
      return seen;
    });
    // tables referenced → their columns take precedence
    const referenced: CatalogTable[] = [];
    for (const t of toks) {
      if (t.k === 'word' || t.k === 'qid') {
        const tab = this.ctx.catalog.tables.get(t.v.toLowerCase());
        if (tab && !referenced.includes(tab)) referenced.push(tab);
      }
    }
    for (const tab of this.ctx.catalog.tables.values()) this.tableMap.set(tab.name.toLowerCase(), tab.name);
    for (const c of INFO_SCHEMA_COLUMNS) this.colMap.set(c.toLowerCase(), c);
    for (const tab of this.ctx.catalog.tables.values()) {
      if (!referenced.includes(tab)) for (const c of tab.columns.values()) this.colMap.set(c.name.toLowerCase(), c.name);
    }
    for (const tab of referenced.slice().reverse()) for (const c of tab.columns.values()) this.colMap.set(c.name.toLowerCase(), c.name);
    for (let i = 1; i < toks.length; i++) {
      const t = toks[i]!;
      if ((t.k === 'word' || t.k === 'qid') && up(toks[i - 1]) === 'AS') this.aliases.set(t.v.toLowerCase(), t.v);
    }
    const verb = up(input[0]);
    if (verb === 'UPDATE') {
      let depth = 0;
      let setAt = -1;
      for (let i = 1; i < toks.length; i++) {
        const t = toks[i]!;
        if (t.k === 'lp') depth++;
        else if (t.k === 'rp') depth--;
        else if (depth === 0 && setAt < 0 && up(t) === 'SET') setAt = i;
        else if (depth === 0 && setAt >= 0 && (up(t) === 'FROM' || up(t) === 'WHERE')) {
          this.assignRange = [setAt, i];
          break;
        }
      }
      if (setAt >= 0 && !this.assignRange) this.assignRange = [setAt, toks.length];
    }
    const sql = this.emit(toks, 0, toks.length);
    const returnsRows = verb === 'SELECT' || (verb === 'WITH' && toks.some((t) => up(t) === 'SELECT'));
    return {
      sql,
      params: this.params,
      select: returnsRows ? describeSelect(input, this.ctx.catalog, this.ctx.vars) : null,
      names: this.names,
      isDdl: verb === 'CREATE' || verb === 'ALTER' || verb === 'DROP',
      returnsRows: verb === 'SELECT' || (verb === 'WITH' && toks.some((t) => up(t) === 'SELECT')),
    };
  }

  /** Translates an expression for evaluation in `SELECT <expr>`. */
  expr(toks: Tok[]): string {
    for (const tab of this.ctx.catalog.tables.values()) {
      this.tableMap.set(tab.name.toLowerCase(), tab.name);
      for (const c of tab.columns.values()) this.colMap.set(c.name.toLowerCase(), c.name);
    }
    return this.emit(restructure(toks), 0, toks.length);
  }

  get parameters(): (string | null)[] {
    return this.params;
  }

  private param(name: string): string {
    const key = name.toLowerCase();
    const v = this.ctx.vars.get(key);
    if (!v) throw new TsqlError(137, `Must declare the scalar variable "${name}".`, 15, 2);
    let idx = this.paramIndex.get(key);
    if (idx === undefined) {
      this.params.push(v.value);
      idx = this.params.length;
      this.paramIndex.set(key, idx);
    }
    // binary values travel as hex text (drivers of PostgreSQL want bytes for a bytea parameter)
    if (v.pgCast === 'bytea' || v.pgCast === 'tds_sys.t_image') return `decode(regexp_replace($${idx}::text, '^\\\\x', ''), 'hex')`;
    return v.pgCast ? `($${idx}::${v.pgCast})` : `$${idx}`;
  }

  private sysvar(t: Tok): string {
    const w = t.v.toUpperCase();
    switch (w) {
      case '@@VERSION':
        return quoteLit(this.ctx.versionString);
      case '@@ROWCOUNT':
        return String(this.ctx.rowcount);
      case '@@TRANCOUNT':
        return String(this.ctx.trancount);
      case '@@SPID':
        return String(this.ctx.spid);
      case '@@SERVERNAME':
        return quoteLit(this.ctx.serverName);
      case '@@ERROR':
        return '0';
      case '@@IDENTITY':
        // no IDENTITY columns in the simulator: NULL, as SQL Server answers before any identity insert
        return 'CAST(NULL AS numeric(38,0))';
      case '@@LANGUAGE':
        return quoteLit('us_english');
      default:
        throw new TsqlError(195, `'${t.v}' is not a recognized built-in function name.`, 15, 10);
    }
  }

  private emit(toks: Tok[], from: number, to: number): string {
    const out: string[] = [];
    for (let i = from; i < to; i++) {
      const t = toks[i]!;
      const next = toks[i + 1];
      switch (t.k) {
        case 'str':
          out.push(quoteLit(t.v));
          break;
        case 'num':
          if (/^0x/i.test(t.v)) out.push(`'\\x${t.v.slice(2)}'::bytea`);
          else out.push(t.v);
          break;
        case 'var':
          out.push(this.param(t.v));
          break;
        case 'sysvar':
          out.push(this.sysvar(t));
          break;
        case 'op':
          if (t.v === '!<') out.push('>=');
          else if (t.v === '!>') out.push('<=');
          else if (['+=', '-=', '*=', '/='].includes(t.v)) throw syntaxError(t.v);
          else out.push(t.v);
          break;
        case 'lp':
        case 'rp':
        case 'comma':
          out.push(t.v);
          break;
        case 'dot':
          out.push('.');
          break;
        case 'semi':
          break;
        case 'qid':
        case 'word': {
          const pad = this.padCompare(toks, i, to);
          if (pad) {
            out.push(pad.sql);
            i = pad.next - 1;
            break;
          }
          const w = t.k === 'word' ? t.v.toUpperCase() : '';
          // dbo. / db.dbo. prefixes
          if (next?.k === 'dot' && t.v.toLowerCase() === 'dbo') {
            i++;
            break;
          }
          if (next?.k === 'dot' && toks[i + 2] && toks[i + 2]!.v.toLowerCase() === 'dbo' && toks[i + 3]?.k === 'dot') {
            i += 3;
            break;
          }
          if (t.v.toUpperCase() === 'INFORMATION_SCHEMA' && next?.k === 'dot') {
            const view = toks[i + 2];
            const vn = (view?.v ?? '').toUpperCase();
            if (vn !== 'COLUMNS' && vn !== 'TABLES') {
              throw new TsqlError(208, `Invalid object name 'INFORMATION_SCHEMA.${view?.v ?? ''}'.`, 16, 1);
            }
            out.push(`tds_sys.${vn.toLowerCase()}`);
            i += 2;
            break;
          }
          if (t.k === 'word' && t.v.startsWith('#')) {
            throw new TsqlError(208, `Invalid object name '${t.v}'. (TDS simulator: temporary tables are not supported)`, 16, 0);
          }
          // column definition in CREATE TABLE: ident type
          const prevTok = toks[i - 1];
          if (
            t.k === 'word' &&
            TYPE_WORDS.has(w) &&
            prevTok &&
            (prevTok.k === 'word' || prevTok.k === 'qid') &&
            !KEYWORDS.has(up(prevTok)) &&
            this.inColumnDefinition(toks, i)
          ) {
            const ty = translateType(toks, i);
            out.push(ty.sql);
            i = ty.next - 1;
            break;
          }
          if (
            t.k === 'word' &&
            next?.k === 'lp' &&
            !KEYWORDS.has(w) &&
            !this.tableMap.has(t.v.toLowerCase()) &&
            !['INTO', 'TABLE', 'UPDATE', 'FROM', 'JOIN', 'REFERENCES', 'AS', 'WITH'].includes(up(toks[i - 1])) &&
            toks[i - 1]?.k !== 'dot' &&
            toks[i - 1]?.k !== 'rp'
          ) {
            const r = this.func(toks, i);
            out.push(r.sql);
            i = r.next - 1;
            break;
          }
          if (t.k === 'word' && (w === 'LIKE' || (w === 'NOT' && up(next) === 'LIKE'))) {
            // T-SQL LIKE (%, _, [set], [^set]) under the database collation: a tds_sys operator
            const negated = w === 'NOT';
            if (negated) i++;
            const cs = this.ctx.caseSensitive ? '_cs' : '';
            out.push(`OPERATOR(tds_sys.${negated ? '!' : ''}~~${cs ? '#' : '%'})`);
            const pat = toks[i + 1];
            if (pat && up(toks[i + 2]) === 'ESCAPE' && toks[i + 3]) {
              out.push(`tds_sys.like_escape(${this.emit(toks, i + 1, i + 2)}, ${this.emit(toks, i + 3, i + 4)})`);
              i += 3;
            } else if (toks.slice(i + 2).some((x) => up(x) === 'ESCAPE') && !toks.slice(i + 2).some((x) => up(x) === 'LIKE')) {
              throw new TsqlError(102, "Incorrect syntax near 'ESCAPE'. (TDS simulator: LIKE … ESCAPE takes a literal or a variable as pattern)", 15, 1);
            }
            break;
          }
          if (t.k === 'word' && KEYWORDS.has(w)) {
            out.push(w);
            // type after AS inside CAST(… AS type) handled in func()
            if (w === 'ADD' && (next?.k === 'word' || next?.k === 'qid') && toks[i + 2] && up(toks[i + 2]) !== '' && TYPE_WORDS.has(up(toks[i + 2]))) {
              // ALTER TABLE … ADD col type
              out.push(this.ident(next));
              const ty = translateType(toks, i + 2);
              out.push(ty.sql);
              i = ty.next - 1;
            }
            break;
          }
          if (t.k === 'word' && (w === 'CURRENT_TIMESTAMP' || w === 'GETDATE')) {
            out.push('LOCALTIMESTAMP(3)');
            break;
          }
          if (t.k === 'word' && w === 'LIMIT' && t.pos === -1) {
            out.push('LIMIT');
            break;
          }
          if (t.k === 'word' && (w === 'IDENTITY')) {
            throw new TsqlError(102, "Incorrect syntax near 'IDENTITY'. (TDS simulator: IDENTITY columns are not supported)");
          }
          if (t.k === 'word' && (w === 'CLUSTERED' || w === 'NONCLUSTERED')) break;
          if (up(prevTok) === 'AS') {
            // alias definition: kept exactly as written (result column names are case-sensitive)
            this.names.add(t.v.toLowerCase());
            out.push(quoteIdent(t.v));
            break;
          }
          const alias = next?.k === 'dot' ? this.aliases.get(t.v.toLowerCase()) : undefined;
          out.push(alias !== undefined ? quoteIdent(alias) : this.ident(t));
          break;
        }
      }
    }
    return out.join(' ').replace(/ \. /g, '.').replace(/\( /g, '(').replace(/ \)/g, ')').replace(/ ,/g, ',');
  }

  /**
   * `column = 'text'` / `column <> @p` on a character column: SQL Server ignores trailing spaces when it compares
   * strings ('S01  ' = 'S01'); emitted as tds_sys.pad_eq(column, value), which keeps the index usable.
   */
  private padCompare(toks: Tok[], i: number, to: number): { sql: string; next: number } | null {
    if (this.assignRange && i >= this.assignRange[0] && i < this.assignRange[1]) return null;
    const isId = (t: Tok | undefined): boolean => !!t && (t.k === 'qid' || (t.k === 'word' && !KEYWORDS.has(up(t)) && !TYPE_WORDS.has(up(t))));
    const prev = toks[i - 1];
    const boundary = !prev || prev.k === 'lp' || (prev.k === 'word' && ['WHERE', 'AND', 'OR', 'ON', 'NOT', 'WHEN', 'HAVING'].includes(up(prev)));
    if (!boundary || !isId(toks[i])) return null;
    let j = i;
    if (toks[j + 1]?.k === 'dot') {
      if (!isId(toks[j + 2])) return null;
      j += 2;
    }
    const op = toks[j + 1];
    const rhs = toks[j + 2];
    if (!op || op.k !== 'op' || !['=', '<>', '!='].includes(op.v) || !rhs || j + 2 >= to) return null;
    const after = j + 3 < to ? toks[j + 3] : undefined;
    const ends = ['AND', 'OR', 'THEN', 'WHEN', 'ELSE', 'END', 'ORDER', 'GROUP', 'HAVING', 'UNION', 'INNER', 'LEFT', 'RIGHT', 'JOIN', 'WHERE', 'OPTION'];
    if (after && !(after.k === 'rp' || after.k === 'semi' || after.k === 'comma' || (after.k === 'word' && ends.includes(up(after))))) return null;
    const stringy = rhs.k === 'str' || (rhs.k === 'var' && this.ctx.vars.has(rhs.v.toLowerCase()) && this.ctx.vars.get(rhs.v.toLowerCase())!.pgCast === null);
    if (!stringy) return null;
    const col = toks[j]!.v.toLowerCase();
    const character = [...this.ctx.catalog.tables.values()].some((tab) => {
      const c = tab.columns.get(col);
      return !!c && ['character varying', 'character', 'text'].includes(c.pgType);
    });
    if (!character) return null;
    const call = `tds_sys.pad_eq(${this.emit(toks, i, j + 1)}, ${this.emit(toks, j + 2, j + 3)})`;
    return { sql: op.v === '=' ? call : `NOT ${call}`, next: j + 3 };
  }

  private inColumnDefinition(toks: Tok[], i: number): boolean {
    const v = up(toks[0]);
    if (v !== 'CREATE' && v !== 'ALTER') return false;
    // previous-previous token must be '(' or ',' or ADD
    const pp = toks[i - 2];
    return !!pp && (pp.k === 'lp' || pp.k === 'comma' || up(pp) === 'ADD');
  }

  private ident(t: Tok): string {
    const lower = t.v.toLowerCase();
    if (t.k === 'word' || t.k === 'qid') this.names.add(lower);
    const tab = this.tableMap.get(lower);
    if (tab) return quoteIdent(tab);
    const col = this.colMap.get(lower);
    if (col) return quoteIdent(col);
    return quoteIdent(t.v);
  }

  /** Function call at toks[i] (word followed by '('). */
  private func(toks: Tok[], i: number): { sql: string; next: number } {
    const name = toks[i]!.v.toUpperCase();
    const lp = i + 1;
    const rp = findClose(toks, lp);
    const args = splitArgs(toks, lp, rp);
    const sub = (a: Tok[] | undefined): string => {
      if (!a || a.length === 0) throw syntaxError(')');
      return this.emit(a, 0, a.length);
    };
    const next = rp + 1;
    const argc = (n: number, m = n): void => {
      if (args.length < n || args.length > m) {
        throw new TsqlError(174, `The ${name.toLowerCase()} function requires ${n} argument(s).`, 15, 1);
      }
    };
    switch (name) {
      case 'GETDATE':
      case 'SYSDATETIME':
      case 'CURRENT_TIMESTAMP':
        argc(0);
        return { sql: name === 'GETDATE' ? 'LOCALTIMESTAMP(3)' : 'LOCALTIMESTAMP', next };
      case 'GETUTCDATE':
      case 'SYSUTCDATETIME':
        argc(0);
        return { sql: "(now() AT TIME ZONE 'UTC')", next };
      case 'DB_NAME':
        return { sql: quoteLit(this.ctx.database), next };
      case 'SERVERPROPERTY': {
        argc(1);
        const p = args[0]![0]?.v.toLowerCase() ?? '';
        const map: Record<string, string> = {
          productversion: this.ctx.serverVersion,
          productlevel: 'RTM',
          edition: 'Express Edition (64-bit)',
          engineedition: '4',
          machinename: this.ctx.serverName,
          servername: this.ctx.serverName,
          collation: this.ctx.collation ?? 'French_CI_AS',
          instancename: '',
          isintegratedsecurityonly: '0',
          isclustered: '0',
          ishadrenabled: '0',
          isfulltextinstalled: '0',
          productmajorversion: this.ctx.serverVersion.split('.')[0] ?? '15',
          productminorversion: this.ctx.serverVersion.split('.')[1] ?? '0',
          productbuild: this.ctx.serverVersion.split('.')[2] ?? '2000',
        };
        const v = map[p];
        return { sql: v === undefined ? 'NULL' : quoteLit(v), next };
      }
      case 'SUSER_SNAME':
      case 'SUSER_NAME':
      case 'USER_NAME':
      case 'CURRENT_USER':
        return { sql: quoteLit('dbo'), next };
      case 'SCHEMA_NAME':
        return { sql: quoteLit('dbo'), next };
      case 'DATEADD':
      case 'DATEDIFF':
      case 'DATEPART':
      case 'DATENAME': {
        argc(name === 'DATEADD' || name === 'DATEDIFF' ? 3 : 2);
        const partTok = args[0]!;
        const part = partTok.length === 1 ? DATEPARTS[partTok[0]!.v.toUpperCase().replace(/'/g, '')] : undefined;
        if (!part) throw new TsqlError(155, `'${partTok.map((x) => x.v).join(' ')}' is not a recognized ${name.toLowerCase()} option.`, 15, 1);
        const rest = args.slice(1).map((a) => sub(a));
        const fn = name === 'DATENAME' ? 'datepart' : name.toLowerCase();
        return { sql: `tds_sys.${fn}(${quoteLit(part)}, ${rest.join(', ')})`, next };
      }
      case 'CAST': {
        argc(1);
        const a = args[0]!;
        let asAt = -1;
        let depth = 0;
        for (let j = 0; j < a.length; j++) {
          if (a[j]!.k === 'lp') depth++;
          else if (a[j]!.k === 'rp') depth--;
          else if (depth === 0 && up(a[j]) === 'AS') asAt = j;
        }
        if (asAt < 0) throw syntaxError(')');
        const ty = translateType(a, asAt + 1);
        return { sql: `CAST(${sub(a.slice(0, asAt))} AS ${ty.sql})`, next };
      }
      case 'TRY_CAST':
        throw new TsqlError(195, `'TRY_CAST' is not supported by the TDS simulator.`, 15, 10);
      case 'CONVERT': {
        argc(2, 3);
        const ty = translateType(args[0]!, 0);
        const e = sub(args[1]);
        if (args.length === 3) {
          const style = Number(args[2]!.map((x) => x.v).join(''));
          const fmt = CONVERT_STYLES[style];
          if (!fmt) throw new TsqlError(281, `${style} is not a valid style number when converting.`, 16, 1);
          if (/char|text/.test(ty.sql)) return { sql: `CAST(to_char(${e}, ${quoteLit(fmt)}) AS ${ty.sql})`, next };
          return { sql: `CAST(to_timestamp(CAST(${e} AS text), ${quoteLit(fmt)}) AS ${ty.sql})`, next };
        }
        return { sql: `CAST(${e} AS ${ty.sql})`, next };
      }
      case 'IIF': {
        argc(3);
        return { sql: `(CASE WHEN ${sub(args[0])} THEN ${sub(args[1])} ELSE ${sub(args[2])} END)`, next };
      }
      case 'ROUND': {
        argc(2, 3);
        return { sql: `round(CAST(${sub(args[0])} AS numeric), ${sub(args[1])})`, next };
      }
      case 'STR':
        return { sql: `CAST(${sub(args[0])} AS text)`, next };
      case 'SCOPE_IDENTITY':
      case 'IDENT_CURRENT':
        // the simulator has no IDENTITY columns: SQL Server answers NULL when none was inserted
        return { sql: 'CAST(NULL AS numeric(38,0))', next };
      case 'DATABASEPROPERTYEX': {
        argc(2);
        const p = args[1]![0]?.v.toLowerCase() ?? '';
        const map: Record<string, string> = {
          collation: this.ctx.collation ?? 'French_CI_AS',
          status: 'ONLINE',
          updateability: 'READ_WRITE',
          useraccess: 'MULTI_USER',
          recovery: 'SIMPLE',
          version: '904',
        };
        const v = map[p];
        return { sql: v === undefined ? 'NULL' : quoteLit(v), next };
      }
      case 'CHARINDEX': {
        argc(2, 3);
        const fn = this.ctx.caseSensitive ? 'tds_sys.charindex' : 'tds_sys.charindex_ci';
        return { sql: `${fn}(${args.map((a) => sub(a)).join(', ')})`, next };
      }
      case 'REPLACE': {
        argc(3);
        const fn = this.ctx.caseSensitive ? 'replace' : 'tds_sys.replace_ci';
        return { sql: `${fn}(${args.map((a) => sub(a)).join(', ')})`, next };
      }
      default: {
        const renamed = STRING_FUNCS_RENAME[name] ?? name.toLowerCase();
        const inner = args.length === 0 ? '' : args.map((a) => (a.length === 1 && a[0]!.k === 'op' && a[0]!.v === '*' ? '*' : sub(a))).join(', ');
        const distinct = toks[lp + 1] && up(toks[lp + 1]) === 'DISTINCT';
        if (name === 'COUNT') {
          const call = `count(${distinct ? this.emit(toks, lp + 1, rp) : inner})`;
          if (up(toks[next]) === 'OVER' && toks[next + 1]?.k === 'lp') {
            const close = findClose(toks, next + 1);
            return { sql: `CAST(${call} OVER ${this.emit(toks, next + 1, close + 1)} AS integer)`, next: close + 1 };
          }
          return { sql: `CAST(${call} AS integer)`, next };
        }
        if (distinct) return { sql: `${renamed}(${this.emit(toks, lp + 1, rp)})`, next };
        return { sql: `${renamed}(${inner})`, next };
      }
    }
  }
}


// ---------------------------------------------------------------------------------------------
// Result columns: names and types as SQL Server reports them in COLMETADATA

const SELECT_END = new Set(['FROM', 'INTO', 'WHERE', 'GROUP', 'HAVING', 'ORDER', 'UNION', 'EXCEPT', 'INTERSECT', 'OPTION', 'FOR']);
const FROM_END = new Set(['WHERE', 'GROUP', 'HAVING', 'ORDER', 'UNION', 'EXCEPT', 'INTERSECT', 'OPTION', 'FOR']);
const JOIN_WORDS = new Set(['JOIN', 'INNER', 'LEFT', 'RIGHT', 'FULL', 'OUTER', 'CROSS', 'ON', 'APPLY']);

interface FromSource {
  alias: string;
  table: CatalogTable | null;
}

/** Index of the main SELECT of a SELECT or WITH … SELECT statement (depth 0), or -1. */
function mainSelect(toks: Tok[]): number {
  if (up(toks[0]) === 'SELECT') return 0;
  if (up(toks[0]) !== 'WITH') return -1;
  let depth = 0;
  for (let i = 1; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.k === 'lp') depth++;
    else if (t.k === 'rp') depth--;
    else if (depth === 0 && up(t) === 'SELECT') return i;
  }
  return -1;
}

function fromSources(toks: Tok[], fromAt: number, catalog: Catalog): FromSource[] {
  const out: FromSource[] = [];
  let i = fromAt + 1;
  const isName = (t: Tok | undefined): boolean => !!t && (t.k === 'qid' || (t.k === 'word' && !KEYWORDS.has(up(t)) && !JOIN_WORDS.has(up(t))));
  while (i < toks.length) {
    const t = toks[i]!;
    if (t.k === 'word' && FROM_END.has(up(t))) break;
    if (t.k === 'semi') break;
    if (t.k === 'lp') {
      // derived table: (SELECT …) AS x or (VALUES …) AS v(a, b)
      i = findClose(toks, i) + 1;
      if (up(toks[i]) === 'AS') i++;
      if (isName(toks[i])) {
        out.push({ alias: toks[i]!.v.toLowerCase(), table: null });
        i++;
      }
      if (toks[i]?.k === 'lp') i = findClose(toks, i) + 1;
      continue;
    }
    if (isName(t)) {
      const parts = [t.v];
      i++;
      while (toks[i]?.k === 'dot' && toks[i + 1] && (toks[i + 1]!.k === 'word' || toks[i + 1]!.k === 'qid')) {
        parts.push(toks[i + 1]!.v);
        i += 2;
      }
      const name = parts[parts.length - 1]!;
      const table = catalog.tables.get(name.toLowerCase()) ?? null;
      let alias = name.toLowerCase();
      if (up(toks[i]) === 'WITH' && toks[i + 1]?.k === 'lp') i = findClose(toks, i + 1) + 1;
      if (up(toks[i]) === 'AS') i++;
      if (isName(toks[i])) {
        alias = toks[i]!.v.toLowerCase();
        i++;
      }
      out.push({ alias, table });
      continue;
    }
    if (t.k === 'word' && up(t) === 'ON') {
      // skip the join condition up to the next source
      i++;
      let depth = 0;
      while (i < toks.length) {
        const c = toks[i]!;
        if (c.k === 'lp') depth++;
        else if (c.k === 'rp') depth--;
        else if (depth === 0 && c.k === 'word' && (JOIN_WORDS.has(up(c)) || FROM_END.has(up(c))) && up(c) !== 'ON') break;
        else if (depth === 0 && (c.k === 'comma' || c.k === 'semi')) break;
        i++;
      }
      continue;
    }
    i++;
  }
  return out;
}

const SYSVAR_TYPES: Record<string, string> = {
  '@@VERSION': 'nvarchar(300)', '@@SERVERNAME': 'nvarchar(128)', '@@SPID': 'smallint', '@@ROWCOUNT': 'int', '@@TRANCOUNT': 'int',
  '@@ERROR': 'int', '@@LANGUAGE': 'nvarchar(128)', '@@IDENTITY': 'numeric(38,0)',
};

/** Result types of built-in functions whose type does not depend on their arguments. */
const FUNCTION_TYPES: Record<string, string> = {
  DB_NAME: 'nvarchar(128)', SERVERPROPERTY: 'sql_variant', DATABASEPROPERTYEX: 'sql_variant', SCOPE_IDENTITY: 'numeric(38,0)',
  IDENT_CURRENT: 'numeric(38,0)', GETDATE: 'datetime', GETUTCDATE: 'datetime', CURRENT_TIMESTAMP: 'datetime', SYSDATETIME: 'datetime2(7)',
  SYSUTCDATETIME: 'datetime2(7)', NEWID: 'uniqueidentifier', COUNT: 'int', COUNT_BIG: 'bigint', USER_NAME: 'nvarchar(128)',
  SUSER_SNAME: 'nvarchar(128)', SUSER_NAME: 'nvarchar(128)', SCHEMA_NAME: 'nvarchar(128)', OBJECT_ID: 'int', COL_LENGTH: 'smallint',
  DATEDIFF: 'int', DATEPART: 'int', YEAR: 'int', MONTH: 'int', DAY: 'int', CHARINDEX: 'int', ISNUMERIC: 'int', DATALENGTH: 'int',
};

/** SQL Server type of a literal token: N'…' nvarchar(n), '…' varchar(n), 12 int, 1.50 numeric(3,2), 0x0A varbinary(1). */
function literalType(t: Tok): string | null {
  if (t.k === 'str') return `${t.national ? 'nvarchar' : 'varchar'}(${Math.max(1, t.v.length)})`;
  if (t.k === 'num') {
    if (/^0x/i.test(t.v)) return `varbinary(${Math.max(1, Math.ceil((t.v.length - 2) / 2))})`;
    if (/e/i.test(t.v)) return 'float';
    const [ip = '', fp] = t.v.split('.');
    if (fp === undefined) {
      const n = Number(ip);
      return Number.isSafeInteger(n) && n <= 2147483647 ? 'int' : `numeric(${Math.max(1, ip.replace(/^0+/, '').length)},0)`;
    }
    const digits = ip.replace(/^0+/, '').length + fp.length;
    return `numeric(${Math.max(1, digits, fp.length)},${fp.length})`;
  }
  if (t.k === 'word' && up(t) === 'NULL') return 'int';
  return null;
}

/** A SQL Server type written in tokens (CAST target), normalised: 'nvarchar(8)', 'decimal(18,4)', 'datetime'. */
function typeText(toks: Tok[]): string | null {
  const first = toks[0];
  if (!first || first.k !== 'word' || !TYPE_WORDS.has(up(first))) return null;
  const name = up(first).toLowerCase();
  if (toks[1]?.k !== 'lp') {
    const defaults: Record<string, string> = {
      decimal: 'decimal(18,0)', numeric: 'numeric(18,0)', varchar: 'varchar(30)', nvarchar: 'nvarchar(30)', char: 'char(30)',
      nchar: 'nchar(30)', varbinary: 'varbinary(30)', binary: 'binary(30)', datetime2: 'datetime2(7)', time: 'time(7)',
      datetimeoffset: 'datetimeoffset(7)', float: 'float', sysname: 'nvarchar(128)',
    };
    return defaults[name] ?? name;
  }
  const close = findClose(toks, 1);
  const args = toks.slice(2, close).filter((x) => x.k !== 'comma').map((x) => x.v.toLowerCase());
  if (name === 'float') return Number(args[0]) <= 24 ? 'real' : 'float';
  if (name === 'sysname') return 'nvarchar(128)';
  return `${name}(${args.join(',')})`;
}

function splitTop(toks: Tok[], from: number, to: number): Tok[][] {
  const items: Tok[][] = [];
  let cur: Tok[] = [];
  let depth = 0;
  for (let i = from; i < to; i++) {
    const t = toks[i]!;
    if (t.k === 'lp') depth++;
    else if (t.k === 'rp') depth--;
    if (depth === 0 && t.k === 'comma') {
      items.push(cur);
      cur = [];
      continue;
    }
    cur.push(t);
  }
  if (cur.length) items.push(cur);
  return items;
}

/**
 * The top-level select list of a statement with the names and types SQL Server would report:
 * an alias as written; a column reference by its name as written; '' for an expression; `*`
 * expanded to the catalog columns of its sources. Types: the catalog type of a column, the
 * target of CAST/CONVERT, the declared type of a variable, the type of a literal.
 */
export function describeSelect(toks: Tok[], catalog: Catalog, vars: Map<string, VarValue>): SelectItem[] | null {
  const sel = mainSelect(toks);
  if (sel < 0) return null;
  let i = sel + 1;
  if (up(toks[i]) === 'DISTINCT' || up(toks[i]) === 'ALL') i++;
  if (up(toks[i]) === 'TOP') {
    i++;
    if (toks[i]?.k === 'lp') i = findClose(toks, i) + 1;
    else i++;
    if (up(toks[i]) === 'PERCENT') i++;
    if (up(toks[i]) === 'WITH' && up(toks[i + 1]) === 'TIES') i += 2;
  }
  let end = toks.length;
  let depth = 0;
  for (let j = i; j < toks.length; j++) {
    const t = toks[j]!;
    if (t.k === 'lp') depth++;
    else if (t.k === 'rp') depth--;
    else if (depth === 0 && (t.k === 'semi' || (t.k === 'word' && SELECT_END.has(up(t))))) {
      end = j;
      break;
    }
  }
  const sources = up(toks[end]) === 'FROM' ? fromSources(toks, end, catalog) : [];
  const union = toks.some((t, j) => j > end && ['UNION', 'EXCEPT', 'INTERSECT'].includes(up(t)));
  const hint = (name: string, sqlType: string | null): SelectItem => ({ kind: 'one', hint: { name, sqlType: union ? null : sqlType } });
  const starOf = (list: FromSource[]): SelectItem => {
    if (list.length === 0 || list.some((s) => !s.table)) return { kind: 'star', columns: null };
    const columns: ResultColumnHint[] = [];
    for (const s of list) for (const c of s.table!.columns.values()) columns.push({ name: c.name, sqlType: union ? null : (c.sqlType ?? null) });
    return { kind: 'star', columns };
  };
  const columnOf = (parts: string[]): CatalogColumn | null => {
    const col = parts[parts.length - 1]!.toLowerCase();
    if (parts.length >= 2) {
      const q = parts[parts.length - 2]!.toLowerCase();
      const src = sources.find((s) => s.alias === q) ?? sources.find((s) => s.table?.name.toLowerCase() === q);
      return src?.table?.columns.get(col) ?? null;
    }
    for (const s of sources) {
      const c = s.table?.columns.get(col);
      if (c) return c;
    }
    return null;
  };
  const out: SelectItem[] = [];
  for (const item of splitTop(toks, i, end)) {
    if (item.length === 1 && item[0]!.k === 'op' && item[0]!.v === '*') {
      out.push(starOf(sources));
      continue;
    }
    const last = item[item.length - 1]!;
    if (last.k === 'op' && last.v === '*' && item[item.length - 2]?.k === 'dot') {
      const q = item[item.length - 3]?.v.toLowerCase() ?? '';
      const src = sources.find((s) => s.alias === q) ?? sources.find((s) => s.table?.name.toLowerCase() === q);
      out.push(starOf(src ? [src] : []));
      continue;
    }
    let name: string | null = null;
    let expr = item;
    if (item.length >= 3 && up(item[item.length - 2]) === 'AS' && (last.k === 'word' || last.k === 'qid' || last.k === 'str')) {
      name = last.v;
      expr = item.slice(0, -2);
    } else if (
      item.length >= 2 &&
      (last.k === 'qid' || (last.k === 'word' && !KEYWORDS.has(up(last)))) &&
      item[item.length - 2]!.k !== 'dot' &&
      item[item.length - 2]!.k !== 'op'
    ) {
      name = last.v;
      expr = item.slice(0, -1);
    }
    const isRef =
      expr.length % 2 === 1 &&
      expr.every((t, j) => (j % 2 === 0 ? t.k === 'qid' || (t.k === 'word' && !KEYWORDS.has(up(t)) && !TYPE_WORDS.has(up(t))) : t.k === 'dot'));
    if (isRef) {
      const parts = expr.filter((t) => t.k !== 'dot').map((t) => t.v);
      const c = columnOf(parts);
      out.push(hint(name ?? parts[parts.length - 1]!, c?.sqlType ?? null));
      continue;
    }
    let sqlType: string | null = null;
    const f = up(expr[0]);
    if ((f === 'CAST' || f === 'CONVERT') && expr[1]?.k === 'lp' && findClose(expr, 1) === expr.length - 1) {
      const args = splitTop(expr, 2, expr.length - 1);
      if (f === 'CONVERT') sqlType = typeText(args[0] ?? []);
      else {
        const a = expr.slice(2, -1);
        let at = -1;
        let d = 0;
        for (let j = 0; j < a.length; j++) {
          if (a[j]!.k === 'lp') d++;
          else if (a[j]!.k === 'rp') d--;
          else if (d === 0 && up(a[j]) === 'AS') at = j;
        }
        if (at >= 0) sqlType = typeText(a.slice(at + 1));
      }
    } else if (expr.length === 1 && expr[0]!.k === 'var') {
      sqlType = vars.get(expr[0]!.v.toLowerCase())?.sqlType ?? null;
    } else if (expr.length === 1 && expr[0]!.k === 'sysvar') {
      sqlType = SYSVAR_TYPES[expr[0]!.v.toUpperCase()] ?? null;
    } else if (expr[1]?.k === 'lp' && findClose(expr, 1) === expr.length - 1 && FUNCTION_TYPES[f]) {
      sqlType = FUNCTION_TYPES[f]!;
    } else if (expr.length === 1) {
      sqlType = literalType(expr[0]!);
    } else if (expr.length === 2 && expr[0]!.k === 'op' && expr[0]!.v === '-' && expr[1]!.k === 'num') {
      sqlType = literalType(expr[1]!);
    }
    out.push(hint(name ?? '', sqlType));
  }
  return out;
}
