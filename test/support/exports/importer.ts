/**
 * A "Batigest importer" for tests: watches Batigest's import folder and consumes (reads, then deletes) the files
 * that Batigest would import (.xml, .csv), after a delay, never, or only some of them. Files whose name Batigest
 * would not take (the connector's `.part` files being written) are left alone. Every file seen and every file
 * consumed is recorded, so a test counts copies: a file name that appears twice is a double import.
 */
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

export type ImporterMode = 'consume' | 'never' | ((name: string) => boolean);

export interface BatigestImporter {
  /** Consumed files: name → how many times a file of that name was imported. */
  readonly consumed: Map<string, number>;
  /** Contents imported, by name (the last one). */
  readonly contents: Map<string, string>;
  /** Names seen in the folder (every appearance of a name counted once per appearance). */
  readonly appearances: Map<string, number>;
  mode: ImporterMode;
  delayMs: number;
  /** Files consumed more than once (double imports). */
  doubles(): string[];
  stop(): void;
}

const IMPORTABLE = /\.(xml|csv)$/i;

export function startBatigestImporter(folder: string, o: { mode?: ImporterMode; delayMs?: number; pollMs?: number } = {}): BatigestImporter {
  const present = new Map<string, number>(); // name → first seen at
  const imp: BatigestImporter = {
    consumed: new Map(),
    contents: new Map(),
    appearances: new Map(),
    mode: o.mode ?? 'consume',
    delayMs: o.delayMs ?? 0,
    doubles: () => [...imp.consumed].filter(([, n]) => n > 1).map(([k]) => k),
    stop: () => clearInterval(timer),
  };
  const wants = (name: string): boolean => (imp.mode === 'consume' ? true : imp.mode === 'never' ? false : imp.mode(name));
  const tick = (): void => {
    if (!existsSync(folder)) return;
    let names: string[];
    try {
      names = readdirSync(folder).filter((n) => IMPORTABLE.test(n));
    } catch {
      return;
    }
    const now = Date.now();
    for (const gone of [...present.keys()]) if (!names.includes(gone)) present.delete(gone);
    for (const n of names) {
      if (!present.has(n)) {
        present.set(n, now);
        imp.appearances.set(n, (imp.appearances.get(n) ?? 0) + 1);
      }
      if (!wants(n) || now - (present.get(n) ?? now) < imp.delayMs) continue;
      try {
        const text = readFileSync(join(folder, n), 'utf8');
        unlinkSync(join(folder, n));
        imp.contents.set(n, text);
        imp.consumed.set(n, (imp.consumed.get(n) ?? 0) + 1);
        present.delete(n);
      } catch {
        // Taken back by the connector meanwhile (timeout): not imported.
      }
    }
  };
  const timer = setInterval(tick, o.pollMs ?? 15);
  timer.unref?.();
  return imp;
}
