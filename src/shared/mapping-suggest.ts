/**
 * Employee mapping suggestions: which BatiSimply user is probably which Batigest salarié.
 *
 * Pure function, no I/O. Names are compared after normalisation (accents, case, punctuation, order of
 * first and last name); e-mail local parts (`jean.dupont@…`, `jdupont@…`) count as names too. Each
 * salarié gets at most one suggestion and each user is suggested at most once (best confidence wins).
 */

export interface SuggestSalarie {
  code: string;
  nom: string;
  prenom: string | null;
  /** BatiSimply user id when already mapped (such salariés get no suggestion). */
  codebs: string | null;
}

export interface SuggestUser {
  id: string;
  firstName?: string | null;
  lastName?: string | null;
  email?: string | null;
  login?: string | null;
  /** Salarié code this user is already mapped to (such users are not suggested again). */
  mappedTo?: string | null;
}

export interface Suggestion {
  salarieCode: string;
  userId: string;
  /** 0..1 */
  confidence: number;
  /** French explanation for the UI. */
  reason: string;
}

/** Lower case, accents removed, punctuation turned into spaces, spaces collapsed. */
export function normalizeName(s: string | null | undefined): string {
  if (!s) return '';
  return s
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/œ/gi, 'oe')
    .replace(/æ/gi, 'ae')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, ' ')
    .trim()
    .replace(/\s+/g, ' ');
}

export function nameTokens(...parts: (string | null | undefined)[]): string[] {
  return parts
    .map(normalizeName)
    .join(' ')
    .split(' ')
    .filter((t) => t.length > 0);
}

function sortedKey(tokens: readonly string[]): string {
  return [...tokens].sort().join(' ');
}

