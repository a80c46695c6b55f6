/**
 * Test harness of the sync engine: a small Batigest company, the BatiSimply world (simulator state),
 * a buffer, and engines built on them. Two backends:
 *  - 'sim': the real Batigest gateway over the TDS simulator and the real BatiSimply client over the
 *    BatiSimply simulator (HTTP) — the integration proof;
 *  - 'memory': in-memory ports over the same data (fast checks of the engine's decisions).
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { SuiviMoRow } from '../../../src/shared/domain.js';
import { settingsSchema, type Settings } from '../../../src/shared/settings.js';
import type { BatigestPort, BatisimplyPort, Clock, Logger } from '../../../src/main/services/ports.js';
import type { BufferStore } from '../../../src/main/services/buffer/index.js';
import { createTestBuffer, type BufferKind, type TestBuffer } from './buffers.js';
import { SyncEngine, type SyncHooks } from '../../../src/main/services/sync/engine.js';
import { createSyncFlows } from '../../../src/main/services/sync/flows/index.js';
import type { BatigestCompany, GenChantier, GenDevis, GenSalarie } from '../datasets/batigest.js';
import { SimState } from '../batisimply/state.js';
import { memoryLogger } from '../foundation/memory-logger.js';
import { MemoryBatigest, StateBatisimply } from './fakes.js';

/** What a test may change in an engine of the harness. */
export interface EngineOptions {
  machineName?: string;
  buffer?: BufferStore;
  hooks?: SyncHooks;
  clock?: Clock;
  hoursSegmentDays?: number;
}

/** An engine of the harness: its ports and buffer, fast retries, and the test's options. */
function testEngine(
  base: { batigest: BatigestPort; batisimply: BatisimplyPort; buffer: BufferStore; settings: () => Settings; clock: Clock; logger: Logger },
  o: EngineOptions,
): SyncEngine {
  return new SyncEngine({
    flows: createSyncFlows({ hours: { segmentDays: o.hoursSegmentDays } }),
    ...base,
    buffer: o.buffer ?? base.buffer,
    clock: o.clock ?? base.clock,
    machineName: o.machineName ?? 'PC-TEST',
    hooks: o.hooks,
    retryBaseMs: 1,
  });
}

export const U1 = '11111111-1111-4111-a111-111111111111';
export const U2 = '22222222-2222-4222-a222-222222222222';
export const U3 = '33333333-3333-4333-a333-333333333333';

const chantier = (code: string, description: string | null, nomClient: string, extra: Partial<GenChantier> = {}): GenChantier => ({
  code,
  nomClient,
  description,
  adresse: '12 rue des Lilas',
  codePostal: '69003',
  ville: 'Lyon',
  dateDebut: '2026-02-01',
  dateFin: null,
  etat: 'E',
  heuresVendues: 120,
  montant: 45000.5,
  dateModif: '2026-02-01T09:00:00',
  ...extra,
});

const devis = (code: string, etat: number, sujet: string | null): GenDevis => ({
  code,
  date: '2026-03-01',
  nom: 'SCI Les Tilleuls',
  adresse: '3 place du Marché',
  codePostal: '44000',
  ville: 'Nantes',
  sujet,
  dateConcretis: null,
  etat,
  tempsMO: 35.5,
  montant: 12000,
  dateModif: '2026-03-01T10:00:00',
  chantier: null,
});

const salarie = (code: string, prenom: string, nom: string, codebs: string | null, bsId: string): GenSalarie => ({
  code,
  prenom,
  nom,
  codebs,
  batisimplyUserId: bsId,
  email: `${prenom.toLowerCase()}@exemple-btp.fr`,
});

/** A tiny company covering every rule: normal rows, a row without name, devis in every state, mapped and unmapped salariés. */
export function smallCompany(): BatigestCompany {
  return {
    options: { seed: 1, chantiers: 4, devis: 5, salaries: 3, suiviMo: 0, variant: 'v1', withCodebs: true },
    variant: 'v1',
    withCodebs: true,
    chantiers: [
      chantier('00000101', 'Rénovation cuisine', 'Dupont Jean'),
      chantier('00000102', 'Extension garage', 'Martin SARL'),
      chantier('00000103', 'Toiture', 'Bernard'),
      chantier('00000104', null, ''),
    ],
    devis: [devis('D0000001', 0, 'Salle de bain'), devis('D0000002', 3, 'Isolation combles'), devis('D0000003', 4, 'Ravalement'), devis('D0000004', 1, 'Refusé'), devis('D0000005', 2, 'Perdu')],
    salaries: [salarie('S01', 'Jean', 'Martin', U1, U1), salarie('S02', 'Marie', 'Durand', U2, U2), salarie('PL', 'Paul', 'Leroy', null, U3)],
    suiviMo: [],
  };
}

