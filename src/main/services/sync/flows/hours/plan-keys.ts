/**
 * The hours flow's decisions about SuiviMO, without any I/O: from a set of slot changes and what the buffer
 * remembers (the slot → key map and the rows written), the SuiviMO keys to recompute and the operations to send,
 * the journal lines of the changes, the conflicts with rows changed in Batigest, and the buffer's intent.
 */
import type { SuiviMoOp, SuiviMoRow } from '../../../../../shared/domain.js';
import { storableValue } from '../../../../../shared/text.js';
import type { SlotKeyRow, SlotState, SlotUpsert, WrittenRow } from '../../../buffer/store.js';
import { hoursText } from '../../journal-text.js';
import { parseDate, slotHash, stableStringify } from '../../mapping.js';
import { keyString, type KeyRef, type RunItemInput } from '../../model.js';
import type { Contribution, SlotChange } from './plan.js';

/** What the segments of one hours run share: the slot → key map and the written rows, kept in step with the buffer. */
export interface HoursMemory {
  keysMap: Map<string, SlotKeyRow>;
  written: Map<string, WrittenRow>;
  /** Keys left dirty by an interrupted run are recomputed with the first segment that writes. */
  dirtyDone: boolean;
}

export interface KeyValue {
  minutes: number;
  trajet: number;
  panier: number;
}

/** One SuiviMO row to write (`value`) or delete (`value` null). `isNew`: the buffer knows no row written for it. */
export interface KeyOp {
  key: KeyRef;
  value: KeyValue | null;
  isNew: boolean;
}

export const keyOf = (c: Contribution): KeyRef => ({ codeChantier: c.code_chantier, codeSalarie: c.code_salarie, day: c.day });

/** Whether a set of changes leaves nothing to write (and no dirty key of an interrupted run to finish). */
export function nothingToWrite(changes: readonly SlotChange[], m: HoursMemory): boolean {
  return changes.length === 0 && !(!m.dirtyDone && [...m.written.values()].some((w) => w.dirty));
}

/**
 * The keys whose SuiviMO row must be recomputed (old and new keys of the changed slots, and, once per run, the keys
 * left dirty by an interrupted run), and the operation each needs: one row per (chantier, salarié, day) = sum of
 * minutes, max of the flags, over the whole slot → key map. `slotsPerKey`: how many changed slots touch each key.
 */
export function planKeyOps(changes: readonly SlotChange[], m: HoursMemory): { ops: KeyOp[]; slotsPerKey: Map<string, number> } {
  const overrides = new Map<string, Contribution | null>();
  const affected = new Map<string, KeyRef>();
  const slotsPerKey = new Map<string, number>();
  const touch = (k: KeyRef): void => {
    const s = keyString(k);
    affected.set(s, k);
    slotsPerKey.set(s, (slotsPerKey.get(s) ?? 0) + 1);
  };
  for (const c of changes) {
    if (c.keepMapping) continue;
    const old = m.keysMap.get(c.slotId);
    if (old) touch(keyOf(old));
    overrides.set(c.slotId, c.desired);
    if (c.desired && !(old && keyString(keyOf(old)) === keyString(keyOf(c.desired)))) touch(keyOf(c.desired));
  }
  if (!m.dirtyDone) {
    for (const w of m.written.values()) {
      if (!w.dirty) continue;
      const k = { codeChantier: w.code_chantier, codeSalarie: w.code_salarie, day: w.day };
      affected.set(keyString(k), k);
    }
  }
  const agg = new Map<string, KeyValue>();
  const add = (c: Contribution): void => {
    const k = keyString(keyOf(c));
    if (!affected.has(k)) return;
    const a = agg.get(k) ?? { minutes: 0, trajet: 0, panier: 0 };
    a.minutes += c.minutes;
    a.trajet = Math.max(a.trajet, c.trajet);
    a.panier = Math.max(a.panier, c.panier);
    agg.set(k, a);
  };
  for (const [slotId, c] of m.keysMap) if (!overrides.has(slotId)) add(c);
  for (const c of overrides.values()) if (c) add(c);
  const ops: KeyOp[] = [];
  for (const [k, ref] of affected) {
    const want = agg.get(k) ?? null;
    const w = m.written.get(k);
    const had = w && w.minutes !== null ? { minutes: w.minutes, trajet: w.trajet ?? 0, panier: w.panier ?? 0 } : null;
    if (!w?.dirty) {
      if (!want && !had) continue;
      if (want && had && want.minutes === had.minutes && want.trajet === had.trajet && want.panier === had.panier) continue;
    }
    ops.push({ key: ref, value: want, isNew: !had });
  }
  return { ops, slotsPerKey };
}

