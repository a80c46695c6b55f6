/**
 * Pure functions of the sync engine: Batigest record → BatiSimply project, content hashes,
 * code normalisation, UTC → local day.
 */
import { createHash } from 'node:crypto';
import type { ChantierSource, DevisSource, Project, ProjectInput, TimeSlot } from '../../../shared/domain.js';
import type { BatisimplySettings } from '../../../shared/settings.js';
import { isRealIsoDate, parseIsoStrict } from '../../../shared/dates.js';
import { cleanLabel, hasUnstorable } from '../../../shared/text.js';
import { pushText } from './journal-text.js';

export type ProjectDefaults = BatisimplySettings['project'];

/** Batigest codes: trimmed; numeric codes zero-padded to 8 characters. */
export function normaliseCode(code: string | null | undefined): string {
  const c = (code ?? '').trim();
  return /^\d{1,7}$/.test(c) ? c.padStart(8, '0') : c;
}

/** A name or label from outside: control characters (U+0000 included) dropped, white space collapsed; null when empty. */
export const clean = (s: string | null | undefined): string | null => {
  const t = cleanLabel(s ?? '');
  return t.length > 0 ? t : null;
};

const round2 = (n: number): number => Math.round(n * 100) / 100;

/**
 * Canonical JSON (sorted keys, no undefined or null member) so equal content always hashes the same. The buffer
 * stores hashes of this text: its output must never change (test/unit/sync-canonical-json.test.ts holds it to
 * the first version, character for character). Written with loops and one string, no intermediate arrays: it
 * runs for every chantier and every time slot of every cycle.
 */
export function stableStringify(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) {
    let out = '[';
    for (let i = 0; i < v.length; i++) out += (i > 0 ? ',' : '') + stableStringify(v[i]);
    return out + ']';
  }
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const x = o[k];
    if (x === undefined || x === null) continue;
    out += (first ? '' : ',') + JSON.stringify(k) + ':' + stableStringify(x);
    first = false;
  }
  return out + '}';
}

export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function address(street: string | null, postalCode: string | null, city: string | null, defaults: ProjectDefaults): ProjectInput['address'] {
  const parts = [street, [postalCode, city].filter(Boolean).join(' ')].filter((p) => p && p.length > 0);
  return {
    street,
    postalCode,
    city,
    countryCode: clean(defaults.countryCode),
    googleFormattedAddress: parts.length > 0 ? parts.join(', ') : null,
  };
}

function common(defaults: ProjectDefaults): Pick<ProjectInput, 'headQuarter' | 'projectManager' | 'projectColor'> {
  const hq = clean(defaults.headQuarterId);
  return {
    headQuarter: hq ? { id: /^\d+$/.test(hq) ? Number(hq) : hq } : null,
    projectManager: clean(defaults.projectManager),
    projectColor: clean(defaults.projectColor),
  };
}

function budget(amount: number | null, defaults: ProjectDefaults): ProjectInput['budget'] {
  return amount === null || !Number.isFinite(amount) ? null : { amount: round2(amount), currency: clean(defaults.currency) ?? 'EUR' };
}

/** The YYYY-MM-DD of a date from outside, or null when absent, unreadable or impossible (30 February). */
function ymd(s: string | null): string | null {
  const t = clean(s);
  return t && /^\d{4}-\d{2}-\d{2}/.test(t) && isRealIsoDate(t.slice(0, 10)) ? t.slice(0, 10) : null;
}

/** Result of mapping a source row: a project to send, or the French reason it is skipped. */
export type Mapped =
  | { ok: true; code: string; name: string; input: ProjectInput }
  /** `missing`: skipped because the row has no code / no name (not because of its state). */
  | { ok: false; code: string; reason: string; missing?: 'code' | 'name' };

/** `software`: the name shown in the skip reasons ('Sage Batigest', 'Codial'). */
export function mapChantier(c: ChantierSource, defaults: ProjectDefaults, software = 'Batigest'): Mapped {
  const code = normaliseCode(c.code);
  if (!code) return { ok: false, code, reason: pushText.chantierWithoutCode(software), missing: 'code' };
  // A code the buffer cannot store could not be found again next run: refused, never altered.
  if (hasUnstorable(code)) return { ok: false, code, reason: pushText.unreadableCode('Chantier', code, software) };
  const name = clean(c.description) ?? clean(c.nomClient);
  if (!name) {
    return { ok: false, code, reason: pushText.chantierWithoutName(code, software), missing: 'name' };
  }
  return {
    ok: true,
    code,
    name,
    input: {
      projectCode: code,
      projectName: name,
      customerName: clean(c.nomClient),
      address: address(clean(c.adresse), clean(c.codePostal), clean(c.ville), defaults),
      budget: budget(c.montant, defaults),
      hoursSold: c.heuresVendues === null ? null : round2(c.heuresVendues),
      startEstimated: ymd(c.dateDebut),
      endEstimated: ymd(c.dateFin),
      ...common(defaults),
    },
  };
}

export const DEVIS_ETATS = [0, 3, 4] as const;

