/**
 * The import agent's file operations over node:fs (the ImportFs port), and its atomic steps: write aside, fsync,
 * rename. Nothing is written outside the work folder and Batigest's import folder (names.ts `inside`).
 */
import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { AppError } from '../../../../../shared/errors.js';
import type { ImportFs } from '../../../ports.js';
import { importsText } from '../../journal-text.js';

export const nodeImportFs: ImportFs = {
  mkdir: async (dir) => {
    await fsp.mkdir(dir, { recursive: true });
  },
  exists: async (file) => {
    try {
      await fsp.access(file);
      return true;
    } catch {
      return false;
    }
  },
  openWrite: async (file) => {
    const h = await fsp.open(file, 'w');
    return {
      write: async (chunk) => {
        await h.write(chunk);
      },
      sync: () => h.sync(),
      close: () => h.close(),
    };
  },
  readFile: (file) => fsp.readFile(file),
  rename: (from, to) => fsp.rename(from, to),
  unlink: async (file) => {
    try {
      await fsp.unlink(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  },
  syncDir: async (dir) => {
    // Windows cannot open a folder for fsync; elsewhere the rename is flushed with its folder.
    if (process.platform === 'win32') return;
    const h = await fsp.open(dir, 'r');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
  },
  assertWritableDir: async (dir) => {
    const st = await fsp.stat(dir);
    if (!st.isDirectory()) throw Object.assign(new Error(`not a folder: ${dir}`), { code: 'ENOTDIR' });
    await fsp.access(dir, constants.W_OK);
  },
  appendFile: (file, text) => fsp.appendFile(file, text, 'utf8'),
  readdir: (dir) => fsp.readdir(dir),
};

export const WORK_FOLDERS = ['Downloads', 'ToImport', 'Archive', 'Errors', 'Logs'] as const;
export type WorkFolder = (typeof WORK_FOLDERS)[number];

/** Writes `chunks` to `target` aside (`<target>.part`), flushes it, then renames it into place. */
export async function writeAtomic(fs: ImportFs, target: string, content: Uint8Array): Promise<void> {
  const aside = `${target}.part`;
  const w = await fs.openWrite(aside);
  try {
    await w.write(content);
    await w.sync();
  } finally {
    await w.close();
  }
  await fs.rename(aside, target);
  await fs.syncDir(path.dirname(target));
}

/** A rename between two folders of the work folder (same disk: atomic), flushed. */
export async function moveAtomic(fs: ImportFs, from: string, to: string): Promise<void> {
  await fs.rename(from, to);
  await fs.syncDir(path.dirname(to));
  await fs.syncDir(path.dirname(from));
}

const errno = (e: unknown): string => String((e as { code?: unknown } | null)?.code ?? '');

/** A file-system failure as the user reads it: disk full, folder missing or read-only; otherwise null. */
export function fsAppError(e: unknown, where: { folder: string; setting: string }): AppError | null {
  const code = errno(e);
  const detail = [code, e instanceof Error ? e.message : String(e)].join(': ');
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new AppError('DISK_FULL', importsText.diskFull(where.folder), { detail, cause: e });
  }
  if (code === 'ENOENT' || code === 'ENOTDIR') {
    return new AppError('IMPORT_FOLDER_UNAVAILABLE', importsText.folderMissing(where.folder, where.setting), { detail, cause: e });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'EBUSY') {
    return new AppError('IMPORT_FOLDER_UNAVAILABLE', importsText.folderReadOnly(where.folder, where.setting), { detail, cause: e });
  }
  return null;
}

/** The connection test's check of Batigest's import folder: present and writable (nothing is written). */
export async function testImportFolder(dir: string, sw: string): Promise<{ ok: boolean; code: string | null; message: string; details: Record<string, string> }> {
  if (dir.trim() === '') return { ok: false, code: 'NOT_CONFIGURED', message: importsText.noImportFolder(sw), details: {} };
  const full = path.resolve(dir);
  try {
    await nodeImportFs.assertWritableDir(full);
    return { ok: true, code: null, message: importsText.importFolderOk(sw), details: { [importsText.importFolderDetail]: full } };
  } catch (e) {
    const err = fsAppError(e, { folder: full, setting: importsText.importSetting });
    return { ok: false, code: err?.code ?? 'IMPORT_FOLDER_UNAVAILABLE', message: err?.message ?? importsText.folderUnusable(full), details: {} };
  }
}
