/**
 * The import agent's pure decisions (no I/O): what a listing means against the buffer, and where an export
 * interrupted at a step of the hand-over stands, from the files found. The protocol (docs/crash-safety.md):
 *
 *   seen → downloaded → staged → [reserve ~name.cbs-part in the import folder] → handing → [write the part, rename it
 *   to its name] → handed → (file gone) → consumed → [mark-synced, move to Archive] → synced
 *   handed → (timeout) → withdrawing → [rename the file back to its part] → failing → [mark-error, move to Errors] → errored
 *
 * The empty part file is created before the intent `handing` is recorded, and is renamed (never re-created) into
 * the file Batigest takes: so in `handing`, neither the part nor the file means that the rename happened and that
 * Batigest has taken the file — consumed, never copied a second time.
 */
import { cleanLabel } from '../../../../../shared/text.js';
import type { ImportRow, NewImport } from '../../../buffer/imports.js';
import type { PendingExport } from '../../../exports/client.js';
import { importsText } from '../../journal-text.js';
import { importNameOf, safeExportId } from './names.js';

export interface ListingPlan {
  /** New exports (or exports in error listed again by the API): recorded as 'seen'. */
  fresh: NewImport[];
  /** Already synced here but listed again (the API lost our acknowledgement): mark-synced again, no second import. */
  reack: string[];
  /** Exports whose id cannot be used safely: journaled, left out. */
  refused: { key: string; reason: string }[];
}

export function planListing(listed: readonly PendingExport[], known: ReadonlyMap<string, ImportRow>, agentId: string): ListingPlan {
  const plan: ListingPlan = { fresh: [], reack: [], refused: [] };
  const seen = new Set<string>();
  for (const e of listed) {
    const id = safeExportId(e.id);
    if (id === null) {
      plan.refused.push({ key: cleanLabel(e.id).slice(0, 60), reason: importsText.badId });
      continue;
    }
    if (seen.has(id)) continue;
    seen.add(id);
    const row = known.get(id);
    // Another agent's export in progress: its files are on that PC (it is not listed for us by a well-behaved API).
    if (row && row.agent_id !== agentId && row.state !== 'synced' && row.state !== 'errored') continue;
    if (row?.state === 'synced') plan.reack.push(id);
    else if (!row || row.state === 'errored') {
      plan.fresh.push({ exportId: id, docType: e.type, fileName: e.fileName ?? `export-${id}.xml`, importName: importNameOf(id, e.fileName), size: e.size, checksum: e.checksum });
    }
  }
  return plan;
}

/** What the files say about an export interrupted in `handing`. */
export function afterHanding(f: { final: boolean; part: boolean }): 'handed' | 'copy' | 'consumed' {
  if (f.final) return 'handed';
  if (f.part) return 'copy';
  return 'consumed';
}

/** What the files say about an export interrupted in `withdrawing` (taken back after the timeout). */
export function afterWithdrawing(f: { final: boolean; part: boolean }): 'withdraw' | 'withdrawn' | 'consumed' {
  if (f.final) return 'withdraw';
  if (f.part) return 'withdrawn';
  return 'consumed';
}

/** A handed file still in the import folder after the timeout. */
export function timedOut(handedAt: Date | null, now: Date, timeoutSeconds: number): boolean {
  return handedAt !== null && now.getTime() - handedAt.getTime() >= timeoutSeconds * 1000;
}

/** Downloaded bytes against what the API announced (size, SHA-256): null when they match, else a French reason. */
export function verifyDownload(row: Pick<ImportRow, 'size' | 'checksum'>, got: { bytes: number; sha256: string }): string | null {
  if (row.size !== null && row.size !== got.bytes) return importsText.sizeMismatch(row.size, got.bytes);
  if (row.checksum !== null && row.checksum !== got.sha256) return importsText.checksumMismatch;
  return null;
}
