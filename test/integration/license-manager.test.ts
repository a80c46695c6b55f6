/**
 * The licence manager against the real PostgreSQL: migrations, RLS/anon, every validation state,
 * signatures, rate limit, no enumeration, admin pages (login, CSRF, create, extend, deactivate,
 * reactivate, release) and the audit log.
 */
import { createPublicKey } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMigrations } from '../../src/license-manager/migrations.js';
import { verifyPayload } from '../../src/license-manager/security.js';
import { LICENCE_KEY_ALPHABET, signedLicenceAnswerSchema, type SignedLicenceAnswer } from '../../src/shared/licence.js';
import { Browser } from '../support/licence/browser.js';
import { createTestDatabase, insertLicense, startLicenseManager, TEST_ADMIN_PASSWORD, type StartedManager, type TestDatabase } from '../support/licence/db.js';

let db: TestDatabase;
let lm: StartedManager;

beforeAll(async () => {
  db = await createTestDatabase();
  // LM_TRUST_PROXY: the admin pages are reached as in production, through the HTTPS reverse proxy
  lm = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '1000', LM_RATE_KEY_PER_MIN: '1000', LM_TRUST_PROXY: '1' });
});
afterAll(async () => {
  await lm?.close();
  await db?.drop();
});

async function validate(body: unknown, base = lm.url, path = '/api/v1/validate'): Promise<{ status: number; answer: SignedLicenceAnswer; headers: Headers }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json: unknown = await res.json();
  return { status: res.status, answer: res.status === 200 ? signedLicenceAnswerSchema.parse(json) : (json as SignedLicenceAnswer), headers: res.headers };
}

describe('migrations and row-level security', () => {
  it('are idempotent and recorded', async () => {
    expect(await runMigrations(db.pool)).toEqual([]);
    const r = await db.pool.query('select version from license_manager_migrations');
    expect(r.rows.map((x) => x.version)).toEqual([1, 2]);
  });

  it('enable RLS on every table', async () => {
    const r = await db.pool.query<{ relname: string; relrowsecurity: boolean }>(
      `select relname, relrowsecurity from pg_class where relname in ('licenses','license_machines','license_validations','admin_audit')`,
    );
    expect(r.rows).toHaveLength(4);
    for (const row of r.rows) expect(row.relrowsecurity, row.relname).toBe(true);
  });

  it('anon cannot read the tables but can call validate_license', async () => {
    await insertLicense(db.pool, { key: 'RLSA-AAAA-BBBB-CCCC', maxMachines: 2 });
    const c = await db.pool.connect();
    try {
      await c.query('set role anon');
      await expect(c.query('select * from licenses')).rejects.toThrow(/permission denied/);
      await expect(c.query('select * from license_machines')).rejects.toThrow(/permission denied/);
      await expect(c.query("select license_check('RLSA-AAAA-BBBB-CCCC','m','1','heartbeat')")).rejects.toThrow(/permission denied/);
      const r = await c.query<{ v: { status: string } }>("select validate_license('RLSA-AAAA-BBBB-CCCC', 'machine-anon-1', '1.0.0') as v");
      expect(r.rows[0]!.v.status).toBe('valid');
      await c.query('reset role');
    } finally {
      c.release();
    }
  });

  it('even with Supabase-style default grants, RLS shows no row to authenticated', async () => {
    await db.pool.query('grant select on licenses to authenticated');
    const c = await db.pool.connect();
    try {
      await c.query('set role authenticated');
      const r = await c.query('select * from licenses');
      expect(r.rowCount).toBe(0);
      await c.query('reset role');
    } finally {
      c.release();
      await db.pool.query('revoke select on licenses from authenticated');
    }
  });
});

