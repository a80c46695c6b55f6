/** testConnection() diagnoses in French, and no secret ever reaches the logs or the errors. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as netConnect, createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateBatisimplySeed, startBatisimplySimulator, type BatisimplySimulator } from '../support/batisimply/index.js';
import { useBatisimplySimulator } from '../support/batisimply/harness.js';
import { AppError } from '../../src/shared/errors.js';

let sim!: BatisimplySimulator;
const seed = generateBatisimplySeed({ seed: 9, userCount: 4, projects: 17, days: 3 });

/** A loopback URL on which nothing listens. */
async function closedPortUrl(): Promise<string> {
  const s = createNetServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const { client, clientFor } = useBatisimplySimulator({
    seed,
    accounts: [
      { username: 'bureau@exemple.fr', password: 'motdepasse' },
      { username: 'ancien@exemple.fr', password: 'motdepasse2', disabled: true },
    ],
  }, (s) => (sim = s));

describe('BatiSimply testConnection', () => {
  it('success: counts users and projects', async () => {
    const d = await client().client.testConnection();
    expect(d).toMatchObject({ ok: true, code: null });
    expect(d.message).toBe('Connexion à BatiSimply réussie : 4 utilisateurs, 17 chantiers.');
    expect(d.details).toMatchObject({ utilisateurs: '4', chantiers: '17', authentification: 'réussie' });
  });

  it('wrong password → BS_AUTH_FAILED', async () => {
    const d = await client({ password: 'faux' }).client.testConnection();
    expect(d.ok).toBe(false);
    expect(d.code).toBe('BS_AUTH_FAILED');
    expect(d.message).toMatch(/identifiant ou le mot de passe BatiSimply est incorrect/);
    expect(sim.log.count('GET /api/users')).toBe(0);
  });

  it('unknown user → BS_AUTH_FAILED', async () => {
    const d = await client({ username: 'inconnu@exemple.fr' }).client.testConnection();
    expect(d.code).toBe('BS_AUTH_FAILED');
  });

  it('wrong client secret → BS_CLIENT_SECRET_INVALID', async () => {
    const d = await client({ clientSecret: 'mauvais' }).client.testConnection();
    expect(d.code).toBe('BS_CLIENT_SECRET_INVALID');
    expect(d.message).toMatch(/secret client/);
  });

  it('disabled account → BS_ACCOUNT_DISABLED', async () => {
    const d = await client({ username: 'ancien@exemple.fr', password: 'motdepasse2' }).client.testConnection();
    expect(d.code).toBe('BS_ACCOUNT_DISABLED');
    expect(d.message).toMatch(/désactivé/);
  });

  it('SSO down (closed port) → BS_SSO_UNREACHABLE', async () => {
    const d = await client({ ssoUrl: await closedPortUrl(), maxRetries: 1 }).client.testConnection();
    expect(d.code).toBe('BS_SSO_UNREACHABLE');
    expect(d.message).toMatch(/serveur d'authentification BatiSimply .* injoignable/);
  });

  it('API down (closed port) → BS_API_UNREACHABLE after a successful authentication', async () => {
    const d = await client({ apiUrl: await closedPortUrl(), maxRetries: 1 }).client.testConnection();
    expect(d.code).toBe('BS_API_UNREACHABLE');
    expect(d.details.authentification).toBe('réussie');
  });

  it('SSO URL that is not a Keycloak (404) → BS_SSO_UNREACHABLE with a hint about the address', async () => {
    const d = await client({ ssoUrl: sim.apiUrl }).client.testConnection();
    expect(d.code).toBe('BS_SSO_UNREACHABLE');
    expect(d.message).toMatch(/realm/);
  });

  it('missing settings → NOT_CONFIGURED without any request', async () => {
    const d = await client({ clientId: '', password: '' }).client.testConnection();
    expect(d.code).toBe('NOT_CONFIGURED');
    expect(d.message).toMatch(/identifiant client, le mot de passe/);
    expect(sim.log.count()).toBe(0);
  });

  it('accepts the full token URL as SSO address (as the reference connector stored it)', async () => {
    const d = await client({ ssoUrl: `${sim.ssoUrl}/auth/realms/jhipster/protocol/openid-connect/token` }).client.testConnection();
    expect(d.ok).toBe(true);
  });

  describe.skipIf(!hasOpenssl())('TLS', () => {
    let https: HttpsServer;
    let dir: string;
    let url: string;
    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'bs-tls-'));
      execFileSync(
        'openssl',
        ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=sso.test', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')],
        { stdio: 'ignore' },
      );
      https = createHttpsServer({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) }, (_q, r) => r.end('{}'));
      await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
      url = `https://127.0.0.1:${(https.address() as { port: number }).port}`;
    });
    afterAll(async () => {
      https.closeAllConnections();
      await new Promise<void>((r) => https.close(() => r()));
      rmSync(dir, { recursive: true, force: true });
    });

    it('self-signed certificate on the SSO → BS_TLS_ERROR, not retried', async () => {
      const { client: c, sleeps } = client({ ssoUrl: url });
      const d = await c.testConnection();
      expect(d.code).toBe('BS_TLS_ERROR');
      expect(d.message).toMatch(/certificat/);
      expect(d.message).toMatch(/SELF_SIGNED|CERT/);
      expect(sleeps).toEqual([]);
    });

    it('self-signed certificate on the API → BS_TLS_ERROR', async () => {
      const d = await client({ apiUrl: url }).client.testConnection();
      expect(d.code).toBe('BS_TLS_ERROR');
      expect(d.message).toMatch(/API/);
    });
  });
});

