/** Layer walls, checked on the files themselves (ESLint checks them too; see docs/architecture.md). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.(c|m)?tsx?$/.test(e.name) ? [p] : [];
  });
}
const posix = (f: string) => f.split(path.sep).join('/');
const IMPORT_ELECTRON = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](electron|electron-store|electron-updater)['"]/;

/** Every relative import of a file, resolved to a path under src/ (posix). */
function importsOf(file: string): string[] {
  const src = fs.readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) out.push(posix(path.normalize(path.join(path.dirname(file), m[1]!))));
  return out;
}

/** Files of `dir` importing anything in one of the `forbidden` rooms (paths or prefixes under src/). */
function offenders(dir: string, forbidden: string[]): string[] {
  return files(dir).flatMap((f) =>
    importsOf(f)
      .filter((i) => forbidden.some((room) => i === room || i.startsWith(room.endsWith('/') ? room : `${room}/`) || i === `${room}.js`))
      .map((i) => `${posix(f)} → ${i}`),
  );
}

const ABOVE_SERVICES = ['src/main/app', 'src/main/composition/', 'src/main/features/', 'src/main/ipc/', 'src/main/shell/', 'src/main/cli', 'src/main/web-bridge', 'src/main/bridge-main', 'src/main/demo', 'src/main/try'];

describe('layer walls', () => {
  it('no file under src/ outside src/main/shell imports electron, electron-store or electron-updater', () => {
    const bad = files('src')
      .filter((f) => !posix(f).startsWith('src/main/shell/'))
      .filter((f) => IMPORT_ELECTRON.test(fs.readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });
  it('the pattern does catch an electron import', () => {
    expect(IMPORT_ELECTRON.test("import { app } from 'electron';")).toBe(true);
    expect(IMPORT_ELECTRON.test("const Store = require('electron-store')")).toBe(true);
    expect(IMPORT_ELECTRON.test("import electronUpdater from 'electron-updater';")).toBe(true);
  });
  it('src/shared imports nothing from main, renderer or node:', () => {
    const bad = files('src/shared').filter((f) => /from\s+['"](\.\.\/main|\.\.\/renderer|node:)/.test(fs.readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });
  it('src/main/services imports neither the composition root, the features, the IPC router, the shell nor an entry point', () => {
    expect(offenders('src/main/services', ABOVE_SERVICES)).toEqual([]);
  });
  it('src/main/features never imports the composition root, the service factory, the shell or an entry point', () => {
    expect(offenders('src/main/features', ABOVE_SERVICES.filter((r) => r !== 'src/main/features/' && r !== 'src/main/ipc/'))).toEqual([]);
  });
  it('src/license-manager imports nothing of src/main nor src/renderer', () => {
    expect(offenders('src/license-manager', ['src/main/', 'src/renderer/'])).toEqual([]);
  });
  it('every feature module lives in src/main/features (nothing else defines an AppFeature)', () => {
    const defines = /:\s*AppFeature\b|\)\s*:\s*AppFeature\b|AppFeature\s*=>|=>\s*\(?ctx\b[^)]*\)?\s*:\s*AppFeatureInstance/;
    const bad = files('src')
      .filter((f) => !posix(f).startsWith('src/main/features/') && posix(f) !== 'src/main/app.ts')
      .filter((f) => defines.test(fs.readFileSync(f, 'utf8')));
    expect(bad).toEqual([]);
  });
  it('the import scan does catch a service importing a feature', () => {
    const probe = path.join('src/main/services', '__probe__.ts');
    fs.writeFileSync(probe, "import type { AppContext } from '../features/types.js';\n");
    try {
      expect(offenders('src/main/services', ABOVE_SERVICES)).toEqual([`${posix(probe)} → src/main/features/types.js`]);
    } finally {
      fs.rmSync(probe);
    }
  });
});
