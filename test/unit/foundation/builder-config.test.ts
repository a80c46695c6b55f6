/** electron-builder.yml against the JSON schema shipped inside electron-builder, plus the product facts. */
import fs from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

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
});
