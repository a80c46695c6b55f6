/**
 * Converts raw rows (as returned by mssql, keyed by logical column names) into domain objects, validated with zod.
 *
 * Policy for bad rows: a row whose code is NULL or blank cannot be keyed anywhere, so it is NOT returned; it is
 * reported through `onSkip` with a French reason the engine journals. Every other field tolerates NULL (the domain
 * types are nullable); a value of the wrong shape in an optional column (e.g. text in a numeric column) becomes
 * NULL rather than failing the whole read.
 */
import { isRealIsoDate, parseIsoStrict } from '../../../shared/dates.js';
import { z } from 'zod';
import {
  chantierSourceSchema,
  devisSourceSchema,
  salarieSchema,
  suiviMoRowSchema,
  type ChantierSource,
  type DevisSource,
  type Salarie,
  type SuiviMoRow,
} from '../../../shared/domain.js';
import type { SkippedSourceRow } from '../ports.js';
import { canonicalCodebs } from './compare.js';

export type { SkippedSourceRow } from '../ports.js';

const rawCell = z.union([z.string(), z.number(), z.bigint(), z.boolean(), z.date(), z.null(), z.undefined()]);
export const rawRowSchema = z.record(z.string(), rawCell);
export type RawRow = z.infer<typeof rawRowSchema>;
type Cell = z.infer<typeof rawCell>;

/** Trimmed code; purely numeric codes shorter than 8 are zero-padded to 8 (Batigest convention). */
export function normaliseBatigestCode(v: string): string {
  const t = v.trim();
  return /^\d{1,7}$/.test(t) ? t.padStart(8, '0') : t;
}

export function toText(v: Cell): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  const s = String(v).trim();
  return s === '' ? null : s;
}

export function toNumber(v: Cell): number | null {
  if (v === null || v === undefined || typeof v === 'boolean' || v instanceof Date) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'bigint') return Number(v);
  const t = v.trim().replace(',', '.');
  if (t === '') return null;
  const n = Number(t);
  return Number.isFinite(n) ? n : null;
}

/**
 * YYYY-MM-DD. Dates are read with useUTC, so a SQL `datetime` midnight is UTC midnight of the same day. A date held
 * as text must be a real day (« 2026-02-30 » is refused, not rolled over).
 */
export function toDateOnly(v: Cell): string | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString().slice(0, 10);
  if (typeof v === 'string') {
    const m = /^(\d{4}-\d{2}-\d{2})/.exec(v.trim());
    return m?.[1] && isRealIsoDate(m[1]) ? m[1] : null;
  }
  return null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
/** Offset of `tz` at `ts` (ms), asked of Intl (formatToParts: a few microseconds, the cost of reading a date). */
function intlOffsetMs(ts: number, tz: string): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ts))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  const asUtc = Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0);
  return asUtc - Math.floor(ts / 1000) * 1000;
}

/**
 * Offsets per time zone and quarter of an hour: reading 10,000 chantiers asks for ~20,000 offsets, most of them
 * in a few quarters. A quarter is cached only when its first and last second have the same offset (no change of
 * time inside it); one that holds a change is asked of Intl each time. Bounded: cleared past 20,000 quarters.
 */
const OFFSET_QUARTER_MS = 15 * 60_000;
const offsetCache = new Map<string, Map<number, number>>();
function tzOffsetMs(ts: number, tz: string): number {
  let byQuarter = offsetCache.get(tz);
  if (!byQuarter) offsetCache.set(tz, (byQuarter = new Map()));
  const q = Math.floor(ts / OFFSET_QUARTER_MS);
  const hit = byQuarter.get(q);
  if (hit !== undefined) return hit;
  const first = intlOffsetMs(q * OFFSET_QUARTER_MS, tz);
  if (first !== intlOffsetMs((q + 1) * OFFSET_QUARTER_MS - 1000, tz)) return intlOffsetMs(ts, tz);
  if (byQuarter.size >= 20_000) byQuarter.clear();
  byQuarter.set(q, first);
  return first;
}

/** True if `tz` is an IANA time zone this runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * SQL Server `datetime` has no zone: Batigest stores the office's wall-clock time. Read with useUTC, its
 * UTC fields ARE the wall-clock fields; this returns the real instant (ISO, Z) for that wall time in `tz`.
 */
export function wallTimeToIso(wall: Date, tz: string | null): string {
  const w = wall.getTime();
  if (tz === null) return wall.toISOString();
  let t = w - tzOffsetMs(w, tz);
  t = w - tzOffsetMs(t, tz); // second pass settles DST transitions
  return new Date(t).toISOString();
}