describe('POST /api/v1/validate', () => {
  it('answers valid, signed with the configured Ed25519 key, echoing machine and nonce', async () => {
    await insertLicense(db.pool, { key: 'VALD-2345-6789-ABCD', clientName: 'BTP Martin', expiresInDays: 200, maxMachines: 2, features: { chantiers: true } });
    const { status, answer } = await validate({ license_key: 'vald-2345-6789-abcd', machine_id: 'poste-1', app_version: '0.1.0', nonce: 'n-123' });
    expect(status).toBe(200);
    expect(answer.payload).toMatchObject({ status: 'valid', client_name: 'BTP Martin', max_machines: 2, machine_id: 'poste-1', nonce: 'n-123', features: { chantiers: true } });
    const pub = createPublicKey(lm.publicKeyPem);
    expect(verifyPayload(pub, answer.payload, answer.signature)).toBe(true);
    // any change breaks the signature
    expect(verifyPayload(pub, { ...answer.payload, status: 'valid', client_name: 'Autre' }, answer.signature)).toBe(false);
    const issued = Date.parse(answer.payload.issued_at);
    expect(Date.parse(answer.payload.valid_until) - issued).toBe(7 * 86_400_000);
    const hist = await db.pool.query("select kind, status from license_validations v join licenses l on l.id = v.license_id where l.key = 'VALD-2345-6789-ABCD'");
    expect(hist.rows).toEqual([{ kind: 'validate', status: 'valid' }]);
    const mach = await db.pool.query("select machine_id from license_machines m join licenses l on l.id = m.license_id where l.key = 'VALD-2345-6789-ABCD'");
    expect(mach.rows).toEqual([{ machine_id: 'poste-1' }]);
  });

  it('caps the validity horizon at the expiry date', async () => {
    await insertLicense(db.pool, { key: 'SOON-2345-6789-ABCD', expiresInDays: 2 });
    const { answer } = await validate({ license_key: 'SOON-2345-6789-ABCD', machine_id: 'poste-1' });
    expect(answer.payload.status).toBe('valid');
    expect(answer.payload.valid_until).toBe(answer.payload.expires_at);
  });

  it('answers expired, deactivated, machine_limit', async () => {
    await insertLicense(db.pool, { key: 'EXPD-2345-6789-ABCD', expiresInDays: -1 });
    await insertLicense(db.pool, { key: 'DEAC-2345-6789-ABCD', active: false });
    await insertLicense(db.pool, { key: 'MLIM-2345-6789-ABCD', maxMachines: 1 });
    expect((await validate({ license_key: 'EXPD-2345-6789-ABCD', machine_id: 'p1' })).answer.payload.status).toBe('expired');
    expect((await validate({ license_key: 'DEAC-2345-6789-ABCD', machine_id: 'p1' })).answer.payload.status).toBe('deactivated');
    expect((await validate({ license_key: 'MLIM-2345-6789-ABCD', machine_id: 'p1' })).answer.payload.status).toBe('valid');
    expect((await validate({ license_key: 'MLIM-2345-6789-ABCD', machine_id: 'p1' })).answer.payload.status).toBe('valid');
    expect((await validate({ license_key: 'MLIM-2345-6789-ABCD', machine_id: 'p2' })).answer.payload.status).toBe('machine_limit');
  });

  it('answers deactivated once the usage limit is consumed', async () => {
    await insertLicense(db.pool, { key: 'USGE-2345-6789-ABCD', usageLimit: 2 });
    const s = [];
    for (let i = 0; i < 3; i++) s.push((await validate({ license_key: 'USGE-2345-6789-ABCD', machine_id: 'p1' })).answer.payload.status);
    expect(s).toEqual(['valid', 'valid', 'deactivated']);
  });

  it('heartbeat runs the same checks and is recorded as a heartbeat', async () => {
    await insertLicense(db.pool, { key: 'HART-2345-6789-ABCD' });
    const { answer } = await validate({ license_key: 'HART-2345-6789-ABCD', machine_id: 'p9' }, lm.url, '/api/v1/heartbeat');
    expect(answer.payload.status).toBe('valid');
    const hist = await db.pool.query("select kind from license_validations v join licenses l on l.id = v.license_id where l.key = 'HART-2345-6789-ABCD'");
    expect(hist.rows).toEqual([{ kind: 'heartbeat' }]);
  });

  it('unknown, malformed and missing keys get the same answer (no enumeration)', async () => {
    const strip = (a: SignedLicenceAnswer) => ({ ...a, signature: '', payload: { ...a.payload, issued_at: '', valid_until: '' } });
    const unknown = await validate({ license_key: 'ZZZZ-ZZZZ-ZZZZ-ZZZZ', machine_id: 'p1' });
    const wrong = await validate({ license_key: 'pas-une-cle', machine_id: 'p1' });
    const nearMiss = await validate({ license_key: 'VALD-2345-6789-ABCE', machine_id: 'p1' });
    const garbage = await fetch(`${lm.url}/api/v1/validate`, { method: 'POST', body: '{oops', headers: { 'content-type': 'application/json' } });
    expect(unknown.status).toBe(200);
    expect(wrong.status).toBe(200);
    expect(garbage.status).toBe(200);
    expect(unknown.answer.payload.status).toBe('invalid');
    expect(strip(wrong.answer)).toEqual(strip(unknown.answer));
    expect(strip(nearMiss.answer)).toEqual(strip(unknown.answer));
    expect(Object.keys(wrong.answer.payload).sort()).toEqual(Object.keys(unknown.answer.payload).sort());
    expect([...unknown.headers.keys()].sort()).toEqual([...wrong.headers.keys()].sort());
    expect(verifyPayload(createPublicKey(lm.publicKeyPem), unknown.answer.payload, unknown.answer.signature)).toBe(true);
  });
});

