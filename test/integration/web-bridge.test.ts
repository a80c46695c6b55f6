/**
 * The web bridge over a real socket: token required (none, wrong, right), non-loopback Host refused,
 * the contract reachable with the token (settings round trip with secrets masked), events over SSE.
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/app.js';
import { createNodeCipher } from '../../src/main/services/settings/node-cipher.js';
import { createNodeSettingsStore } from '../../src/main/services/settings/store.js';
import { BRIDGE_COOKIE, startWebBridge, type RunningBridge } from '../../src/main/web-bridge.js';
import { bridgeTransport, createClient } from '../../src/renderer/api.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

let dir: string;
let app: App;
let bridge: RunningBridge;

/** Raw HTTP request (fetch would not let us forge the Host header). */
function request(opts: { method?: string; path: string; headers?: Record<string, string>; body?: string }): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: bridge.port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-bridge-'));
  const staticDir = path.join(dir, 'renderer');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Connecteur</title>');
  app = await createApp({
    settingsStore: await createNodeSettingsStore({ cwd: path.join(dir, 'data') }),
    cipher: createNodeCipher({ keyFile: path.join(dir, 'data', 'secret.key') }),
    logger: memoryLogger(),
    userDataDir: path.join(dir, 'data'),
    host: 'bridge',
  });
  bridge = await startWebBridge({ router: app.router, onEvent: app.onEvent, logger: memoryLogger(), staticDir });
});

afterAll(async () => {
  await bridge?.close();
  await app?.dispose();
  fs.rmSync(dir, { recursive: true, force: true });
});

const host = () => `127.0.0.1:${bridge.port}`;

