/**
 * One contender of the benchmark (`test/bench/run.ts`), run in its own process so that its peak RSS is its own.
 *
 * run.ts bundles this file with esbuild (npm packages left external) and starts it with plain `node`: the
 * measured process runs compiled JavaScript and loads only what the contender loads (the engine and its
 * services, or the baseline), as the installed app does — not the simulators, the dataset generator or the
 * TypeScript loader, which live in the parent.
 *
 * Protocol (IPC): the child says `{ t: 'hello' }`, the parent answers with the ChildConfig; the child prepares (e.g. the first full sync of scenario (b)), sends `{ t: 'ready' }`, waits
 * for any message, runs the measured part and sends `{ t: 'done', result }`.
 */
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import type { Settings } from '../../src/shared/settings.js';
import type { Logger } from '../../src/main/services/ports.js';
import type { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { BatisimplyClient } from '../../src/main/services/batisimply/index.js';
import { openBuffer } from '../../src/main/services/buffer/index.js';
import { createServices, licencePolicy } from '../../src/main/composition/services.js';
import { applyMemoryProfile } from '../../src/main/memory-profile.js';
import { ReferenceConnector } from './baseline.js';

export type ScenarioId = 'a' | 'b' | 'c' | 'd';
export type Contender = 'engine' | 'baseline';

export interface ChildConfig {
  scenario: ScenarioId;
  contender: Contender;
  settings: Settings;
  traceMemory?: boolean;
  /** false (`--no-memory-profile`): run without the processes' memory profile, to see what it brings. */
  memoryProfile?: boolean;
  /** `--cpu-profile DIR`: a V8 CPU profile of the measured part only, written to DIR/<scenario>-<contender>.cpuprofile. */
  cpuProfileDir?: string;
  /** `--phases`: print, at each change of progress phase of the measured run, the wall and CPU time since its start. */
  phases?: boolean;
}

export interface ChildResult {
  wallMs: number;
  /** CPU time (user + system, all threads) of this process during the measured part, ms. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** Peak RSS of the measured part alone (VmHWM reset at its start through /proc/self/clear_refs), MB; null where that is not possible. */
  measuredPeakMb: number | null;
  maxRssMb: number;
  sqlRoundTrips: number;
  suiviWrites: number;
  detail: string;
}

/**
 * Peak resident memory of THIS process, in MB. On Linux, `process.resourceUsage().maxRSS` of a forked child
 * starts at the parent's RSS at the time of the fork (the kernel carries the high-water mark of the copied
 * address space across exec), so it would report the parent's simulators; `VmHWM` in /proc/self/status is
 * the high-water mark of the process's own address space. Elsewhere (Windows: peak working set of the process)
 * `maxRSS` is right.
 */
export function peakRssMb(): number {
  try {
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    /* not Linux */
  }
  return process.resourceUsage().maxRSS / 1024;
}

/**
 * The measured part, timed: wall time, CPU time of this process (process.cpuUsage: user + system of all its
 * threads, i.e. JavaScript, PGlite's WASM, libuv's pool and the GC), optionally under the V8 CPU profiler
 * (started and stopped around the measured part only, not the preparation).
 */
async function measured<T>(cfg: ChildConfig, fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuUserMs: number; cpuSystemMs: number; measuredPeakMb: number | null }> {
  // "5" resets the process's peak RSS (VmHWM) to its current RSS (Linux ≥ 4.0): the peak read after fn is its own.
  let reset = false;
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    reset = true;
  } catch {
    /* not Linux, or not allowed */
  }
  let session: Session | null = null;
  if (cfg.cpuProfileDir) {
    session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
  }
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (session && cfg.cpuProfileDir) {
    const { profile } = await session.post('Profiler.stop');
    mkdirSync(cfg.cpuProfileDir, { recursive: true });
    writeFileSync(join(cfg.cpuProfileDir, `${cfg.scenario}-${cfg.contender}.cpuprofile`), JSON.stringify(profile));
    session.disconnect();
  }
  return { value, wallMs, cpuUserMs: c.user / 1000, cpuSystemMs: c.system / 1000, measuredPeakMb: reset ? peakRssMb() : null };
}

