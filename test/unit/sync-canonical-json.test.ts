/**
 * The canonical JSON behind every content hash the buffer stores (mapping.ts): the faster writing of issue 22 must
 * give the same text as the first version, character for character — otherwise every chantier and every slot
 * would look changed after an update of the connector. The first version is kept here as the reference.
 */
import { describe, expect, it } from 'vitest';
import { slotCanonical, slotHash, stableStringify, sha256 } from '../../src/main/services/sync/mapping.js';
import type { TimeSlot } from '../../src/shared/domain.js';
import { SeededRandom } from '../support/datasets/batigest.js';

function firstVersion(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return `[${v.map(firstVersion).join(',')}]`;
  if (typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined && o[k] !== null)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${firstVersion(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

function firstSlotHash(s: TimeSlot): string {
  return sha256(
    firstVersion({
      start: s.startDate,
      end: s.endDate,
      user: s.user.id,
      project: s.project ? { id: s.project.id, code: s.project.projectCode ?? null } : null,
      status: s.managementStatus,
      minutes: s.totalTimeMinutes,
      lunch: s.hasPackedLunch,
      journey: s.hasHomeToWorkJourney,
    }),
  );
}

const TEXTS = ['', 'a', 'é"\\\n', '\u0000', '\uD800', '😀', 'B', 'b', '10', '9', 'Z', '_', ' x '];

function value(rng: SeededRandom, depth: number): unknown {
  const k = rng.int(0, depth > 2 ? 5 : 8);
  if (k === 0) return null;
  if (k === 1) return undefined;
  if (k === 2) return rng.pick(TEXTS);
  if (k === 3) return rng.pick([0, -0, 1.5, -3, 1e21, Number.NaN, Number.POSITIVE_INFINITY, 12]);
  if (k === 4) return rng.chance(0.5);
  if (k === 5) return rng.pick(TEXTS) + String(rng.int(0, 99));
  if (k === 6) return Array.from({ length: rng.int(0, 4) }, () => value(rng, depth + 1));
  const o: Record<string, unknown> = {};
  for (let i = rng.int(0, 6); i > 0; i--) o[rng.pick(TEXTS) + rng.pick(['', 'k', 'K', '1'])] = value(rng, depth + 1);
  return o;
}

describe('canonical JSON (content hashes)', () => {
  it('writes exactly the text of the first version, for any JSON-like value', () => {
    const rng = new SeededRandom(2026);
    let objects = 0;
    for (let i = 0; i < 5000; i++) {
      const v = value(rng, 0);
      if (v !== null && typeof v === 'object') objects++;
      expect(stableStringify(v)).toBe(firstVersion(v));
    }
    expect(objects).toBeGreaterThan(1000);
    expect(stableStringify({ b: 1, a: [null, undefined, { d: null, c: 'x' }], e: undefined })).toBe('{"a":[null,null,{"c":"x"}],"b":1}');
  });

  it('hashes a time slot as the first version did, whatever its fields hold', () => {
    const rng = new SeededRandom(22);
    for (let i = 0; i < 3000; i++) {
      const pick = <T>(xs: T[]): T => xs[rng.int(0, xs.length - 1)] as T;
      const slot = {
        id: String(i),
        startDate: pick(['2026-03-01T07:00:00.000Z', '', 'x"y']),
        endDate: pick(['2026-03-01T15:00:00.000Z', undefined, null]),
        user: { id: pick(['u1', 'é', '']) },
        project: pick([null, { id: '12' }, { id: '7', projectCode: 'CH"01' }, { id: '8', projectCode: null }, { id: '', projectCode: '' }]),
        managementStatus: pick(['VALIDATED', 'PENDING', '']),
        totalTimeMinutes: pick([0, 480, 37.5, undefined, null, Number.NaN]),
        hasPackedLunch: pick([true, false, undefined, null]),
        hasHomeToWorkJourney: pick([true, false, undefined]),
      } as unknown as TimeSlot;
      expect(slotHash(slot)).toBe(firstSlotHash(slot));
      expect(slotCanonical(slot)).toBe(
        stableStringify({
          start: slot.startDate,
          end: slot.endDate,
          user: slot.user.id,
          project: slot.project ? { id: slot.project.id, code: slot.project.projectCode ?? null } : null,
          status: slot.managementStatus,
          minutes: slot.totalTimeMinutes,
          lunch: slot.hasPackedLunch,
          journey: slot.hasHomeToWorkJourney,
        }),
      );
    }
  });
});
