/**
 * Where the settings live on disk. The settings service only sees this interface; the Node
 * implementation uses `conf` (CLI, tests, web bridge) and the Electron shell uses electron-store
 * (same library family, same file format) — both through `confBackedStore`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir, ensurePrivateFile } from '../private-fs.js';

export type StoreLoad =
  | { kind: 'empty' }
  | { kind: 'ok'; data: Record<string, unknown> }
  /** The file exists but cannot be read as a JSON object (truncated, hand-edited…). */
  | { kind: 'unreadable'; detail: string };

export interface SettingsStore {
  /** Absolute path of the settings file. */
  readonly path: string;
  load(): StoreLoad;
  /** Replaces the whole content, atomically. */
  save(data: Record<string, unknown>): void;
  /** Renames the current file aside (`<file>.corrupt-<stamp>`) and returns the new path. */
  quarantine(stamp: string): string | null;
}

/** The subset of conf / electron-store we use. */
export interface ConfLike {
  store: Record<string, unknown>;
  readonly path: string;
}

export function confBackedStore(opts: { path: string; open: () => ConfLike }): SettingsStore {
  let conf: ConfLike | null = null;
  const open = () => (conf ??= opts.open());
  return {
    path: opts.path,
    load() {
      if (!fs.existsSync(opts.path)) return { kind: 'empty' };
      try {
        const data = open().store;
        if (typeof data !== 'object' || data === null || Array.isArray(data)) return { kind: 'unreadable', detail: 'not an object' };
        return Object.keys(data).length === 0 ? { kind: 'empty' } : { kind: 'ok', data: { ...data } };
      } catch (e) {
        conf = null;
        return { kind: 'unreadable', detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
      }
    },
    save(data) {
      open().store = data;
      ensurePrivateFile(opts.path);
    },
    quarantine(stamp) {
      conf = null;
      if (!fs.existsSync(opts.path)) return null;
      const target = `${opts.path}.corrupt-${stamp}`;
      fs.renameSync(opts.path, target);
      return target;
    },
  };
}

/** Node implementation (conf). `cwd` is the folder of the file; `configName` its name without `.json`. */
export async function createNodeSettingsStore(opts: { cwd: string; configName?: string }): Promise<SettingsStore> {
  const { default: Conf } = await import('conf');
  const configName = opts.configName ?? 'settings';
  ensurePrivateDir(opts.cwd);
  return confBackedStore({
    path: path.join(opts.cwd, `${configName}.json`),
    open: () =>
      new Conf<Record<string, unknown>>({
        cwd: opts.cwd,
        configName,
        accessPropertiesByDotNotation: false,
        clearInvalidConfig: false,
        configFileMode: 0o600,
        projectName: 'connecteur-batisimply',
      }) as unknown as ConfLike,
  });
}
