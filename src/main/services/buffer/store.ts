/**
 * Every SQL statement of the buffer database, behind typed methods. Rows are validated with zod.
 */
import { z } from 'zod';
import type { BufferDb, BufferQueryable, SqlParam } from './db.js';
import { fencedDb, lastRunner, type LeaseFence } from './fence.js';
import { migrate } from './migrations.js';
import { ChantierLifeStore } from './chantier-life.js';

const date = z.coerce.date();
const nullableDate = z.union([z.null(), z.coerce.date()]);

export type RecordKind = 'chantier' | 'devis';
export type FlowName = 'push' | 'hours' | 'imports' | 'chantiers-back';

const recordRowSchema = z.object({
  kind: z.enum(['chantier', 'devis']),
  source_code: z.string(),
  source_name: z.string().nullable(),
  source_hash: z.string(),
  source_modified: nullableDate,
  batisimply_id: z.string().nullable(),
  pushed_hash: z.string().nullable(),
  pushed_at: nullableDate,
  remote_modified: nullableDate,
  first_seen: date,
  last_seen: date,
  last_error: z.string().nullable(),
  attempts: z.number(),
  intent: z.enum(['create', 'update']).nullable(),
  intent_hash: z.string().nullable(),
  intent_at: nullableDate,
});
export type RecordRow = z.infer<typeof recordRowSchema>;

const slotRowSchema = z.object({
  slot_id: z.string(),
  content: z.string(),
  content_hash: z.string(),
  status: z.string(),
  start_utc: date,
  remote_modified: nullableDate,
  state: z.string(),
  reason: z.string().nullable(),
  attempts: z.number(),
  first_seen: date,
  last_seen: date,
  last_changed: date,
});
export type SlotRow = z.infer<typeof slotRowSchema>;

/** What the hours flow compares a listed slot with: no stored content (50,000 slots would hold ~60 MB of it). */
const slotBriefSchema = slotRowSchema.pick({ slot_id: true, content_hash: true, state: true, start_utc: true });
export type SlotBrief = z.infer<typeof slotBriefSchema>;

/** States of a time slot in the buffer. */
export type SlotState =
  | 'written' // contributes to a SuiviMO row (slot_keys holds its key)
  | 'not_validated' // not VALIDATED in BatiSimply
  | 'unmapped_user' // BatiSimply user without a Batigest salarié
  | 'unknown_chantier' // project code unknown in Batigest / unresolvable
  | 'deleted' // gone from BatiSimply
  | 'failed'; // write failed, retried next run

const slotKeyRowSchema = z.object({
  slot_id: z.string(),
  code_chantier: z.string(),
  code_salarie: z.string(),
  day: z.string(),
  minutes: z.number(),
  trajet: z.number(),
  panier: z.number(),
});
export type SlotKeyRow = z.infer<typeof slotKeyRowSchema>;

const writtenRowSchema = z.object({
  code_chantier: z.string(),
  code_salarie: z.string(),
  day: z.string(),
  minutes: z.number().nullable(),
  trajet: z.number().nullable(),
  panier: z.number().nullable(),
  dirty: z.boolean(),
  written_at: nullableDate,
});
export type WrittenRow = z.infer<typeof writtenRowSchema>;

