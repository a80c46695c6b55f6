/**
 * Hardening of the licence manager (issue 16):
 *  - item 1: a hostile request never stops the PROCESS (real child process): tolerant cookies, an
 *    error handler that cannot throw, and a bounded fuzz of methods, paths, headers, cookies, bodies;
 *  - item 3: behind LM_TRUST_PROXY the client address is the one the trusted hops added (hop count
 *    or CIDR list), never the left-most X-Forwarded-For: rate limits hold, admin_audit is true;
 *  - item 10: a body over 16 KB gets a 413 with a clear message (not a cut connection).
 */
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/license-manager/config.js';
import { runMigrations } from '../../src/license-manager/migrations.js';
import { verifyPayload } from '../../src/license-manager/security.js';
import { signedLicenceAnswerSchema } from '../../src/shared/licence.js';
import { Browser } from '../support/licence/browser.js';
import { createTestDatabase, insertLicense, startLicenseManager, TEST_ADMIN_PASSWORD, type TestDatabase } from '../support/licence/db.js';
import { startLicenseManagerProcess, type LicenseManagerProcess } from '../support/licence/process.js';

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await runMigrations(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

/** Sends raw bytes, resolves with the status code of the answer (null: no answer before close/timeout). */
function rawRequest(port: number, bytes: Buffer, timeoutMs = 1500): Promise<number | null> {
  return new Promise((resolve) => {
    let got = '';
    let done = false;
    const finish = (status: number | null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(status);
    };
    const sock = connect(port, '127.0.0.1', () => {
      sock.write(bytes, () => undefined);
    });
    sock.on('data', (c: Buffer) => {
      got += c.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(got);
      if (m) finish(Number(m[1]));
    });
    sock.on('error', () => finish(null));
    sock.on('close', () => finish(null));
    const timer = setTimeout(() => finish(null), timeoutMs);
  });
}

function portOf(url: string): number {
  return Number(new URL(url).port);
}

async function healthy(url: string): Promise<boolean> {
  const r = await fetch(`${url}/healthz`);
  return r.status === 200 && ((await r.json()) as { ok?: boolean }).ok === true;
}

async function validateSigned(url: string, publicKeyPem: string, key: string, machine: string): Promise<string> {
  const res = await fetch(`${url}/api/v1/validate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ license_key: key, machine_id: machine, nonce: 'n-after' }),
  });
  expect(res.status).toBe(200);
  const answer = signedLicenceAnswerSchema.parse(await res.json());
  expect(verifyPayload(createPublicKey(publicKeyPem), answer.payload, answer.signature)).toBe(true);
  return answer.payload.status;
}

/** Deterministic PRNG (mulberry32): the fuzz is the same at every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('item 1: a hostile request does not stop the licence manager (child process)', () => {
  let p: LicenseManagerProcess;
  beforeAll(async () => {
    await insertLicense(db.pool, { key: 'FUZZ-2345-6789-ABCD', maxMachines: 3 });
    p = await startLicenseManagerProcess(db, { LM_RATE_IP_PER_MIN: '100000', LM_RATE_KEY_PER_MIN: '100000', LM_TRUST_PROXY: '1' });
  });
  afterAll(async () => p?.stop());

  it('survives Cookie lm_sid=% on an unknown path, a=%zz on a foreign-Origin logout, x=%E0 on /favicon.ico', async () => {
    const port = portOf(p.url);
    const crafted = [
      'GET /nope HTTP/1.1\r\nHost: x\r\nCookie: lm_sid=%\r\nConnection: close\r\n\r\n',
      'POST /admin/logout HTTP/1.1\r\nHost: x\r\nX-Forwarded-Proto: https\r\nOrigin: http://evil.example\r\nCookie: a=%zz\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
      'GET /favicon.ico HTTP/1.1\r\nHost: x\r\nCookie: x=%E0\r\nConnection: close\r\n\r\n',
    ];
    const statuses: (number | null)[] = [];
    for (const req of crafted) {
      statuses.push(await rawRequest(port, Buffer.from(req, 'latin1')));
      // give a crashing process the time to exit before the next probe
      await new Promise((r) => setTimeout(r, 150));
      expect(p.alive(), `after ${JSON.stringify(req.split('\r\n')[0])}: ${p.stderr.join('\n')}`).toBe(true);
    }
    expect(statuses).toEqual([404, 403, 404]);
    expect(await healthy(p.url)).toBe(true);
  });

  it('stays up under a bounded fuzz of methods, paths, headers, cookies and bodies, and answers afterwards', async () => {
    const port = portOf(p.url);
    // a logged-in administrator's session, so that the fuzz also reaches the pages behind the login
    const admin = new Browser(p.url);
    expect((await admin.login(TEST_ADMIN_PASSWORD)).status).toBe(303);
    const sessionCookie = `lm_sid=${admin.cookies.get('lm_sid')}`;
    const csrf = Browser.csrf((await admin.get('/admin')).text);
    const licenceId = await insertLicense(db.pool, { key: 'FUZY-2345-6789-ABCD' });
    const rnd = prng(16_2026);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    const junk = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256))).toString('latin1');
    const methods = ['GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE', 'PROPFIND', 'G%T'];
    const paths = [
      '/', '/healthz', '/nope', '/favicon.ico', '/api/v1/validate', '/api/v1/heartbeat', '/api/v1/public-key', '/api/x',
      '/admin', '/admin/', '//admin', '/admin/login', '/admin/logout', '/admin/licenses', '/admin/licenses/new', '/admin/audit',
      '/admin/style.css', '/admin/licenses/00000000-0000-0000-0000-000000000000',
      '/admin/licenses/00000000-0000-0000-0000-000000000000/extend', '/%', '/admin/%zz', '/%E0%A4%A', '/admin/licenses/%00',
      `/admin/licenses/${licenceId}`, `/admin/licenses/${licenceId}/extend`, `/admin/licenses/${licenceId}/deactivate`,
      `/admin/licenses/${licenceId}/machines/%zz/release`, `/admin/licenses/${licenceId}/machines/00000000-0000-0000-0000-000000000000/release`,
      '/..%2f..%2fetc/passwd', '//evil.example/x', '/admin?status=%&q=%zz', '/admin?q=' + '%'.repeat(300), `/admin/licenses/${'a'.repeat(3000)}`, '*',
    ];
    const cookies = [
      sessionCookie, sessionCookie, sessionCookie, `${sessionCookie}; lm_sid=%`, `a=%zz; ${sessionCookie}`,
      'lm_sid=%', 'a=%zz', 'x=%E0', 'lm_sid=s%3Aabc.def', '=%', ';;;', 'lm_sid', '%=%', `lm_sid=${'A'.repeat(3000)}`, 'lm_sid=%00%ff; lm_sid=%',
      '__proto__=1; constructor=%', () => `lm_sid=${junk(20).replace(/[\r\n]/g, '')}`,
    ];
    const origins = ['null', 'http://evil.example', '%', 'http://[::1', '', 'https://x:99999', 'http://127.0.0.1'];
    const types = [
      'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=%',
      '', 'x/y', 'application/x-www-form-urlencoded; charset=utf-16', 'application/json;;;',
    ];
    const bodies = [
      '', '{oops', '{"license_key":"%","machine_id":null}', '['.repeat(3000), '_csrf=%&username=%zz&password=%E0', '{"__proto__":{"x":1},"constructor":{"prototype":{}}}',
      '{"license_key":"FUZZ-2345-6789-ABCD","machine_id":"m","nonce":"%"}', 'days=%&_csrf=',
      `_csrf=${csrf}&days=%`, `_csrf=${csrf}&days=99999999999999999999`, `_csrf=${csrf}&client_name=%00&duration_days=-1&max_machines=abc&email=%`,
      `_csrf=${csrf}&_csrf=x&client_name=${'é'.repeat(400)}&duration_days=10&max_machines=1&usage_limit=%`, `_csrf=${encodeURIComponent(csrf)}%`, () => junk(200), () => 'x'.repeat(20 * 1024),
      '{"license_key":' + '"A",'.repeat(2000) + '"x"}',
    ];
    const forwarded = ['%', '1.2.3.4, , ,', 'unknown', '::ffff:999.1.1.1', '203.0.113.9, 10.0.0.1'];
    const val = <T>(x: T | (() => T)): T => (typeof x === 'function' ? (x as () => T)() : x);

    const N = 320;
    const statuses = new Map<number | 'none', number>();
    const requests: Buffer[] = [];
    for (let i = 0; i < N; i++) {
      const method = pick(methods);
      const path = pick(paths);
      const body = Buffer.from(val(pick(bodies)), 'latin1');
      const host = rnd() < 0.8 ? new URL(p.url).host : pick(['x', '', 'a b', '%', 'évil']);
      const lines = [`${method} ${path} HTTP/1.1`, `Host: ${host}`];
      if (rnd() < 0.6) lines.push('X-Forwarded-Proto: https');
      if (rnd() < 0.8) lines.push(`Cookie: ${val(pick(cookies))}`);
      if (rnd() < 0.4) lines.push(`Origin: ${pick([...origins, `http://${new URL(p.url).host}`])}`);
      if (rnd() < 0.7) lines.push(`Content-Type: ${pick(types)}`);
      if (rnd() < 0.3) lines.push(`X-Forwarded-For: ${pick(forwarded)}`);
      if (rnd() < 0.2) lines.push(`X-Forwarded-Proto: ${pick(['https', 'http', '%', ''])}`);
      if (rnd() < 0.1) lines.push(`X-Junk: ${junk(30).replace(/[\r\n]/g, '')}`);
      const framing = rnd();
      if (framing < 0.85) lines.push(`Content-Length: ${body.length}`);
      else if (framing < 0.92) lines.push(`Content-Length: ${pick(['abc', '-1', '99999999999', `${body.length + 5}`, `${body.length}, ${body.length}`])}`);
      else lines.push('Transfer-Encoding: chunked');
      lines.push('Connection: close');
      let payload: Buffer = body;
      if (framing >= 0.92) payload = Buffer.concat([Buffer.from(`${pick([body.length.toString(16), 'zz', '-1'])}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]);
      requests.push(Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), payload]));
    }
    // a few at a time, every one bounded by its own timeout
    for (let i = 0; i < requests.length; i += 4) {
      const got = await Promise.all(requests.slice(i, i + 4).map((r) => rawRequest(port, r)));
      for (const s of got) statuses.set(s ?? 'none', (statuses.get(s ?? 'none') ?? 0) + 1);
      if (!p.alive()) break;
    }
    expect(p.alive(), `the process exited during the fuzz: ${p.stderr.slice(-20).join('\n')}`).toBe(true);
    // the fuzz did reach the handlers (not only the HTTP parser)
    const answered = [...statuses].filter(([s]) => s !== 'none').reduce((n, [, c]) => n + c, 0);
    expect(answered).toBeGreaterThan(N / 2);
    expect(statuses.get(500) ?? 0, JSON.stringify([...statuses])).toBe(0);
    // nothing reached the last-resort handler
    expect(p.stderr.filter((l) => l.includes('non rattrapée'))).toEqual([]);
    expect(await healthy(p.url)).toBe(true);
    expect(await validateSigned(p.url, p.publicKeyPem, 'FUZZ-2345-6789-ABCD', 'poste-fuzz')).toBe('valid');
  }, 180_000); // bounded: 320 requests, each cut after 1.5 s at worst
});

