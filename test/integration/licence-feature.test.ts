/**
 * The licence feature inside the real composition root (createApp + Node settings store + Node
 * cipher): IPC channels licence.setKey / status / check, the 'licence:status' event, the sync guard,
 * and the pinned (built-in) public key that settings cannot replace.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/app.js';
import { generateSigningKeyPair } from '../../src/license-manager/security.js';
import { licenceFeature } from '../../src/main/features/licence.js';
import { createNodeCipher } from '../../src/main/services/settings/node-cipher.js';
import { createNodeSettingsStore } from '../../src/main/services/settings/store.js';
import type { LicenceStatus } from '../../src/shared/contract.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { createTestDatabase, insertLicense, startLicenseManager, type StartedManager, type TestDatabase } from '../support/licence/db.js';

let db: TestDatabase;
let lm: StartedManager;
let dir: string;
const apps: App[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  lm = await startLicenseManager(db);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-licence-feature-'));
  await insertLicense(db.pool, { key: 'FEAT-2345-6789-ABCD', clientName: 'Client Feature', maxMachines: 10 });
});
afterAll(async () => {
  for (const a of apps) await a.dispose();
  await lm?.close();
  await db?.drop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function makeApp(name: string, pinnedPublicKey?: string) {
  const data = path.join(dir, name);
  const cipher = createNodeCipher({ keyFile: path.join(data, 'secret.key') });
  const app = await createApp({
    settingsStore: await createNodeSettingsStore({ cwd: data }),
    cipher,
    logger: memoryLogger(),
    userDataDir: data,
    host: 'bridge',
    version: '0.1.0',
    overrides: { licenceFetch: globalThis.fetch },
    ...(pinnedPublicKey ? { licencePinned: { publicKey: pinnedPublicKey } } : {}),
    features: [licenceFeature()],
  });
  apps.push(app);
  const events: LicenceStatus[] = [];
  app.onEvent((e, p) => {
    if (e === 'licence:status') events.push(p as LicenceStatus);
  });
  // What the sync asks before each run.
  const lic = { guard: app.services.licenceGuard() };
  return { app, lic, events, data };
}

describe('licence feature', () => {
  it('setKey validates against the licence manager, stores the key encrypted and the cache encrypted', async () => {
    const { app, lic, events, data } = await makeApp('a');
    await expect(lic.guard.assertSyncAllowed()).rejects.toMatchObject({ code: 'LICENSE_REQUIRED' });
    app.settings.update({ licence: { serverUrl: lm.url, publicKey: lm.publicKeyPem } });
    const r = await app.router.invoke('licence.setKey', { key: 'feat-2345-6789-abcd' });
    expect(r).toMatchObject({ ok: true, value: { state: 'valid', clientName: 'Client Feature', syncAllowed: true, keyHint: 'XXXX-XXXX-XXXX-ABCD' } });
    await expect(lic.guard.assertSyncAllowed()).resolves.toBeUndefined();
    expect(events.at(-1)?.state).toBe('valid');
    const st = await app.router.invoke('licence.status', {});
    expect(st).toMatchObject({ ok: true, value: { state: 'valid' } });
    // nothing in clear on disk
    const blobs = fs.readdirSync(data, { recursive: true, withFileTypes: true }).filter((f) => f.isFile()).map((f) => fs.readFileSync(path.join(f.parentPath, f.name), 'utf8'));
    expect(fs.existsSync(path.join(data, 'licence-cache.enc'))).toBe(true);
    for (const b of blobs) {
      expect(b).not.toContain('FEAT-2345-6789-ABCD');
      expect(b).not.toContain('Client Feature');
    }
  });

  it('after a restart without network, the encrypted file cache gives the grace period', async () => {
    // same data folder as the first test: same settings, same machine id, same cache file
    const again = await makeApp('a');
    // Another server: the saved key is only sent to the one it was saved for, so it is typed again.
    again.app.settings.update({ licence: { serverUrl: 'http://127.0.0.1:9', key: 'FEAT-2345-6789-ABCD' } });
    const r = await again.app.router.invoke('licence.check', {});
    expect(r).toMatchObject({ ok: true, value: { state: 'offline_grace', syncAllowed: true, graceDaysLeft: 6, clientName: 'Client Feature' } });
    await expect(again.lic.guard.assertSyncAllowed()).resolves.toBeUndefined();
  });

  it('a wrong key format is refused by the channel', async () => {
    const { app } = await makeApp('b');
    const r = await app.router.invoke('licence.setKey', { key: 'ABCD-1234' });
    expect(r.ok).toBe(false);
  });

  it('settings cannot replace a pinned public key (no trusting a key of your own)', async () => {
    const attacker = generateSigningKeyPair();
    // pinned to the vendor key, settings carry an attacker key: answers of the real server still verify
    const good = await makeApp('c', lm.publicKeyPem);
    good.app.settings.update({ licence: { serverUrl: lm.url, publicKey: attacker.publicKeyPem } });
    expect((await good.app.router.invoke('licence.setKey', { key: 'FEAT-2345-6789-ABCD' }))).toMatchObject({ ok: true, value: { state: 'valid' } });
    // pinned to another key: the real server's answers are rejected whatever the settings say
    const other = await makeApp('d', attacker.publicKeyPem);
    other.app.settings.update({ licence: { serverUrl: lm.url, publicKey: lm.publicKeyPem } });
    const r = await other.app.router.invoke('licence.setKey', { key: 'FEAT-2345-6789-ABCD' });
    expect(r).toMatchObject({ ok: true, value: { state: 'offline_expired', syncAllowed: false } });
    await expect(other.lic.guard.assertSyncAllowed()).rejects.toMatchObject({ code: 'LICENSE_REQUIRED' });
  });
});
