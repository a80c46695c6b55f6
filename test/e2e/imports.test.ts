/**
 * The import agent in Debian Chromium, through the web bridge, against the exports API simulator and a Batigest
 * importer: Réglages › Imports tests the connection (French diagnosis), the dashboard’s « Imports vers Sage Batigest »
 * card runs a cycle and shows imported today and the export Batigest did not take, with its reason; « Réessayer »
 * imports it once Batigest takes files again. (The licence has its own journeys: an accepting guard here.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBatigestImporter, type BatigestImporter } from '../support/exports/importer.js';
import { startExportsSim, type ExportsSim } from '../support/exports/server.js';
import { buildRenderer, E2E_TEST_MS, POLL, startStack, type Stack } from './harness.js';

let rendererDir: string;
let stack: Stack;
let sim: ExportsSim;
let importer: BatigestImporter;
let importDir: string;

beforeAll(async () => {
  rendererDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-e2e-imports-renderer-'));
  await buildRenderer(rendererDir);
  sim = await startExportsSim();
  sim.seed(3);
  importDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-e2e-import-folder-'));
  importer = startBatigestImporter(importDir, { mode: (n) => !n.startsWith('EXP-0002'), pollMs: 20 });
  stack = await startStack(rendererDir, { overrides: { licenceGuard: { assertSyncAllowed: async () => undefined, allowsSync: () => true }, importsPollMs: 50 } });
  stack.app.settings.update({
    setupCompleted: true,
    machineName: 'PC-E2E',
    imports: { enabled: true, apiUrl: sim.url, apiKey: sim.apiKey, batigestImportPath: importDir, importTimeoutSeconds: 2 },
  });
}, E2E_TEST_MS);

afterAll(async () => {
  await stack?.close();
  importer?.stop();
  await sim?.close();
  for (const d of [rendererDir, importDir]) if (d) fs.rmSync(d, { recursive: true, force: true });
});

describe('import agent (browser)', () => {
  // Once, in a whole-suite run on a fresh clone, the Réglages › Imports card did not appear within 30 s (cause not
  // found; it passes alone and in other whole runs): one retry, so a real failure still fails.
  it('tests the connection in Réglages › Imports, runs a cycle from the dashboard, and « Réessayer » imports the one in error', { retry: 1, timeout: E2E_TEST_MS }, async () => {
    const page = stack.page;
    await page.goto(`${stack.bridge.origin}/#/settings`);
    const card = page.getByTestId('settings-imports');
    await card.getByTestId('imports-test').click();
    await expect.poll(() => card.textContent(), POLL).toContain("Connexion à l’API d’export réussie. 3 exports en attente.");

    await page.goto(`${stack.bridge.origin}/#/dashboard`);
    const imports = page.getByTestId('card-imports');
    await imports.getByTestId('imports-run').click();
    await expect.poll(() => imports.getByTestId('imports-today').textContent(), POLL).toBe('2');
    await expect.poll(() => imports.getByTestId('imports-errored').textContent(), POLL).toBe('1');
    const item = imports.locator('[data-export="EXP-0002"]');
    await expect.poll(() => item.textContent(), POLL).toContain("n’a pas importé le fichier");
    await stack.screenshot('imports-dashboard-error');

    importer.mode = 'consume';
    await item.getByRole('button', { name: /Réessayer l’import de EXP-0002/ }).click();
    await expect.poll(() => imports.getByTestId('imports-today').textContent(), POLL).toBe('3');
    await expect.poll(() => imports.getByTestId('imports-errored').textContent(), POLL).toBe('0');
    expect(sim.exports.get('EXP-0002')!.status).toBe('synced');
    expect(importer.doubles()).toEqual([]);
    expect(stack.pageErrors).toEqual([]);
  });
});
