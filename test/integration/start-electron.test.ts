/**
 * `npm start` (scripts/start.mjs) where Electron's binary was not downloaded by `npm ci` (package.json ›
 * allowScripts denies its install script): it runs Electron's own installer, then builds and opens the app; when
 * the download fails, one French sentence and exit 1.
 *
 * Each case runs the real script in a child process on a throw-away project (under .tmp/ of this repository, so
 * that the copied electron package finds @electron/get and extract-zip in node_modules) holding a copy of the
 * installed electron package. "With access" is a download from a mirror on the loopback (ELECTRON_MIRROR) serving
 * a small Electron stand-in; "without access" is a mirror that refuses connections.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { electronMissingSentence, installFailureReason } from '../../scripts/start.mjs';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const installed = JSON.parse(readFileSync(join(ROOT, 'node_modules/electron/package.json'), 'utf8')) as { version: string };
const zipName = `electron-v${installed.version}-linux-x64.zip`;

/** A zip archive of stored (uncompressed) files, enough for extract-zip. */
function zip(files: { name: string; data: Buffer; mode: number }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix: the mode below is read
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(((0o100000 | f.mode) << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, f.data);
    centrals.push(central, name);
    offset += local.length + name.length + f.data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** The Electron stand-in: records how it was launched. */
const standIn = zip([
  { name: 'electron', data: Buffer.from('#!/bin/sh\nprintf "%s|%s" "$PWD" "$*" > launched.txt\n'), mode: 0o755 },
  { name: 'version', data: Buffer.from(`v${installed.version}`), mode: 0o644 },
]);

let mirror: http.Server;
let mirrorUrl = '';
const requests: string[] = [];
const work = join(ROOT, '.tmp');
let cacheDir = '';

beforeAll(async () => {
  mirror = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === `/v${installed.version}/${zipName}`) {
      res.writeHead(200, { 'content-type': 'application/zip', 'content-length': standIn.length });
      res.end(standIn);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => mirror.listen(0, '127.0.0.1', r));
  mirrorUrl = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}/`;
  mkdirSync(work, { recursive: true });
  cacheDir = mkdtempSync(join(work, 'electron-cache-'));
});
afterAll(async () => {
  await new Promise<void>((r) => mirror.close(() => r()));
  rmSync(cacheDir, { recursive: true, force: true });
});

/** A project with a copy of the installed electron package (no binary) whose checksums know the stand-in. */
function project(): string {
  const dir = mkdtempSync(join(work, 'start-'));
  const electron = join(dir, 'node_modules', 'electron');
  cpSync(join(ROOT, 'node_modules', 'electron'), electron, { recursive: true, filter: (src) => !/[/\\](dist|path\.txt)$/.test(src) });
  writeFileSync(join(electron, 'checksums.json'), JSON.stringify({ [zipName]: createHash('sha256').update(standIn).digest('hex') }));
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'start-test', private: true, scripts: { build: 'node -e "require(\'fs\').writeFileSync(\'built.txt\', \'ok\')"' } }));
  return dir;
}

function start(cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts', 'start.mjs')], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

const baseEnv = (): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, electron_config_cache: cacheDir, ELECTRON_SKIP_BINARY_DOWNLOAD: '1' };
  delete env.ELECTRON_OVERRIDE_DIST_PATH;
  return env;
};

describe('npm start without the Electron binary', () => {
  it('package.json: npm ci skips Electron\'s download, npm start goes through scripts/start.mjs', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string>; allowScripts: Record<string, boolean> };
    expect(pkg.allowScripts.electron).toBe(false);
    expect(pkg.scripts.start).toBe('node scripts/start.mjs');
  });

  it.skipIf(process.platform !== 'linux')('with access to the download: fetches Electron with its own installer, builds, then opens the app', async () => {
    const dir = project();
    try {
      const r = await start(dir, { ...baseEnv(), ELECTRON_MIRROR: mirrorUrl });
      expect(r.code, r.err).toBe(0);
      expect(r.out).toContain('Téléchargement d’Electron');
      // Electron's installer did the download (from the mirror) and wrote path.txt; the build ran; the binary was launched on the app.
      expect(requests).toContain(`/v${installed.version}/${zipName}`);
      expect(readFileSync(join(dir, 'node_modules', 'electron', 'path.txt'), 'utf8')).toBe('electron');
      expect(readFileSync(join(dir, 'built.txt'), 'utf8')).toBe('ok');
      expect(readFileSync(join(dir, 'launched.txt'), 'utf8')).toBe(`${dir}|.`);

      // Second start: the binary is there, nothing is downloaded again.
      const before = requests.length;
      rmSync(join(dir, 'launched.txt'));
      const again = await start(dir, { ...baseEnv(), ELECTRON_MIRROR: 'http://127.0.0.1:1/' });
      expect(again.code, again.err).toBe(0);
      expect(again.out).not.toContain('Téléchargement');
      expect(requests.length).toBe(before);
      expect(existsSync(join(dir, 'launched.txt'))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('without access: one French sentence saying why and how to get it, exit 1, no stack trace, nothing built', async () => {
    const dir = project();
    try {
      const r = await start(dir, { ...baseEnv(), ELECTRON_MIRROR: 'http://127.0.0.1:1/' });
      expect(r.code).toBe(1);
      const lines = r.err.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toBe(electronMissingSentence('le téléchargement a échoué (ECONNREFUSED)'));
      expect(r.err).not.toMatch(/\bat\s+\S+\s+\(|RequestError|Error:/);
      expect(existsSync(join(dir, 'built.txt'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the cause found in the installer output', () => {
    const offline = 'RequestError: getaddrinfo ENOTFOUND github.com\n    at ClientRequest.<anonymous> (/x/got/index.js:970:111)';
    expect(installFailureReason(offline)).toBe("l'adresse github.com est introuvable depuis ce poste (pas d'accès à Internet ?)");
    expect(installFailureReason('HTTPError: Response code 404 (Not Found)')).toBe('le serveur de téléchargement a répondu 404');
    expect(installFailureReason('Error: Generated checksum for "x.zip" did not match expected checksum.')).toBe('le fichier téléchargé ne correspond pas à sa somme de contrôle');
    expect(installFailureReason('Error: EACCES: permission denied, mkdir\n    at x')).toBe("le programme d'installation a échoué (Error: EACCES: permission denied, mkdir)");
    const sentence = electronMissingSentence(installFailureReason(offline));
    expect(sentence).not.toContain('\n');
    expect(sentence).toMatch(/^Electron n'est pas installé et n'a pas pu être téléchargé : .+ ; relancez « npm start » .+\.$/);
  });
});
