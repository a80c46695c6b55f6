/**
 * Faults of the import agent, each one injected in the simulators or the file operations and each asserted to have
 * fired: the exports API down, 401, 429 with Retry-After, 5xx, a download cut half-way (once, and for good), a
 * checksum that does not match, Batigest’s import folder missing or read-only, Batigest never taking the file
 * (timeout → mark-error with a French reason, file in Errors, then « Réessayer »), a full disk, an unreadable export.
 */
import { existsSync, readdirSync, rmSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ImportFs } from '../../src/main/services/ports.js';
import { nodeImportFs } from '../../src/main/services/sync/flows/imports/files.js';
import { importsHarness, type ImportsHarness } from '../support/exports/harness.js';

let h: ImportsHarness;
beforeEach(async () => {
  h = await importsHarness();
});
afterEach(async () => {
  await h.close();
});

const errno = (code: string): Error => Object.assign(new Error(`${code}: injected`), { code, syscall: 'write' });

describe('import agent faults: the exports API', () => {
  it('API down: the cycle fails with a French message, nothing is copied', async () => {
    h.sim.seed(3);
    h.sim.faults.down = true;
    const run = await h.run();
    expect(h.sim.fired.down).toBeGreaterThan(0);
    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('EXPORTS_UNREACHABLE');
    expect(run.message).toContain("L’API d’export est injoignable");
    expect(run.message).toContain('Réglages › Imports › Adresse de l');
    expect(h.importer.appearances.size).toBe(0);
  });

  it('401: the key is refused, the message names the field', async () => {
    h.sim.seed(2);
    h.sim.faults.unauthorized = 1;
    const run = await h.run();
    expect(h.sim.fired['401']).toBe(1);
    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('EXPORTS_AUTH_FAILED');
    expect(run.message).toContain("Réglages › Imports › Clé de l’API");
  });

  it('429 with Retry-After: waits what the API asks, then goes on', async () => {
    h.sim.seed(2);
    h.sim.faults.rateLimited = { n: 1, retryAfterSeconds: 7 };
    const run = await h.run();
    expect(h.sim.fired['429']).toBe(1);
    expect(h.sleeps).toContain(7000);
    expect(run.status).toBe('succeeded');
    expect(run.counts.created).toBe(2);
  });

  it('5xx: retried with backoff, then goes on', async () => {
    h.sim.seed(2);
    h.sim.faults.serverError = { n: 2, status: 503 };
    const run = await h.run();
    expect(h.sim.fired['5xx']).toBe(2);
    expect(h.sleeps.length).toBeGreaterThanOrEqual(2);
    expect(run.status).toBe('succeeded');
    expect(run.counts.created).toBe(2);
  });

  it('a download cut half-way is downloaded again; cut for good, the export waits for the next cycle', async () => {
    const [a, b] = h.sim.seed(3);
    h.sim.faults.cutDownload.set(a!.id, 1);
    h.sim.faults.cutDownload.set(b!.id, 99);
    const run = await h.run();
    expect(h.sim.fired.cut).toBe(4); // a once, b three times
    expect(run.status).toBe('partial');
    expect(h.importer.contents.get(`${a!.id}_${a!.fileName}`)).toBe(a!.content.toString('utf8'));
    expect(a!.status).toBe('synced');
    expect(b!.status).toBe('pending');
    const row = await h.store.get(b!.id);
    expect(row?.state).toBe('seen');
    expect(row?.reason).toContain('interrompu');
    expect(readdirSync(join(h.workDir, 'Downloads'))).toEqual([]); // no half file left
    h.sim.faults.cutDownload.clear();
    const next = await h.run();
    expect(next.status).toBe('succeeded');
    expect(b!.status).toBe('synced');
    expect(h.importer.doubles()).toEqual([]);
  });

  it('a checksum mismatch: never handed to Batigest, marked in error with its reason, the file kept in Errors', async () => {
    const [a, b] = h.sim.seed(2);
    h.sim.faults.badChecksum.set(a!.id, Infinity);
    const run = await h.run();
    expect(h.sim.fired.checksum).toBeGreaterThan(0);
    expect(run.status).toBe('partial');
    expect(a!.status).toBe('error');
    expect(a!.error).toContain("ne correspond pas à l’empreinte");
    expect(h.importer.appearances.has(`${a!.id}_${a!.fileName}`)).toBe(false);
    expect(readdirSync(join(h.workDir, 'Errors'))).toEqual([`${a!.id}_${a!.fileName}`]);
    expect(b!.status).toBe('synced');
  });

  it('an unreadable export in the listing is journaled and left out, the others go on', async () => {
    h.sim.seed(1);
    h.sim.add({ id: 'X', fileName: 'x.xml', content: '<x/>', listing: { id: null } });
    const run = await h.run();
    expect(run.counts.skipped).toBe(1);
    expect(run.counts.created).toBe(1);
    const items = await h.buffer.listRunItems(run.runId);
    expect(items.find((i) => i.action === 'skipped')?.reason).toContain('Export illisible');
  });
});

