/**
 * The buffer database (base tampon): one small interface, two implementations.
 *
 *  - embedded: PGlite (PostgreSQL compiled to WASM) in a folder of the user-data directory, or in memory;
 *  - remote: a real PostgreSQL server through a `pg` pool, for several PCs sharing one buffer.
 *
 * Both run the SAME SQL (see migrations.ts and store.ts). Rows come back as plain objects; callers
 * validate them with zod (store.ts), so driver differences (Date vs string) are absorbed there.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { AppError } from '../../../shared/errors.js';
import { storable } from '../../../shared/text.js';
import { ensurePrivateDir } from '../private-fs.js';
import { BUNDLED_BUFFER_TEMPLATE, ensureBufferDatabase, ForeignFolderError, isDiskFullError, type CreationFs } from './template.js';

export type SqlParam = string | number | boolean | null | Date | (string | null)[] | (number | null)[];

/**
 * Every text parameter made storable (U+0000 and lone surrogates → U+FFFD): PostgreSQL refuses them, and one such
 * character in a name from outside must not fail a whole transaction (the sync layer refuses such identifiers).
 */
export function storableParams(params: SqlParam[]): SqlParam[] {
  return params.map((p) => (typeof p === 'string' ? storable(p) : Array.isArray(p) ? (p as (string | number | null)[]).map((x) => (typeof x === 'string' ? storable(x) : x)) : p)) as SqlParam[];
}

export interface BufferQueryable {
  /** Runs one parameterised statement ($1, $2…) and returns its rows. */
  query<T = Record<string, unknown>>(sql: string, params?: SqlParam[]): Promise<T[]>;
}