export const runStatusSchema = z.enum(['running', 'succeeded', 'partial', 'failed', 'cancelled', 'interrupted']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runRowSchema = z.object({
  id: z.string(),
  seq: z.number(),
  flow: z.enum(['push', 'hours', 'imports', 'chantiers-back']),
  machine: z.string(),
  trigger: z.string(),
  started_at: date,
  ended_at: nullableDate,
  status: runStatusSchema,
  created: z.number(),
  updated: z.number(),
  unchanged: z.number(),
  skipped: z.number(),
  failed: z.number(),
  conflicts: z.number(),
  writes: z.number(),
  error_code: z.string().nullable(),
  message: z.string().nullable(),
  /** Push runs: the sync mode when the run started (NULL for hours runs and runs older than migration 2). */
  mode: z.enum(['chantier', 'devis']).nullable().catch(null).default(null),
  /** The job of the run (migration 3): the runs of one « Tout synchroniser » share it. */
  job_id: z.string().nullable().catch(null).default(null),
});
export type RunRow = z.infer<typeof runRowSchema>;

const runItemRowSchema = z.object({
  id: z.number(),
  run_id: z.string(),
  record_key: z.string(),
  action: z.string(),
  reason: z.string().nullable(),
  at: date,
});
export type RunItemRow = z.infer<typeof runItemRowSchema>;

const employeeRowSchema = z.object({
  batisimply_user_id: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  email: z.string().nullable(),
  salarie_code: z.string().nullable(),
  salarie_name: z.string().nullable(),
  updated_at: date,
});
export type EmployeeRow = z.infer<typeof employeeRowSchema>;

const leaseRowSchema = z.object({
  flow: z.string(),
  holder: z.string(),
  machine: z.string(),
  run_id: z.string().nullable(),
  acquired_at: date,
  expires_at: date,
  /** Fencing token (migration 7): a new number at each acquisition (pg answers bigint as text). */
  generation: z.coerce.number().int().catch(0).default(0),
});
export type LeaseRow = z.infer<typeof leaseRowSchema>;

export interface RunCounts {
  created: number;
  updated: number;
  unchanged: number;
  skipped: number;
  failed: number;
  conflicts: number;
  writes: number;
}

export interface RunItemInput {
  recordKey: string;
  action: string;
  reason: string | null;
}

export interface SlotUpsert {
  slotId: string;
  content: string;
  contentHash: string;
  status: string;
  startUtc: Date;
  remoteModified: Date | null;
  state: SlotState;
  reason: string | null;
  changed: boolean;
}

export interface KeyRef {
  codeChantier: string;
  codeSalarie: string;
  day: string;
}
export const keyString = (k: KeyRef): string => `${k.codeChantier}|${k.codeSalarie}|${k.day}`;

function parseRows<T>(schema: z.ZodType<T>, rows: unknown[]): T[] {
  return rows.map((r) => schema.parse(r));
}

/**
 * The rows of a large SELECT as ONE JSON text built by the database (`json_agg`), parsed with JSON.parse, each row
 * then checked by its zod schema as before. Reading 50,000 slot rows field by field through the embedded buffer's
 * wire protocol cost ~370 ms of CPU; one text of the same rows ~100 ms (profile of the quiet cycle, issue 22).
 * Timestamps come as ISO 8601 text with their offset (the schemas' z.coerce.date reads them), numbers as numbers.
 */
async function selectJson<T>(q: BufferQueryable, schema: z.ZodType<T>, select: string, params: SqlParam[] = []): Promise<T[]> {
  const res = await q.query<{ j: string }>(`SELECT coalesce(json_agg(t), '[]')::text AS j FROM (${select}) t`, params);
  const rows: unknown = JSON.parse(res[0]?.j ?? '[]');
  return parseRows(schema, Array.isArray(rows) ? rows : []);
}

const uniq = (xs: string[]): string[] => [...new Set(xs)];

/** Precision of `last_seen` (records and slots): an unchanged row is rewritten at most once per 6 hours. */
export const TOUCH_GRAIN_MS = 6 * 3_600_000;
const touchedBefore = (now: Date): Date => new Date(now.getTime() - TOUCH_GRAIN_MS);

export interface FinishedRun {
  id: string;
  status: RunStatus;
  counts: RunCounts;
  errorCode: string | null;
  message: string | null;
  now: Date;
}

async function finishRunIn(q: BufferQueryable, r: FinishedRun): Promise<void> {
  await q.query(
    `UPDATE runs SET status = $2, ended_at = $3, created = $4, updated = $5, unchanged = $6, skipped = $7, failed = $8,
            conflicts = $9, writes = $10, error_code = $11, message = $12 WHERE id = $1`,
    [r.id, r.status, r.now, r.counts.created, r.counts.updated, r.counts.unchanged, r.counts.skipped, r.counts.failed,
      r.counts.conflicts, r.counts.writes, r.errorCode, r.message],
  );
}

async function addRunItemsIn(q: BufferQueryable, runId: string, items: RunItemInput[], now: Date): Promise<void> {
  for (let i = 0; i < items.length; i += 1000) {
    const part = items.slice(i, i + 1000);
    await q.query(
      `INSERT INTO run_items (run_id, record_key, action, reason, at)
       SELECT $1, k, a, r, $5 FROM unnest($2::text[], $3::text[], $4::text[]) AS t(k, a, r)`,
      [runId, part.map((x) => x.recordKey), part.map((x) => x.action), part.map((x) => x.reason ?? ''), now],
    );
  }
}

export class BufferStore {
  constructor(readonly db: BufferDb) {}

  /** A chantier's life marks (deleted in Batigest, fields last pushed): buffer/chantier-life.ts. */
  get chantierLife(): ChantierLifeStore {
    return new ChantierLifeStore(this.db);
  }

  /** Applies the migrations; call once at start. */
  async init(): Promise<void> {
    await migrate(this.db);
  }

  transaction<T>(fn: (tx: BufferStoreTx) => Promise<T>): Promise<T> {
    return this.db.transaction((q) => fn(new BufferStoreTx(q)));
  }

  // ---------------------------------------------------------------- records (push flow)

  async loadRecords(kind: RecordKind): Promise<Map<string, RecordRow>> {
    const rows = await selectJson(this.db, recordRowSchema, 'SELECT * FROM sync_records WHERE kind = $1', [kind]);
    return new Map(rows.map((r) => [r.source_code, r]));
  }

  /** BatiSimply project id → Batigest code, for every pushed record of both kinds. */
  async loadProjectCodes(): Promise<Map<string, string>> {
    const rows = await selectJson(
      this.db,
      z.object({ batisimply_id: z.string(), source_code: z.string() }),
      'SELECT batisimply_id, source_code FROM sync_records WHERE batisimply_id IS NOT NULL ORDER BY kind',
    );
    return new Map(rows.map((r) => [r.batisimply_id, r.source_code]));
  }

  async countRecords(): Promise<{ kind: string; total: number; pushed: number; pending: number; errors: number }[]> {
    const rows = await this.db.query(
      `SELECT kind, count(*)::int AS total,
              count(*) FILTER (WHERE batisimply_id IS NOT NULL AND pushed_hash = source_hash)::int AS pushed,
              count(*) FILTER (WHERE intent IS NOT NULL OR pushed_hash IS DISTINCT FROM source_hash)::int AS pending,
              count(*) FILTER (WHERE last_error IS NOT NULL)::int AS errors
         FROM sync_records GROUP BY kind ORDER BY kind`,
    );
    return parseRows(z.object({ kind: z.string(), total: z.number(), pushed: z.number(), pending: z.number(), errors: z.number() }), rows);
  }

  /**
   * Marks records seen in this run (no content change). `last_seen` is kept to within TOUCH_GRAIN_MS: a row seen
   * less than that ago is not rewritten, so a quiet cycle every 5 minutes does not rewrite every row of the table
   * (and its WAL) each time.
   */
  async touchRecords(kind: RecordKind, codes: string[], now: Date): Promise<void> {
    if (codes.length === 0) return;
    await this.db.query('UPDATE sync_records SET last_seen = $3 WHERE kind = $1 AND source_code = ANY($2::text[]) AND last_seen < $4', [
      kind,
      uniq(codes),
      now,
      touchedBefore(now),
    ]);
  }

  /** Step 1 of the push protocol: record what is about to be sent, before the remote call. */
  async setIntent(r: {
    kind: RecordKind;
    code: string;
    name: string | null;
    hash: string;
    sourceModified: Date | null;
    intent: 'create' | 'update';
    now: Date;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO sync_records (kind, source_code, source_name, source_hash, source_modified, first_seen, last_seen, intent, intent_hash, intent_at)
       VALUES ($1, $2, $3, $4, $5, $7, $7, $6, $4, $7)
       ON CONFLICT (kind, source_code) DO UPDATE SET
         source_name = EXCLUDED.source_name, source_hash = EXCLUDED.source_hash, source_modified = EXCLUDED.source_modified,
         last_seen = EXCLUDED.last_seen, intent = EXCLUDED.intent, intent_hash = EXCLUDED.intent_hash, intent_at = EXCLUDED.intent_at`,
      [r.kind, r.code, r.name, r.hash, r.sourceModified, r.intent, r.now],
    );
  }

  /** Step 3 of the push protocol: the remote write succeeded (or the project was adopted as is). */
  async commitPush(r: {
    kind: RecordKind;
    code: string;
    name: string | null;
    sourceHash: string;
    sourceModified: Date | null;
    batisimplyId: string;
    pushedHash: string;
    remoteModified: Date | null;
    now: Date;
  }): Promise<void> {
    await this.db.query(
      `INSERT INTO sync_records (kind, source_code, source_name, source_hash, source_modified, batisimply_id, pushed_hash, pushed_at,
                                 remote_modified, first_seen, last_seen, last_error, attempts, intent, intent_hash, intent_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $9, $8, $9, $9, NULL, 0, NULL, NULL, NULL)
       ON CONFLICT (kind, source_code) DO UPDATE SET
         source_name = EXCLUDED.source_name, source_hash = EXCLUDED.source_hash, source_modified = EXCLUDED.source_modified,
         batisimply_id = EXCLUDED.batisimply_id, pushed_hash = EXCLUDED.pushed_hash, pushed_at = EXCLUDED.pushed_at,
         remote_modified = EXCLUDED.remote_modified, last_seen = EXCLUDED.last_seen,
         last_error = NULL, attempts = 0, intent = NULL, intent_hash = NULL, intent_at = NULL`,
      [r.kind, r.code, r.name, r.sourceHash, r.sourceModified, r.batisimplyId, r.pushedHash, r.remoteModified, r.now],
    );
  }

  /** A record that failed or was skipped: keep it (and any pending intent) to retry next run. */
  async recordError(r: { kind: RecordKind; code: string; name: string | null; hash: string; error: string; now: Date }): Promise<void> {
    await this.db.query(
      `INSERT INTO sync_records (kind, source_code, source_name, source_hash, first_seen, last_seen, last_error, attempts)
       VALUES ($1, $2, $3, $4, $6, $6, $5, 1)
       ON CONFLICT (kind, source_code) DO UPDATE SET
         source_name = EXCLUDED.source_name, source_hash = EXCLUDED.source_hash, last_seen = EXCLUDED.last_seen,
         last_error = EXCLUDED.last_error, attempts = sync_records.attempts + 1`,
      [r.kind, r.code, r.name, r.hash, r.error, r.now],
    );
  }

  async findRecordByBatisimplyId(id: string): Promise<RecordRow | null> {
    const rows = parseRows(recordRowSchema, await this.db.query('SELECT * FROM sync_records WHERE batisimply_id = $1 LIMIT 1', [id]));
    return rows[0] ?? null;
  }

  // ---------------------------------------------------------------- time slots (hours flow)

  async loadSlots(): Promise<Map<string, SlotRow>> {
    const rows = parseRows(slotRowSchema, await this.db.query('SELECT * FROM time_slots'));
    return new Map(rows.map((r) => [r.slot_id, r]));
  }

  /** The slots' hash, state and start, without their content (see SlotBrief). */
  async loadSlotBriefs(): Promise<Map<string, SlotBrief>> {
    const rows = await selectJson(this.db, slotBriefSchema, 'SELECT slot_id, content_hash, state, start_utc FROM time_slots');
    return new Map(rows.map((r) => [r.slot_id, r]));
  }

  async loadSlotKeys(): Promise<Map<string, SlotKeyRow>> {
    const rows = await selectJson(this.db, slotKeyRowSchema, 'SELECT slot_id, code_chantier, code_salarie, day, minutes, trajet, panier FROM slot_keys');
    return new Map(rows.map((r) => [r.slot_id, r]));
  }

  async loadWritten(): Promise<Map<string, WrittenRow>> {
    const rows = await selectJson(this.db, writtenRowSchema, 'SELECT * FROM suivimo_written');
    return new Map(rows.map((r) => [keyString({ codeChantier: r.code_chantier, codeSalarie: r.code_salarie, day: r.day }), r]));
  }

  /** Marks slots seen again in this run (no change); like touchRecords, to within TOUCH_GRAIN_MS. */
  async touchSlots(ids: string[], now: Date): Promise<void> {
    if (ids.length === 0) return;
    await this.db.query('UPDATE time_slots SET last_seen = $2 WHERE slot_id = ANY($1::text[]) AND last_seen < $3', [uniq(ids), now, touchedBefore(now)]);
  }

  async countSlots(): Promise<{ state: string; n: number }[]> {
    return parseRows(
      z.object({ state: z.string(), n: z.number() }),
      await this.db.query('SELECT state, count(*)::int AS n FROM time_slots GROUP BY state ORDER BY state'),
    );
  }

  async countDirtyKeys(): Promise<number> {
    const rows = await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM suivimo_written WHERE dirty');
    return rows[0]?.n ?? 0;
  }

  // ---------------------------------------------------------------- employees

  async replaceEmployees(rows: Omit<EmployeeRow, 'updated_at'>[], now: Date): Promise<void> {
    await this.transaction(async (tx) => {
      await tx.q.query('DELETE FROM employees');
      for (const r of rows) {
        await tx.q.query(
          `INSERT INTO employees (batisimply_user_id, first_name, last_name, email, salarie_code, salarie_name, updated_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7)`,
          [r.batisimply_user_id, r.first_name, r.last_name, r.email, r.salarie_code, r.salarie_name, now],
        );
      }
    });
  }

  async listEmployees(): Promise<EmployeeRow[]> {
    return parseRows(employeeRowSchema, await this.db.query('SELECT * FROM employees ORDER BY last_name NULLS LAST, first_name'));
  }

  // ---------------------------------------------------------------- journal

  /** `mode`: the sync mode of a push run (kept so the journal shows the mode the run really used). */
  async startRun(r: { id: string; flow: FlowName; machine: string; trigger: string; now: Date; mode?: 'chantier' | 'devis' | null }): Promise<void> {
    await this.db.query(
      `INSERT INTO runs (id, flow, machine, trigger, started_at, status, mode) VALUES ($1, $2, $3, $4, $5, 'running', $6)`,
      [r.id, r.flow, r.machine, r.trigger, r.now, r.flow === 'push' ? (r.mode ?? null) : null],
    );
  }

  /** Runs of this flow still 'running' are dead when we hold the flow's lease: mark them interrupted. */
  async markInterrupted(flow: FlowName, exceptRunId: string, now: Date): Promise<number> {
    const rows = await this.db.query(
      `UPDATE runs SET status = 'interrupted', ended_at = $3,
              message = 'Exécution interrompue (arrêt du programme ou du poste) ; reprise au passage suivant.'
        WHERE flow = $1 AND status = 'running' AND id <> $2 RETURNING id`,
      [flow, exceptRunId, now],
    );
    return rows.length;
  }

  /** Tags a run with its job (the runs of one « Tout synchroniser » share one job id). */
  async setRunJob(id: string, jobId: string): Promise<void> {
    await this.db.query('UPDATE runs SET job_id = $2 WHERE id = $1', [id, jobId]);
  }

  async updateRunCounts(id: string, c: RunCounts): Promise<void> {
    await this.db.query(
      `UPDATE runs SET created = $2, updated = $3, unchanged = $4, skipped = $5, failed = $6, conflicts = $7, writes = $8 WHERE id = $1`,
      [id, c.created, c.updated, c.unchanged, c.skipped, c.failed, c.conflicts, c.writes],
    );
  }

  async finishRun(r: FinishedRun): Promise<void> {
    await finishRunIn(this.db, r);
  }

  async addRunItems(runId: string, items: RunItemInput[], now: Date): Promise<void> {
    await addRunItemsIn(this.db, runId, items, now);
  }

  /** The run's journal lines and its end, in one transaction: safe to retry as a whole. */
  async closeRun(r: FinishedRun, items: RunItemInput[]): Promise<void> {
    await this.db.transaction(async (q) => {
      await addRunItemsIn(q, r.id, items, r.now);
      await finishRunIn(q, r);
    });
  }

  async listRuns(limit = 20, flow?: FlowName): Promise<RunRow[]> {
    const rows = flow
      ? await this.db.query('SELECT * FROM runs WHERE flow = $2 ORDER BY started_at DESC, seq DESC LIMIT $1', [limit, flow])
      : await this.db.query('SELECT * FROM runs ORDER BY started_at DESC, seq DESC LIMIT $1', [limit]);
    return parseRows(runRowSchema, rows);
  }

  async getRun(id: string): Promise<RunRow | null> {
    return parseRows(runRowSchema, await this.db.query('SELECT * FROM runs WHERE id = $1', [id]))[0] ?? null;
  }

  async listRunItems(runId: string, limit = 10_000): Promise<RunItemRow[]> {
    return parseRows(runItemRowSchema, await this.db.query('SELECT * FROM run_items WHERE run_id = $1 ORDER BY id LIMIT $2', [runId, limit]));
  }

  // ---------------------------------------------------------------- leases (multi-PC lock)

  /**
   * Takes the flow's lease when it is free, expired, or already ours. Returns the current holder row.
   * One atomic statement: two PCs racing cannot both win.
   */
  async acquireLease(r: { flow: FlowName; holder: string; machine: string; runId: string; now: Date; ttlMs: number }): Promise<{ acquired: boolean; lease: LeaseRow | null }> {
    const expires = new Date(r.now.getTime() + r.ttlMs);
    const won = await this.db.query(
      `INSERT INTO leases (flow, holder, machine, run_id, acquired_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (flow) DO UPDATE SET holder = EXCLUDED.holder, machine = EXCLUDED.machine, run_id = EXCLUDED.run_id,
              acquired_at = EXCLUDED.acquired_at, expires_at = EXCLUDED.expires_at, generation = nextval('lease_generation')
        WHERE leases.expires_at <= EXCLUDED.acquired_at OR leases.holder = EXCLUDED.holder
       RETURNING *`,
      [r.flow, r.holder, r.machine, r.runId, r.now, expires],
    );
    if (won.length > 0) return { acquired: true, lease: leaseRowSchema.parse(won[0]) };
    const cur = parseRows(leaseRowSchema, await this.db.query('SELECT * FROM leases WHERE flow = $1', [r.flow]));
    return { acquired: false, lease: cur[0] ?? null };
  }

  /**
   * Takes over a lease left by a process that is known to be dead (same PC, see the sync engine), even before
   * it expires. One atomic statement conditioned on the dead holder: of two processes restarting at once, only
   * one gets the row back. Returns the new lease, or null when the holder changed meanwhile.
   */
  async takeOverLease(r: { flow: FlowName; fromHolder: string; holder: string; machine: string; runId: string; now: Date; ttlMs: number }): Promise<LeaseRow | null> {
    const rows = await this.db.query(
      `UPDATE leases SET holder = $3, machine = $4, run_id = $5, acquired_at = $6, expires_at = $7, generation = nextval('lease_generation')
        WHERE flow = $1 AND holder = $2
       RETURNING *`,
      [r.flow, r.fromHolder, r.holder, r.machine, r.runId, r.now, new Date(r.now.getTime() + r.ttlMs)],
    );
    return rows.length > 0 ? leaseRowSchema.parse(rows[0]) : null;
  }

  /**
   * Extends our lease; false when it was lost (expired and taken over by another PC). With `generation`, only the
   * lease of that acquisition is extended (fencing: a later acquisition by the same holder string does not count).
   */
  async renewLease(r: { flow: FlowName; holder: string; now: Date; ttlMs: number; generation?: number }): Promise<boolean> {
    const rows = await this.db.query(
      'UPDATE leases SET expires_at = $3 WHERE flow = $1 AND holder = $2 AND ($4::bigint IS NULL OR generation = $4::bigint) RETURNING flow',
      [r.flow, r.holder, new Date(r.now.getTime() + r.ttlMs), r.generation ?? null],
    );
    return rows.length > 0;
  }

  /** The latest scheduled run of the flow ended succeeded or partial that started at `since` or later (any PC), or null. */
  async lastDoneSince(flow: FlowName, since: Date): Promise<{ id: string; machine: string; started_at: Date } | null> {
    const rows = await this.db.query(
      `SELECT id, machine, started_at FROM runs
        WHERE flow = $1 AND started_at >= $2 AND trigger = 'schedule' AND status IN ('succeeded', 'partial')
        ORDER BY started_at DESC LIMIT 1`,
      [flow, since],
    );
    return parseRows(z.object({ id: z.string(), machine: z.string(), started_at: date }), rows)[0] ?? null;
  }

  /** The flow's lease row as it is now (null: nobody holds it). */
  async getLease(flow: FlowName): Promise<LeaseRow | null> {
    return parseRows(leaseRowSchema, await this.db.query('SELECT * FROM leases WHERE flow = $1', [flow]))[0] ?? null;
  }

  /** Who holds the flow's lease now, or (released since) the PC of its latest run; null when neither is known. */
  async leaseTakenBy(flow: FlowName): Promise<{ holder: string; machine: string; generation: number } | null> {
    const row = await this.getLease(flow);
    return row ? { holder: row.holder, machine: row.machine, generation: row.generation } : lastRunner(this.db, flow);
  }

  /**
   * This store seen through a lease (fencing): each of its statements and transactions first checks, in the same
   * transaction and with the lease row locked (FOR SHARE: a takeover waits for the commit), that the lease still
   * carries our acquisition's generation; else it aborts with SYNC_LEASE_LOST and nothing of it is written.
   */
  fenced(fence: LeaseFence): BufferStore {
    return new BufferStore(fencedDb(this.db, fence));
  }

  async releaseLease(flow: FlowName, holder: string): Promise<void> {
    await this.db.query('DELETE FROM leases WHERE flow = $1 AND holder = $2', [flow, holder]);
  }

  async listLeases(): Promise<LeaseRow[]> {
    return parseRows(leaseRowSchema, await this.db.query('SELECT * FROM leases ORDER BY flow'));
  }
}

/** Statements that must run inside one buffer transaction (hours flow intents and commits). */
export class BufferStoreTx {
  constructor(readonly q: BufferQueryable) {}

  async upsertSlot(s: SlotUpsert, now: Date): Promise<void> {
    await this.q.query(
      `INSERT INTO time_slots (slot_id, content, content_hash, status, start_utc, remote_modified, state, reason, attempts,
                               first_seen, last_seen, last_changed)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, CASE WHEN $7 = 'failed' THEN 1 ELSE 0 END, $9, $9, $9)
       ON CONFLICT (slot_id) DO UPDATE SET content = EXCLUDED.content, content_hash = EXCLUDED.content_hash,
              status = EXCLUDED.status, start_utc = EXCLUDED.start_utc, remote_modified = EXCLUDED.remote_modified,
              state = EXCLUDED.state, reason = EXCLUDED.reason,
              attempts = CASE WHEN EXCLUDED.state IN ('written') THEN 0 ELSE time_slots.attempts + 1 END,
              last_seen = EXCLUDED.last_seen,
              last_changed = CASE WHEN $10 THEN EXCLUDED.last_changed ELSE time_slots.last_changed END`,
      [s.slotId, s.content, s.contentHash, s.status, s.startUtc, s.remoteModified, s.state, s.reason, now, s.changed],
    );
  }

  async setSlotState(slotId: string, state: SlotState, reason: string | null, now: Date): Promise<void> {
    await this.q.query('UPDATE time_slots SET state = $2, reason = $3, last_seen = $4 WHERE slot_id = $1', [slotId, state, reason, now]);
  }

  async setSlotKey(r: SlotKeyRow, now: Date): Promise<void> {
    await this.q.query(
      `INSERT INTO slot_keys (slot_id, code_chantier, code_salarie, day, minutes, trajet, panier, mapped_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
       ON CONFLICT (slot_id) DO UPDATE SET code_chantier = EXCLUDED.code_chantier, code_salarie = EXCLUDED.code_salarie,
              day = EXCLUDED.day, minutes = EXCLUDED.minutes, trajet = EXCLUDED.trajet, panier = EXCLUDED.panier,
              mapped_at = EXCLUDED.mapped_at`,
      [r.slot_id, r.code_chantier, r.code_salarie, r.day, r.minutes, r.trajet, r.panier, now],
    );
  }

  async deleteSlotKey(slotId: string): Promise<void> {
    await this.q.query('DELETE FROM slot_keys WHERE slot_id = $1', [slotId]);
  }

  /** Bulk form of upsertSlot (changed slots), 1,000 rows per statement. */
  async upsertSlots(rows: SlotUpsert[], now: Date): Promise<void> {
    for (let i = 0; i < rows.length; i += 1000) {
      const p = rows.slice(i, i + 1000);
      await this.q.query(
        `INSERT INTO time_slots (slot_id, content, content_hash, status, start_utc, remote_modified, state, reason, attempts,
                                 first_seen, last_seen, last_changed)
         SELECT id, c, h, st, su::timestamptz, rm::timestamptz, s, r, CASE WHEN s = 'failed' THEN 1 ELSE 0 END, $9, $9, $9
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[])
                AS t(id, c, h, st, su, rm, s, r)
         ON CONFLICT (slot_id) DO UPDATE SET content = EXCLUDED.content, content_hash = EXCLUDED.content_hash,
                status = EXCLUDED.status, start_utc = EXCLUDED.start_utc, remote_modified = EXCLUDED.remote_modified,
                state = EXCLUDED.state, reason = EXCLUDED.reason,
                attempts = CASE WHEN EXCLUDED.state = 'written' THEN 0 ELSE time_slots.attempts + 1 END,
                last_seen = EXCLUDED.last_seen, last_changed = EXCLUDED.last_changed`,
        [
          p.map((x) => x.slotId),
          p.map((x) => x.content),
          p.map((x) => x.contentHash),
          p.map((x) => x.status),
          p.map((x) => x.startUtc.toISOString()),
          p.map((x) => x.remoteModified?.toISOString() ?? null),
          p.map((x) => x.state),
          p.map((x) => x.reason),
          now,
        ],
      );
    }
  }

  async setSlotStates(rows: { slotId: string; state: SlotState; reason: string | null }[], now: Date): Promise<void> {
    for (let i = 0; i < rows.length; i += 1000) {
      const p = rows.slice(i, i + 1000);
      await this.q.query(
        `UPDATE time_slots SET state = t.s, reason = t.r, last_seen = $4
           FROM unnest($1::text[], $2::text[], $3::text[]) AS t(id, s, r) WHERE time_slots.slot_id = t.id`,
        [p.map((x) => x.slotId), p.map((x) => x.state), p.map((x) => x.reason), now],
      );
    }
  }

  async setSlotKeys(rows: SlotKeyRow[], now: Date): Promise<void> {
    for (let i = 0; i < rows.length; i += 1000) {
      const p = rows.slice(i, i + 1000);
      await this.q.query(
        `INSERT INTO slot_keys (slot_id, code_chantier, code_salarie, day, minutes, trajet, panier, mapped_at)
         SELECT id, c, s, d, m, tr, pa, $8 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[])
                AS t(id, c, s, d, m, tr, pa)
         ON CONFLICT (slot_id) DO UPDATE SET code_chantier = EXCLUDED.code_chantier, code_salarie = EXCLUDED.code_salarie,
                day = EXCLUDED.day, minutes = EXCLUDED.minutes, trajet = EXCLUDED.trajet, panier = EXCLUDED.panier,
                mapped_at = EXCLUDED.mapped_at`,
        [
          p.map((x) => x.slot_id),
          p.map((x) => x.code_chantier),
          p.map((x) => x.code_salarie),
          p.map((x) => x.day),
          p.map((x) => x.minutes),
          p.map((x) => x.trajet),
          p.map((x) => x.panier),
          now,
        ],
      );
    }
  }

  async deleteSlotKeys(ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      await this.q.query('DELETE FROM slot_keys WHERE slot_id = ANY($1::text[])', [ids.slice(i, i + 1000)]);
    }
  }

  /** Bulk commit of written SuiviMO keys (null value = the row was deleted). */
  async commitWrittenMany(rows: { key: KeyRef; value: { minutes: number; trajet: number; panier: number } | null }[], now: Date): Promise<void> {
    const del = rows.filter((r) => r.value === null);
    const up = rows.filter((r) => r.value !== null);
    for (let i = 0; i < del.length; i += 1000) {
      const p = del.slice(i, i + 1000);
      await this.q.query(
        `DELETE FROM suivimo_written w USING unnest($1::text[], $2::text[], $3::text[]) AS t(c, s, d)
          WHERE w.code_chantier = t.c AND w.code_salarie = t.s AND w.day = t.d`,
        [p.map((x) => x.key.codeChantier), p.map((x) => x.key.codeSalarie), p.map((x) => x.key.day)],
      );
    }
    for (let i = 0; i < up.length; i += 1000) {
      const p = up.slice(i, i + 1000);
      await this.q.query(
        `INSERT INTO suivimo_written (code_chantier, code_salarie, day, minutes, trajet, panier, dirty, written_at)
         SELECT c, s, d, m, tr, pa, false, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::int[], $6::int[]) AS t(c, s, d, m, tr, pa)
         ON CONFLICT (code_chantier, code_salarie, day) DO UPDATE SET minutes = EXCLUDED.minutes, trajet = EXCLUDED.trajet,
                panier = EXCLUDED.panier, dirty = false, written_at = EXCLUDED.written_at`,
        [
          p.map((x) => x.key.codeChantier),
          p.map((x) => x.key.codeSalarie),
          p.map((x) => x.key.day),
          p.map((x) => x.value!.minutes),
          p.map((x) => x.value!.trajet),
          p.map((x) => x.value!.panier),
          now,
        ],
      );
    }
  }

  /** Intent: these SuiviMO keys must be recomputed and written (survives a crash). */
  async markDirty(keys: KeyRef[]): Promise<void> {
    if (keys.length === 0) return;
    await this.q.query(
      `INSERT INTO suivimo_written (code_chantier, code_salarie, day, dirty)
       SELECT c, s, d, true FROM unnest($1::text[], $2::text[], $3::text[]) AS t(c, s, d)
       ON CONFLICT (code_chantier, code_salarie, day) DO UPDATE SET dirty = true`,
      [keys.map((k) => k.codeChantier), keys.map((k) => k.codeSalarie), keys.map((k) => k.day)],
    );
  }

  /** Commit: the row at this key now holds these values in SuiviMO (null = no row). */
  async commitWritten(k: KeyRef, v: { minutes: number; trajet: number; panier: number } | null, now: Date): Promise<void> {
    if (v === null) {
      await this.q.query('DELETE FROM suivimo_written WHERE code_chantier = $1 AND code_salarie = $2 AND day = $3', [
        k.codeChantier,
        k.codeSalarie,
        k.day,
      ]);
      return;
    }
    await this.q.query(
      `INSERT INTO suivimo_written (code_chantier, code_salarie, day, minutes, trajet, panier, dirty, written_at)
       VALUES ($1, $2, $3, $4, $5, $6, false, $7)
       ON CONFLICT (code_chantier, code_salarie, day) DO UPDATE SET minutes = EXCLUDED.minutes, trajet = EXCLUDED.trajet,
              panier = EXCLUDED.panier, dirty = false, written_at = EXCLUDED.written_at`,
      [k.codeChantier, k.codeSalarie, k.day, v.minutes, v.trajet, v.panier, now],
    );
  }
}

export { keyString as suiviKeyString };
