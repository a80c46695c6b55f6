/**
 * Read-side queries of the buffer for the journal and employee-mapping screens: runs filtered by
 * flow / status / local day range with paging, the items of a run with a label and the action as the
 * UI names it, and the validated hours waiting for each BatiSimply user without a salarié.
 * Every statement is parameterised; rows are validated with zod.
 */
import { z } from 'zod';
import type { BufferQueryable, SqlParam } from './db.js';
import type { FlowName, RunRow, RunStatus } from './store.js';
import { runRowSchema } from './store.js';

const date = z.coerce.date();
const nullableDate = z.union([z.null(), z.coerce.date()]);


/** Actions as the UI knows them (contract `journalItemActionSchema`). */
export type UiAction = 'created' | 'updated' | 'unchanged' | 'moved' | 'deleted' | 'skipped' | 'failed' | 'conflict';

/**
 * Engine action → UI action, in SQL so that filtering and paging stay in the database.
 * adopted = an existing BatiSimply project taken over by its code (unchanged when nothing was sent);
 * reported = something noticed and kept as is (deleted remotely, un-validated…); removed = hours taken out.
 */
const UI_ACTION_SQL = `CASE i.action
    WHEN 'adopted' THEN CASE WHEN i.reason LIKE '%aucune modification%' THEN 'unchanged' ELSE 'updated' END
    WHEN 'reported' THEN 'skipped'
    WHEN 'removed' THEN 'deleted'
    WHEN 'created' THEN 'created' WHEN 'updated' THEN 'updated' WHEN 'unchanged' THEN 'unchanged'
    WHEN 'moved' THEN 'moved' WHEN 'deleted' THEN 'deleted' WHEN 'failed' THEN 'failed' WHEN 'conflict' THEN 'conflict'
    ELSE 'skipped' END`;

const itemRowSchema = z.object({
  id: z.number(),
  run_id: z.string(),
  record_key: z.string(),
  action: z.string(),
  ui_action: z.enum(['created', 'updated', 'unchanged', 'moved', 'deleted', 'skipped', 'failed', 'conflict']),
  reason: z.string().nullable(),
  label: z.string().nullable(),
  at: date,
});
export type JournalItemRow = z.infer<typeof itemRowSchema>;

const waitingRowSchema = z.object({
  user_id: z.string(),
  first_name: z.string().nullable(),
  last_name: z.string().nullable(),
  email: z.string().nullable(),
  slots_waiting: z.number(),
  minutes_waiting: z.number(),
  slots_seen: z.number(),
});
export type SlotUserRow = z.infer<typeof waitingRowSchema>;

const waitingSlotRowSchema = z.object({
  state: z.enum(['unmapped_user', 'unknown_chantier']),
  who: z.string(),
  name: z.string().nullable(),
  slots: z.number(),
  minutes: z.number(),
});
export type WaitingSlotRow = z.infer<typeof waitingSlotRowSchema>;

export interface RunFilters {
  flow?: FlowName;
  /** Buffer statuses to keep (any when absent or empty). */
  statuses?: RunStatus[];
  /** Inclusive local days YYYY-MM-DD, compared in `timezone`. */
  fromDay?: string;
  toDay?: string;
  timezone?: string;
  trigger?: string;
}

export class JournalQueries {
  constructor(private readonly db: BufferQueryable) {}

  private where(f: RunFilters, params: SqlParam[]): string {
    const conds: string[] = [];
    const add = (sql: (n: string) => string, v: SqlParam) => {
      params.push(v);
      conds.push(sql(`$${params.length}`));
    };
    if (f.flow) add((p) => `flow = ${p}`, f.flow);
    if (f.statuses && f.statuses.length > 0) add((p) => `status = ANY(${p}::text[])`, f.statuses);
    if (f.trigger) add((p) => `trigger = ${p}`, f.trigger);
    if (f.fromDay || f.toDay) {
      params.push(f.timezone ?? 'Europe/Paris');
      const tz = `$${params.length}`;
      if (f.fromDay) add((p) => `(started_at AT TIME ZONE ${tz})::date >= ${p}::date`, f.fromDay);
      if (f.toDay) add((p) => `(started_at AT TIME ZONE ${tz})::date <= ${p}::date`, f.toDay);
    }
    return conds.length ? `WHERE ${conds.join(' AND ')}` : '';
  }

