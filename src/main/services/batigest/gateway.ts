/**
 * The Batigest (SQL Server) gateway: every SQL statement on the Batigest tables lives here.
 *
 * - Connection from SqlServerSettings (mssql/tedious), one lazy pool per gateway, closed by `close()`.
 * - `testConnection()` opens a separate short-lived connection and returns a French diagnosis.
 * - Columns are detected from INFORMATION_SCHEMA and mapped with candidate names + overrides (columns.ts).
 * - Readers page by keyset (`TOP n … WHERE Code > @last ORDER BY Code`): never a whole table in memory.
 * - `applySuiviMo()` writes a batch in one transaction with a bounded number of statements (suivimo.ts).
 * - `stats` counts SQL round trips and statements, for benchmarks.
 */
import sql from 'mssql';
import type { ConnectionPool, Request as MssqlRequest, Transaction as MssqlTransaction, config as MssqlConfig } from 'mssql';
import { AppError, cancelledError } from '../../../shared/errors.js';
import type { ChantierFieldChange, ConnectionDiagnosis, ChantierSource, DevisSource, Salarie, SuiviMoKey, SuiviMoOp, SuiviMoRow } from '../../../shared/domain.js';
import { z } from 'zod';
import type { CodebsStatus, ColumnTable, DatabaseCandidate, DetectedTable } from '../../../shared/contract.js';
import type { SqlServerSettings } from '../../../shared/settings.js';
import type { BatigestPort, BatigestReadOptions, BatigestSetupPort, FencedWrite, Logger } from '../ports.js';
import { buildMssqlConfig, describeTarget, parseServerAddress, type PoolOptions, type ServerAddress } from './config.js';
import { classifySqlError, type ErrorContext } from './errors.js';
import { detectTable, quoteIdent, resolveMapping, TABLE_SPECS, SUIVIMO_TABLE, type RealColumn, type ResolvedMapping } from './columns.js';
import { convertChantier, convertDevis, convertSalarie, convertSuiviMo, isValidTimeZone, normaliseBatigestCode, rawRowSchema, toNumber, toText, type Converted, type RawRow } from './rows.js';
import { chunk, deleteSql, planSuiviMo, selectSql, upsertSql, type SqlParam, type SqlText } from './suivimo.js';
import { collationKey, LOOSEST_KEY, type StringKey } from './compare.js';

export type { SkippedSourceRow } from './rows.js';

/** Read options; `onSkip` is called for each row that is not returned (no code), with a French reason. */
export type ReadOptions = BatigestReadOptions;

export interface SuiviMoResult {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface GatewayStats {
  /** Requests sent to SQL Server (batches/RPCs and transaction begin/commit/rollback); logins are not counted. */
  roundTrips: number;
  /** SQL statements sent (a request may hold several). */
  statements: number;
}

const databaseNameSchema = z.object({ name: z.string().min(1).max(128) });

export interface BatigestGatewayOptions {
  settings: SqlServerSettings;
  logger: Logger;
  pool?: PoolOptions;
  /** Rows per SuiviMO upsert statement (6 parameters per row; ≤ 330 keeps under SQL Server's 2,100). */
  upsertChunkRows?: number;
  /** Keys per SuiviMO delete/select statement (3 parameters per key; ≤ 690). */
  keyChunkRows?: number;
  /**
   * Time zone of the wall-clock datetimes stored by Batigest (modification dates), used to turn them into
   * real instants for conflict decisions. Default 'Europe/Paris' (settings `hours.timezone`).
   */
  timezone?: string;
}

const DEFAULT_PAGE = 500;
const MAX_PAGE = 5000;
const CODEBS_COLUMN = 'codebs';

const cancelled = (): AppError => cancelledError('Opération', 'SQL Server: cancelled by the caller');

export class BatigestGateway implements BatigestPort, BatigestSetupPort {
  private readonly settings: SqlServerSettings;
  private readonly log: Logger;
  private readonly poolOptions: PoolOptions;
  private readonly upsertChunkRows: number;
  private readonly keyChunkRows: number;
  private pool: Promise<ConnectionPool> | null = null;
  private readonly loginErrorNumbers: number[] = [];
  private readonly mappings = new Map<ColumnTable, ResolvedMapping>();
  private closed = false;
  private readonly timezone: string | null;
  /** How the database compares SuiviMO codes (collation of its columns), known after the first column read. */
  private suiviFold: StringKey | null = null;
  readonly stats: GatewayStats = { roundTrips: 0, statements: 0 };