describe('web bridge', () => {
  it('binds to loopback with a fresh random token', () => {
    expect(bridge.origin).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(bridge.token.length).toBeGreaterThanOrEqual(40);
    expect(bridge.loginUrl).toBe(`${bridge.origin}/?token=${bridge.token}`);
  });

  it('refuses API calls and pages without the token, and with a wrong token', async () => {
    const none = await request({ method: 'POST', path: '/api/invoke/app.info', headers: { host: host() }, body: '{}' });
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
    const wrong = await request({ method: 'POST', path: '/api/invoke/app.info', headers: { host: host(), 'x-connecteur-token': 'x'.repeat(43) }, body: '{}' });
    expect(wrong.status).toBe(401);
    const wrongCookie = await request({ path: '/', headers: { host: host(), cookie: `${BRIDGE_COOKIE}=nope` } });
    expect(wrongCookie.status).toBe(401);
    const wrongLogin = await request({ path: '/?token=nope', headers: { host: host() } });
    expect(wrongLogin.status).toBe(401);
    expect(wrongLogin.headers['set-cookie']).toBeUndefined();
    const events = await request({ path: '/api/events', headers: { host: host() } });
    expect(events.status).toBe(401);
  });

  it('refuses a non-loopback Host header even with the right token (DNS rebinding)', async () => {
    for (const h of ['evil.example', `evil.example:${bridge.port}`, `192.168.1.10:${bridge.port}`, `localhost.evil.example:${bridge.port}`, '127.0.0.1:1']) {
      const r = await request({ method: 'POST', path: '/api/invoke/app.info', headers: { host: h, 'x-connecteur-token': bridge.token }, body: '' });
      expect(r.status, h).toBe(403);
    }
  });

  it('login URL sets an HttpOnly SameSite=Strict cookie that then works', async () => {
    const login = await request({ path: `/?token=${bridge.token}`, headers: { host: `localhost:${bridge.port}` } });
    expect(login.status).toBe(302);
    expect(login.headers.location).toBe('/');
    const cookie = String(login.headers['set-cookie']?.[0]);
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const page = await request({ path: '/journal', headers: { host: host(), cookie: cookie.split(';')[0] as string } });
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Connecteur</title>');
    expect(page.headers['content-security-policy']).toContain("default-src 'self'");
  });

  it('the login redirect always stays on the bridge (no open redirect through //host, \\host or dot segments)', async () => {
    const base = `http://127.0.0.1:${bridge.port}`;
    const cases: [string, string][] = [
      ['/.//evil.example/x', '/evil.example/x'],
      ['//evil.example/x', '/evil.example/x'],
      ['/\\evil.example/x', '/evil.example/x'],
      ['/\\/evil.example', '/evil.example'],
      ['/./\\evil.example', '/evil.example'],
      ['/%2F%2Fevil.example', '/%2F%2Fevil.example'],
      ['/%5C%5Cevil.example', '/%5C%5Cevil.example'],
      ['/a/../..//evil.example', '/evil.example'],
      ['///evil.example', '/evil.example'],
      ['/journal', '/journal'],
    ];
    for (const [p, expected] of cases) {
      const r = await request({ path: `${p}?token=${bridge.token}&tab=2`, headers: { host: host() } });
      expect(r.status, p).toBe(302);
      const location = String(r.headers.location);
      expect(location, p).toBe(`${expected}?tab=2`);
      expect(new URL(location, base).origin, p).toBe(base);
      expect(location, p).not.toContain(bridge.token);
    }
  });

  it('serves the contract with the token: invalid input rejected with a code, secrets masked', async () => {
    const h = { host: host(), 'x-connecteur-token': bridge.token, 'content-type': 'application/json' };
    const info = JSON.parse((await request({ method: 'POST', path: '/api/invoke/app.info', headers: h, body: '' })).body);
    expect(info).toMatchObject({ ok: true, value: { host: 'bridge', software: 'batigest', softwareLabel: 'Sage Batigest' } });

    const bad = JSON.parse((await request({ method: 'POST', path: '/api/invoke/settings.update', headers: h, body: JSON.stringify({ hours: { windowDays: -3 } }) })).body);
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });

    const secret = 'motdepasse-tres-secret-123';
    const upd = await request({ method: 'POST', path: '/api/invoke/settings.update', headers: h, body: JSON.stringify({ sqlServer: { server: 'SRV', password: secret } }) });
    expect(upd.body).not.toContain(secret);
    const got = JSON.parse((await request({ method: 'POST', path: '/api/invoke/settings.get', headers: h, body: '' })).body);
    expect(got.value.sqlServer).toMatchObject({ server: 'SRV', password: { set: true } });
    expect(app.settings.get().sqlServer.password).toBe(secret);

    const notYet = JSON.parse((await request({ method: 'POST', path: '/api/invoke/sync.run', headers: h, body: JSON.stringify({ flow: 'all' }) })).body);
    expect(notYet).toMatchObject({ ok: false, error: { code: 'NOT_CONFIGURED' } });

    const foreign = await request({ method: 'POST', path: '/api/invoke/app.info', headers: { ...h, origin: 'http://evil.example' }, body: '' });
    expect(foreign.status).toBe(403);
  });

  it('the renderer client (api.ts) talks to the bridge with typed results', async () => {
    const withToken: typeof fetch = (url, init) =>
      fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-connecteur-token': bridge.token } });
    const api = createClient(bridgeTransport(bridge.origin, withToken));
    const info = await api.invoke('app.info');
    expect(info.ok && info.value.host).toBe('bridge');
    const bad = await api.invoke('sync.run', { flow: 'nope' as 'all' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    const denied = createClient(bridgeTransport(bridge.origin));
    expect(await denied.invoke('app.info')).toMatchObject({ ok: false, error: { code: 'FORBIDDEN_SENDER' } });
  });

  it('streams events over SSE to an authenticated client', async () => {
    const received = await new Promise<string>((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: bridge.port, path: '/api/events', headers: { host: host(), 'x-connecteur-token': bridge.token } }, (res) => {
        expect(res.statusCode).toBe(200);
        let buf = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          buf += c;
          if (buf.includes(': connecté')) app.context.emit('app:navigate', { page: 'journal' });
          if (buf.includes('event: app:navigate')) {
            req.destroy();
            resolve(buf);
          }
        });
      });
      req.on('error', reject);
    });
    expect(received).toContain('data: {"page":"journal"}');
  });
});
