/** Strict ISO 8601 dates from outside (issue 16, item 12): an impossible day is refused, never rolled over. */
import { describe, expect, it } from 'vitest';
import { isRealIsoDate, looksIsoDate, parseIsoStrict } from '../../src/shared/dates.js';
import { toDateOnly, toTimestamp } from '../../src/main/services/batigest/rows.js';
import { localDay, mapChantier, parseDate } from '../../src/main/services/sync/mapping.js';
import { slotProblem } from '../../src/main/services/sync/flows/hours/plan.js';
import { settingsSchema } from '../../src/shared/settings.js';

describe('strict ISO dates', () => {
  it('accepts real days and times, with or without zone, fractions and 24:00:00', () => {
    for (const s of ['2026-02-28', '2028-02-29T08:00:00Z', '2026-07-01T07:00:00.123Z', '2026-07-01T07:00:00+02:00', '2026-07-01 07:00', '2026-12-31T24:00:00Z']) expect(isRealIsoDate(s), s).toBe(true);
    expect(parseIsoStrict('2026-07-01T07:00:00+02:00')).toBe(Date.UTC(2026, 6, 1, 5));
  });
  it('refuses days that do not exist and fields out of range (Date.parse would roll them over)', () => {
    expect(new Date(Date.parse('2026-02-30T08:00:00Z')).toISOString()).toBe('2026-03-02T08:00:00.000Z'); // the trap
    for (const s of ['2026-02-30T08:00:00Z', '2026-02-29', '2100-02-29', '2026-04-31T10:00:00Z', '2026-13-01', '2026-00-10', '2026-07-01T24:30:00Z', '2026-07-01T07:60:00Z', '2026-07-01T07:00:61Z']) {
      expect(isRealIsoDate(s), s).toBe(false);
      expect(Number.isNaN(parseIsoStrict(s)), s).toBe(true);
    }
    expect(looksIsoDate('2026-02-30T08:00:00Z')).toBe(true);
    expect(looksIsoDate('hier matin')).toBe(false);
  });
  it('the sync layer and the gateway read dates strictly', () => {
    expect(parseDate('2026-04-31T10:00:00Z')).toBeNull();
    expect(() => localDay('2026-02-30T08:00:00Z', 'Europe/Paris')).toThrow(RangeError);
    const slot = { id: '1', startDate: '2026-02-30T08:00:00Z', endDate: '2026-02-30T16:00:00Z', user: { id: 'u' }, project: null, managementStatus: 'VALIDATED', totalTimeMinutes: 480, hasPackedLunch: false, hasHomeToWorkJourney: false };
    expect(slotProblem(slot, new Date('2026-01-01T00:00:00Z'), new Date('2026-07-01T00:00:00Z'))).toBe('date de début impossible (« 2026-02-30T08:00:00Z »).');
    expect(slotProblem({ ...slot, startDate: 'hier matin' }, new Date('2026-01-01T00:00:00Z'), new Date('2026-07-01T00:00:00Z'))).toBe('date de début illisible (« hier matin »).');
    const defaults = settingsSchema.parse({}).batisimply.project;
    const m = mapChantier({ code: '1', nomClient: 'A', description: 'B', adresse: null, codePostal: null, ville: null, dateDebut: '2026-02-30', dateFin: '2026-03-31', etat: null, heuresVendues: null, montant: null, dateModif: null }, defaults);
    expect(m.ok && [m.input.startEstimated, m.input.endEstimated]).toEqual([null, '2026-03-31']);
    expect(toDateOnly('2026-02-30')).toBeNull();
    expect(toDateOnly('2026-02-28 00:00:00')).toBe('2026-02-28');
    expect(toTimestamp('2026-02-30 08:00:00')).toBeNull();
    expect(toTimestamp('2026-02-27 08:00:00')).toBe('2026-02-27T08:00:00.000Z');
  });
});
