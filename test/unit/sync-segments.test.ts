/** The hours window is read in segments of whole local days (engine.ts, localDaySegments). */
import { describe, expect, it } from 'vitest';
import { localDaySegments } from '../../src/main/services/sync/flows/hours/segments.js';
import { localDay } from '../../src/main/services/sync/mapping.js';

const iso = (d: Date): string => d.toISOString();

describe('localDaySegments', () => {
  it('covers the window exactly, contiguous, with inner bounds at local midnight (Paris, across both time changes)', () => {
    const start = new Date('2026-01-15T09:17:23.456Z');
    const end = new Date('2026-11-25T14:00:00Z');
    for (const days of [1, 7, 31]) {
      const segs = localDaySegments(start, end, 'Europe/Paris', days);
      expect(iso(segs[0]!.start)).toBe(iso(start));
      expect(iso(segs.at(-1)!.end)).toBe(iso(end));
      for (let i = 1; i < segs.length; i++) {
        const b = segs[i]!.start;
        expect(iso(b)).toBe(iso(segs[i - 1]!.end));
        // A local midnight: one millisecond earlier is the previous local day.
        expect(localDay(iso(b), 'Europe/Paris')).not.toBe(localDay(iso(new Date(b.getTime() - 1)), 'Europe/Paris'));
        expect(b.toLocaleTimeString('fr-FR', { timeZone: 'Europe/Paris' })).toBe('00:00:00');
      }
      // Whole local days, fewer than `days` (a 31-day segment fits one 31-day listing request), one at least.
      for (const s of segs) {
        const len = (s.end.getTime() - s.start.getTime()) / 86_400_000;
        expect(len).toBeLessThan(Math.max(1, days - 0.5) + 0.05);
        if (s !== segs.at(-1)) expect(len).toBeGreaterThan(Math.max(0, days - 2));
      }
    }
    // Winter (UTC+1) and summer (UTC+2) midnights.
    const bounds = localDaySegments(start, end, 'Europe/Paris', 1).map((s) => iso(s.start));
    expect(bounds).toContain('2026-01-16T23:00:00.000Z');
    expect(bounds).toContain('2026-07-01T22:00:00.000Z');
  });

  it('keeps every instant of one local day in one segment, in other zones too', () => {
    for (const tz of ['America/St_Johns', 'Asia/Kolkata', 'Pacific/Chatham', 'UTC']) {
      const segs = localDaySegments(new Date('2026-03-01T00:00:00Z'), new Date('2026-05-01T00:00:00Z'), tz, 3);
      for (const s of segs.slice(1)) {
        expect(localDay(iso(s.start), tz)).not.toBe(localDay(iso(new Date(s.start.getTime() - 1)), tz));
      }
    }
  });

  it('gives one segment for a short window, none for an empty one', () => {
    expect(localDaySegments(new Date('2026-07-01T10:00:00Z'), new Date('2026-07-01T12:00:00Z'), 'Europe/Paris', 31)).toHaveLength(1);
    expect(localDaySegments(new Date('2026-07-01T10:00:00Z'), new Date('2026-07-01T10:00:00Z'), 'Europe/Paris', 31)).toEqual([]);
  });
});
