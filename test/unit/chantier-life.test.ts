/**
 * The pure rules of a chantier's life (issue 18): Etat meanings, scope, finished/archived, name source, the hash
 * (an open project hashes as before), deletions, and the chantiers-back planner's field-by-field decisions.
 */
import { describe, expect, it } from 'vitest';
import { chantierLife, etatRole, guessEtatRole, projectNameOf } from '../../src/main/services/sync/chantier-life.js';
import { mapChantier, projectHash } from '../../src/main/services/sync/mapping.js';
import { looksLikeWrongSource, sourceDeletions } from '../../src/main/services/sync/flows/push/plan.js';
import { changedSince, planBack } from '../../src/main/services/sync/flows/chantiers-back/plan.js';
import type { ChantierSource, Project } from '../../src/shared/domain.js';
import { settingsSchema } from '../../src/shared/settings.js';
import type { ChantierMark } from '../../src/main/services/buffer/chantier-life.js';

const life = settingsSchema.parse({}).chantiers;
const NOW = new Date('2026-07-15T12:00:00Z');
const src = (o: Partial<ChantierSource> = {}): ChantierSource => ({
  code: '00000101',
  nomClient: 'Dupont',
  description: 'Toiture',
  adresse: '1 rue A',
  codePostal: '69003',
  ville: 'Lyon',
  dateDebut: '2026-01-01',
  dateFin: null,
  etat: 'E',
  heuresVendues: 10,
  montant: null,
  dateModif: '2026-07-01T08:00:00.000Z',
  ...o,
});

describe('Etat meanings', () => {
  it('guesses letters and words, unknown values as open, and the integrator overrides', () => {
    expect(['E', 'A', 'en cours', '', null].map(guessEtatRole)).toEqual(['open', 'open', 'open', 'open', 'open']);
    expect(['T', 'Terminé'].map(guessEtatRole)).toEqual(['finished', 'finished']);
    expect(['C', 'S', 'Clôturé', 'soldé'].map(guessEtatRole)).toEqual(['closed', 'closed', 'closed', 'closed']);
    expect(['P', 'Prospect', 'X'].map(guessEtatRole)).toEqual(['ignored', 'ignored', 'ignored']);
    expect(guessEtatRole('Z')).toBe('open');
    expect(etatRole(' P ', { P: 'open' })).toBe('open');
  });
});

describe('scope and closing', () => {
  it('open always in scope; finished in scope within N months of its end; archived after the delay; prospects never', () => {
    expect(chantierLife(src({ dateDebut: '2001-01-01' }), life, NOW)).toEqual({ role: 'open', inScope: true, isFinished: false, isArchived: false });
    expect(chantierLife(src({ etat: 'T', dateFin: '2026-07-01' }), life, NOW)).toMatchObject({ inScope: true, isFinished: true, isArchived: false });
    expect(chantierLife(src({ etat: 'T', dateFin: '2026-03-01' }), life, NOW)).toMatchObject({ inScope: true, isFinished: true, isArchived: true });
    expect(chantierLife(src({ etat: 'C', dateFin: '2024-07-16' }), life, NOW).inScope).toBe(true);
    expect(chantierLife(src({ etat: 'C', dateFin: '2024-07-14' }), life, NOW).inScope).toBe(false);
    // no end date: the last modification counts
    expect(chantierLife(src({ etat: 'C', dateFin: null, dateModif: '2020-01-01T00:00:00Z' }), life, NOW).inScope).toBe(false);
    expect(chantierLife(src({ etat: 'P' }), life, NOW)).toMatchObject({ inScope: false, isFinished: false });
    expect(chantierLife(src({ etat: 'C', dateFin: '2010-01-01' }), { ...life, scopeMonths: 600 }, NOW).inScope).toBe(true);
  });

  it('an open project hashes as before the life fields were managed; finished and archived change the hash', () => {
    const d = settingsSchema.parse({}).batisimply.project;
    const plain = mapChantier(src(), d);
    const open = mapChantier(src(), d, 'Batigest', { isFinished: false, isArchived: false });
    const done = mapChantier(src(), d, 'Batigest', { isFinished: true, isArchived: false });
    const archived = mapChantier(src(), d, 'Batigest', { isFinished: true, isArchived: true });
    if (!plain.ok || !open.ok || !done.ok || !archived.ok) throw new Error('mapped');
    expect(projectHash(open.input)).toBe(projectHash(plain.input));
    expect(new Set([projectHash(open.input), projectHash(done.input), projectHash(archived.input)]).size).toBe(3);
  });

  it('names the project by the chosen source', () => {
    expect(projectNameOf('00000101', 'Toiture', 'Dupont', 'libelle')).toBe('Toiture');
    expect(projectNameOf('00000101', 'Toiture', 'Dupont', 'client')).toBe('Dupont');
    expect(projectNameOf('00000101', 'Toiture', 'Dupont', 'codeLibelle')).toBe('00000101 — Toiture');
    expect(projectNameOf('00000101', null, 'Dupont', 'codeLibelle')).toBe('00000101 — Dupont');
    expect(projectNameOf('00000101', null, null, 'client')).toBeNull();
  });
});

const mark = (o: Partial<ChantierMark> = {}): ChantierMark => ({
  code: '00000101',
  batisimplyId: '7',
  deletedAt: null,
  pushedFields: { dateDebut: '2026-01-01', dateFin: null, adresse: '1 rue A', codePostal: '69003', ville: 'Lyon' },
  remoteModified: new Date('2026-07-01T10:00:00Z'),
  pushedAt: new Date('2026-07-01T10:00:00Z'),
  ...o,
});

