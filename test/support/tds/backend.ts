/**
 * PostgreSQL backends of the TDS simulator.
 *
 * - PGlite: one in-process PGlite instance per Batigest database (in memory, or under
 *   `dataDir/<name>`). PGlite is single-connection, so sessions share it through a mutex: a
 *   session inside a transaction holds the lock until COMMIT/ROLLBACK (other sessions wait, much
 *   like SQL Server lock waits).
 * - PostgreSQL server: one schema per Batigest database inside the database named by the admin
 *   connection string; each TDS connection gets its own pg client with
 *   `search_path = "<database>", tds_sys`.
 *
 * Both install the `tds_sys` schema: T-SQL helper functions (len, dateadd, datediff, …), the
 * text `+` operator (string concatenation), bit/int comparisons and the INFORMATION_SCHEMA views
 * (names compare case-insensitively through citext, and keep their original case).
 *
 * Tables must be created with double-quoted, original-case names through adminExec, e.g.
 * `CREATE TABLE "ChantierDef" ("Code" varchar(8) PRIMARY KEY, "NomClient" varchar(60))`.
 */
import { readFileSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { citext } from '@electric-sql/pglite/contrib/citext';
import pg from 'pg';
import { BUNDLED_BUFFER_TEMPLATE, templateProblem } from '../../../src/main/services/buffer/template.js';

export interface QueryResult {
  rows: unknown[][];
  fields: { name: string; pgType: number; typmod?: number }[];
  rowCount: number;
}

export interface BackendSession {
  query(sql: string, params?: unknown[]): Promise<QueryResult>;
  begin(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  close(): Promise<void>;
}

export interface SqlBackend {
  openSession(database: string): Promise<BackendSession>;
  databases(): Promise<string[]>;
  close(): Promise<void>;
  /** Optional: increases whenever adminExec may have changed the schema (catalog cache key). */
  catalogVersion?(database: string): number;
}

export interface AdminBackend extends SqlBackend {
  /** Runs PostgreSQL-dialect SQL (several statements allowed) in `database`, creating it if needed. */
  adminExec(database: string, sql: string): Promise<void>;
  createDatabase(database: string): Promise<void>;
  dropDatabase(database: string): Promise<void>;
  catalogVersion(database: string): number;
}

export class UnknownDatabaseError extends Error {}

/** Date/time, numeric and int8 values are passed through as PostgreSQL text. */
const RAW_TYPES = [20, 1700, 1082, 1083, 1114, 1184, 1266];

const TDS_SYS_SQL = String.raw`
CREATE SCHEMA IF NOT EXISTS tds_sys;
CREATE OR REPLACE FUNCTION tds_sys.len(text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT length(rtrim($1)) $f$;
CREATE OR REPLACE FUNCTION tds_sys.charindex(text, text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT strpos($2, $1) $f$;
CREATE OR REPLACE FUNCTION tds_sys.charindex(text, text, integer) RETURNS integer LANGUAGE sql IMMUTABLE AS
  $f$ SELECT CASE WHEN strpos(substr($2, greatest($3,1)), $1) = 0 THEN 0 ELSE strpos(substr($2, greatest($3,1)), $1) + greatest($3,1) - 1 END $f$;
CREATE OR REPLACE FUNCTION tds_sys.space(integer) RETURNS text LANGUAGE sql IMMUTABLE AS $f$ SELECT repeat(' ', $1) $f$;
CREATE OR REPLACE FUNCTION tds_sys.isnumeric(text) RETURNS integer LANGUAGE sql IMMUTABLE AS
  $f$ SELECT CASE WHEN $1 ~ '^\s*[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\s*$' THEN 1 ELSE 0 END $f$;
CREATE OR REPLACE FUNCTION tds_sys.datalength(text) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT length($1) * 2 $f$;
CREATE OR REPLACE FUNCTION tds_sys.square(float8) RETURNS float8 LANGUAGE sql IMMUTABLE AS $f$ SELECT $1 * $1 $f$;
CREATE OR REPLACE FUNCTION tds_sys.year_of(timestamp) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT extract(year FROM $1)::int $f$;
CREATE OR REPLACE FUNCTION tds_sys.month_of(timestamp) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT extract(month FROM $1)::int $f$;
CREATE OR REPLACE FUNCTION tds_sys.day_of(timestamp) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$ SELECT extract(day FROM $1)::int $f$;
CREATE OR REPLACE FUNCTION tds_sys.dateadd(text, float8, timestamp) RETURNS timestamp LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE $1
    WHEN 'year' THEN $3 + trunc($2)::int * interval '1 year'
    WHEN 'quarter' THEN $3 + trunc($2)::int * interval '3 months'
    WHEN 'month' THEN $3 + trunc($2)::int * interval '1 month'
    WHEN 'week' THEN $3 + trunc($2)::int * interval '7 days'
    WHEN 'hour' THEN $3 + trunc($2)::int * interval '1 hour'
    WHEN 'minute' THEN $3 + trunc($2)::int * interval '1 minute'
    WHEN 'second' THEN $3 + trunc($2)::int * interval '1 second'
    WHEN 'millisecond' THEN $3 + trunc($2)::int * interval '1 millisecond'
    ELSE $3 + trunc($2)::int * interval '1 day' END $f$;
CREATE OR REPLACE FUNCTION tds_sys.datediff(text, timestamp, timestamp) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
  SELECT (CASE $1
    WHEN 'year' THEN extract(year FROM $3) - extract(year FROM $2)
    WHEN 'quarter' THEN (extract(year FROM $3) - extract(year FROM $2)) * 4 + extract(quarter FROM $3) - extract(quarter FROM $2)
    WHEN 'month' THEN (extract(year FROM $3) - extract(year FROM $2)) * 12 + extract(month FROM $3) - extract(month FROM $2)
    WHEN 'week' THEN floor((($3::date - extract(dow FROM $3)::int) - ($2::date - extract(dow FROM $2)::int)) / 7.0)
    WHEN 'hour' THEN extract(epoch FROM date_trunc('hour', $3) - date_trunc('hour', $2)) / 3600
    WHEN 'minute' THEN extract(epoch FROM date_trunc('minute', $3) - date_trunc('minute', $2)) / 60
    WHEN 'second' THEN extract(epoch FROM date_trunc('second', $3) - date_trunc('second', $2))
    WHEN 'millisecond' THEN extract(epoch FROM date_trunc('milliseconds', $3) - date_trunc('milliseconds', $2)) * 1000
    ELSE $3::date - $2::date END)::int $f$;
CREATE OR REPLACE FUNCTION tds_sys.datepart(text, timestamp) RETURNS integer LANGUAGE sql IMMUTABLE AS $f$
  SELECT (CASE $1
    WHEN 'year' THEN extract(year FROM $2) WHEN 'quarter' THEN extract(quarter FROM $2)
    WHEN 'month' THEN extract(month FROM $2) WHEN 'dayofyear' THEN extract(doy FROM $2)
    WHEN 'week' THEN extract(week FROM $2) WHEN 'weekday' THEN extract(dow FROM $2) + 1
    WHEN 'hour' THEN extract(hour FROM $2) WHEN 'minute' THEN extract(minute FROM $2)
    WHEN 'second' THEN floor(extract(second FROM $2)) WHEN 'millisecond' THEN floor(extract(milliseconds FROM $2)) % 1000
    ELSE extract(day FROM $2) END)::int $f$;
CREATE OR REPLACE FUNCTION tds_sys.bool_eq_int(boolean, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT $1 = ($2 <> 0) $f$;
CREATE OR REPLACE FUNCTION tds_sys.int_eq_bool(integer, boolean) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT ($1 <> 0) = $2 $f$;
CREATE OR REPLACE FUNCTION tds_sys.bool_ne_int(boolean, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT $1 <> ($2 <> 0) $f$;
CREATE OR REPLACE FUNCTION tds_sys.text_eq_uuid(text, uuid) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT lower($1) = $2::text $f$;
CREATE OR REPLACE FUNCTION tds_sys.uuid_eq_text(uuid, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT $1::text = lower($2) $f$;
CREATE OR REPLACE FUNCTION tds_sys.text_eq_int(text, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT $1::int = $2 $f$;
CREATE OR REPLACE FUNCTION tds_sys.int_eq_text(integer, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT $1 = $2::int $f$;
CREATE OR REPLACE FUNCTION tds_sys.text_ne_int(text, integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS $f$ SELECT $1::int <> $2 $f$;
DO $d$ DECLARE r record; BEGIN
  FOR r IN SELECT * FROM (VALUES
      ('+', 'text', 'text', 'pg_catalog.textcat'),
      ('=', 'boolean', 'integer', 'tds_sys.bool_eq_int'), ('=', 'integer', 'boolean', 'tds_sys.int_eq_bool'),
      ('<>', 'boolean', 'integer', 'tds_sys.bool_ne_int'),
      ('=', 'text', 'uuid', 'tds_sys.text_eq_uuid'), ('=', 'uuid', 'text', 'tds_sys.uuid_eq_text'),
      ('=', 'text', 'integer', 'tds_sys.text_eq_int'), ('=', 'integer', 'text', 'tds_sys.int_eq_text'),
      ('<>', 'text', 'integer', 'tds_sys.text_ne_int')) AS v(op, l, rt, fn)
  LOOP
    IF NOT EXISTS (SELECT 1 FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
                   WHERE n.nspname = 'tds_sys' AND o.oprname = r.op AND o.oprleft = r.l::regtype AND o.oprright = r.rt::regtype) THEN
      EXECUTE format('CREATE OPERATOR tds_sys.%s (LEFTARG = %s, RIGHTARG = %s, FUNCTION = %s)', r.op, r.l, r.rt, r.fn);
    END IF;
  END LOOP;
END $d$;
CREATE OR REPLACE FUNCTION tds_sys.sqltype(data_type text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT CASE data_type
    WHEN 'character varying' THEN 'nvarchar' WHEN 'character' THEN 'nchar' WHEN 'text' THEN 'nvarchar'
    WHEN 'integer' THEN 'int' WHEN 'smallint' THEN 'smallint' WHEN 'bigint' THEN 'bigint'
    WHEN 'numeric' THEN 'decimal' WHEN 'double precision' THEN 'float' WHEN 'real' THEN 'real'
    WHEN 'boolean' THEN 'bit' WHEN 'date' THEN 'date' WHEN 'timestamp without time zone' THEN 'datetime'
    WHEN 'timestamp with time zone' THEN 'datetimeoffset' WHEN 'time without time zone' THEN 'time'
    WHEN 'uuid' THEN 'uniqueidentifier' WHEN 'bytea' THEN 'varbinary' ELSE data_type END $f$;
CREATE OR REPLACE VIEW tds_sys.columns AS
  SELECT current_setting('tds.db', true)::tds_sys.citext AS "TABLE_CATALOG", 'dbo'::tds_sys.citext AS "TABLE_SCHEMA",
    c.table_name::tds_sys.citext AS "TABLE_NAME", c.column_name::tds_sys.citext AS "COLUMN_NAME",
    c.ordinal_position::int AS "ORDINAL_POSITION", c.column_default::text AS "COLUMN_DEFAULT",
    c.is_nullable::varchar(3) AS "IS_NULLABLE", tds_sys.sqltype(c.data_type)::tds_sys.citext AS "DATA_TYPE",
    (CASE WHEN c.data_type = 'text' THEN -1 ELSE c.character_maximum_length END)::int AS "CHARACTER_MAXIMUM_LENGTH",
    (CASE WHEN c.data_type = 'text' THEN -1 ELSE c.character_maximum_length * 2 END)::int AS "CHARACTER_OCTET_LENGTH",
    c.numeric_precision::smallint AS "NUMERIC_PRECISION", c.numeric_scale::int AS "NUMERIC_SCALE",
    c.datetime_precision::smallint AS "DATETIME_PRECISION",
    (CASE WHEN c.data_type IN ('character varying', 'character', 'text') THEN 'French_CI_AS' END)::varchar(128) AS "COLLATION_NAME",
    (CASE WHEN c.data_type IN ('character varying', 'character', 'text') THEN 'UNICODE' END)::varchar(128) AS "CHARACTER_SET_NAME"
  FROM information_schema.columns c WHERE c.table_schema = current_schema();
CREATE OR REPLACE VIEW tds_sys.tables AS
  SELECT current_setting('tds.db', true)::tds_sys.citext AS "TABLE_CATALOG", 'dbo'::tds_sys.citext AS "TABLE_SCHEMA",
    t.table_name::tds_sys.citext AS "TABLE_NAME",
    (CASE WHEN t.table_type = 'VIEW' THEN 'VIEW' ELSE 'BASE TABLE' END)::varchar(10) AS "TABLE_TYPE"
  FROM information_schema.tables t WHERE t.table_schema = current_schema();
CREATE OR REPLACE FUNCTION tds_sys.strip_name(text) RETURNS text LANGUAGE sql IMMUTABLE AS $f$
  SELECT lower(regexp_replace(regexp_replace($1, '^.*\.', ''), '[\[\]"]', '', 'g')) $f$;
CREATE OR REPLACE FUNCTION tds_sys.col_length(text, text) RETURNS integer LANGUAGE sql STABLE AS $f$
  SELECT (CASE WHEN c.data_type IN ('character varying', 'character') THEN c.character_maximum_length * 2
    WHEN c.data_type = 'text' THEN -1 WHEN c.data_type IN ('integer', 'real') THEN 4 WHEN c.data_type IN ('bigint', 'double precision') THEN 8
    WHEN c.data_type = 'smallint' THEN 2 WHEN c.data_type = 'boolean' THEN 1 WHEN c.data_type = 'date' THEN 3
    WHEN c.data_type = 'uuid' THEN 16 WHEN c.data_type = 'numeric' THEN 9 ELSE 8 END)::int
  FROM information_schema.columns c
  WHERE c.table_schema = current_schema() AND lower(c.table_name) = tds_sys.strip_name($1) AND lower(c.column_name) = lower($2) $f$;
CREATE OR REPLACE FUNCTION tds_sys.object_id(text) RETURNS integer LANGUAGE sql STABLE AS $f$
  SELECT c.oid::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = current_schema() AND lower(c.relname) = tds_sys.strip_name($1) AND c.relkind IN ('r', 'v') $f$;
CREATE OR REPLACE FUNCTION tds_sys.object_id(text, text) RETURNS integer LANGUAGE sql STABLE AS $f$ SELECT tds_sys.object_id($1) $f$;
`;

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((r) => (release = r));
    const prev = this.tail;
    this.tail = prev.then(() => next);
    await prev;
    return release;
  }
}

