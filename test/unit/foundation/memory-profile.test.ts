/**
 * The memory profile (src/main/memory-profile.ts) is applied by every entry point of the connector's processes,
 * and its V8 flags are known to this V8 (an unknown flag is only warned about on stderr, and would silently do
 * nothing). Its effect is measured by `npm run bench` (with and without `--no-memory-profile`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { V8_MEMORY_FLAGS } from '../../../src/main/memory-profile.js';

const root = new URL('../../../', import.meta.url);
const source = (p: string): string => readFileSync(new URL(p, root), 'utf8');

describe('memory profile', () => {
  it('is applied by the Electron shell, the CLI launcher, the web bridge and the demo', () => {
    for (const entry of ['src/main/shell/main.ts', 'src/main/bridge-main.ts', 'src/main/demo.ts']) {
      expect(source(entry), entry).toMatch(/^applyMemoryProfile\(\);$/m);
    }
    // bin/connecteur.js applies it through the CLI module before running the command.
    expect(source('bin/connecteur.js')).toMatch(/mod\.applyMemoryProfile\(\);\s*\n\s*process\.exitCode = await mod\.runCli/);
    expect(source('src/main/cli.ts')).toContain("export { applyMemoryProfile } from './memory-profile.js';");
  });

  it('uses V8 flags that this V8 knows', () => {
    expect(V8_MEMORY_FLAGS.length).toBeGreaterThan(0);
    const stderrOf = (flags: readonly string[]): string =>
      spawnSync(process.execPath, ['-e', `const v8 = require('node:v8'); for (const f of ${JSON.stringify(flags)}) v8.setFlagsFromString(f);`], { encoding: 'utf8' }).stderr;
    // The check can see an unknown flag…
    expect(stderrOf(['--no-such-flag-for-the-check'])).toMatch(/unrecognized flag/);
    // …and ours are all known.
    expect(stderrOf(V8_MEMORY_FLAGS)).toBe('');
  });
});
