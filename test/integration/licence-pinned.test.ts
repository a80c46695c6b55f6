/**
 * Licence in production builds: a packaged app (requireBuiltInKey) accepts no licence unless the vendor's
 * public key is built in, and CONNECTEUR_* variables cannot change the licence server configuration once
 * the key is pinned. Against the real licence manager (real PostgreSQL), like licence-client.test.ts.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LicenceService, MemoryLicenceCacheStore, type FetchLike } from '../../src/main/services/licence/index.js';
import { LICENCE_LOCKED_PATHS, VENDOR_LICENCE_PUBLIC_KEY, VENDOR_LOCKED_SETTING_PATHS } from '../../src/main/services/licence/vendor-config.js';
import type { PinnedLicenceConfig } from '../../src/main/services/licence/licence-service.js';
import { SettingsService, createNodeCipher, createNodeSettingsStore, envNameOf } from '../../src/main/services/settings/index.js';
import { AppError } from '../../src/shared/errors.js';
import { licenceSettingsSchema, type LicenceSettings } from '../../src/shared/settings.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { createTestDatabase, insertLicense, startLicenseManager, type StartedManager, type TestDatabase } from '../support/licence/db.js';

const MISSING_KEY = "Cette version du connecteur ne contient pas la clé de vérification des licences : contactez l'éditeur.";
const KEY = 'PINN-2345-6789-ABCD';

let db: TestDatabase;
let lm: StartedManager;

beforeAll(async () => {
  db = await createTestDatabase();
  lm = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '10000', LM_RATE_KEY_PER_MIN: '10000' });
  await insertLicense(db.pool, { key: KEY, clientName: 'BTP Épinglé', expiresInDays: 200, features: {} });
});
afterAll(async () => {
  await lm?.close();
  await db?.drop();
});

function service(o: { pinned?: PinnedLicenceConfig; requireBuiltInKey?: boolean; settings?: Partial<LicenceSettings> }): { svc: LicenceService; calls: string[] } {
  const settings = licenceSettingsSchema.parse({ provider: 'manager', serverUrl: lm.url, publicKey: lm.publicKeyPem, key: KEY, ...o.settings });
  const calls: string[] = [];
  const fetchSpy: FetchLike = (input, init) => {
    calls.push(String(input));
    return globalThis.fetch(input, init);
  };
  const key = randomBytes(32).toString('hex');
  const svc = new LicenceService({
    settings: () => settings,
    ...(o.pinned ? { pinned: o.pinned } : {}),
    ...(o.requireBuiltInKey !== undefined ? { requireBuiltInKey: o.requireBuiltInKey } : {}),
    fetch: fetchSpy,
    clock: { now: () => new Date() },
    cipher: { available: true, encrypt: (p) => `${key}:${p}`, decrypt: (t) => t.slice(key.length + 1) },
    cache: new MemoryLicenceCacheStore(),
    logger: memoryLogger(),
    machineId: async () => 'poste-pinned-0001',
    appVersion: '0.1.0-test',
    retries: 0,
    sleep: async () => undefined,
  });
  return { svc, calls };
}

describe('packaged app without a built-in vendor key', () => {
  it('refuses every licence, even a valid one with a key of the settings: error state, French message, LICENSE_REQUIRED', async () => {
    const { svc, calls } = service({ requireBuiltInKey: true, pinned: {} });
    const st = await svc.start();
    expect(st).toMatchObject({ state: 'non_configuree', allowsSync: false, message: MISSING_KEY });
    expect(svc.status().message).toBe(MISSING_KEY);
    const err = await svc.assertSyncAllowed().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'LICENSE_REQUIRED' });
    expect((err as AppError).message).toContain(MISSING_KEY);
    expect(calls).toEqual([]); // nothing asked to a server the settings chose
  });

  it('accepts the licence once the vendor key is built in', async () => {
    const { svc } = service({ requireBuiltInKey: true, pinned: { provider: 'manager', publicKey: lm.publicKeyPem }, settings: { publicKey: '' } });
    const st = await svc.start();
    expect(st).toMatchObject({ state: 'valide', allowsSync: true, clientName: 'BTP Épinglé' });
    await expect(svc.assertSyncAllowed()).resolves.toBeUndefined();
  });

  it('development and test hosts keep the key from the settings', async () => {
    const { svc } = service({ pinned: {} });
    expect(await svc.start()).toMatchObject({ state: 'valide', allowsSync: true });
  });

  it('a pinned key cannot be sidestepped by switching the provider in the settings', async () => {
    const { svc } = service({ requireBuiltInKey: true, pinned: { publicKey: lm.publicKeyPem }, settings: { provider: 'supabase', supabaseUrl: 'http://127.0.0.1:1', supabaseAnonKey: 'x' } });
    expect(await svc.start()).toMatchObject({ state: 'valide', provider: 'manager' });
  });
});

describe('CONNECTEUR_LICENCE_* variables with the key pinned', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-licence-pinned-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const env = {
    [envNameOf('licence.publicKey')]: '-----BEGIN PUBLIC KEY-----\nautre\n-----END PUBLIC KEY-----',
    [envNameOf('licence.serverUrl')]: 'https://licences.pirate.example',
    [envNameOf('licence.provider')]: 'supabase',
    [envNameOf('licence.supabaseUrl')]: 'https://pirate.supabase.example',
    [envNameOf('licence.key')]: KEY,
  };
  const open = async (name: string, lockedPaths?: readonly string[]) =>
    new SettingsService({
      store: await createNodeSettingsStore({ cwd: path.join(dir, name) }),
      cipher: createNodeCipher({ keyFile: path.join(dir, name, 'secret.key') }),
      logger: memoryLogger(),
      env,
      ...(lockedPaths ? { lockedPaths } : {}),
    });

  it('cannot change licence.publicKey / serverUrl / provider / supabaseUrl; other licence variables still apply', async () => {
    const s = (await open('locked', LICENCE_LOCKED_PATHS)).get().licence;
    const defaults = licenceSettingsSchema.parse({});
    expect(s).toMatchObject({ publicKey: defaults.publicKey, serverUrl: defaults.serverUrl, provider: defaults.provider, supabaseUrl: defaults.supabaseUrl, key: KEY });
  });

  it('without a pinned key (development builds) the variables apply as before', async () => {
    expect(VENDOR_LICENCE_PUBLIC_KEY === '' ? VENDOR_LOCKED_SETTING_PATHS : LICENCE_LOCKED_PATHS).toEqual(VENDOR_LOCKED_SETTING_PATHS);
    const s = (await open('open')).get().licence;
    if (VENDOR_LICENCE_PUBLIC_KEY === '') expect(s).toMatchObject({ serverUrl: 'https://licences.pirate.example', provider: 'supabase', supabaseUrl: 'https://pirate.supabase.example' });
  });
});