interface PgliteDb {
  name: string;
  db: PGlite;
  mutex: Mutex;
}

const parsersRaw = Object.fromEntries(RAW_TYPES.map((t) => [t, (v: string) => v]));

function assertDbName(name: string): void {
  if (!/^[\p{L}\p{N}_ -]{1,128}$/u.test(name)) throw new Error(`invalid database name '${name}'`);
}

/**
 * An empty database to start an in-memory PGlite from: the embedded buffer's template (made by `npm ci`), which
 * spares each simulated database PGlite's in-memory initdb (~770 MB of peak memory, seconds). Null when there
 * is no usable template: PGlite then runs initdb as usual.
 */
function emptyDatabaseTarball(): Blob | null {
  if (templateProblem(BUNDLED_BUFFER_TEMPLATE) !== null) return null;
  try {
    return new Blob([readFileSync(BUNDLED_BUFFER_TEMPLATE)], { type: 'application/x-gzip' });
  } catch {
    return null;
  }
}

export interface PgliteBackendOptions {
  /** Folder of the databases (one sub-folder each); default: in memory. */
  dataDir?: string;
  /** PostgreSQL server settings of each database, e.g. `['-c', 'shared_buffers=32MB']` (demo: a lighter process). */
  serverParams?: readonly string[];
}

