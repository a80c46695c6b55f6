/** Batigest gateway integration tests: a TDS simulator over PGlite loaded with generated companies. */
import type { Logger } from '../../src/main/services/ports.js';
import { BatigestGateway } from '../../src/main/services/batigest/index.js';
import { sqlServerSettingsSchema, type SqlServerSettings } from '../../src/shared/settings.js';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createPgBackend, createPgliteBackend, startTdsSimulator } from '../support/tds/index.js';
import { generateBatigestCompany, loadBatigestCompany, type BatigestCompany, type BatigestCompanyOptions } from '../support/datasets/batigest.js';
import { captureLogger } from './batigest-helpers.js';

export const SIM_USER = 'batigest_user';
export const SIM_PASSWORD = "Mot-de-passe'Très#Secret";

export type SimBackend = Awaited<ReturnType<typeof createPgliteBackend>>;
export type Sim = Awaited<ReturnType<typeof startTdsSimulator>>;

export interface BatigestSimEnv {
  backend: SimBackend;
  sim: Sim;
  companies: Record<string, BatigestCompany>;
  settings(database: string, o?: Partial<SqlServerSettings>): SqlServerSettings;
  gateway(database: string, o?: Partial<SqlServerSettings>, logger?: Logger): BatigestGateway;
  close(): Promise<void>;
}

/** Starts a TDS simulator on 127.0.0.1:0 over PGlite, with one generated Batigest company per database. */
const PG_ADMIN = 'postgres://postgres@127.0.0.1:5432/postgres';

/** A PostgreSQL server backend in its own throw-away database (`cbs_test_<random>`), dropped by `drop()`. */
export async function pgServerBackend(): Promise<{ backend: SimBackend; drop(): Promise<void> }> {
  const name = `cbs_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const backend = await createPgBackend({ connectionString: `postgres://postgres@127.0.0.1:5432/${name}` });
  return {
    backend,
    async drop() {
      const c = new pg.Client({ connectionString: PG_ADMIN });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function startBatigestSim(
  databases: Record<string, BatigestCompanyOptions>,
  opts: { tls?: 'off' | 'on'; backend?: 'pglite' | 'pg' } = {},
): Promise<BatigestSimEnv> {
  const server = opts.backend === 'pg' ? await pgServerBackend() : null;
  const backend = server ? server.backend : await createPgliteBackend();
  const companies: Record<string, BatigestCompany> = {};
  for (const [db, o] of Object.entries(databases)) {
    const data = generateBatigestCompany(o);
    await loadBatigestCompany(backend, db, data);
    companies[db] = data;
  }
  const sim = await startTdsSimulator({ backend, host: '127.0.0.1', port: 0, logins: { [SIM_USER]: SIM_PASSWORD }, tls: { mode: opts.tls ?? 'off' } });
  const gateways: BatigestGateway[] = [];
  const settings = (database: string, o: Partial<SqlServerSettings> = {}) =>
    sqlServerSettingsSchema.parse({
      server: `${sim.host},${sim.port}`,
      database,
      user: SIM_USER,
      password: SIM_PASSWORD,
      encrypt: false,
      trustServerCertificate: true,
      connectTimeoutMs: 5000,
      requestTimeoutMs: 30000,
      ...o,
    });
  return {
    backend,
    sim,
    companies,
    settings,
    gateway(database, o = {}, logger = captureLogger()) {
      const g = new BatigestGateway({ settings: settings(database, o), logger });
      gateways.push(g);
      return g;
    },
    async close() {
      for (const g of gateways) await g.close().catch(() => undefined);
      await sim.close();
      await backend.close();
      await server?.drop();
    },
  };
}