/** Per-slot counts and journal lines of the changes that write something (before the map is updated). */
export function journalChanges(changes: readonly SlotChange[], keysMap: ReadonlyMap<string, SlotKeyRow>): { created: number; updated: number; items: RunItemInput[] } {
  let created = 0;
  let updated = 0;
  const items: RunItemInput[] = [];
  const path = (k: { code_chantier: string; code_salarie: string; day: string }): string => `${k.code_chantier}/${k.code_salarie}/${k.day}`;
  for (const c of changes) {
    if (c.keepMapping || c.state !== 'written') continue;
    const old = keysMap.get(c.slotId);
    const d = c.desired!;
    if (!old) {
      created++;
      continue;
    }
    updated++;
    const moved = keyString(keyOf(old)) !== keyString(keyOf(d));
    items.push({ recordKey: `slot:${c.slotId}`, action: moved ? 'moved' : 'updated', reason: moved ? hoursText.moved(path(old), path(d)) : hoursText.updated(path(d)) });
  }
  // A written slot that stops contributing (failed, unmapped, unknown chantier) updates its row too.
  for (const c of changes) if (!c.keepMapping && c.state !== 'written' && keysMap.has(c.slotId) && c.state !== 'not_validated' && c.state !== 'deleted') updated++;
  return { created, updated, items };
}

/** The ops whose row we wrote before and that must be compared with Batigest's current row (conflict check). */
export const opsToCheck = (ops: readonly KeyOp[], written: ReadonlyMap<string, WrittenRow>): KeyOp[] => ops.filter((o) => !o.isNew && !written.get(keyString(o.key))?.dirty);

/** SuiviMO row of a key's value (hours rounded to the hundredth, flags 0/1). */
export function toRow(k: KeyRef, v: KeyValue): SuiviMoRow {
  return {
    codeChantier: k.codeChantier,
    codeSalarie: k.codeSalarie,
    date: k.day,
    nbH0: Math.round((v.minutes / 60) * 100) / 100,
    nbH3: v.trajet ? 1 : 0,
    nbH4: v.panier ? 1 : 0,
  };
}

/**
 * Conflicts: a row we wrote and that was changed in Batigest since (`current`: Batigest's rows of `ops`), while its
 * slots changed in BatiSimply. BatiSimply's change, more recent, is applied; each conflict is journaled.
 */
export function suiviConflicts(ops: readonly KeyOp[], current: readonly SuiviMoRow[], written: ReadonlyMap<string, WrittenRow>, slotsPerKey: ReadonlyMap<string, number>, sw: string): RunItemInput[] {
  const byKey = new Map(current.map((r) => [keyString({ codeChantier: r.codeChantier, codeSalarie: r.codeSalarie, day: r.date }), r]));
  const items: RunItemInput[] = [];
  for (const o of ops) {
    const k = keyString(o.key);
    const w = written.get(k);
    const cur = byKey.get(k);
    if (!w || w.minutes === null) continue;
    const ours = toRow(o.key, { minutes: w.minutes, trajet: w.trajet ?? 0, panier: w.panier ?? 0 });
    if (cur && Math.abs(cur.nbH0 - ours.nbH0) < 0.005 && cur.nbH3 === ours.nbH3 && cur.nbH4 === ours.nbH4) continue;
    const path = `${o.key.codeChantier}/${o.key.codeSalarie}/${o.key.day}`;
    items.push({ recordKey: `suivimo:${k}`, action: 'conflict', reason: hoursText.suiviConflict(path, sw, cur ? cur.nbH0 : null, w.written_at, slotsPerKey.get(k) ?? 1) });
  }
  return items;
}