export async function createPgliteBackend(opts: PgliteBackendOptions = {}): Promise<AdminBackend> {
  const dbs = new Map<string, PgliteDb>();
  const creating = new Map<string, Promise<PgliteDb>>();
  const versions = new Map<string, number>();
  const bump = (name: string): void => {
    versions.set(name.toLowerCase(), (versions.get(name.toLowerCase()) ?? 0) + 1);
  };

  const create = async (name: string): Promise<PgliteDb> => {
    assertDbName(name);
    const key = name.toLowerCase();
    const existing = dbs.get(key);
    if (existing) return existing;
    const pending = creating.get(key);
    if (pending) return pending;
    const p = (async () => {
      const empty = opts.dataDir ? null : emptyDatabaseTarball();
      const db = await PGlite.create({
        ...(opts.dataDir ? { dataDir: `${opts.dataDir}/${name}` } : {}),
        ...(empty ? { loadDataDir: empty } : {}),
        ...(opts.serverParams ? { startParams: [...PGlite.defaultStartParams, ...opts.serverParams] } : {}),
        extensions: { citext },
        parsers: parsersRaw,
      });
      await db.exec(`CREATE SCHEMA IF NOT EXISTS tds_sys; CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA tds_sys; ${TDS_SYS_SQL}`);
      await db.exec(`SET search_path TO public, tds_sys`);
      await db.query(`SELECT set_config('tds.db', $1, false)`, [name]);
      const entry: PgliteDb = { name, db, mutex: new Mutex() };
      dbs.set(key, entry);
      creating.delete(key);
      bump(name);
      return entry;
    })();
    creating.set(key, p);
    return p;
  };

  const get = (name: string): PgliteDb => {
    const d = dbs.get(name.toLowerCase());
    if (!d) throw new UnknownDatabaseError(name);
    return d;
  };

  return {
    async createDatabase(name) {
      await create(name);
    },
    async dropDatabase(name) {
      const d = dbs.get(name.toLowerCase());
      if (!d) return;
      dbs.delete(name.toLowerCase());
      await d.db.close();
    },
    async adminExec(database, sql) {
      const d = await create(database);
      const release = await d.mutex.lock();
      try {
        await d.db.exec(sql);
      } finally {
        bump(database);
        release();
      }
    },
    catalogVersion(database) {
      return versions.get(database.toLowerCase()) ?? 0;
    },
    async databases() {
      return [...dbs.values()].map((d) => d.name);
    },
    async openSession(database) {
      const d = get(database);
      let held: (() => void) | null = null;
      let closed = false;
      const run = async (sql: string, params?: unknown[]): Promise<QueryResult> => {
        const r = await d.db.query<unknown[]>(sql, params ?? [], { rowMode: 'array', parsers: parsersRaw });
        return {
          rows: r.rows,
          fields: r.fields.map((f) => ({ name: f.name, pgType: f.dataTypeID })),
          rowCount: r.affectedRows ?? r.rows.length,
        };
      };
      const sessionObj: BackendSession = {
        async query(sql, params) {
          if (closed) throw new Error('session closed');
          if (held) return run(sql, params);
          const release = await d.mutex.lock();
          try {
            return await run(sql, params);
          } finally {
            release();
          }
        },
        async begin() {
          if (held) throw new Error('transaction already open');
          const release = await d.mutex.lock();
          try {
            await run('BEGIN');
          } catch (e) {
            release();
            throw e;
          }
          held = release;
        },
        async commit() {
          if (!held) return;
          try {
            await run('COMMIT');
          } finally {
            const r = held;
            held = null;
            r();
          }
        },
        async rollback() {
          if (!held) return;
          try {
            await run('ROLLBACK');
          } finally {
            const r = held;
            held = null;
            r();
          }
        },
        async close() {
          if (closed) return;
          if (held) await sessionObj.rollback().catch(() => undefined);
          closed = true;
        },
      };
      return sessionObj;
    },
    async close() {
      for (const d of dbs.values()) await d.db.close();
      dbs.clear();
    },
  };
}

