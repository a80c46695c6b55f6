/** electron-builder.yml against the JSON schema shipped inside electron-builder, plus the product facts. */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { STATE_KINDS } from '../../../src/shared/connector-state.js';

const schema = JSON.parse(fs.readFileSync('node_modules/app-builder-lib/scheme.json', 'utf8')) as Record<string, unknown>;
const config = parse(fs.readFileSync('electron-builder.yml', 'utf8')) as Record<string, unknown> & {
  win: { target: { target: string; arch: string[] }[]; icon: string };
  nsis: Record<string, unknown>;
};

function validator() {
  const ajv = new Ajv({ allErrors: true, strict: false, allowUnionTypes: true });
  return ajv.compile(schema);
}

describe('electron-builder.yml', () => {
  it('passes the schema of electron-builder', () => {
    const validate = validator();
    const ok = validate(config);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('the schema check does reject a wrong option', () => {
    const validate = validator();
    expect(validate({ ...config, nsis: { ...config.nsis, perMachin: true } })).toBe(false);
    expect(validate({ ...config, nsis: { ...config.nsis, oneClick: 'non' } })).toBe(false);
  });

  it('builds a French NSIS installer for Windows x64, per-user by default with per-machine allowed', () => {
    expect(config.appId).toBe('fr.groupe-sages.connecteur-batisimply');
    expect(config.productName).toMatch(/Connecteur/);
    expect(config.win.target).toEqual([{ target: 'nsis', arch: ['x64'] }]);
    expect(config.nsis).toMatchObject({
      oneClick: false,
      perMachine: false,
      allowElevation: true,
      allowToChangeInstallationDirectory: true,
      language: '1036',
      installerLanguages: ['fr_FR'],
    });
    expect(config.nsis.createDesktopShortcut).toBeTruthy();
    expect(config.nsis.createStartMenuShortcut).toBe(true);
  });

  it('icons exist and are real images (PNG ≥ 256 px, ICO with a 256 px entry)', () => {
    const png = fs.readFileSync('build/icon.png');
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.readUInt32BE(16)).toBeGreaterThanOrEqual(256);
    const ico = fs.readFileSync(config.win.icon);
    expect(ico.readUInt16LE(0)).toBe(0);
    expect(ico.readUInt16LE(2)).toBe(1);
    const count = ico.readUInt16LE(4);
    const sizes = Array.from({ length: count }, (_, i) => ico[6 + i * 16] || 256);
    expect(sizes).toContain(256);
    expect(sizes).toContain(16);
    for (let i = 0; i < count; i++) {
      const off = ico.readUInt32LE(6 + i * 16 + 12);
      const len = ico.readUInt32LE(6 + i * 16 + 8);
      expect(off + len).toBeLessThanOrEqual(ico.length);
      expect(ico.subarray(off, off + 4)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    }
  });

  it('packages no sources, tests, env files, nor the web bridge', () => {
    const files = config.files as string[];
    expect(files.some((f) => f.startsWith('src') || f.startsWith('test') || f.includes('.env'))).toBe(false);
    expect(files).toContain('!dist/main/web-bridge.*');
    expect(files).toContain('!dist/main/bridge-main.*');
  });

  it('publishes to a generic update feed (electron-updater reads its latest.yml)', () => {
    const publish = config.publish as { provider: string; url: string }[];
    expect(publish).toEqual([expect.objectContaining({ provider: 'generic', url: expect.stringMatching(/^https:\/\//) })]);
  });

  it('one tray icon per state of the connector: PNG (16 and 32 px) and ICO, all different, all packaged', () => {
    const files = config.files as string[];
    expect(files).toEqual(expect.arrayContaining(['build/tray/*.png', 'build/tray/*.ico']));
    const digests = new Set<string>();
    for (const state of STATE_KINDS) {
      const png = fs.readFileSync(`build/tray/${state}.png`);
      expect(png.subarray(1, 4).toString()).toBe('PNG');
      expect(png.readUInt32BE(16)).toBe(16);
      expect(fs.readFileSync(`build/tray/${state}@2x.png`).readUInt32BE(16)).toBe(32);
      const ico = fs.readFileSync(`build/tray/${state}.ico`);
      expect(ico.readUInt16LE(2)).toBe(1);
      digests.add(createHash('sha256').update(png).digest('hex'));
    }
    expect(digests.size).toBe(STATE_KINDS.length);
  });

  it('the icons in build/ are the ones scripts/make-icons.ts draws (none edited by hand, none missing)', () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-icons-'));
    try {
      execFileSync(process.execPath, ['--import', 'tsx', 'scripts/make-icons.ts', out], { stdio: 'pipe' });
      const drawn = ['icon.png', 'icon.ico', ...fs.readdirSync(path.join(out, 'tray')).map((f) => `tray/${f}`)];
      expect(drawn.length).toBe(2 + STATE_KINDS.length * 3);
      for (const f of drawn) expect(fs.readFileSync(path.join(out, f)).equals(fs.readFileSync(path.join('build', f))), f).toBe(true);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  it('flips the Electron fuses so the packaged binary cannot be used as a plain Node or be inspected or fed another app', () => {
    expect(config.electronFuses).toEqual({
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      grantFileProtocolExtraPrivileges: false,
    });
    // onlyLoadAppFromAsar and the integrity check need the app in an asar archive with its integrity computed.
    expect(config.asar).toBe(true);
    expect(config.disableAsarIntegrity).toBeUndefined();
    // Every fuse named here is one electron-builder knows (a typo would be refused by the schema).
    const fuses = Object.keys((schema.definitions as Record<string, { properties: Record<string, unknown> } | undefined>).FuseOptionsV1?.properties ?? {});
    expect(fuses.length).toBeGreaterThan(5);
    for (const k of Object.keys(config.electronFuses as object)) expect(fuses).toContain(k);
    const validate = validator();
    expect(validate({ ...config, electronFuses: { ...(config.electronFuses as object), runAsNod: false } })).toBe(false);
  });

  it('the main process does not need what the fuses turn off (no fork / ELECTRON_RUN_AS_NODE, no file:// pages)', () => {
    const sources = fs.readdirSync('src/main', { recursive: true, encoding: 'utf8' }).filter((f) => /\.(c|m)?ts$/.test(f));
    expect(sources.length).toBeGreaterThan(10);
    for (const f of sources) {
      const text = fs.readFileSync(`src/main/${f}`, 'utf8');
      expect([f, /ELECTRON_RUN_AS_NODE|\bfork\s*\(|utilityProcess/.test(text)]).toEqual([f, false]);
      expect([f, /loadFile\(|['"`]file:\/\//.test(text)]).toEqual([f, false]);
    }
  });

  it('needs no Electron binary on the build machine: the version comes from the installed package, the binary is downloaded for Windows', async () => {
    // npm ci does not download Electron's binary (package.json › allowScripts); electron-builder takes the version
    // from node_modules/electron/package.json and fetches the Windows build itself (no electronDist here).
    const require = createRequire(import.meta.url);
    const { getElectronVersion } = require('app-builder-lib/out/electron/electronVersion.js') as { getElectronVersion(dir: string, config: object): Promise<string> };
    const installed = (JSON.parse(fs.readFileSync('node_modules/electron/package.json', 'utf8')) as { version: string }).version;
    expect(await getElectronVersion(process.cwd(), config)).toBe(installed);
    expect(config).not.toHaveProperty('electronDist');
    const pkg = JSON.parse(fs.readFileSync('package.json', 'utf8')) as { allowScripts: Record<string, boolean> };
    // electron-winstaller (Squirrel.Windows) is not used by the NSIS target: its install script is not needed either.
    expect(pkg.allowScripts).toMatchObject({ electron: false, 'electron-winstaller': false });
  });
});