describe('deletions', () => {
  it('reports a pushed chantier missing from the source once, and notices it back', () => {
    const marks = new Map([
      ['A', mark({ code: 'A' })],
      ['B', mark({ code: 'B', deletedAt: NOW })],
      ['C', mark({ code: 'C', batisimplyId: null })],
      ['D', mark({ code: 'D', deletedAt: NOW })],
    ]);
    const r = sourceDeletions(marks, new Set(['D']));
    expect(r.deleted.map((m) => m.code)).toEqual(['A']);
    expect(r.back).toEqual(['D']);
  });

  it('does not take a whole company gone (another database) for deletions', () => {
    expect(looksLikeWrongSource(3, 4)).toBe(false); // a few chantiers of a small company
    expect(looksLikeWrongSource(11, 100)).toBe(false);
    expect(looksLikeWrongSource(60, 100)).toBe(true);
  });
});

describe('chantiers-back planner', () => {
  const project = (o: Partial<Project> = {}): Project => ({
    id: '7',
    projectCode: '00000101',
    projectName: 'Toiture',
    startEstimated: '2026-01-01',
    endEstimated: null,
    address: { street: '1 rue A', postalCode: '69003', city: 'Lyon' },
    lastModifiedDate: '2026-07-10T10:00:00Z',
    ...o,
  });

  it('sees a project changed after the last look only', () => {
    expect(changedSince(mark(), project())).toBe(true);
    expect(changedSince(mark(), project({ lastModifiedDate: '2026-07-01T10:00:00.500Z' }))).toBe(false);
  });

  it('writes only ticked fields changed in BatiSimply alone; conflicts go to the later date; unknown Batigest date keeps Batigest', () => {
    const p = project({ endEstimated: '2026-12-31', address: { street: 'Autre rue', postalCode: '69003', city: 'Annecy' } });
    const only = planBack([{ mark: mark(), project: p, source: src() }], ['dateFin', 'ville'], 'Sage Batigest');
    expect(only.writes).toEqual([
      { code: '00000101', field: 'dateFin', value: '2026-12-31' },
      { code: '00000101', field: 'ville', value: 'Annecy' },
    ]);
    expect(only.commits[0]!.fields).toMatchObject({ dateFin: '2026-12-31', ville: 'Annecy', adresse: '1 rue A' });

    const laterHere = planBack([{ mark: mark(), project: p, source: src({ ville: 'Vienne', dateModif: '2026-07-12T00:00:00Z' }) }], ['ville'], 'Sage Batigest');
    expect(laterHere).toMatchObject({ writes: [], conflicts: 1 });
    const laterThere = planBack([{ mark: mark(), project: p, source: src({ ville: 'Vienne', dateModif: '2026-07-05T00:00:00Z' }) }], ['ville'], 'Sage Batigest');
    expect(laterThere).toMatchObject({ writes: [{ field: 'ville', value: 'Annecy' }], conflicts: 1 });
    const undated = planBack([{ mark: mark(), project: p, source: src({ ville: 'Vienne', dateModif: null }) }], ['ville'], 'Sage Batigest');
    expect(undated).toMatchObject({ writes: [], conflicts: 1 });
    expect(undated.journal[0]!.reason).toMatch(/la valeur de Sage Batigest est conservée et sera envoyée/);

    const garbled = planBack([{ mark: mark(), project: project({ endEstimated: '31/12/2026' }), source: src() }], ['dateFin'], 'Sage Batigest');
    expect(garbled.writes).toEqual([]);
    expect(garbled.journal[0]).toMatchObject({ action: 'skipped', reason: expect.stringMatching(/« 31\/12\/2026 »\) n'est pas une date lisible/) });
    const impossible = planBack([{ mark: mark(), project: project({ endEstimated: '2026-02-30' }), source: src() }], ['dateFin'], 'Sage Batigest');
    expect(impossible.writes).toEqual([]);

    const noBase = planBack([{ mark: mark({ pushedFields: null }), project: p, source: src() }], ['ville'], 'Sage Batigest');
    expect(noBase.writes).toEqual([]);
    expect(noBase.journal[0]).toMatchObject({ action: 'reported' });
  });
});

describe('settings of Réglages › Chantiers', () => {
  it('replaces the Etat meanings whole (a value given back to detection disappears) and validates the section', async () => {
    const { applyPatch } = await import('../../src/main/services/settings/service.js');
    const s0 = settingsSchema.parse({});
    const s1 = applyPatch(s0, { chantiers: { etatRoles: { P: 'open', Z: 'closed' } } });
    expect(s1.chantiers.etatRoles).toEqual({ P: 'open', Z: 'closed' });
    expect(applyPatch(s1, { chantiers: { etatRoles: { Z: 'closed' } } }).chantiers.etatRoles).toEqual({ Z: 'closed' });
    expect(applyPatch(s1, { chantiers: { scopeMonths: 12 } }).chantiers).toMatchObject({ scopeMonths: 12, etatRoles: { P: 'open', Z: 'closed' } });
    expect(() => applyPatch(s0, { chantiers: { etatRoles: { P: 'sometimes' as 'open' } } })).toThrow(/Réglage invalide/);
    expect(() => applyPatch(s0, { chantiers: { back: { enabled: true, fields: ['montant' as 'ville'] } } })).toThrow(/Réglage invalide/);
  });
});