export function testSettings(patch: (s: Settings) => void = () => undefined): Settings {
  const s = settingsSchema.parse({ machineName: 'PC-TEST' });
  s.batisimply.project = { headQuarterId: '7', projectManager: 'Conducteur Travaux', projectColor: '#ff8800', countryCode: 'FR', currency: 'EUR' };
  s.hours.windowDays = 180;
  patch(s);
  return s;
}

/** Fixed engine clock: mid-July 2026 (summer time in Paris). */
export const NOW = new Date('2026-07-15T12:00:00Z');

export interface Harness {
  /** Current settings (fresh after reset()); tests may mutate them. */
  readonly settings: Settings;
  readonly company: BatigestCompany;
  buffer: BufferStore;
  state: SimState;
  batigest: BatigestPort;
  batisimply: BatisimplyPort;
  clock: Clock & { set(d: Date): void };
  engine(o?: EngineOptions): SyncEngine;
  /** Every SuiviMO row in Batigest, sorted. */
  suiviMo(): Promise<SuiviMoRow[]>;
  /** Remote write counters since the last reset: BatiSimply POST/PUT of projects, SuiviMO write ops. */
  writes(): Promise<{ bsPost: number; bsPut: number; suiviMo: number }>;
  resetWrites(): void;
  updateChantier(code: string, patch: Partial<GenChantier>): Promise<void>;
  setCodebs(salarieCode: string, uuid: string | null): Promise<void>;
  projectsByCode(code: string): { id: number; projectName: string }[];
  /** An empty buffer (new PC, reinstall). */
  newBuffer(): Promise<BufferStore>;
  /** Back to the initial state: company reloaded, BatiSimply emptied (users kept), buffer emptied, clock at NOW. */
  reset(): Promise<void>;
  close(): Promise<void>;
  /** Runs PostgreSQL-dialect SQL on the Batigest database (simulators harness only). */
  adminExec?: (sql: string) => Promise<void>;
  /** Fields written to ChantierDef through the port since the start (simulators harness only). */
  chantierWrites?: () => number;
  /** Simulator handles (simulators harness only): fault injection, request logs. */
  sims?: { bs: import('../batisimply/index.js').BatisimplySimulator; tds: import('../tds/index.js').TdsSimulator };
}

const BUFFER_TABLES = 'sync_records, time_slots, slot_keys, suivimo_written, employees, run_items, runs, leases';

async function emptyBuffer(b: BufferStore): Promise<void> {
  await b.db.query(`TRUNCATE ${BUFFER_TABLES}`);
}

function resetSimState(state: SimState, company: BatigestCompany): void {
  state.projects.clear();
  state.timeSlots.clear();
  state.users.clear();
  for (const s of company.salaries) state.addUser({ id: s.batisimplyUserId, firstName: s.prenom, lastName: s.nom, email: s.email, login: s.email });
}

async function bufferPool(kind: BufferKind = 'pglite'): Promise<{ main: BufferStore; fresh(): Promise<BufferStore>; closeAll(): Promise<void> }> {
  const opened: TestBuffer[] = [];
  const open = async (): Promise<BufferStore> => {
    const tb = await createTestBuffer(kind);
    opened.push(tb);
    return tb.store;
  };
  const main = await open();
  let spare: BufferStore | null = null;
  return {
    main,
    /** One extra buffer, reused (emptied) across tests. */
    async fresh() {
      spare ??= await open();
      await emptyBuffer(spare);
      return spare;
    },
    async closeAll() {
      for (const tb of opened) await tb.close().catch(() => undefined);
    },
  };
}

