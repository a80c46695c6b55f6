/** The push flow's planner, without any I/O: classification of the source rows, and the per-record decision. */
import { describe, expect, it } from 'vitest';
import type { ChantierSource, Project } from '../../src/shared/domain.js';
import { settingsSchema } from '../../src/shared/settings.js';
import type { RecordRow } from '../../src/main/services/buffer/store.js';
import { mapChantier, projectHash } from '../../src/main/services/sync/mapping.js';
import { classifyMapped, decideKnown, decideUnknown, indexProjects, type PushWork } from '../../src/main/services/sync/flows/push/plan.js';

const defaults = settingsSchema.parse({}).batisimply.project;
const SW = 'Sage Batigest';

const chantier = (code: string, description: string | null, extra: Partial<ChantierSource> = {}): ChantierSource => ({
  code,
  nomClient: null,
  description,
  adresse: null,
  codePostal: null,
  ville: null,
  dateDebut: null,
  dateFin: null,
  etat: 'E',
  heuresVendues: null,
  montant: null,
  dateModif: null,
  ...extra,
});

const record = (code: string, over: Partial<RecordRow> = {}): RecordRow => ({
  kind: 'chantier',
  source_code: code,
  source_name: null,
  source_hash: 'h',
  source_modified: null,
  batisimply_id: 'p-1',
  pushed_hash: null,
  pushed_at: new Date('2026-03-01T10:00:00Z'),
  remote_modified: null,
  first_seen: new Date('2026-03-01T10:00:00Z'),
  last_seen: new Date('2026-03-01T10:00:00Z'),
  last_error: null,
  attempts: 0,
  intent: null,
  intent_hash: null,
  intent_at: null,
  ...over,
});

const mapped = (c: ChantierSource, modified: Date | null = null) => ({ m: mapChantier(c, defaults, SW), modified });

function work(code: string, name: string, rec?: RecordRow, modified: Date | null = null): PushWork {
  const m = mapChantier(chantier(code, name), defaults, SW);
  if (!m.ok) throw new Error('unmappable');
  return { code: m.code, name: m.name, input: m, hash: projectHash(m.input), rec, modified };
}

const project = (w: PushWork, over: Partial<Project> = {}): Project => ({ ...w.input.input, id: 'p-1', ...over });

describe('push planner: classifying the source rows against the buffer', () => {
  it('skips rows without code or name (counted apart), reports a duplicate code, and keeps only new or changed records', () => {
    const same = mapChantier(chantier('2', 'Cuisine'), defaults, SW);
    if (!same.ok) throw new Error('unmappable');
    const records = new Map([
      ['00000002', record('00000002', { pushed_hash: projectHash(same.input) })],
      ['00000003', record('00000003', { pushed_hash: 'old' })],
      // Same content but an unfinished intent (crash): worked on again.
      ['00000004', record('00000004', { pushed_hash: work('4', 'Salle de bain').hash, intent: 'update' })],
    ]);
    const plan = classifyMapped(
      [mapped(chantier('', 'Sans code')), mapped(chantier('1', null)), mapped(chantier('2', 'Cuisine')), mapped(chantier('3', 'Garage')), mapped(chantier('4', 'Salle de bain')), mapped(chantier('5', 'Véranda')), mapped(chantier('5', 'Véranda bis'))],
      records,
      'chantier',
      SW,
    );
    expect(plan.skipped).toEqual([
      { recordKey: 'chantier:(sans code 1)', action: 'skipped', reason: 'Chantier sans code dans Sage Batigest : ignoré. Renseignez son code pour le synchroniser.' },
      { recordKey: 'chantier:00000001', action: 'skipped', reason: 'Chantier 00000001 sans nom ni client dans Sage Batigest : ignoré. Renseignez son libellé ou son client.' },
      { recordKey: 'chantier:00000005', action: 'skipped', reason: 'Code 00000005 présent plusieurs fois dans Sage Batigest : seule la première ligne est envoyée.' },
    ]);
    expect({ noCode: plan.noCode, noName: plan.noName }).toEqual({ noCode: 1, noName: 1 });
    expect(plan.unchanged).toEqual(['00000002']);
    expect(plan.work.map((w) => [w.code, w.name, w.rec?.source_code ?? null])).toEqual([
      ['00000003', 'Garage', '00000003'],
      ['00000004', 'Salle de bain', '00000004'],
      ['00000005', 'Véranda', null],
    ]);
  });

  it('indexes the listing by id and by normalised code, the first project of a code winning', () => {
    const a = { id: '1', projectCode: '42', projectName: 'A' };
    const b = { id: '2', projectCode: '00000042', projectName: 'B' };
    const idx = indexProjects([a, b]);
    expect(idx.byCode.get('00000042')).toBe(a);
    expect([...idx.byId.keys()]).toEqual(['1', '2']);
  });
});