describe('import agent faults: folders and Batigest', () => {
  it("Batigest’s import folder missing: the cycle stops before handing over, nothing is created outside; it resumes once the folder is back", async () => {
    h.sim.seed(3);
    rmSync(h.importDir, { recursive: true });
    const run = await h.run();
    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('IMPORT_FOLDER_UNAVAILABLE');
    expect(run.message).toContain("Réglages › Imports › Dossier d’import");
    expect(existsSync(h.importDir)).toBe(false);
    expect((await h.store.listAll()).map((r) => r.state)).toEqual(['staged', 'staged', 'staged']);
    mkdirSync(h.importDir);
    const next = await h.run();
    expect(next.status).toBe('succeeded');
    expect(next.counts.created).toBe(3);
  });

  it("Batigest’s import folder read-only: the cycle says so, the exports wait", async () => {
    h.sim.seed(2);
    let refused = 0;
    const readOnly: ImportFs = {
      ...nodeImportFs,
      assertWritableDir: async (dir) => {
        if (dir === h.importDir) {
          refused++;
          throw errno('EACCES');
        }
        return nodeImportFs.assertWritableDir(dir);
      },
    };
    h.useFs(readOnly);
    const run = await h.run();
    expect(refused).toBe(1);
    expect(run.status).toBe('failed');
    expect(run.message).toContain("n’est pas accessible en écriture");
    expect(h.importer.appearances.size).toBe(0);
    h.useFs(null);
    expect((await h.run()).counts.created).toBe(2);
  });

  it('Batigest never takes the file: after the timeout it is taken back, marked in error in French, kept in Errors; « Réessayer » hands it over again', async () => {
    const [a] = h.sim.seed(1);
    h.importer.mode = 'never';
    h.settings.imports.importTimeoutSeconds = 1;
    const run = await h.run();
    expect(run.status).toBe('partial');
    expect(run.counts.failed).toBe(1);
    expect(a!.status).toBe('error');
    expect(a!.error).toMatch(/^Sage Batigest n’a pas importé le fichier « EXP-0001_devis-EXP-0001\.xml » en 1 seconde/);
    expect(readdirSync(h.importDir)).toEqual([]);
    expect(readdirSync(join(h.workDir, 'Errors'))).toEqual([`${a!.id}_${a!.fileName}`]);
    expect(h.alerts.map((x) => x.exportId)).toEqual([a!.id]);
    expect(h.importer.consumed.size).toBe(0);
    // « Réessayer », Batigest running again.
    h.importer.mode = 'consume';
    expect(await h.store.retry(a!.id, new Date())).toBe(true);
    const again = await h.run();
    expect(again.status).toBe('succeeded');
    expect(a!.status).toBe('synced');
    expect(h.importer.consumed.get(`${a!.id}_${a!.fileName}`)).toBe(1);
  });

  it('only some files taken: the others time out, each export ends synced or in error, never both', async () => {
    const seeded = h.sim.seed(4);
    h.importer.mode = (name) => !name.startsWith('EXP-0002');
    h.settings.imports.importTimeoutSeconds = 1;
    const run = await h.run();
    expect(run.counts.created).toBe(3);
    expect(run.counts.failed).toBe(1);
    expect(seeded.map((e) => e.status)).toEqual(['synced', 'error', 'synced', 'synced']);
    for (const e of seeded) expect(e.marks).toHaveLength(1);
  });

  it('cancelled while waiting for Batigest: the run ends « cancelled », the next one finishes without a second copy', async () => {
    const [a] = h.sim.seed(1);
    h.importer.mode = 'never';
    const ctrl = new AbortController();
    const running = h.run(undefined, ctrl.signal);
    const name = `${a!.id}_${a!.fileName}`;
    for (let i = 0; i < 400 && !existsSync(join(h.importDir, name)); i++) await new Promise((r) => setTimeout(r, 10));
    ctrl.abort();
    const run = await running;
    expect(run.status).toBe('cancelled');
    expect((await h.store.get(a!.id))?.state).toBe('handed');
    h.importer.mode = 'consume';
    const next = await h.run();
    expect(next.status).toBe('succeeded');
    expect(a!.status).toBe('synced');
    expect(h.importer.consumed.get(name)).toBe(1);
    expect(h.importer.appearances.get(name)).toBe(1);
  });

  it('disk full while downloading: the cycle stops with « disque plein », no half file is left; it resumes once there is room', async () => {
    h.sim.seed(2);
    let full = 0;
    const fullDisk: ImportFs = {
      ...nodeImportFs,
      openWrite: async (file) => {
        const w = await nodeImportFs.openWrite(file);
        if (!file.startsWith(join(h.workDir, 'Downloads'))) return w;
        return {
          ...w,
          write: async () => {
            full++;
            throw errno('ENOSPC');
          },
        };
      },
    };
    h.useFs(fullDisk);
    const run = await h.run();
    expect(full).toBe(1);
    expect(run.status).toBe('failed');
    expect(run.errorCode).toBe('DISK_FULL');
    expect(run.message).toContain('est plein');
    expect(readdirSync(join(h.workDir, 'Downloads'))).toEqual([]);
    h.useFs(null);
    const next = await h.run();
    expect(next.status).toBe('succeeded');
    expect(next.counts.created).toBe(2);
  });
});
