/**
 * The app's main process at rest, for `npm run bench -- --rest` (test/bench/rest.ts): built exactly as the web
 * bridge's entry point builds it (src/main/bridge-main.ts: memory profile, createNodeApp on a data folder with its
 * settings file and file logs, the default features with the background schedule on, the web bridge listening),
 * with two test-only differences: the scheduler's timers run faster by a factor the parent sets (the interval
 * of 60 s becomes ~2 s for the cycles, then ~10 min for the rest window), and the licence check is a stand-in.
 *
 * Bundled with esbuild and run by plain node (like child.ts). Protocol (IPC): `{ t: 'hello' }` → RestChildConfig;
 * `{ t: 'started', pid }`; after each scheduled job `{ t: 'cycle', status, heapUsedMb }`; the parent sends
 * `{ t: 'scale', factor }` to change the timers' speed and `{ t: 'stop' }` to end.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Settings } from '../../src/shared/settings.js';
import { createNodeApp, nodeLogger } from '../../src/main/composition/node-app.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import { applyMemoryProfile } from '../../src/main/memory-profile.js';
import type { Timers } from '../../src/main/services/scheduler/scheduler.js';
import { startWebBridge } from '../../src/main/web-bridge.js';

export interface RestChildConfig {
  dataDir: string;
  settings: Settings;
  /** Initial speed-up of the scheduler's timers (delay × factor). */
  factor: number;
}

export type RestChildMessage =
  | { t: 'hello' }
  | { t: 'started'; pid: number }
  | { t: 'cycle'; status: string; message: string; heapUsedMb: number };

async function main(cfg: RestChildConfig): Promise<void> {
  const send = (m: RestChildMessage): void => void process.send?.(m);
  let factor = cfg.factor;
  // Real timers (unref'd, as nodeTimers), the delay multiplied by the current factor when a run is planned.
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const t = setTimeout(fn, Math.max(1, Math.round(ms * factor)));
      t.unref();
      return t;
    },
    clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  };
  const settingsFile = join(cfg.dataDir, 'reglages-bench.json');
  writeFileSync(settingsFile, JSON.stringify(cfg.settings));
  const logger = nodeLogger(cfg.dataDir, { level: 'info' });
  const app = await createNodeApp({
    dataDir: cfg.dataDir,
    logger,
    host: 'bridge',
    entry: 'bridge',
    env: { CONNECTEUR_SETTINGS_FILE: settingsFile },
    features: defaultFeatures({ licence: { checkAtStart: false }, sync: { timers } }),
    overrides: { licenceGuard: { assertSyncAllowed: async () => undefined } },
  });
  const bridge = await startWebBridge({ router: app.router, onEvent: app.onEvent, logger, port: 0 });
  app.onEvent((event, payload) => {
    if (event !== 'sync:status') return;
    const p = payload as { jobActive: boolean; lastRun: { status: string; message: string | null } | null };
    if (!p.jobActive && p.lastRun) send({ t: 'cycle', status: p.lastRun.status, message: p.lastRun.message ?? '', heapUsedMb: process.memoryUsage().heapUsed / 1_048_576 });
  });
  process.on('message', (m: { t: string; factor?: number }) => {
    if (m.t === 'scale' && typeof m.factor === 'number') factor = m.factor;
    if (m.t === 'stop') {
      void (async () => {
        await bridge.close();
        await app.dispose();
        process.exit(0);
      })();
    }
  });
  // The scheduler's timers are unref'd (as in the app, where Electron or the bridge keeps the process alive).
  send({ t: 'started', pid: process.pid });
}

if (process.argv.includes('--child')) {
  const cfg = await new Promise<RestChildConfig>((res) => {
    process.once('message', (m) => res(m as RestChildConfig));
    process.send?.({ t: 'hello' });
  });
  applyMemoryProfile();
  await main(cfg);
}
