/**
 * File names of the import agent. A name comes from the exports API (hostile text): it becomes a name Windows
 * accepts, inside the folder it is meant for — no path (`..\`, `/`), no reserved device name (CON, PRN, AUX, NUL,
 * COM1–9, LPT1–9, whatever the extension), none of < > : " / \ | ? * or control characters, no trailing dot or
 * space, at most 120 characters. Pure functions.
 */
import path from 'node:path';

// eslint-disable-next-line no-control-regex -- control characters are what Windows refuses in a name
const FORBIDDEN = /[<>:"/\\|?*\u0000-\u001f\u007f]/g;
const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)$/i;
const MAX = 120;

/** An export id usable in file names and URLs, or null (refused, journaled). */
export function safeExportId(id: string): string | null {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(id) && !id.includes('..') ? id : null;
}

/** A name Windows accepts for the API's `fileName` (last path segment only); `fallback` when nothing is left. */
export function safeFileName(raw: string | null, fallback: string): string {
  const last = (raw ?? '').split(/[\\/]/).pop() ?? '';
  let name = last.replace(FORBIDDEN, '_').replace(/[. ]+$/g, '').trim();
  if (name === '' || /^[._]+$/.test(name)) name = fallback;
  const dot = name.indexOf('.');
  const stem = dot < 0 ? name : name.slice(0, dot);
  if (RESERVED.test(stem.trim())) name = `_${name}`;
  if (name.length > MAX) {
    const ext = path.extname(name).slice(0, 10);
    name = name.slice(0, MAX - ext.length) + ext;
  }
  return name;
}

/** The file's name in the work folders and in Batigest's import folder: unique per export (its id first). */
export function importNameOf(exportId: string, fileName: string | null): string {
  const base = safeFileName(fileName, `export-${exportId}.xml`);
  return safeFileName(base.startsWith(`${exportId}_`) ? base : `${exportId}_${base}`, `export-${exportId}.xml`);
}

/** The temporary name of a file being written into Batigest's import folder (Batigest takes only .xml/.csv). */
export const partName = (importName: string): string => `~${importName}.cbs-part`;

/** `dir/name`, refused when it would not be directly inside `dir` (defence in depth after safeFileName). */
export function inside(dir: string, name: string): string {
  const root = path.resolve(dir);
  const full = path.resolve(root, name);
  if (path.dirname(full) !== root || path.basename(full) !== name) throw new Error(`file name outside its folder: ${name}`);
  return full;
}
