/**
 * `npm run bench -- --rest [--rest-cycles 50] [--rest-chantiers 1000] [--rest-slots 5000] [--rest-window 60] [--latency 20]`:
 * the app's main process at rest (issue 22). Starts test/bench/rest-child.ts — the app built as the web bridge
 * builds it, background schedule on (every 60 s, `flows: all`), its timers sped up ×30 — against the simulators,
 * and watches it from outside through /proc/<pid>: CPU time (utime + stime) and RSS.
 *
 *  1. The first scheduled run syncs everything (projects created, slots imported).
 *  2. Then N quiet cycles (nothing changed): the RSS after each one. Leak check: the mean RSS of the last 10
 *     cycles against the mean of cycles 6–15 (the first 5 warm up: PGlite's and V8's heaps reach their size).
 *  3. Then the timers are slowed (the next run ~10 min away) and the process is left alone for a window
 *     (default 60 s): CPU per minute at rest, RSS at the end.
 */
import { execFileSync, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { settingsSchema } from '../../src/shared/settings.js';
import { createPgliteBackend } from '../support/tds/backend.js';
import { startTdsSimulator } from '../support/tds/server.js';
import { batisimplyUsersFor, generateBatigestCompany, loadBatigestCompany } from '../support/datasets/batigest.js';
import { startBatisimplySimulator, SIM_DEFAULT_CREDENTIALS } from '../support/batisimply/index.js';
import { bundleEntry, PROJECT_DEFAULTS, projectsFor, slotsFor } from './fixtures.js';
import type { RestChildConfig, RestChildMessage } from './rest-child.js';

/** Growth of the mean RSS (last 10 quiet cycles vs cycles 6–15) above which the leak check fails. */
export const LEAK_TOLERANCE_MB = 10;

const TICKS = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** CPU time (user + system, ms) and RSS (MB) of a process, read from /proc. */
function procStats(pid: number): { cpuMs: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After "pid (comm) ": state is field 3 → index 0; utime is field 14 → index 11; stime field 15 → index 12.
  const cpuMs = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { cpuMs, rssMb: m ? Number(m[1]) / 1024 : 0 };
}

interface Cycle {
  at: number;
  cpuMs: number;
  rssMb: number;
  heapUsedMb: number;
  status: string;
  message: string;
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function runRest(arg: (name: string, dflt: string) => string): Promise<void> {
  const cycles = Number(arg('rest-cycles', '50'));
  const nCh = Number(arg('rest-chantiers', '1000'));
  const nSlots = Number(arg('rest-slots', '5000'));
  const windowS = Number(arg('rest-window', '60'));
  const latency = Number(arg('latency', '20'));
  const nSal = 30;
  const ids = Array.from({ length: nSal }, (_, i) => `0000${String(i).padStart(4, '0')}-bbbb-4ccc-8ddd-${String(1000 + i).padStart(12, '0')}`);
  const company = generateBatigestCompany({ seed: 'bench-rest', chantiers: nCh, devis: 0, salaries: nSal, suiviMo: 0, variant: 'v1', withCodebs: true, batisimplyUserIds: ids });
  const backend = await createPgliteBackend();
  await loadBatigestCompany(backend, 'bench_rest', company);
  const tds = await startTdsSimulator({ backend, host: '127.0.0.1', port: 0, logins: { bench: 'Bench#2026' }, tls: { mode: 'off' } });
  const users = batisimplyUsersFor(company).map((u) => ({ id: u.id, login: u.login, firstName: u.firstName, lastName: u.lastName, email: u.email, activated: true }));
  const bs = await startBatisimplySimulator({ seed: { users, projects: projectsFor(company), timeSlots: slotsFor(company, nSlots, false, 11) }, latencyMs: latency, tokenLifetimeSeconds: 3600, pageSizeMax: 2000 });
  const dataDir = mkdtempSync(join(tmpdir(), 'cbs-bench-rest-'));
  const settings = settingsSchema.parse({ machineName: 'BENCH-REPOS', mode: 'chantier' });
  settings.sqlServer = { ...settings.sqlServer, server: `127.0.0.1,${tds.port}`, database: 'bench_rest', user: 'bench', password: 'Bench#2026', encrypt: false, trustServerCertificate: true, requestTimeoutMs: 120_000 };
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
  };
  settings.schedule = { ...settings.schedule, enabled: true, intervalSeconds: 60, flows: 'all' };
  const FAST = 2 / 60; // 60 s → 2 s between the end of a run and the next one
  const childFile = await bundleEntry('rest-child');
  const child = fork(childFile, ['--child'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const seen: Cycle[] = [];
  let pid = 0;
  let wake: (() => void) | null = null;
  child.on('message', (m: RestChildMessage) => {
    if (m.t === 'hello') child.send({ dataDir, settings, factor: FAST } satisfies RestChildConfig);
    else if (m.t === 'started') pid = m.pid;
    else if (m.t === 'cycle') {
      seen.push({ at: performance.now(), ...procStats(pid || child.pid!), heapUsedMb: m.heapUsedMb, status: m.status, message: m.message });
      wake?.();
    }
  });
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  const waitCycles = async (n: number, timeoutMs: number): Promise<void> => {
    const until = performance.now() + timeoutMs;
    while (seen.length < n) {
      if (performance.now() > until) throw new Error(`au repos : ${seen.length} cycle(s) sur ${n} en ${Math.round(timeoutMs / 1000)} s`);
      await Promise.race([new Promise<void>((r) => (wake = r)), sleep(1000)]);
    }
  };
  try {
    const t0 = performance.now();
    await waitCycles(1 + cycles, (120 + cycles * 30) * 1000);
    // Slow the timers: the run planned after the next cycle end is ~10 min away. A cycle already planned at
    // the fast speed may still come (within ~2 s): wait it out, then leave the process alone.
    child.send({ t: 'scale', factor: 10 });
    await sleep(6000);
    const before = procStats(pid);
    const nBefore = seen.length;
    await sleep(windowS * 1000);
    const after = procStats(pid);
    const runsInWindow = seen.length - nBefore;
    report({ seen, cycles, nCh, nSlots, latency, windowS, t0, before, after, runsInWindow });
    child.send({ t: 'stop' });
    await Promise.race([exited, sleep(15_000)]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
    await bs.close();
    await tds.close();
    await backend.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(r: {
  seen: Cycle[];
  cycles: number;
  nCh: number;
  nSlots: number;
  latency: number;
  windowS: number;
  t0: number;
  before: { cpuMs: number; rssMb: number };
  after: { cpuMs: number; rssMb: number };
  runsInWindow: number;
}): void {
  const { seen, cycles } = r;
  const first = seen[0]!;
  const quiet = seen.slice(1, 1 + cycles);
  const perCycleCpu = quiet.map((c, i) => c.cpuMs - (i === 0 ? first.cpuMs : quiet[i - 1]!.cpuMs));
  const perCycleWall = quiet.map((c, i) => c.at - (i === 0 ? first.at : quiet[i - 1]!.at));
  const early = quiet.slice(5, 15).map((c) => c.rssMb);
  const late = quiet.slice(-10).map((c) => c.rssMb);
  const growth = mean(late) - mean(early);
  const heapGrowth = mean(quiet.slice(-10).map((c) => c.heapUsedMb)) - mean(quiet.slice(5, 15).map((c) => c.heapUsedMb));
  const bad = seen.filter((c) => c.status !== 'success');
  const cpuPerMin = ((r.after.cpuMs - r.before.cpuMs) / r.windowS) * 60;
  const rssAt = [1, 5, 10, 20, 30, 40, 50].filter((n) => n <= quiet.length).map((n) => `${n}: ${Math.round(quiet[n - 1]!.rssMb)}`);
  const lines = [
    `(r) au repos : processus principal (pont web, planification « tout » toutes les 60 s, minuteries accélérées ×30), ${r.nCh} chantiers, ${r.nSlots} créneaux, latence API ${r.latency} ms`,
    `  premier cycle (tout envoyer, tout importer) : ${Math.round((first.at - r.t0) / 1000)} s depuis le démarrage, CPU ${Math.round(first.cpuMs)} ms (démarrage compris), RSS ${Math.round(first.rssMb)} Mo`,
    `  ${quiet.length} cycles sans changement : intervalle médian ${Math.round(median(perCycleWall))} ms (2 s d'attente comprises), CPU médian ${Math.round(median(perCycleCpu))} ms par cycle (max ${Math.round(Math.max(...perCycleCpu))} ms)`,
    `  RSS après le cycle n (Mo) : ${rssAt.join(', ')}`,
    `  fuite : RSS moyen des cycles 6–15 ${Math.round(mean(early))} Mo, des 10 derniers ${Math.round(mean(late))} Mo : ${growth >= 0 ? '+' : ''}${growth.toFixed(1)} Mo (tolérance ${LEAK_TOLERANCE_MB} Mo) ; tas V8 ${heapGrowth >= 0 ? '+' : ''}${heapGrowth.toFixed(1)} Mo`,
    `  au repos (${r.windowS} s sans exécution${r.runsInWindow ? `, ATTENTION ${r.runsInWindow} exécution(s) pendant la fenêtre` : ''}) : CPU ${Math.round(cpuPerMin)} ms par minute (${((100 * cpuPerMin) / 60_000).toFixed(2)} % d'un cœur), RSS ${Math.round(r.after.rssMb)} Mo`,
    ...(bad.length ? [`  ÉCHECS : ${bad.map((c) => `${c.status} ${c.message}`).join(' | ')}`] : []),
    'Objectifs :',
    `(r) pas de croissance sur ${quiet.length} cycles (≤ ${LEAK_TOLERANCE_MB} Mo) : ${growth <= LEAK_TOLERANCE_MB && quiet.length >= 20 ? 'OK' : 'NON'} (${growth.toFixed(1)} Mo)`,
    `(r) cycles réussis : ${bad.length === 0 ? 'OK' : 'NON'} (${seen.length - bad.length}/${seen.length})`,
  ];
  console.log(lines.join('\n'));
}
