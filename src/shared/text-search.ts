/**
 * Search as people type: case and accents ignored (« lev » finds « Lévêque », « OEUVRE » finds « œuvre »).
 */
export function foldForSearch(s: string): string {
  return s
    .normalize('NFD')
    .replace(/\p{M}+/gu, '')
    .replace(/œ/gi, 'oe')
    .replace(/æ/gi, 'ae')
    .toLocaleLowerCase('fr-FR')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Whether every word of `query` appears in `text` (case and accents ignored). An empty query matches. */
export function matchesSearch(text: string, query: string): boolean {
  const hay = foldForSearch(text);
  return foldForSearch(query)
    .split(' ')
    .filter(Boolean)
    .every((w) => hay.includes(w));
}
