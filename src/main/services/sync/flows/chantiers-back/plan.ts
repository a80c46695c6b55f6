/**
 * The chantiers-back flow's decisions, without any I/O (issue 18, opt-in): for each project changed in BatiSimply
 * since the connector last saw it, which of the ticked fields go back to ChantierDef. A field is compared with its
 * value as last pushed (the baseline): changed only in BatiSimply → written to ChantierDef; changed on both sides
 * to different values → a conflict decided by the later modification date (BatiSimply's lastModifiedDate against
 * ChantierDef's modification date; without a Batigest date nothing is written); never any other field.
 */
import { isRealIsoDate } from '../../../../../shared/dates.js';
import type { ChantierFieldChange, ChantierSource, Project } from '../../../../../shared/domain.js';
import type { ChantierBackField } from '../../../../../shared/settings.js';
import type { ChantierMark, PushedFields } from '../../../buffer/chantier-life.js';
import { backFieldsOfProject, backFieldsOfSource } from '../../chantier-life.js';
import { backText } from '../../journal-text.js';
import { parseDate } from '../../mapping.js';
import type { RunItemInput } from '../../model.js';

/** A project BatiSimply changed after the connector's last write or look. */
export function changedSince(mark: ChantierMark, p: Project): boolean {
  const remote = parseDate(p.lastModifiedDate ?? null);
  const seen = mark.remoteModified ?? mark.pushedAt;
  return remote !== null && (seen === null || remote.getTime() > seen.getTime() + 1000);
}

export interface BackRecord {
  mark: ChantierMark;
  project: Project;
  /** The ChantierDef row now (null: missing from Batigest). */
  source: ChantierSource | null;
}

export interface BackCommit {
  code: string;
  /** The baseline after this run: what both sides agree on (or will, once the push sends Batigest's side). */
  fields: PushedFields;
  remoteModified: Date | null;
}

export interface BackPlan {
  writes: ChantierFieldChange[];
  journal: RunItemInput[];
  commits: BackCommit[];
  conflicts: number;
  /** Chantiers with at least one field written. */
  chantiers: number;
}

/** A date field BatiSimply holds as something that is not a YYYY-MM-DD date. */
function unreadableDate(p: Project, f: ChantierBackField): boolean {
  if (f !== 'dateDebut' && f !== 'dateFin') return false;
  const raw = (f === 'dateDebut' ? p.startEstimated : p.endEstimated) ?? '';
  return raw.trim() !== '' && !isRealIsoDate(raw.trim().slice(0, 10));
}

/** Decides one record; pushes its writes, journal lines and commit into `out`. */
function planOne(r: BackRecord, fields: readonly ChantierBackField[], sw: string, out: BackPlan): void {
  const code = r.mark.code;
  const key = `chantier:${code}`;
  const remoteAt = parseDate(r.project.lastModifiedDate ?? null);
  const theirs = backFieldsOfProject(r.project);
  if (!r.source) {
    out.journal.push({ recordKey: key, action: 'reported', reason: backText.goneInSource(code, sw) });
    return;
  }
  const ours = backFieldsOfSource(r.source);
  const base = r.mark.pushedFields;
  if (!base) {
    // enabled after this project was pushed: nothing tells which side changed; start from Batigest's values
    out.journal.push({ recordKey: key, action: 'reported', reason: backText.noBaseline(code, sw) });
    out.commits.push({ code, fields: { ...ours }, remoteModified: remoteAt });
    return;
  }
  const next: PushedFields = { ...base };
  const localAt = parseDate(r.source.dateModif);
  let wrote = false;
  for (const f of fields) {
    const was = base[f] ?? null;
    if (unreadableDate(r.project, f)) {
      // never clear or garble a Batigest date because BatiSimply holds text that is not a real date
      out.journal.push({ recordKey: key, action: 'skipped', reason: backText.unreadableDate(code, f, String(f === 'dateDebut' ? r.project.startEstimated : r.project.endEstimated), sw) });
      continue;
    }
    if (theirs[f] === was) continue; // not changed in BatiSimply
    if (theirs[f] === ours[f]) {
      next[f] = ours[f];
      continue; // both sides already agree
    }
    if (ours[f] === was) {
      out.writes.push({ code, field: f, value: theirs[f] });
      out.journal.push({ recordKey: key, action: 'updated', reason: backText.applied(code, f, ours[f], theirs[f], sw) });
      next[f] = theirs[f];
      wrote = true;
      continue;
    }
    out.conflicts++;
    if (remoteAt && localAt && remoteAt.getTime() > localAt.getTime()) {
      out.writes.push({ code, field: f, value: theirs[f] });
      out.journal.push({ recordKey: key, action: 'conflict', reason: backText.conflictRemote(code, f, ours[f], theirs[f], sw, localAt, remoteAt) });
      next[f] = theirs[f];
      wrote = true;
    } else {
      out.journal.push({ recordKey: key, action: 'conflict', reason: backText.conflictLocal(code, f, ours[f], theirs[f], sw, localAt, remoteAt) });
    }
  }
  if (wrote) out.chantiers++;
  out.commits.push({ code, fields: next, remoteModified: remoteAt });
}

export function planBack(records: readonly BackRecord[], fields: readonly ChantierBackField[], sw: string): BackPlan {
  const out: BackPlan = { writes: [], journal: [], commits: [], conflicts: 0, chantiers: 0 };
  for (const r of records) planOne(r, fields, sw, out);
  return out;
}
