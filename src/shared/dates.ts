/**
 * Strict reading of ISO 8601 dates from outside. `Date.parse` rolls impossible dates over (« 2026-02-30 » becomes
 * 2 March): these functions refuse them instead. Pure (shared by the API schemas, the sync layer and the gateway).
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?$/;

const daysIn = (y: number, m: number): number => [31, y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][m - 1] ?? 0;

/** Whether `s` has the shape of an ISO 8601 date or date-time (whether or not that day exists). */
export const looksIsoDate = (s: string): boolean => ISO.test(s.trim());

/** Whether `s` is an ISO 8601 date or date-time whose every field exists (day of that month, 00-23 h, 00-59 min and s). */
export function isRealIsoDate(s: string): boolean {
  const m = ISO.exec(s.trim());
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1 || d > daysIn(y, mo)) return false;
  if (m[4] !== undefined) {
    const [h, mi, se] = [Number(m[4]), Number(m[5]), Number(m[6] ?? 0)];
    // 24:00 ends a day (ISO 8601): allowed only as exactly 24:00:00.
    if (h > 24 || (h === 24 && (mi !== 0 || se !== 0)) || mi > 59 || se > 59) return false;
  }
  const zone = m[7];
  if (zone && zone !== 'Z') {
    const zh = Number(zone.slice(1, 3));
    const zm = Number(zone.replace(':', '').slice(3, 5) || 0);
    if (zh > 23 || zm > 59) return false;
  }
  return true;
}

/** Milliseconds since 1970 of a real ISO 8601 date (see isRealIsoDate), or NaN (impossible, unreadable). */
export function parseIsoStrict(s: string): number {
  return isRealIsoDate(s) ? Date.parse(s.trim().replace(' ', 'T').replace(',', '.')) : Number.NaN;
}
