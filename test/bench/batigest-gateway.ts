/**
 * Benchmark of the Batigest gateway against the TDS simulator (PGlite), bounded, stops by itself:
 *   npx tsx test/bench/batigest-gateway.ts [--chantiers 20000] [--suivi 10000] [--page 500]
 * Prints one JSON line per scenario: rows, wall time, SQL round trips (gateway counter) and the simulator's
 * count of batches + RPCs and statements. Also exported: runBatigestGatewayBench(options).
 */
import { pathToFileURL } from 'node:url';
import { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { sqlServerSettingsSchema } from '../../src/shared/settings.js';
import type { Logger } from '../../src/main/services/ports.js';
import type { SuiviMoOp } from '../../src/shared/domain.js';
import { createPgliteBackend, startTdsSimulator } from '../support/tds/index.js';
import { generateBatigestCompany, loadBatigestCompany } from '../support/datasets/batigest.js';

export interface BatigestGatewayBenchOptions {
  chantiers?: number;
  suivi?: number;
  page?: number;
}

export interface BatigestBenchLine {
  scenario: string;
  rows: number;
  ms: number;
  sqlRoundTrips: number;
  simRequests: number;
  simStatements: number;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

export async function runBatigestGatewayBench(o: BatigestGatewayBenchOptions = {}): Promise<BatigestBenchLine[]> {
  const chantiers = o.chantiers ?? 20_000;
  const suivi = o.suivi ?? 10_000;
  const lines: BatigestBenchLine[] = [];
  const backend = await createPgliteBackend();
  const data = generateBatigestCompany({ seed: 'bench', chantiers, devis: 1000, salaries: 60, suiviMo: suivi, variant: 'v1', withCodebs: true });
  const t = Date.now();
  await loadBatigestCompany(backend, 'bench', data);
  lines.push({ scenario: 'load (generator → PGlite)', rows: chantiers + 1000 + 60 + suivi, ms: Date.now() - t, sqlRoundTrips: 0, simRequests: 0, simStatements: 0 });
  const sim = await startTdsSimulator({ backend, host: '127.0.0.1', port: 0, logins: { bench: 'Bench#1' } });
  const g = new BatigestGateway({
    settings: sqlServerSettingsSchema.parse({ server: `127.0.0.1,${sim.port}`, database: 'bench', user: 'bench', password: 'Bench#1', requestTimeoutMs: 600_000 }),
    logger: silent,
  });
  const measure = async (scenario: string, fn: () => Promise<number>) => {
    g.resetStats();
    sim.stats.reset();
    const start = Date.now();
    const rows = await fn();
    lines.push({ scenario, rows, ms: Date.now() - start, sqlRoundTrips: g.stats.roundTrips, simRequests: sim.stats.batches + sim.stats.rpcs, simStatements: sim.stats.statements });
  };
  try {
    await g.detectColumns();
    await measure(`read chantiers (page ${o.page ?? 500})`, async () => {
      let n = 0;
      for await (const p of g.readChantiers({ pageSize: o.page ?? 500 })) n += p.length;
      return n;
    });
    const ops: SuiviMoOp[] = data.suiviMo.map((r, i) =>
      i % 10 === 0
        ? { kind: 'delete', key: { codeChantier: r.codeChantier, codeSalarie: r.codeSalarie, date: r.date } }
        : { kind: 'upsert', row: { ...r, nbH0: r.nbH0 + 0.25 } },
    );
    await measure('SuiviMO batch (90% updates, 10% deletes)', async () => {
      const res = await g.applySuiviMo(ops);
      return res.updated + res.deleted + res.inserted;
    });
    const fresh: SuiviMoOp[] = data.suiviMo.map((r) => ({ kind: 'upsert', row: { ...r, date: r.date.replace(/^202/, '203') } }));
    await measure('SuiviMO batch (inserts)', async () => (await g.applySuiviMo(fresh)).inserted);
  } finally {
    await g.close();
    await sim.close();
    await backend.close();
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const lines = await runBatigestGatewayBench({ chantiers: arg('chantiers'), suivi: arg('suivi'), page: arg('page') });
  for (const l of lines) console.log(JSON.stringify(l));
}