describe('push planner: one record against BatiSimply', () => {
  const lastPush = new Date('2026-03-01T10:00:00Z');

  it('keeps a project already right remotely, updates a different one', () => {
    const w = work('7', 'Cuisine', record('00000007', { pushed_hash: 'old', pushed_at: lastPush }));
    expect(decideKnown(w, 'p-1', project(w), 'chantier', SW)).toEqual({ do: 'keep', id: 'p-1', remoteModified: null, conflict: false, journal: [] });
    expect(decideKnown(w, 'p-1', project(w, { projectName: 'Autre' }), 'chantier', SW)).toEqual({
      do: 'update',
      id: 'p-1',
      conflict: false,
      journal: [],
      after: { recordKey: 'chantier:00000007', action: 'updated', reason: null },
    });
  });

  it('a change on both sides is a conflict: the more recent side wins', () => {
    const remote = '2026-03-05T09:00:00Z';
    const older = work('7', 'Cuisine', record('00000007', { pushed_hash: 'old', pushed_at: lastPush }), new Date('2026-03-04T09:00:00Z'));
    const kept = decideKnown(older, 'p-1', project(older, { projectName: 'Renommé', lastModifiedDate: remote }), 'chantier', SW);
    expect(kept).toMatchObject({ do: 'keep', conflict: true, remoteModified: new Date(remote) });
    expect(kept.do === 'keep' && kept.journal).toEqual([
      {
        recordKey: 'chantier:00000007',
        action: 'conflict',
        reason: 'Cuisine (00000007) modifié dans Sage Batigest (04/03/2026 10:00) et dans BatiSimply (05/03/2026 10:00) : la modification BatiSimply, plus récente, est conservée.',
      },
    ]);
    const newer = work('7', 'Cuisine', record('00000007', { pushed_hash: 'old', pushed_at: lastPush }), new Date('2026-03-06T09:00:00Z'));
    const sent = decideKnown(newer, 'p-1', project(newer, { projectName: 'Renommé', lastModifiedDate: remote }), 'chantier', SW);
    expect(sent).toMatchObject({ do: 'update', conflict: true });
    expect(sent.do === 'update' && sent.journal[0]?.reason).toBe(
      'Cuisine (00000007) modifié dans Sage Batigest (06/03/2026 10:00) et dans BatiSimply (05/03/2026 10:00) : la modification Sage Batigest, plus récente, est envoyée.',
    );
  });

  it('no conflict when only BatiSimply moved within a second of our write, or when the source did not change since', () => {
    const w = work('7', 'Cuisine', record('00000007', { pushed_hash: 'old', remote_modified: new Date('2026-03-05T09:00:00Z'), pushed_at: lastPush }));
    expect(decideKnown(w, 'p-1', project(w, { projectName: 'X', lastModifiedDate: '2026-03-05T09:00:00.900Z' }), 'chantier', SW)).toMatchObject({ do: 'update', conflict: false });
    const unchangedHere = work('7', 'Cuisine');
    unchangedHere.rec = record('00000007', { pushed_hash: unchangedHere.hash, pushed_at: lastPush });
    expect(decideKnown(unchangedHere, 'p-1', project(unchangedHere, { projectName: 'X', lastModifiedDate: '2026-03-09T09:00:00Z' }), 'chantier', SW)).toMatchObject({ do: 'update', conflict: false });
  });

  it('without a known project: adopts the project of its code (unchanged or updated), else creates one', () => {
    const w = work('8', 'Garage');
    expect(decideUnknown(w, null, 'chantier')).toEqual({ do: 'create' });
    expect(decideUnknown(w, project(w, { id: 'p-9', lastModifiedDate: '2026-03-01T08:00:00Z' }), 'chantier')).toEqual({
      do: 'keep',
      id: 'p-9',
      remoteModified: new Date('2026-03-01T08:00:00Z'),
      conflict: false,
      journal: [{ recordKey: 'chantier:00000008', action: 'adopted', reason: 'Projet BatiSimply existant repris par son code 00000008 (aucune modification nécessaire).' }],
    });
    expect(decideUnknown(w, project(w, { id: 'p-9', projectName: 'Ancien nom' }), 'chantier')).toEqual({
      do: 'update',
      id: 'p-9',
      conflict: false,
      journal: [],
      after: { recordKey: 'chantier:00000008', action: 'adopted', reason: 'Projet BatiSimply existant repris par son code 00000008 et mis à jour.' },
    });
  });
});

describe('scope (issue 18)', () => {
  it('leaves out rows out of scope that BatiSimply never got, follows the ones it has, and lists every source code', () => {
    const rows = [
      { m: mapChantier(chantier('00000001', 'Ancien, jamais envoyé'), defaults), modified: null, inScope: false },
      { m: mapChantier(chantier('00000002', 'Ancien, déjà envoyé'), defaults), modified: null, inScope: false },
      { m: mapChantier(chantier('00000003', 'Création interrompue'), defaults), modified: null, inScope: false },
      { m: mapChantier(chantier('00000004', 'Ouvert'), defaults), modified: null, inScope: true },
      { m: mapChantier(chantier('00000005', null), defaults), modified: null, inScope: false },
    ];
    const records = new Map([
      ['00000002', record('00000002')],
      ['00000003', record('00000003', { batisimply_id: null, intent: 'create' })],
    ]);
    const plan = classifyMapped(rows, records, 'chantier', SW);
    expect(plan.outOfScope).toBe(2);
    expect(plan.work.map((w) => w.code)).toEqual(['00000002', '00000003', '00000004']);
    expect(plan.skipped).toEqual([]); // an out-of-scope row without name is not reported either
    expect([...plan.sourceCodes].sort()).toEqual(['00000001', '00000002', '00000003', '00000004', '00000005']);
  });
});