/** The buffer's intent for a set of changes: slot contents and states, the new slot → key map. */
export interface SlotIntent {
  upserts: SlotUpsert[];
  states: { slotId: string; state: SlotState; reason: string | null }[];
  setKeys: SlotKeyRow[];
  delKeys: string[];
}

export function intentOf(changes: readonly SlotChange[], keysMap: ReadonlyMap<string, SlotKeyRow>, now: Date): SlotIntent {
  const out: SlotIntent = { upserts: [], states: [], setKeys: [], delKeys: [] };
  for (const c of changes) {
    if (c.slot) {
      out.upserts.push({
        slotId: c.slotId,
        // Stored as text and read as jsonb (mapping screen): a U+0000 in a name must not make it unreadable.
        content: stableStringify(storableValue(c.slot)),
        contentHash: slotHash(c.slot),
        status: c.slot.managementStatus,
        // An unreadable start date (slot journaled as failed) must not break the buffer write.
        startUtc: parseDate(c.slot.startDate) ?? c.prev?.start_utc ?? now,
        remoteModified: parseDate(c.slot.lastModifiedDate ?? null),
        state: c.state,
        reason: c.reason,
        changed: true,
      });
    } else {
      out.states.push({ slotId: c.slotId, state: c.state, reason: c.reason });
    }
    if (c.keepMapping) continue;
    if (c.desired) out.setKeys.push({ slot_id: c.slotId, ...c.desired });
    else if (keysMap.has(c.slotId)) out.delKeys.push(c.slotId);
  }
  return out;
}

/** Memory follows the buffer once the intent is stored: the new map, and the keys to write marked dirty. */
export function rememberIntent(m: HoursMemory, intent: SlotIntent, ops: readonly KeyOp[]): void {
  for (const k of intent.setKeys) m.keysMap.set(k.slot_id, k);
  for (const id of intent.delKeys) m.keysMap.delete(id);
  for (const o of ops) {
    const k = keyString(o.key);
    const w = m.written.get(k);
    m.written.set(k, w ? { ...w, dirty: true } : { code_chantier: o.key.codeChantier, code_salarie: o.key.codeSalarie, day: o.key.day, minutes: null, trajet: null, panier: null, dirty: true, written_at: null });
  }
  m.dirtyDone = true;
}

/** Memory follows the buffer once a batch is committed: the rows written (or deleted), clean. */
export function rememberWritten(m: HoursMemory, done: readonly KeyOp[], at: Date): void {
  for (const o of done) {
    const k = keyString(o.key);
    if (o.value) m.written.set(k, { code_chantier: o.key.codeChantier, code_salarie: o.key.codeSalarie, day: o.key.day, ...o.value, dirty: false, written_at: at });
    else m.written.delete(k);
  }
}

export const suiviOps = (ops: readonly KeyOp[]): SuiviMoOp[] =>
  ops.map((o) => (o.value ? { kind: 'upsert', row: toRow(o.key, o.value) } : { kind: 'delete', key: { codeChantier: o.key.codeChantier, codeSalarie: o.key.codeSalarie, date: o.key.day } }));

/** The key of a SuiviMO op, as keyString gives it. */
export function opKey(op: SuiviMoOp): string {
  if (op.kind === 'delete') return keyString({ codeChantier: op.key.codeChantier, codeSalarie: op.key.codeSalarie, day: op.key.date });
  return keyString({ codeChantier: op.row.codeChantier, codeSalarie: op.row.codeSalarie, day: op.row.date });
}
