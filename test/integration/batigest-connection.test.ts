/**
 * Batigest gateway — testConnection diagnoses over real sockets (no SQL Server needed for these).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { sqlServerSettingsSchema } from '../../src/shared/settings.js';
import { captureLogger } from './batigest-helpers.js';

const PASSWORD = 'Tr3s-S3cret!';
const gw = (server: string, logger = captureLogger()) =>
  new BatigestGateway({
    settings: sqlServerSettingsSchema.parse({ server, database: 'BTG', user: 'sa', password: PASSWORD, connectTimeoutMs: 1000, requestTimeoutMs: 2000 }),
    logger,
  });

let silent: net.Server;
let silentPort = 0;
let closedPort = 0;
const sockets = new Set<net.Socket>();

beforeAll(async () => {
  // A server that accepts TCP connections and never answers (a firewall that swallows packets, a hung server).
  silent = net.createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  silentPort = (silent.address() as net.AddressInfo).port;
  // A port nobody listens on.
  const tmp = net.createServer();
  await new Promise<void>((r) => tmp.listen(0, '127.0.0.1', r));
  closedPort = (tmp.address() as net.AddressInfo).port;
  await new Promise<void>((r) => tmp.close(() => r()));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise<void>((r) => silent.close(() => r()));
});

describe('testConnection without a server', () => {
  it('port closed → host unreachable, in French, without the password in logs', async () => {
    const logger = captureLogger();
    const g = gw(`127.0.0.1,${closedPort}`, logger);
    const d = await g.testConnection();
    await g.close();
    expect(d).toMatchObject({ ok: false, code: 'SQL_HOST_UNREACHABLE' });
    expect(d.message).toMatch(/refuse la connexion/);
    expect(logger.lines.join('\n')).not.toContain(PASSWORD);
    expect(logger.lines.length).toBeGreaterThan(0);
  });

  it('unknown host name → host unreachable (introuvable)', async () => {
    const g = gw('serveur-inexistant.invalid,1433');
    const d = await g.testConnection();
    await g.close();
    expect(d).toMatchObject({ ok: false, code: 'SQL_HOST_UNREACHABLE' });
    expect(d.message).toMatch(/introuvable/);
  });

  it('server that never answers → host unreachable after the connect timeout', async () => {
    const g = gw(`127.0.0.1,${silentPort}`);
    const d = await g.testConnection();
    await g.close();
    expect(d).toMatchObject({ ok: false, code: 'SQL_HOST_UNREACHABLE' });
    expect(d.message).toMatch(/ne répond pas/);
  });

  it('named instance with no SQL Server Browser answering → instance not found', async () => {
    const g = gw('127.0.0.1\\BATIGEST');
    const d = await g.testConnection();
    await g.close();
    expect(d).toMatchObject({ ok: false, code: 'SQL_INSTANCE_NOT_FOUND' });
    expect(d.message).toMatch(/BATIGEST/);
  });

  it('incomplete settings → a French diagnosis naming what to fill in, without any network attempt', async () => {
    const g = gw('');
    const d = await g.testConnection();
    await g.close();
    expect(d).toMatchObject({ ok: false, code: 'NOT_CONFIGURED' });
    expect(d.message).toMatch(/serveur SQL/);
  });

  it('readers fail with the same typed error, and the gateway retries the connection on the next call', async () => {
    const g = gw(`127.0.0.1,${closedPort}`);
    await expect(g.readSalaries()).rejects.toMatchObject({ code: 'SQL_HOST_UNREACHABLE', retryable: true });
    await expect(g.readSalaries()).rejects.toMatchObject({ code: 'SQL_HOST_UNREACHABLE' });
    await g.close();
  });
});
