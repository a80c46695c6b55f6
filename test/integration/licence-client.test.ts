/**
 * The licence client against the real licence manager (real PostgreSQL) and, for the Supabase
 * provider, supabase-js against the PostgREST stand-in running the same SQL function as `anon`.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LicenceService, MemoryLicenceCacheStore, toContractLicenceStatus, type FetchLike } from '../../src/main/services/licence/index.js';
import type { Clock, Logger, LogFields, SecretCipher } from '../../src/main/services/ports.js';
import { generateSigningKeyPair, signPayload, loadSigningKeys } from '../../src/license-manager/security.js';
import { licenceStatusSchema as contractStatusSchema } from '../../src/shared/contract.js';
import { AppError } from '../../src/shared/errors.js';
import { licenceStatusSchema } from '../../src/shared/licence.js';
import { licenceSettingsSchema, type LicenceSettings } from '../../src/shared/settings.js';
import { createTestDatabase, insertLicense, startLicenseManager, type StartedManager, type TestDatabase } from '../support/licence/db.js';
import { makeSupabaseJwt, startPostgrestStandIn, type PostgrestStandIn } from '../support/licence/postgrest.js';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const DAY = 86_400_000;

function testCipher(): SecretCipher {
  const key = randomBytes(32);
  return {
    available: true,
    encrypt(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
    },
    decrypt(text) {
      const buf = Buffer.from(text, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

class TestClock implements Clock {
  t = Date.now();
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
}

function captureLogger(lines: string[], bindings: LogFields = {}): Logger {
  const log = (level: string) => (msg: string, fields?: LogFields) => lines.push(JSON.stringify({ level, msg, ...bindings, ...fields }));
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (b) => captureLogger(lines, { ...bindings, ...b }) };
}

let db: TestDatabase;
let lm: StartedManager;
let closedUrl: string;
const logs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  lm = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '10000', LM_RATE_KEY_PER_MIN: '10000' });
  // a port that refuses connections: "offline"
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closedUrl = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  await new Promise<void>((r) => s.close(() => r()));
});
afterAll(async () => {
  await lm?.close();
  await db?.drop();
});

interface Harness {
  svc: LicenceService;
  settings: LicenceSettings;
  clock: TestClock;
  cache: MemoryLicenceCacheStore;
  cipher: SecretCipher;
  fetchCalls: string[];
  sleeps: number[];
}

function harness(over: Partial<LicenceSettings> = {}, shared: Partial<Pick<Harness, 'clock' | 'cache' | 'cipher'>> & { fetch?: FetchLike; machine?: string } = {}): Harness {
  const settings = licenceSettingsSchema.parse({ provider: 'manager', serverUrl: lm.url, publicKey: lm.publicKeyPem, ...over });
  const clock = shared.clock ?? new TestClock();
  const cache = shared.cache ?? new MemoryLicenceCacheStore();
  const cipher = shared.cipher ?? testCipher();
  const fetchCalls: string[] = [];
  const sleeps: number[] = [];
  const base = shared.fetch ?? globalThis.fetch;
  const fetchSpy: FetchLike = (input, init) => {
    fetchCalls.push(String(input));
    return base(input, init);
  };
  const svc = new LicenceService({
    settings: () => settings,
    fetch: fetchSpy,
    clock,
    cipher,
    cache,
    logger: captureLogger(logs),
    machineId: async () => shared.machine ?? 'poste-test-0001',
    appVersion: '0.1.0-test',
    retries: 1,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { svc, settings, clock, cache, cipher, fetchCalls, sleeps };
}

describe('key format', () => {
  it('is refused before any network call', async () => {
    const h = harness({ key: 'ABCD-1234' });
    await expect(h.svc.validate()).rejects.toMatchObject({ code: 'LICENSE_FORMAT' });
    const err = await h.svc.validate().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).message).toMatch(/XXXX-XXXX-XXXX-XXXX/);
    expect(h.fetchCalls).toEqual([]);
    expect(h.svc.status().state).toBe('non_configuree');
    await expect(h.svc.assertSyncAllowed()).rejects.toMatchObject({ code: 'LICENSE_REQUIRED' });
    expect(h.fetchCalls).toEqual([]);
  });

  it('an empty key is "non configurée", and so is a manager without public key', async () => {
    const h = harness({ key: '' });
    expect((await h.svc.validate()).state).toBe('non_configuree');
    const h2 = harness({ key: 'NOPK-2345-6789-ABCD', publicKey: '' });
    const st = await h2.svc.validate();
    expect(st.state).toBe('non_configuree');
    expect(st.message).toMatch(/clé publique/);
    expect(h.fetchCalls.length + h2.fetchCalls.length).toBe(0);
  });
});

describe('states from the real licence manager', () => {
  it('valide, with details and nextCheckAt; sync allowed', async () => {
    await insertLicense(db.pool, { key: 'CLVA-2345-6789-ABCD', clientName: 'BTP Valide', expiresInDays: 200, features: { chantiers: true } });
    const h = harness({ key: 'clva-2345-6789-abcd', revalidateHours: 6 });
    const st = await h.svc.start();
    expect(licenceStatusSchema.parse(st)).toBeTruthy();
    expect(st).toMatchObject({ state: 'valide', allowsSync: true, clientName: 'BTP Valide', keyMasked: 'XXXX-XXXX-XXXX-ABCD', machineId: 'poste-test-0001' });
    expect(st.daysUntilExpiry).toBeGreaterThan(190);
    expect(h.svc.nextCheckAt!.getTime()).toBe(h.clock.t + 6 * 3_600_000);
    await expect(h.svc.assertSyncAllowed()).resolves.toBeUndefined();
    expect(contractStatusSchema.parse(toContractLicenceStatus(st)).state).toBe('valid');
    // not due → no call; due → one call
    const n = h.fetchCalls.length;
    await h.svc.checkIfDue();
    expect(h.fetchCalls.length).toBe(n);
    h.clock.advance(6 * 3_600_000);
    await h.svc.checkIfDue();
    expect(h.fetchCalls.length).toBe(n + 1);
  });

  it('expire_bientot, expiree, desactivee, limite_postes, cle_inconnue', async () => {
    await insertLicense(db.pool, { key: 'CLSO-2345-6789-ABCD', expiresInDays: 10 });
    await insertLicense(db.pool, { key: 'CLEX-2345-6789-ABCD', expiresInDays: -2 });
    await insertLicense(db.pool, { key: 'CLDE-2345-6789-ABCD', active: false });
    await insertLicense(db.pool, { key: 'CLML-2345-6789-ABCD', maxMachines: 1 });
    const soon = await harness({ key: 'CLSO-2345-6789-ABCD' }).svc.validate();
    expect(soon).toMatchObject({ state: 'expire_bientot', allowsSync: true, daysUntilExpiry: 10 });
    expect(soon.message).toMatch(/10 jours/);
    const cases: [string, string][] = [
      ['CLEX-2345-6789-ABCD', 'expiree'],
      ['CLDE-2345-6789-ABCD', 'desactivee'],
      ['ZZZZ-2345-6789-ABCD', 'cle_inconnue'],
    ];
    for (const [key, state] of cases) {
      const h = harness({ key });
      const st = await h.svc.validate();
      expect(st.state, key).toBe(state);
      expect(st.allowsSync).toBe(false);
      const err = await h.svc.assertSyncAllowed().catch((e: unknown) => e as AppError);
      expect(err).toMatchObject({ code: 'LICENSE_REQUIRED' });
      expect((err as AppError).message).toMatch(/Ouvrez la page Licence/);
    }
    expect((await harness({ key: 'CLML-2345-6789-ABCD' }, { machine: 'poste-A' }).svc.validate()).state).toBe('valide');
    const other = await harness({ key: 'CLML-2345-6789-ABCD' }, { machine: 'poste-B' }).svc.validate();
    expect(other).toMatchObject({ state: 'limite_postes', allowsSync: false });
  });

  it('retries a 429 after its Retry-After, then succeeds', async () => {
    await insertLicense(db.pool, { key: 'CLRT-2345-6789-ABCD' });
    let first = true;
    const flaky: FetchLike = async (input, init) => {
      if (first) {
        first = false;
        return new Response('{}', { status: 429, headers: { 'retry-after': '2' } });
      }
      return globalThis.fetch(input, init);
    };
    const h = harness({ key: 'CLRT-2345-6789-ABCD' }, { fetch: flaky });
    expect((await h.svc.validate()).state).toBe('valide');
    expect(h.sleeps).toEqual([2000]);
    expect(h.fetchCalls).toHaveLength(2);
  });

  it('rejects an answer signed with another key (forged server)', async () => {
    const forgerKeys = loadSigningKeys(generateSigningKeyPair().privateKeyPem);
    const forged: FetchLike = async (_input, init) => {
      const body = JSON.parse(String(init?.body)) as { machine_id: string; nonce: string };
      const payload = {
        status: 'valid', client_name: 'Faux', expires_at: new Date(Date.now() + 900 * DAY).toISOString(), features: {}, max_machines: 99,
        issued_at: new Date().toISOString(), valid_until: new Date(Date.now() + 7 * DAY).toISOString(), machine_id: body.machine_id, nonce: body.nonce,
      };
      return Response.json({ payload, signature: signPayload(forgerKeys, payload), alg: 'Ed25519' });
    };
    const h = harness({ key: 'FAKE-2345-6789-ABCD' }, { fetch: forged });
    const st = await h.svc.validate();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: false });
    expect(logs.join('\n')).toMatch(/signature, poste ou nonce invalide/);
  });
});

describe('offline grace period', () => {
  it('keeps working for graceDays after the last success, with a countdown, then refuses', async () => {
    await insertLicense(db.pool, { key: 'CLOF-2345-6789-ABCD', expiresInDays: 300 });
    const h = harness({ key: 'CLOF-2345-6789-ABCD', graceDays: 7 });
    expect((await h.svc.validate()).state).toBe('valide');
    const t0 = h.clock.t;
    h.settings.serverUrl = closedUrl; // the network goes away
    h.clock.advance(2 * DAY);
    let st = await h.svc.validate();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: true, graceDaysLeft: 5 });
    expect(st.message).toMatch(/encore 5 jours/);
    expect(Date.parse(st.graceEndsAt!)).toBeGreaterThan(t0 + 7 * DAY - 60_000);
    await expect(h.svc.assertSyncAllowed()).resolves.toBeUndefined();
    // nextCheckAt sooner while offline
    expect(h.svc.nextCheckAt!.getTime()).toBe(h.clock.t + 3_600_000);

    // a restart of the app, still offline: the encrypted cache carries the grace
    const restarted = harness({ key: 'CLOF-2345-6789-ABCD', graceDays: 7, serverUrl: closedUrl }, { clock: h.clock, cache: h.cache, cipher: h.cipher });
    h.clock.advance(4 * DAY);
    st = await restarted.svc.start();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: true, graceDaysLeft: 1 });

    // grace over (7 days + a minute after the last success)
    h.clock.t = t0 + 7 * DAY + 60_000;
    st = restarted.svc.status();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: false, graceDaysLeft: 0 });
    await expect(restarted.svc.assertSyncAllowed()).rejects.toMatchObject({ code: 'LICENSE_REQUIRED' });

    // the network comes back: valid again
    restarted.settings.serverUrl = lm.url;
    expect((await restarted.svc.validate()).state).toBe('valide');
  });

  it('the expiry date ends a live "valid" answer without waiting for the next check', async () => {
    await insertLicense(db.pool, { key: 'CLXP-2345-6789-ABCD', expiresInDays: 2 });
    const h = harness({ key: 'CLXP-2345-6789-ABCD', revalidateHours: 72 });
    expect((await h.svc.validate())).toMatchObject({ state: 'expire_bientot', allowsSync: true, daysUntilExpiry: 2 });
    h.clock.advance(2 * DAY + 3_600_000);
    expect(h.svc.status()).toMatchObject({ state: 'expiree', allowsSync: false });
  });

  it('a definitive refusal is not undone by going offline', async () => {
    const id = await insertLicense(db.pool, { key: 'CLRV-2345-6789-ABCD' });
    const h = harness({ key: 'CLRV-2345-6789-ABCD' });
    expect((await h.svc.validate()).state).toBe('valide');
    await db.pool.query('update licenses set active = false where id = $1', [id]);
    expect((await h.svc.validate()).state).toBe('desactivee');
    h.settings.serverUrl = closedUrl;
    const st = await h.svc.validate();
    expect(st).toMatchObject({ state: 'desactivee', allowsSync: false });
  });

  it('an unreachable service with no cache refuses sync', async () => {
    const h = harness({ key: 'NONE-2345-6789-ABCD', serverUrl: closedUrl });
    const st = await h.svc.validate();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: false, graceDaysLeft: 0 });
  });
});

describe('tampered cache', () => {
  async function primed(key: string) {
    await insertLicense(db.pool, { key, expiresInDays: 30 });
    const h = harness({ key });
    expect((await h.svc.validate()).allowsSync).toBe(true);
    return h;
  }

  it('a modified payload re-encrypted with the right cipher is rejected (bad signature)', async () => {
    const h = await primed('CLTA-2345-6789-ABCD');
    const rec = JSON.parse(h.cipher.decrypt(h.cache.data!)) as { payload: { expires_at: string } };
    rec.payload.expires_at = '2099-01-01T00:00:00.000Z';
    h.cache.data = h.cipher.encrypt(JSON.stringify(rec));
    const offline = harness({ key: 'CLTA-2345-6789-ABCD', serverUrl: closedUrl }, { cache: h.cache, cipher: h.cipher, clock: h.clock });
    const st = await offline.svc.start();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: false, cacheRejected: true });
    expect(st.message).toMatch(/modifiées ou sont illisibles/);
    expect(toContractLicenceStatus(st).state).toBe('tampered');
    expect(h.cache.data).toBeNull();
    expect(logs.join('\n')).toMatch(/cache de licence rejeté/);
  });

  it('a cache that does not decrypt is rejected', async () => {
    const h = await primed('CLTB-2345-6789-ABCD');
    const buf = Buffer.from(h.cache.data!, 'base64');
    buf[buf.length - 1] = buf[buf.length - 1]! ^ 0xff;
    h.cache.data = buf.toString('base64');
    const offline = harness({ key: 'CLTB-2345-6789-ABCD', serverUrl: closedUrl }, { cache: h.cache, cipher: h.cipher, clock: h.clock });
    expect((await offline.svc.start()).allowsSync).toBe(false);
  });

  it('a cache copied to another PC is not used', async () => {
    const h = await primed('CLTC-2345-6789-ABCD');
    const other = harness({ key: 'CLTC-2345-6789-ABCD', serverUrl: closedUrl }, { cache: h.cache, cipher: h.cipher, clock: h.clock, machine: 'autre-poste' });
    expect((await other.svc.start()).allowsSync).toBe(false);
  });
});

describe('Supabase provider (supabase-js → PostgREST stand-in → same SQL function as anon)', () => {
  const jwtSecret = 'super-secret-jwt-token-with-at-least-32-characters-long';
  let rest: PostgrestStandIn;
  const anonKey = makeSupabaseJwt(jwtSecret, 'anon');
  beforeAll(async () => {
    rest = await startPostgrestStandIn({ pool: db.pool, jwtSecret });
  });
  afterAll(async () => rest?.close());

  const sb = (key: string, over: Partial<LicenceSettings> = {}) =>
    licenceSettingsSchema.parse({ key, provider: 'supabase', supabaseUrl: rest.url, supabaseAnonKey: anonKey, ...over });

  it('validates through rpc("validate_license") with the anon role', async () => {
    await insertLicense(db.pool, { key: 'SUPA-2345-6789-ABCD', clientName: 'Client Supabase', expiresInDays: 100 });
    const h = harness(sb('SUPA-2345-6789-ABCD'));
    const st = await h.svc.validate();
    expect(st).toMatchObject({ state: 'valide', clientName: 'Client Supabase', allowsSync: true, provider: 'supabase' });
    expect(rest.calls.at(-1)).toEqual({ path: '/rest/v1/rpc/validate_license', role: 'anon', status: 200 });
    expect(h.fetchCalls.at(-1)).toBe(`${rest.url}/rest/v1/rpc/validate_license`);
    const m = await db.pool.query("select machine_id from license_machines m join licenses l on l.id = m.license_id where l.key = 'SUPA-2345-6789-ABCD'");
    expect(m.rows).toEqual([{ machine_id: 'poste-test-0001' }]);
  });

  it('the anon key cannot read the table through the same endpoint', async () => {
    // a function that tries to read the table with the caller's rights
    await db.pool.query('create or replace function peek_licenses() returns bigint language sql security invoker as $$ select count(*) from licenses $$');
    await db.pool.query('grant execute on function peek_licenses() to anon');
    const res = await fetch(`${rest.url}/rest/v1/rpc/peek_licenses`, { method: 'POST', headers: { apikey: anonKey, authorization: `Bearer ${anonKey}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as { message: string }).message).toMatch(/permission denied/);
  });

  it('unknown key, wrong anon key, and offline grace with the HMAC-sealed cache', async () => {
    expect((await harness(sb('ZZZZ-2345-6789-ABCD')).svc.validate()).state).toBe('cle_inconnue');
    const forgedAnon = makeSupabaseJwt('another-secret-another-secret-another-secret', 'anon');
    const bad = await harness(sb('SUPA-2345-6789-ABCD', { supabaseAnonKey: forgedAnon })).svc.validate();
    expect(bad).toMatchObject({ state: 'hors_ligne', allowsSync: false });
    expect(rest.calls.at(-1)?.status).toBe(401);

    const h = harness(sb('SUPA-2345-6789-ABCD', { graceDays: 3 }));
    expect((await h.svc.validate()).state).toBe('valide');
    h.settings.supabaseUrl = closedUrl;
    h.clock.advance(DAY);
    expect(await h.svc.validate()).toMatchObject({ state: 'hors_ligne', allowsSync: true, graceDaysLeft: 2 });

    // the HMAC-sealed entry is not accepted by the manager provider (no downgrade)
    const asManager = harness({ key: 'SUPA-2345-6789-ABCD', serverUrl: closedUrl }, { cache: h.cache, cipher: h.cipher, clock: h.clock });
    expect((await asManager.svc.start()).allowsSync).toBe(false);
  });
});

describe('logs', () => {
  it('never contain a licence key or the anon key', () => {
    const all = logs.join('\n');
    expect(all.length).toBeGreaterThan(0);
    expect(all).not.toMatch(/[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-(?!ABCD\b)[A-Z0-9]{4}/); // only masked forms
    for (const k of ['CLVA-2345-6789-ABCD', 'CLOF-2345-6789-ABCD', 'SUPA-2345-6789-ABCD', 'clva-2345-6789-abcd']) expect(all).not.toContain(k);
    expect(all).not.toMatch(/eyJ[A-Za-z0-9_-]{10,}/); // no JWT (anon key)
    expect(all).toContain('XXXX-XXXX-XXXX-ABCD');
  });
});