export async function memoryHarness(makeCompany = smallCompany, makeSettings = () => testSettings()): Promise<Harness> {
  let now = NOW;
  const clock = { now: () => now, set: (d: Date) => (now = d) };
  let company = makeCompany();
  let settings = makeSettings();
  const state = new SimState(() => now.getTime(), [], []);
  resetSimState(state, company);
  let bg = new MemoryBatigest(company);
  const bs = new StateBatisimply(state);
  const buffers = await bufferPool();
  let base = { post: 0, put: 0, ops: 0 };
  const h: Harness = {
    get settings() {
      return settings;
    },
    get company() {
      return company;
    },
    buffer: buffers.main,
    state,
    get batigest() {
      return bg;
    },
    batisimply: bs,
    clock,
    engine: (o = {}) => testEngine({ batigest: bg, batisimply: bs, buffer: buffers.main, settings: () => settings, clock, logger: memoryLogger() }, o),
    suiviMo: async () => [...bg.suivi.values()].sort((a, b) => `${a.codeChantier}${a.codeSalarie}${a.date}`.localeCompare(`${b.codeChantier}${b.codeSalarie}${b.date}`)),
    writes: async () => ({ bsPost: bs.counts.creates - base.post, bsPut: bs.counts.updates - base.put, suiviMo: bg.stats.ops - base.ops }),
    resetWrites: () => {
      base = { post: bs.counts.creates, put: bs.counts.updates, ops: bg.stats.ops };
    },
    updateChantier: async (code, patch) => {
      const c = company.chantiers.find((x) => x.code === code);
      if (!c) throw new Error(`no chantier ${code}`);
      Object.assign(c, patch);
    },
    setCodebs: async (code, uuid) => {
      const s = company.salaries.find((x) => x.code === code);
      if (!s) throw new Error(`no salarie ${code}`);
      s.codebs = uuid;
    },
    projectsByCode: (code) => [...state.projects.values()].filter((p) => p.projectCode === code).map((p) => ({ id: p.id, projectName: p.projectName })),
    newBuffer: () => buffers.fresh(),
    reset: async () => {
      now = NOW;
      company = makeCompany();
      settings = makeSettings();
      bg = new MemoryBatigest(company);
      resetSimState(state, company);
      await emptyBuffer(buffers.main);
      base = { post: bs.counts.creates, put: bs.counts.updates, ops: 0 };
    },
    close: () => buffers.closeAll(),
  };
  return h;
}

// ------------------------------------------------------------------------------------------ simulators

/** Counts what the engine asks Batigest to write (the gateway is the only writer of SuiviMO). */
class CountingBatigest implements BatigestPort {
  ops = 0;
  calls = 0;
  constructor(private readonly inner: BatigestPort) {}
  testConnection = () => this.inner.testConnection();
  readChantiers = (o?: Parameters<BatigestPort['readChantiers']>[0]) => this.inner.readChantiers(o);
  readDevis = (o?: Parameters<BatigestPort['readDevis']>[0]) => this.inner.readDevis(o);
  readSalaries = () => this.inner.readSalaries();
  readSuiviMo = (k: Parameters<BatigestPort['readSuiviMo']>[0]) => this.inner.readSuiviMo(k);
  readDevisHours = (s: readonly number[]) => this.inner.readDevisHours(s);
  chantierEtatCounts = () => this.inner.chantierEtatCounts();
  chantierWrites = 0;
  writeChantierFields = async (c: Parameters<BatigestPort['writeChantierFields']>[0], o?: Parameters<BatigestPort['writeChantierFields']>[1]) => {
    this.chantierWrites += c.length;
    return this.inner.writeChantierFields(c, o);
  };
  applySuiviMo = async (ops: Parameters<BatigestPort['applySuiviMo']>[0], o?: Parameters<BatigestPort['applySuiviMo']>[1]) => {
    const r = await this.inner.applySuiviMo(ops, o);
    this.calls++;
    this.ops += ops.length;
    return r;
  };
  close = () => this.inner.close();
}

