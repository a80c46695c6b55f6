/**
 * Batigest wall-clock datetimes → instants (rows.ts): the offsets are cached per quarter of an hour (issue 22).
 * Checked here against Intl asked directly, minute by minute around changes of time (whole hours in Paris and New
 * York, half an hour at Lord Howe, a zone at +05:45), and at random instants over two centuries.
 */
import { describe, expect, it } from 'vitest';
import { wallTimeToIso } from '../../src/main/services/batigest/rows.js';
import { SeededRandom } from '../support/datasets/batigest.js';

function offsetByIntl(ts: number, tz: string): number {
  const f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(ts))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year ?? 1970, (p.month ?? 1) - 1, p.day ?? 1, p.hour ?? 0, p.minute ?? 0, p.second ?? 0) - Math.floor(ts / 1000) * 1000;
}

function reference(wall: Date, tz: string): string {
  const w = wall.getTime();
  let t = w - offsetByIntl(w, tz);
  t = w - offsetByIntl(t, tz);
  return new Date(t).toISOString();
}

const ZONES = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];

describe('wall-clock time of the Batigest server → instant', () => {
  it('matches Intl minute by minute around the changes of time of 2026', () => {
    const around = ['2026-03-29T00:00:00Z', '2026-10-25T00:00:00Z', '2026-03-08T05:00:00Z', '2026-11-01T04:00:00Z', '2026-04-05T13:00:00Z', '2026-10-04T14:00:00Z'];
    let n = 0;
    for (const tz of ZONES) {
      for (const a of around) {
        const t0 = Date.parse(a);
        for (let m = -180; m <= 180; m++) {
          const wall = new Date(t0 + m * 60_000 + 17_000);
          expect(wallTimeToIso(wall, tz), `${tz} ${wall.toISOString()}`).toBe(reference(wall, tz));
          n++;
        }
      }
    }
    expect(n).toBe(ZONES.length * 6 * 361);
  });

  it('matches Intl at random instants from 1900 to 2100', () => {
    const rng = new SeededRandom(1900);
    const from = Date.UTC(1900, 0, 1);
    for (let i = 0; i < 4000; i++) {
      const tz = rng.pick(ZONES);
      const wall = new Date(from + rng.int(0, 200 * 365) * 86_400_000 + rng.int(0, 86_399) * 1000 + rng.int(0, 999));
      expect(wallTimeToIso(wall, tz), `${tz} ${wall.toISOString()}`).toBe(reference(wall, tz));
    }
  });
});
