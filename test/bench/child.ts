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
import { readFileSync } from 'node:fs';
import type { Settings } from '../../src/shared/settings.js';
import type { Logger } from '../../src/main/services/ports.js';
import type { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { BatisimplyClient } from '../../src/main/services/batisimply/index.js';
import { openBuffer } from '../../src/main/services/buffer/index.js';
import { createServices, licencePolicy } from '../../src/main/composition/services.js';
import { applyMemoryProfile } from '../../src/main/memory-profile.js';
import { ReferenceConnector } from './baseline.js';

export type ScenarioId = 'a' | 'b' | 'c';
export type Contender = 'engine' | 'baseline';

export interface ChildConfig {
  scenario: ScenarioId;
  contender: Contender;
  settings: Settings;
  traceMemory?: boolean;
  /** false (`--no-memory-profile`): run without the processes' memory profile, to see what it brings. */
  memoryProfile?: boolean;
}

export interface ChildResult {
  wallMs: number;
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
    const rt = await services.syncRuntime({ buffer });
    const engine = rt.engine;
    const gateway = rt.batigest as BatigestGateway;
    trace.step('préparation');
    if (cfg.scenario === 'b') await engine.run('all');
    send({ t: 'ready' });
    await waitGo();
    trace.step('mesure');
    gateway.resetStats();
    const t0 = performance.now();
    const flow = cfg.scenario === 'a' ? 'push' : cfg.scenario === 'b' ? 'all' : 'hours';
    const runs = await engine.run(flow);
    const wallMs = performance.now() - t0;
    trace.stop();
    const failed = runs.filter((r) => r.status !== 'succeeded');
    result = {
      wallMs,
      maxRssMb: peakRssMb(),
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
    const t0 = performance.now();
    if (cfg.scenario !== 'c') await ref.pushAll();
    if (cfg.scenario !== 'a') await ref.hoursAll(window());
    const wallMs = performance.now() - t0;
    trace.stop();
    result = {
      wallMs,
      maxRssMb: peakRssMb(),
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
