/**
 * Creation of the embedded buffer's folder (src/main/services/buffer/template.ts): from the template made by
 * `npm ci` / `npm run build` when it matches this PGlite, by an in-memory initdb otherwise; atomic (built aside,
 * verified, renamed into place), so a kill or a full disk at any moment leaves either no folder or a working
 * one; and a half-made folder left by an older version is recognised: rebuilt, and kept aside when it might
 * hold data.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_SERVER_PARAMS, embeddedLockFile, openEmbeddedBuffer } from '../../src/main/services/buffer/db.js';
import {
  BUNDLED_BUFFER_TEMPLATE,
  inspectDataFolder,
  installedPgliteVersion,
  nodeCreationFs,
  templateInfoPath,
  templateProblem,
  writeBufferTemplate,
  type CreationFs,
} from '../../src/main/services/buffer/template.js';

let root = '';
let template = '';
const startParams = [...PGlite.defaultStartParams, ...EMBEDDED_SERVER_PARAMS];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cbs-buffer-template-'));
  template = join(root, 'buffer-template.tar.gz');
  await writeBufferTemplate(template, startParams);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Created = { origin: 'template' | 'initdb'; note: string | null; keptAside: string | null };

async function openAndCheck(dir: string, tpl: string | null, creationFs?: CreationFs): Promise<Created | null> {
  let created: Created | null = null;
  const db = await openEmbeddedBuffer(dir, { template: tpl, onCreated: (c) => (created = c), ...(creationFs ? { creationFs } : {}) });
  try {
    expect(await db.query('SHOW shared_buffers')).toEqual([{ shared_buffers: '16MB' }]);
    await db.query('CREATE TABLE IF NOT EXISTS probe (n int)');
    await db.query('INSERT INTO probe VALUES (1)');
    expect(await db.query('SELECT count(*)::int AS n FROM probe')).toEqual([{ n: expect.any(Number) }]);
  } finally {
    await db.close();
  }
  return created;
}

describe('embedded buffer creation', () => {
  it('looks for the shipped template in build/ at the app root, which npm run build fills and the installer carries', () => {
    expect(BUNDLED_BUFFER_TEMPLATE).toBe(fileURLToPath(new URL('../../build/buffer-template.tar.gz', import.meta.url)));
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toMatch(/^npm run build:buffer-template && /);
    const builder = readFileSync(new URL('../../electron-builder.yml', import.meta.url), 'utf8');
    expect(builder).toContain('  - build/buffer-template.tar.gz\n');
    expect(builder).toContain('  - build/buffer-template.json\n');
  });

  it('unpacks a new buffer from a template made by this PGlite, and opens it as it is afterwards', async () => {
    expect(templateProblem(template)).toBeNull();
    const dir = join(root, 'from-template');
    expect(await openAndCheck(dir, template)).toEqual({ origin: 'template', note: null, keptAside: null });
    expect(existsSync(join(dir, 'PG_VERSION'))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tar.gz'))).toEqual([]);
    // Reopened: nothing is created again, the data is there.
    expect(await openAndCheck(dir, template)).toBeNull();
  });

  it('runs initdb (in memory) when the template is missing, made by another PGlite version, or unreadable', async () => {
    expect(await openAndCheck(join(root, 'no-template'), join(root, 'absent.tar.gz'))).toMatchObject({ origin: 'initdb', note: expect.stringMatching(/no template/) });

    const other = join(root, 'other', 'buffer-template.tar.gz');
    mkdirSync(join(root, 'other'));
    writeFileSync(other, 'not used');
    writeFileSync(templateInfoPath(other), JSON.stringify({ pglite: '0.0.1', createdAt: '2026-01-01T00:00:00Z' }));
    const note = `template made by PGlite 0.0.1, this app runs ${installedPgliteVersion()}`;
    expect(templateProblem(other)).toBe(note);
    expect(await openAndCheck(join(root, 'old-template'), other)).toEqual({ origin: 'initdb', note, keptAside: null });

    writeFileSync(templateInfoPath(other), '{ pas du json');
    expect(await openAndCheck(join(root, 'bad-info'), other)).toMatchObject({ origin: 'initdb', note: expect.stringMatching(/unreadable/) });
  }, 60_000);

  it('finishes a creation cut short in place by an older version: files half written, PG_VERSION not yet there', async () => {
    const dir = join(root, 'half');
    mkdirSync(dir);
    await tar.x({ file: template, cwd: dir });
    rmSync(join(dir, 'PG_VERSION'));
    // Some catalog files cut at zero length, as a kill during the unpacking leaves them.
    for (const f of readdirSync(join(dir, 'global')).slice(0, 5)) truncateSync(join(dir, 'global', f), 0);
    writeFileSync(join(dir, 'connecteur.lock'), '999999'); // the old lock, inside the folder
    expect(inspectDataFolder(dir)).toEqual({ kind: 'unfinished' });
    // Never a database (no PG_VERSION): made again in place, nothing kept aside.
    expect(await openAndCheck(dir, template)).toEqual({ origin: 'template', note: null, keptAside: null });
    expect(siblings(dir)).toEqual([basename(dir)]);
  });

  it('recognises the folder a full disk left during an old in-place creation (971 of 972 files empty, PG_VERSION too): kept aside, rebuilt', async () => {
    const dir = join(root, 'full-disk-legacy');
    mkdirSync(dir);
    await tar.x({ file: template, cwd: dir });
    const files = listFiles(dir);
    expect(files.length).toBeGreaterThan(900);
    const kept = files.find((f) => f.endsWith(join('pg_wal', '000000010000000000000001')))!;
    for (const f of files) if (f !== kept) truncateSync(f, 0);
    expect(statSync(join(dir, 'PG_VERSION')).size).toBe(0);
    expect(inspectDataFolder(dir)).toEqual({ kind: 'damaged', why: 'PG_VERSION is empty' });
    // Before the fix, such a folder passed for a finished database and could never be opened.
    await expect(PGlite.create(dir, { startParams })).rejects.toBeTruthy();

    const created = await openAndCheck(dir, template);
    expect(created).toMatchObject({ origin: 'template', note: null, keptAside: expect.stringMatching(/full-disk-legacy\.endommagee-\d{8}-\d{6}$/) });
    // What was there is kept whole, next to the new buffer: nothing that might hold data is deleted.
    expect(listFiles(created!.keptAside!).length).toBe(files.length);
    expect(statSync(join(created!.keptAside!, 'pg_wal', '000000010000000000000001')).size).toBe(16 * 1024 * 1024);
    expect(inspectDataFolder(dir)).toEqual({ kind: 'database' });
    // Reopened as it is afterwards.
    expect(await openAndCheck(dir, template)).toBeNull();
  });

  it('a folder with PG_VERSION but without a whole pg_control is kept aside too; a folder of other files is refused untouched', async () => {
    const dir = join(root, 'no-control');
    mkdirSync(dir);
    await tar.x({ file: template, cwd: dir });
    truncateSync(join(dir, 'global', 'pg_control'), 100);
    expect(inspectDataFolder(dir)).toEqual({ kind: 'damaged', why: 'global/pg_control is 100 bytes instead of 8192' });
    expect((await openAndCheck(dir, template))?.keptAside).toMatch(/no-control\.endommagee-/);

    const mine = join(root, 'mes-documents');
    mkdirSync(mine);
    writeFileSync(join(mine, 'devis.xlsx'), 'à moi');
    await expect(openEmbeddedBuffer(mine, { template })).rejects.toMatchObject({
      code: 'BUFFER_ERROR',
      message: expect.stringMatching(/contient déjà d'autres fichiers : le connecteur n'y touche pas/),
    });
    expect(readdirSync(mine)).toEqual(['devis.xlsx']);
    expect(existsSync(embeddedLockFile(mine))).toBe(false);
  });

  it('a full disk during the creation (injected: a write fails mid-way) leaves no folder, a clear message, and the next start creates it', async () => {
    const dir = join(root, 'enospc-injected');
    let fired = 0;
    const failing: CreationFs = {
      ...nodeCreationFs,
      async extract(tarball, into) {
        // Half of the files are written, then the disk is full (what node-tar reports as an entry error).
        let n = 0;
        await tar.x({ cwd: into, file: template, filter: () => n++ < 400 });
        fired++;
        throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: 'ENOSPC' });
      },
    };
    await expect(openEmbeddedBuffer(dir, { template, creationFs: failing })).rejects.toMatchObject({
      code: 'BUFFER_ERROR',
      message: expect.stringMatching(/disque de la base tampon est plein/),
    });
    expect(fired).toBe(1);
    expect(existsSync(dir)).toBe(false);
    expect(siblings(dir)).toEqual([]); // no staging folder, no lock left
    // Space freed: the next start creates a working buffer.
    expect(await openAndCheck(dir, template)).toEqual({ origin: 'template', note: null, keptAside: null });
  });

  it('a template that is damaged falls back to an in-memory initdb (never a half-made folder)', async () => {
    const bad = join(root, 'bad', 'buffer-template.tar.gz');
    mkdirSync(dirname(bad));
    writeFileSync(bad, readFileSync(template).subarray(0, 200_000)); // cut short
    writeFileSync(templateInfoPath(bad), readFileSync(templateInfoPath(template)));
    expect(templateProblem(bad)).toBeNull();
    const created = await openAndCheck(join(root, 'from-bad-template'), bad);
    expect(created).toMatchObject({ origin: 'initdb', note: expect.stringMatching(/^template unusable: /), keptAside: null });
  }, 60_000);

  it.skipIf(!canMountTmpfs())('a real full disk (tmpfs of 24 MB) during the creation: no folder left, French message; with room, the same folder is created', async () => {
    const mnt = mkdtempSync(join(tmpdir(), 'cbs-tmpfs-'));
    expect(spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', mnt]).status).toBe(0);
    try {
      const dir = join(mnt, 'buffer');
      await expect(openEmbeddedBuffer(dir, { template })).rejects.toMatchObject({
        code: 'BUFFER_ERROR',
        message: expect.stringMatching(/disque de la base tampon est plein/),
      });
      // The disk was full indeed (the fault fired), and nothing half-made is left.
      expect(readdirSync(mnt)).toEqual([]);
      expect(spawnSync('mount', ['-o', 'remount,size=200m', mnt]).status).toBe(0);
      expect(await openAndCheck(dir, template)).toEqual({ origin: 'template', note: null, keptAside: null });
    } finally {
      spawnSync('umount', [mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('survives a kill at any moment of the creation: the next start opens a working buffer', async () => {
    const dbModule = fileURLToPath(new URL('../../src/main/services/buffer/db.ts', import.meta.url));
    // The child stops for good at the injected point when asked to (argv[3] = 'pause'): the kill then falls exactly
    // between the verification of the new folder and its rename into place. The other runs are killed after a
    // delay, wherever they are.
    const script = `const { openEmbeddedBuffer } = await import(${JSON.stringify(dbModule)});
      const pause = process.argv[3] === 'pause';
      const db = await openEmbeddedBuffer(process.argv[1], { template: process.argv[2], beforeCreationMark: async () => {
        process.stdout.write('vérifié\\n');
        if (pause) await new Promise(() => undefined);
      } });
      process.stdout.write('ouvert\\n');
      await db.close();`;
    const run = async (dir: string, kill: 'pause' | number): Promise<string> => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir, template, kill === 'pause' ? 'pause' : 'go'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const exited = new Promise<void>((res) => child.on('exit', () => res()));
      await new Promise<void>((res) => {
        child.stdout.on('data', (c: Buffer) => {
          out += c.toString();
          if (kill === 'pause' && out.includes('vérifié')) res();
        });
        if (kill !== 'pause') setTimeout(res, kill);
        child.on('exit', () => res());
      });
      child.kill('SIGKILL');
      await exited;
      return out;
    };

    const paused = join(root, 'killed-at-mark');
    expect(await run(paused, 'pause')).toBe('vérifié\n');
    // Killed with a complete, verified folder aside: nothing in place yet.
    expect(existsSync(paused)).toBe(false);
    expect(siblings(paused).filter((n) => n.includes('.creation-'))).toHaveLength(1);
    expect(await openAndCheck(paused, template)).toEqual({ origin: 'template', note: null, keptAside: null });
    expect(siblings(paused)).toEqual([basename(paused)]); // the dead creation's folder is gone

    for (const [i, delayMs] of [200, 500, 800, 1100, 1500].entries()) {
      const dir = join(root, `killed-${i}`);
      await run(dir, delayMs);
      // Whatever the moment (before, during or after the unpacking, or after the opening), the folder is absent or whole.
      expect(['absent', 'database']).toContain(inspectDataFolder(dir).kind);
      const created = await openAndCheck(dir, template);
      expect(created === null || created.origin === 'template').toBe(true);
      expect(siblings(dir)).toEqual([basename(dir)]);
    }
  }, 60_000);
});

/** Names next to `dir` that belong to it (the folder, its lock, staging and kept-aside folders). */
function siblings(dir: string): string[] {
  const base = basename(dir);
  return readdirSync(dirname(dir))
    .filter((n) => n === base || n.startsWith(`${base}.`))
    .sort();
}

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** Root may mount a tmpfs (CI and this machine); elsewhere the injected full disk above covers the same path. */
function canMountTmpfs(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) {
    console.warn('buffer-template: the real full-disk case needs root (tmpfs); the injected full-disk case still runs');
    return false;
  }
  return true;
}
