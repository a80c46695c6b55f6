/**
 * Memory profile of the connector's processes (Electron main, CLI, web bridge, demo).
 *
 * The connector runs in the background on office PCs next to Batigest: a small footprint matters more than
 * peak JavaScript speed (its runs are bound by the network and the databases). `--optimize-for-size` makes
 * V8 collect garbage before growing its heap: measured with `npm run bench`, a first import of 50,000 time
 * slots peaks at ~320 MB instead of ~530 MB; CPU-bound work (comparing 50,000 unchanged slots) takes ~1.5×
 * longer, network- and database-bound work about the same (docs/benchmark.md).
 *
 * V8 reads these flags when it decides to grow the heap, so setting them at start-up, before the sync
 * allocates anything large, is enough (no command-line switch to pass to Electron or node).
 */
import { setFlagsFromString } from 'node:v8';

export const V8_MEMORY_FLAGS: readonly string[] = ['--optimize-for-size'];

/** Call once, first thing, in each entry point. */
export function applyMemoryProfile(): void {
  for (const flag of V8_MEMORY_FLAGS) setFlagsFromString(flag);
}
