/**
 * What ships: `dependencies` are exactly the packages the app's own code imports (src/main, src/shared,
 * src/renderer); a package only the simulators, tests or tools use is a devDependency, so the installer
 * does not carry it (electron-builder packs `dependencies`).
 */
import fs from 'node:fs';
import { builtinModules } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? files(p) : /\.(c|m)?tsx?$/.test(e.name) ? [p] : [];
  });
}

/** The development entry points electron-builder leaves out of the package (`!dist/main/<name>.*`). */
function excludedFromPackage(): string[] {
  const cfg = YAML.parse(fs.readFileSync('electron-builder.yml', 'utf8')) as { files: string[] };
  return cfg.files.flatMap((f) => /^!dist\/main\/([\w-]+)\.\*$/.exec(f)?.[1] ?? []).map((n) => path.join('src', 'main', `${n}.ts`));
}

/** Bare package names imported by the files of `dirs` (type-only imports included: harmless). */
function packagesImported(dirs: string[]): Set<string> {
  const out = new Set<string>();
  const builtins = new Set(builtinModules);
  const excluded = new Set(excludedFromPackage());
  for (const f of dirs.flatMap(files).filter((f) => !excluded.has(f))) {
    for (const m of fs.readFileSync(f, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'".][^'"]*)['"]/g)) {
      const spec = m[1]!;
      if (spec.startsWith('node:') || builtins.has(spec.split('/')[0]!)) continue;
      out.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  return out;
}

const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
/** Electron is provided by electron-builder to the packaged app; electron-store is the shell's store. */
const PROVIDED_BY_THE_BUILD = new Set(['electron']);

describe('shipped dependencies', () => {
  const used = packagesImported(['src/main', 'src/shared', 'src/renderer']);

  it('the development entry points are left out of the package (and out of this scan)', () => {
    expect(excludedFromPackage()).toEqual(expect.arrayContaining([path.join('src', 'main', 'bridge-main.ts'), path.join('src', 'main', 'demo.ts')]));
  });

  it('every package the app imports is a dependency (or provided by the build)', () => {
    const missing = [...used].filter((p) => !(p in pkg.dependencies) && !PROVIDED_BY_THE_BUILD.has(p));
    expect(missing).toEqual([]);
  });

  it('every dependency is imported by the app itself: simulator- and test-only packages are devDependencies', () => {
    const unused = Object.keys(pkg.dependencies).filter((p) => !used.has(p));
    expect(unused).toEqual([]);
    expect(pkg.devDependencies['node-sql-parser']).toBeDefined();
  });
});