  /** Runs, newest first, one page, with the total matching the filters. */
  async listRuns(f: RunFilters, page: { limit: number; offset: number }): Promise<{ rows: RunRow[]; total: number }> {
    const params: SqlParam[] = [];
    const where = this.where(f, params);
    const totalRows = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs ${where}`, params);
    const rows = await this.db.query(
      `SELECT * FROM runs ${where} ORDER BY started_at DESC, seq DESC LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, page.limit, page.offset],
    );
    return { rows: rows.map((r) => runRowSchema.parse(r)), total: Number(totalRows[0]?.n ?? 0) };
  }

  /**
   * Per flow: its latest finished run (a run in progress is told apart by the app), and the end of its latest run that went to its end (succeeded, or partial:
   * done, with something left waiting for a person). Two indexed statements, whatever the journal's size.
   */
  async flowFacts(): Promise<{ flow: FlowName; last: RunRow; lastSuccessAt: Date | null }[]> {
    const last = (await this.db.query(`SELECT DISTINCT ON (flow) * FROM runs WHERE status <> 'running' ORDER BY flow, started_at DESC, seq DESC`)).map((r) => runRowSchema.parse(r));
    const ok = await this.db.query<{ flow: string; at: unknown }>(
      `SELECT flow, max(ended_at) AS at FROM runs WHERE status IN ('succeeded', 'partial') GROUP BY flow`,
    );
    const okAt = new Map(ok.map((r) => [r.flow, nullableDate.parse(r.at ?? null)]));
    return last.map((r) => ({ flow: r.flow, last: r, lastSuccessAt: okAt.get(r.flow) ?? null }));
  }

  /**
   * Validated slots since `since` that wait for a person, grouped: per BatiSimply user without salarié
   * (`who` = user id, skipped once the mapping cache says the user now has a salarié: their hours come with
   * the next run), and per unknown chantier (`who` = the project code, or « projet <id> » without one).
   * Only the waiting slots are read (their state is indexed by the scan on start_utc), not the whole window.
   */
  async waitingSlots(since: Date): Promise<WaitingSlotRow[]> {
    const rows = await this.db.query(
      `SELECT w.state, w.who, max(w.name) AS name, count(*)::int AS slots, COALESCE(sum(w.minutes), 0)::float8 AS minutes
         FROM (SELECT t.state,
                      CASE WHEN t.state = 'unmapped_user' THEN t.content::jsonb -> 'user' ->> 'id'
                           ELSE COALESCE(NULLIF(trim(t.content::jsonb -> 'project' ->> 'projectCode'), ''),
                                         'projet ' || (t.content::jsonb -> 'project' ->> 'id'), '(sans projet)') END AS who,
                      CASE WHEN t.state = 'unmapped_user'
                           THEN COALESCE(NULLIF(trim(concat_ws(' ', t.content::jsonb -> 'user' ->> 'firstName', t.content::jsonb -> 'user' ->> 'lastName')), ''),
                                         t.content::jsonb -> 'user' ->> 'email')
                           ELSE NULL END AS name,
                      GREATEST((t.content::jsonb ->> 'totalTimeMinutes')::float8, 0) AS minutes
                 FROM time_slots t
                WHERE t.state IN ('unmapped_user', 'unknown_chantier') AND t.start_utc >= $1) AS w
         LEFT JOIN employees e ON w.state = 'unmapped_user' AND e.batisimply_user_id = w.who AND e.salarie_code IS NOT NULL
        WHERE w.who IS NOT NULL AND e.batisimply_user_id IS NULL
        GROUP BY w.state, w.who
        ORDER BY minutes DESC, w.who`,
      [since],
    );
    return rows.map((r) => waitingSlotRowSchema.parse(r));
  }

  /** The record keys of a run's items in failure (first `limit`), and how many there are. */
  async failedItemKeys(runId: string, limit: number): Promise<{ keys: string[]; total: number }> {
    const total = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM run_items WHERE run_id = $1 AND action = 'failed'`, [runId]);
    const rows = await this.db.query<{ record_key: string }>(
      `SELECT record_key FROM run_items WHERE run_id = $1 AND action = 'failed' ORDER BY id LIMIT $2`,
      [runId, limit],
    );
    return { keys: rows.map((r) => String(r.record_key)), total: Number(total[0]?.n ?? 0) };
  }

  /** Start of the latest run (optionally of one trigger), or null. */
  async lastRunAt(trigger?: string): Promise<Date | null> {
    const rows = trigger
      ? await this.db.query<{ at: unknown }>('SELECT max(started_at) AS at FROM runs WHERE trigger = $1', [trigger])
      : await this.db.query<{ at: unknown }>('SELECT max(started_at) AS at FROM runs');
    return nullableDate.parse(rows[0]?.at ?? null);
  }

  /**
   * Items of a run in journal order, one page. The label is the record's name for chantiers/devis
   * and the user's name for `user:` keys; `uiActions` filters on the UI action.
   */
  async listItems(runId: string, opts: { uiActions?: UiAction[]; limit: number; offset: number }): Promise<{ rows: JournalItemRow[]; total: number }> {
    const params: SqlParam[] = [runId];
    let filter = '';
    if (opts.uiActions && opts.uiActions.length > 0) {
      params.push(opts.uiActions);
      filter = ` AND (${UI_ACTION_SQL}) = ANY($2::text[])`;
    }
    const totalRows = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM run_items i WHERE i.run_id = $1${filter}`, params);
    const rows = await this.db.query(
      `SELECT i.id, i.run_id, i.record_key, i.action, (${UI_ACTION_SQL}) AS ui_action, NULLIF(i.reason, '') AS reason, i.at,
              COALESCE(r.source_name, NULLIF(trim(concat_ws(' ', e.first_name, e.last_name)), ''), e.email) AS label
         FROM run_items i
         LEFT JOIN sync_records r ON i.record_key = r.kind || ':' || r.source_code
         LEFT JOIN employees e ON i.record_key = 'user:' || e.batisimply_user_id
        WHERE i.run_id = $1${filter}
        ORDER BY i.id
        LIMIT $${params.length + 1} OFFSET $${params.length + 2}`,
      [...params, opts.limit, opts.offset],
    );
    return { rows: rows.map((r) => itemRowSchema.parse(r)), total: Number(totalRows[0]?.n ?? 0) };
  }

  /**
   * Every BatiSimply user seen in the time slots since `since`, with the validated slots (and their
   * minutes) that wait for a salarié (state unmapped_user).
   */
  async slotUsers(since: Date): Promise<SlotUserRow[]> {
    const rows = await this.db.query(
      `SELECT u.user_id,
              max(u.first_name) AS first_name, max(u.last_name) AS last_name, max(u.email) AS email,
              (count(*) FILTER (WHERE u.state = 'unmapped_user'))::int AS slots_waiting,
              COALESCE(sum(u.minutes) FILTER (WHERE u.state = 'unmapped_user'), 0)::float8 AS minutes_waiting,
              count(*)::int AS slots_seen
         FROM (SELECT t.state,
                      (t.content::jsonb -> 'user' ->> 'id') AS user_id,
                      (t.content::jsonb -> 'user' ->> 'firstName') AS first_name,
                      (t.content::jsonb -> 'user' ->> 'lastName') AS last_name,
                      (t.content::jsonb -> 'user' ->> 'email') AS email,
                      (t.content::jsonb ->> 'totalTimeMinutes')::float8 AS minutes
                 FROM time_slots t
                WHERE t.start_utc >= $1) AS u
        WHERE u.user_id IS NOT NULL
        GROUP BY u.user_id
        ORDER BY u.user_id`,
      [since],
    );
    return rows.map((r) => waitingRowSchema.parse(r));
  }
}