export async function simHarness(makeCompany = smallCompany, makeSettings = () => testSettings(), bufferKind: BufferKind = 'pglite'): Promise<Harness> {
  const [{ createPgliteBackend, startTdsSimulator }, { startBatisimplySimulator, SIM_DEFAULT_CREDENTIALS }, { loadBatigestCompany, BATIGEST_COLUMNS, pgLiteral }, { BatigestGateway }, { BatisimplyClient }, mssql] =
    await Promise.all([
      import('../tds/index.js'),
      import('../batisimply/index.js'),
      import('../datasets/batigest.js'),
      import('../../../src/main/services/batigest/gateway.js'),
      import('../../../src/main/services/batisimply/client.js'),
      import('mssql'),
    ]);
  let now = NOW;
  const clock = { now: () => now, set: (d: Date) => (now = d) };
  const database = 'BTG_TEST';
  let company = makeCompany();
  const backend = await createPgliteBackend();
  await loadBatigestCompany(backend, database, company);
  const tds = await startTdsSimulator({ backend, logins: { sa: 'Secret#1' } });
  const sim = await startBatisimplySimulator({ now: () => now.getTime() });
  resetSimState(sim.state, company);
  const connect = (s: Settings): Settings => {
    Object.assign(s.sqlServer, { server: `127.0.0.1,${tds.port}`, database, authentication: 'sql', user: 'sa', password: 'Secret#1', encrypt: false, trustServerCertificate: true });
    Object.assign(s.batisimply, { environment: 'custom', ssoUrl: sim.ssoUrl, apiUrl: sim.apiUrl, ...SIM_DEFAULT_CREDENTIALS, maxRetries: 2 });
    return s;
  };
  let settings = connect(makeSettings());
  const logger = memoryLogger();
  const gateway = new BatigestGateway({ settings: settings.sqlServer, logger });
  const bg = new CountingBatigest(gateway);
  const bs = new BatisimplyClient(settings.batisimply, { clock, logger, sleep: async () => undefined, cacheTtlMs: 0 });
  const reader = await new mssql.ConnectionPool({
    server: '127.0.0.1',
    port: tds.port,
    user: 'sa',
    password: 'Secret#1',
    database,
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
  const buffers = await bufferPool(bufferKind);
  let base = { post: 0, put: 0, ops: 0 };
  const counts = () => ({ post: sim.log.count('POST /api/project'), put: sim.log.count('PUT /api/project/{id}'), ops: bg.ops });
  const col = BATIGEST_COLUMNS[company.variant];
  return {
    sims: { bs: sim, tds },
    adminExec: (text) => backend.adminExec(database, text),
    chantierWrites: () => bg.chantierWrites,
    get settings() {
      return settings;
    },
    get company() {
      return company;
    },
    buffer: buffers.main,
    state: sim.state,
    batigest: bg,
    batisimply: bs,
    clock,
    engine: (o = {}) => testEngine({ batigest: bg, batisimply: bs, buffer: buffers.main, settings: () => settings, clock, logger }, o),
    suiviMo: async () => {
      const r = await reader.request().query('SELECT [CodeChantier], [CodeSalarie], [Date], [NbH0], [NbH3], [NbH4] FROM [dbo].[SuiviMO] ORDER BY [CodeChantier], [CodeSalarie], [Date]');
      return (r.recordset as Record<string, unknown>[]).map((x) => ({
        codeChantier: String(x.CodeChantier),
        codeSalarie: String(x.CodeSalarie),
        date: (x.Date instanceof Date ? x.Date.toISOString() : String(x.Date)).slice(0, 10),
        nbH0: Number(x.NbH0),
        nbH3: Number(x.NbH3),
        nbH4: Number(x.NbH4),
      }));
    },
    writes: async () => {
      const c = counts();
      return { bsPost: c.post - base.post, bsPut: c.put - base.put, suiviMo: c.ops - base.ops };
    },
    resetWrites: () => {
      base = counts();
    },
    updateChantier: async (code, patch) => {
      const sets = Object.entries(patch).map(([k, v]) => `"${col.chantier[k as keyof typeof col.chantier]}" = ${pgLiteral(v as string | number | null)}`);
      await backend.adminExec(database, `UPDATE "ChantierDef" SET ${sets.join(', ')} WHERE "Code" = ${pgLiteral(code)}`);
    },
    setCodebs: async (code, uuid) => {
      await backend.adminExec(database, `UPDATE "Salarie" SET "${col.salarie.codebs}" = ${pgLiteral(uuid)} WHERE "${col.salarie.code}" = ${pgLiteral(code)}`);
    },
    projectsByCode: (code) => [...sim.state.projects.values()].filter((p) => p.projectCode === code).map((p) => ({ id: p.id, projectName: p.projectName })),
    newBuffer: () => buffers.fresh(),
    reset: async () => {
      now = NOW;
      company = makeCompany();
      const fresh = connect(makeSettings());
      // The gateway and the client hold these two objects: keep them, refresh their content.
      settings = { ...fresh, sqlServer: Object.assign(settings.sqlServer, fresh.sqlServer), batisimply: Object.assign(settings.batisimply, fresh.batisimply) };
      await loadBatigestCompany(backend, database, company);
      resetSimState(sim.state, company);
      sim.faults.clear();
      sim.setAccountDisabled(SIM_DEFAULT_CREDENTIALS.username, false);
      await emptyBuffer(buffers.main);
      base = counts();
    },
    close: async () => {
      await reader.close().catch(() => undefined);
      await gateway.close().catch(() => undefined);
      await bs.close().catch(() => undefined);
      await buffers.closeAll();
      await sim.close();
      await tds.close();
      await backend.close();
    },
  };
}

/**
 * One simulator harness for a describe block: built before its tests, reset before each (then `beforeEach`),
 * closed after. `onStart` receives it (the file keeps it in a variable of its own).
 */
export function useSimHarness(onStart: (h: Harness) => void, o: { beforeEach?: (h: Harness) => void | Promise<void> } = {}): void {
  let h: Harness | undefined;
  beforeAll(async () => {
    h = await simHarness();
    onStart(h);
  });
  afterAll(async () => {
    await h?.close();
  });
  beforeEach(async () => {
    await h!.reset();
    await o.beforeEach?.(h!);
  });
}