describe('item 1: the documented supervised run', () => {
  it('the systemd unit restarts the service always and starts the real entry point', () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const unit = readFileSync(join(root, 'deploy/systemd/connecteur-licences.service'), 'utf8');
    const directives = new Map(
      unit
        .split('\n')
        .filter((l) => /^[A-Za-z]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const),
    );
    expect(directives.get('Restart')).toBe('always');
    expect(directives.get('StartLimitIntervalSec')).toBe('0');
    const exec = directives.get('ExecStart') ?? '';
    const script = /\s(src\/license-manager\/main\.ts)\s+serve$/.exec(exec)?.[1];
    expect(script).toBeDefined();
    expect(existsSync(join(root, script!))).toBe(true);
    expect(readFileSync(join(root, 'docs/licence-manager.md'), 'utf8')).toContain('deploy/systemd/connecteur-licences.service');
  });
});

describe('item 1: the error handler cannot throw', () => {
  it('an internal error whose logging throws still gets an answer, and the server keeps answering', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const logged: string[] = [];
    const lm = await startLicenseManager(
      db,
      { LM_TRUST_PROXY: '1' },
      {
        pool,
        logger: {
          info: () => undefined,
          error: (msg) => {
            logged.push(msg);
            throw new Error('journal indisponible');
          },
        },
      },
    );
    try {
      const b = new Browser(lm.url);
      expect((await b.login(TEST_ADMIN_PASSWORD)).status).toBe(303);
      await pool.end(); // every query now fails: the dashboard hits an internal error
      const page = await b.get('/admin');
      expect(page.status).toBe(500);
      expect(page.text).toContain('Erreur interne');
      expect(logged).toContain('erreur interne'); // the fault fired (and its logging threw)
      const api = await fetch(`${lm.url}/api/v1/validate`, { method: 'POST', body: '{}' });
      expect(api.status).toBe(503);
      expect(api.headers.get('retry-after')).toBe('30');
      expect(await healthy(lm.url)).toBe(true);
    } finally {
      await lm.close();
    }
  });
});

