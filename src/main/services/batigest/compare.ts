/**
 * Strings compared the way SQL Server compares them under a collation, for the keys the gateway matches in memory
 * (SuiviMO keys, read-back rows): trailing spaces never count ('S01  ' = 'S01'); a _CI_ collation ignores case
 * (French_CI_AS, the usual one of French Batigest installs, and the default when the column's is unknown); an _AI_
 * one ignores accents; binary collations (_BIN, _BIN2) compare code points.
 */
export type StringKey = (s: string) => string;

export const DEFAULT_COLLATION = 'French_CI_AS';

export function collationKey(collation: string | null | undefined): StringKey {
  const c = collation && collation.trim() ? collation.trim() : DEFAULT_COLLATION;
  const binary = /_BIN2?$/i.test(c);
  const ci = !binary && /_CI(_|$)/i.test(c);
  const ai = !binary && /_AI(_|$)/i.test(c);
  return (s) => {
    let t = s.replace(/ +$/, '');
    if (ai) t = t.normalize('NFD').replace(/\p{M}/gu, '');
    if (ci) t = t.toLocaleLowerCase('fr-FR');
    return t;
  };
}

/** The broadest comparison of any collation (case, accents and trailing spaces ignored): keys that differ under it differ everywhere. */
export const LOOSEST_KEY: StringKey = collationKey('Latin1_General_CI_AI');

const UUID = /^\{?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}?$/i;

/**
 * A codebs as the BatiSimply user id it designates: SQL Server finds `11111111-…` in a column holding
 * `11111111-…` in upper case or followed by spaces, so the gateway hands the canonical lower-case UUID on.
 * Text that is not a UUID is returned trimmed, as typed.
 */
export function canonicalCodebs(v: string | null): string | null {
  if (v === null) return null;
  const t = v.trim();
  if (t === '') return null;
  const m = UUID.exec(t);
  return m ? m[1]!.toLowerCase() : t;
}
