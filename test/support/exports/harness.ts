/**
 * The import agent on its simulators, in this process: an exports API, a Batigest importer on a temporary import
 * folder, a buffer (in-memory PGlite by default), and the real engine (createSyncRuntime, the registered flows) with
 * the real exports client. The Batigest and BatiSimply ports are inert stand-ins (the imports flow does not use them).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ExportsClient } from '../../../src/main/services/exports/client.js';
import { ImportStore } from '../../../src/main/services/buffer/imports.js';
import type { BufferStore } from '../../../src/main/services/buffer/store.js';
import type { BatigestPort, BatisimplyPort, ImportFs, ImportsPorts } from '../../../src/main/services/ports.js';
import { nodeImportFs } from '../../../src/main/services/sync/flows/imports/files.js';
import type { RunSummary, SyncHooks } from '../../../src/main/services/sync/engine.js';
import { createSyncRuntime, type SyncRuntime } from '../../../src/main/services/sync/runtime.js';
import type { Settings } from '../../../src/shared/settings.js';
import { memoryLogger } from '../foundation/memory-logger.js';
import { createTestBuffer, type BufferKind, type TestBuffer } from '../sync/buffers.js';
import { testSettings } from '../sync/harness.js';
import { startBatigestImporter, type BatigestImporter, type ImporterMode } from './importer.js';
import { startExportsSim, type ExportsSim } from './server.js';

export interface ImportsHarness {
  sim: ExportsSim;
  importer: BatigestImporter;
  settings: Settings;
  root: string;
  workDir: string;
  importDir: string;
  buffer: BufferStore;
  store: ImportStore;
  /** Delays the exports client was asked to wait (Retry-After, backoff). */
  sleeps: number[];
  alerts: { exportId: string; reason: string }[];
  fs: ImportFs;
  /** Replaces the file operations (fault tests); `null` restores node:fs. */
  useFs(fs: ImportFs | null): void;
  run(hooks?: SyncHooks, signal?: AbortSignal): Promise<RunSummary>;
  /** Every file under the temporary root, relative to it (nothing may be written outside work and import). */
  files(): string[];
  close(): Promise<void>;
}

export async function importsHarness(o: { importer?: ImporterMode; delayMs?: number; buffer?: BufferKind; timeoutSeconds?: number } = {}): Promise<ImportsHarness> {
  const sim = await startExportsSim();
  const root = mkdtempSync(join(tmpdir(), 'cbs-imports-'));
  const workDir = join(root, 'travail');
  const importDir = join(root, 'batigest-import');
  mkdirSync(importDir);
  const importer = startBatigestImporter(importDir, { mode: o.importer ?? 'consume', delayMs: o.delayMs ?? 0, pollMs: 10 });
  const tb: TestBuffer = await createTestBuffer(o.buffer ?? 'pglite');
  const settings = testSettings((s) => {
    s.imports = { ...s.imports, enabled: true, apiUrl: sim.url, apiKey: sim.apiKey, agentId: 'agent-test', workDir, batigestImportPath: importDir, importTimeoutSeconds: o.timeoutSeconds ?? 30, timeoutMs: 5000, maxRetries: 3 };
  });
  const sleeps: number[] = [];
  const alerts: { exportId: string; reason: string }[] = [];
  let fs: ImportFs = nodeImportFs;
  const ports: ImportsPorts = {
    exports: (s) =>
      new ExportsClient(s.imports, {
        logger: memoryLogger(),
        baseDelayMs: 5,
        maxDelayMs: 40,
        sleep: async (ms) => {
          sleeps.push(ms);
          await new Promise((r) => setTimeout(r, Math.min(ms, 30)));
        },
      }),
    get fs() {
      return fs;
    },
    defaultWorkDir: join(root, 'donnees', 'imports'),
    defaultAgentId: 'agent-defaut',
    pollMs: 20,
    onExportError: (e) => alerts.push({ exportId: e.exportId, reason: e.reason }),
  };
  const inert = {} as BatigestPort & BatisimplyPort;
  const runtime = (hooks?: SyncHooks): SyncRuntime =>
    createSyncRuntime({ settings: () => settings, logger: memoryLogger(), clock: { now: () => new Date() }, machineName: 'PC-TEST', batigest: inert, batisimply: inert, buffer: tb.store, imports: ports, ...(hooks ? { hooks } : {}) });
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((n) => {
      const full = join(dir, n);
      return statSync(full).isDirectory() ? walk(full) : [relative(root, full)];
    });
  return {
    sim,
    importer,
    settings,
    root,
    workDir,
    importDir,
    buffer: tb.store,
    store: new ImportStore(tb.store.db),
    sleeps,
    alerts,
    get fs() {
      return fs;
    },
    useFs: (f) => (fs = f ?? nodeImportFs),
    run: async (hooks, signal) => runtime(hooks).engine.runFlow('imports', signal ? { signal } : {}),
    files: () => walk(root),
    close: async () => {
      importer.stop();
      await sim.close();
      await tb.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
