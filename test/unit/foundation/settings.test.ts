import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { settingsViewSchema } from '../../../src/shared/contract.js';
import { AppError } from '../../../src/shared/errors.js';
import {
  SettingsService,
  createNodeCipher,
  createNodeSettingsStore,
  envNameOf,
  migrate,
} from '../../../src/main/services/settings/index.js';
import { memoryLogger } from '../../support/foundation/memory-logger.js';

const SECRETS = {
  sql: 'Sq1-P@ss-unique-4821',
  bs: 'bs-secret-unique-9931',
  bsPass: 'bs-pass-unique-7702',
  licence: 'ABCD-EFGH-JKLM-NPQR',
};

let dir: string;
const clock = { now: () => new Date('2026-03-01T08:00:00.000Z') };

async function open(env: Record<string, string | undefined> = {}) {
  const store = await createNodeSettingsStore({ cwd: path.join(dir, 'cfg') });
  const cipher = createNodeCipher({ keyFile: path.join(dir, 'keys', 'secret.key') });
  return new SettingsService({ store, cipher, logger: memoryLogger(), clock, env });
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-settings-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('settings service', () => {
  it('never writes a secret in clear to disk, and reads them back decrypted', async () => {
    const s = await open();
    s.update({
      sqlServer: { server: 'SRV\\BATIGEST', password: SECRETS.sql },
      batisimply: { clientSecret: SECRETS.bs, password: SECRETS.bsPass, username: 'compta@pme.fr' },
      licence: { key: SECRETS.licence },
    });
    const bytes = fs.readFileSync(s.filePath);
    const text = bytes.toString('utf8');
    for (const secret of Object.values(SECRETS)) {
      expect(text).not.toContain(secret);
      expect(bytes.includes(Buffer.from(secret, 'utf16le'))).toBe(false);
    }
    expect(text).toContain('SRV\\\\BATIGEST'); // non-secret values stay readable
    expect(text).toContain('$enc');
    if (process.platform !== 'win32') {
      expect(fs.statSync(s.filePath).mode & 0o077).toBe(0);
      expect(fs.statSync(path.join(dir, 'keys', 'secret.key')).mode & 0o077).toBe(0);
    }

    const again = await open();
    expect(again.get().sqlServer.password).toBe(SECRETS.sql);
    expect(again.get().batisimply.clientSecret).toBe(SECRETS.bs);
    expect(again.get().licence.key).toBe(SECRETS.licence);
  });

  it.skipIf(process.platform === 'win32')('makes the settings and key folders private, also when an earlier version left them open', async () => {
    for (const d of ['cfg', 'keys']) fs.mkdirSync(path.join(dir, d), { mode: 0o755 });
    fs.chmodSync(path.join(dir, 'cfg'), 0o755);
    fs.chmodSync(path.join(dir, 'keys'), 0o755);
    fs.writeFileSync(path.join(dir, 'keys', 'secret.key'), Buffer.alloc(32, 7).toString('base64'), { mode: 0o644 });
    fs.chmodSync(path.join(dir, 'keys', 'secret.key'), 0o644);
    const s = await open();
    s.update({ sqlServer: { password: SECRETS.sql } });
    const mode = (p: string) => fs.statSync(p).mode & 0o777;
    expect(mode(path.join(dir, 'cfg'))).toBe(0o700);
    expect(mode(path.join(dir, 'keys'))).toBe(0o700);
    expect(mode(path.join(dir, 'keys', 'secret.key'))).toBe(0o600);
    expect(mode(s.filePath)).toBe(0o600);
  });

  it('masks secrets in what the renderer receives; keep / clear / replace work', async () => {
    const s = await open();
    s.update({ sqlServer: { password: SECRETS.sql }, batisimply: { password: SECRETS.bsPass } });
    const view = s.view();
    expect(settingsViewSchema.safeParse(view).success).toBe(true);
    expect(view.sqlServer.password).toEqual({ set: true });
    expect(view.batisimply.clientSecret).toEqual({ set: false });
    const json = JSON.stringify(view);
    expect(json).not.toContain(SECRETS.sql);
    expect(json).not.toContain(SECRETS.bsPass);

    s.update({ sqlServer: { password: { keep: true }, connectTimeoutMs: 20_000 } });
    expect(s.get().sqlServer.password).toBe(SECRETS.sql);
    // …but not for another server: a saved secret only goes where it was saved for (secret-identity.test.ts)
    expect(() => s.update({ sqlServer: { password: { keep: true }, server: 'autre' } })).toThrow(/saisissez-le de nouveau/);
    s.update({ batisimply: { password: { clear: true } } });
    expect(s.get().batisimply.password).toBe('');
    expect(s.view().batisimply.password).toEqual({ set: false });
    s.update({ sqlServer: { password: 'nouveau' } });
    expect(s.get().sqlServer.password).toBe('nouveau');
    // a patch leaves other fields alone (no reset to defaults)
    expect(s.get().sqlServer.connectTimeoutMs).toBe(20_000);
  });

  it('survives a corrupt settings file: kept aside, defaults loaded, French notice', async () => {
    const first = await open();
    first.update({ sqlServer: { server: 'SRV1' } });
    fs.writeFileSync(first.filePath, '{"sqlServer": {"server": "SRV1", '); // truncated write
    const s = await open();
    expect(s.get().sqlServer.server).toBe('');
    const notices = s.notices();
    expect(notices).toHaveLength(1);
    expect(notices[0]?.code).toBe('SETTINGS_CORRUPT');
    expect(notices[0]?.message).toMatch(/mis de côté/);
    const aside = fs.readdirSync(path.dirname(first.filePath)).filter((f) => f.includes('.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(fs.readFileSync(path.join(path.dirname(first.filePath), aside[0] as string), 'utf8')).toContain('SRV1');
    // and the app keeps working: saving writes a fresh valid file
    s.update({ mode: 'devis' });
    expect((await open()).get().mode).toBe('devis');
  });

  it('a hand-edited file with an invalid section keeps the valid sections', async () => {
    const first = await open();
    first.update({ sqlServer: { server: 'SRV2' }, hours: { windowDays: 30 } });
    const raw = JSON.parse(fs.readFileSync(first.filePath, 'utf8'));
    raw.hours.windowDays = 'trente';
    fs.writeFileSync(first.filePath, JSON.stringify(raw));
    const s = await open();
    expect(s.get().sqlServer.server).toBe('SRV2');
    expect(s.get().hours.windowDays).toBe(180);
    expect(s.notices()[0]).toMatchObject({ code: 'SETTINGS_INVALID' });
    expect(s.notices()[0]?.message).toContain('Import des heures');
  });

  it('a secret typed in clear into the file by hand is accepted and encrypted on load', async () => {
    const first = await open();
    first.update({ sqlServer: { server: 'S' } });
    const raw = JSON.parse(fs.readFileSync(first.filePath, 'utf8'));
    raw.sqlServer.password = SECRETS.sql;
    fs.writeFileSync(first.filePath, JSON.stringify(raw));
    const s = await open();
    expect(s.get().sqlServer.password).toBe(SECRETS.sql);
    expect(fs.readFileSync(s.filePath, 'utf8')).not.toContain(SECRETS.sql);
  });

  it('a secret encrypted with another key (other PC) is dropped with a notice, not a crash', async () => {
    const s = await open();
    s.update({ batisimply: { password: SECRETS.bsPass } });
    fs.rmSync(path.join(dir, 'keys', 'secret.key'));
    const again = await open();
    expect(again.get().batisimply.password).toBe('');
    expect(again.notices().map((n) => n.code)).toContain('SECRET_UNAVAILABLE');
  });

  it('migrates the reference connector credentials.json (v0) to the current version', async () => {
    const cfg = path.join(dir, 'cfg');
    fs.mkdirSync(cfg, { recursive: true });
    fs.writeFileSync(
      path.join(cfg, 'settings.json'),
      JSON.stringify({
        sqlserver: { server: 'PC-COMPTA\\SQLEXPRESS', user: 'sa', password: SECRETS.sql, database: 'BTG_DOSSIER' },
        postgres: { host: '192.168.1.20', user: 'connecteur', password: 'pg-secret-55', database: 'tampon', port: '5433' },
      }),
    );
    const s = await open();
    const got = s.get();
    expect(got.version).toBe(1);
    expect(got.sqlServer).toMatchObject({ server: 'PC-COMPTA\\SQLEXPRESS', user: 'sa', password: SECRETS.sql, database: 'BTG_DOSSIER' });
    expect(got.buffer.kind).toBe('remote');
    expect(got.buffer.remote).toMatchObject({ host: '192.168.1.20', port: 5433, password: 'pg-secret-55', database: 'tampon' });
    // rewritten in the new format, secrets encrypted
    const onDisk = fs.readFileSync(s.filePath, 'utf8');
    expect(JSON.parse(onDisk).version).toBe(1);
    expect(onDisk).not.toContain(SECRETS.sql);
    expect(onDisk).not.toContain('pg-secret-55');
    expect(s.notices().some((n) => /version précédente/.test(n.message))).toBe(true);
  });

  it('migrate() runs the chain in order and refuses a gap', () => {
    const steps = { 0: (r: Record<string, unknown>) => ({ ...r, a: 1 }), 1: (r: Record<string, unknown>) => ({ ...r, b: 2 }) };
    expect(migrate({ version: 0 }, steps, 2)).toEqual({ data: { version: 2, a: 1, b: 2 }, from: 0, applied: [0, 1] });
    expect(() => migrate({ version: 0 }, { 1: steps[1] }, 2)).toThrow();
  });

  it('environment and CONNECTEUR_SETTINGS_FILE impose values in memory without writing them', async () => {
    const file = path.join(dir, 'server.json');
    fs.writeFileSync(file, JSON.stringify({ sqlServer: { server: 'FROMFILE', database: 'DB1' }, mode: 'devis' }));
    expect(envNameOf('sqlServer.password')).toBe('CONNECTEUR_SQL_SERVER_PASSWORD');
    const s = await open({
      CONNECTEUR_SETTINGS_FILE: file,
      CONNECTEUR_SQL_SERVER_PASSWORD: SECRETS.sql,
      CONNECTEUR_HOURS_WINDOW_DAYS: '30',
      CONNECTEUR_SCHEDULE_ENABLED: 'oui',
    });
    const got = s.get();
    expect(got.sqlServer).toMatchObject({ server: 'FROMFILE', database: 'DB1', password: SECRETS.sql });
    expect(got.mode).toBe('devis');
    expect(got.hours.windowDays).toBe(30);
    expect(got.schedule.enabled).toBe(true);
    expect(s.overriddenPaths()).toEqual(expect.arrayContaining(['sqlServer.server', 'sqlServer.password', 'hours.windowDays']));
    expect(s.notices().some((n) => n.level === 'info' && n.message.includes('sqlServer.password'))).toBe(true);
    expect(JSON.stringify(s.notices())).not.toContain(SECRETS.sql);
    s.update({ machineName: 'PC1' });
    const disk = fs.readFileSync(s.filePath, 'utf8');
    expect(disk).not.toContain('FROMFILE');
    expect(disk).not.toContain(SECRETS.sql);
  });
});

describe('imposed settings (CONNECTEUR_* variables, CONNECTEUR_SETTINGS_FILE) are refused when invalid, naming the variable', () => {
  const refused = async (env: Record<string, string>): Promise<AppError> => {
    const e = await open(env).then(
      () => null,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('SETTINGS_INVALID');
    return e as AppError;
  };

  it.each([
    ['CONNECTEUR_BUFFER_REMOTE_PORT', 'abc', /entier entre 1 et 65535/],
    ['CONNECTEUR_SCHEDULE_INTERVAL_SECONDS', '0', /entier entre 60 et 86400/],
    ['CONNECTEUR_SCHEDULE_INTERVAL_SECONDS', '-300', /entier entre 60 et 86400/],
    ['CONNECTEUR_HOURS_WINDOW_DAYS', '100000', /entier entre 1 et 3650/],
    ['CONNECTEUR_HOURS_WINDOW_DAYS', '', /entier entre 1 et 3650/],
    ['CONNECTEUR_HOURS_WINDOW_DAYS', '12.5', /entier/],
    ['CONNECTEUR_SCHEDULE_ENABLED', 'peut-être', /oui ou non/],
    ['CONNECTEUR_MODE', 'tout', /chantier, devis/],
  ])('%s=%j is refused with the variable named, in French; valid variables beside it are not dropped silently', async (name, value, expected) => {
    const e = await refused({ [name]: value, CONNECTEUR_SQL_SERVER_SERVER: 'SRV-OK' });
    expect(e.message).toContain(name);
    expect(e.message).toContain(`« ${value} »`);
    expect(e.message).toMatch(expected);
    expect(e.message).toMatch(/Corrigez|retirez/);
    expect(e.message).not.toContain('SRV-OK');
  });

  it('lists every invalid variable at once, and never repeats a secret value', async () => {
    const e = await refused({
      CONNECTEUR_BUFFER_REMOTE_PORT: 'abc',
      CONNECTEUR_SCHEDULE_INTERVAL_SECONDS: '-300',
      CONNECTEUR_BATISIMPLY_PASSWORD: 'x'.repeat(600),
    });
    expect(e.message).toContain('CONNECTEUR_BUFFER_REMOTE_PORT');
    expect(e.message).toContain('CONNECTEUR_SCHEDULE_INTERVAL_SECONDS');
    expect(e.message).toContain('CONNECTEUR_BATISIMPLY_PASSWORD');
    expect(e.message).not.toContain('xxxxxxxx');
  });

  it('valid variables still apply (booleans: oui/non, true/false, 1/0; numbers with spaces around)', async () => {
    const s = await open({ CONNECTEUR_SCHEDULE_ENABLED: 'non', CONNECTEUR_HOURS_REMOVE_UNVALIDATED: 'Oui', CONNECTEUR_BUFFER_REMOTE_PORT: ' 5433 ', CONNECTEUR_MODE: 'devis' });
    expect(s.get().schedule.enabled).toBe(false);
    expect(s.get().hours.removeUnvalidated).toBe(true);
    expect(s.get().buffer.remote.port).toBe(5433);
    expect(s.get().mode).toBe('devis');
  });

  it('an invalid field in CONNECTEUR_SETTINGS_FILE is refused with the file and the field named', async () => {
    const file = path.join(dir, 'impose.json');
    fs.writeFileSync(file, JSON.stringify({ sqlServer: { server: 'SRV' }, buffer: { kind: 'remote', remote: { host: 'pg', port: 'abc' } } }));
    const e = await refused({ CONNECTEUR_SETTINGS_FILE: file });
    expect(e.message).toContain('impose.json');
    expect(e.message).toContain('buffer.remote.port');
    expect(e.message).toMatch(/entier entre 1 et 65535/);
  });

  it('an unreadable CONNECTEUR_SETTINGS_FILE is refused, not ignored', async () => {
    const file = path.join(dir, 'tronque.json');
    fs.writeFileSync(file, '{"sqlServer": {"server": ');
    const e = await refused({ CONNECTEUR_SETTINGS_FILE: file });
    expect(e.message).toContain('tronque.json');
    const missing = await refused({ CONNECTEUR_SETTINGS_FILE: path.join(dir, 'absent.json') });
    expect(missing.message).toContain('absent.json');
  });
});

describe('legacy credentials.json (reference connector): bad values named, legacy keys converted, unknown keys reported', () => {
  const writeLegacy = (content: Record<string, unknown>) => {
    const cfg = path.join(dir, 'cfg');
    fs.mkdirSync(cfg, { recursive: true });
    fs.writeFileSync(path.join(cfg, 'settings.json'), JSON.stringify(content));
  };

  it('"port": "abc" names the port (Base tampon › Port, postgres.port); the remote buffer and its other fields are kept', async () => {
    writeLegacy({ postgres: { host: '192.168.1.20', user: 'connecteur', password: 'pg-secret-55', database: 'tampon', port: 'abc' } });
    const s = await open();
    expect(s.get().buffer.kind).toBe('remote');
    expect(s.get().buffer.remote).toMatchObject({ host: '192.168.1.20', user: 'connecteur', password: 'pg-secret-55', database: 'tampon', port: 5432 });
    const n = s.notices().find((x) => x.code === 'SETTINGS_INVALID');
    expect(n?.message).toContain('postgres.port');
    expect(n?.message).toContain('Base tampon › Port');
    expect(n?.message).toContain('« abc »');
    expect(n?.message).not.toContain('pg-secret-55');
  });

  it('converts the legacy keys whose meaning is certain, and says which keys were ignored', async () => {
    writeLegacy({
      sqlserver: { server: 'PC\\SQLEXPRESS', user: 'sa', password: SECRETS.sql, database: 'BTG', driver: 'ODBC Driver 17 for SQL Server' },
      postgres: { host: 'pg.local', port: 5433, sslmode: 'require' },
      sso_url: 'https://sso.batisimply.fr/auth/realms/jhipster/protocol/openid-connect/token',
      client_id: 'connecteur-btp',
      schedule_minutes: 10,
      hours_window_days: '90',
      timezone: 'Europe/Brussels',
      theme: 'sombre',
    });
    const s = await open();
    const got = s.get();
    expect(got.sqlServer).toMatchObject({ server: 'PC\\SQLEXPRESS', user: 'sa', database: 'BTG' });
    expect(got.buffer.remote).toMatchObject({ host: 'pg.local', port: 5433, ssl: true });
    // the reference connector's full token URL of production: the production environment (same token URL)
    expect(got.batisimply).toMatchObject({ environment: 'production', ssoUrl: 'https://sso.batisimply.fr', apiUrl: 'https://api.batisimply.fr', realm: 'jhipster', clientId: 'connecteur-btp' });
    expect(got.schedule.intervalSeconds).toBe(600);
    expect(got.hours).toMatchObject({ windowDays: 90, timezone: 'Europe/Brussels' });
    const ignored = s.notices().find((n) => /ignorée/.test(n.message));
    expect(ignored?.level).toBe('warning');
    expect(ignored?.message).toContain('theme');
    expect(ignored?.message).toContain('sqlserver.driver');
    expect(ignored?.message).not.toContain('client_id');
  });

  it('a legacy SSO URL of another server is kept as a custom environment, with the realm it names', async () => {
    writeLegacy({ sqlserver: { server: 'S' }, batisimply: { sso_url: 'https://sso.client.example/auth/realms/btp/protocol/openid-connect/token', client_id: 'c' } });
    const got = (await open()).get().batisimply;
    expect(got).toMatchObject({ environment: 'custom', ssoUrl: 'https://sso.client.example/auth/realms/btp/protocol/openid-connect/token', realm: 'btp', clientId: 'c' });
  });

  it('a legacy file imposed with CONNECTEUR_SETTINGS_FILE with "port": "abc" is refused naming the port', async () => {
    const file = path.join(dir, 'credentials.json');
    fs.writeFileSync(file, JSON.stringify({ postgres: { host: 'pg', port: 'abc', user: 'u', database: 'd' } }));
    const e = await open({ CONNECTEUR_SETTINGS_FILE: file }).then(
      () => null,
      (x: unknown) => x as AppError,
    );
    expect(e?.code).toBe('SETTINGS_INVALID');
    expect(e?.message).toContain('credentials.json');
    expect(e?.message).toContain('postgres.port');
  });

  it('unknown keys of a current-format file are reported too (a typo is not applied silently)', async () => {
    const first = await open();
    first.update({ sqlServer: { server: 'SRV' } });
    const raw = JSON.parse(fs.readFileSync(first.filePath, 'utf8'));
    raw.sqlServer.sever = 'TYPO';
    raw.horaires = {};
    fs.writeFileSync(first.filePath, JSON.stringify(raw));
    const s = await open();
    expect(s.get().sqlServer.server).toBe('SRV');
    const n = s.notices().find((x) => /ignorée/.test(x.message));
    expect(n?.message).toContain('sqlServer.sever');
    expect(n?.message).toContain('horaires');
  });
});
