/** The harness backends the sync tests run on. */
import { memoryHarness, type Harness } from './harness.js';

export const HARNESSES: [string, () => Promise<Harness>][] = [['memory', () => memoryHarness()]];
