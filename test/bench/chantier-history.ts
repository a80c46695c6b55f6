/**
 * Issue 18 figures (`npx tsx test/bench/chantier-history.ts [--chantiers 3000] [--years 15] [--latency 20] [--hours devis]`):
 * a generated company with 15 years of chantiers (and three devis per chantier, linked), the first sync through the
 * engine as every entry point builds it (createServices, embedded in-memory buffer), against the TDS simulator and
 * the BatiSimply simulator with a latency per request. Prints the chantiers in scope (what the setup preview says),
 * the projects created, the first sync's wall time and API calls, then a rerun with no change. Not a test: a
 * measure, run by hand (no timed assertion anywhere).
 */
import { performance } from 'node:perf_hooks';
import { createServices, licencePolicy } from '../../src/main/composition/services.js';
import type { BatigestGateway } from '../../src/main/services/batigest/gateway.js';
import { previewChantiers } from '../../src/main/services/sync/chantier-preview.js';
import { settingsSchema } from '../../src/shared/settings.js';
import { startBatisimplySimulator, SIM_DEFAULT_CREDENTIALS } from '../support/batisimply/index.js';
import { generateBatigestCompany, loadBatigestCompany } from '../support/datasets/batigest.js';
import { createPgliteBackend } from '../support/tds/backend.js';
import { startTdsSimulator } from '../support/tds/server.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
};
const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

async function main(): Promise<void> {
  const chantiers = Number(arg('chantiers', '3000'));
  const years = Number(arg('years', '15'));
  const latencyMs = Number(arg('latency', '20'));
  const today = new Date().toISOString().slice(0, 10);
  const company = generateBatigestCompany({ seed: 'history-15', chantiers, devis: Math.min(99_999, chantiers * 3), salaries: 10, suiviMo: 0, variant: 'v1', withCodebs: true, historyYears: years, today });
  const backend = await createPgliteBackend();
  await loadBatigestCompany(backend, 'HISTO', company);
  const tds = await startTdsSimulator({ backend, host: '127.0.0.1', port: 0, logins: { bench: 'Bench#2026' }, tls: { mode: 'off' } });
  const bs = await startBatisimplySimulator({ latencyMs, tokenLifetimeSeconds: 3600, pageSizeMax: 2000 });
  const s = settingsSchema.parse({ machineName: 'BENCH', mode: 'chantier' });
  s.chantiers.hoursSource = arg('hours', 'devis') === 'devis' ? 'devis' : 'chantier';
  // --all: the whole history as the reference connector sends it (for comparison)
  if (process.argv.includes('--all')) Object.assign(s.chantiers, { scopeMonths: 600, etatRoles: { P: 'open' } });
  s.sqlServer = { ...s.sqlServer, server: `127.0.0.1,${tds.port}`, database: 'HISTO', user: 'bench', password: 'Bench#2026', encrypt: false, trustServerCertificate: true, requestTimeoutMs: 120_000 };
  Object.assign(s.batisimply, { environment: 'custom', ssoUrl: bs.ssoUrl, apiUrl: bs.apiUrl, ...SIM_DEFAULT_CREDENTIALS, timeoutMs: 60_000 });
  const clock = { now: () => new Date() };
  const services = createServices({
    settings: { get: () => s },
    logger: silent,
    clock,
    cipher: { available: true, encrypt: (p) => p, decrypt: (c) => c },
    userDataDir: ':memory:',
    appVersion: 'bench',
    licence: licencePolicy('bench', false),
    machineName: () => 'BENCH',
    overrides: { licenceGuard: { assertSyncAllowed: async () => undefined } },
  });
  try {
    const buffer = await services.buffers.get(s.buffer);
    const rt = await services.syncRuntime({ buffer });
    const preview = await previewChantiers(rt.batigest as BatigestGateway, s.chantiers, clock.now());
    bs.log.clear();
    const t0 = performance.now();
    const [first] = await rt.engine.run('push');
    const firstMs = performance.now() - t0;
    const firstCalls = bs.log.entries.filter((e) => e.route !== 'POST /token').length;
    bs.log.clear();
    const t1 = performance.now();
    const [rerun] = await rt.engine.run('push');
    const rerunMs = performance.now() - t1;
    const out = {
      chantiers: company.chantiers.length,
      years,
      devis: company.devis.length,
      latencyMs,
      hoursSource: s.chantiers.hoursSource,
      inScopePreview: preview.inScope,
      etats: preview.etats.map((e) => `${e.value}=${e.count} (${e.role})`).join(', '),
      firstSync: { status: first?.status, created: first?.counts.created, skipped: first?.counts.skipped, wallSeconds: Math.round(firstMs / 100) / 10, apiCalls: firstCalls, message: first?.message },
      rerun: { unchanged: rerun?.counts.unchanged, writes: rerun?.counts.writes, wallSeconds: Math.round(rerunMs / 100) / 10, apiCalls: bs.log.entries.filter((e) => e.route !== 'POST /token').length },
    };
    console.log(JSON.stringify(out, null, 2));
    await rt.close();
  } finally {
    await services.buffers.dispose();
    await bs.close();
    await tds.close();
    await backend.close();
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
