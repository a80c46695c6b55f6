/**
 * Buffer statements of a chantier's life (issue 18, migration 5): chantiers found missing from ChantierDef, and the
 * fields BatiSimply may change in Batigest as last pushed (so the chantiers-back flow knows which side changed).
 */
import { z } from 'zod';
import type { BufferQueryable } from './db.js';

const nullableDate = z.union([z.null(), z.coerce.date()]);

/** The values of the write-back fields as last pushed (YYYY-MM-DD for dates, text otherwise). */
export const pushedFieldsSchema = z.record(z.string(), z.string().nullable());
export type PushedFields = z.infer<typeof pushedFieldsSchema>;

const markRowSchema = z.object({
  source_code: z.string(),
  batisimply_id: z.string().nullable(),
  source_deleted_at: nullableDate,
  pushed_fields: z.string().nullable(),
  remote_modified: nullableDate,
  pushed_at: nullableDate,
});

export interface ChantierMark {
  code: string;
  batisimplyId: string | null;
  deletedAt: Date | null;
  pushedFields: PushedFields | null;
  remoteModified: Date | null;
  pushedAt: Date | null;
}

function parseFields(s: string | null): PushedFields | null {
  if (s === null) return null;
  try {
    const r = pushedFieldsSchema.safeParse(JSON.parse(s));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

export class ChantierLifeStore {
  constructor(private readonly q: BufferQueryable) {}

  /** Every chantier record with its life marks. */
  async load(): Promise<Map<string, ChantierMark>> {
    const rows = await this.q.query(
      "SELECT source_code, batisimply_id, source_deleted_at, pushed_fields, remote_modified, pushed_at FROM sync_records WHERE kind = 'chantier'",
    );
    const out = new Map<string, ChantierMark>();
    for (const raw of rows) {
      const r = markRowSchema.parse(raw);
      out.set(r.source_code, {
        code: r.source_code,
        batisimplyId: r.batisimply_id,
        deletedAt: r.source_deleted_at,
        pushedFields: parseFields(r.pushed_fields),
        remoteModified: r.remote_modified,
        pushedAt: r.pushed_at,
      });
    }
    return out;
  }

  /** Chantiers found missing from ChantierDef this run (reported once). */
  async markDeleted(codes: readonly string[], now: Date): Promise<void> {
    if (codes.length === 0) return;
    await this.q.query("UPDATE sync_records SET source_deleted_at = $2 WHERE kind = 'chantier' AND source_code = ANY($1::text[])", [[...codes], now]);
  }

  /** Chantiers back in ChantierDef: followed again, and compared with BatiSimply once more (pushed hash forgotten). */
  async clearDeleted(codes: readonly string[]): Promise<void> {
    if (codes.length === 0) return;
    await this.q.query("UPDATE sync_records SET source_deleted_at = NULL, pushed_hash = NULL WHERE kind = 'chantier' AND source_code = ANY($1::text[])", [[...codes]]);
  }

  /** The write-back fields of a chantier as just pushed (or as just written back). */
  async savePushedFields(code: string, fields: PushedFields): Promise<void> {
    await this.q.query("UPDATE sync_records SET pushed_fields = $2 WHERE kind = 'chantier' AND source_code = $1", [code, JSON.stringify(fields)]);
  }

  /**
   * After a chantiers-back run: the record's baseline, and BatiSimply's modification date of the project as seen
   * (the same change is not looked at again, and the next push sees no conflict in it).
   */
  async saveBack(r: { code: string; fields: PushedFields; remoteModified: Date | null }): Promise<void> {
    await this.q.query(
      "UPDATE sync_records SET pushed_fields = $2, remote_modified = COALESCE($3, remote_modified) WHERE kind = 'chantier' AND source_code = $1",
      [r.code, JSON.stringify(r.fields), r.remoteModified],
    );
  }
}
