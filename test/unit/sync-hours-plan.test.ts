/** The hours flow's planners, without any I/O: listed slots → changes, deletions, SuiviMO keys and ops. */
import { describe, expect, it } from 'vitest';
import type { Salarie, TimeSlot } from '../../src/shared/domain.js';
import type { SlotBrief, SlotKeyRow, WrittenRow } from '../../src/main/services/buffer/store.js';
import { slotHash } from '../../src/main/services/sync/mapping.js';
import {
  classifyRejected,
  classifySlot,
  closingLines,
  newTally,
  planDeletions,
  settleWithCode,
  tallyVerdict,
  type SlotChange,
  type SlotVerdict,
  type SlotView,
} from '../../src/main/services/sync/flows/hours/plan.js';
import { intentOf, journalChanges, planKeyOps, suiviConflicts, suiviOps, type HoursMemory } from '../../src/main/services/sync/flows/hours/plan-keys.js';

const SW = 'Sage Batigest';
const U1 = 'u-1';
const NOW = new Date('2026-07-10T12:00:00Z');
const WINDOW_START = new Date('2026-06-10T12:00:00Z');
const sal: Salarie = { code: 'S01', nom: 'Martin', prenom: 'Julie', codebs: U1 };

const slot = (id: string, over: Partial<TimeSlot> = {}): TimeSlot => ({
  id,
  startDate: '2026-07-01T22:30:00Z', // 2 July in Paris
  endDate: '2026-07-02T06:30:00Z',
  user: { id: U1, firstName: 'Julie', lastName: 'Martin' },
  project: { id: 'p-1', projectCode: '00000101' },
  managementStatus: 'VALIDATED',
  totalTimeMinutes: 480,
  hasPackedLunch: true,
  hasHomeToWorkJourney: false,
  ...over,
});