export function toTimestamp(v: Cell, tz: string | null = null): string | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : wallTimeToIso(v, tz);
  if (typeof v === 'string') {
    const t = v.trim();
    const hasZone = /(Z|[+-]\d{2}:?\d{2})$/.test(t);
    // Strict ISO 8601: an impossible date held as text is refused, never rolled over.
    const d = new Date(parseIsoStrict(hasZone ? t : `${t.replace(' ', 'T')}Z`));
    if (Number.isNaN(d.getTime())) return null;
    return hasZone ? d.toISOString() : wallTimeToIso(d, tz);
  }
  return null;
}

function codeOf(raw: RawRow): string | null {
  const t = toText(raw.code);
  return t === null ? null : t;
}

export type Converted<T> = { ok: true; value: T } | { ok: false; skip: SkippedSourceRow };

/** `tz`: time zone of the Batigest server's wall-clock datetimes (dateModif), null = treat as UTC. */
export function convertChantier(raw: RawRow, tz: string | null = null): Converted<ChantierSource> {
  const code = codeOf(raw);
  const label = toText(raw.nomClient) ?? toText(raw.description);
  if (code === null) {
    return { ok: false, skip: { table: 'ChantierDef', code: null, label, reason: `Chantier sans code${label ? ` (« ${label} »)` : ''} dans Batigest : ignoré. Donnez-lui un code dans Batigest pour le synchroniser.` } };
  }
  const value = chantierSourceSchema.parse({
    code: normaliseBatigestCode(code),
    nomClient: toText(raw.nomClient),
    description: toText(raw.description),
    adresse: toText(raw.adresse),
    codePostal: toText(raw.codePostal),
    ville: toText(raw.ville),
    dateDebut: toDateOnly(raw.dateDebut),
    dateFin: toDateOnly(raw.dateFin),
    etat: toText(raw.etat),
    heuresVendues: toNumber(raw.heuresVendues),
    montant: toNumber(raw.montant),
    dateModif: toTimestamp(raw.dateModif, tz),
  });
  return { ok: true, value };
}

export function convertDevis(raw: RawRow, tz: string | null = null): Converted<DevisSource> {
  const code = codeOf(raw);
  const label = toText(raw.nom) ?? toText(raw.sujet);
  if (code === null) {
    return { ok: false, skip: { table: 'Devis', code: null, label, reason: `Devis sans code${label ? ` (« ${label} »)` : ''} dans Batigest : ignoré.` } };
  }
  const etat = toNumber(raw.etat);
  const value = devisSourceSchema.parse({
    code: normaliseBatigestCode(code),
    date: toDateOnly(raw.date),
    nom: toText(raw.nom),
    adresse: toText(raw.adresse),
    codePostal: toText(raw.codePostal),
    ville: toText(raw.ville),
    sujet: toText(raw.sujet),
    dateConcretis: toDateOnly(raw.dateConcretis),
    etat: etat === null ? null : Math.trunc(etat),
    tempsMO: toNumber(raw.tempsMO),
    montant: toNumber(raw.montant),
    dateModif: toTimestamp(raw.dateModif, tz),
  });
  return { ok: true, value };
}

/** Salarié codes are kept as stored (trimmed), NOT padded: SuiviMO.CodeSalarie must match Salarie.Code exactly. */
export function convertSalarie(raw: RawRow): Converted<Salarie> {
  const code = codeOf(raw);
  const nom = toText(raw.nom);
  const prenom = toText(raw.prenom);
  const label = [prenom, nom].filter(Boolean).join(' ') || null;
  if (code === null) {
    return { ok: false, skip: { table: 'Salarie', code: null, label, reason: `Salarié sans code${label ? ` (${label})` : ''} dans Batigest : ignoré, ses heures ne peuvent pas être importées.` } };
  }
  const value = salarieSchema.parse({ code, nom: nom ?? '', prenom, codebs: canonicalCodebs(toText(raw.codebs)) });
  return { ok: true, value };
}

/** SuiviMO read-back. NbH3/NbH4 are flags: any positive value reads as 1. */
export function convertSuiviMo(raw: RawRow): SuiviMoRow | null {
  const codeChantier = toText(raw.CodeChantier);
  const codeSalarie = toText(raw.CodeSalarie);
  const date = toDateOnly(raw.Date);
  if (codeChantier === null || codeSalarie === null || date === null) return null;
  return suiviMoRowSchema.parse({
    codeChantier,
    codeSalarie,
    date,
    nbH0: toNumber(raw.NbH0) ?? 0,
    nbH3: (toNumber(raw.NbH3) ?? 0) > 0 ? 1 : 0,
    nbH4: (toNumber(raw.NbH4) ?? 0) > 0 ? 1 : 0,
  });
}
