/**
 * The proof tests' child process: the CLI bundled once by esbuild (packages external, so they resolve from
 * node_modules) and run as a real process that a test may kill, freeze or watch.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { PROOF_BUNDLE_DIR, PROOF_ROOT } from './bundle-dir.js';

/** Bundles test/support/proof/cli-child.ts as `<name>.mjs` in this checkout's proof folder; returns its path. */
export async function buildCliChild(name: string): Promise<string> {
  mkdirSync(PROOF_BUNDLE_DIR, { recursive: true });
  const outfile = join(PROOF_BUNDLE_DIR, `${name}.mjs`);
  await build({
    entryPoints: [join(PROOF_ROOT, 'test', 'support', 'proof', 'cli-child.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    outfile,
    logLevel: 'silent',
  });
  return outfile;
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

/** Runs the bundle to its end (or its death); `watch` may act on the live process and returns its own cleanup. */
export function runCliChild(bundle: string, args: string[], env: Record<string, string>, watch?: (child: ChildProcess) => () => void): Promise<ChildResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [bundle, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const stop = watch?.(child);
    child.on('error', rej);
    child.on('close', (code, signal) => {
      stop?.();
      res({ code, signal, out, err });
    });
  });
}
