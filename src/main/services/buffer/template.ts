/**
 * Creation of the embedded buffer's database folder: light, atomic, and safe against a crash or a full disk.
 *
 * Light. PGlite creates a database by running initdb in a second WASM instance next to the first one, which
 * costs ~770 MB of peak memory once. Instead, a template — an empty database made once by initdb, as a
 * gzipped tarball `buffer-template.tar.gz` with `buffer-template.json` (the PGlite version that made it) — is
 * unpacked (~200 MB peak, a fraction of a second). The packaged app carries the one `npm run build` makes;
 * from sources, `npm ci` makes it (root postinstall, scripts/make-buffer-template.ts), so the demo, `npm run
 * try`, the bridge and the tests take the same path as a packaged build. Without a usable template (missing,
 * made by another PGlite version, unreadable) the database is made by an in-memory initdb, as before.
 *
 * Atomic. The folder is built aside (`<folder>.creation-<pid>-<random>`, next to it, so on the same disk),
 * every file written with errors checked (a full disk makes the extraction fail instead of leaving empty
 * files), flushed to disk, then opened once by PGlite to verify it; only then is it renamed into place. The
 * folder therefore either does not exist or holds a database that opened at least once: a kill, a power cut
 * or a full disk during the creation leaves at most a `.creation-…` folder, removed at the next creation.
 *
 * Recovery. A folder left by an older version or by a creation interrupted in place is recognised:
 *  - no `PG_VERSION` and only the names a PostgreSQL data folder holds → never a database (PostgreSQL writes
 *    `PG_VERSION` before anything can be stored): removed and created again;
 *  - `PG_VERSION` empty or unreadable, or `global/pg_control` missing or short (e.g. a full disk during an old
 *    in-place creation: 971 of 972 files empty) → it cannot be opened but might hold data: it is kept aside as
 *    `<folder>.endommagee-<date>` (never deleted) and a new buffer is created;
 *  - other files and no database → not ours: refused, nothing touched.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import * as tar from 'tar';
import { z } from 'zod';

/** The template shipped with the app: build/ at the app's root (src/main/services/buffer → 4 levels up, as dist/main/services/buffer). */
export const BUNDLED_BUFFER_TEMPLATE = fileURLToPath(new URL('../../../../build/buffer-template.tar.gz', import.meta.url));

const templateInfoSchema = z.object({ pglite: z.string().min(1), createdAt: z.string() });
export type BufferTemplateInfo = z.infer<typeof templateInfoSchema>;

/** `…/buffer-template.tar.gz` → `…/buffer-template.json`. */
export function templateInfoPath(template: string): string {
  return template.replace(/\.tar\.gz$/, '') + '.json';
}

/** Version of the PGlite package this app runs (a template is only used with the version that made it). */
export function installedPgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  const pkg = z.object({ version: z.string() }).parse(JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')));
  return pkg.version;
}

/** Why a template cannot be used, or null when it can. */
export function templateProblem(template: string): string | null {
  if (!existsSync(template)) return `no template at ${template}`;
  let info: BufferTemplateInfo;
  try {
    info = templateInfoSchema.parse(JSON.parse(readFileSync(templateInfoPath(template), 'utf8')));
  } catch (e) {
    return `unreadable ${templateInfoPath(template)}: ${e instanceof Error ? e.message : String(e)}`;
  }
  const installed = installedPgliteVersion();
  return info.pglite === installed ? null : `template made by PGlite ${info.pglite}, this app runs ${installed}`;
}

// ------------------------------------------------------------------------------------------ file-system layer

/**
 * The few file-system operations of the creation, injectable so that tests can make one fail mid-way (a full
 * disk after N bytes, a power cut before the rename). Default: node:fs.
 */
export interface CreationFs {
  /** Unpacks a gzipped tarball into `dir` (which exists); rejects on any write error. */
  extract(tarball: Buffer, dir: string): Promise<void>;
  /** Flushes every file of `dir` and the folders themselves to the disk. */
  flush(dir: string): void;
  rename(from: string, to: string): void;
}

function fsyncPath(path: string): void {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return; // folders cannot be opened on Windows: nothing to flush there
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code !== 'EINVAL' && code !== 'EPERM' && code !== 'EISDIR' && code !== 'EBADF') throw e;
  } finally {
    closeSync(fd);
  }
}

function flushTree(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) flushTree(p);
    else if (e.isFile()) fsyncPath(p);
  }
  fsyncPath(dir);
}

