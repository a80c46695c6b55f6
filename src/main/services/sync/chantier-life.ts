/**
 * A chantier's life, without any I/O (issue 18): what its Etat means (detected from the value, overridden by the
 * integrator), whether it is in the scope sent to BatiSimply (open, or ended within the last N months), whether its
 * project is finished / archived, and the project's name by the chosen source. Used by the push flow, the
 * chantiers-back flow and the setup preview (Réglages › Chantiers), so all three decide the same way.
 */
import type { ChantierSource, ProjectInput } from '../../../shared/domain.js';
import { CHANTIER_BACK_FIELDS, type ChantierBackField, type ChantierEtatRole, type ChantiersSettings } from '../../../shared/settings.js';
import { cleanLabel } from '../../../shared/text.js';
import { isRealIsoDate } from '../../../shared/dates.js';

const DAY_MS = 86_400_000;

/** The key of an Etat value: trimmed, as stored (null and blank are the same « vide »). */
export function etatKey(etat: string | null): string {
  return (etat ?? '').trim();
}

const fold = (s: string): string =>
  s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9]/g, '')
    .toLowerCase();

/**
 * The meaning guessed from an Etat value, as Batigest versions write them: a letter (E en cours, A en attente,
 * T terminé, C/S/F clôturé/soldé/fermé, P prospect, X abandonné) or a word. Unknown values count as open: the
 * reference sent every chantier, so sending one too many is safer than hiding one; the setup shows them.
 */
export function guessEtatRole(etat: string | null): ChantierEtatRole {
  const v = fold(etatKey(etat));
  if (v === '' || v === 'e' || v === 'a' || v === 'o' || v.startsWith('encours') || v.startsWith('attente') || v.startsWith('ouvert') || v.startsWith('enattente')) return 'open';
  if (v === 't' || v.startsWith('termin') || v.startsWith('fini') || v.startsWith('achev')) return 'finished';
  if (v === 'c' || v === 's' || v === 'f' || v.startsWith('clos') || v.startsWith('clotur') || v.startsWith('sold') || v.startsWith('ferm') || v.startsWith('archiv')) return 'closed';
  if (v === 'p' || v === 'x' || v.startsWith('prospect') || v.startsWith('abandon') || v.startsWith('annul')) return 'ignored';
  return 'open';
}

/** The meaning of an Etat value: the integrator's choice, else the guess. */
export function etatRole(etat: string | null, roles: Readonly<Record<string, ChantierEtatRole>>): ChantierEtatRole {
  return roles[etatKey(etat)] ?? guessEtatRole(etat);
}

/** The day a finished/closed chantier ended: its end date, else its last modification, else its start. */
export function endDay(c: Pick<ChantierSource, 'dateFin' | 'dateModif' | 'dateDebut'>): Date | null {
  for (const s of [c.dateFin, c.dateModif, c.dateDebut]) {
    if (!s) continue;
    const t = Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s);
    if (!Number.isNaN(t)) return new Date(t);
  }
  return null;
}

/** `now` minus `months` calendar months (UTC). */
export function monthsBefore(now: Date, months: number): Date {
  const d = new Date(now.getTime());
  d.setUTCMonth(d.getUTCMonth() - months);
  return d;
}

export interface ChantierLife {
  role: ChantierEtatRole;
  /** Sent to BatiSimply when not known there yet. */
  inScope: boolean;
  isFinished: boolean;
  isArchived: boolean;
}

type LifeSettings = Pick<ChantiersSettings, 'etatRoles' | 'scopeMonths' | 'archiveAfterDays'>;

/**
 * Where a chantier stands. In scope: open, or finished/closed and ended within the last `scopeMonths` months (an
 * undated one counts as recent); ignored values (prospects) never. Finished/closed → isFinished; archived too once
 * `archiveAfterDays` days have passed since its end.
 */
export function chantierLife(c: Pick<ChantierSource, 'etat' | 'dateFin' | 'dateModif' | 'dateDebut'>, s: LifeSettings, now: Date): ChantierLife {
  const role = etatRole(c.etat, s.etatRoles);
  if (role === 'open') return { role, inScope: true, isFinished: false, isArchived: false };
  if (role === 'ignored') return { role, inScope: false, isFinished: false, isArchived: false };
  const end = endDay(c);
  const inScope = end === null || end.getTime() >= monthsBefore(now, s.scopeMonths).getTime();
  const isArchived = end !== null && now.getTime() - end.getTime() >= s.archiveAfterDays * DAY_MS;
  return { role, inScope, isFinished: true, isArchived };
}

/** The project's name by the chosen source; null when the chantier has neither libellé nor client. */
export function projectNameOf(code: string, libelle: string | null, client: string | null, source: ChantiersSettings['nameSource']): string | null {
  switch (source) {
    case 'client':
      return client ?? libelle;
    case 'codeLibelle': {
      const l = libelle ?? client;
      return l ? `${code} — ${l}` : null;
    }
    default:
      return libelle ?? client;
  }
}

export interface EtatCount {
  value: string;
  count: number;
}

/** Counts of each meaning (for the setup) from the distinct Etat values and their counts. */
export function describeEtats(counts: readonly EtatCount[], roles: Readonly<Record<string, ChantierEtatRole>>): { value: string; count: number; detected: ChantierEtatRole; role: ChantierEtatRole }[] {
  return counts.map((c) => ({ value: etatKey(c.value), count: c.count, detected: guessEtatRole(c.value), role: etatRole(c.value, roles) }));
}

// ------------------------------------------------------------------ fields BatiSimply may change in Batigest

export type BackFields = Record<ChantierBackField, string | null>;

const text = (v: string | null | undefined): string | null => {
  const t = cleanLabel(v ?? '');
  return t.length > 0 ? t : null;
};
const day = (v: string | null | undefined): string | null => {
  const t = (v ?? '').trim();
  return /^\d{4}-\d{2}-\d{2}/.test(t) && isRealIsoDate(t.slice(0, 10)) ? t.slice(0, 10) : null;
};

/** The write-back fields of a project (as sent, or as BatiSimply has it now). */
export function backFieldsOfProject(p: Pick<ProjectInput, 'startEstimated' | 'endEstimated' | 'address'>): BackFields {
  return {
    dateDebut: day(p.startEstimated),
    dateFin: day(p.endEstimated),
    adresse: text(p.address?.street),
    codePostal: text(p.address?.postalCode),
    ville: text(p.address?.city),
  };
}

/** The write-back fields of a ChantierDef row, normalised as the push maps them. */
export function backFieldsOfSource(c: Pick<ChantierSource, 'dateDebut' | 'dateFin' | 'adresse' | 'codePostal' | 'ville'>): BackFields {
  return { dateDebut: day(c.dateDebut), dateFin: day(c.dateFin), adresse: text(c.adresse), codePostal: text(c.codePostal), ville: text(c.ville) };
}

export const BACK_FIELDS: readonly ChantierBackField[] = CHANTIER_BACK_FIELDS;
