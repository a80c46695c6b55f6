/**
 * The walls between the sync engine and its flows (SPEC §5): a flow never imports the engine, the engine imports
 * no flow (it is given the registered list), and flows do not import each other.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { describe, expect, it } from 'vitest';

const SYNC = 'src/main/services/sync';

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** The files of src/main/services/sync that `file` imports (relative imports only), as paths relative to it. */
function imports(file: string): string[] {
  const out: string[] = [];
  for (const m of readFileSync(file, 'utf8').matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
    const target = relative(SYNC, resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts')));
    if (!target.startsWith('..')) out.push(target.split('\\').join('/'));
  }
  return out;
}

describe('sync engine ↔ flows walls', () => {
  const all = files(SYNC);
  const flowFiles = all.filter((f) => relative(SYNC, f).startsWith('flows'));

  it('finds the files it checks', () => {
    expect(flowFiles.length).toBeGreaterThanOrEqual(5);
    expect(imports(join(SYNC, 'flows/index.ts'))).toContain('flows/push/index.ts');
  });

  it('no flow imports the engine or the runtime', () => {
    const offenders = flowFiles.filter((f) => imports(f).some((t) => t === 'engine.ts' || t === 'runtime.ts'));
    expect(offenders).toEqual([]);
  });

  it('the engine imports no flow; only the composition (runtime.ts) imports the registration', () => {
    expect(imports(join(SYNC, 'engine.ts')).filter((t) => t.startsWith('flows/'))).toEqual([]);
    const users = all.filter((f) => imports(f).includes('flows/index.ts')).map((f) => relative(SYNC, f));
    expect(users).toEqual(['runtime.ts']);
  });

  it('a flow folder imports no other flow folder', () => {
    const offenders = flowFiles.flatMap((f) => {
      const own = relative(SYNC, f).split('/')[1];
      return imports(f)
        .filter((t) => t.startsWith('flows/') && t !== 'flows/index.ts' && t.split('/')[1] !== own && relative(SYNC, f) !== 'flows/index.ts')
        .map((t) => `${relative(SYNC, f)} → ${t}`);
    });
    expect(offenders).toEqual([]);
  });
});