/** rename, retried a few times on Windows' transient refusals (an antivirus or the indexer holding a file). */
function renameWithRetry(from: string, to: string): void {
  for (let attempt = 0; ; attempt++) {
    try {
      renameSync(from, to);
      return;
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (attempt >= 20 || (code !== 'EPERM' && code !== 'EBUSY' && code !== 'EACCES')) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
}

export const nodeCreationFs: CreationFs = {
  async extract(tarball, dir) {
    // node-tar reports a file it could not write (ENOSPC, EACCES…) as a warning and goes on, leaving the file
    // empty: every warning but the informational ones (PGlite's tarballs have absolute paths, stripped) fails
    // the extraction, with the original error (its code says "disk full").
    let failure: Error | null = null;
    await pipeline(
      Readable.from([tarball]),
      tar.x({
        cwd: dir,
        onwarn: (code, message, data) => {
          if (code === 'TAR_ENTRY_INFO' || failure) return;
          failure = data instanceof Error ? data : Object.assign(new Error(`${code}: ${message}`), { code: (data as { code?: string }).code ?? code });
        },
      }),
    );
    if (failure) throw failure;
  },
  flush: flushTree,
  rename: renameWithRetry,
};

// ------------------------------------------------------------------------------------------ existing folders

/** Names a PostgreSQL data folder holds at its top level (plus our own old lock and staged tarball). */
const DATA_FOLDER_NAMES = new Set([
  'PG_VERSION',
  'base',
  'global',
  'pg_commit_ts',
  'pg_dynshmem',
  'pg_hba.conf',
  'pg_ident.conf',
  'pg_logical',
  'pg_multixact',
  'pg_notify',
  'pg_replslot',
  'pg_serial',
  'pg_snapshots',
  'pg_stat',
  'pg_stat_tmp',
  'pg_subtrans',
  'pg_tblspc',
  'pg_twophase',
  'pg_wal',
  'pg_xact',
  'postgresql.auto.conf',
  'postgresql.conf',
  'postmaster.pid',
  'postmaster.opts',
  'current_logfiles',
  'log',
  'connecteur.lock',
  '.buffer-template.tar.gz',
]);

/** `global/pg_control` is always exactly this size (PG_CONTROL_FILE_SIZE). */
const PG_CONTROL_SIZE = 8192;

export type FolderState =
  | { kind: 'absent' }
  /** Exists and holds nothing of a database (empty, or only our old lock file). */
  | { kind: 'empty' }
  /** PG_VERSION and pg_control look like a finished database. */
  | { kind: 'database' }
  /** A creation cut short before PG_VERSION: never a database, safe to remove. */
  | { kind: 'unfinished' }
  /** Has PG_VERSION but cannot be a working database: kept aside, might hold data. */
  | { kind: 'damaged'; why: string }
  /** Files that are not a PostgreSQL data folder: not ours to touch. */
  | { kind: 'foreign'; names: string[] };

/** What is at `dir` (reads names, PG_VERSION and the size of pg_control only). */
export function inspectDataFolder(dir: string): FolderState {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return { kind: 'absent' };
    throw e;
  }
  if (names.every((n) => n === 'connecteur.lock')) return { kind: 'empty' };
  if (!names.includes('PG_VERSION')) {
    const foreign = names.filter((n) => !DATA_FOLDER_NAMES.has(n));
    return foreign.length > 0 ? { kind: 'foreign', names: foreign } : { kind: 'unfinished' };
  }
  let version: string;
  try {
    version = readFileSync(join(dir, 'PG_VERSION'), 'utf8');
  } catch (e) {
    return { kind: 'damaged', why: `PG_VERSION unreadable: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (!/^\d+(\.\d+)?\s*$/.test(version)) return { kind: 'damaged', why: version.length === 0 ? 'PG_VERSION is empty' : 'PG_VERSION holds no version' };
  let control: number;
  try {
    control = statSync(join(dir, 'global', 'pg_control')).size;
  } catch {
    return { kind: 'damaged', why: 'global/pg_control is missing' };
  }
  if (control !== PG_CONTROL_SIZE) return { kind: 'damaged', why: `global/pg_control is ${control} bytes instead of ${PG_CONTROL_SIZE}` };
  return { kind: 'database' };
}

const stamp = (d: Date): string => d.toISOString().replace(/\.\d+Z$/, '').replace(/[-:]/g, '').replace('T', '-');

/** A free name next to `dir` for keeping a damaged folder aside. */
function asideName(dir: string, now: Date): string {
  const base = `${dir}.endommagee-${stamp(now)}`;
  let name = base;
  for (let i = 2; existsSync(name); i++) name = `${base}-${i}`;
  return name;
}

/** Removes the staging folders of creations that did not finish (the caller holds the buffer's lock). */
function removeStaleStaging(dir: string): void {
  const parent = dirname(dir);
  const prefix = `${basename(dir)}.creation-`;
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const n of names) if (n.startsWith(prefix)) rmSync(join(parent, n), { recursive: true, force: true });
}

// ------------------------------------------------------------------------------------------ creation

export type DatabaseOrigin = 'existing' | 'template' | 'initdb';

export interface EnsureResult {
  origin: DatabaseOrigin;
  /** Why the template was not used (initdb), or null. */
  note: string | null;
  /** Where an unopenable folder found in place was kept (it might hold data), or null. */
  keptAside: string | null;
}

export interface EnsureOptions {
  /** The template tarball, or null to always run initdb. */
  template: string | null;
  /** PGlite's start parameters (initdb and the verification opening). */
  startParams: string[];
  fs?: CreationFs;
  now?: () => Date;
  /** Test hook: runs when the new folder is complete and verified, just before it is renamed into place. */
  beforeRename?: () => Promise<void>;
}

export class ForeignFolderError extends Error {
  constructor(
    readonly dir: string,
    readonly names: string[],
  ) {
    super(`${dir} holds files that are not a PostgreSQL data folder: ${names.slice(0, 5).join(', ')}${names.length > 5 ? '…' : ''}`);
    this.name = 'ForeignFolderError';
  }
}

/** ENOSPC / 53100 / "No space left on device": retrying another way cannot help. */
export function isDiskFullError(e: unknown): boolean {
  const code = (e as { code?: string } | null)?.code;
  const detail = e instanceof Error ? e.message : String(e);
  return code === '53100' || code === 'ENOSPC' || /No space left on device|could not extend file|ENOSPC/i.test(detail);
}

/** Runs initdb in memory (the costly step) and returns the new database folder as a gzipped tarball. */
async function initdbTarball(startParams: string[]): Promise<Buffer> {
  const db = await PGlite.create({ startParams });
  try {
    const blob = await db.dumpDataDir('gzip');
    return Buffer.from(await blob.arrayBuffer());
  } finally {
    await db.close();
  }
}

/** Opens the folder once and runs a query: the proof that it is a working database. */
async function verifyOpens(dir: string, startParams: string[]): Promise<void> {
  const db = await PGlite.create(dir, { startParams });
  try {
    await db.query('SELECT 1');
  } finally {
    await db.close();
  }
}

/** Builds a verified database folder at `staging` from `tarball`. */
async function buildAside(staging: string, tarball: Buffer, o: { startParams: string[]; fs: CreationFs }): Promise<void> {
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging);
  await o.fs.extract(tarball, staging);
  const state = inspectDataFolder(staging);
  if (state.kind !== 'database') throw new Error(`the unpacked folder is not a database (${state.kind}${'why' in state ? `: ${state.why}` : ''})`);
  o.fs.flush(staging);
  await verifyOpens(staging, o.startParams);
}

/**
 * Makes sure `dataDir` holds a database folder PGlite can open (see the file's comment). The caller holds the
 * buffer's lock; `dataDir`'s parent exists.
 */
export async function ensureBufferDatabase(dataDir: string, opts: EnsureOptions): Promise<EnsureResult> {
  const fsx = opts.fs ?? nodeCreationFs;
  const now = opts.now ?? (() => new Date());
  const state = inspectDataFolder(dataDir);
  if (state.kind === 'database') return { origin: 'existing', note: null, keptAside: null };
  if (state.kind === 'foreign') throw new ForeignFolderError(dataDir, state.names);

  let keptAside: string | null = null;
  if (state.kind === 'damaged') {
    keptAside = asideName(dataDir, now());
    fsx.rename(dataDir, keptAside);
  } else if (state.kind === 'empty' || state.kind === 'unfinished') {
    rmSync(dataDir, { recursive: true, force: true });
  }
  removeStaleStaging(dataDir);

  const staging = `${dataDir}.creation-${process.pid}-${randomBytes(4).toString('hex')}`;
  const build = { startParams: opts.startParams, fs: fsx };
  let origin: 'template' | 'initdb' = 'initdb';
  let note = opts.template === null ? 'no template given' : templateProblem(opts.template);
  try {
    if (note === null && opts.template !== null) {
      try {
        // Read whole: the shipped template may sit inside the app's asar archive, which plain reads see.
        await buildAside(staging, readFileSync(opts.template), build);
        origin = 'template';
      } catch (e) {
        if (isDiskFullError(e)) throw e;
        note = `template unusable: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    if (origin === 'initdb') await buildAside(staging, await initdbTarball(opts.startParams), build);
    await opts.beforeRename?.();
    fsx.rename(staging, dataDir);
    fsyncPath(dirname(dataDir));
  } catch (e) {
    rmSync(staging, { recursive: true, force: true });
    throw e;
  }
  return { origin, note, keptAside };
}

/** Writes a template (tarball + its .json) of an empty database made by this PGlite (npm ci, npm run build). */
export async function writeBufferTemplate(template: string, startParams: string[]): Promise<BufferTemplateInfo> {
  const tarball = await initdbTarball(startParams);
  const info: BufferTemplateInfo = { pglite: installedPgliteVersion(), createdAt: new Date().toISOString() };
  // Each file is written aside then renamed: a build cut short never leaves a truncated template behind a
  // .json that vouches for it. The tarball first: a new tarball under an old .json of the same version is fine.
  const tmp = `${template}.${process.pid}.tmp`;
  writeFileSync(tmp, tarball);
  renameSync(tmp, template);
  const infoTmp = `${templateInfoPath(template)}.${process.pid}.tmp`;
  writeFileSync(infoTmp, JSON.stringify(info, null, 2) + '\n');
  renameSync(infoTmp, templateInfoPath(template));
  return info;
}
