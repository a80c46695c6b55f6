/** Layer walls, checked on the files themselves (ESLint checks them too). */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.(c|m)?tsx?$/.test(e.name) ? [p] : [];
  });
}
const IMPORT_ELECTRON = /(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"](electron|electron-store)['"]/;

describe('layer walls', () => {
  it('no file under src/ outside src/main/shell imports electron or electron-store', () => {
    const offenders = files('src')
      .filter((f) => !f.split(path.sep).join('/').startsWith('src/main/shell/'))
      .filter((f) => IMPORT_ELECTRON.test(fs.readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
  it('the pattern does catch an electron import', () => {
    expect(IMPORT_ELECTRON.test("import { app } from 'electron';")).toBe(true);
    expect(IMPORT_ELECTRON.test("const Store = require('electron-store')")).toBe(true);
  });
  it('src/shared imports nothing from main, renderer or node:', () => {
    const offenders = files('src/shared').filter((f) => /from\s+['"](\.\.\/main|\.\.\/renderer|node:)/.test(fs.readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });
});
