/**
 * Benchmark (`npm run bench -- [--scale 0.2] [--latency 20] [--only a,b,c] [--buffer embedded|postgres] [--concurrency N] [--engine-only]
 * [--trace-memory] [--no-memory-profile]`):
 * the sync engine against
 * the BASELINE (the reference connector's algorithm, test/bench/baseline.ts), both against the simulators
 * (TDS on PGlite, BatiSimply with a simulated latency per request, default 20 ms).
 *
 * Scenarios (sizes × scale):
 *  (a) first sync of 5,000 chantiers (empty buffer, empty BatiSimply);
 *  (b) rerun with no change over 10,000 chantiers and 50,000 time slots (after a first full sync);
 *  (c) 10,000 validated time slots written to SuiviMO (empty SuiviMO, empty buffer).
 *
 * The simulators run in this process; each contender runs in its own child process (test/bench/child.ts,
 * compiled with esbuild and run by plain node, as the installed app runs compiled code), so its peak RSS
 * (VmHWM of /proc/self/status, see child.ts: maxRSS of a forked child would include this process) is its own. The child prepares (e.g. the first sync of (b), with the
 * latency set to 0), says "ready", and the measured part starts when this process has reset the counters
 * and set the latency. API calls are counted by the BatiSimply simulator (token requests apart), SQL round
 * trips by the contender's driver wrapper (the engine's gateway stats; the baseline's own counter),
 * cross-checked with the TDS simulator's count of SQL batches and RPCs.
 */
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import pg from 'pg';
import type { Settings } from '../../src/shared/settings.js';
import { settingsSchema } from '../../src/shared/settings.js';
import type { ChantierSource } from '../../src/shared/domain.js';
import { openBuffer } from '../../src/main/services/buffer/index.js';
import { mapChantier } from '../../src/main/services/sync/mapping.js';
import { createPgliteBackend } from '../support/tds/backend.js';
import { startTdsSimulator } from '../support/tds/server.js';
import { batisimplyUsersFor, generateBatigestCompany, loadBatigestCompany, SeededRandom, type BatigestCompany } from '../support/datasets/batigest.js';
import { startBatisimplySimulator, SIM_DEFAULT_CREDENTIALS, type BatisimplySimulator, type SimSeed } from '../support/batisimply/index.js';
import type { ChildConfig, ChildResult, Contender, ScenarioId } from './child.js';

interface Measure extends ChildResult {
  apiCalls: number;
  tokenRequests: number;
  bsWrites: number;
  tdsRequests: number;
}

// =============================================================================================== parent side

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const SIZES = {
  a: { chantiers: 5000, slots: 0, salaries: 20 },
  b: { chantiers: 10_000, slots: 50_000, salaries: 60 },
  c: { chantiers: 500, slots: 10_000, salaries: 40 },
} as const;

const DEFAULTS = settingsSchema.parse({}).batisimply.project;
const PROJECT_DEFAULTS: Settings['batisimply']['project'] = { ...DEFAULTS, headQuarterId: '7', projectManager: 'Conducteur Travaux' };

/** BatiSimply projects with exactly the content the engine would send (so a first sync adopts them). */
function projectsFor(company: BatigestCompany): NonNullable<SimSeed['projects']> {
  return company.chantiers.map((c, i) => {
    const src: ChantierSource = { ...c, dateModif: null };
    const m = mapChantier(src, PROJECT_DEFAULTS);
    if (!m.ok) throw new Error(m.reason);
    return { id: i + 1, ...(m.input as object), projectCode: m.code, projectName: m.name } as NonNullable<SimSeed['projects']>[number];
  });
}

function slotsFor(company: BatigestCompany, n: number, allValidated: boolean, seed: number): NonNullable<SimSeed['timeSlots']> {
  const rng = new SeededRandom(seed);
  const users = batisimplyUsersFor(company);
  const day0 = Math.floor(Date.now() / 86_400_000) * 86_400_000;
  const out: NonNullable<SimSeed['timeSlots']> = [];
  for (let i = 0; i < n; i++) {
    const u = users[rng.int(0, users.length - 1)]!;
    out.push({
      startDate: new Date(day0 - rng.int(2, 170) * 86_400_000 + rng.int(6 * 60, 15 * 60) * 60_000).toISOString(),
      userId: u.id,
      projectId: rng.int(1, company.chantiers.length),
      managementStatus: allValidated || rng.chance(0.75) ? 'VALIDATED' : rng.pick(['PENDING', 'SUBMITTED', 'REJECTED']),
      totalTimeMinutes: rng.int(2, 40) * 15,
      hasPackedLunch: rng.chance(0.6),
      hasHomeToWorkJourney: rng.chance(0.5),
    });
  }
  return out;
}

