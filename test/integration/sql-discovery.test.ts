/**
 * SQL Server discovery (issue 21): the SQL Browser of a host lists its instances (the simulator's browser, real
 * UDP), a bad answer from the network is dropped, and once logged in the gateway lists the databases the login may
 * open, marking those that look like a Batigest company (ChantierDef, Salarie and SuiviMO present). A database the
 * login may not open is not listed; an instance picked by name (HOST\INSTANCE) connects through the browser.
 */
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteBackend, startSqlBrowser, startTdsSimulator, type SqlBrowser } from '../support/tds/index.js';
import { generateBatigestCompany, loadBatigestCompany } from '../support/datasets/batigest.js';
import { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { discoverInstances, parseBrowserResponse } from '../../src/main/services/batigest/discovery.js';
import { sqlServerSettingsSchema } from '../../src/shared/settings.js';
import { captureLogger } from './batigest-helpers.js';

/** A loopback address of its own, so that the browser can listen on 1434 as drivers expect. */
const HOST = '127.0.21.35';
const USER = 'integrateur';
const PASSWORD = 'Decouverte#2026';

let backend: Awaited<ReturnType<typeof createPgliteBackend>>;
let tds: Awaited<ReturnType<typeof startTdsSimulator>>;
let browser: SqlBrowser;

beforeAll(async () => {
  backend = await createPgliteBackend();
  await loadBatigestCompany(backend, 'BTG_DUPONT', generateBatigestCompany({ seed: 'dupont', chantiers: 5, devis: 2, salaries: 3, suiviMo: 2, variant: 'v1', withCodebs: true }));
  await loadBatigestCompany(backend, 'BTG_MARTIN', generateBatigestCompany({ seed: 'martin', chantiers: 4, devis: 1, salaries: 2, suiviMo: 1, variant: 'v1', withCodebs: true }));
  await backend.adminExec('COMPTA_2025', 'CREATE TABLE "Ecriture" ("Id" integer PRIMARY KEY, "Montant" numeric(18,2))');
  await backend.adminExec('RH_PRIVE', 'CREATE TABLE "Salarie" ("Code" varchar(8) PRIMARY KEY)');
  tds = await startTdsSimulator({ backend, host: HOST, port: 0, logins: { [USER]: PASSWORD }, access: { [USER]: ['BTG_DUPONT', 'BTG_MARTIN', 'COMPTA_2025'] }, tls: { mode: 'off' } });
  browser = await startSqlBrowser({ host: HOST, port: 1434, serverName: 'SRV-BUREAU', instances: [{ name: 'SAGE', tcpPort: tds.port }, { name: 'MSSQLSERVER', tcpPort: 1433 }] });
});
afterAll(async () => {
  await browser?.close();
  await tds?.close();
  await backend?.close();
});

const settings = (o: Record<string, unknown>) =>
  sqlServerSettingsSchema.parse({ user: USER, password: PASSWORD, encrypt: false, trustServerCertificate: true, connectTimeoutMs: 5000, ...o });

describe('SQL Server discovery', () => {
  it('lists the instances of a host through its SQL Browser (UDP 1434)', async () => {
    const found = await discoverInstances({ host: HOST, timeoutMs: 3000 });
    expect(found.map((i) => i.server)).toEqual([HOST, `${HOST}\\SAGE`]);
    expect(found.find((i) => i.instance === 'SAGE')).toMatchObject({ host: HOST, tcpPort: tds.port, answeredBy: HOST, version: '16.0.1000.6' });
    expect(browser.requests.at(-1)?.kind).toBe(0x03);
  });

  it('a host without a browser answers nothing (after the wait), a bad answer is dropped', async () => {
    expect(await discoverInstances({ host: '127.0.21.36', timeoutMs: 300 })).toEqual([]);
    const bad = Buffer.concat([Buffer.from([0x05, 40, 0]), Buffer.from('ServerName;X Y;InstanceName;;tcp;99999;;', 'latin1')]);
    expect(parseBrowserResponse(bad, '10.0.0.1', null)).toEqual([]);
    expect(parseBrowserResponse(Buffer.from([0x01, 0, 0]), '10.0.0.1', null)).toEqual([]);
    // A hostile answerer on the network: the good record is kept, the bad one dropped.
    const mixed = Buffer.from('ServerName;SRV;InstanceName;COMPTA;IsClustered;No;Version;15.0.2000.5;tcp;1500;;ServerName;SRV;InstanceName;<script>;tcp;1;;', 'latin1');
    const head = Buffer.from([0x05, 0, 0]);
    head.writeUInt16LE(mixed.length, 1);
    expect(parseBrowserResponse(Buffer.concat([head, mixed]), '10.0.0.9', null).map((i) => i.server)).toEqual(['SRV\\COMPTA']);
  });

  it('a unicast request is one byte 0x03; a broadcast answer names its host by ServerName', async () => {
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    const got = new Promise<Buffer>((r) => sock.once('message', (m) => r(m)));
    const { port } = sock.address();
    const body = Buffer.from('ServerName;SRV-COMPTA;InstanceName;MSSQLSERVER;IsClustered;No;Version;16.0.1000.6;tcp;1433;;', 'latin1');
    const head = Buffer.from([0x05, 0, 0]);
    head.writeUInt16LE(body.length, 1);
    expect(parseBrowserResponse(Buffer.concat([head, body]), '192.168.1.20', null)).toEqual([
      { server: 'SRV-COMPTA', host: 'SRV-COMPTA', instance: null, tcpPort: 1433, version: '16.0.1000.6', answeredBy: '192.168.1.20' },
    ]);
    void discoverInstances({ host: '127.0.0.1', port, timeoutMs: 500 });
    expect([...(await got)]).toEqual([0x03]);
    sock.close();
  });

  it('lists the databases the login may open, marking the Batigest companies; HOST\\INSTANCE connects', async () => {
    const logger = captureLogger();
    const asked = browser.requests.length;
    const g = new BatigestGateway({ settings: settings({ server: `${HOST}\\SAGE`, database: '' }), logger });
    try {
      const dbs = await g.listDatabases();
      expect(dbs).toEqual([
        { name: 'BTG_DUPONT', batigest: true, tables: ['ChantierDef', 'Salarie', 'SuiviMO'], readable: true },
        { name: 'BTG_MARTIN', batigest: true, tables: ['ChantierDef', 'Salarie', 'SuiviMO'], readable: true },
        { name: 'COMPTA_2025', batigest: false, tables: [], readable: true },
      ]);
      // RH_PRIVE exists but this login may not open it: not listed.
      expect(dbs.map((d) => d.name)).not.toContain('RH_PRIVE');
      // The driver found the port of SAGE through the browser.
      expect(browser.requests.length).toBeGreaterThan(asked);
      expect(logger.lines.some((l) => l.includes('Bases trouvées'))).toBe(true);
      expect(logger.lines.join('\n')).not.toContain(PASSWORD);
    } finally {
      await g.close();
    }
  });

  it('a wrong password is refused with the usual French message', async () => {
    const g = new BatigestGateway({ settings: settings({ server: `${HOST},${tds.port}`, database: '', password: 'faux' }), logger: captureLogger() });
    try {
      await expect(g.listDatabases()).rejects.toMatchObject({ code: 'SQL_LOGIN_FAILED' });
    } finally {
      await g.close();
    }
  });
});
