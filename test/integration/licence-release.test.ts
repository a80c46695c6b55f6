/**
 * The licence policy of what users run, from the app AND from the CLI it ships: one composition root, so
 * one answer. A "fake licence server" (a licence manager with its own key pair, whose public key, URL and
 * a licence key valid there are written into settings.json) must be refused by a release-like build:
 *  - with the vendor key built in: the settings' key is never trusted (the answer does not verify);
 *  - without any vendor key built in: a release refuses every licence (LICENSE_REQUIRED).
 * Development entry points keep trusting the settings' key, so the fake server is accepted there: the test
 * proves the fake server does work when trusted, i.e. the refusals above are the policy's doing.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { generateSigningKeyPair } from '../../src/license-manager/security.js';
import { type App } from '../../src/main/app.js';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import { EXIT, runCli, type CliIo } from '../../src/main/cli.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import { readPackageInfo } from '../../src/main/package-info.js';
import { MISSING_BUILT_IN_KEY_MESSAGE } from '../../src/main/services/licence/licence-service.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { createTestDatabase, insertLicense, startLicenseManager, type StartedManager, type TestDatabase } from '../support/licence/db.js';

const FAKE_KEY = 'FAUX-2345-6789-ABCD';

let db: TestDatabase;
let fake: StartedManager;
let dir: string;
/** The vendor's key built into the release: its private half is on the vendor's server, not the fake one. */
const vendor = generateSigningKeyPair();

beforeAll(async () => {
  db = await createTestDatabase();
  fake = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '10000', LM_RATE_KEY_PER_MIN: '10000' });
  await insertLicense(db.pool, { key: FAKE_KEY, clientName: 'Licence pirate', expiresInDays: 36500, maxMachines: 100 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-licence-release-'));
});
afterAll(async () => {
  await fake?.close();
  await db?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A data folder whose settings.json trusts the fake server (as someone with access to the file would write it). */
async function foreignSettings(name: string): Promise<string> {
  const data = path.join(dir, name);
  const app = await createNodeApp({
    dataDir: data,
    logger: memoryLogger(),
    host: 'headless',
    entry: 'test',
  });
  app.settings.update({
    licence: { provider: 'manager', serverUrl: fake.url, publicKey: fake.publicKeyPem, key: FAKE_KEY },
    // Nothing to sync with (closed ports): a run that passes the licence fails fast on SQL Server.
    sqlServer: { server: '127.0.0.1,1', database: 'BTG', user: 'sa', password: 'x', connectTimeoutMs: 1000, requestTimeoutMs: 1000 },
    batisimply: { environment: 'custom', ssoUrl: 'http://127.0.0.1:1', apiUrl: 'http://127.0.0.1:1', maxRetries: 0 },
  });
  await app.dispose();
  return data;
}

async function appOf(data: string, o: { entry: 'app' | 'bridge'; release: boolean; pinned?: { publicKey: string; serverUrl: string } }): Promise<App> {
  return createNodeApp({
    dataDir: data,
    logger: memoryLogger(),
    host: o.entry === 'app' ? 'electron' : 'bridge',
    entry: o.entry,
    release: o.release,
    ...(o.pinned ? { licencePinned: { provider: 'manager' as const, ...o.pinned } } : {}),
    overrides: { licenceFetch: globalThis.fetch },
    features: defaultFeatures({ sync: { schedule: false, openAtStart: false } }),
  });
}

async function cli(data: string, o: { release: boolean; pinned?: { publicKey: string; serverUrl: string } }): Promise<{ code: number; err: string }> {
  let err = '';
  const io: CliIo = { out: () => undefined, err: (s) => void (err += s), isTTY: false, env: { CONNECTEUR_DATA_DIR: data } };
  const code = await runCli(['sync', '--flow', 'push'], io, { release: o.release, ...(o.pinned ? { licencePinned: { provider: 'manager', ...o.pinned } } : {}) });
  return { code, err };
}

describe('release licence policy: the app and its CLI refuse a licence signed by a key of settings.json', () => {
  it('a development entry point trusts the settings: the fake server does answer with a valid licence', async () => {
    const app = await appOf(await foreignSettings('dev'), { entry: 'bridge', release: false });
    try {
      const r = await app.router.invoke('licence.check', undefined);
      expect(r).toMatchObject({ ok: true, value: { state: 'valid', clientName: 'Licence pirate' } });
    } finally {
      await app.dispose();
    }
  });

  it('with the vendor key built in: the app refuses (the answer does not verify), and so does the CLI (exit 3)', async () => {
    const pinned = { publicKey: vendor.publicKeyPem, serverUrl: fake.url };
    const data = await foreignSettings('pinned');
    const app = await appOf(data, { entry: 'app', release: true, pinned });
    try {
      const st = await app.router.invoke('licence.check', undefined);
      expect(st).toMatchObject({ ok: true, value: { syncAllowed: false } });
      expect(st.ok && (st.value as { state: string }).state).not.toBe('valid');
      const run = await app.router.invoke('sync.run', { flow: 'push' });
      expect(run).toMatchObject({ ok: false, error: { code: expect.stringMatching(/^LICENSE_/) } });
    } finally {
      await app.dispose();
    }
    const r = await cli(data, { release: true, pinned });
    expect(r.code).toBe(EXIT.LICENCE);
    expect(r.err).toMatch(/licence/i);
  });

  it('without a vendor key built in, a release refuses every licence, from the app and from the CLI', async () => {
    const data = await foreignSettings('nokey');
    const app = await appOf(data, { entry: 'app', release: true });
    try {
      const run = await app.router.invoke('sync.run', { flow: 'push' });
      expect(run).toMatchObject({ ok: false, error: { code: 'LICENSE_REQUIRED' } });
      expect(run.ok ? '' : run.error.message).toContain(MISSING_BUILT_IN_KEY_MESSAGE);
    } finally {
      await app.dispose();
    }
    const r = await cli(data, { release: true });
    expect(r.code).toBe(EXIT.LICENCE);
    expect(r.err).toContain(MISSING_BUILT_IN_KEY_MESSAGE);
  });

  it('the CLI from sources is a development build: same settings, the fake licence is accepted (the policy, not the server, refuses above)', async () => {
    const data = await foreignSettings('cli-dev');
    const r = await cli(data, { release: false });
    // The licence passes; the sync then fails on the unreachable SQL Server, not on the licence.
    expect(r.code).toBe(EXIT.FAILED);
    expect(r.err).not.toMatch(/licence/i);
  });

  it('a release is what electron-builder packs: package.json gets connecteurRelease, which the CLI reads', () => {
    const cfg = YAML.parse(fs.readFileSync('electron-builder.yml', 'utf8')) as { extraMetadata?: Record<string, unknown> };
    expect(cfg.extraMetadata?.connecteurRelease).toBe(true);
    const pkg = path.join(dir, 'package.json');
    fs.writeFileSync(pkg, JSON.stringify({ version: '1.2.3', productName: 'X', connecteurRelease: true }));
    expect(readPackageInfo(pkg)).toEqual({ version: '1.2.3', productName: 'X', release: true });
    expect(readPackageInfo().release).toBe(false); // sources
  });
});
