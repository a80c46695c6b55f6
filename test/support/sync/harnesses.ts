/**
 * The harness backends the sync tests run on: the simulators with the embedded (PGlite) buffer and with a
 * PostgreSQL buffer (the proof), and in-memory ports. SYNC_HARNESS=<name> runs one of them only.
 */
import { memoryHarness, simHarness, type Harness } from './harness.js';

const only = process.env.SYNC_HARNESS;
export const HARNESSES: [string, () => Promise<Harness>][] = (
  [
    ['simulators', () => simHarness()],
    ['simulators, PostgreSQL buffer', () => simHarness(undefined, undefined, 'postgres')],
    ['memory', () => memoryHarness()],
  ] as [string, () => Promise<Harness>][]
).filter(([n]) => !only || n === only);