describe('item 10: bodies over 16 KB', () => {
  it('answer 413 with a clear message on the API and on the admin pages', async () => {
    const lm = await startLicenseManager(db, { LM_TRUST_PROXY: '1' });
    try {
      const big = JSON.stringify({ license_key: 'AAAA-2345-6789-ABCD', machine_id: 'x'.repeat(20 * 1024) });
      const api = await fetch(`${lm.url}/api/v1/validate`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: big });
      expect(api.status).toBe(413);
      const j = (await api.json()) as { error: string; message: string };
      expect(j.error).toBe('payload_too_large');
      expect(j.message).toMatch(/16 Kio/);
      const admin = await fetch(`${lm.url}/admin/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
        body: `username=admin&password=${'x'.repeat(20 * 1024)}`,
      });
      expect(admin.status).toBe(413);
      expect(await admin.text()).toContain('Requête trop volumineuse');
      expect(await healthy(lm.url)).toBe(true);
    } finally {
      await lm.close();
    }
  });
});

describe('item 3: LM_TRUST_PROXY takes the address added by the trusted hops', () => {
  it('a rotated first X-Forwarded-For hop does not escape the login limit, and admin_audit records the real address', async () => {
    const lm = await startLicenseManager(db, { LM_TRUST_PROXY: '1' });
    try {
      const b = new Browser(lm.url);
      const page = await b.get('/admin/login', { 'x-forwarded-for': '198.51.100.7' });
      const csrf = Browser.csrf(page.text);
      const codes: number[] = [];
      for (let i = 0; i < 13; i++) {
        // the client forges a new first hop each time; the proxy appends the address it saw
        const r = await b.post('/admin/login', { _csrf: csrf, username: 'admin', password: 'mauvais' }, { 'x-forwarded-for': `203.0.113.${i + 1}, 198.51.100.7` });
        codes.push(r.status);
      }
      expect(codes.slice(0, 10)).toEqual(Array(10).fill(401));
      expect(codes.slice(10)).toEqual([429, 429, 429]);
      const ips = await db.pool.query<{ ip: string }>("select distinct ip from admin_audit where action = 'connexion.echec' and ip <> '127.0.0.1'");
      expect(ips.rows.map((r) => r.ip)).toEqual(['198.51.100.7']);
    } finally {
      await lm.close();
    }
  });

  it('a rotated first hop does not escape the validation limit per IP', async () => {
    const lm = await startLicenseManager(db, { LM_TRUST_PROXY: '1', LM_RATE_IP_PER_MIN: '5', LM_RATE_KEY_PER_MIN: '1000' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await fetch(`${lm.url}/api/v1/validate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i + 1}, 198.51.100.8` },
          body: JSON.stringify({ license_key: `AAA${i}-2345-6789-ABCD`, machine_id: 'p' }),
        });
        await r.body?.cancel();
        codes.push(r.status);
      }
      expect(codes).toEqual([200, 200, 200, 200, 200, 429, 429, 429]);
      // another client behind the same proxy is not locked out
      const other = await fetch(`${lm.url}/api/v1/validate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.8, 198.51.100.9' },
        body: JSON.stringify({ license_key: 'BBBB-2345-6789-ABCD', machine_id: 'p' }),
      });
      await other.body?.cancel();
      expect(other.status).toBe(200);
    } finally {
      await lm.close();
    }
  });

  it('with a CIDR list, the client is the first untrusted address from the right', async () => {
    const lm = await startLicenseManager(db, { LM_TRUST_PROXY: '127.0.0.0/8, 10.0.0.0/8' });
    try {
      const b = new Browser(lm.url);
      const page = await b.get('/admin/login');
      await b.post('/admin/login', { _csrf: Browser.csrf(page.text), username: 'intrus', password: 'mauvais' }, { 'x-forwarded-for': '203.0.113.50, 198.51.100.20, 10.1.2.3' });
      const r = await db.pool.query<{ ip: string }>("select ip from admin_audit where action = 'connexion.echec' and actor = 'intrus' order by id desc limit 1");
      expect(r.rows[0]?.ip).toBe('198.51.100.20');
    } finally {
      await lm.close();
    }
  });

  it('without LM_TRUST_PROXY, X-Forwarded-For and X-Forwarded-Proto are ignored', async () => {
    const lm = await startLicenseManager(db, { LM_RATE_IP_PER_MIN: '2', LM_RATE_KEY_PER_MIN: '1000' });
    try {
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) {
        const r = await fetch(`${lm.url}/api/v1/validate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${60 + i}` },
          body: JSON.stringify({ license_key: 'NOTP-2345-6789-ABCD', machine_id: 'p' }),
        });
        await r.body?.cancel();
        codes.push(r.status);
      }
      expect(codes).toEqual([200, 200, 429]);
      // without a trusted proxy the connection is plain HTTP whatever X-Forwarded-Proto says: the
      // admin pages say so (the Secure session cookie could not be kept)
      const page = await new Browser(lm.url).get('/admin/login');
      expect(page.status).toBe(403);
      expect(page.text).toContain('HTTPS');
      expect(page.headers.getSetCookie()).toEqual([]);
    } finally {
      await lm.close();
    }
  });

  it('refuses an LM_TRUST_PROXY that is neither a hop count nor a list of addresses, naming the variable', () => {
    const base = { DATABASE_URL: 'postgres://x', LM_SIGNING_PRIVATE_KEY: 'x', LM_ADMIN_PASSWORD_HASH: 'scrypt$1$1$1$AA==$AA==' };
    for (const bad of ['abc', '-1', '1.2.3.4/99', '10.0.0.0/8, oops', '100']) {
      expect(() => loadConfig({ ...base, LM_TRUST_PROXY: bad }), bad).toThrow(/LM_TRUST_PROXY/);
    }
  });
});

describe('admin login still works through the trusted proxy', () => {
  it('logs in with X-Forwarded-Proto https from a trusted proxy', async () => {
    const lm = await startLicenseManager(db, { LM_TRUST_PROXY: '1' });
    try {
      const b = new Browser(lm.url);
      const r = await b.login(TEST_ADMIN_PASSWORD);
      expect(r.status).toBe(303);
      expect((await b.get('/admin')).status).toBe(200);
    } finally {
      await lm.close();
    }
  });
});