  constructor(opts: BatigestGatewayOptions) {
    this.settings = opts.settings;
    this.log = opts.logger.child({ service: 'batigest' });
    this.poolOptions = opts.pool ?? {};
    this.upsertChunkRows = Math.max(1, Math.min(330, opts.upsertChunkRows ?? 300));
    this.keyChunkRows = Math.max(1, Math.min(690, opts.keyChunkRows ?? 600));
    const tz = opts.timezone ?? 'Europe/Paris';
    this.timezone = isValidTimeZone(tz) ? tz : null;
    if (this.timezone === null) this.log.warn('Fuseau horaire inconnu : dates Batigest lues comme UTC', { timezone: tz });
  }

  resetStats(): void {
    this.stats.roundTrips = 0;
    this.stats.statements = 0;
  }

  // ------------------------------------------------------------------------------------------------------------
  // connection

  private address(): ServerAddress | null {
    try {
      return parseServerAddress(this.settings.server);
    } catch {
      return null;
    }
  }

  private errorContext(loginErrorNumbers: readonly number[] = this.loginErrorNumbers): ErrorContext {
    return {
      address: this.address(),
      database: this.settings.database,
      user: this.settings.user,
      encrypt: this.settings.encrypt,
      trustServerCertificate: this.settings.trustServerCertificate,
      loginErrorNumbers,
    };
  }

  private newPool(poolOpts: PoolOptions, loginErrors: number[]): ConnectionPool {
    const cfg: MssqlConfig = buildMssqlConfig(this.settings, poolOpts);
    cfg.beforeConnect = (conn) => {
      // tedious reports login errors (4060, 18456…) as events before failing with a generic message.
      // Listen during the login only: later error tokens belong to requests and carry their own number.
      const onError = (token: { number?: number }) => {
        if (typeof token.number === 'number' && loginErrors.length < 32) loginErrors.push(token.number);
      };
      conn.on('errorMessage', onError);
      conn.once('connect', () => conn.removeListener('errorMessage', onError));
    };
    const pool = new sql.ConnectionPool(cfg);
    pool.on('error', (e: unknown) => this.log.warn('Erreur de connexion SQL Server', { error: e instanceof Error ? e.message : String(e) }));
    return pool;
  }

  private getPool(): Promise<ConnectionPool> {
    if (this.closed) return Promise.reject(new AppError('INTERNAL', 'La connexion Batigest est fermée.'));
    if (!this.pool) {
      this.loginErrorNumbers.length = 0;
      const p = (async () => {
        const pool = this.newPool(this.poolOptions, this.loginErrorNumbers);
        this.log.info('Connexion à SQL Server', describeTarget(this.settings));
        try {
          await pool.connect();
          return pool;
        } catch (e) {
          await pool.close().catch(() => undefined);
          throw classifySqlError(e, this.errorContext());
        }
      })();
      this.pool = p;
      p.catch(() => {
        if (this.pool === p) this.pool = null; // next call retries
      });
    }
    return this.pool;
  }

  async close(): Promise<void> {
    this.closed = true;
    const p = this.pool;
    this.pool = null;
    if (p) {
      const pool = await p.catch(() => null);
      await pool?.close().catch(() => undefined);
    }
  }

  private bind(req: MssqlRequest, params: readonly SqlParam[]): void {
    for (const p of params) {
      switch (p.kind) {
        case 'nvarchar':
          req.input(p.name, sql.NVarChar(4000), p.value);
          break;
        case 'date':
          req.input(p.name, sql.Date, p.value);
          break;
        case 'decimal':
          req.input(p.name, sql.Decimal(18, 4), p.value);
          break;
        case 'int':
          req.input(p.name, sql.Int, p.value);
          break;
      }
    }
  }

