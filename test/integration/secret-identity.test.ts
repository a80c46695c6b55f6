/**
 * A saved secret is only ever sent to the identity it was saved for, through the real bridge and router:
 * « Tester la connexion » (batisimply.test, sqlServer.test, buffer.test) and settings.update with a host/URL
 * of the caller's choice and the secret left as { keep: true } are refused, and capture servers standing for
 * that host receive nothing. Controls: the same request with the saved identity uses the saved secret (so the
 * capture would have seen it), and a secret typed again may go to the new host (only the typed one arrives).
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type App } from '../../src/main/app.js';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import { connectionsFeature } from '../../src/main/features/connections.js';
import { createNodeSettingsStore } from '../../src/main/services/settings/store.js';
import { startWebBridge, type RunningBridge } from '../../src/main/web-bridge.js';
import type { ConnecteurApi } from '../../src/shared/contract.js';
import { bridgeTransport, createClient } from '../../src/renderer/api.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { simHarness, type Harness } from '../support/sync/harness.js';

const PG_SAVED = 'pg-saved-Secret-4417';

/** An HTTP server that records every request (a host the caller chose). */
async function captureHttp(): Promise<{ url: string; requests: { method: string; url: string; body: string }[]; close(): Promise<void> }> {
  const requests: { method: string; url: string; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      requests.push({ method: req.method ?? '', url: req.url ?? '', body: `${JSON.stringify(req.headers)}\n${body}` });
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** A TCP server that records every connection and its bytes, then hangs up (a SQL Server "proxy"). */
async function captureTcp(): Promise<{ port: number; connections: number; bytes: Buffer[]; close(): Promise<void> }> {
  const state = { port: 0, connections: 0, bytes: [] as Buffer[], close: async () => undefined as void };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    state.connections++;
    sockets.add(c);
    c.on('data', (d: Buffer) => {
      state.bytes.push(d);
      c.destroy();
    });
    c.on('error', () => undefined);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return state;
}

/** A fake PostgreSQL that asks for the password in clear (AuthenticationCleartextPassword) and records it. */
async function fakePostgres(): Promise<{ port: number; connections: number; passwords: string[]; close(): Promise<void> }> {
  const state = { port: 0, connections: 0, passwords: [] as string[], close: async () => undefined as void };
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    state.connections++;
    sockets.add(c);
    let buf = Buffer.alloc(0);
    let started = false;
    c.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!started && buf.length >= 4 && buf.length >= buf.readInt32BE(0)) {
        buf = buf.subarray(buf.readInt32BE(0));
        started = true;
        const auth = Buffer.alloc(9);
        auth.write('R', 0);
        auth.writeInt32BE(8, 1);
        auth.writeInt32BE(3, 5); // cleartext password, please
        c.write(auth);
      }
      if (started && buf.length >= 5 && buf[0] === 0x70 && buf.length >= 1 + buf.readInt32BE(1)) {
        const len = buf.readInt32BE(1);
        state.passwords.push(buf.subarray(5, 1 + len - 1).toString('utf8'));
        const fields = Buffer.from('SFATAL\0C28P01\0Mpassword authentication failed\0\0', 'utf8');
        const err = Buffer.alloc(5);
        err.write('E', 0);
        err.writeInt32BE(4 + fields.length, 1);
        c.end(Buffer.concat([err, fields]));
      }
    });
    c.on('error', () => undefined);
    c.on('close', () => sockets.delete(c));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = () =>
    new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    });
  return state;
}

let h: Harness;
let dir: string;
let app: App;
let bridge: RunningBridge;
let api: ConnecteurApi;
let bsCapture: Awaited<ReturnType<typeof captureHttp>>;
let sqlCapture: Awaited<ReturnType<typeof captureTcp>>;
let pgSaved: Awaited<ReturnType<typeof fakePostgres>>;
let pgEvil: Awaited<ReturnType<typeof fakePostgres>>;

beforeAll(async () => {
  h = await simHarness();
  [bsCapture, sqlCapture, pgSaved, pgEvil] = await Promise.all([captureHttp(), captureTcp(), fakePostgres(), fakePostgres()]);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-secret-identity-'));
  const data = path.join(dir, 'data');
  app = await createNodeApp({
    dataDir: data,
    logger: memoryLogger(),
    host: 'bridge',
    features: [connectionsFeature()],
  });
  app.settings.update({
    sqlServer: h.settings.sqlServer,
    batisimply: h.settings.batisimply,
    buffer: { kind: 'remote', remote: { host: '127.0.0.1', port: pgSaved.port, database: 'tampon', user: 'connecteur', password: PG_SAVED, ssl: false } },
  });
  const staticDir = path.join(dir, 'renderer');
  fs.mkdirSync(staticDir);
  fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Connecteur</title>');
  bridge = await startWebBridge({ router: app.router, onEvent: app.onEvent, logger: memoryLogger(), staticDir });
  const withToken: typeof fetch = (url, init) => fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), 'x-connecteur-token': bridge.token } });
  api = createClient(bridgeTransport(bridge.origin, withToken));
}, 60_000);

