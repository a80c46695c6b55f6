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
 *  (c) 10,000 validated time slots written to SuiviMO (empty SuiviMO, empty buffer);
 *  (d) the same as (c) at zero API latency (the import's own cost).
 *
 * Per contender: wall time, CPU time of its process during the measured part (user + system), CPU per record,
 * and the bound of its wall time (its API calls × latency / requests in flight) with the ratio wall / bound.
 * `--cpu-profile DIR` writes a V8 CPU profile of each measured part (summary: test/bench/profile-summary.ts).
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
import pg from 'pg';
import type { Settings } from '../../src/shared/settings.js';
import { settingsSchema } from '../../src/shared/settings.js';
import { openBuffer } from '../../src/main/services/buffer/index.js';
import { createPgliteBackend } from '../support/tds/backend.js';
import { startTdsSimulator } from '../support/tds/server.js';
import { batisimplyUsersFor, generateBatigestCompany, loadBatigestCompany } from '../support/datasets/batigest.js';
import { startBatisimplySimulator, SIM_DEFAULT_CREDENTIALS, type BatisimplySimulator, type SimSeed } from '../support/batisimply/index.js';
import type { ChildConfig, ChildResult, Contender, ScenarioId } from './child.js';
import { bundleEntry, PROJECT_DEFAULTS, projectsFor, slotsFor } from './fixtures.js';

interface Measure extends ChildResult {
  records: number;
  latencyMs: number;
  apiCalls: number;
  tokenRequests: number;
  bsWrites: number;
  tdsRequests: number;
  /** CPU of this process (the simulators: SQL Server over PGlite, BatiSimply) during the measured part, ms. */
  simulatorsCpuMs: number;
}

// =============================================================================================== parent side

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : dflt;
}

const SIZES: Record<ScenarioId, { chantiers: number; slots: number; salaries: number }> = {
  a: { chantiers: 5000, slots: 0, salaries: 20 },
  b: { chantiers: 10_000, slots: 50_000, salaries: 60 },
  c: { chantiers: 500, slots: 10_000, salaries: 40 },
  // (d) is (c) at zero API latency: the hours import's own cost (CPU, SQL Server, buffer), nothing to wait for.
  d: { chantiers: 500, slots: 10_000, salaries: 40 },
};

/** Records a scenario works on (for the CPU per record): chantiers pushed or compared, slots imported or compared. */
function recordsOf(id: ScenarioId, nCh: number, nSlots: number): number {
  return id === 'a' ? nCh : id === 'b' ? nCh + nSlots : nSlots;
}