  /** Runs one request (one round trip), in a transaction when given. */
  private async exec(text: SqlText, tx?: MssqlTransaction): Promise<{ rows: RawRow[]; rowsAffected: number[] }> {
    const req = tx ? new sql.Request(tx) : (await this.getPool()).request();
    this.bind(req, text.params);
    this.stats.roundTrips++;
    this.stats.statements += text.statements;
    try {
      const res = await req.query(text.sql);
      const rows = (res.recordset ?? []).map((r: unknown) => rawRowSchema.parse(r));
      return { rows, rowsAffected: res.rowsAffected };
    } catch (e) {
      throw classifySqlError(e, this.errorContext([]));
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // diagnosis

  async testConnection(): Promise<ConnectionDiagnosis> {
    const target = describeTarget(this.settings);
    const details: Record<string, string> = { serveur: this.settings.server, base: this.settings.database };
    const loginErrors: number[] = [];
    let pool: ConnectionPool | null = null;
    try {
      pool = this.newPool({ max: 1, min: 0 }, loginErrors);
      await pool.connect();
      const res = await pool.request().query('SELECT @@VERSION AS [version], DB_NAME() AS [databaseName]');
      const row = rawRowSchema.parse(res.recordset?.[0] ?? {});
      const version = String(row.version ?? '').split('\n')[0]?.trim() ?? '';
      const dbName = String(row.databaseName ?? this.settings.database);
      details.version = version;
      details.base = dbName;
      const tables = await this.readColumns(pool);
      const present = [...Object.values(TABLE_SPECS).map((t) => t.table), SUIVIMO_TABLE].filter((t) => tables.has(t.toLowerCase()));
      const missing = [...Object.values(TABLE_SPECS).map((t) => t.table), SUIVIMO_TABLE].filter((t) => !tables.has(t.toLowerCase()));
      details.tables = present.join(', ');
      if (missing.length > 0) {
        const d: ConnectionDiagnosis = {
          ok: false,
          code: 'SQL_TABLE_MISSING',
          message: `Connexion réussie à la base « ${dbName} », mais ${missing.length > 1 ? 'les tables' : 'la table'} ${missing.join(', ')} ${missing.length > 1 ? 'sont absentes' : 'est absente'} : vérifiez qu'il s'agit bien de la base de la société dans Batigest.`,
          details,
        };
        this.log.warn('Test SQL Server : tables manquantes', { ...target, missing });
        return d;
      }
      this.log.info('Test SQL Server réussi', { ...target, version });
      return {
        ok: true,
        code: null,
        message: `Connexion réussie à la base « ${dbName} » (${version || 'SQL Server'}).`,
        details,
      };
    } catch (e) {
      const err = classifySqlError(e, this.errorContext(loginErrors));
      this.log.warn('Test SQL Server en échec', { ...target, code: err.code, detail: err.detail });
      return { ok: false, code: err.code, message: err.message, details };
    } finally {
      await pool?.close().catch(() => undefined);
    }
  }

  // ------------------------------------------------------------------------------------------------------------
  // discovery

  /** A short-lived connection (one) to `database` with these settings, closed after `fn`. */
  private async withShortPool<T>(database: string, fn: (pool: ConnectionPool) => Promise<T>): Promise<T> {
    const loginErrors: number[] = [];
    const settings = { ...this.settings, database };
    const pool = new sql.ConnectionPool(buildMssqlConfig(settings, { max: 1, min: 0 }));
    pool.on('error', () => undefined);
    try {
      await pool.connect();
      return await fn(pool);
    } catch (e) {
      throw classifySqlError(e, { ...this.errorContext(loginErrors), database });
    } finally {
      await pool.close().catch(() => undefined);
    }
  }

  /**
   * The databases this login may open (at most 50), each marked when it looks like a Batigest company: its
   * ChantierDef, Salarie and SuiviMO tables are there. Connects to the typed database, or to the login's
   * default one (master) when none is typed yet.
   */
  async listDatabases(): Promise<DatabaseCandidate[]> {
    const names = await this.withShortPool(this.settings.database.trim() || 'master', async (pool) => {
      const res = await pool.request().query('SELECT name FROM sys.databases WHERE HAS_DBACCESS(name) = 1 AND database_id > 4 ORDER BY name');
      return (res.recordset ?? []).flatMap((r: unknown) => {
        const p = databaseNameSchema.safeParse(r);
        return p.success ? [p.data.name] : [];
      });
    });
    const wanted = [TABLE_SPECS.chantier.table, TABLE_SPECS.salarie.table, SUIVIMO_TABLE];
    const out: DatabaseCandidate[] = [];
    for (const name of names.slice(0, 50)) {
      try {
        const tables = await this.withShortPool(name, async (pool) => {
          const req = pool.request();
          wanted.forEach((t, i) => req.input(`t${i}`, sql.NVarChar(128), t));
          const res = await req.query(`SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = 'dbo' AND TABLE_NAME IN (${wanted.map((_, i) => `@t${i}`).join(', ')})`);
          return (res.recordset ?? []).map((r: unknown) => String(rawRowSchema.parse(r).TABLE_NAME ?? ''));
        });
        const lower = new Set(tables.map((t) => t.toLowerCase()));
        out.push({ name, batigest: wanted.every((t) => lower.has(t.toLowerCase())), tables: wanted.filter((t) => lower.has(t.toLowerCase())), readable: true });
      } catch (e) {
        this.log.warn('Base non lisible pendant la recherche', { database: name, code: classifySqlError(e, this.errorContext([])).code });
        out.push({ name, batigest: false, tables: [], readable: false });
      }
    }
    this.log.info('Bases trouvées', { count: out.length, batigest: out.filter((d) => d.batigest).length });
    return out;
  }

  // ------------------------------------------------------------------------------------------------------------
  // columns

  /** Real columns of the Batigest tables, keyed by lower-case table name. */
  private async readColumns(pool?: ConnectionPool): Promise<Map<string, { table: string; columns: RealColumn[] }>> {
    const names = [...Object.values(TABLE_SPECS).map((t) => t.table), SUIVIMO_TABLE];
    const text: SqlText = {
      sql:
        'SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, IS_NULLABLE, COLLATION_NAME FROM INFORMATION_SCHEMA.COLUMNS ' +
        `WHERE TABLE_SCHEMA = 'dbo' AND TABLE_NAME IN (${names.map((_, i) => `@t${i}`).join(', ')}) ORDER BY TABLE_NAME, ORDINAL_POSITION`,
      params: names.map((n, i) => ({ name: `t${i}`, kind: 'nvarchar' as const, value: n })),
      statements: 1,
    };
    let rows: RawRow[];
    if (pool) {
      const req = pool.request();
      this.bind(req, text.params);
      const res = await req.query(text.sql);
      rows = (res.recordset ?? []).map((r: unknown) => rawRowSchema.parse(r));
    } else {
      rows = (await this.exec(text)).rows;
    }
    const out = new Map<string, { table: string; columns: RealColumn[] }>();
    for (const r of rows) {
      const table = String(r.TABLE_NAME ?? '');
      const entry = out.get(table.toLowerCase()) ?? { table, columns: [] };
      entry.columns.push({
        name: String(r.COLUMN_NAME ?? ''),
        dataType: String(r.DATA_TYPE ?? ''),
        nullable: String(r.IS_NULLABLE ?? 'YES').toUpperCase() === 'YES',
        collation: typeof r.COLLATION_NAME === 'string' ? r.COLLATION_NAME : null,
      });
      out.set(table.toLowerCase(), entry);
    }
    const suivi = out.get(SUIVIMO_TABLE.toLowerCase())?.columns.find((c) => c.name.toLowerCase() === 'codesalarie');
    this.suiviFold = collationKey(suivi?.collation);
    return out;
  }

  /** The comparison of SuiviMO codes, reading the columns once if no read did yet. */
  private async suiviMoFold(): Promise<StringKey> {
    if (!this.suiviFold) await this.readColumns();
    return this.suiviFold ?? collationKey(null);
  }

  /** The column mapping report for the UI (setup): detected columns, candidates found, overrides, warnings. */
  async detectColumns(): Promise<DetectedTable[]> {
    const found = await this.readColumns();
    const out: DetectedTable[] = [];
    for (const key of Object.keys(TABLE_SPECS) as ColumnTable[]) {
      const spec = TABLE_SPECS[key];
      const t = found.get(spec.table.toLowerCase());
      const report = detectTable(key, t?.table ?? null, t?.columns ?? null, this.settings.columnOverrides[key]);
      out.push(report);
      try {
        this.mappings.set(key, resolveMapping(report));
      } catch {
        this.mappings.delete(key);
      }
    }
    return out;
  }

  /** The mapping of one table, detected once per gateway (throws SQL_TABLE_MISSING / SQL_COLUMN_MISSING). */
  async mapping(key: ColumnTable): Promise<ResolvedMapping> {
    const cached = this.mappings.get(key);
    if (cached) return cached;
    const reports = await this.detectColumns();
    const report = reports.find((r) => r.table === key);
    if (!report) throw new AppError('INTERNAL', 'Détection des colonnes incomplète.');
    const m = resolveMapping(report);
    this.log.info('Colonnes Batigest utilisées', { table: m.table, columns: m.columns });
    return m;
  }

  // ------------------------------------------------------------------------------------------------------------
  // readers

  private selectList(m: ResolvedMapping): string {
    const parts: string[] = [];
    for (const [logical, real] of Object.entries(m.columns)) {
      if (real !== null) parts.push(`${quoteIdent(real)} AS ${quoteIdent(logical)}`);
    }
    const code = m.columns.code;
    if (!code) throw new AppError('INTERNAL', 'Colonne code absente du mapping.');
    parts.push(`${quoteIdent(code)} AS [__key]`);
    return parts.join(', ');
  }

  private async *pageTable<T>(
    m: ResolvedMapping,
    convert: (raw: RawRow) => Converted<T>,
    opts: ReadOptions,
    filter: string | null,
  ): AsyncGenerator<T[]> {
    const pageSize = Math.max(1, Math.min(MAX_PAGE, Math.trunc(opts.pageSize ?? DEFAULT_PAGE)));
    const code = quoteIdent(m.columns.code ?? 'Code');
    const from = `[dbo].${quoteIdent(m.table)}`;
    const cols = this.selectList(m);
    const and = filter ? `${filter} AND ` : '';
    const check = () => {
      if (opts.signal?.aborted) throw cancelled();
    };
    check();
    // Rows without a code cannot be paged by key: report them (bounded) and skip them.
    const keyless = await this.exec({
      sql: `SELECT TOP (${MAX_PAGE}) ${cols} FROM ${from} WHERE ${and}(${code} IS NULL OR ${code} = '')`,
      params: [],
      statements: 1,
    });
    for (const raw of keyless.rows) {
      const c = convert(raw);
      if (!c.ok) opts.onSkip?.(c.skip);
    }
    let last = '';
    for (;;) {
      check();
      const { rows } = await this.exec({
        sql: `SELECT TOP (${pageSize}) ${cols} FROM ${from} WHERE ${and}${code} > @last ORDER BY ${code}`,
        params: [{ name: 'last', kind: 'nvarchar', value: last }],
        statements: 1,
      });
      const page: T[] = [];
      for (const raw of rows) {
        const c = convert(raw);
        if (c.ok) page.push(c.value);
        else opts.onSkip?.(c.skip);
      }
      const lastRow = rows[rows.length - 1];
      if (page.length > 0) yield page;
      if (rows.length < pageSize || !lastRow) return;
      const next = String(lastRow.__key ?? '');
      if (next === last) throw new AppError('SQL_ERROR', 'La lecture page par page de Batigest ne progresse plus.', { detail: `keyset stuck at ${next}` });
      last = next;
    }
  }

  async *readChantiers(opts: ReadOptions = {}): AsyncGenerator<ChantierSource[]> {
    const m = await this.mapping('chantier');
    yield* this.pageTable(m, (raw) => convertChantier(raw, this.timezone), opts, null);
  }

  async *readDevis(opts: ReadOptions = {}): AsyncGenerator<DevisSource[]> {
    const m = await this.mapping('devis');
    const etat = m.columns.etat;
    if (!etat) throw new AppError('SQL_COLUMN_MISSING', 'Colonne « état » introuvable dans la table Devis.');
    yield* this.pageTable(m, (raw) => convertDevis(raw, this.timezone), opts, `${quoteIdent(etat)} IN (0, 3, 4)`);
  }

  /** Distinct Etat values of ChantierDef with their counts (setup: what each value means). */
  async chantierEtatCounts(): Promise<{ value: string; count: number }[]> {
    const m = await this.mapping('chantier');
    const etat = m.columns.etat;
    if (!etat) return [];
    const e = quoteIdent(etat);
    const { rows } = await this.exec({
      sql: `SELECT ${e} AS [etat], COUNT(*) AS [n] FROM [dbo].${quoteIdent(m.table)} GROUP BY ${e} ORDER BY ${e}`,
      params: [],
      statements: 1,
    });
    const byKey = new Map<string, number>();
    for (const r of rows) {
      const k = (toText(r.etat) ?? '').trim();
      byKey.set(k, (byKey.get(k) ?? 0) + (toNumber(r.n) ?? 0));
    }
    return [...byKey].map(([value, count]) => ({ value, count }));
  }

  /**
   * Sold hours per chantier from its devis: the sum of TempsMO of the devis in `states`, grouped by the devis'
   * chantier column (detected among CodeChantier/Chantier…, or chosen in Réglages › Chantiers). Codes are
   * normalised as everywhere (numeric codes padded to 8). Throws SQL_COLUMN_MISSING when no link column exists.
   */
  async readDevisHours(states: readonly number[]): Promise<Map<string, number>> {
    const m = await this.mapping('devis');
    const link = m.columns.chantier;
    const etat = m.columns.etat;
    const hours = m.columns.tempsMO;
    if (!link || !hours || !etat) {
      throw new AppError('SQL_COLUMN_MISSING', "La table Devis n'a pas de colonne reliant un devis à son chantier (CodeChantier, Chantier…) ou de colonne TempsMO : choisissez-la dans Réglages › Chantiers › Heures vendues, ou prenez les heures du chantier.", {
        detail: `devis link=${link ?? '-'} tempsMO=${hours ?? '-'}`,
      });
    }
    const out = new Map<string, number>();
    const ints = [...new Set(states.filter((x) => Number.isInteger(x)))].slice(0, 20);
    if (ints.length === 0) return out;
    const l = quoteIdent(link);
    const { rows } = await this.exec({
      sql:
        `SELECT ${l} AS [chantier], SUM(${quoteIdent(hours)}) AS [hours] FROM [dbo].${quoteIdent(m.table)} ` +
        `WHERE ${quoteIdent(etat)} IN (${ints.map((_, i) => `@s${i}`).join(', ')}) AND ${l} IS NOT NULL GROUP BY ${l}`,
      params: ints.map((v, i) => ({ name: `s${i}`, kind: 'int' as const, value: v })),
      statements: 1,
    });
    for (const r of rows) {
      const code = toText(r.chantier);
      if (code === null) continue;
      const k = normaliseBatigestCode(code);
      out.set(k, (out.get(k) ?? 0) + (toNumber(r.hours) ?? 0));
    }
    return out;
  }

  /** Every salarié (paged internally), with `codebs` when the column exists. */
  async readSalaries(opts: ReadOptions = {}): Promise<Salarie[]> {
    const m = await this.mapping('salarie');
    const out: Salarie[] = [];
    for await (const page of this.pageTable(m, convertSalarie, { pageSize: 1000, ...opts }, null)) out.push(...page);
    return out;
  }

  // ------------------------------------------------------------------------------------------------------------
  // SuiviMO

  /**
   * The SuiviMO rows of these keys. SQL Server matches a key under the column collation ('s01' finds 'S01' on a
   * French_CI_AS database): each row found is returned under the key(s) as asked, so callers can match it exactly.
   */
  async readSuiviMo(keys: SuiviMoKey[]): Promise<SuiviMoRow[]> {
    const out: SuiviMoRow[] = [];
    const exact = (k: SuiviMoKey): string => `${k.codeChantier}\u0000${k.codeSalarie}\u0000${k.date}`;
    for (const part of chunk(keys, this.keyChunkRows)) {
      const { rows } = await this.exec(selectSql(part));
      const found = rows.map((r) => convertSuiviMo(r)).filter((r): r is SuiviMoRow => r !== null);
      const askedExactly = new Set(part.map(exact));
      const looselyDistinct = new Set(part.map((k) => `${LOOSEST_KEY(k.codeChantier)}\u0000${LOOSEST_KEY(k.codeSalarie)}\u0000${k.date}`)).size === askedExactly.size;
      if (looselyDistinct && found.every((r) => askedExactly.has(exact(r)))) {
        out.push(...found);
        continue;
      }
      // a row found under the collation ('S01' for 's01'): answer it under the key(s) asked
      const fold = await this.suiviMoFold();
      const folded = (k: SuiviMoKey): string => `${fold(k.codeChantier)}\u0000${fold(k.codeSalarie)}\u0000${k.date}`;
      const asked = new Map<string, SuiviMoKey[]>();
      for (const k of part) asked.set(folded(k), [...(asked.get(folded(k)) ?? []), k]);
      for (const row of found) {
        const spellings = asked.get(folded(row));
        if (!spellings) {
          out.push(row);
          continue;
        }
        const unique = new Map(spellings.map((k) => [`${k.codeChantier}\u0000${k.codeSalarie}`, k]));
        for (const k of unique.values()) out.push({ ...row, codeChantier: k.codeChantier, codeSalarie: k.codeSalarie });
      }
    }
    return out;
  }

  /**
   * Applies the batch in ONE transaction: deletes (incl. the old keys of moves) then upserts, chunked.
   * A move counts as one deletion plus one insertion (or update when the new key already existed).
   * Any error rolls everything back; a deadlock is AppError SQL_DEADLOCK (retryable): retry the whole batch.
   */
  async applySuiviMo(ops: SuiviMoOp[], opts: FencedWrite = {}): Promise<SuiviMoResult> {
    let plan = planSuiviMo(ops); // invalid input fails before any round trip
    // keys that may be one row under the database collation ('S01' / 's01 '): plan again with the real comparison
    const loose = new Set([...plan.deletes, ...plan.upserts].map((k) => `${LOOSEST_KEY(k.codeChantier)}\u0000${LOOSEST_KEY(k.codeSalarie)}\u0000${k.date}`));
    if (loose.size < plan.deletes.length + plan.upserts.length) plan = planSuiviMo(ops, await this.suiviMoFold());
    const result: SuiviMoResult = { inserted: 0, updated: 0, deleted: 0 };
    if (plan.deletes.length === 0 && plan.upserts.length === 0) return result;
    if (opts.signal?.aborted) throw cancelled();
    const pool = await this.getPool();
    const tx = new sql.Transaction(pool);
    this.stats.roundTrips++;
    try {
      await tx.begin();
    } catch (e) {
      throw classifySqlError(e, this.errorContext([]));
    }
    try {
      for (const part of chunk(plan.deletes, this.keyChunkRows)) {
        if (opts.signal?.aborted) throw cancelled();
        const r = await this.exec(deleteSql(part), tx);
        result.deleted += r.rowsAffected[0] ?? 0;
      }
      for (const part of chunk(plan.upserts, this.upsertChunkRows)) {
        if (opts.signal?.aborted) throw cancelled();
        const r = await this.exec(upsertSql(part), tx);
        result.updated += r.rowsAffected[0] ?? 0;
        result.inserted += r.rowsAffected[1] ?? 0;
      }
      // Fencing: the batch becomes visible only if the run's lease is still its own right now.
      await opts.confirm?.();
      this.stats.roundTrips++;
      await tx.commit();
    } catch (e) {
      this.stats.roundTrips++;
      await tx.rollback().catch((rbErr: unknown) =>
        this.log.warn('Annulation de la transaction SuiviMO impossible (déjà annulée par le serveur ?)', {
          error: rbErr instanceof Error ? rbErr.message : String(rbErr),
        }),
      );
      const err = classifySqlError(e, this.errorContext([]));
      this.log.warn('Écriture SuiviMO annulée', { code: err.code, detail: err.detail, ops: ops.length });
      throw err;
    }
    this.log.info('SuiviMO écrit', { ...result, ops: ops.length });
    return result;
  }

  // ------------------------------------------------------------------------------------------------------------
  // ChantierDef write-back (opt-in, issue 18)

  /**
   * Writes the given fields of the given chantiers in ONE transaction: one UPDATE per chantier setting only its
   * changed columns (`WHERE code = @code`), nothing else. Dates are written as dates, the others as text. A field
   * without a mapped column fails the whole batch before any round trip. Returns the rows updated.
   */
  async writeChantierFields(changes: readonly ChantierFieldChange[], opts: FencedWrite = {}): Promise<{ updated: number }> {
    if (changes.length === 0) return { updated: 0 };
    const m = await this.mapping('chantier');
    const texts = chantierUpdates(m, changes);
    if (opts.signal?.aborted) throw cancelled();
    const pool = await this.getPool();
    const tx = new sql.Transaction(pool);
    this.stats.roundTrips++;
    try {
      await tx.begin();
    } catch (e) {
      throw classifySqlError(e, this.errorContext([]));
    }
    let updated = 0;
    try {
      for (const t of texts) {
        if (opts.signal?.aborted) throw cancelled();
        updated += (await this.exec(t, tx)).rowsAffected[0] ?? 0;
      }
      await opts.confirm?.(); // fencing: a lease lost to another PC rolls the whole batch back
      this.stats.roundTrips++;
      await tx.commit();
    } catch (e) {
      this.stats.roundTrips++;
      await tx.rollback().catch(() => undefined);
      const err = classifySqlError(e, this.errorContext([]));
      this.log.warn('Écriture ChantierDef annulée', { code: err.code, detail: err.detail, changes: changes.length });
      throw err;
    }
    this.log.info('ChantierDef mis à jour depuis BatiSimply', { updated, changes: changes.length });
    return { updated };
  }

  // ------------------------------------------------------------------------------------------------------------
  // employee mapping (Salarie.codebs)

  private codebsMissing(): AppError {
    return new AppError(
      'CODEBS_COLUMN_MISSING',
      "La table Salarie n'a pas de colonne « codebs » : la correspondance salariés ↔ utilisateurs BatiSimply ne peut pas être enregistrée. Créez-la depuis la page « Correspondance des salariés » (une colonne texte vide est ajoutée, rien d'autre n'est modifié).",
    );
  }

  async hasCodebsColumn(): Promise<boolean> {
    const m = await this.mapping('salarie');
    return m.columns.codebs != null;
  }

  async codebsStatus(): Promise<CodebsStatus> {
    const exists = await this.hasCodebsColumn();
    return {
      exists,
      table: 'Salarie',
      column: CODEBS_COLUMN,
      message: exists
        ? 'Batigest mémorise l’utilisateur BatiSimply de chaque salarié (colonne « codebs » de la table Salarie).'
        : 'Batigest n’a pas encore où mémoriser l’utilisateur BatiSimply de chaque salarié. Le connecteur peut ajouter cette colonne (texte vide, sans effet sur Batigest) après votre confirmation. Détail technique : colonne « codebs » de la table Salarie.',
    };
  }

  /** Adds Salarie.codebs. Only call after the user's explicit confirmation. Idempotent. */
  async createCodebsColumn(): Promise<CodebsStatus> {
    this.mappings.delete('salarie');
    if (!(await this.hasCodebsColumn())) {
      const m = await this.mapping('salarie');
      this.log.info('Création de la colonne Salarie.codebs (confirmée par l’utilisateur)');
      await this.exec({ sql: `ALTER TABLE [dbo].${quoteIdent(m.table)} ADD ${quoteIdent(CODEBS_COLUMN)} nvarchar(64) NULL`, params: [], statements: 1 });
      this.mappings.delete('salarie');
    }
    return this.codebsStatus();
  }

  /**
   * Maps a salarié to a BatiSimply user (UUID) or removes the mapping (null). A user is mapped to one salarié
   * at most: the same UUID is cleared from any other salarié in the same request.
   */
  async writeEmployeeMapping(code: string, userId: string | null): Promise<{ cleared: number }> {
    const m = await this.mapping('salarie');
    const codebs = m.columns.codebs;
    if (!codebs) throw this.codebsMissing();
    const codeCol = quoteIdent(m.columns.code ?? 'Code');
    const table = `[dbo].${quoteIdent(m.table)}`;
    if (userId !== null && !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(userId)) {
      throw new AppError('INVALID_INPUT', `L'identifiant BatiSimply « ${userId} » n'est pas un identifiant valide (UUID attendu).`);
    }
    const params: SqlParam[] = [{ name: 'code', kind: 'nvarchar', value: code }];
    let text: string;
    let statements = 1;
    if (userId !== null) {
      params.push({ name: 'uuid', kind: 'nvarchar', value: userId.toLowerCase() });
      text = `UPDATE ${table} SET ${quoteIdent(codebs)} = NULL WHERE ${quoteIdent(codebs)} = @uuid AND ${codeCol} <> @code AND EXISTS (SELECT 1 FROM ${table} AS s2 WHERE s2.${codeCol} = @code);\n`;
      text += `UPDATE ${table} SET ${quoteIdent(codebs)} = @uuid WHERE ${codeCol} = @code;`;
      statements = 2;
    } else {
      text = `UPDATE ${table} SET ${quoteIdent(codebs)} = NULL WHERE ${codeCol} = @code;`;
    }
    const r = await this.exec({ sql: text, params, statements });
    const updated = r.rowsAffected[r.rowsAffected.length - 1] ?? 0;
    if (updated === 0) {
      throw new AppError('INVALID_INPUT', `Le salarié « ${code} » est introuvable dans Batigest : rechargez la liste des salariés.`);
    }
    return { cleared: userId !== null ? (r.rowsAffected[0] ?? 0) : 0 };
  }
}

/** One UPDATE per chantier, only the changed columns (pure). */
export function chantierUpdates(m: ResolvedMapping, changes: readonly ChantierFieldChange[]): SqlText[] {
  const code = m.columns.code;
  if (!code) throw new AppError('INTERNAL', 'Colonne code absente du mapping.');
  const byCode = new Map<string, ChantierFieldChange[]>();
  for (const c of changes) byCode.set(c.code, [...(byCode.get(c.code) ?? []), c]);
  const out: SqlText[] = [];
  for (const [k, list] of byCode) {
    const params: SqlParam[] = [{ name: 'code', kind: 'nvarchar', value: k }];
    const sets: string[] = [];
    for (const [i, c] of list.entries()) {
      const real = m.columns[c.field];
      if (!real) {
        throw new AppError('SQL_COLUMN_MISSING', `La colonne « ${c.field} » n'existe pas dans la table ChantierDef : décochez ce champ dans Réglages › Chantiers › Modifications BatiSimply reportées dans le logiciel.`, { detail: `no column for ${c.field}` });
      }
      const isDate = c.field === 'dateDebut' || c.field === 'dateFin';
      params.push(isDate ? { name: `v${i}`, kind: 'date', value: c.value === null ? null : new Date(`${c.value}T00:00:00Z`) } : { name: `v${i}`, kind: 'nvarchar', value: c.value });
      sets.push(`${quoteIdent(real)} = @v${i}`);
    }
    out.push({ sql: `UPDATE [dbo].${quoteIdent(m.table)} SET ${sets.join(', ')} WHERE ${quoteIdent(code)} = @code`, params, statements: 1 });
  }
  return out;
}
