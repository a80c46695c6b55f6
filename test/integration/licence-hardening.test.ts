/**
 * Hardening of the licence client (issue 16), against the real licence manager and PostgreSQL:
 *  - item 6: a clock set back does not stretch the offline grace (sealed high-water mark of the time
 *    seen, kept in the encrypted cache across restarts);
 *  - item 7: the Supabase path requires https (loopback excepted, for tests);
 *  - item 8: the machine id comes from the operating system (a copied data folder does not carry it),
 *    and an existing installation's seat moves to the new id instead of taking a second one.
 */
import { mkdtemp, cp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LicenceService, MemoryLicenceCacheStore, fileMachineId, type FetchLike } from '../../src/main/services/licence/index.js';
import { legacyMachineId, readOsMachineId, type MachineIdSources, type MachineIdentity } from '../../src/main/services/licence/machine-id.js';
import type { Clock, SecretCipher } from '../../src/main/services/ports.js';
import { licenceSettingsSchema, type LicenceSettings } from '../../src/shared/settings.js';
import { captureLogger, DAY, TestClock, testCipher } from '../support/licence/client-harness.js';
import { createTestDatabase, insertLicense, startLicenseManager, type StartedManager, type TestDatabase } from '../support/licence/db.js';
import { makeSupabaseJwt, startPostgrestStandIn } from '../support/licence/postgrest.js';

let db: TestDatabase;
let lm: StartedManager;
let closedUrl: string;
let closedPort: number;
const logs: string[] = [];
const dirs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  lm = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '10000', LM_RATE_KEY_PER_MIN: '10000' });
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  closedPort = (s.address() as AddressInfo).port;
  closedUrl = `http://127.0.0.1:${closedPort}`;
  await new Promise<void>((r) => s.close(() => r()));
});
afterAll(async () => {
  await lm?.close();
  await db?.drop();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'cbs-lic-'));
  dirs.push(d);
  return d;
}

interface H {
  svc: LicenceService;
  settings: LicenceSettings;
  clock: TestClock;
  cache: MemoryLicenceCacheStore;
  cipher: SecretCipher;
  fetchCalls: string[];
}

function harness(
  over: Partial<LicenceSettings>,
  shared: { clock?: TestClock; cache?: MemoryLicenceCacheStore; cipher?: SecretCipher; machine?: () => Promise<string | MachineIdentity> } = {},
): H {
  const settings = licenceSettingsSchema.parse({ provider: 'manager', serverUrl: lm.url, publicKey: lm.publicKeyPem, ...over });
  const clock = shared.clock ?? new TestClock();
  const cache = shared.cache ?? new MemoryLicenceCacheStore();
  const cipher = shared.cipher ?? testCipher();
  const fetchCalls: string[] = [];
  const fetchSpy: FetchLike = (input, init) => {
    fetchCalls.push(String(input));
    return globalThis.fetch(input, init);
  };
  const svc = new LicenceService({
    settings: () => settings,
    fetch: fetchSpy,
    clock: clock as Clock,
    cipher,
    cache,
    logger: captureLogger(logs),
    machineId: shared.machine ?? (async () => 'poste-durci-0001'),
    appVersion: '0.1.0-test',
    retries: 0,
    sleep: async () => undefined,
  });
  return { svc, settings, clock, cache, cipher, fetchCalls };
}

// ------------------------------------------------------------------------------------------ item 6

