/**
 * A complete "world" for the proof tests (crash, faults, bad input) and the benchmark: a generated
 * Batigest company behind the TDS simulator, the matching BatiSimply simulator (users, some existing
 * projects, time slots over the last weeks), a buffer, and what the end state must be.
 *
 * The expected state is computed here independently of the engine (own time-zone day, own aggregation),
 * so the checks can fail if the engine is wrong.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { settingsSchema, type Settings, type SqlServerSettings } from '../../../src/shared/settings.js';
import type { Logger, LogFields } from '../../../src/main/services/ports.js';
import { BatigestGateway } from '../../../src/main/services/batigest/index.js';
import { BatisimplyClient } from '../../../src/main/services/batisimply/index.js';
import { openBuffer, type BufferStore } from '../../../src/main/services/buffer/index.js';
import { SyncEngine, type SyncHooks } from '../../../src/main/services/sync/engine.js';
import { createSyncFlows } from '../../../src/main/services/sync/flows/index.js';
import { createPgBackend, createPgliteBackend, type AdminBackend } from '../tds/backend.js';
import { startTdsSimulator, type TdsSimulator } from '../tds/server.js';
import { batisimplyUsersFor, generateBatigestCompany, loadBatigestCompany, SeededRandom, type BatigestCompany } from '../datasets/batigest.js';
import { startBatisimplySimulator, SIM_DEFAULT_CREDENTIALS, type BatisimplySimulator, type SimSeed } from '../batisimply/index.js';

export const TDS_USER = 'batigest_user';
export const TDS_PASSWORD = "Mot-de-passe'Très#Secret";
export const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };

export type BufferChoice = 'pglite-dir' | 'pglite-memory' | 'postgres';

export interface WorldOptions {
  seed: number;
  chantiers: number;
  salaries: number;
  /** VALIDATED time slots; about 15 % more slots in other statuses are added. */
  validatedSlots: number;
  /** Chantiers that already exist in BatiSimply (the slots are on them); default min(chantiers, 15). */
  existingProjects?: number;
  /** Days back over which the slots are spread (default 40). */
  days?: number;
  buffer: BufferChoice;
  /** Simulated BatiSimply latency per request (ms). */
  latencyMs?: number;
  /** TDS backend: in-process PGlite (default) or a schema in a random PostgreSQL database. */
  tdsBackend?: 'pglite' | 'postgres';
  /** Seed the BatiSimply side (users, existing projects, slots); default true. */
  seedBatisimply?: boolean;
}

export interface SuiviExpect {
  nbH0: number;
  nbH3: number;
  nbH4: number;
}

export interface CheckResult {
  projectsExpected: number;
  suiviExpected: number;
  /** Projects with the same code more than once, + POSTs refused as duplicates of an existing code. */
  duplicates: number;
  /** Expected projects missing, + expected SuiviMO rows missing. */
  lost: number;
  /** SuiviMO rows with wrong values or not expected at all, projects not expected. */
  wrong: string[];
}

export interface World {
  opts: WorldOptions;
  company: BatigestCompany;
  database: string;
  tdsBackend: AdminBackend;
  tds: TdsSimulator;
  bs: BatisimplySimulator;
  /** Settings (BatiSimply, SQL Server, buffer) pointing at the simulators. */
  settings: Settings;
  sqlSettings: SqlServerSettings;
  /** Projects that exist in BatiSimply before any sync (code → id). */
  preexisting: Map<string, number>;
  expectedCodes: string[];
  expectedSuivi: Map<string, SuiviExpect>;
  logger: Logger & { lines: string[] };
  gateway(o?: Partial<SqlServerSettings>): BatigestGateway;
  client(o?: Partial<Settings['batisimply']>): BatisimplyClient;
  openBuffer(): Promise<BufferStore>;
  engine(o?: { hooks?: SyncHooks; buffer?: BufferStore; gateway?: BatigestGateway; client?: BatisimplyClient; retryBaseMs?: number; machineName?: string }): Promise<{
    engine: SyncEngine;
    buffer: BufferStore;
    gateway: BatigestGateway;
    client: BatisimplyClient;
    close(): Promise<void>;
  }>;
  /** Every SuiviMO row, straight from the backend (not through the gateway). */
  suiviRows(): Promise<{ codeChantier: string; codeSalarie: string; date: string; nbH0: number; nbH3: number; nbH4: number }[]>;
  /** Runs SQL on the Batigest backend (PostgreSQL dialect, quoted names). */
  adminExec(sql: string): Promise<void>;
  check(): Promise<CheckResult>;
  /** Fresh remote state for another attempt: new BatiSimply simulator (same seed), empty SuiviMO, new buffer. */
  reset(o?: { buffer?: BufferChoice }): Promise<void>;
  close(): Promise<void>;
}

