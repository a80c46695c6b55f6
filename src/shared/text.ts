/**
 * Text from outside that PostgreSQL cannot store: U+0000 (NUL) and UTF-16 halves without their pair (lone
 * surrogates). Pure, shared by the buffer (which makes every text it writes storable), the sync layer (which
 * refuses such identifiers: an altered id would no longer match) and the API schemas.
 */

// eslint-disable-next-line no-control-regex -- finding U+0000 is the point
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');

/** Whether `s` holds a character the buffer cannot store. */
export const hasUnstorable = (s: string): boolean => UNSTORABLE.test(s);

/** `s` with each character the buffer cannot store replaced by U+FFFD « � » (visible, and nothing else moves). */
export const storable = (s: string): string => (hasUnstorable(s) ? s.replace(UNSTORABLE_ALL, '\uFFFD') : s);

/** Control characters (C0 and C1) other than the white space ones (tab, line breaks): never part of a name. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL = /[\u0000-\u0008\u000E-\u001F\u007F-\u009F]/g;

/** A name or label from outside, for display and for BatiSimply: control characters dropped, white space collapsed. */
export const cleanLabel = (s: string): string => storable(s.replace(CONTROL, '')).replace(/\s+/g, ' ').trim();

/** A JSON-like value with every string (keys included) made storable: its JSON can be read back as jsonb. */
export function storableValue<T>(v: T): T {
  if (typeof v === 'string') return storable(v) as T;
  if (Array.isArray(v)) return v.map(storableValue) as T;
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [storable(k), storableValue(x)])) as T;
  return v;
}