const keyRow = (slotId: string, over: Partial<SlotKeyRow> = {}): SlotKeyRow => ({ slot_id: slotId, code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-02', minutes: 480, trajet: 0, panier: 1, ...over });
const brief = (s: TimeSlot, state: string, over: Partial<SlotBrief> = {}): SlotBrief => ({ slot_id: s.id, content_hash: slotHash(s), state, start_utc: new Date(s.startDate), ...over });

function view(over: Partial<SlotView> = {}): SlotView {
  return { prevSlots: new Map(), keysMap: new Map(), byCodebs: new Map([[U1, sal]]), removeUnvalidated: false, timezone: 'Europe/Paris', windowStart: WINDOW_START, now: NOW, sw: SW, ...over };
}

/** The verdict of a slot whose code resolves to `code` (known to Batigest unless said). */
function decide(s: TimeSlot, v: SlotView, code: string | null = s.project?.projectCode ?? null, known = true): SlotVerdict {
  const first = classifySlot(s, v);
  return 'verdict' in first ? first.verdict : settleWithCode(first.needsCode, code, known, v);
}

describe('hours planner: listed slots', () => {
  it('a new validated slot of a mapped user on a known chantier contributes to its Paris day', () => {
    const v = decide(slot('1'), view());
    expect(v.change).toMatchObject({ slotId: '1', state: 'written', keepMapping: false, desired: { code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-02', minutes: 480, trajet: 0, panier: 1 } });
    expect({ skipped: v.skipped, unchanged: v.unchanged, touch: v.touch, item: v.item }).toEqual({ skipped: false, unchanged: false, touch: false, item: null });
  });

  it('a slot unchanged since it was written is only seen again', () => {
    const s = slot('1');
    const v = decide(s, view({ prevSlots: new Map([['1', brief(s, 'written')]]), keysMap: new Map([['1', keyRow('1')]]) }));
    expect(v).toMatchObject({ touch: true, unchanged: true, change: null });
  });

  it('a slot of a user without salarié waits (counted per user), and is not rewritten while nothing changes', () => {
    const s = slot('2', { user: { id: 'u-9', firstName: 'Paul', lastName: 'Leroy' }, totalTimeMinutes: 90 });
    const first = decide(s, view());
    expect(first.change).toMatchObject({ state: 'unmapped_user', reason: 'Utilisateur Paul Leroy sans salarié Sage Batigest', desired: null });
    expect(first).toMatchObject({ skipped: true, waiting: { kind: 'unmapped', userId: 'u-9', name: 'Paul Leroy', minutes: 90 } });
    const again = decide(s, view({ prevSlots: new Map([['2', brief(s, 'unmapped_user')]]) }));
    expect(again).toMatchObject({ touch: true, skipped: true, unchanged: false, change: null });
    const t = newTally();
    tallyVerdict(t, first);
    tallyVerdict(t, again);
    expect({ slots: t.unmappedSlots, minutes: t.pendingMinutes, users: [...t.unmapped] }).toEqual({ slots: 2, minutes: 180, users: [['u-9', { name: 'Paul Leroy', n: 2 }]] });
  });

  it('a chantier code Batigest does not know, or no code at all, waits as an unknown chantier', () => {
    expect(decide(slot('3'), view(), '00000999', false)).toMatchObject({ change: { state: 'unknown_chantier', reason: 'Chantier 00000999 inconnu dans Sage Batigest' }, waiting: { kind: 'unknown', label: '00000999' } });
    expect(decide(slot('4', { project: { id: 'p-7' } }), view(), null, false)).toMatchObject({ waiting: { kind: 'unknown', label: 'projet BatiSimply p-7' } });
  });

  it('impossible values are journaled and never written', () => {
    const v = decide(slot('5', { totalTimeMinutes: 1530 }), view());
    expect(v.change).toMatchObject({ state: 'failed', desired: null });
    expect(v.item).toEqual({ recordKey: 'slot:5', action: 'skipped', reason: 'Créneau 5 de Julie Martin : durée de 25,5 h sur un seul créneau (plus de 24 h). Il n\'est pas importé ; corrigez-le dans BatiSimply.' });
    expect(decide(slot('6', { startDate: '2026-01-01T08:00:00Z' }), view()).item?.reason).toBe("Créneau 6 de Julie Martin : date de début 2026-01-01 hors de la période importée. Il n'est pas importé ; corrigez-le dans BatiSimply.");
  });

  it('an unvalidated slot: not imported (silent count); when written before, its hours are removed or kept by the option', () => {
    const pending = slot('7', { managementStatus: 'PENDING' });
    expect(decide(pending, view())).toMatchObject({ skipped: true, notValidatedSilent: true, change: { state: 'not_validated', reason: 'Statut PENDING', keepMapping: false } });
    expect(decide(pending, view({ prevSlots: new Map([['7', brief(pending, 'not_validated')]]) }))).toMatchObject({ touch: true, change: null, notValidatedSilent: true });

    const written = { prevSlots: new Map([['7', brief(slot('7'), 'written')]]), keysMap: new Map([['7', keyRow('7')]]) };
    const removed = decide(pending, view({ ...written, removeUnvalidated: true }));
    expect(removed.change).toMatchObject({ state: 'not_validated', keepMapping: false, reason: 'Créneau dévalidé : heures retirées' });
    expect(removed.item).toEqual({ recordKey: 'slot:7', action: 'removed', reason: "Créneau de Julie Martin du 2026-07-02 (chantier 00000101) n'est plus validé dans BatiSimply : ses heures sont retirées de Sage Batigest." });
    const kept = decide(pending, view(written));
    expect(kept.change).toMatchObject({ keepMapping: true, reason: 'Créneau dévalidé : heures conservées' });
    expect(kept.item?.reason).toBe(
      "Créneau de Julie Martin du 2026-07-02 (chantier 00000101) n'est plus validé dans BatiSimply ; ses heures restent dans Sage Batigest (option « Retirer les heures dévalidées ou supprimées dans BatiSimply » (Réglages › Options de synchronisation) désactivée).",
    );
  });

  it('unreadable items are journaled once per id (or per item without id), never as deletions', () => {
    const t = newTally();
    t.listed.add('9');
    const first = classifyRejected([{ id: '8', reason: 'durée manquante' }, { id: '9', reason: 'x' }, { id: null, reason: 'sans id', key: 'k1' }, { id: null, reason: 'sans id', key: 'k1' }], t, SW);
    expect(first.map((i) => i.recordKey)).toEqual(['slot:8', 'slot:illisible-1']);
    expect(first[0]!.reason).toBe(
      "Créneau 8 illisible dans la réponse de BatiSimply (durée manquante) : il n'est pas importé, et ses heures déjà importées (s'il y en a) restent dans Sage Batigest. Corrigez-le dans BatiSimply ; nouvel essai au prochain passage.",
    );
    expect(classifyRejected([{ id: '8', reason: 'durée manquante' }, { id: null, reason: 'autre' }], t, SW).map((i) => i.recordKey)).toEqual(['slot:illisible-2']);
    expect({ unreadable: [...t.unreadable], withoutId: t.unreadableWithoutId }).toEqual({ unreadable: ['8'], withoutId: 2 });
  });
});

describe('hours planner: deletions and closing lines', () => {
  const s = slot('10');
  const base = { prevSlots: new Map([['10', brief(s, 'written')]]), keysMap: new Map([['10', keyRow('10')]]) };

  it('a written slot no longer listed is deleted: hours removed or kept by the option; unreadable ids and items without id block the conclusion', () => {
    const t = newTally();
    const removed = planDeletions(base.keysMap, base.prevSlots, t, view({ removeUnvalidated: true }));
    expect(removed.changes).toMatchObject([{ slot: null, slotId: '10', state: 'deleted', keepMapping: false }]);
    expect(removed.items).toEqual([{ recordKey: 'slot:10', action: 'removed', reason: 'Créneau 10 du 2026-07-02 (chantier 00000101, salarié S01) supprimé dans BatiSimply : ses heures sont retirées de Sage Batigest.' }]);
    expect(planDeletions(base.keysMap, base.prevSlots, t, view()).changes).toMatchObject([{ keepMapping: true, reason: 'Supprimé dans BatiSimply : heures conservées' }]);
    const listed = newTally();
    listed.listed.add('10');
    expect(planDeletions(base.keysMap, base.prevSlots, listed, view()).changes).toEqual([]);
    const blind = newTally();
    blind.unreadableWithoutId = 1;
    expect(planDeletions(base.keysMap, base.prevSlots, blind, view()).changes).toEqual([]);
    const alreadyReported = new Map([['10', brief(s, 'deleted')]]);
    expect(planDeletions(base.keysMap, alreadyReported, t, view()).changes).toEqual([]);
  });

  it('says, with real plurals, how many slots wait per user and per chantier and how many are not validated', () => {
    const t = newTally();
    t.unmapped.set('u-9', { name: 'Paul Leroy', n: 1 });
    t.unknown.set('00000999', { n: 3 });
    t.notValidatedSilent = 2;
    expect(closingLines(t, SW).map((i) => i.reason)).toEqual([
      "Aucun salarié Sage Batigest pour l'utilisateur BatiSimply Paul Leroy : 1 créneau non importé. Associez-le à un salarié dans « Correspondance des salariés » ; ses heures seront importées au prochain passage.",
      'Chantier 00000999 introuvable dans Sage Batigest : 3 créneaux non importés. Vérifiez le code du chantier ; nouvel essai au prochain passage.',
      "2 créneaux non validés dans BatiSimply : non importés tant qu'ils ne sont pas validés.",
    ]);
    t.notValidatedSilent = 1;
    expect(closingLines(t, SW)[2]!.reason).toBe("1 créneau non validé dans BatiSimply : non importé tant qu'il n'est pas validé.");
  });
});

describe('hours planner: SuiviMO keys and operations', () => {
  const written = (k: Partial<WrittenRow> = {}): WrittenRow => ({ code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-02', minutes: 480, trajet: 0, panier: 1, dirty: false, written_at: new Date('2026-07-03T08:00:00Z'), ...k });
  const change = (s: TimeSlot, desired: SlotChange['desired']): SlotChange => ({ slot: s, slotId: s.id, prev: undefined, state: desired ? 'written' : 'failed', reason: null, desired, keepMapping: false });
  const memory = (keys: SlotKeyRow[], rows: WrittenRow[]): HoursMemory => ({
    keysMap: new Map(keys.map((k) => [k.slot_id, k])),
    written: new Map(rows.map((w) => [`${w.code_chantier}|${w.code_salarie}|${w.day}`, w])),
    dirtyDone: true,
  });

  it('sums the slots of one key, max of the flags; a new slot adds to a written row', () => {
    const m = memory([keyRow('1')], [written()]);
    const { ops } = planKeyOps([change(slot('2'), { code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-02', minutes: 60, trajet: 1, panier: 0 })], m);
    expect(ops).toEqual([{ key: { codeChantier: '00000101', codeSalarie: 'S01', day: '2026-07-02' }, value: { minutes: 540, trajet: 1, panier: 1 }, isNew: false }]);
    expect(suiviOps(ops)).toEqual([{ kind: 'upsert', row: { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-02', nbH0: 9, nbH3: 1, nbH4: 1 } }]);
  });

  it('a slot moved to another day empties its old row (delete) and writes the new one; the journal says so', () => {
    const m = memory([keyRow('1')], [written()]);
    const moved = change(slot('1'), { code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-03', minutes: 480, trajet: 0, panier: 1 });
    const { ops, slotsPerKey } = planKeyOps([moved], m);
    expect(ops.map((o) => [o.key.day, o.value?.minutes ?? null, o.isNew])).toEqual([
      ['2026-07-02', null, false],
      ['2026-07-03', 480, true],
    ]);
    expect([...slotsPerKey.values()]).toEqual([1, 1]);
    expect(journalChanges([moved], m.keysMap)).toEqual({
      created: 0,
      updated: 1,
      items: [{ recordKey: 'slot:1', action: 'moved', reason: 'Créneau modifié dans BatiSimply : heures déplacées de 00000101/S01/2026-07-02 vers 00000101/S01/2026-07-03.' }],
    });
  });

  it('recomputes the keys left dirty by an interrupted run once, and writes nothing for a key already right', () => {
    const m = memory([keyRow('1')], [written({ dirty: true })]);
    m.dirtyDone = false;
    expect(planKeyOps([], m).ops).toEqual([{ key: { codeChantier: '00000101', codeSalarie: 'S01', day: '2026-07-02' }, value: { minutes: 480, trajet: 0, panier: 1 }, isNew: false }]);
    const clean = memory([keyRow('1')], [written()]);
    expect(planKeyOps([change(slot('1'), { code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-02', minutes: 480, trajet: 0, panier: 1 })], clean).ops).toEqual([]);
  });

  it('a row changed in Batigest since we wrote it is a conflict, journaled with the number of slots changed', () => {
    const m = memory([keyRow('1')], [written()]);
    const { ops, slotsPerKey } = planKeyOps([change(slot('1'), { code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-02', minutes: 420, trajet: 0, panier: 1 })], m);
    const row = { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-07-02', nbH0: 7.5, nbH3: 0, nbH4: 1 };
    expect(suiviConflicts(ops, [row], m.written, slotsPerKey, SW)).toEqual([
      {
        recordKey: 'suivimo:00000101|S01|2026-07-02',
        action: 'conflict',
        reason: 'Ligne SuiviMO 00000101/S01/2026-07-02 modifiée dans Sage Batigest (7,5 h) depuis 03/07/2026 10:00, et 1 créneau modifié dans BatiSimply depuis : la modification BatiSimply, plus récente, est appliquée.',
      },
    ]);
    expect(suiviConflicts(ops, [{ ...row, nbH0: 8 }], m.written, slotsPerKey, SW)).toEqual([]);
    expect(suiviConflicts(ops, [], m.written, slotsPerKey, SW)[0]!.reason).toContain('(supprimée)');
  });

  it('the intent stores each slot and the new slot → key map', () => {
    const m = memory([keyRow('1')], [written()]);
    const failed = change(slot('1', { totalTimeMinutes: 2000 }), null);
    const gone: SlotChange = { slot: null, slotId: '3', prev: undefined, state: 'deleted', reason: 'r', desired: null, keepMapping: true };
    const fresh = change(slot('2'), { code_chantier: '00000101', code_salarie: 'S01', day: '2026-07-02', minutes: 60, trajet: 0, panier: 0 });
    const intent = intentOf([failed, gone, fresh], m.keysMap, NOW);
    expect(intent.upserts.map((u) => [u.slotId, u.state, u.startUtc.toISOString()])).toEqual([
      ['1', 'failed', '2026-07-01T22:30:00.000Z'],
      ['2', 'written', '2026-07-01T22:30:00.000Z'],
    ]);
    expect(intent.states).toEqual([{ slotId: '3', state: 'deleted', reason: 'r' }]);
    expect(intent.setKeys.map((k) => k.slot_id)).toEqual(['2']);
    expect(intent.delKeys).toEqual(['1']);
  });
});