const pgTypes = {
  getTypeParser(oid: number, format?: string): (v: string) => unknown {
    if (RAW_TYPES.includes(oid)) return (v: string) => v;
    return pg.types.getTypeParser(oid, (format ?? 'text') as 'text');
  },
};

export async function createPgBackend(opts: { connectionString: string }): Promise<AdminBackend> {
  const admin = new pg.Client({ connectionString: opts.connectionString, types: pgTypes as never });
  await admin.connect();
  await admin.query(`CREATE SCHEMA IF NOT EXISTS tds_sys; CREATE EXTENSION IF NOT EXISTS citext WITH SCHEMA tds_sys`);
  await admin.query(TDS_SYS_SQL);
  const versions = new Map<string, number>();
  const bump = (name: string): void => {
    versions.set(name.toLowerCase(), (versions.get(name.toLowerCase()) ?? 0) + 1);
  };
  const sessions = new Set<pg.Client>();
  const listSchemas = async (): Promise<string[]> => {
    const r = await admin.query<{ nspname: string }>(
      `SELECT n.nspname FROM pg_namespace n WHERE obj_description(n.oid, 'pg_namespace') = 'tds-database' ORDER BY 1`,
    );
    return r.rows.map((x) => x.nspname);
  };
  const resolve = async (name: string): Promise<string | undefined> =>
    (await listSchemas()).find((s) => s.toLowerCase() === name.toLowerCase());
  const q = (s: string): string => '"' + s.replace(/"/g, '""') + '"';
  const createDatabase = async (name: string): Promise<string> => {
    assertDbName(name);
    const existing = await resolve(name);
    if (existing) return existing;
    await admin.query(`CREATE SCHEMA ${q(name)}; COMMENT ON SCHEMA ${q(name)} IS 'tds-database'`);
    bump(name);
    return name;
  };
  return {
    async createDatabase(name) {
      await createDatabase(name);
    },
    async dropDatabase(name) {
      const s = await resolve(name);
      if (s) await admin.query(`DROP SCHEMA ${q(s)} CASCADE`);
      bump(name);
    },
    async adminExec(database, sql) {
      const schema = await createDatabase(database);
      try {
        await admin.query(`SET search_path TO ${q(schema)}, tds_sys; ${sql}`);
      } finally {
        await admin.query('RESET search_path').catch(() => undefined);
        bump(database);
      }
    },
    catalogVersion(database) {
      return versions.get(database.toLowerCase()) ?? 0;
    },
    databases: listSchemas,
    async openSession(database) {
      const schema = await resolve(database);
      if (!schema) throw new UnknownDatabaseError(database);
      const c = new pg.Client({ connectionString: opts.connectionString, types: pgTypes as never });
      await c.connect();
      sessions.add(c);
      await c.query(`SET search_path TO ${q(schema)}, tds_sys`);
      await c.query(`SELECT set_config('tds.db', $1, false)`, [schema]);
      let inTx = false;
      return {
        async query(sql, params) {
          const r = await c.query({ text: sql, values: params ?? [], rowMode: 'array' });
          return {
            rows: r.rows as unknown[][],
            fields: r.fields.map((f) => ({ name: f.name, pgType: f.dataTypeID, typmod: f.dataTypeModifier })),
            rowCount: r.rowCount ?? r.rows.length,
          };
        },
        async begin() {
          await c.query('BEGIN');
          inTx = true;
        },
        async commit() {
          if (!inTx) return;
          inTx = false;
          await c.query('COMMIT');
        },
        async rollback() {
          if (!inTx) return;
          inTx = false;
          await c.query('ROLLBACK');
        },
        async close() {
          sessions.delete(c);
          await c.end().catch(() => undefined);
        },
      };
    },
    async close() {
      for (const c of sessions) await c.end().catch(() => undefined);
      sessions.clear();
      await admin.end();
    },
  };
}
