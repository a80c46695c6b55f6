/**
 * The connector's own folders (data folder, logs, embedded buffer, key files) hold secrets and
 * personal data: on POSIX they are created 0700 and their files 0600, whatever the umask. A folder
 * left group/world-readable by an earlier version is tightened when it is ours (same owner).
 * Windows has no POSIX modes; the per-user profile folders are already private there.
 */
import fs from 'node:fs';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const posix = process.platform !== 'win32';

/** Creates `dir` (and missing parents) private; tightens it when it exists with wider rights. Returns `dir`. */
export function ensurePrivateDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (posix) tighten(dir, PRIVATE_DIR_MODE);
  return dir;
}

/** Makes an existing file private (0600) when others may read it and it is ours; missing files and foreign owners are left alone. */
export function ensurePrivateFile(file: string): void {
  if (posix) tighten(file, PRIVATE_FILE_MODE);
}

function tighten(p: string, mode: number): void {
  try {
    const st = fs.statSync(p);
    const uid = typeof process.getuid === 'function' ? process.getuid() : -1;
    if ((st.mode & 0o077) !== 0 && (uid === -1 || st.uid === uid)) fs.chmodSync(p, mode);
  } catch {
    /* a file system without modes, or a folder we do not own: nothing more to do */
  }
}