describe('rate limiting', () => {
  let limited: StartedManager;
  beforeAll(async () => {
    limited = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '1000', LM_RATE_KEY_PER_MIN: '3' });
  });
  afterAll(async () => limited?.close());

  it('limits per key with 429 + Retry-After, the same for unknown and known keys', async () => {
    await insertLicense(db.pool, { key: 'RATE-2345-6789-ABCD', maxMachines: 5 });
    for (const key of ['RATE-2345-6789-ABCD', 'NONE-2345-6789-ABCD']) {
      const codes: number[] = [];
      let retryAfter: string | null = null;
      for (let i = 0; i < 4; i++) {
        const r = await validate({ license_key: key, machine_id: 'p1' }, limited.url);
        codes.push(r.status);
        if (r.status === 429) retryAfter = r.headers.get('retry-after');
      }
      expect(codes).toEqual([200, 200, 200, 429]);
      expect(Number(retryAfter)).toBeGreaterThan(0);
    }
  });

  it('limits per IP', async () => {
    const perIp = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '2', LM_RATE_KEY_PER_MIN: '100' });
    try {
      const codes: number[] = [];
      for (const k of ['AAAA-2345-6789-ABCD', 'BBBB-2345-6789-ABCD', 'CCCC-2345-6789-ABCD']) codes.push((await validate({ license_key: k, machine_id: 'p' }, perIp.url)).status);
      expect(codes).toEqual([200, 200, 429]);
    } finally {
      await perIp.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------- admin

describe('admin pages', () => {
  it('redirects to login, sets a hardened cookie, refuses a wrong password and audits it', async () => {
    const b = new Browser(lm.url);
    const r = await b.get('/admin');
    expect(r.status).toBe(303);
    expect(r.location).toBe('/admin/login');
    const page = await b.get('/admin/login');
    const sc = page.headers.getSetCookie()[0]!;
    expect(sc).toMatch(/HttpOnly/);
    expect(sc).toMatch(/SameSite=Strict/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const bad = await b.post('/admin/login', { _csrf: Browser.csrf(page.text), username: 'admin', password: 'mauvais' });
    expect(bad.status).toBe(401);
    expect(bad.text).toContain('Identifiant ou mot de passe incorrect');
    expect((await b.get('/admin')).status).toBe(303);
    const a = await db.pool.query("select count(*)::int as n from admin_audit where action = 'connexion.echec'");
    expect(a.rows[0].n).toBeGreaterThan(0);
  });

  it('refuses a POST without or with a wrong CSRF token', async () => {
    const b = new Browser(lm.url);
    await b.get('/admin/login');
    const noToken = await b.post('/admin/login', { username: 'admin', password: TEST_ADMIN_PASSWORD });
    expect(noToken.status).toBe(403);
    const badToken = await b.post('/admin/login', { _csrf: 'forge', username: 'admin', password: TEST_ADMIN_PASSWORD });
    expect(badToken.status).toBe(403);
    // logged in: an action without the token is refused too
    expect((await b.login(TEST_ADMIN_PASSWORD)).status).toBe(303);
    const create = await b.post('/admin/licenses', { client_name: 'Pirate', duration_days: '30', max_machines: '1' });
    expect(create.status).toBe(403);
    const n = await db.pool.query("select count(*)::int as n from licenses where client_name = 'Pirate'");
    expect(n.rows[0].n).toBe(0);
  });

  it('logs in, creates a licence with a well-formed key, extends, deactivates, reactivates, releases a machine, all audited', async () => {
    const b = new Browser(lm.url);
    const login = await b.login(TEST_ADMIN_PASSWORD);
    expect(login.status).toBe(303);
    expect(login.location).toBe('/admin');
    const form = await b.get('/admin/licenses/new');
    expect(form.status).toBe(200);
    const created = await b.post('/admin/licenses', {
      _csrf: Browser.csrf(form.text),
      client_name: 'Maçonnerie <Dupont> & Fils',
      email: 'contact@dupont.fr',
      duration_days: '10',
      max_machines: '1',
      usage_limit: '',
      features: 'chantiers, heures',
      notes: '',
    });
    expect(created.status).toBe(303);
    const details = await b.get(created.location!);
    expect(details.status).toBe(200);
    // output is escaped
    expect(details.text).toContain('Maçonnerie &lt;Dupont&gt; &amp; Fils');
    expect(details.text).not.toContain('<Dupont>');
    const id = /\/admin\/licenses\/([0-9a-f-]{36})/.exec(created.location!)![1]!;
    const row = (await db.pool.query('select key, expires_at, features from licenses where id = $1', [id])).rows[0];
    const alphabet = `[${LICENCE_KEY_ALPHABET}]`;
    expect(row.key).toMatch(new RegExp(`^${alphabet}{4}-${alphabet}{4}-${alphabet}{4}-${alphabet}{4}$`));
    expect(row.key).not.toMatch(/[01OIL]/);
    expect(row.features).toEqual({ chantiers: true, heures: true });
    expect(details.text).toContain(row.key);

    // the client validates → machine listed
    expect((await validate({ license_key: row.key, machine_id: 'poste-admin-1' })).answer.payload.status).toBe('valid');
    expect((await validate({ license_key: row.key, machine_id: 'poste-admin-2' })).answer.payload.status).toBe('machine_limit');
    let page = await b.get(`/admin/licenses/${id}`);
    expect(page.text).toContain('poste-admin-1');
    const csrf = Browser.csrf(page.text);

    // extend by 30 days
    const before = new Date(row.expires_at).getTime();
    expect((await b.post(`/admin/licenses/${id}/extend`, { _csrf: csrf, days: '30' })).status).toBe(303);
    const after = new Date((await db.pool.query('select expires_at from licenses where id = $1', [id])).rows[0].expires_at).getTime();
    expect(after - before).toBe(30 * 86_400_000);

    // deactivate → client sees deactivated; reactivate → valid again
    expect((await b.post(`/admin/licenses/${id}/deactivate`, { _csrf: csrf })).status).toBe(303);
    expect((await validate({ license_key: row.key, machine_id: 'poste-admin-1' })).answer.payload.status).toBe('deactivated');
    expect((await b.post(`/admin/licenses/${id}/reactivate`, { _csrf: csrf })).status).toBe(303);
    expect((await validate({ license_key: row.key, machine_id: 'poste-admin-1' })).answer.payload.status).toBe('valid');

    // release the machine → the second one may activate
    const m = (await db.pool.query("select id from license_machines where license_id = $1 and machine_id = 'poste-admin-1'", [id])).rows[0];
    expect((await b.post(`/admin/licenses/${id}/machines/${m.id}/release`, { _csrf: csrf })).status).toBe(303);
    expect((await validate({ license_key: row.key, machine_id: 'poste-admin-2' })).answer.payload.status).toBe('valid');

    const audit = await db.pool.query('select action, actor from admin_audit where license_id = $1 order by id', [id]);
    expect(audit.rows.map((r) => r.action)).toEqual(['licence.creation', 'licence.prolongation', 'licence.desactivation', 'licence.reactivation', 'poste.liberation']);
    expect(new Set(audit.rows.map((r) => r.actor))).toEqual(new Set(['admin']));

    page = await b.get(`/admin/licenses/${id}?flash=poste_libere`);
    expect(page.text).toContain('Libération de poste');
    expect(page.text).toContain('Poste libéré.');
    const released = (await db.pool.query("select details from admin_audit where license_id = $1 and action = 'poste.liberation'", [id])).rows[0];
    expect(released.details).toMatchObject({ machine_id: 'poste-admin-1' });
    // a crafted link cannot inject a message
    const crafted = await b.get(`/admin/licenses/${id}?flash=${encodeURIComponent('<b>Appelez le 0800</b>')}`);
    expect(crafted.text).not.toContain('Appelez');
  });

  it('dashboard filters by status and searches', async () => {
    const b = new Browser(lm.url);
    await b.login(TEST_ADMIN_PASSWORD);
    await insertLicense(db.pool, { key: 'FILT-EXPD-2345-ABCD', clientName: 'Filtre Expirée', expiresInDays: -3 });
    await insertLicense(db.pool, { key: 'FILT-SOON-2345-ABCD', clientName: 'Filtre Bientôt', expiresInDays: 12 });
    await insertLicense(db.pool, { key: 'FILT-LONG-2345-ABCD', clientName: 'Filtre Longue', expiresInDays: 300 });
    await insertLicense(db.pool, { key: 'FILT-DEAC-2345-ABCD', clientName: 'Filtre Désactivée', active: false });
    const names = async (status: string) => {
      const r = await b.get(`/admin?status=${status}&q=${encodeURIComponent('Filtre')}`);
      expect(r.status).toBe(200);
      return ['Filtre Expirée', 'Filtre Bientôt', 'Filtre Longue', 'Filtre Désactivée'].filter((n) => r.text.includes(n));
    };
    expect(await names('expired')).toEqual(['Filtre Expirée']);
    expect(await names('expiring')).toEqual(['Filtre Bientôt']);
    expect(await names('deactivated')).toEqual(['Filtre Désactivée']);
    expect(await names('active')).toEqual(['Filtre Bientôt', 'Filtre Longue']);
    expect(await names('all')).toHaveLength(4);
    const search = await b.get('/admin?q=SOON');
    expect(search.text).toContain('Filtre Bientôt');
    expect(search.text).not.toContain('Filtre Longue');
    // LIKE wildcards are literal
    expect((await b.get('/admin?q=%25')).text).toContain('Aucune licence');
  });

  it('logout ends the session', async () => {
    const b = new Browser(lm.url);
    await b.login(TEST_ADMIN_PASSWORD);
    const page = await b.get('/admin');
    expect(page.status).toBe(200);
    expect((await b.post('/admin/logout', { _csrf: Browser.csrf(page.text) })).status).toBe(303);
    expect((await b.get('/admin')).status).toBe(303);
  });
});