describe('item 6: a clock set back does not stretch the offline grace', () => {
  it('issued+7d+1min refused, clock back to issued+3d still refused, also after a restart; the message says what to do', async () => {
    await insertLicense(db.pool, { key: 'CLK6-2345-6789-ABCD', expiresInDays: 300 });
    const h = harness({ key: 'CLK6-2345-6789-ABCD', graceDays: 7 });
    expect((await h.svc.validate()).state).toBe('valide');
    const issued = h.clock.t;
    h.settings.serverUrl = closedUrl;

    h.clock.t = issued + 7 * DAY + 60_000;
    expect(h.svc.status()).toMatchObject({ state: 'hors_ligne', allowsSync: false, graceDaysLeft: 0 });

    h.clock.t = issued + 3 * DAY;
    let st = await h.svc.validate();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: false, graceDaysLeft: 0 });
    expect(st.message).toMatch(/horloge/i);
    expect(st.message).toMatch(/date et l’heure|date et l'heure/);
    expect(st.message).toMatch(/Vérifier la licence/);
    await expect(h.svc.assertSyncAllowed()).rejects.toMatchObject({ code: 'LICENSE_REQUIRED' });

    // the app is restarted with the clock still set back: the mark is in the encrypted cache
    const restarted = harness({ key: 'CLK6-2345-6789-ABCD', graceDays: 7, serverUrl: closedUrl }, { clock: h.clock, cache: h.cache, cipher: h.cipher });
    st = await restarted.svc.start();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: false });
    expect(st.message).toMatch(/horloge/i);

    // back online: the licence manager's answer is authoritative again
    restarted.settings.serverUrl = lm.url;
    expect((await restarted.svc.validate())).toMatchObject({ state: 'valide', allowsSync: true });
  });

  it('while the app keeps running, moving the clock back inside the last live answer’s window does not keep it valid', async () => {
    await insertLicense(db.pool, { key: 'CLK9-2345-6789-ABCD', expiresInDays: 300 });
    const h = harness({ key: 'CLK9-2345-6789-ABCD', graceDays: 7, revalidateHours: 6 });
    expect((await h.svc.validate()).state).toBe('valide');
    const online = h.clock.t;
    h.settings.serverUrl = closedUrl; // no recheck happens while nothing asks for it
    h.clock.t = online + 6 * DAY;
    expect(h.svc.status()).toMatchObject({ allowsSync: true });
    h.clock.t = online + 3_600_000; // back to one hour after the live answer, still before its next check
    const st = h.svc.status();
    expect(st).toMatchObject({ state: 'hors_ligne', allowsSync: false });
    expect(st.message).toMatch(/horloge/i);
    // and a recheck is due at once (the scheduler will ask the service)
    expect(h.svc.nextCheckAt!.getTime()).toBeLessThanOrEqual(h.clock.t);
  });

  it('a PC whose clock is simply an hour behind the server keeps working online', async () => {
    await insertLicense(db.pool, { key: 'CLKA-2345-6789-ABCD', expiresInDays: 300 });
    const clock = new TestClock();
    clock.t = Date.now() - 3_600_000;
    const h = harness({ key: 'CLKA-2345-6789-ABCD' }, { clock });
    expect(await h.svc.validate()).toMatchObject({ state: 'valide', allowsSync: true });
    h.clock.advance(60_000);
    expect(h.svc.status()).toMatchObject({ state: 'valide', allowsSync: true });
  });

  it('ordinary time going forward keeps the grace (a few minutes back is tolerated)', async () => {
    await insertLicense(db.pool, { key: 'CLK7-2345-6789-ABCD', expiresInDays: 300 });
    const h = harness({ key: 'CLK7-2345-6789-ABCD', graceDays: 7 });
    expect((await h.svc.validate()).state).toBe('valide');
    h.settings.serverUrl = closedUrl;
    h.clock.advance(2 * DAY);
    expect(await h.svc.validate()).toMatchObject({ state: 'hors_ligne', allowsSync: true, graceDaysLeft: 5 });
    h.clock.advance(-5 * 60_000); // a clock synchronisation steps back a little
    expect(await h.svc.validate()).toMatchObject({ state: 'hors_ligne', allowsSync: true, graceDaysLeft: 5 });
  });

  it('a cache whose high-water mark was edited is rejected', async () => {
    await insertLicense(db.pool, { key: 'CLK8-2345-6789-ABCD', expiresInDays: 300 });
    const h = harness({ key: 'CLK8-2345-6789-ABCD' });
    expect((await h.svc.validate()).state).toBe('valide');
    const rec = JSON.parse(h.cipher.decrypt(h.cache.data!)) as { clock_hw: string };
    expect(typeof rec.clock_hw).toBe('string');
    rec.clock_hw = new Date(Date.parse(rec.clock_hw) - 30 * DAY).toISOString();
    h.cache.data = h.cipher.encrypt(JSON.stringify(rec));
    const offline = harness({ key: 'CLK8-2345-6789-ABCD', serverUrl: closedUrl }, { clock: h.clock, cache: h.cache, cipher: h.cipher });
    expect(await offline.svc.start()).toMatchObject({ allowsSync: false, cacheRejected: true });
  });
});

// ------------------------------------------------------------------------------------------ item 7

