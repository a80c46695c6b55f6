/**
 * The one proxy setting, used by every outgoing HTTP client: an authenticating HTTP proxy on loopback (the `proxy`
 * package) sees the exports API's, BatiSimply's and the licence client's requests; the wrong password is refused by
 * the proxy (and no request reaches the API); a host of the bypass list is reached directly; mode « none » never
 * uses it.
 */
import { generateKeyPairSync } from 'node:crypto';
import fs from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { createProxy, type ProxyServer } from 'proxy';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import { BatisimplyClient } from '../../src/main/services/batisimply/client.js';
import { ExportsClient } from '../../src/main/services/exports/client.js';
import { createHttpDispatcher, proxiedFetch } from '../../src/main/services/network/proxy.js';
import { defaultSettings, type ProxySettings } from '../../src/shared/settings.js';
import { SIM_DEFAULT_CREDENTIALS, startBatisimplySimulator } from '../support/batisimply/index.js';
import { startExportsSim, type ExportsSim } from '../support/exports/server.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

let proxy: ProxyServer;
let proxyUrl = '';
const seen: { method: string; target: string; auth: boolean }[] = [];
let sim: ExportsSim;
let bs: Awaited<ReturnType<typeof startBatisimplySimulator>>;
const GOOD = `Basic ${Buffer.from('agent:p@ss wörd').toString('base64')}`;

beforeAll(async () => {
  proxy = createProxy(createServer());
  proxy.authenticate = (req: IncomingMessage) => {
    const ok = req.headers['proxy-authorization'] === GOOD;
    seen.push({ method: req.method ?? '', target: req.url ?? '', auth: ok });
    return ok;
  };
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  sim = await startExportsSim();
  sim.seed(2);
  bs = await startBatisimplySimulator();
});
afterAll(async () => {
  await sim?.close();
  await bs?.close();
  await new Promise<void>((r) => proxy.close(() => r()));
});
beforeEach(() => {
  seen.length = 0;
});

const manual = (patch: Partial<ProxySettings> = {}): ProxySettings => ({ ...defaultSettings().proxy, mode: 'manual', url: proxyUrl, username: 'agent', password: 'p@ss wörd', ...patch });
const exportsClient = (p: ProxySettings) => {
  const s = { ...defaultSettings().imports, apiUrl: sim.url, apiKey: sim.apiKey, maxRetries: 0, timeoutMs: 5000 };
  return new ExportsClient(s, { logger: memoryLogger(), proxy: p });
};

describe('one proxy for every outgoing client', () => {
  it('the exports API goes through the authenticating proxy', async () => {
    const before = sim.log.length;
    const c = exportsClient(manual());
    try {
      expect((await c.listPending({ limit: 50, agentId: 'a' })).map((e) => e.id)).toEqual(['EXP-0001', 'EXP-0002']);
    } finally {
      await c.close();
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((s) => s.auth)).toBe(true);
    expect(seen[0]!.target).toContain(new URL(sim.url).host);
    expect(sim.log.length).toBe(before + 1);
  });

  it('a wrong proxy password is refused by the proxy: nothing reaches the API', async () => {
    const before = sim.log.length;
    const c = exportsClient(manual({ password: 'faux' }));
    try {
      await expect(c.listPending({ limit: 50, agentId: 'a' })).rejects.toMatchObject({ code: 'EXPORTS_UNREACHABLE' });
    } finally {
      await c.close();
    }
    expect(seen.some((s) => !s.auth)).toBe(true);
    expect(sim.log.length).toBe(before);
  });

  it('a host of the bypass list is reached directly; mode « none » never uses the proxy', async () => {
    for (const p of [manual({ bypass: 'localhost, 127.0.0.1' }), { ...manual(), mode: 'none' as const }]) {
      const c = exportsClient(p);
      try {
        expect(await c.listPending({ limit: 50, agentId: 'a' })).toHaveLength(2);
      } finally {
        await c.close();
      }
    }
    expect(seen).toEqual([]);
  });

  it('BatiSimply (token and API) goes through it', async () => {
    const s = { ...defaultSettings().batisimply, environment: 'custom' as const, ssoUrl: bs.ssoUrl, apiUrl: bs.apiUrl, ...SIM_DEFAULT_CREDENTIALS, maxRetries: 0 };
    const client = new BatisimplyClient(s, { clock: { now: () => new Date() }, logger: memoryLogger(), proxy: manual() });
    try {
      const d = await client.testConnection();
      expect(d.ok, d.message).toBe(true);
    } finally {
      await client.close();
    }
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((x) => x.auth)).toBe(true);
  });

  it("the licence client's fetch goes through it, and follows a change of the setting", async () => {
    let p = manual();
    const f = proxiedFetch(() => p, { timeoutMs: 5000 });
    const r = await f(`${sim.url}/api/batigest/status`, { headers: { 'x-api-key': sim.apiKey } });
    expect(r.status).toBe(200);
    expect(seen).toHaveLength(1);
    p = { ...p, mode: 'none' };
    expect((await f(`${sim.url}/api/batigest/status`, { headers: { 'x-api-key': sim.apiKey } })).status).toBe(200);
    expect(seen).toHaveLength(1);
    await createHttpDispatcher(manual(), { timeoutMs: 1000 }).close();
  });
});

describe('the service factory builds every client on the proxy setting', () => {
  it('exports API, BatiSimply and licence checks of the app all go through the proxy', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-proxy-app-'));
    // A licence service of its own (any HTTP server will do: what matters is that its request leaves through the proxy).
    let licenceRequests = 0;
    const licenceServer = createServer((_req, res) => {
      licenceRequests++;
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => licenceServer.listen(0, '127.0.0.1', () => r()));
    const licenceUrl = `http://127.0.0.1:${(licenceServer.address() as AddressInfo).port}`;
    const app = await createNodeApp({ dataDir: dir, logger: memoryLogger(), host: 'bridge', version: '0.1.0', entry: 'test', features: defaultFeatures({ licence: { checkAtStart: false }, sync: { schedule: false, openAtStart: false } }) });
    try {
      app.settings.update({
        proxy: { mode: 'manual', url: proxyUrl, username: 'agent', password: 'p@ss wörd', bypass: '' },
        imports: { apiUrl: sim.url, apiKey: sim.apiKey, batigestImportPath: dir },
        batisimply: { environment: 'custom', ssoUrl: bs.ssoUrl, apiUrl: bs.apiUrl, ...SIM_DEFAULT_CREDENTIALS },
        licence: { provider: 'manager', serverUrl: licenceUrl, key: 'ABCD-2345-6789-WXYZ', publicKey: generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString() },
      });
      const hosts = () => new Set(seen.map((x) => x.target));
      const imports = (await app.router.invoke('imports.test', undefined)) as { ok: boolean; value: { ok: boolean; message: string } };
      expect(imports.ok && imports.value.ok, JSON.stringify(imports)).toBe(true);
      expect(hosts()).toContain(new URL(sim.url).host);
      const b = (await app.router.invoke('batisimply.test', undefined)) as { ok: boolean; value: { ok: boolean } };
      expect(b.ok && b.value.ok).toBe(true);
      expect([...hosts()].some((h) => h === new URL(bs.apiUrl).host || h === new URL(bs.ssoUrl).host)).toBe(true);
      await app.router.invoke('licence.check', undefined);
      expect(licenceRequests).toBeGreaterThan(0);
      expect(hosts()).toContain(new URL(licenceUrl).host);
      expect(seen.every((x) => x.auth)).toBe(true);
    } finally {
      await app.dispose();
      await new Promise<void>((r) => licenceServer.close(() => r()));
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
