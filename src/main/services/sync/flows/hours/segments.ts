/** The hours window cut into segments of whole local days (pure). */
import { localDay } from '../../mapping.js';

/**
 * Splits [start, end] into segments of whole local days in `tz` (inner bounds at local midnight), so that the
 * slots of one SuiviMO key (one local day) are normally listed in the same segment. (In a zone whose clocks go
 * back across midnight, a key may span two segments: still right, see the hours flow, just written twice.)
 */
export function localDaySegments(start: Date, end: Date, tz: string, days: number): { start: Date; end: Date }[] {
  const out: { start: Date; end: Date }[] = [];
  let from = start.getTime();
  const stop = end.getTime();
  while (from < stop) {
    // The local midnight after `days` − 1.5 days: segments of `days` − 1.5 to `days` − 0.5 days (one day at
    // least), so that a segment of 31 days fits one listing request of the client (31-day chunks).
    const to = localMidnightAfter(Math.max(from, from + (Math.max(1, days) - 1.5) * 86_400_000), tz);
    if (to >= stop) {
      out.push({ start: new Date(from), end: new Date(stop) });
      break;
    }
    out.push({ start: new Date(from), end: new Date(to) });
    from = to;
  }
  return out;
}

/** The first instant, strictly after `t`, whose local day in `tz` differs from t's: the next local midnight. */
function localMidnightAfter(t: number, tz: string): number {
  const day = localDay(new Date(t).toISOString(), tz);
  // Local midnights fall on whole minutes (UTC offsets are whole quarters of an hour): search on whole minutes.
  let lo = Math.floor(t / 60_000) * 60_000;
  let hi = lo + 26 * 3_600_000;
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 2 / 60_000) * 60_000;
    if (localDay(new Date(mid).toISOString(), tz) === day) lo = mid;
    else hi = mid;
  }
  return hi;
}
