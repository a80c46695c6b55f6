/** The harness backends the sync tests run on: the simulators (the proof) and in-memory ports. */
import { memoryHarness, simHarness, type Harness } from './harness.js';

const only = process.env.SYNC_HARNESS;
export const HARNESSES: [string, () => Promise<Harness>][] = (
  [
    ['simulators', () => simHarness()],
    ['memory', () => memoryHarness()],
  ] as [string, () => Promise<Harness>][]
).filter(([n]) => !only || n === only);
