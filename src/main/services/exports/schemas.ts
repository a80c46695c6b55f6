/**
 * The exports API's answers, read with zod. Text from outside is hostile: an export that cannot be read is reported
 * with a French reason and left out; the others go on.
 */
import { z } from 'zod';

const idSchema = z.union([z.string().min(1).max(200), z.number().int().nonnegative()]).transform((v) => String(v));
const sizeSchema = z.union([z.number().int().nonnegative(), z.string().regex(/^\d{1,15}$/).transform(Number)]);

/** One pending export as the API lists it (aliases of the field names seen in such APIs are accepted). */
export const pendingExportSchema = z
  .object({
    id: idSchema,
    type: z.string().max(100).nullish(),
    fileName: z.string().max(1000).nullish(),
    filename: z.string().max(1000).nullish(),
    size: sizeSchema.nullish(),
    checksum: z.string().max(200).nullish(),
    sha256: z.string().max(200).nullish(),
    downloadUrl: z.string().max(2000).nullish(),
  })
  .transform((e) => ({
    id: e.id,
    type: e.type ?? null,
    fileName: e.fileName ?? e.filename ?? null,
    size: e.size ?? null,
    checksum: normaliseChecksum(e.checksum ?? e.sha256 ?? null),
    downloadUrl: e.downloadUrl ?? null,
  }));
export type PendingExport = z.infer<typeof pendingExportSchema>;

/** A checksum as a lower-case SHA-256 hex (`sha256:` prefix accepted), or null when absent; anything else is kept as is (it will not match). */
function normaliseChecksum(v: string | null): string | null {
  if (v === null || v.trim() === '') return null;
  return v.trim().replace(/^sha256[:=-]/i, '').toLowerCase();
}

/** The listing: an array, or an object holding it under exports / data / items. */
export const pendingListSchema = z.union([
  z.array(z.unknown()),
  z.object({ exports: z.array(z.unknown()) }).transform((o) => o.exports),
  z.object({ data: z.array(z.unknown()) }).transform((o) => o.data),
  z.object({ items: z.array(z.unknown()) }).transform((o) => o.items),
]);

export const statusSchema = z
  .object({
    pending: z.number().int().nonnegative().optional(),
    synced: z.number().int().nonnegative().optional(),
    errors: z.number().int().nonnegative().optional(),
  })
  .loose();
export type ExportsStatus = z.infer<typeof statusSchema>;
