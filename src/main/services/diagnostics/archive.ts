/**
 * The diagnostic archive for support: a zip (yazl) of text files, every configured secret scrubbed from
 * every file in every encoding it could take there — as typed, base64 (standard and URL-safe, with or
 * without padding), hexadecimal (lower and upper case), URL-encoded (percent and form encoding, upper and
 * lower case hex), JSON-escaped, and UTF-16 (little and big endian). Defence in depth: the settings written
 * into it are already masked and the logger already masks secrets; the scrubber catches what they missed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

export const SCRUBBED = '[masqué]';
/** Shorter secrets are not scrubbed from free text (they would match ordinary words); see docs. */
export const MIN_SCRUBBED_LENGTH = 4;

const lowerPercent = (s: string) => s.replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());

/** Every byte sequence a secret may take in a text file. */
export function secretForms(secret: string): Buffer[] {
  const utf8 = Buffer.from(secret, 'utf8');
  const b64 = utf8.toString('base64');
  const forms = [
    utf8,
    Buffer.from(b64),
    Buffer.from(b64.replace(/=+$/, '')),
    Buffer.from(utf8.toString('base64url')),
    Buffer.from(utf8.toString('hex')),
    Buffer.from(utf8.toString('hex').toUpperCase()),
    Buffer.from(encodeURIComponent(secret)),
    Buffer.from(lowerPercent(encodeURIComponent(secret))),
    Buffer.from(new URLSearchParams({ x: secret }).toString().slice(2)),
    Buffer.from(JSON.stringify(secret).slice(1, -1)),
    Buffer.from(secret, 'utf16le'),
    Buffer.from(secret, 'utf16le').swap16(),
  ];
  const seen = new Set<string>();
  return forms.filter((f) => f.length > 0 && !seen.has(f.toString('hex')) && (seen.add(f.toString('hex')), true));
}

/** `data` with every form of every secret replaced by [masqué] (longest forms first). */
export function scrubSecrets(data: Buffer, secrets: readonly string[]): Buffer {
  const forms = secrets.filter((s) => s.length >= MIN_SCRUBBED_LENGTH).flatMap(secretForms).sort((a, b) => b.length - a.length);
  let out = data;
  const mask = Buffer.from(SCRUBBED);
  for (const f of forms) {
    let i = out.indexOf(f);
    if (i < 0) continue;
    const parts: Buffer[] = [];
    let from = 0;
    while (i >= 0) {
      parts.push(out.subarray(from, i), mask);
      from = i + f.length;
      i = out.indexOf(f, from);
    }
    parts.push(out.subarray(from));
    out = Buffer.concat(parts);
  }
  return out;
}

export interface ArchiveEntry {
  /** Path inside the zip (forward slashes). */
  name: string;
  data: Buffer | string;
}

/** Writes the zip atomically (aside, then renamed) with every entry scrubbed; returns its size. */
export async function writeDiagnosticArchive(file: string, entries: readonly ArchiveEntry[], secrets: readonly string[], mtime: Date): Promise<number> {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const zip = new yazl.ZipFile();
  for (const e of entries) {
    const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : e.data;
    zip.addBuffer(scrubSecrets(data, secrets), e.name, { mtime, mode: 0o100600 });
  }
  zip.end();
  const part = `${file}.part`;
  try {
    await pipeline(zip.outputStream, fs.createWriteStream(part, { mode: 0o600 }));
    fs.renameSync(part, file);
  } catch (e) {
    fs.rmSync(part, { force: true });
    throw e;
  }
  return fs.statSync(file).size;
}
