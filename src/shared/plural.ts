/**
 * French plurals: « 1 créneau importé », « 3 créneaux importés », « 0 projet créé » (French takes the
 * singular for 0 and 1, see Intl.PluralRules('fr')). Never « créneau(x) ».
 */
const rules = new Intl.PluralRules('fr-FR');

/** `one` or `other` by the French rule for `n`. */
export function pick(n: number, one: string, other: string): string {
  return rules.select(n) === 'one' ? one : other;
}

/** `n` followed by the right form: count(3, 'créneau importé', 'créneaux importés') → « 3 créneaux importés ». */
export function count(n: number, one: string, other: string): string {
  return `${n.toLocaleString('fr-FR')} ${pick(n, one, other)}`;
}
