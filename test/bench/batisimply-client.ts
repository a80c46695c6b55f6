/**
 * Benchmark of the BatiSimply client against the simulator (loopback, bounded, stops by itself):
 *   npx tsx test/bench/batisimply-client.ts [--projects 5000] [--users 40] [--days 180] [--latency 10]
 * Prints one JSON line per scenario: wall time, API calls, token requests, retries.
 * Also exported for a benchmark runner: runBatisimplyBench(options).
 */
import { pathToFileURL } from 'node:url';
import { generateBatisimplySeed, startBatisimplySimulator } from '../support/batisimply/index.js';
import { makeClient } from '../support/batisimply/harness.js';

export interface BatisimplyBenchOptions {
  projects?: number;
  users?: number;
  days?: number;
  latencyMs?: number;
  creates?: number;
  concurrency?: number;
}

export interface BenchLine {
  scenario: string;
  items: number;
  ms: number;
  apiCalls: number;
  tokenRequests: number;
  retries: number;
}

export async function runBatisimplyBench(o: BatisimplyBenchOptions = {}): Promise<BenchLine[]> {
  const until = new Date(Date.UTC(2026, 0, 31));
  const days = o.days ?? 180;
  const sim = await startBatisimplySimulator({
    latencyMs: o.latencyMs ?? 10,
    seed: generateBatisimplySeed({ seed: 42, projects: o.projects ?? 5000, userCount: o.users ?? 40, days, until }),
  });
  const lines: BenchLine[] = [];
  const { client } = makeClient(sim, { concurrency: o.concurrency ?? 4, timeoutMs: 30_000 }, { sleep: (ms) => new Promise((r) => setTimeout(r, ms)) });
  const measure = async (scenario: string, fn: () => Promise<number>) => {
    const before = client.apiStats();
    const t0 = performance.now();
    const items = await fn();
    const ms = Math.round(performance.now() - t0);
    const after = client.apiStats();
    lines.push({
      scenario,
      items,
      ms,
      apiCalls: after.apiCalls - before.apiCalls,
      tokenRequests: after.tokenRequests - before.tokenRequests,
      retries: after.retries - before.retries,
    });
  };
  try {
    await measure('listProjects', async () => (await client.listProjects()).length);
    await measure(`listTimeSlots ${days} days`, async () =>
      (await client.listTimeSlots({ start: new Date(until.getTime() - days * 86_400_000), end: new Date(until.getTime() + 86_400_000) })).length,
    );
    await measure('listUsers', async () => (await client.listUsers()).length);
    const n = o.creates ?? 300;
    await measure(`createProject x${n} (concurrent)`, async () => {
      const rs = await Promise.all(
        Array.from({ length: n }, (_, i) => client.createProject({ projectCode: `B${String(i).padStart(7, '0')}`, projectName: `Bench ${i}`, hoursSold: i })),
      );
      return rs.length;
    });
    await measure('findProjectByCode x300 after listProjects (cached index)', async () => {
      await client.listProjects();
      let found = 0;
      for (let i = 0; i < 300; i++) if (await client.findProjectByCode(`B${String(i).padStart(7, '0')}`)) found++;
      return found;
    });
    sim.faults.add({ route: 'GET /api/project', status: 503, times: 3, retryAfterSeconds: 0 });
    await measure('listProjects with 3 injected 503', async () => (await client.listProjects()).length);
  } finally {
    await client.close();
    await sim.close();
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const num = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const lines = await runBatisimplyBench({ projects: num('projects'), users: num('users'), days: num('days'), latencyMs: num('latency'), creates: num('creates') });
  for (const l of lines) process.stdout.write(`${JSON.stringify(l)}\n`);
}