export function captureLogger(lines: string[] = [], bindings: LogFields = {}): Logger & { lines: string[] } {
  const write = (level: string) => (msg: string, fields?: LogFields) => void lines.push(`${level} ${msg} ${JSON.stringify({ ...bindings, ...fields })}`);
  return { lines, debug: () => undefined, info: write('info'), warn: write('warn'), error: write('error'), child: (b) => captureLogger(lines, { ...bindings, ...b }) };
}

/** Local calendar day of a UTC instant in Europe/Paris (independent of the engine's helper). */
export function parisDay(iso: string): string {
  const d = new Date(Math.floor(Date.parse(iso) / 60_000) * 60_000);
  const parts = new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(d);
  const get = (t: string): string => parts.find((p) => p.type === t)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export const suiviKey = (c: string, s: string, d: string): string => `${c}|${s}|${d}`;

async function createPgDatabase(): Promise<string> {
  const database = `cbs_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ ...PG, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${database}`);
  } finally {
    await admin.end();
  }
  return database;
}

export async function dropPgDatabase(database: string): Promise<void> {
  const admin = new pg.Client({ ...PG, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** The BatiSimply seed matching a company: users of the salariés, some existing projects, time slots. */
export function batisimplySeedFor(company: BatigestCompany, o: WorldOptions, now = Date.now()): { seed: SimSeed; existingCodes: string[] } {
  const rng = new SeededRandom(`${o.seed}-bs`);
  const users = batisimplyUsersFor(company).map((u) => ({ id: u.id, login: u.login, firstName: u.firstName, lastName: u.lastName, email: u.email, activated: true }));
  const nExisting = Math.min(company.chantiers.length, o.existingProjects ?? 15);
  const existing = company.chantiers.slice(0, nExisting);
  const projects = existing.map((c, i) => ({
    id: i + 1,
    projectCode: c.code,
    // Slightly different from Batigest, so the sync adopts them and updates them.
    projectName: `${c.description ?? c.nomClient} (saisi dans BatiSimply)`,
    customerName: c.nomClient,
    hoursSold: 1,
  }));
  const day0 = Math.floor(now / 86_400_000) * 86_400_000;
  const days = o.days ?? 40;
  const timeSlots: NonNullable<SimSeed['timeSlots']> = [];
  const total = Math.round(o.validatedSlots * 1.15);
  let validated = 0;
  for (let i = 0; i < total; i++) {
    const isValidated = validated < o.validatedSlots && (i - validated >= total - o.validatedSlots || rng.chance(0.87));
    if (isValidated) validated++;
    const user = users[rng.int(0, users.length - 1)]!;
    const projectId = rng.int(1, Math.max(1, nExisting));
    const dayBack = rng.int(2, days);
    const startMin = rng.int(6 * 60, 15 * 60);
    timeSlots.push({
      startDate: new Date(day0 - dayBack * 86_400_000 + startMin * 60_000).toISOString(),
      userId: user.id,
      projectId,
      managementStatus: isValidated ? 'VALIDATED' : rng.pick(['PENDING', 'SUBMITTED', 'REJECTED', 'DRAFT']),
      totalTimeMinutes: rng.int(2, 40) * 15,
      hasPackedLunch: rng.chance(0.6),
      hasHomeToWorkJourney: rng.chance(0.5),
    });
  }
  return { seed: { users, projects: nExisting > 0 ? projects : [], timeSlots }, existingCodes: existing.map((c) => c.code) };
}

/** Expected SuiviMO rows: VALIDATED slots of mapped users on known chantiers, summed per (chantier, salarié, day). */
export function expectedSuiviFor(company: BatigestCompany, seed: SimSeed): Map<string, SuiviExpect> {
  const salByUser = new Map<string, string>();
  for (const s of company.salaries) if (s.codebs) salByUser.set(s.codebs.toLowerCase(), s.code);
  const codeByProject = new Map<number, string>();
  for (const p of seed.projects ?? []) if (p.id !== undefined) codeByProject.set(p.id, p.projectCode);
  const known = new Set(company.chantiers.map((c) => c.code));
  const agg = new Map<string, { min: number; h3: number; h4: number }>();
  for (const s of seed.timeSlots ?? []) {
    if (s.managementStatus !== 'VALIDATED') continue;
    const sal = salByUser.get(s.userId.toLowerCase());
    const code = s.projectId !== null ? codeByProject.get(s.projectId) : undefined;
    if (!sal || !code || !known.has(code)) continue;
    const k = suiviKey(code, sal, parisDay(s.startDate));
    const a = agg.get(k) ?? { min: 0, h3: 0, h4: 0 };
    a.min += s.totalTimeMinutes;
    a.h3 = Math.max(a.h3, s.hasHomeToWorkJourney ? 1 : 0);
    a.h4 = Math.max(a.h4, s.hasPackedLunch ? 1 : 0);
    agg.set(k, a);
  }
  const out = new Map<string, SuiviExpect>();
  for (const [k, a] of agg) out.set(k, { nbH0: Math.round((a.min / 60) * 100) / 100, nbH3: a.h3, nbH4: a.h4 });
  return out;
}

export async function startWorld(o: WorldOptions): Promise<World> {
  // Every salarié mapped to a BatiSimply user (codebs set), so a complete run is 'succeeded' (hours of unmapped
  // users make a run 'partial'; that rule has its own tests).
  const userIds = Array.from({ length: o.salaries }, (_, i) => `${String(o.seed).padStart(8, '0').slice(-8)}-0000-4000-8000-${String(i + 1).padStart(12, '0')}`);
  const company = generateBatigestCompany({ seed: o.seed, chantiers: o.chantiers, devis: 0, salaries: o.salaries, suiviMo: 0, variant: 'v1', withCodebs: true, batisimplyUserIds: userIds });
  const database = `btg_${o.seed}`;
  let tdsPgDb: string | null = null;
  let tdsBackend: AdminBackend;
  if (o.tdsBackend === 'postgres') {
    tdsPgDb = await createPgDatabase();
    tdsBackend = await createPgBackend({ connectionString: `postgres://postgres@127.0.0.1:5432/${tdsPgDb}` });
  } else {
    tdsBackend = await createPgliteBackend();
  }
  await loadBatigestCompany(tdsBackend, database, company);
  const tds = await startTdsSimulator({ backend: tdsBackend, host: '127.0.0.1', port: 0, logins: { [TDS_USER]: TDS_PASSWORD }, tls: { mode: 'off' } });
  const seedBs = o.seedBatisimply ?? true;
  const { seed, existingCodes } = seedBs ? batisimplySeedFor(company, o) : { seed: {}, existingCodes: [] as string[] };
  const startBs = () => startBatisimplySimulator({ seed, latencyMs: o.latencyMs ?? 0, tokenLifetimeSeconds: 3600 });
  let bs = await startBs();

  const tmpDirs: string[] = [];
  const pgDbs: string[] = [];
  const newBufferSettings = async (choice: BufferChoice = o.buffer): Promise<Settings['buffer']> => {
    if (choice === 'postgres') {
      // One database per world, emptied on reset (faster than creating one per attempt).
      if (pgDbs.length === 0) pgDbs.push(await createPgDatabase());
      else {
        const c = new pg.Client({ ...PG, database: pgDbs[0] });
        await c.connect();
        await c.query('DROP SCHEMA public CASCADE; CREATE SCHEMA public').finally(() => c.end());
      }
      return { kind: 'remote', embeddedPath: '', remote: { ...PG, database: pgDbs[0]!, ssl: false } };
    }
    if (choice === 'pglite-dir') {
      const dir = mkdtempSync(join(tmpdir(), 'cbs-buffer-'));
      tmpDirs.push(dir);
      return { kind: 'embedded', embeddedPath: join(dir, 'buffer'), remote: { ...PG, database: 'unused', ssl: false } };
    }
    return { kind: 'embedded', embeddedPath: '', remote: { ...PG, database: 'unused', ssl: false } };
  };

  const sqlSettings = (over: Partial<SqlServerSettings> = {}): SqlServerSettings => ({
    ...settingsSchema.parse({}).sqlServer,
    server: `${tds.host},${tds.port}`,
    database,
    user: TDS_USER,
    password: TDS_PASSWORD,
    encrypt: false,
    trustServerCertificate: true,
    connectTimeoutMs: 5000,
    requestTimeoutMs: 30_000,
    ...over,
  });
  const makeSettings = async (choice?: BufferChoice): Promise<Settings> => {
    const s = settingsSchema.parse({ machineName: 'PC-PREUVE', setupCompleted: true, mode: 'chantier' });
    s.sqlServer = sqlSettings();
    s.buffer = await newBufferSettings(choice);
    s.batisimply = {
      ...s.batisimply,
      environment: 'custom',
      ssoUrl: bs.ssoUrl,
      apiUrl: bs.apiUrl,
      clientId: SIM_DEFAULT_CREDENTIALS.clientId,
      clientSecret: SIM_DEFAULT_CREDENTIALS.clientSecret,
      username: SIM_DEFAULT_CREDENTIALS.username,
      password: SIM_DEFAULT_CREDENTIALS.password,
      timeoutMs: 10_000,
      maxRetries: 4,
      project: { headQuarterId: '7', projectManager: 'Conducteur Travaux', projectColor: '#1e6fd9', countryCode: 'FR', currency: 'EUR' },
    };
    s.hours.windowDays = 90;
    // The proofs count every chantier of the company once in BatiSimply: the whole company is in scope
    // (every state sent, no age limit; the scope itself is proven in test/integration/chantier-life.test.ts).
    s.chantiers.scopeMonths = 600;
    s.chantiers.etatRoles = { P: 'open' };
    return s;
  };

  const logger = captureLogger();
  const world: World = {
    opts: o,
    company,
    database,
    tdsBackend,
    tds,
    bs,
    settings: await makeSettings(),
    sqlSettings: sqlSettings(),
    preexisting: new Map(existingCodes.map((c, i) => [c, i + 1])),
    expectedCodes: company.chantiers.map((c) => c.code),
    expectedSuivi: expectedSuiviFor(company, seed),
    logger,
    gateway: (over = {}) => new BatigestGateway({ settings: { ...world.settings.sqlServer, ...over }, logger }),
    client: (over = {}) =>
      new BatisimplyClient({ ...world.settings.batisimply, ...over }, { clock: { now: () => new Date() }, logger, baseDelayMs: 20, maxDelayMs: 2000 }),
    openBuffer: () => openBuffer(world.settings.buffer, ':memory:'),
    async engine(e = {}) {
      const buffer = e.buffer ?? (await world.openBuffer());
      const gateway = e.gateway ?? world.gateway();
      const client = e.client ?? world.client();
      const engine = new SyncEngine({
        flows: createSyncFlows(),
        batigest: gateway,
        batisimply: client,
        buffer,
        settings: () => world.settings,
        clock: { now: () => new Date() },
        logger,
        machineName: e.machineName ?? 'PC-PREUVE',
        hooks: e.hooks,
        retryBaseMs: e.retryBaseMs ?? 5,
      });
      return {
        engine,
        buffer,
        gateway,
        client,
        async close() {
          await gateway.close().catch(() => undefined);
          await client.close().catch(() => undefined);
          if (!e.buffer) await buffer.db.close().catch(() => undefined);
        },
      };
    },
    async suiviRows() {
      const s = await tdsBackend.openSession(database);
      try {
        const r = await s.query(`SELECT "CodeChantier", "CodeSalarie", to_char("Date", 'YYYY-MM-DD'), "NbH0"::float8, "NbH3"::float8, "NbH4"::float8 FROM "SuiviMO" ORDER BY 1, 2, 3`);
        return r.rows.map((x) => ({
          codeChantier: String(x[0]).trim(),
          codeSalarie: String(x[1]).trim(),
          date: String(x[2]),
          nbH0: Number(x[3]),
          nbH3: Number(x[4]),
          nbH4: Number(x[5]),
        }));
      } finally {
        await s.close();
      }
    },
    adminExec: (sql) => tdsBackend.adminExec(database, sql),
    async check() {
      const wrong: string[] = [];
      let duplicates = 0;
      let lost = 0;
      const byCode = new Map<string, number>();
      for (const p of world.bs.state.projects.values()) byCode.set(p.projectCode, (byCode.get(p.projectCode) ?? 0) + 1);
      const expected = new Set(world.expectedCodes);
      for (const code of world.expectedCodes) {
        const n = byCode.get(code) ?? 0;
        if (n === 0) lost++;
        if (n > 1) duplicates += n - 1;
      }
      for (const code of byCode.keys()) if (!expected.has(code)) wrong.push(`projet inattendu ${code}`);
      // A create refused because the code exists = a duplicate on a real API that does not check codes.
      duplicates += world.bs.log.of('POST /api/project').filter((e) => e.status === 400 || e.status === 409).length;
      const rows = await world.suiviRows();
      const seen = new Set<string>();
      for (const r of rows) {
        const k = suiviKey(r.codeChantier, r.codeSalarie, r.date);
        if (seen.has(k)) duplicates++;
        seen.add(k);
        const want = world.expectedSuivi.get(k);
        if (!want) {
          wrong.push(`ligne SuiviMO inattendue ${k} (${r.nbH0} h)`);
          continue;
        }
        if (Math.abs(want.nbH0 - r.nbH0) > 0.005 || want.nbH3 !== r.nbH3 || want.nbH4 !== r.nbH4) {
          wrong.push(`ligne SuiviMO ${k} : ${r.nbH0}/${r.nbH3}/${r.nbH4} au lieu de ${want.nbH0}/${want.nbH3}/${want.nbH4}`);
        }
      }
      for (const k of world.expectedSuivi.keys()) if (!seen.has(k)) lost++;
      return { projectsExpected: world.expectedCodes.length, suiviExpected: world.expectedSuivi.size, duplicates, lost, wrong };
    },
    async reset(r = {}) {
      await world.bs.close();
      bs = await startBs();
      world.bs = bs;
      await tdsBackend.adminExec(database, 'DELETE FROM "SuiviMO"');
      world.settings = await makeSettings(r.buffer);
    },
    async close() {
      await world.bs.close().catch(() => undefined);
      await tds.close().catch(() => undefined);
      await tdsBackend.close().catch(() => undefined);
      if (tdsPgDb) await dropPgDatabase(tdsPgDb).catch(() => undefined);
      for (const db of pgDbs) await dropPgDatabase(db).catch(() => undefined);
      for (const d of tmpDirs) rmSync(d, { recursive: true, force: true });
    },
  };
  return world;
}