describe('BatiSimply through an HTTP proxy', () => {
  it('sends SSO and API requests through the proxy (CONNECT tunnels)', async () => {
    const targets: string[] = [];
    const proxy = createHttpServer((_q, r) => r.writeHead(405).end());
    proxy.on('connect', (req, socket, head) => {
      targets.push(req.url ?? '');
      const [host, port] = (req.url ?? '').split(':');
      const upstream = netConnect(Number(port), host ?? '127.0.0.1', () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
    try {
      const { client: c } = client({}, { proxyUrl: `http://127.0.0.1:${(proxy.address() as { port: number }).port}` });
      const d = await c.testConnection();
      expect(d.ok).toBe(true);
      await c.close();
      expect(new Set(targets)).toEqual(new Set([new URL(sim.ssoUrl).host, new URL(sim.apiUrl).host]));
    } finally {
      proxy.closeAllConnections();
      await new Promise<void>((r) => proxy.close(() => r()));
    }
  });
});

describe('BatiSimply secrets', () => {
  it('never logs the password, the client secret or any token, even through faults and errors', async () => {
    const password = 'Tr3s-S3cret-Pwd!';
    const clientSecret = 'cs-9f8e7d6c5b4a';
    const s2 = await startBatisimplySimulator({
      seed,
      tokenLifetimeSeconds: 60,
      accounts: [{ username: 'compta@exemple.fr', password }],
      clients: [{ clientId: 'connecteur', clientSecret }],
    });
    try {
      const t = clientFor(s2, { username: 'compta@exemple.fr', password, clientSecret });
      const { client: c, logger } = t;
      const errors: AppError[] = [];
      const keep = (p: Promise<unknown>) => p.catch((e: unknown) => void errors.push(e as AppError));
      await c.testConnection();
      await c.listProjects();
      s2.faults.add({ route: 'GET /api/users', status: 401 });
      s2.faults.add({ route: 'GET /api/project', status: 429, retryAfterSeconds: 1 });
      s2.faults.add({ route: 'POST /token', status: 503 });
      await c.listUsers();
      s2.revokeTokens();
      await c.listProjects();
      await keep(c.createProject({ projectCode: seed.projects[0]!.projectCode, projectName: 'x' }));
      s2.faults.add({ route: 'GET /api/users', malformedJson: true });
      await keep(c.listUsers());
      s2.state.setAccountDisabled('compta@exemple.fr', true);
      s2.revokeTokens();
      await keep(c.listUsers());
      const bad = clientFor(s2, { username: 'compta@exemple.fr', password: `${password}-wrong`, clientSecret });
      await bad.client.testConnection();

      expect(errors.map((e) => e.code)).toEqual(['BS_CONFLICT', 'BS_BAD_RESPONSE', 'BS_ACCOUNT_DISABLED']);
      const tokens = [...s2.state.accessTokens.keys(), ...s2.state.refreshTokens.keys()];
      expect(tokens.length).toBeGreaterThan(3);
      const logged = logger.text() + bad.logger.text();
      expect(logged.length).toBeGreaterThan(200);
      const published = errors.map((e) => `${e.message} ${e.detail ?? ''} ${JSON.stringify(e)}`).join('\n');
      for (const secret of [password, clientSecret, ...tokens]) {
        expect(logged).not.toContain(secret);
        expect(published).not.toContain(secret);
      }
      expect(logged).not.toMatch(/Bearer /);
    } finally {
      await s2.close();
    }
  });
});