/** Levenshtein distance (small strings only). */
function distance(a: string, b: string): number {
  if (a === b) return 0;
  if (!a.length) return b.length;
  if (!b.length) return a.length;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

function similarity(a: string, b: string): number {
  const max = Math.max(a.length, b.length);
  return max === 0 ? 1 : 1 - distance(a, b) / max;
}

interface Scored {
  confidence: number;
  reason: string;
}

function emailLocal(email: string | null | undefined): string {
  if (!email) return '';
  const at = email.indexOf('@');
  return at > 0 ? email.slice(0, at) : '';
}

/** The best reason why `s` could be `u`, or null. */
export function scorePair(s: SuggestSalarie, u: SuggestUser): Scored | null {
  const sFirst = normalizeName(s.prenom);
  const sLast = normalizeName(s.nom);
  const sTokens = nameTokens(s.prenom, s.nom);
  const uFirst = normalizeName(u.firstName);
  const uLast = normalizeName(u.lastName);
  const uTokens = nameTokens(u.firstName, u.lastName);
  if (sTokens.length === 0) return null;

  const candidates: Scored[] = [];

  if (uTokens.length > 0) {
    const sOrdered = sTokens.join(' ');
    const uOrdered = uTokens.join(' ');
    const uReversed = nameTokens(u.lastName, u.firstName).join(' ');
    if (sOrdered === uOrdered || sOrdered === uReversed) candidates.push({ confidence: 1, reason: 'Même nom et même prénom' });
    else if (sortedKey(sTokens) === sortedKey(uTokens))
      candidates.push({ confidence: 0.95, reason: 'Même nom et prénom, dans un autre ordre' });
    else {
      const sim = similarity(sortedKey(sTokens), sortedKey(uTokens));
      if (sim >= 0.85) candidates.push({ confidence: Math.round(sim * 0.8 * 100) / 100, reason: 'Nom très proche (faute de frappe ?)' });
    }
    // Same last name, first name initial matches (e.g. "J. Dupont").
    if (sLast && uLast && sLast === uLast && sFirst && uFirst && sFirst[0] === uFirst[0] && sFirst !== uFirst) {
      candidates.push({ confidence: 0.7, reason: 'Même nom, même initiale du prénom' });
    }
    if (sLast && uLast && sLast === uLast && (!sFirst || !uFirst)) {
      candidates.push({ confidence: 0.55, reason: 'Même nom de famille' });
    }
  }

  for (const local of [emailLocal(u.email), u.login && !u.login.includes('@') ? u.login : emailLocal(u.login)]) {
    const l = normalizeName(local);
    if (!l) continue;
    const lTokens = l.split(' ');
    if (sortedKey(lTokens) === sortedKey(sTokens)) {
      candidates.push({ confidence: 0.9, reason: 'Adresse e-mail au nom du salarié' });
    } else {
      const compact = l.replace(/ /g, '');
      const last = sLast.replace(/ /g, '');
      const first = sFirst.replace(/ /g, '');
      if (last && first && (compact === first[0] + last || compact === last + first[0])) {
        candidates.push({ confidence: 0.75, reason: 'Adresse e-mail : initiale du prénom et nom' });
      } else if (last && !first && (compact === last || lTokens.includes(last))) {
        candidates.push({ confidence: 0.6, reason: 'Adresse e-mail contenant le nom' });
      }
    }
  }

  if (candidates.length === 0) return null;
  return candidates.reduce((best, c) => (c.confidence > best.confidence ? c : best));
}

/**
 * Suggests one user per unmapped salarié. Assignment is greedy by confidence, so a user is never
 * suggested for two salariés; ties are broken by salarié code then user id (deterministic).
 */
export function suggestMappings(
  salaries: readonly SuggestSalarie[],
  users: readonly SuggestUser[],
  options: { minConfidence?: number } = {},
): Suggestion[] {
  const min = options.minConfidence ?? 0.5;
  const mappedUserIds = new Set<string>();
  for (const s of salaries) if (s.codebs) mappedUserIds.add(s.codebs);
  for (const u of users) if (u.mappedTo) mappedUserIds.add(u.id);

  const freeSalaries = salaries.filter((s) => !s.codebs);
  const freeUsers = users.filter((u) => !mappedUserIds.has(u.id));

  const all: Suggestion[] = [];
  for (const s of freeSalaries) {
    for (const u of freeUsers) {
      const sc = scorePair(s, u);
      if (sc && sc.confidence >= min) all.push({ salarieCode: s.code, userId: u.id, confidence: sc.confidence, reason: sc.reason });
    }
  }
  all.sort(
    (a, b) =>
      b.confidence - a.confidence ||
      (a.salarieCode < b.salarieCode ? -1 : a.salarieCode > b.salarieCode ? 1 : 0) ||
      (a.userId < b.userId ? -1 : a.userId > b.userId ? 1 : 0),
  );

  // Ambiguity: when a salarié has two users at the same best confidence, lower it (a human must choose).
  const bestBySalarie = new Map<string, number>();
  const tiesBySalarie = new Map<string, number>();
  for (const sg of all) {
    const best = bestBySalarie.get(sg.salarieCode);
    if (best === undefined) bestBySalarie.set(sg.salarieCode, sg.confidence);
    else if (best === sg.confidence) tiesBySalarie.set(sg.salarieCode, (tiesBySalarie.get(sg.salarieCode) ?? 1) + 1);
  }

  const usedSalaries = new Set<string>();
  const usedUsers = new Set<string>();
  const out: Suggestion[] = [];
  for (const sg of all) {
    if (usedSalaries.has(sg.salarieCode) || usedUsers.has(sg.userId)) continue;
    usedSalaries.add(sg.salarieCode);
    usedUsers.add(sg.userId);
    const ties = tiesBySalarie.get(sg.salarieCode);
    out.push(
      ties
        ? { ...sg, confidence: Math.round((sg.confidence / ties) * 100) / 100, reason: `${sg.reason} (plusieurs utilisateurs possibles)` }
        : sg,
    );
  }
  return out.sort((a, b) => (a.salarieCode < b.salarieCode ? -1 : a.salarieCode > b.salarieCode ? 1 : 0));
}

/** Confidence at or above which the UI may accept a suggestion in bulk. */
export const SAFE_CONFIDENCE = 0.9;
