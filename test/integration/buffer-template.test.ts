/**
 * Creation of the embedded buffer's folder (src/main/services/buffer/template.ts): from the template made by
 * `npm run build` when it matches this PGlite, by an in-memory initdb otherwise; and safe against a kill at
 * any moment of the creation (the next start finishes it).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EMBEDDED_SERVER_PARAMS, openEmbeddedBuffer } from '../../src/main/services/buffer/db.js';
import { BUNDLED_BUFFER_TEMPLATE, installedPgliteVersion, templateInfoPath, templateProblem, writeBufferTemplate } from '../../src/main/services/buffer/template.js';

let root = '';
let template = '';
const startParams = [...PGlite.defaultStartParams, ...EMBEDDED_SERVER_PARAMS];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'cbs-buffer-template-'));
  template = join(root, 'buffer-template.tar.gz');
  await writeBufferTemplate(template, startParams);
}, 60_000);
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Created = { origin: 'template' | 'initdb'; note: string | null };

async function openAndCheck(dir: string, tpl: string | null): Promise<Created | null> {
  let created: Created | null = null;
  const db = await openEmbeddedBuffer(dir, { template: tpl, onCreated: (c) => (created = c) });
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
    expect(await openAndCheck(dir, template)).toEqual({ origin: 'template', note: null });
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
    expect(await openAndCheck(join(root, 'old-template'), other)).toEqual({ origin: 'initdb', note });

    writeFileSync(templateInfoPath(other), '{ pas du json');
    expect(await openAndCheck(join(root, 'bad-info'), other)).toMatchObject({ origin: 'initdb', note: expect.stringMatching(/unreadable/) });
  }, 60_000);

  it('finishes a creation cut short: files half written, PG_VERSION not yet there', async () => {
    const dir = join(root, 'half');
    mkdirSync(dir);
    await tar.x({ file: template, cwd: dir });
    rmSync(join(dir, 'PG_VERSION'));
    // Some catalog files cut at zero length, as a kill during the unpacking leaves them.
    for (const f of readdirSync(join(dir, 'global')).slice(0, 5)) truncateSync(join(dir, 'global', f), 0);
    expect(await openAndCheck(dir, template)).toEqual({ origin: 'template', note: null });
  });

  it('survives a kill at any moment of the creation: the next start opens a working buffer', async () => {
    const dbModule = fileURLToPath(new URL('../../src/main/services/buffer/db.ts', import.meta.url));
    // The child stops for good at the injected point when asked to (argv[3] = 'pause'): the kill then falls exactly
    // between the unpacking and the PG_VERSION mark. The other runs are killed after a delay, wherever they are.
    const script = `const { openEmbeddedBuffer } = await import(${JSON.stringify(dbModule)});
      const pause = process.argv[3] === 'pause';
      const db = await openEmbeddedBuffer(process.argv[1], { template: process.argv[2], beforeCreationMark: async () => {
        process.stdout.write('déballé\\n');
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
          if (kill === 'pause' && out.includes('déballé')) res();
        });
        if (kill !== 'pause') setTimeout(res, kill);
        child.on('exit', () => res());
      });
      child.kill('SIGKILL');
      await exited;
      return out;
    };

    const paused = join(root, 'killed-at-mark');
    expect(await run(paused, 'pause')).toBe('déballé\n');
    expect(existsSync(join(paused, 'global'))).toBe(true);
    expect(existsSync(join(paused, 'PG_VERSION'))).toBe(false);
    expect(await openAndCheck(paused, template)).toEqual({ origin: 'template', note: null });

    for (const [i, delayMs] of [200, 500, 800, 1100, 1500].entries()) {
      const dir = join(root, `killed-${i}`);
      await run(dir, delayMs);
      // Whatever the moment (before, during or after the unpacking, or after the opening), the next start works.
      const created = await openAndCheck(dir, template);
      expect(created === null || created.origin === 'template').toBe(true);
    }
  }, 60_000);
});
