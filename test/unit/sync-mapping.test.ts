import { describe, expect, it } from 'vitest';
import { settingsSchema } from '../../src/shared/settings.js';
import { localDay, mapChantier, mapDevis, normaliseCode, projectHash, stableStringify } from '../../src/main/services/sync/mapping.js';

const defaults = settingsSchema.parse({}).batisimply.project;

describe('sync mapping', () => {
  it('pads numeric codes to 8 and trims others', () => {
    expect(normaliseCode(' 123 ')).toBe('00000123');
    expect(normaliseCode('12345678')).toBe('12345678');
    expect(normaliseCode('CH-01 ')).toBe('CH-01');
    expect(normaliseCode(null)).toBe('');
  });

  it('gives the Paris calendar day of a UTC instant across summer and winter time', () => {
    expect(localDay('2026-07-01T21:59:00Z', 'Europe/Paris')).toBe('2026-07-01');
    expect(localDay('2026-07-01T22:00:00Z', 'Europe/Paris')).toBe('2026-07-02');
    expect(localDay('2026-01-20T22:59:59.900Z', 'Europe/Paris')).toBe('2026-01-20');
    expect(localDay('2026-01-20T23:00:00Z', 'Europe/Paris')).toBe('2026-01-21');
    // Night of the change to summer time (29 March 2026, 02:00 → 03:00).
    expect(localDay('2026-03-28T23:30:00Z', 'Europe/Paris')).toBe('2026-03-29');
    expect(localDay('2026-03-29T21:59:00Z', 'Europe/Paris')).toBe('2026-03-29');
    expect(localDay('2026-03-29T22:00:00Z', 'Europe/Paris')).toBe('2026-03-30');
  });

  it('maps a chantier with the settings fields and no hard-coded values', () => {
    const m = mapChantier(
      { code: '42', nomClient: 'Dupont', description: null, adresse: '1 rue A', codePostal: '75011', ville: 'Paris', dateDebut: '2026-01-02', dateFin: null, etat: 'E', heuresVendues: 10.555, montant: 1000, dateModif: null },
      { ...defaults, headQuarterId: 'HQ-1', projectManager: '' },
    );
    expect(m).toMatchObject({ ok: true, code: '00000042', input: { projectCode: '00000042', projectName: 'Dupont', hoursSold: 10.56, budget: { amount: 1000, currency: 'EUR' }, headQuarter: { id: 'HQ-1' }, projectManager: null } });
  });

  it('skips devis outside states 0, 3, 4 and rows without a name, with a French reason', () => {
    const d = { code: 'D1', date: null, nom: null, adresse: null, codePostal: null, ville: null, sujet: null, dateConcretis: null, etat: 3, tempsMO: 4, montant: null, dateModif: null };
    expect(mapDevis(d, defaults)).toMatchObject({ ok: false, reason: expect.stringMatching(/sans objet ni client/) });
    expect(mapDevis({ ...d, etat: 1, nom: 'X' }, defaults)).toMatchObject({ ok: false, reason: expect.stringMatching(/états 0, 3 et 4/) });
    expect(mapDevis({ ...d, nom: 'X' }, defaults)).toMatchObject({ ok: true, input: { hoursSold: 4 } });
  });

  it('hashes content independently of key order, null/undefined, colour case and extra remote fields', () => {
    expect(stableStringify({ b: 1, a: { d: null, c: 2 } })).toBe('{"a":{"c":2},"b":1}');
    const input = { projectCode: 'C1', projectName: 'Nom', projectColor: '#ABCDEF', hoursSold: 2 };
    const remote = { id: '9', lastModifiedDate: '2026-01-01T00:00:00Z', isArchived: false, projectColor: '#abcdef', hoursSold: 2.001, projectName: 'Nom ', projectCode: 'C1' };
    expect(projectHash(remote)).toBe(projectHash(input));
    expect(projectHash({ ...input, projectName: 'Autre' })).not.toBe(projectHash(input));
  });
});
