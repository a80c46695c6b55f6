/**
 * The import agent through the app, as the UI and the CLI reach it: imports.test (connection test in French),
 * sync.run { flow: 'imports' } and `connecteur sync --flow imports` (the same handler map), imports.status (pending,
 * imported today, in error with the reason), imports.retry (« Réessayer »), the journal’s imports runs, and the
 * overview’s « imports en erreur » (what the desktop notification policy reads).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main/app.js';
import { EXIT, runCli, type CliIo } from '../../src/main/cli.js';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import type { ChannelName, ChannelOutput, Result } from '../../src/shared/contract.js';
import { connectorState } from '../../src/shared/connector-state.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { startBatigestImporter, type BatigestImporter } from '../support/exports/importer.js';
import { startExportsSim, type ExportsSim } from '../support/exports/server.js';
import { createTestBuffer, type TestBuffer } from '../support/sync/buffers.js';

let sim: ExportsSim;
let importer: BatigestImporter;
let tb: TestBuffer;
let dir: string;
let importDir: string;
let app: App;
const allow = { assertSyncAllowed: async () => undefined, allowsSync: () => true };

async function call<K extends ChannelName>(channel: K, input?: unknown): Promise<ChannelOutput<K>> {
  const r = (await app.router.invoke(channel, input)) as Result<ChannelOutput<K>>;
  if (!r.ok) throw new Error(`${channel}: ${r.error.code} ${r.error.message}`);
  return r.value;
}

beforeAll(async () => {
  sim = await startExportsSim();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-imports-app-'));
  importDir = path.join(dir, 'import');
  fs.mkdirSync(importDir);
  importer = startBatigestImporter(importDir, { mode: (n) => !n.startsWith('EXP-0003'), pollMs: 10 });
  tb = await createTestBuffer('pglite');
  app = await createNodeApp({ dataDir: path.join(dir, 'data'), logger: memoryLogger(), host: 'bridge', version: '0.1.0', entry: 'test', overrides: { buffer: tb.store, licenceGuard: allow, importsPollMs: 20 }, features: defaultFeatures({ licence: { checkAtStart: false }, sync: { schedule: false } }) });
  app.settings.update({ machineName: 'PC-IMPORT', imports: { enabled: true, apiUrl: sim.url, apiKey: sim.apiKey, batigestImportPath: importDir, importTimeoutSeconds: 1 } });
});

afterAll(async () => {
  await app?.dispose();
  importer?.stop();
  await sim?.close();
  await tb?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('import agent in the app', () => {
  it('tests the connection in French: the API, then the import folder', async () => {
    sim.seed(3);
    const d = await call('imports.test');
    expect(d.ok, d.message).toBe(true);
    expect(d.message).toBe("Connexion à l’API d’export réussie. 3 exports en attente. Le dossier d’import de Sage Batigest est accessible en écriture.");
    const bad = await call('imports.test', { override: { apiKey: 'mauvaise-cle' } });
    expect(bad.ok).toBe(false);
    expect(bad.message).toContain("Réglages › Imports › Clé de l’API");
    const noFolder = await call('imports.test', { override: { batigestImportPath: path.join(dir, 'absent') } });
    expect(noFolder.ok).toBe(false);
    expect(noFolder.message).toContain('introuvable');
  });

  it('runs a cycle from the UI: imported, in error with its reason, journaled, in the overview; « Réessayer » imports it', async () => {
    const r = await call('sync.run', { flow: 'imports', wait: true });
    expect(r.runs).toHaveLength(1);
    expect(r.runs![0]!.flow).toBe('imports');
    expect(r.runs![0]!.status).toBe('partial');
    const v = await call('imports.status');
    expect(v.importedToday).toBe(2);
    expect(v.pending).toBe(0);
    expect(v.erroredTotal).toBe(1);
    expect(v.errored[0]!.exportId).toBe('EXP-0003');
    expect(v.errored[0]!.reason).toContain("n’a pas importé le fichier");
    expect(v.agentId).toMatch(/^connecteur-pc-import-[0-9a-f]{8}$/);
    expect(v.lastRun?.id).toBe(r.runs![0]!.id);
    const journal = await call('journal.list', { flow: 'imports' });
    expect(journal.runs.map((x) => x.id)).toEqual([r.runs![0]!.id]);
    const items = await call('journal.get', { runId: r.runs![0]!.id });
    expect(items.items.filter((i) => i.kind === 'import').map((i) => i.action).sort()).toEqual(['created', 'created', 'failed']);
    // The overview (tray, dashboard, notification policy) reports it.
    const state = connectorState(await call('status.overview'), new Date());
    expect(state.problems.some((p) => p.title === '1 import en erreur')).toBe(true);
    // « Réessayer » with Batigest taking the file this time.
    importer.mode = 'consume';
    const retried = await call('imports.retry', { exportId: 'EXP-0003' });
    expect(retried.message).toContain('EXP-0003');
    for (let i = 0; i < 200 && (await call('imports.status')).erroredTotal > 0; i++) await new Promise((res) => setTimeout(res, 50));
    for (let i = 0; i < 200 && (await call('sync.status')).running; i++) await new Promise((res) => setTimeout(res, 50));
    expect(sim.exports.get('EXP-0003')!.status).toBe('synced');
    expect((await call('imports.status')).importedToday).toBe(3);
    await expect(call('imports.retry', { exportId: 'EXP-0003' })).rejects.toThrow("n’est pas en erreur");
  });

  it('runs a cycle from the CLI through the same handler map', async () => {
    sim.seed(2, 'CLI');
    const data = path.join(dir, 'data-cli');
    const settingsFile = path.join(dir, 'cli.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ machineName: 'PC-CLI', imports: { enabled: true, apiUrl: sim.url, apiKey: sim.apiKey, batigestImportPath: importDir, workDir: path.join(dir, 'travail-cli') } }));
    let out = '';
    let err = '';
    const io: CliIo = { out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false, env: { CONNECTEUR_DATA_DIR: data } };
    const code = await runCli(['--settings', settingsFile, 'sync', '--flow', 'imports'], io, { runtime: { licence: allow, buffer: tb.store, importsPollMs: 20 } });
    expect(code, err + out).toBe(EXIT.OK);
    expect(out).toContain('2 exports importés, 0 en erreur.');
    expect(sim.exports.get('CLI-0001')!.status).toBe('synced');
    expect(fs.readdirSync(path.join(dir, 'travail-cli', 'Archive'))).toHaveLength(2);
    // `status` (its own data folder and embedded buffer: the CLI closed the buffer it was given).
    out = '';
    err = '';
    const statusIo: CliIo = { ...io, env: { CONNECTEUR_DATA_DIR: path.join(dir, 'data-status') } };
    expect(await runCli(['--settings', settingsFile, 'status'], statusIo, { runtime: { licence: allow } }), err + out).toBe(EXIT.OK);
    expect(out).toMatch(/Imports \(poste connecteur-pc-cli-[0-9a-f]{8}\) : 0 en attente, 0 importé aujourd’hui, 0 en erreur/);
    expect(out).toContain('Dernier cycle d’import : jamais');
  });
});