/** `--phases`: a line on stderr per change of (flow, phase, label) of the run's progress, with wall and CPU since the first one. */
function phaseTimeline(enabled: boolean): (ev: { flow: string; phase: string; label: string }) => void {
  let last = '';
  let t0 = 0;
  let c0: NodeJS.CpuUsage | null = null;
  return (ev) => {
    if (!enabled) return;
    const key = `${ev.flow} ${ev.phase} ${ev.label}`;
    if (key === last) return;
    last = key;
    if (!c0) {
      t0 = performance.now();
      c0 = process.cpuUsage();
    }
    const c = process.cpuUsage(c0);
    process.stderr.write(`  [phase] ${String(Math.round(performance.now() - t0)).padStart(6)} ms, CPU ${String(Math.round((c.user + c.system) / 1000)).padStart(6)} ms  ${key}\n`);
  };
}

/** `BENCH_TIME_BUFFER=1`: each call of the buffer store's methods timed on stderr (wall and CPU), to find a phase's cost. */
function timeMethods(target: Record<string, unknown>, label: string): void {
  const proto = Object.getPrototypeOf(target) as Record<string, unknown>;
  for (const name of Object.getOwnPropertyNames(proto)) {
    const fn = proto[name];
    if (name === 'constructor' || typeof fn !== 'function') continue;
    target[name] = async (...args: unknown[]) => {
      const t0 = performance.now();
      const c0 = process.cpuUsage();
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>).apply(target, args);
      } finally {
        const c = process.cpuUsage(c0);
        const ms = performance.now() - t0;
        if (ms > 20) process.stderr.write(`  [${label}] ${name} ${Math.round(ms)} ms, CPU ${Math.round((c.user + c.system) / 1000)} ms\n`);
      }
    };
  }
}

const silent: Logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined, child: () => silent };

/**
 * `--trace-memory`: the child samples its memory every 100 ms and prints, per step, the sample with the highest
 * RSS and what it was made of (V8 heap, external = WASM memory and buffers), to see where a peak comes from.
 */
function memoryTracer(enabled: boolean): { step(name: string): void; stop(): void } {
  const mb = (n: number): number => Math.round(n / 1_048_576);
  let name = 'démarrage';
  let peak: NodeJS.MemoryUsage | null = null;
  const sample = (): void => {
    const m = process.memoryUsage();
    if (!peak || m.rss > peak.rss) peak = m;
  };
  const flush = (): void => {
    if (!enabled) return;
    sample();
    const p = peak!;
    process.stderr.write(`  [mémoire] ${name.padEnd(24)} pic RSS ${mb(p.rss)} Mo (tas V8 ${mb(p.heapUsed)} Mo, externe ${mb(p.external)} Mo dont ArrayBuffer ${mb(p.arrayBuffers)} Mo) ; pic RSS du processus jusqu'ici ${Math.round(peakRssMb())} Mo\n`);
    peak = null;
  };
  const timer = enabled ? setInterval(sample, 100) : null;
  timer?.unref();
  return {
    step(next: string) {
      flush();
      name = next;
    },
    stop() {
      flush();
      if (timer) clearInterval(timer);
    },
  };
}

