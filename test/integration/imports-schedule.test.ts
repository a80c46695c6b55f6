/**
 * The import agent’s own cycle: with the schedule and the module on, a cycle is planned every
 * imports.intervalSeconds, runs as a scheduled run of the 'imports' flow when its timer fires, and the next one is
 * planned; off (module or schedule), nothing is planned. Timers are injected (no waiting).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main/app.js';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import type { Timers } from '../../src/main/services/scheduler/scheduler.js';
import type { ChannelOutput, Result } from '../../src/shared/contract.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { startBatigestImporter, type BatigestImporter } from '../support/exports/importer.js';
import { startExportsSim, type ExportsSim } from '../support/exports/server.js';
import { createTestBuffer, type TestBuffer } from '../support/sync/buffers.js';

let sim: ExportsSim;
let importer: BatigestImporter;
let tb: TestBuffer;
let dir: string;
let app: App;
const timers: { fn: () => void; ms: number }[] = [];
const fake: Timers = {
  setTimeout: (fn, ms) => {
    const t = { fn, ms };
    timers.push(t);
    return t;
  },
  clearTimeout: (h) => {
    const i = timers.indexOf(h as { fn: () => void; ms: number });
    if (i >= 0) timers.splice(i, 1);
  },
};

beforeAll(async () => {
  sim = await startExportsSim();
  sim.seed(2);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-imports-sched-'));
  const importDir = path.join(dir, 'import');
  fs.mkdirSync(importDir);
  importer = startBatigestImporter(importDir, { pollMs: 10 });
  tb = await createTestBuffer('pglite');
  app = await createNodeApp({
    dataDir: path.join(dir, 'data'),
    logger: memoryLogger(),
    host: 'bridge',
    version: '0.1.0',
    entry: 'test',
    overrides: { buffer: tb.store, licenceGuard: { assertSyncAllowed: async () => undefined, allowsSync: () => true }, importsPollMs: 20 },
    features: defaultFeatures({ licence: { checkAtStart: false }, sync: { timers: fake } }),
  });
  app.settings.update({ imports: { enabled: false, apiUrl: sim.url, apiKey: sim.apiKey, batigestImportPath: importDir, intervalSeconds: 120 } });
});
afterAll(async () => {
  await app?.dispose();
  importer?.stop();
  await sim?.close();
  await tb?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe("the import agent’s cycle", () => {
  it('is planned only with the schedule and the module on, runs when due, and plans the next one', async () => {
    const importTimers = () => timers.filter((t) => t.ms === 120_000);
    expect(importTimers()).toHaveLength(0);
    app.settings.update({ schedule: { enabled: true } });
    await new Promise((r) => setTimeout(r, 50));
    expect(importTimers()).toHaveLength(0); // module off
    app.settings.update({ imports: { enabled: true } });
    await expect.poll(() => importTimers().length).toBe(1);
    const t = importTimers()[0]!;
    timers.splice(timers.indexOf(t), 1);
    t.fn();
    await expect.poll(() => sim.exports.get('EXP-0002')!.status, { timeout: 20_000 }).toBe('synced');
    await expect.poll(() => importTimers().length, { timeout: 20_000 }).toBe(1);
    const r = (await app.router.invoke('journal.list', { flow: 'imports' })) as Result<ChannelOutput<'journal.list'>>;
    expect(r.ok && r.value.runs.map((x) => [x.flow, x.trigger, x.status])).toEqual([['imports', 'schedule', 'success']]);
    app.settings.update({ imports: { enabled: false } });
    await expect.poll(() => importTimers().length).toBe(0);
  });
});
