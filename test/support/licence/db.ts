/**
 * Test helpers for the licence side: a throw-away PostgreSQL database per test file (on the local
 * server), Supabase-like roles, and a licence manager started on 127.0.0.1:0.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { loadConfig, type LicenseManagerConfig } from '../../../src/license-manager/config.js';
import { runMigrations } from '../../../src/license-manager/migrations.js';
import { generateSigningKeyPair, hashPassword } from '../../../src/license-manager/security.js';
import { createLicenseManager, type LicenseManagerLogger, type LicenseManagerServer } from '../../../src/license-manager/server.js';

export const PG_ADMIN_URL = process.env.CBS_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  name: string;
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

function urlFor(dbName: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${dbName}`;
  return u.toString();
}

/** Creates the Supabase roles `anon` and `authenticated` (cluster-wide, idempotent, race-safe). */
export async function ensureSupabaseRoles(admin: pg.Client | pg.Pool): Promise<void> {
  for (const role of ['anon', 'authenticated']) {
    await admin.query(`do $$ begin create role ${role} nologin; exception when duplicate_object or unique_violation then null; end $$`);
  }
}

export async function createTestDatabase(prefix = 'cbs_test_lic'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  try {
    await ensureSupabaseRoles(admin);
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const pool = new pg.Pool({ connectionString: urlFor(name), max: 5 });
  // An idle connection terminated during teardown (drop … with (force)) must not crash the run.
  pool.on('error', () => undefined);
  // Mimic Supabase: the API roles may use the public schema.
  await pool.query('grant usage on schema public to anon, authenticated');
  return {
    name,
    url: urlFor(name),
    pool,
    async drop() {
      await pool.end();
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      try {
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const TEST_ADMIN_PASSWORD = 'mot-de-passe-de-test-très-long';

export interface StartedManager {
  lm: LicenseManagerServer;
  url: string;
  config: LicenseManagerConfig;
  publicKeyPem: string;
  close(): Promise<void>;
}

export async function startLicenseManager(
  db: TestDatabase,
  env: Record<string, string> = {},
  opts: { now?: () => Date; logger?: LicenseManagerLogger; pool?: pg.Pool } = {},
): Promise<StartedManager> {
  await runMigrations(db.pool);
  const keys = generateSigningKeyPair();
  const config = loadConfig({
    DATABASE_URL: db.url,
    LM_SIGNING_PRIVATE_KEY: keys.privateKeyPem,
    LM_ADMIN_PASSWORD_HASH: await hashPassword(TEST_ADMIN_PASSWORD),
    LM_HOST: '127.0.0.1',
    LM_PORT: '0',
    ...env,
  });
  const lm = createLicenseManager({ config, pool: opts.pool ?? db.pool, ...(opts.now ? { now: opts.now } : {}), ...(opts.logger ? { logger: opts.logger } : {}) });
  const addr = await lm.listen();
  return { lm, url: addr.url, config, publicKeyPem: keys.publicKeyPem, close: () => lm.close() };
}

/** Inserts a licence directly (tests of the validation path). */
export async function insertLicense(
  pool: pg.Pool,
  l: { key: string; clientName?: string; expiresInDays?: number; active?: boolean; maxMachines?: number; usageLimit?: number | null; features?: Record<string, unknown> },
): Promise<string> {
  const r = await pool.query<{ id: string }>(
    `insert into licenses (key, client_name, expires_at, active, max_machines, usage_limit, features)
     values ($1, $2, now() + make_interval(days => $3), $4, $5, $6, $7) returning id`,
    [l.key, l.clientName ?? 'Client Test', l.expiresInDays ?? 365, l.active ?? true, l.maxMachines ?? 1, l.usageLimit ?? null, JSON.stringify(l.features ?? { chantiers: true })],
  );
  return r.rows[0]!.id;
}
