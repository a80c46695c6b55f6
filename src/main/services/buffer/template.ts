/**
 * Creation of the embedded buffer's database folder: light, and safe against a crash.
 *
 * PGlite creates a database by running initdb in a second WASM instance next to the first one, which costs
 * ~770 MB of peak memory once, on the first start of the app. Instead, `npm run build` runs initdb once on
 * the build machine and ships the resulting empty database as `build/buffer-template.tar.gz` (with
 * `buffer-template.json`: the PGlite version that made it). On a PC, a new buffer folder is unpacked from it
 * (~200 MB peak, a fraction of a second). Without a usable template (sources run without a build, or a
 * template made by another PGlite version) the database is made by an in-memory initdb, as before, and
 * unpacked the same way.
 *
 * Crash safety: PGlite takes a folder holding `PG_VERSION` for a finished database. The unpacking writes
 * every other file first and `PG_VERSION` last, so a creation cut short (kill, power cut) leaves a folder
 * without `PG_VERSION` that is simply unpacked again on the next start. (PGlite's own initdb writes
 * `PG_VERSION` early: a crash during it left a folder that could never be opened.)
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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

const isRootPgVersion = (p: string): boolean => p.replace(/^[./]+/, '') === 'PG_VERSION';

/** Unpacks a gzipped data-folder tarball into `dataDir`, `PG_VERSION` last. */
async function unpack(file: string, dataDir: string, beforeVersion?: () => Promise<void>): Promise<void> {
  let version: Buffer | null = null;
  await tar.t({
    file,
    onReadEntry: (entry) => {
      if (!isRootPgVersion(entry.path)) return void entry.resume();
      const chunks: Buffer[] = [];
      entry.on('data', (c: Buffer) => chunks.push(c));
      entry.on('end', () => (version = Buffer.concat(chunks)));
    },
  });
  if (!version) throw new Error(`PG_VERSION missing from ${file}`);
  await tar.x({ file, cwd: dataDir, filter: (p) => !isRootPgVersion(p) });
  await beforeVersion?.();
  writeFileSync(join(dataDir, 'PG_VERSION'), version);
}

export type DatabaseOrigin = 'existing' | 'template' | 'initdb';

/**
 * Makes sure `dataDir` (which exists) holds a database folder PGlite can open.
 * @param template the template tarball, or null to always run initdb.
 * @param startParams PGlite's start parameters for the in-memory initdb.
 */
export async function ensureBufferDatabase(
  dataDir: string,
  template: string | null,
  startParams: string[],
  /** Test hook: runs when every file but PG_VERSION is written (the crash test kills the process there). */
  beforeVersion?: () => Promise<void>,
): Promise<{ origin: DatabaseOrigin; note: string | null }> {
  if (existsSync(join(dataDir, 'PG_VERSION'))) return { origin: 'existing', note: null };
  const problem = template === null ? 'no template given' : templateProblem(template);
  // The tarball is staged in the folder first: the shipped template may sit inside the app's asar archive,
  // which plain reads (readFileSync) see but tar's file handles may not.
  const staged = join(dataDir, '.buffer-template.tar.gz');
  const fromTemplate = template !== null && problem === null;
  if (fromTemplate) writeFileSync(staged, readFileSync(template));
  else await writeDataTarball(staged, startParams);
  try {
    await unpack(staged, dataDir, beforeVersion);
  } finally {
    rmSync(staged, { force: true });
  }
  return fromTemplate ? { origin: 'template', note: null } : { origin: 'initdb', note: problem };
}

/** Runs initdb in memory (the costly step) and writes the new database folder as a gzipped tarball. */
async function writeDataTarball(file: string, startParams: string[]): Promise<void> {
  const db = await PGlite.create({ startParams });
  try {
    const blob = await db.dumpDataDir('gzip');
    writeFileSync(file, Buffer.from(await blob.arrayBuffer()));
  } finally {
    await db.close();
  }
}

/** Writes a template (tarball + its .json) of an empty database made by this PGlite (npm run build). */
export async function writeBufferTemplate(template: string, startParams: string[]): Promise<BufferTemplateInfo> {
  await writeDataTarball(template, startParams);
  const info: BufferTemplateInfo = { pglite: installedPgliteVersion(), createdAt: new Date().toISOString() };
  writeFileSync(templateInfoPath(template), JSON.stringify(info, null, 2) + '\n');
  return info;
}