describe('item 7: the Supabase path requires https', () => {
  it('http:// to another host is refused before any network call, naming the setting', async () => {
    const h = harness({ key: 'SUPH-2345-6789-ABCD', provider: 'supabase', supabaseUrl: 'http://licences.example.com', supabaseAnonKey: 'anon' });
    const st = await h.svc.validate();
    expect(st).toMatchObject({ state: 'non_configuree', allowsSync: false });
    expect(st.message).toMatch(/https:\/\//);
    expect(st.message).toMatch(/licence\.supabaseUrl/);
    expect(h.fetchCalls).toEqual([]);
  });

  it('http:// stays accepted on the loopback (tests, local stand-ins)', async () => {
    for (const url of [`http://127.0.0.1:${closedPort}`, `http://localhost:${closedPort}`, `http://[::1]:${closedPort}`]) {
      const h = harness({ key: 'SUPL-2345-6789-ABCD', provider: 'supabase', supabaseUrl: url, supabaseAnonKey: 'anon' });
      const st = await h.svc.validate();
      expect(st.state, url).toBe('hors_ligne'); // configuration accepted, the (closed) address was tried
      expect(h.fetchCalls.length, url).toBeGreaterThan(0);
    }
  });
});

// ------------------------------------------------------------------------------------------ item 8

function sources(platform: NodeJS.Platform, files: Record<string, string> = {}, commands: Record<string, string> = {}): MachineIdSources {
  return {
    platform,
    readFile: async (p) => {
      if (p in files) return files[p]!;
      throw Object.assign(new Error(`ENOENT: ${p}`), { code: 'ENOENT' });
    },
    run: async (cmd, args) => {
      const k = [cmd, ...args].join(' ');
      if (k in commands) return commands[k]!;
      throw new Error(`commande introuvable : ${k}`);
    },
  };
}

const REG_QUERY = 'reg query HKLM\\SOFTWARE\\Microsoft\\Cryptography /v MachineGuid /reg:64';
const linux = (id: string) => sources('linux', { '/etc/machine-id': `${id}\n` });

describe('item 8: machine binding', () => {
  it('a copied data folder on a PC of the same name gets another machine id', async () => {
    const original = await tempDir();
    const a = await fileMachineId(original, () => 'BUREAU-01', linux('0123456789abcdef0123456789abcdef'))();
    const copy = await tempDir();
    await cp(original, copy, { recursive: true });
    const b = await fileMachineId(copy, () => 'BUREAU-01', linux('fedcba9876543210fedcba9876543210'))();
    expect(a.id).not.toBe(b.id);
    expect(a.source).toBe('systeme');
    // the same PC always gets the same id, whatever its data folder
    const again = await fileMachineId(await tempDir(), () => 'BUREAU-01', linux('0123456789abcdef0123456789abcdef'))();
    expect(again.id).toBe(a.id);
  });

  it('reads /etc/machine-id (or dbus), MachineGuid through reg query, IOPlatformUUID through ioreg; otherwise falls back to the data folder', async () => {
    expect(await readOsMachineId(linux('0123456789abcdef0123456789abcdef'))).toBe('0123456789abcdef0123456789abcdef');
    expect(await readOsMachineId(sources('linux', { '/var/lib/dbus/machine-id': 'AAAABBBBCCCCDDDDEEEEFFFF00001111' }))).toBe('aaaabbbbccccddddeeeeffff00001111');
    expect(await readOsMachineId(sources('linux', { '/etc/machine-id': 'uninitialized\n' }))).toBeNull();
    expect(await readOsMachineId(sources('linux', { '/etc/machine-id': '00000000000000000000000000000000' }))).toBeNull();
    const reg = '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    8F3C2A10-1B2C-4D5E-8F90-0A1B2C3D4E5F\r\n\r\n';
    expect(await readOsMachineId(sources('win32', {}, { [REG_QUERY]: reg }))).toBe('8f3c2a10-1b2c-4d5e-8f90-0a1b2c3d4e5f');
    expect(await readOsMachineId(sources('win32', {}, { [REG_QUERY]: 'ERREUR : valeur introuvable' }))).toBeNull();
    const ioreg = '+-o J314sAP  <class IOPlatformExpertDevice>\n    {\n      "IOPlatformUUID" = "1A2B3C4D-1111-2222-3333-444455556666"\n    }\n';
    expect(await readOsMachineId(sources('darwin', {}, { 'ioreg -rd1 -c IOPlatformExpertDevice': ioreg }))).toBe('1a2b3c4d-1111-2222-3333-444455556666');

    // no OS id: the previous scheme (random seed in the data folder + host name), said so
    const dir = await tempDir();
    const fallback = await fileMachineId(dir, () => 'PC-SANS-ID', sources('win32'))();
    expect(fallback).toMatchObject({ source: 'dossier', previous: null });
    expect(fallback.id).toBe(await legacyMachineId(dir, () => 'PC-SANS-ID'));
  });

  it('an existing installation keeps its seat: the first check after the update moves it to the new id', async () => {
    const id = await insertLicense(db.pool, { key: 'SEAT-2345-6789-ABCD', maxMachines: 1 });
    const dir = await tempDir();
    await writeFile(join(dir, 'machine-id'), '6f1e8a52-3c1b-4b7e-9d2a-1f0e2d3c4b5a');
    const legacy = await legacyMachineId(dir, () => 'BUREAU-02');

    // before the update: the seat is bound to the folder-based id
    const clock = new TestClock();
    const cache = new MemoryLicenceCacheStore();
    const cipher = testCipher();
    const before = harness({ key: 'SEAT-2345-6789-ABCD' }, { clock, cache, cipher, machine: async () => legacy });
    expect((await before.svc.validate()).state).toBe('valide');

    // right after the update, still offline: the previous id's cache carries the grace
    const identity = fileMachineId(dir, () => 'BUREAU-02', linux('0a0b0c0d0e0f00010203040506070809'));
    const mine = await identity();
    expect(mine).toMatchObject({ source: 'systeme', previous: legacy });
    const offline = harness({ key: 'SEAT-2345-6789-ABCD', serverUrl: closedUrl }, { clock, cache, cipher, machine: identity });
    expect(await offline.svc.start()).toMatchObject({ state: 'hors_ligne', allowsSync: true });

    // online: the seat moves, no second seat is needed
    offline.settings.serverUrl = lm.url;
    expect(await offline.svc.validate()).toMatchObject({ state: 'valide', machineId: mine.id });
    const seats = await db.pool.query<{ machine_id: string; active: boolean }>(
      'select machine_id, released_at is null as active from license_machines where license_id = $1 order by machine_id',
      [id],
    );
    expect(seats.rows).toEqual([{ machine_id: mine.id, active: true }]);
    const audit = await db.pool.query<{ details: Record<string, unknown> }>("select details from admin_audit where license_id = $1 and action = 'poste.migration'", [id]);
    expect(audit.rows).toEqual([{ details: { from: legacy, to: mine.id } }]);

    // a copy of that data folder on another PC of the same name cannot take the seat over
    const copy = await tempDir();
    await cp(dir, copy, { recursive: true });
    const other = harness({ key: 'SEAT-2345-6789-ABCD' }, { machine: fileMachineId(copy, () => 'BUREAU-02', linux('99999999999999999999999999999999')) });
    expect((await other.svc.validate()).state).toBe('limite_postes');
    // and the migrated PC keeps working
    expect((await harness({ key: 'SEAT-2345-6789-ABCD' }, { machine: identity }).svc.validate()).state).toBe('valide');
  });

  it('the Supabase path moves the seat too, and falls back to the 3-argument function of an older project', async () => {
    const jwtSecret = 'super-secret-jwt-token-with-at-least-32-characters-long';
    const anonKey = makeSupabaseJwt(jwtSecret, 'anon');
    const rest = await startPostgrestStandIn({ pool: db.pool, jwtSecret });
    try {
      const id = await insertLicense(db.pool, { key: 'SBMV-2345-6789-ABCD', maxMachines: 1 });
      const sb = { key: 'SBMV-2345-6789-ABCD', provider: 'supabase' as const, supabaseUrl: rest.url, supabaseAnonKey: anonKey };
      expect((await harness(sb, { machine: async () => 'ancien-poste-sb' }).svc.validate()).state).toBe('valide');
      const moved = harness(sb, { machine: async () => ({ id: 'm2-nouveau-sb', previous: 'ancien-poste-sb', source: 'systeme' }) });
      expect((await moved.svc.validate()).state).toBe('valide');
      const seats = await db.pool.query('select machine_id from license_machines where license_id = $1 and released_at is null', [id]);
      expect(seats.rows).toEqual([{ machine_id: 'm2-nouveau-sb' }]);

      // an older Supabase project without the 4-argument function: the 3-argument one still answers
      await db.pool.query('update licenses set max_machines = 2 where id = $1', [id]);
      const def = (await db.pool.query<{ d: string }>(`select pg_get_functiondef('public.validate_license(text,text,text,text)'::regprocedure) as d`)).rows[0]!.d;
      await db.pool.query('drop function public.validate_license(text, text, text, text)');
      try {
        const old = harness(sb, { machine: async () => ({ id: 'm2-autre-sb', previous: 'encore-un-ancien', source: 'systeme' }) });
        expect((await old.svc.validate()).state).toBe('valide');
        expect(rest.calls.slice(-2).map((c) => c.status)).toEqual([404, 200]);
      } finally {
        await db.pool.query(def);
        await db.pool.query('revoke all on function public.validate_license(text, text, text, text) from public');
        await db.pool.query('grant execute on function public.validate_license(text, text, text, text) to anon, authenticated');
      }
    } finally {
      await rest.close();
    }
  });
});
