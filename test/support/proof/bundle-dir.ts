/**
 * Where the proof tests write their esbuild bundle of the CLI child. Under node_modules (the bundle's packages are
 * external: they must resolve from there), in a folder of THIS checkout: several worktrees may share one
 * node_modules (a symlink), and a bundle built by one must never be run by another's test.
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROOF_ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const PROOF_BUNDLE_DIR = join(PROOF_ROOT, 'node_modules', '.cache', `cbs-proof-${createHash('sha256').update(PROOF_ROOT).digest('hex').slice(0, 10)}`);
