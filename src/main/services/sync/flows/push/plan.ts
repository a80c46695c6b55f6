/**
 * The push flow's decisions, without any I/O: which mapped source rows are skipped, unchanged or to work on
 * (from what the buffer remembers), and, per record, whether to keep, update, adopt or create its project (from
 * the BatiSimply listing). The executor (index.ts) reads, asks and writes; this module only decides.
 */
import type { Project } from '../../../../../shared/domain.js';
import type { RecordKind, RecordRow } from '../../../buffer/store.js';
import type { ChantierMark } from '../../../buffer/chantier-life.js';
import { lifeText, pushText } from '../../journal-text.js';
import { clean, normaliseCode, parseDate, projectHash, type Mapped } from '../../mapping.js';
import type { RunItemInput } from '../../model.js';

/** A source row mapped to a project, with its source modification date. */
export interface MappedRow {
  m: Mapped;
  modified: Date | null;
  /** Chantier mode: in the scope sent to BatiSimply (issue 18); absent = in scope. */
  inScope?: boolean;
  /** The sold hours come from the chantier's devis. */
  hoursFromDevis?: boolean;
}

/** A record to send: new, changed, or left with an unfinished intent by an earlier run. */
export interface PushWork {
  code: string;
  name: string;
  input: Mapped & { ok: true };
  hash: string;
  rec: RecordRow | undefined;
  modified: Date | null;
  /** The sold hours come from the chantier's devis (journaled when they change). */
  hoursFromDevis?: boolean;
}

export interface PushClassification {
  /** Journal lines of the rows not sent (no code, no name, wrong state, duplicate code). */
  skipped: RunItemInput[];
  noCode: number;
  noName: number;
  /** Codes already sent with this very content. */
  unchanged: string[];
  work: PushWork[];
  /** Rows out of scope never sent to BatiSimply: not sent now either (a record already sent stays followed). */
  outOfScope: number;
  /** Every code the source has (sent, skipped or out of scope): what is missing was deleted in the source. */
  sourceCodes: Set<string>;
}

/** Sorts the mapped rows against the buffer's records: only new or changed records are worked on. */
export function classifyMapped(mapped: readonly MappedRow[], records: ReadonlyMap<string, RecordRow>, kind: RecordKind, sw: string): PushClassification {
  const out: PushClassification = { skipped: [], noCode: 0, noName: 0, unchanged: [], work: [], outOfScope: 0, sourceCodes: new Set() };
  const seen = new Set<string>();
  let anonymous = 0;
  for (const { m, modified, inScope, hoursFromDevis } of mapped) {
    if (m.code) out.sourceCodes.add(m.code);
    if (inScope === false && !known(records.get(m.code))) {
      out.outOfScope++;
      continue;
    }
    if (!m.ok) {
      if (m.missing === 'code') out.noCode++;
      else if (m.missing === 'name') out.noName++;
      const key = m.code ? `${kind}:${m.code}` : pushText.keyWithoutCode(kind, ++anonymous);
      out.skipped.push({ recordKey: key, action: 'skipped', reason: m.reason });
      continue;
    }
    if (seen.has(m.code)) {
      out.skipped.push({ recordKey: `${kind}:${m.code}`, action: 'skipped', reason: pushText.duplicateCode(m.code, sw) });
      continue;
    }
    seen.add(m.code);
    const hash = projectHash(m.input);
    const rec = records.get(m.code);
    if (rec && rec.batisimply_id && rec.intent === null && rec.pushed_hash === hash) {
      out.unchanged.push(m.code);
      continue;
    }
    out.work.push({ code: m.code, name: m.name, input: m, hash, rec, modified, hoursFromDevis });
  }
  return out;
}

/** A record BatiSimply has (or may have: an unfinished create): followed whatever its scope. */
function known(rec: RecordRow | undefined): boolean {
  return !!rec && (rec.batisimply_id !== null || rec.intent !== null);
}

/**
 * Chantiers sent to BatiSimply and now missing from the source (`deleted`, not reported yet), and those reported
 * missing that are back (`back`).
 */
export function sourceDeletions(marks: ReadonlyMap<string, ChantierMark>, sourceCodes: ReadonlySet<string>): { deleted: ChantierMark[]; back: string[] } {
  const deleted: ChantierMark[] = [];
  const back: string[] = [];
  for (const m of marks.values()) {
    if (sourceCodes.has(m.code)) {
      if (m.deletedAt !== null) back.push(m.code);
    } else if (m.batisimplyId !== null && m.deletedAt === null) deleted.push(m);
  }
  return { deleted, back };
}

/**
 * Too many chantiers missing at once to be real deletions (another database chosen, a table emptied by a restore):
 * more than 10 and more than half of those BatiSimply has. Then nothing is marked or changed, only reported.
 */