afterAll(async () => {
  await bridge?.close();
  await app?.dispose();
  await Promise.all([bsCapture?.close(), sqlCapture?.close(), pgSaved?.close(), pgEvil?.close()]);
  await h?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const saved = () => app.settings.get();

describe('saved secrets stay with the identity they were saved for (through the web bridge)', () => {
  it('batisimply.test towards a URL of the caller: refused, the capture server receives nothing; retyped, only the typed secret arrives', async () => {
    const { clientSecret, password } = saved().batisimply;
    expect(clientSecret.length).toBeGreaterThan(3);
    // control: the saved identity works with the saved secrets (the simulator checks them)
    expect(await api.invoke('batisimply.test')).toMatchObject({ ok: true, value: { ok: true } });

    const r = await api.invoke('batisimply.test', {
      override: { environment: 'custom', ssoUrl: bsCapture.url, apiUrl: bsCapture.url, clientSecret: { keep: true }, password: { keep: true } },
    });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('SETTINGS_INVALID');
      expect(r.error.message).toContain('Secret client');
      expect(r.error.message).toContain('Mot de passe BatiSimply');
      expect(r.error.message).toMatch(/saisissez-le de nouveau/);
    }
    expect(bsCapture.requests).toEqual([]);

    const typed = await api.invoke('batisimply.test', {
      override: { environment: 'custom', ssoUrl: bsCapture.url, apiUrl: bsCapture.url, clientSecret: 'typed-client-secret', password: 'typed-password' },
    });
    expect(typed).toMatchObject({ ok: true, value: { ok: false } });
    const seen = bsCapture.requests.map((x) => x.body).join('\n');
    expect(seen).toContain('typed-client-secret');
    expect(seen).not.toContain(clientSecret);
    expect(seen).not.toContain(password);
  });

  it('sqlServer.test towards a server of the caller: refused before any connection; the saved server still works', async () => {
    expect(await api.invoke('sqlServer.test')).toMatchObject({ ok: true, value: { ok: true } });
    const r = await api.invoke('sqlServer.test', { override: { server: `127.0.0.1,${sqlCapture.port}`, password: { keep: true } } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('SETTINGS_INVALID');
      expect(r.error.message).toContain('› Mot de passe');
      expect(r.error.message).toContain('Serveur SQL Server');
    }
    // The encryption mode and the user are part of the identity too.
    for (const override of [{ encrypt: true, trustServerCertificate: true }, { user: 'autre' }] as const) {
      const x = await api.invoke('sqlServer.test', { override: { ...override, password: { keep: true } } });
      expect(x).toMatchObject({ ok: false, error: { code: 'SETTINGS_INVALID' } });
    }
    expect(sqlCapture.connections).toBe(0);
    // Typed again, the test may go there (the capture sees a connection: it is the caller's own password).
    const typed = await api.invoke('sqlServer.test', { override: { server: `127.0.0.1,${sqlCapture.port}`, password: 'typed-sql' } });
    expect(typed).toMatchObject({ ok: true, value: { ok: false } });
    expect(sqlCapture.connections).toBeGreaterThan(0);
  });

  it('buffer.test towards a PostgreSQL of the caller asking for a cleartext password: refused, it receives nothing', async () => {
    // control: the saved identity receives the saved password (this fake asks for it in clear)
    await api.invoke('buffer.test');
    expect(pgSaved.passwords).toContain(PG_SAVED);

    const r = await api.invoke('buffer.test', { override: { kind: 'remote', remote: { host: '127.0.0.1', port: pgEvil.port, password: { keep: true } } } });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toContain('Réglages › Base tampon › Mot de passe');
    for (const remote of [{ port: pgSaved.port, ssl: true }, { port: pgSaved.port, user: 'postgres' }, { port: pgSaved.port, database: 'autre' }]) {
      const before = pgSaved.connections;
      const x = await api.invoke('buffer.test', { override: { kind: 'remote', remote: { ...remote, password: { keep: true } } } });
      expect(x).toMatchObject({ ok: false, error: { code: 'SETTINGS_INVALID' } });
      expect(pgSaved.connections).toBe(before);
    }
    expect(pgEvil.connections).toBe(0);
    expect(pgEvil.passwords).toEqual([]);

    await api.invoke('buffer.test', { override: { kind: 'remote', remote: { host: '127.0.0.1', port: pgEvil.port, password: 'typed-pg' } } });
    expect(pgEvil.passwords).toEqual(['typed-pg']);
  });

  it('settings.update: changing the host while keeping the saved password is refused naming the field; nothing is saved; retyped it is saved', async () => {
    const before = saved();
    const r = await api.invoke('settings.update', { buffer: { remote: { host: 'pg.evil.example', password: { keep: true } } } });
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.code).toBe('SETTINGS_INVALID');
      expect(r.error.message).toContain('Réglages › Base tampon › Mot de passe');
      expect(r.error.message).toContain('Serveur PostgreSQL');
    }
    const bs = await api.invoke('settings.update', { batisimply: { environment: 'custom', ssoUrl: bsCapture.url, apiUrl: bsCapture.url } });
    expect(bs).toMatchObject({ ok: false, error: { code: 'SETTINGS_INVALID' } });
    expect(saved()).toEqual(before);
    const again = await createNodeSettingsStore({ cwd: path.join(dir, 'data') });
    expect(JSON.stringify(again.load())).not.toContain('pg.evil.example');

    const ok = await api.invoke('settings.update', { buffer: { remote: { host: 'pg2.local', password: 'nouveau-mdp' } } });
    expect(ok).toMatchObject({ ok: true });
    expect(saved().buffer.remote).toMatchObject({ host: 'pg2.local', password: 'nouveau-mdp' });
  });
});