async function child(cfg: ChildConfig): Promise<void> {
  const s = cfg.settings;
  const trace = memoryTracer(cfg.traceMemory === true);
  const clock = { now: () => new Date() };
  const send = (m: unknown): void => void process.send?.(m);
  const waitGo = (): Promise<void> => new Promise((res) => process.once('message', () => res()));
  let result: ChildResult;
  /** The process's peak RSS before the measured part (its preparation included): kept, since the reset forgets it. */
  let preparedPeakMb: number;
  if (cfg.contender === 'engine') {
    trace.step('ouverture du tampon');
    // The engine as every entry point builds it: the service factory, on an in-memory embedded buffer.
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
    const buffer = await services.buffers.get(s.buffer);
    if (process.env.BENCH_TIME_BUFFER) timeMethods(buffer as unknown as Record<string, unknown>, 'tampon');
    const rt = await services.syncRuntime({ buffer });
    const engine = rt.engine;
    const gateway = rt.batigest as BatigestGateway;
    trace.step('préparation');
    if (cfg.scenario === 'b') await engine.run('all');
    send({ t: 'ready' });
    await waitGo();
    trace.step('mesure');
    gateway.resetStats();
    preparedPeakMb = peakRssMb();
    const flow = cfg.scenario === 'a' ? 'push' : cfg.scenario === 'b' ? 'all' : 'hours';
    const phases = phaseTimeline(cfg.phases === true);
    const m = await measured(cfg, () => engine.run(flow, { onProgress: phases }));
    phases({ flow: '', phase: 'fin', label: '' });
    const runs = m.value;
    trace.stop();
    const failed = runs.filter((r) => r.status !== 'succeeded');
    result = {
      wallMs: m.wallMs,
      cpuUserMs: m.cpuUserMs,
      cpuSystemMs: m.cpuSystemMs,
      maxRssMb: Math.max(preparedPeakMb, peakRssMb()),
      measuredPeakMb: m.measuredPeakMb,
      sqlRoundTrips: gateway.stats.roundTrips,
      suiviWrites: runs.filter((r) => r.flow === 'hours').reduce((n, r) => n + r.counts.writes, 0),
      detail: runs.map((r) => r.message).join(' ') + (failed.length ? ` ÉCHEC: ${failed.map((r) => r.errorCode).join(',')}` : ''),
    };
    await rt.close();
    await services.buffers.dispose();
  } else {
    trace.step('ouverture du tampon');
    const client = new BatisimplyClient(s.batisimply, { clock, logger: silent });
    const buffer = await openBuffer(s.buffer, ':memory:');
    const ref = new ReferenceConnector({ sqlServer: s.sqlServer, projectDefaults: s.batisimply.project, client, buffer: buffer.db });
    await ref.init();
    const window = () => ({ start: new Date(Date.now() - s.hours.windowDays * 86_400_000), end: new Date() });
    if (cfg.scenario === 'b') {
      await ref.pushAll();
      await ref.hoursAll(window());
    }
    trace.step('préparation');
    send({ t: 'ready' });
    await waitGo();
    trace.step('mesure');
    const before = { ...ref.stats };
    preparedPeakMb = peakRssMb();
    const m = await measured(cfg, async () => {
      if (cfg.scenario === 'a' || cfg.scenario === 'b') await ref.pushAll();
      if (cfg.scenario !== 'a') await ref.hoursAll(window());
    });
    trace.stop();
    result = {
      wallMs: m.wallMs,
      cpuUserMs: m.cpuUserMs,
      cpuSystemMs: m.cpuSystemMs,
      maxRssMb: Math.max(preparedPeakMb, peakRssMb()),
      measuredPeakMb: m.measuredPeakMb,
      sqlRoundTrips: ref.stats.sqlRoundTrips - before.sqlRoundTrips,
      suiviWrites: ref.stats.hoursWritten - before.hoursWritten,
      detail: `POST ${ref.stats.created - before.created} acceptés, ${ref.stats.postErrors - before.postErrors} refusés (doublons) ; ${ref.stats.hoursWritten - before.hoursWritten} heures écrites ; ${ref.stats.bufferQueries - before.bufferQueries} requêtes tampon`,
    };
    await ref.close();
    await buffer.db.close();
    await client.close();
  }
  send({ t: 'done', result });
}

// Started by run.ts with `--child`; its configuration (settings with the simulators' credentials) comes as the
// first IPC message, not on the command line where any process of the machine could read it.
if (process.argv.includes('--child')) {
  const cfg = await new Promise<ChildConfig>((res) => {
    process.once('message', (m) => res(m as ChildConfig));
    // Asked for once listening (a message sent before would be lost).
    process.send?.({ t: 'hello' });
  });
  // Both contenders run with the memory profile of the connector's processes.
  if (cfg.memoryProfile !== false) applyMemoryProfile();
  await child(cfg);
  process.exit(0);
}