export function looksLikeWrongSource(deleted: number, known: number): boolean {
  return deleted > 10 && deleted * 2 > known;
}

/** Journal lines of an update that changes a chantier's life (finished, archived, reopened) or its name. */
export function lifeNotes(existing: Project, w: PushWork, kind: RecordKind, sw: string): RunItemInput[] {
  const key = `${kind}:${w.code}`;
  const input = w.input.input;
  const out: RunItemInput[] = [];
  const line = (reason: string): void => void out.push({ recordKey: key, action: 'updated', reason });
  if (input.isFinished === true && existing.isFinished !== true) line(lifeText.finished(w.name, w.code, sw));
  if (input.isArchived === true && existing.isArchived !== true) line(lifeText.archived(w.name, w.code, sw));
  if (input.isFinished === false && existing.isFinished === true) line(lifeText.reopened(w.name, w.code, sw));
  if (clean(existing.projectName) !== clean(input.projectName)) line(lifeText.renamed(w.code, existing.projectName, input.projectName));
  const before = existing.hoursSold ?? null;
  const after = input.hoursSold ?? null;
  if (w.hoursFromDevis && before !== after) line(lifeText.hoursFromDevis(w.code, before, after));
  return out;
}

/** The run's BatiSimply projects, by id and by normalised code (the first project of a code wins). */
export interface ProjectIndex {
  byCode: Map<string, Project>;
  byId: Map<string, Project>;
}

export function indexProjects(remote: readonly Project[]): ProjectIndex {
  const byCode = new Map<string, Project>();
  const byId = new Map<string, Project>();
  for (const p of remote) {
    byId.set(p.id, p);
    const c = normaliseCode(p.projectCode);
    if (c && !byCode.has(c)) byCode.set(c, p);
  }
  return { byCode, byId };
}

/**
 * What to do with one record. `journal` lines come first (conflicts, adoption); `after` is journaled once the
 * remote write is done. 'keep': the project is already right (count it unchanged, commit); 'update': PUT then commit.
 */
export type PushStep =
  | { do: 'keep'; id: string; remoteModified: Date | null; conflict: boolean; journal: RunItemInput[] }
  | { do: 'update'; id: string; conflict: boolean; journal: RunItemInput[]; after: RunItemInput }
  | { do: 'create' };

/**
 * A record whose project BatiSimply has (`existing`, under the id `id` the buffer remembers). Conflict = changed in BatiSimply
 * since our last push AND changed in the source; the more recent side wins.
 */
export function decideKnown(w: PushWork, id: string, existing: Project, kind: RecordKind, sw: string): PushStep {
  const key = `${kind}:${w.code}`;
  const journal: RunItemInput[] = [];
  const remoteModified = parseDate(existing.lastModifiedDate ?? null);
  // Compared with the server's own date of our last write when we have it (no clock skew between this PC
  // and BatiSimply), else with the time of our last push.
  const lastOurs = w.rec?.remote_modified ?? w.rec?.pushed_at ?? null;
  const conflict = !!remoteModified && !!lastOurs && remoteModified.getTime() > lastOurs.getTime() + 1000 && w.rec?.pushed_hash !== w.hash;
  if (conflict && remoteModified) {
    const local = w.modified;
    if (local && local.getTime() < remoteModified.getTime()) {
      journal.push({ recordKey: key, action: 'conflict', reason: pushText.conflictRemoteKept(w.name, w.code, sw, local, remoteModified) });
      return { do: 'keep', id, remoteModified, conflict, journal };
    }
    journal.push({ recordKey: key, action: 'conflict', reason: pushText.conflictLocalSent(w.name, w.code, sw, local, remoteModified) });
  }
  // Already right remotely (e.g. crash after the PUT, before the commit): no write.
  if (projectHash(existing) === w.hash) return { do: 'keep', id, remoteModified, conflict, journal };
  return { do: 'update', id, conflict, journal, after: { recordKey: key, action: 'updated', reason: null } };
}

/** A record without a known project: adopt the project that has its code (`found`), else create one. */
export function decideUnknown(w: PushWork, found: Project | null, kind: RecordKind): PushStep {
  if (!found) return { do: 'create' };
  const key = `${kind}:${w.code}`;
  if (projectHash(found) === w.hash) {
    const journal = [{ recordKey: key, action: 'adopted', reason: pushText.adoptedUnchanged(w.code) }];
    return { do: 'keep', id: found.id, remoteModified: parseDate(found.lastModifiedDate ?? null), conflict: false, journal };
  }
  return { do: 'update', id: found.id, conflict: false, journal: [], after: { recordKey: key, action: 'adopted', reason: pushText.adoptedUpdated(w.code) } };
}
