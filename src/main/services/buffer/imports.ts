/**
 * Every buffer statement of the import agent (flow 'imports'): one row per export of the exports API and the
 * step it reached (migration 6). Rows are validated with zod. The flow moves an export from one state to the next
 * only after the file operation of that step is done (or, for the hand-over to Batigest, before it: the intent).
 */
import { z } from 'zod';
import type { BufferQueryable } from './db.js';

export const IMPORT_STATES = ['seen', 'downloaded', 'staged', 'handing', 'handed', 'withdrawing', 'consumed', 'failing', 'synced', 'errored'] as const;
export type ImportState = (typeof IMPORT_STATES)[number];
/** States after which nothing is left to do. */
export const FINAL_IMPORT_STATES: ReadonlySet<ImportState> = new Set(['synced', 'errored']);

const date = z.coerce.date();
const nullableDate = z.union([z.null(), z.coerce.date()]);
const importRowSchema = z.object({
  export_id: z.string(),
  agent_id: z.string(),
  doc_type: z.string().nullable(),
  file_name: z.string(),
  import_name: z.string(),
  size: z.union([z.null(), z.coerce.number()]),
  checksum: z.string().nullable(),
  state: z.enum(IMPORT_STATES),
  reason: z.string().nullable(),
  attempts: z.number(),
  first_seen: date,
  updated_at: date,
  handed_at: nullableDate,
  done_at: nullableDate,
  run_id: z.string().nullable(),
});
export type ImportRow = z.infer<typeof importRowSchema>;

export interface NewImport {
  exportId: string;
  docType: string | null;
  fileName: string;
  importName: string;
  size: number | null;
  checksum: string | null;
}

export interface ImportCounts {
  pending: number;
  errored: number;
  syncedSince: number;
}

const rows = (raw: unknown[]): ImportRow[] => raw.map((r) => importRowSchema.parse(r));

export class ImportStore {
  constructor(private readonly db: BufferQueryable) {}

  /**
   * Exports of this agent not finished yet (the flow resumes each one at its step). Another PC's exports are left
   * to it: their files are in its folders.
   */
  async loadOpen(agentId: string): Promise<ImportRow[]> {
    return rows(await this.db.query(`SELECT * FROM import_exports WHERE agent_id = $1 AND state NOT IN ('synced', 'errored') ORDER BY first_seen, export_id`, [agentId]));
  }

  async get(exportId: string): Promise<ImportRow | null> {
    return rows(await this.db.query('SELECT * FROM import_exports WHERE export_id = $1', [exportId]))[0] ?? null;
  }

  async getMany(ids: string[]): Promise<Map<string, ImportRow>> {
    if (ids.length === 0) return new Map();
    const list = rows(await this.db.query('SELECT * FROM import_exports WHERE export_id = ANY($1::text[])', [ids]));
    return new Map(list.map((r) => [r.export_id, r]));
  }

  /** A newly listed export (or one listed again after an error: back to 'seen' with its new metadata). */
  async upsertSeen(e: NewImport, agentId: string, runId: string, now: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO import_exports (export_id, agent_id, doc_type, file_name, import_name, size, checksum, state, reason, attempts, first_seen, updated_at, run_id)
       VALUES ($1, $9, $2, $3, $4, $5, $6, 'seen', NULL, 0, $7, $7, $8)
       ON CONFLICT (export_id) DO UPDATE SET agent_id = EXCLUDED.agent_id, doc_type = EXCLUDED.doc_type, file_name = EXCLUDED.file_name, import_name = EXCLUDED.import_name,
         size = EXCLUDED.size, checksum = EXCLUDED.checksum, state = 'seen', reason = NULL, attempts = 0, handed_at = NULL, done_at = NULL,
         updated_at = EXCLUDED.updated_at, run_id = EXCLUDED.run_id`,
      [e.exportId, e.docType, e.fileName, e.importName, e.size, e.checksum, now, runId, agentId],
    );
  }

  /** Moves an export to `state` (with its reason, or none); `handed` also records the hand-over instant. */
  async setState(exportId: string, state: ImportState, o: { now: Date; runId: string; reason?: string | null; handedAt?: Date; attempt?: boolean }): Promise<void> {
    const done = FINAL_IMPORT_STATES.has(state) ? o.now : null;
    await this.db.query(
      `UPDATE import_exports SET state = $2, reason = $3, updated_at = $4, run_id = $5,
         handed_at = COALESCE($6, handed_at), done_at = $7, attempts = attempts + $8
       WHERE export_id = $1`,
      [exportId, state, o.reason ?? null, o.now, o.runId, o.handedAt ?? null, done, o.attempt ? 1 : 0],
    );
  }

  /** A failed attempt that will be tried again (the export keeps its step). */
  async noteAttempt(exportId: string, reason: string, now: Date): Promise<number> {
    const r = await this.db.query<{ attempts: number }>(`UPDATE import_exports SET attempts = attempts + 1, reason = $2, updated_at = $3 WHERE export_id = $1 RETURNING attempts`, [exportId, reason, now]);
    return Number(r[0]?.attempts ?? 0);
  }

  /** « Réessayer »: an export in error goes back to the start (downloaded again at the next cycle). */
  async retry(exportId: string, now: Date): Promise<boolean> {
    const r = await this.db.query(`UPDATE import_exports SET state = 'seen', reason = NULL, attempts = 0, handed_at = NULL, done_at = NULL, updated_at = $2 WHERE export_id = $1 AND state = 'errored' RETURNING export_id`, [exportId, now]);
    return r.length > 0;
  }

  async counts(since: Date): Promise<ImportCounts> {
    const r = await this.db.query<{ pending: number | string; errored: number | string; synced: number | string }>(
      `SELECT count(*) FILTER (WHERE state NOT IN ('synced', 'errored')) AS pending,
              count(*) FILTER (WHERE state = 'errored') AS errored,
              count(*) FILTER (WHERE state = 'synced' AND done_at >= $1) AS synced
       FROM import_exports`,
      [since],
    );
    const c = r[0];
    return { pending: Number(c?.pending ?? 0), errored: Number(c?.errored ?? 0), syncedSince: Number(c?.synced ?? 0) };
  }

  async listErrored(limit = 50): Promise<ImportRow[]> {
    return rows(await this.db.query(`SELECT * FROM import_exports WHERE state = 'errored' ORDER BY done_at DESC NULLS LAST, export_id LIMIT $1`, [limit]));
  }

  async listAll(): Promise<ImportRow[]> {
    return rows(await this.db.query('SELECT * FROM import_exports ORDER BY first_seen, export_id'));
  }
}