/**
 * Compiles test/bench/child.ts into one ES module (npm packages stay external, resolved from node_modules as in
 * the installed app). Written under test-output/ so that those packages resolve from the project.
 */
async function bundleChild(): Promise<string> {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const outfile = join(root, 'test-output', 'bench', 'child.mjs');
  await build({
    entryPoints: [fileURLToPath(new URL('./child.ts', import.meta.url))],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    logLevel: 'error',
  });
  return outfile;
}

function runChild(childFile: string, cfg: ChildConfig, onReady: () => void): Promise<ChildResult> {
  return new Promise((res, rej) => {
    const c = fork(childFile, ['--child'], { execArgv: process.env.BENCH_CHILD_NODE_OPTIONS ? process.env.BENCH_CHILD_NODE_OPTIONS.split(' ') : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ChildResult | null = null;
    c.on('message', (m: { t: string; result?: ChildResult }) => {
      if (m.t === 'hello') c.send(cfg);
      else if (m.t === 'ready') {
        onReady();
        c.send('go');
      } else if (m.t === 'done' && m.result) result = m.result;
    });
    c.on('error', rej);
    c.on('exit', (code) => (result ? res(result) : rej(new Error(`child ${cfg.contender}/${cfg.scenario} exited with ${code}`))));
  });
}

async function bufferSettings(kind: 'embedded' | 'postgres'): Promise<{ settings: Settings['buffer']; drop(): Promise<void> }> {
  const base = settingsSchema.parse({}).buffer;
  if (kind === 'embedded') {
    // On disk, created (initdb + migrations) here beforehand: the child opens an existing buffer, as the app
    // does on every run after the first one. (Creating a PGlite database costs ~790 MB of peak RSS once;
    // opening an existing one ~290 MB.)
    const dir = mkdtempSync(join(tmpdir(), 'cbs-bench-buffer-'));
    const settings: Settings['buffer'] = { ...base, kind: 'embedded', embeddedPath: join(dir, 'buffer') };
    const b = await openBuffer(settings, ':memory:');
    await b.db.close();
    return { settings, drop: async () => rmSync(dir, { recursive: true, force: true }) };
  }
  const database = `cbs_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  return {
    settings: { ...base, kind: 'remote', remote: { host: '127.0.0.1', port: 5432, user: 'postgres', password: '', database, ssl: false } },
    drop: async () => {
      const a = new pg.Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await a.end();
    },
  };
}

async function scenario(
  id: ScenarioId,
  scale: number,
  latencyMs: number,
  bufferKind: 'embedded' | 'postgres',
  concurrency: number,
  contenders: Contender[],
  childFile: string,
): Promise<Partial<Record<Contender, Measure>>> {
  const size = SIZES[id];
  const nCh = Math.max(10, Math.round(size.chantiers * (id === 'c' ? Math.sqrt(scale) : scale)));
  const nSlots = Math.round(size.slots * scale);
  const nSal = size.salaries;
  const ids = Array.from({ length: nSal }, (_, i) => `0000${String(i).padStart(4, '0')}-bbbb-4ccc-8ddd-${String(1000 + i).padStart(12, '0')}`);
  const company = generateBatigestCompany({ seed: `bench-${id}`, chantiers: nCh, devis: 0, salaries: nSal, suiviMo: 0, variant: 'v1', withCodebs: true, batisimplyUserIds: ids });
  const backend = await createPgliteBackend();
  const db = `bench_${id}`;
  await loadBatigestCompany(backend, db, company);
  const tds = await startTdsSimulator({ backend, host: '127.0.0.1', port: 0, logins: { bench: 'Bench#2026' }, tls: { mode: 'off' } });
  const users = batisimplyUsersFor(company).map((u) => ({ id: u.id, login: u.login, firstName: u.firstName, lastName: u.lastName, email: u.email, activated: true }));
  const seed: SimSeed = {
    users,
    projects: id === 'a' ? [] : projectsFor(company),
    timeSlots: nSlots > 0 ? slotsFor(company, nSlots, id === 'c', 7) : [],
  };
  const out: Partial<Record<Contender, Measure>> = {};
  try {
    for (const contender of contenders) {
      await backend.adminExec(db, 'DELETE FROM "SuiviMO"');
      const bs: BatisimplySimulator = await startBatisimplySimulator({ seed, latencyMs: 0, tokenLifetimeSeconds: 3600, pageSizeMax: 2000 });
      const buf = await bufferSettings(bufferKind);
      try {
        const settings = settingsSchema.parse({ machineName: 'BENCH', mode: 'chantier' });
        // Same work as the baseline (which sends every chantier): the whole company in scope (issue 18's scope
        // is measured by test/bench/chantier-history.ts).
        settings.chantiers.scopeMonths = 600;
        settings.chantiers.etatRoles = { P: 'open' };
        settings.buffer = buf.settings;
        settings.sqlServer = { ...settings.sqlServer, server: `127.0.0.1,${tds.port}`, database: db, user: 'bench', password: 'Bench#2026', encrypt: false, trustServerCertificate: true, requestTimeoutMs: 120_000 };
        settings.batisimply = {
          ...settings.batisimply,
          environment: 'custom',
          ssoUrl: bs.ssoUrl,
          apiUrl: bs.apiUrl,
          clientId: SIM_DEFAULT_CREDENTIALS.clientId,
          clientSecret: SIM_DEFAULT_CREDENTIALS.clientSecret,
          username: SIM_DEFAULT_CREDENTIALS.username,
          password: SIM_DEFAULT_CREDENTIALS.password,
          timeoutMs: 60_000,
          project: PROJECT_DEFAULTS,
          ...(concurrency ? { concurrency } : {}),
        };
        const r = await runChild(childFile, { scenario: id, contender, settings, traceMemory: process.argv.includes('--trace-memory'), memoryProfile: !process.argv.includes('--no-memory-profile') }, () => {
          bs.config.latencyMs = latencyMs;
          bs.log.clear();
          tds.stats.reset();
        });
        const entries = bs.log.entries;
        out[contender] = {
          ...r,
          apiCalls: entries.filter((e) => e.route !== 'POST /token').length,
          tokenRequests: entries.filter((e) => e.route === 'POST /token').length,
          bsWrites: entries.filter((e) => e.method === 'POST' || e.method === 'PUT').filter((e) => e.route !== 'POST /token').length,
          tdsRequests: tds.stats.batches + tds.stats.rpcs,
        };
      } finally {
        await bs.close();
        await buf.drop();
      }
    }
  } finally {
    await tds.close();
    await backend.close();
  }
  return out;
}

const fmtMs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const ratio = (base: number, eng: number): string => (eng === 0 ? (base === 0 ? '—' : '∞') : `${(base / eng).toFixed(1)}×`);

async function main(): Promise<void> {
  const scale = Number(arg('scale', '1'));
  const latency = Number(arg('latency', '20'));
  const only = arg('only', 'a,b,c').split(',') as ScenarioId[];
  const bufferKind = arg('buffer', 'embedded') === 'postgres' ? 'postgres' : 'embedded';
  /** BatiSimply requests in flight for the engine (0 = the settings' default); the baseline is sequential by design. */
  const concurrency = Number(arg('concurrency', '0'));
  /** `--engine-only`: skip the baseline (e.g. to measure the engine's memory with another buffer). */
  const contenders: Contender[] = process.argv.includes('--engine-only') ? ['engine'] : ['engine', 'baseline'];
  const TITLES: Record<ScenarioId, string> = {
    a: `(a) premier envoi de ${Math.round(SIZES.a.chantiers * scale)} chantiers`,
    b: `(b) relance sans changement : ${Math.round(SIZES.b.chantiers * scale)} chantiers, ${Math.round(SIZES.b.slots * scale)} créneaux`,
    c: `(c) ${Math.round(SIZES.c.slots * scale)} créneaux validés écrits dans SuiviMO`,
  };
  console.log(`Benchmark — échelle ${scale}, latence API simulée ${latency} ms, base tampon ${bufferKind === 'embedded' ? 'intégrée (PGlite sur disque)' : 'PostgreSQL 127.0.0.1:5432'}, requêtes BatiSimply simultanées du moteur ${concurrency || `${settingsSchema.parse({}).batisimply.concurrency} (réglage par défaut)`}, Node ${process.version}${process.argv.includes('--no-memory-profile') ? ', SANS le profil mémoire des processus du connecteur' : ''}\n`);
  const lines: string[] = [];
  const verdicts: string[] = [];
  const childFile = await bundleChild();
  for (const id of only) {
    const r = await scenario(id, scale, latency, bufferKind, concurrency, contenders, childFile);
    const e = r.engine!;
    if (!r.baseline) {
      const line = `${TITLES[id]} — moteur seul : ${fmtMs(e.wallMs)}, ${e.apiCalls} appels API (${e.bsWrites} écritures), ${e.sqlRoundTrips} allers-retours SQL, ${e.suiviWrites} écritures SuiviMO, pic mémoire ${Math.round(e.maxRssMb)} Mo\n  ${e.detail}`;
      console.log(line + '\n');
      verdicts.push(`(${id}) pic mémoire moteur < 400 Mo : ${e.maxRssMb < 400 ? 'OK' : 'NON'} (${Math.round(e.maxRssMb)} Mo)`);
      continue;
    }
    const b = r.baseline;
    const block = [
      TITLES[id],
      `  ${'mesure'.padEnd(22)}${'moteur'.padStart(14)}${'référence'.padStart(14)}${'rapport'.padStart(10)}`,
      `  ${'durée'.padEnd(22)}${fmtMs(e.wallMs).padStart(14)}${fmtMs(b.wallMs).padStart(14)}${ratio(b.wallMs, e.wallMs).padStart(10)}`,
      `  ${'appels API'.padEnd(22)}${String(e.apiCalls).padStart(14)}${String(b.apiCalls).padStart(14)}${ratio(b.apiCalls, e.apiCalls).padStart(10)}`,
      `  ${'écritures API'.padEnd(22)}${String(e.bsWrites).padStart(14)}${String(b.bsWrites).padStart(14)}${ratio(b.bsWrites, e.bsWrites).padStart(10)}`,
      `  ${'allers-retours SQL'.padEnd(22)}${String(e.sqlRoundTrips).padStart(14)}${String(b.sqlRoundTrips).padStart(14)}${ratio(b.sqlRoundTrips, e.sqlRoundTrips).padStart(10)}`,
      `  ${'(vus par le serveur)'.padEnd(22)}${String(e.tdsRequests).padStart(14)}${String(b.tdsRequests).padStart(14)}${ratio(b.tdsRequests, e.tdsRequests).padStart(10)}`,
      `  ${'écritures SuiviMO'.padEnd(22)}${String(e.suiviWrites).padStart(14)}${String(b.suiviWrites).padStart(14)}${''.padStart(10)}`,
      `  ${'pic mémoire (RSS)'.padEnd(22)}${`${Math.round(e.maxRssMb)} Mo`.padStart(14)}${`${Math.round(b.maxRssMb)} Mo`.padStart(14)}${''.padStart(10)}`,
      `  moteur : ${e.detail}`,
      `  référence : ${b.detail}`,
    ];
    console.log(block.join('\n') + '\n');
    lines.push(...block, '');
    const rss = Math.max(e.maxRssMb, b.maxRssMb) < 400 && e.maxRssMb < 400;
    if (id === 'a') verdicts.push(`(a) ≥ 5× plus rapide : ${b.wallMs / e.wallMs >= 5 ? 'OK' : 'NON'} (${ratio(b.wallMs, e.wallMs)})`);
    if (id === 'b')
      verdicts.push(
        `(b) zéro écriture : ${e.bsWrites + e.suiviWrites === 0 ? 'OK' : 'NON'} (${e.bsWrites + e.suiviWrites}) ; ≥ 50× moins d'appels API : ${b.apiCalls / Math.max(1, e.apiCalls) >= 50 ? 'OK' : 'NON'} (${ratio(b.apiCalls, e.apiCalls)})`,
      );
    if (id === 'c') verdicts.push(`(c) ≥ 20× moins d'allers-retours SQL : ${b.sqlRoundTrips / Math.max(1, e.sqlRoundTrips) >= 20 ? 'OK' : 'NON'} (${ratio(b.sqlRoundTrips, e.sqlRoundTrips)})`);
    verdicts.push(`(${id}) pic mémoire moteur < 400 Mo : ${rss ? 'OK' : 'NON'} (${Math.round(e.maxRssMb)} Mo)`);
  }
  console.log(['Objectifs :', ...verdicts].join('\n'));
}

await main();
process.exit(0);