function runChild(childFile: string, cfg: ChildConfig, onReady: () => void): Promise<ChildResult & { simulatorsCpuMs: number }> {
  let c0: NodeJS.CpuUsage | null = null;
  let simulatorsCpuMs = 0;
  return new Promise((res, rej) => {
    const c = fork(childFile, ['--child'], { execArgv: process.env.BENCH_CHILD_NODE_OPTIONS ? process.env.BENCH_CHILD_NODE_OPTIONS.split(' ') : [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let result: ChildResult | null = null;
    c.on('message', (m: { t: string; result?: ChildResult }) => {
      if (m.t === 'hello') c.send(cfg);
      else if (m.t === 'ready') {
        onReady();
        c0 = process.cpuUsage();
        c.send('go');
      } else if (m.t === 'done' && m.result) {
        result = m.result;
        const d = process.cpuUsage(c0 ?? undefined);
        simulatorsCpuMs = (d.user + d.system) / 1000;
      }
    });
    c.on('error', rej);
    c.on('exit', (code) => (result ? res({ ...result, simulatorsCpuMs }) : rej(new Error(`child ${cfg.contender}/${cfg.scenario} exited with ${code}`))));
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
  const nCh = Math.max(10, Math.round(size.chantiers * (id === 'c' || id === 'd' ? Math.sqrt(scale) : scale)));
  const nSlots = Math.round(size.slots * scale);
  const nSal = size.salaries;
  const latency = id === 'd' ? 0 : latencyMs;
  const ids = Array.from({ length: nSal }, (_, i) => `0000${String(i).padStart(4, '0')}-bbbb-4ccc-8ddd-${String(1000 + i).padStart(12, '0')}`);
  const company = generateBatigestCompany({ seed: `bench-${id === 'd' ? 'c' : id}`, chantiers: nCh, devis: 0, salaries: nSal, suiviMo: 0, variant: 'v1', withCodebs: true, batisimplyUserIds: ids });
  const backend = await createPgliteBackend();
  const db = `bench_${id}`;
  await loadBatigestCompany(backend, db, company);
  const tds = await startTdsSimulator({ backend, host: '127.0.0.1', port: 0, logins: { bench: 'Bench#2026' }, tls: { mode: 'off' } });
  const users = batisimplyUsersFor(company).map((u) => ({ id: u.id, login: u.login, firstName: u.firstName, lastName: u.lastName, email: u.email, activated: true }));
  const seed: SimSeed = {
    users,
    projects: id === 'a' ? [] : projectsFor(company),
    timeSlots: nSlots > 0 ? slotsFor(company, nSlots, id === 'c' || id === 'd', 7) : [],
  };
  const out: Partial<Record<Contender, Measure>> = {};
  try {
    for (const contender of contenders) {
      await backend.adminExec(db, 'DELETE FROM "SuiviMO"');
      const bs: BatisimplySimulator = await startBatisimplySimulator({ seed, latencyMs: 0, tokenLifetimeSeconds: 3600, pageSizeMax: 2000 });
      const buf = await bufferSettings(bufferKind);
      try {
        const settings = settingsSchema.parse({ machineName: 'BENCH', mode: 'chantier' });
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
        const cpuProfileDir = arg('cpu-profile', '');
        const cfg: ChildConfig = { scenario: id, contender, settings, traceMemory: process.argv.includes('--trace-memory'), memoryProfile: !process.argv.includes('--no-memory-profile'), ...(cpuProfileDir ? { cpuProfileDir } : {}), phases: process.argv.includes('--phases') };
        const r = await runChild(childFile, cfg, () => {
          bs.config.latencyMs = latency;
          bs.log.clear();
          tds.stats.reset();
        });
        const entries = bs.log.entries;
        out[contender] = {
          ...r,
          records: recordsOf(id, nCh, nSlots),
          latencyMs: latency,
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

/**
 * The bound of a contender's wall time in a scenario: what its API calls cost at the simulated latency with its
 * requests in flight (the engine: `concurrency`; the baseline is sequential). For (a) that is N × latency / concurrency;
 * for (b), (c), (d) the calls are the listings (read one page after another), so their count × latency — the SQL
 * statements, on loopback, are printed beside it but not priced.
 */
function boundMs(id: ScenarioId, m: Measure, contender: Contender, concurrency: number): number {
  const inFlight = contender === 'engine' && id === 'a' ? concurrency : 1;
  return (m.apiCalls * m.latencyMs) / inFlight;
}

const mb = (v: number | null): string => (v === null ? '—' : `${Math.round(v)} Mo`);
/** Peak RSS: of the measured part, and of the whole process (its preparation included) when higher. */
const fmtPeak = (m: Measure): string => (m.measuredPeakMb === null ? mb(m.maxRssMb) : `${mb(m.measuredPeakMb)} (mesure seule ; processus entier, préparation comprise : ${mb(m.maxRssMb)})`);
const fmtCpu = (m: Measure): string => fmtMs(m.cpuUserMs + m.cpuSystemMs);
const fmtPerRecord = (m: Measure): string => `${((m.cpuUserMs + m.cpuSystemMs) / Math.max(1, m.records)).toFixed(3)} ms`;
const fmtBoundRatio = (wall: number, bound: number): string => (bound > 0 ? `${(wall / bound).toFixed(2)}×` : '—');

const fmtMs = (ms: number): string => (ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`);
const ratio = (base: number, eng: number): string => (eng === 0 ? (base === 0 ? '—' : '∞') : `${(base / eng).toFixed(1)}×`);

/** The CPU targets of issue 22, printed with the others (bound: within 1.25×; (b) ≤ 1 s wall and CPU; (d) ≤ 3 s; RSS ≤ 300 MB). */
function cpuVerdicts(id: ScenarioId, e: Measure, bound: number): string[] {
  const cpu = e.cpuUserMs + e.cpuSystemMs;
  const peak = e.measuredPeakMb ?? e.maxRssMb;
  const out = [`(${id}) pic mémoire moteur pendant la mesure ≤ 300 Mo : ${peak <= 300 ? 'OK' : 'NON'} (${Math.round(peak)} Mo)`];
  if (id === 'a') out.push(`(a) durée ≤ 1,25 × borne : ${e.wallMs <= 1.25 * bound ? 'OK' : 'NON'} (${fmtBoundRatio(e.wallMs, bound)})`);
  if (id === 'b') out.push(`(b) cycle sans changement ≤ 1 s et ≤ 1 s de CPU : ${e.wallMs <= 1000 && cpu <= 1000 ? 'OK' : 'NON'} (${fmtMs(e.wallMs)}, CPU ${fmtMs(cpu)})`);
  if (id === 'd') out.push(`(d) import de ${e.records} créneaux ≤ 3 s : ${e.wallMs <= 3000 ? 'OK' : 'NON'} (${fmtMs(e.wallMs)}, CPU ${fmtMs(cpu)})`);
  return out;
}

async function main(): Promise<void> {
  const scale = Number(arg('scale', '1'));
  const latency = Number(arg('latency', '20'));
  const only = arg('only', 'a,b,c,d').split(',') as ScenarioId[];
  const bufferKind = arg('buffer', 'embedded') === 'postgres' ? 'postgres' : 'embedded';
  /** BatiSimply requests in flight for the engine (0 = the settings' default); the baseline is sequential by design. */
  const concurrency = Number(arg('concurrency', '0'));
  /** `--engine-only`: skip the baseline (e.g. to measure the engine's memory with another buffer). */
  const contenders: Contender[] = process.argv.includes('--engine-only') ? ['engine'] : ['engine', 'baseline'];
  const TITLES: Record<ScenarioId, string> = {
    a: `(a) premier envoi de ${Math.round(SIZES.a.chantiers * scale)} chantiers`,
    b: `(b) relance sans changement : ${Math.round(SIZES.b.chantiers * scale)} chantiers, ${Math.round(SIZES.b.slots * scale)} créneaux`,
    c: `(c) ${Math.round(SIZES.c.slots * scale)} créneaux validés écrits dans SuiviMO`,
    d: `(d) import des heures : ${Math.round(SIZES.d.slots * scale)} créneaux validés écrits dans SuiviMO, latence API nulle`,
  };
  const engineConcurrency = concurrency || settingsSchema.parse({}).batisimply.concurrency;
  console.log(`Benchmark — échelle ${scale}, latence API simulée ${latency} ms, base tampon ${bufferKind === 'embedded' ? 'intégrée (PGlite sur disque)' : 'PostgreSQL 127.0.0.1:5432'}, requêtes BatiSimply simultanées du moteur ${concurrency || `${settingsSchema.parse({}).batisimply.concurrency} (réglage par défaut)`}, Node ${process.version}${process.argv.includes('--no-memory-profile') ? ', SANS le profil mémoire des processus du connecteur' : ''}\n`);
  const lines: string[] = [];
  const verdicts: string[] = [];
  const childFile = await bundleEntry('child');
  for (const id of only) {
    const r = await scenario(id, scale, latency, bufferKind, concurrency, contenders, childFile);
    const e = r.engine!;
    const eBound = boundMs(id, e, 'engine', engineConcurrency);
    verdicts.push(...cpuVerdicts(id, e, eBound));
    if (!r.baseline) {
      const line =
        `${TITLES[id]} — moteur seul : ${fmtMs(e.wallMs)} (borne ${fmtMs(eBound)}, rapport ${fmtBoundRatio(e.wallMs, eBound)}), ` +
        `CPU ${fmtCpu(e)} (${fmtPerRecord(e)} par enregistrement, ${e.records} enregistrements ; simulateurs ${fmtMs(e.simulatorsCpuMs)}), ` +
        `${e.apiCalls} appels API (${e.bsWrites} écritures), ${e.sqlRoundTrips} allers-retours SQL, ${e.suiviWrites} écritures SuiviMO, pic mémoire ${fmtPeak(e)}\n  ${e.detail}`;
      console.log(line + '\n');
      verdicts.push(`(${id}) pic mémoire moteur < 400 Mo : ${e.maxRssMb < 400 ? 'OK' : 'NON'} (${Math.round(e.maxRssMb)} Mo)`);
      continue;
    }
    const bBound = boundMs(id, r.baseline, 'baseline', engineConcurrency);
    const b = r.baseline;
    const block = [
      TITLES[id],
      `  ${'mesure'.padEnd(22)}${'moteur'.padStart(14)}${'référence'.padStart(14)}${'rapport'.padStart(10)}`,
      `  ${'durée'.padEnd(22)}${fmtMs(e.wallMs).padStart(14)}${fmtMs(b.wallMs).padStart(14)}${ratio(b.wallMs, e.wallMs).padStart(10)}`,
      `  ${'borne (API)'.padEnd(22)}${fmtMs(eBound).padStart(14)}${fmtMs(bBound).padStart(14)}${''.padStart(10)}`,
      `  ${'durée / borne'.padEnd(22)}${fmtBoundRatio(e.wallMs, eBound).padStart(14)}${fmtBoundRatio(b.wallMs, bBound).padStart(14)}${''.padStart(10)}`,
      `  ${'CPU (user+sys)'.padEnd(22)}${fmtCpu(e).padStart(14)}${fmtCpu(b).padStart(14)}${ratio(b.cpuUserMs + b.cpuSystemMs, e.cpuUserMs + e.cpuSystemMs).padStart(10)}`,
      `  ${'CPU des simulateurs'.padEnd(22)}${fmtMs(e.simulatorsCpuMs).padStart(14)}${fmtMs(b.simulatorsCpuMs).padStart(14)}${''.padStart(10)}`,
      `  ${'CPU par enregistrement'.padEnd(22)}${fmtPerRecord(e).padStart(14)}${fmtPerRecord(b).padStart(14)}${''.padStart(10)}`,
      `  ${'appels API'.padEnd(22)}${String(e.apiCalls).padStart(14)}${String(b.apiCalls).padStart(14)}${ratio(b.apiCalls, e.apiCalls).padStart(10)}`,
      `  ${'écritures API'.padEnd(22)}${String(e.bsWrites).padStart(14)}${String(b.bsWrites).padStart(14)}${ratio(b.bsWrites, e.bsWrites).padStart(10)}`,
      `  ${'allers-retours SQL'.padEnd(22)}${String(e.sqlRoundTrips).padStart(14)}${String(b.sqlRoundTrips).padStart(14)}${ratio(b.sqlRoundTrips, e.sqlRoundTrips).padStart(10)}`,
      `  ${'(vus par le serveur)'.padEnd(22)}${String(e.tdsRequests).padStart(14)}${String(b.tdsRequests).padStart(14)}${ratio(b.tdsRequests, e.tdsRequests).padStart(10)}`,
      `  ${'écritures SuiviMO'.padEnd(22)}${String(e.suiviWrites).padStart(14)}${String(b.suiviWrites).padStart(14)}${''.padStart(10)}`,
      `  ${'pic mémoire (RSS)'.padEnd(22)}${`${Math.round(e.maxRssMb)} Mo`.padStart(14)}${`${Math.round(b.maxRssMb)} Mo`.padStart(14)}${''.padStart(10)}`,
      `  ${'pic de la mesure seule'.padEnd(22)}${mb(e.measuredPeakMb).padStart(14)}${mb(b.measuredPeakMb).padStart(14)}${''.padStart(10)}`,
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

if (process.argv.includes('--rest')) await (await import('./rest.js')).runRest(arg);
else await main();
process.exit(0);