export function mapDevis(d: DevisSource, defaults: ProjectDefaults, software = 'Batigest'): Mapped {
  const code = normaliseCode(d.code);
  if (!code) return { ok: false, code, reason: pushText.devisWithoutCode(software), missing: 'code' };
  if (hasUnstorable(code)) return { ok: false, code, reason: pushText.unreadableCode('Devis', code, software) };
  if (d.etat === null || !(DEVIS_ETATS as readonly number[]).includes(d.etat)) {
    return { ok: false, code, reason: pushText.devisState(code, d.etat) };
  }
  const name = clean(d.sujet) ?? clean(d.nom);
  if (!name) return { ok: false, code, reason: pushText.devisWithoutName(code, software), missing: 'name' };
  return {
    ok: true,
    code,
    name,
    input: {
      projectCode: code,
      projectName: name,
      customerName: clean(d.nom),
      address: address(clean(d.adresse), clean(d.codePostal), clean(d.ville), defaults),
      budget: budget(d.montant, defaults),
      hoursSold: d.tempsMO === null ? null : round2(d.tempsMO),
      startEstimated: ymd(d.date),
      endEstimated: ymd(d.dateConcretis),
      ...common(defaults),
    },
  };
}

/** The fields the connector manages, normalised, so a remote project and a mapped row compare equal. */
export function comparable(p: ProjectInput | Project): Record<string, unknown> {
  const a = p.address ?? null;
  return {
    projectCode: p.projectCode,
    projectName: clean(p.projectName),
    customerName: clean(p.customerName ?? null),
    address: a
      ? {
          street: clean(a.street ?? null),
          postalCode: clean(a.postalCode ?? null),
          city: clean(a.city ?? null),
          countryCode: clean(a.countryCode ?? null),
        }
      : null,
    budget: p.budget ? { amount: round2(p.budget.amount), currency: p.budget.currency } : null,
    hoursSold: p.hoursSold === null || p.hoursSold === undefined ? null : round2(p.hoursSold),
    startEstimated: ymd(p.startEstimated ?? null),
    endEstimated: ymd(p.endEstimated ?? null),
    headQuarter: p.headQuarter ? String(p.headQuarter.id) : null,
    projectManager: clean(p.projectManager ?? null),
    projectColor: clean(p.projectColor ?? null)?.toLowerCase() ?? null,
  };
}

export function projectHash(p: ProjectInput | Project): string {
  return sha256(stableStringify(comparable(p)));
}

/**
 * Hash of what matters in a time slot (anything that can change its SuiviMO row): the canonical JSON of
 * `{ start, end, user, project: { id, code }, status, minutes, lunch, journey }`, written straight in the order
 * stableStringify sorts those keys into (the same text, without building and sorting an object per slot).
 */
export function slotHash(s: TimeSlot): string {
  return sha256(slotCanonical(s));
}

/** The canonical JSON slotHash hashes (exported for the test that holds it equal to stableStringify's). */
export function slotCanonical(s: TimeSlot): string {
  let out = '{';
  const member = (k: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    out += (out.length > 1 ? ',' : '') + k + stableStringify(v);
  };
  member('"end":', s.endDate);
  member('"journey":', s.hasHomeToWorkJourney);
  member('"lunch":', s.hasPackedLunch);
  member('"minutes":', s.totalTimeMinutes);
  if (s.project) {
    let p = '{';
    if (s.project.projectCode !== undefined && s.project.projectCode !== null) p += `"code":${JSON.stringify(s.project.projectCode)}`;
    if (s.project.id !== undefined && s.project.id !== null) p += (p.length > 1 ? ',' : '') + `"id":${stableStringify(s.project.id)}`;
    out += (out.length > 1 ? ',' : '') + '"project":' + p + '}';
  }
  member('"start":', s.startDate);
  member('"status":', s.managementStatus);
  member('"user":', s.user.id);
  return out + '}';
}

/** Validates an IANA time zone name; throws RangeError when unknown. */
export function assertTimeZone(tz: string): void {
  new Intl.DateTimeFormat('en-CA', { timeZone: tz });
}

const dayFormatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Local calendar day (YYYY-MM-DD) of a UTC instant in `tz`, after normalising to the minute.
 * Intl applies the zone's rules, so summer/winter time is handled.
 */
export function localDay(isoUtc: string, tz: string): string {
  const t = parseIsoStrict(isoUtc);
  if (Number.isNaN(t)) throw new RangeError(`invalid date ${isoUtc}`);
  const minute = Math.floor(t / 60_000) * 60_000;
  let f = dayFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormatters.set(tz, f);
  }
  const parts = f.formatToParts(new Date(minute));
  const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}`;
}

export function userDisplayName(u: { id: string; firstName?: string | null; lastName?: string | null; email?: string | null }): string {
  const n = [clean(u.firstName), clean(u.lastName)].filter(Boolean).join(' ');
  return n || clean(u.email) || u.id;
}

/** A date from outside (ISO 8601 text), or null when absent, unreadable or impossible (never rolled over). */
export function parseDate(s: string | null | undefined): Date | null {
  if (!s) return null;
  const t = parseIsoStrict(s);
  return Number.isNaN(t) ? null : new Date(t);
}
