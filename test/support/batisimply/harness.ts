/**
 * Helpers to build a BatisimplyClient against the simulator in tests and benchmarks: a capturing logger,
 * a manual clock, a recording sleep (no real waiting).
 */
import { batisimplySettingsSchema, type BatisimplySettings } from '../../../src/shared/settings.js';
import type { Clock, LogFields, Logger } from '../../../src/main/services/ports.js';
import { BatisimplyClient, type BatisimplyClientDeps } from '../../../src/main/services/batisimply/index.js';
import { startBatisimplySimulator, type BatisimplySimulator } from './server.js';
import { SIM_DEFAULT_CREDENTIALS } from './index.js';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { AppError } from '../../../src/shared/errors.js';

export interface CapturedLogger extends Logger {
  lines: string[];
  /** Everything logged, as one string (to search for secrets). */
  text(): string;
}

export function captureLogger(bindings: LogFields = {}, lines: string[] = []): CapturedLogger {
  const write = (level: string) => (msg: string, fields?: LogFields) => {
    lines.push(`${level} ${msg} ${JSON.stringify({ ...bindings, ...fields })}`);
  };
  return {
    lines,
    text: () => lines.join('\n'),
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: (b: LogFields) => captureLogger({ ...bindings, ...b }, lines),
  };
}

export interface ManualClock extends Clock {
  advance(ms: number): void;
  set(ms: number): void;
}

export function manualClock(startMs = Date.now()): ManualClock {
  let t = startMs;
  return {
    now: () => new Date(t),
    advance: (ms) => {
      t += ms;
    },
    set: (ms) => {
      t = ms;
    },
  };
}

export function simSettings(sim: Pick<BatisimplySimulator, 'ssoUrl' | 'apiUrl'>, over: Partial<BatisimplySettings> = {}): BatisimplySettings {
  return {
    ...batisimplySettingsSchema.parse({}),
    environment: 'custom',
    ssoUrl: sim.ssoUrl,
    apiUrl: sim.apiUrl,
    clientId: SIM_DEFAULT_CREDENTIALS.clientId,
    clientSecret: SIM_DEFAULT_CREDENTIALS.clientSecret,
    username: SIM_DEFAULT_CREDENTIALS.username,
    password: SIM_DEFAULT_CREDENTIALS.password,
    timeoutMs: 5000,
    maxRetries: 3,
    ...over,
  };
}

export interface TestClient {
  client: BatisimplyClient;
  logger: CapturedLogger;
  clock: ManualClock | Clock;
  /** Delays the client asked to sleep, in ms (no real wait). */
  sleeps: number[];
}

export function makeClient(
  sim: Pick<BatisimplySimulator, 'ssoUrl' | 'apiUrl'>,
  settings: Partial<BatisimplySettings> = {},
  deps: Partial<BatisimplyClientDeps> = {},
): TestClient {
  const logger = captureLogger();
  const sleeps: number[] = [];
  const clock = deps.clock ?? { now: () => new Date() };
  const client = new BatisimplyClient(simSettings(sim, settings), {
    clock,
    logger,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...deps,
  });
  return { client, logger, clock, sleeps };
}

/** The typed error a promise rejects with (fails the test when it resolves or rejects with something else). */
export async function rejection(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(AppError);
    return e as AppError;
  }
  throw new Error('expected a rejection');
}

/**
 * One BatiSimply simulator for a test file: started before the tests, faults and request log cleared after
 * each (plus `reset`), stopped with every client made by `client(…)` at the end. `onStart` receives the
 * simulator (the file keeps it in a variable of its own).
 */
export function useBatisimplySimulator(
  options: Parameters<typeof startBatisimplySimulator>[0],
  onStart: (sim: BatisimplySimulator) => void,
  reset: (sim: BatisimplySimulator) => void = () => undefined,
): {
  client(settings?: Partial<BatisimplySettings>, deps?: Partial<BatisimplyClientDeps>): TestClient;
  /** A client of another simulator of the test, closed with the others. */
  clientFor(other: Pick<BatisimplySimulator, 'ssoUrl' | 'apiUrl'>, settings?: Partial<BatisimplySettings>, deps?: Partial<BatisimplyClientDeps>): TestClient;
} {
  let sim: BatisimplySimulator | undefined;
  const clients: TestClient[] = [];
  beforeAll(async () => {
    sim = await startBatisimplySimulator(options);
    onStart(sim);
  });
  afterEach(() => {
    if (!sim) return;
    sim.faults.clear();
    sim.log.clear();
    reset(sim);
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.client.close()));
    await sim?.close();
  });
  return {
    client(settings = {}, deps = {}) {
      if (!sim) throw new Error('the simulator is not started yet (call client() inside a test)');
      const c = makeClient(sim, settings, deps);
      clients.push(c);
      return c;
    },
    clientFor(other, settings = {}, deps = {}) {
      const c = makeClient(other, settings, deps);
      clients.push(c);
      return c;
    },
  };
}
