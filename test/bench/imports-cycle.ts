/**
 * `npx tsx test/bench/imports-cycle.ts [--exports 50] [--buffer pglite|postgres] [--importer-delay-ms 0] [--runs 3]`:
 * the time of one import agent cycle of N exports against the simulators (exports API on loopback, a Batigest importer
 * taking each file as soon as it sees it, polling every 10 ms; the agent looks at the import folder every 20 ms), the
 * real engine, exports client and file operations. Each run starts from an empty buffer and a fresh queue; the first
 * run is a warm-up and is reported separately.
 */
import { importsHarness } from '../support/exports/harness.js';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

const N = Number(arg('exports', '50'));
const RUNS = Number(arg('runs', '3'));
const buffer = arg('buffer', 'pglite') as 'pglite' | 'postgres';
const delayMs = Number(arg('importer-delay-ms', '0'));

const times: number[] = [];
for (let i = 0; i <= RUNS; i++) {
  const h = await importsHarness({ buffer, delayMs, timeoutSeconds: 600 });
  try {
    h.sim.seed(N);
    const t0 = performance.now();
    const run = await h.run();
    const ms = performance.now() - t0;
    if (run.counts.created !== N || h.importer.doubles().length) throw new Error(`cycle incomplete: ${run.message}`);
    const requests = h.sim.log.length;
    console.log(`${i === 0 ? 'warm-up' : `run ${i}`}: ${N} exports in ${ms.toFixed(0)} ms (${(ms / N).toFixed(1)} ms/export, ${requests} API requests, buffer ${buffer}, importer delay ${delayMs} ms)`);
    if (i > 0) times.push(ms);
  } finally {
    await h.close();
  }
}
times.sort((a, b) => a - b);
console.log(`median of ${times.length}: ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms for ${N} exports`);