export interface BufferDb extends BufferQueryable {
  readonly kind: 'embedded' | 'remote';
  /** Runs `fn` inside one transaction (BEGIN … COMMIT, ROLLBACK when it throws). */
  transaction<T>(fn: (tx: BufferQueryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements without parameters (migrations only). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/** 53100 disk_full, or the file system's ENOSPC seen by the embedded database. */
const isDiskFull = isDiskFullError;

function bufferError(e: unknown, what: string): AppError {
  if (e instanceof AppError) return e;
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  const code = (e as { code?: string } | null)?.code;
  const unreachable =
    code === 'ECONNREFUSED' || code === 'ENOTFOUND' || code === 'ETIMEDOUT' || code === 'ECONNRESET' || code === '57P01' ||
    /Connection terminated|terminating connection|Client has encountered a connection error/i.test(detail);
  if (unreachable) {
    return new AppError(
      'BUFFER_UNREACHABLE',
      'La base tampon PostgreSQL est injoignable. Vérifiez le serveur, le port et le réseau, puis réessayez.',
      { detail: `${what}: ${detail}`, cause: e, retryable: true },
    );
  }
  if (isDiskFull(e)) {
    return new AppError(
      'BUFFER_ERROR',
      "Le disque de la base tampon est plein : libérez de la place sur ce disque puis relancez la synchronisation. Rien n'est perdu : elle reprendra là où elle s'est arrêtée.",
      { detail: `${what}: ${detail}`, cause: e, retryable: false },
    );
  }
  // 40001 serialization failure, 40P01 deadlock: safe to retry the whole transaction.
  const retryable = code === '40001' || code === '40P01' || code === '57P01';
  return new AppError('BUFFER_ERROR', 'Erreur de la base tampon. Consultez le journal technique ; si elle persiste, contactez le support.', {
    detail: `${what}: ${detail}`,
    cause: e,
    retryable,
  });
}

/**
 * The embedded buffer's lock file: next to its folder (not inside), so that the folder itself can be created
 * aside and renamed into place, or kept aside when it is damaged, while the lock is held.
 */
export function embeddedLockFile(dataDir: string): string {
  return `${resolve(dataDir)}.lock`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * PGlite is single-process: the app and the CLI must not open the same embedded buffer at once.
 * A lock file holds the owner's pid; a lock of a dead process (crash, kill) is taken over.
 */
function lockEmbedded(dataDir: string): () => void {
  const file = embeddedLockFile(dataDir);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(file, String(process.pid), { flag: 'wx', mode: 0o600 });
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as { code?: string }).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (pid === process.pid) return () => undefined;
      if (Number.isInteger(pid) && pid > 0 && pidAlive(pid)) {
        throw new AppError(
          'BUFFER_LOCKED',
          "La base tampon intégrée est déjà ouverte par un autre programme du connecteur (application ou ligne de commande). Fermez-le, ou lancez la synchronisation depuis celui-ci.",
          { detail: `${file} held by pid ${pid}` },
        );
      }
      rmSync(file, { force: true });
    }
  }
  throw new AppError('BUFFER_LOCKED', "Le verrou de la base tampon intégrée n'a pas pu être pris. Réessayez.", { detail: file });
}

/**
 * Server settings of the embedded PostgreSQL, given at every start (they override postgresql.conf, which
 * keeps initdb's defaults). PostgreSQL's default `shared_buffers` of 128 MB lives inside PGlite's WASM
 * memory, which never shrinks: the buffer holds a few tens of MB at most, so 16 MB of page cache is plenty
 * (the operating system caches the files too) and opening the buffer costs ~170 MB instead of ~290 MB.
 * One session only: no need for 100 connection slots.
 */
export const EMBEDDED_SERVER_PARAMS: readonly string[] = ['-c', 'shared_buffers=16MB', '-c', 'max_connections=8'];

export interface EmbeddedBufferOptions {
  /** Template of a new database folder (see template.ts); null = in-memory initdb. Default: the one shipped with the app. */
  template?: string | null;
  /**
   * Told how a new database folder was made (template or in-memory initdb, and why not the template), and where
   * an unopenable folder found in its place was kept.
   */
  onCreated?: (how: { origin: 'template' | 'initdb'; note: string | null; keptAside: string | null }) => void;
  /** Test hook (crash test): runs when a new folder is complete and verified, just before it is renamed into place. */
  beforeCreationMark?: () => Promise<void>;
  /** Test hook: the file-system operations of the creation (a full disk mid-way). */
  creationFs?: CreationFs;
}

/** Embedded buffer. `dataDir` undefined = in memory (tests). */
export async function openEmbeddedBuffer(dataDir?: string, opts: EmbeddedBufferOptions = {}): Promise<BufferDb> {
  let unlock: () => void = () => undefined;
  const startParams = [...PGlite.defaultStartParams, ...EMBEDDED_SERVER_PARAMS];
  if (dataDir) {
    // The folder itself is made by the creation (built aside, then renamed into place): its parent must exist.
    mkdirSync(dirname(resolve(dataDir)), { recursive: true });
    unlock = lockEmbedded(dataDir);
    try {
      const made = await ensureBufferDatabase(dataDir, {
        template: opts.template === undefined ? BUNDLED_BUFFER_TEMPLATE : opts.template,
        startParams,
        ...(opts.creationFs ? { fs: opts.creationFs } : {}),
        ...(opts.beforeCreationMark ? { beforeRename: opts.beforeCreationMark } : {}),
      });
      if (made.origin !== 'existing') opts.onCreated?.({ origin: made.origin, note: made.note, keptAside: made.keptAside });
      // Private to this user (0700), also a folder an earlier version left open.
      ensurePrivateDir(dataDir);
    } catch (e) {
      unlock();
      if (isDiskFull(e)) throw bufferError(e, 'create');
      if (e instanceof ForeignFolderError) {
        throw new AppError(
          'BUFFER_ERROR',
          `Le dossier de la base tampon intégrée (${e.dir}) contient déjà d'autres fichiers : le connecteur n'y touche pas. Choisissez un dossier vide, ou videz celui-ci, puis relancez.`,
          { detail: e.message, cause: e },
        );
      }
      throw new AppError(
        'BUFFER_ERROR',
        "La base tampon intégrée n'a pas pu être créée. Vérifiez que le dossier est accessible en écriture, puis relancez : la création reprendra depuis le début.",
        { detail: `create ${dataDir}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`, cause: e },
      );
    }
  }
  let db: PGlite;
  try {
    db = dataDir ? await PGlite.create(dataDir, { startParams }) : await PGlite.create({ startParams });
  } catch (e) {
    unlock();
    throw new AppError(
      'BUFFER_ERROR',
      "La base tampon intégrée n'a pas pu être ouverte. Vérifiez que le dossier est accessible et qu'aucune autre instance du connecteur ne l'utilise.",
      { detail: e instanceof Error ? e.message : String(e), cause: e },
    );
  }
  const wrap = (q: { query: PGlite['query'] }): BufferQueryable => ({
    async query<T>(sql: string, params: SqlParam[] = []): Promise<T[]> {
      try {
        const res = await q.query<T>(sql, storableParams(params));
        return res.rows;
      } catch (e) {
        throw bufferError(e, 'query');
      }
    },
  });
  const base = wrap(db);
  return {
    kind: 'embedded',
    query: base.query,
    async transaction<T>(fn: (tx: BufferQueryable) => Promise<T>): Promise<T> {
      try {
        return await db.transaction((tx) => fn(wrap(tx)));
      } catch (e) {
        throw bufferError(e, 'transaction');
      }
    },
    async exec(sql: string): Promise<void> {
      try {
        await db.exec(sql);
      } catch (e) {
        throw bufferError(e, 'exec');
      }
    },
    async close(): Promise<void> {
      if (!db.closed) await db.close();
      unlock();
    },
  };
}

export interface RemoteBufferOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  ssl: boolean;
  max?: number;
  connectionTimeoutMillis?: number;
  /**
   * The server ends a session left inside a transaction longer than this (default 20 s, well under the 120 s lease):
   * a PC frozen or cut off in the middle of a transaction must not keep its locks — the lease row's among them —
   * and so stop the PC that takes its flow over. Every buffer transaction is a few statements, never a remote call.
   */
  idleInTransactionMs?: number;
}

export async function openRemoteBuffer(opts: RemoteBufferOptions): Promise<BufferDb> {
  const pool = new pg.Pool({
    host: opts.host,
    port: opts.port,
    database: opts.database,
    user: opts.user,
    password: opts.password,
    ssl: opts.ssl ? { rejectUnauthorized: false } : false,
    max: opts.max ?? 4,
    connectionTimeoutMillis: opts.connectionTimeoutMillis ?? 10_000,
    application_name: 'connecteur-batisimply',
    options: `-c idle_in_transaction_session_timeout=${Math.max(100, Math.round(opts.idleInTransactionMs ?? 20_000))}`,
  });
  // A pg client emits 'error' when its connection dies (server restart, pg_terminate_backend, network cut),
  // also while it is checked out of the pool between two queries of a transaction, where the pool has no
  // listener on it: without one of ours, Node would end the process on that event. The query in flight (or
  // the next one) fails anyway and becomes a French BUFFER_UNREACHABLE, and the dead client leaves the pool.
  const connectionLost = (): void => undefined; // reported by the query that fails, not here
  pool.on('connect', (client) => {
    client.on('error', connectionLost);
  });
  pool.on('error', connectionLost); // idle clients: the pool removes them; the next query opens a new one
  const run = async <T>(client: pg.Pool | pg.PoolClient, sql: string, params: SqlParam[] = []): Promise<T[]> => {
    try {
      const res = await client.query(sql, storableParams(params));
      return res.rows as T[];
    } catch (e) {
      throw bufferError(e, 'query');
    }
  };
  // Fail early with a clear message when the server cannot be reached.
  await run(pool, 'SELECT 1');
  return {
    kind: 'remote',
    query: <T>(sql: string, params?: SqlParam[]) => run<T>(pool, sql, params),
    async transaction<T>(fn: (tx: BufferQueryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw bufferError(e, 'connect');
      }
      let failure: unknown = null;
      try {
        await client.query('BEGIN');
        const out = await fn({ query: <R>(sql: string, params?: SqlParam[]) => run<R>(client, sql, params) });
        await client.query('COMMIT');
        return out;
      } catch (e) {
        failure = e;
        await client.query('ROLLBACK').catch(() => undefined);
        throw bufferError(e, 'transaction');
      } finally {
        // A connection that failed is not given back to the pool for the next transaction.
        const dead = failure !== null && bufferError(failure, 'transaction').code === 'BUFFER_UNREACHABLE';
        client.release(dead ? (failure instanceof Error ? failure : new Error(String(failure))) : undefined);
      }
    },
    async exec(sql: string): Promise<void> {
      await run(pool, sql);
    },
    async close(): Promise<void> {
      await pool.end();
    },
  };
}
