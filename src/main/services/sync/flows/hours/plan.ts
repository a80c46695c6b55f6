/**
 * The hours flow's decisions about slots, without any I/O: what each listed slot (or unreadable item) means for
 * the buffer and SuiviMO, which slots were deleted in BatiSimply, and the run's closing journal lines. The
 * executor (index.ts) lists, resolves chantier codes and writes; this module only decides.
 *
 * The functions taking a `HoursTally` add to it (the run's running totals, in memory); nothing else is mutated.
 */
import type { Salarie, TimeSlot } from '../../../../../shared/domain.js';
import { looksIsoDate, parseIsoStrict } from '../../../../../shared/dates.js';
import { hasUnstorable } from '../../../../../shared/text.js';
import type { SlotBrief, SlotKeyRow, SlotState } from '../../../buffer/store.js';
import type { RejectedTimeSlot } from '../../../ports.js';
import { hoursText, type HoursLeftAside } from '../../journal-text.js';
import { localDay, slotHash, userDisplayName } from '../../mapping.js';
import type { RunItemInput } from '../../model.js';

/** A desired SuiviMO contribution of one slot. */
export interface Contribution {
  code_chantier: string;
  code_salarie: string;
  day: string;
  minutes: number;
  trajet: number;
  panier: number;
}

export const sameContribution = (a: Contribution | undefined, b: Contribution | null): boolean =>
  (!a && !b) ||
  (!!a &&
    !!b &&
    a.code_chantier === b.code_chantier &&
    a.code_salarie === b.code_salarie &&
    a.day === b.day &&
    a.minutes === b.minutes &&
    a.trajet === b.trajet &&
    a.panier === b.panier);

/** One listed slot that changes something in the buffer (or a deleted one: `slot` null). */
export interface SlotChange {
  slot: TimeSlot | null;
  slotId: string;
  prev: SlotBrief | undefined;
  state: SlotState;
  reason: string | null;
  desired: Contribution | null;
  /** The slot's SuiviMO contribution stays as it is (hours kept although the slot is no longer valid). */
  keepMapping: boolean;
}

/** What the slots are compared with: the buffer's memory, the salariés, the options, the window. */
export interface SlotView {
  prevSlots: ReadonlyMap<string, SlotBrief>;
  keysMap: ReadonlyMap<string, SlotKeyRow>;
  /** Batigest salariés by their BatiSimply user id (Salarie.codebs, trimmed, lower case). */
  byCodebs: ReadonlyMap<string, Salarie>;
  removeUnvalidated: boolean;
  timezone: string;
  windowStart: Date;
  now: Date;
  sw: string;
}

/** What the run has seen so far, across segments. */
export interface HoursTally {
  /** Slot ids already taken in this run (a slot listed twice is taken once). */
  listed: Set<string>;
  unreadable: Set<string>;
  unreadableKeys: Set<string>;
  unreadableWithoutId: number;
  /** Validated slots waiting for a salarié, per BatiSimply user. */
  unmapped: Map<string, { name: string; n: number }>;
  /** Validated slots waiting for a chantier, per chantier label. */
  unknown: Map<string, { n: number }>;
  notValidatedSilent: number;
  /** Validated slots not imported because unreadable or impossible (to be corrected in BatiSimply). */
  rejectedSlots: number;
  unmappedSlots: number;
  unknownSlots: number;
  pendingMinutes: number;
}

export const newTally = (): HoursTally => ({
  listed: new Set(),
  unreadable: new Set(),
  unreadableKeys: new Set(),
  unreadableWithoutId: 0,
  unmapped: new Map(),
  unknown: new Map(),
  notValidatedSilent: 0,
  rejectedSlots: 0,
  unmappedSlots: 0,
  unknownSlots: 0,
  pendingMinutes: 0,
});

/**
 * Batigest salariés by their BatiSimply user id (codebs, trimmed, lower case). A salarié whose code the buffer
 * cannot store is refused (a journal line each): its SuiviMO key could not be found again.
 */
export function salariesByCodebs(salaries: readonly Salarie[], sw: string): { byCodebs: Map<string, Salarie>; refused: RunItemInput[] } {
  const byCodebs = new Map<string, Salarie>();
  const refused: RunItemInput[] = [];
  for (const s of salaries) {
    if (!s.codebs || !s.codebs.trim()) continue;
    if (hasUnstorable(s.code)) {
      refused.push({ recordKey: `salarie:${s.code}`, action: 'skipped', reason: hoursText.unreadableSalarie(s.code, sw) });
      continue;
    }
    byCodebs.set(s.codebs.trim().toLowerCase(), s);
  }
  return { byCodebs, refused };
}

/** Journal lines (each a skipped item) for the unreadable items of one listing; those already reported are left out. */
export function classifyRejected(rejected: readonly RejectedTimeSlot[], t: HoursTally, sw: string): RunItemInput[] {
  const items: RunItemInput[] = [];
  for (const r of rejected) {
    // Their ids keep their earlier state: an unreadable slot is not a deleted one.
    if (r.id !== null && (t.unreadable.has(r.id) || t.listed.has(r.id))) continue;
    if (r.id === null && r.key !== undefined) {
      if (t.unreadableKeys.has(r.key)) continue;
      t.unreadableKeys.add(r.key);
    }
    t.rejectedSlots++;
    if (r.id !== null) {
      t.unreadable.add(r.id);
      items.push({ recordKey: `slot:${r.id}`, action: 'skipped', reason: hoursText.unreadable(r.id, r.reason, sw) });
    } else {
      t.unreadableWithoutId++;
      items.push({ recordKey: hoursText.unreadableKey(t.unreadableWithoutId), action: 'skipped', reason: hoursText.unreadableWithoutId(r.reason, sw) });
    }
  }
  return items;
}

/** French reason why a time slot's values are impossible (negative or > 24 h, unreadable or out-of-window date), or null. */
export function slotProblem(s: TimeSlot, windowStart: Date, now: Date): string | null {
  const m = s.totalTimeMinutes;
  if (!Number.isFinite(m) || m < 0) return hoursText.badDuration(m);
  if (m > 24 * 60) return hoursText.tooLong(Math.round((m / 60) * 100) / 100);
  // Strict ISO 8601: an impossible day (30 February) is refused, never rolled over to the next month.
  const t = parseIsoStrict(s.startDate);
  if (Number.isNaN(t)) return looksIsoDate(s.startDate) ? hoursText.impossibleStart(s.startDate) : hoursText.badStart(s.startDate);
  if (t < windowStart.getTime() - 86_400_000 || t > now.getTime() + 86_400_000) return hoursText.outOfWindow(s.startDate.slice(0, 10));
  return null;
}

/** What one listed slot asks for. `unchanged`/`skipped`: add one to those counts. */
export interface SlotVerdict {
  /** Nothing changes: only its last-seen time is refreshed. */
  touch: boolean;
  change: SlotChange | null;
  item: RunItemInput | null;
  unchanged: boolean;
  skipped: boolean;
  /** Validated hours that wait (no salarié, unknown chantier). */
  waiting: { kind: 'unmapped'; userId: string; name: string; minutes: number } | { kind: 'unknown'; label: string; minutes: number } | null;
  notValidatedSilent: boolean;
  /** Impossible values (slotProblem): not imported until corrected in BatiSimply. */
  impossible: boolean;
}

/** What classifySlot knows about a slot before its chantier code is resolved. */
export interface SlotFacts {
  slot: TimeSlot;
  prev: SlotBrief | undefined;
  mapping: SlotKeyRow | undefined;
  /** Same content as the buffer remembers. */
  same: boolean;
}

/** A validated, plausible slot of a mapped user: its chantier code must be resolved (I/O) before deciding. */
export interface NeedsCode {
  facts: SlotFacts;
  salarie: Salarie;
}

const verdict = (v: Partial<SlotVerdict>): SlotVerdict => ({ touch: false, change: null, item: null, unchanged: false, skipped: false, waiting: null, notValidatedSilent: false, impossible: false, ...v });

/** The first look at a listed slot: a verdict, or the need of its chantier code (settleWithCode decides then). */
export function classifySlot(s: TimeSlot, v: SlotView): { verdict: SlotVerdict } | { needsCode: NeedsCode } {
  const prev = v.prevSlots.get(s.id);
  const mapping = v.keysMap.get(s.id);
  const facts: SlotFacts = { slot: s, prev, mapping, same: prev?.content_hash === slotHash(s) };
  if (facts.same && prev?.state === 'written' && mapping) return { verdict: verdict({ touch: true, unchanged: true }) };
  if (s.managementStatus !== 'VALIDATED') return { verdict: notValidated(facts, v) };
  const problem = slotProblem(s, v.windowStart, v.now);
  if (problem) {
    // Right shape, impossible values: never written to SuiviMO; reported every run until corrected.
    const item = { recordKey: `slot:${s.id}`, action: 'skipped', reason: hoursText.impossible(s.id, userDisplayName(s.user), problem) };
    return { verdict: settle(facts, 'failed', problem, null, { item, impossible: true }) };
  }
  const salarie = v.byCodebs.get(s.user.id.trim().toLowerCase());
  if (!salarie) {
    // Checked before the chantier: cheap, and the most useful report (the mapping screen lists these slots).
    const name = userDisplayName(s.user);
    const waiting = { kind: 'unmapped' as const, userId: s.user.id, name, minutes: Math.max(0, s.totalTimeMinutes) };
    return { verdict: settle(facts, 'unmapped_user', hoursText.stateUnmapped(name, v.sw), null, { waiting }) };
  }
  return { needsCode: { facts, salarie } };
}

/** Decides a slot once its chantier code is known (`code` null: unresolvable; `known`: Batigest has it). */
export function settleWithCode(n: NeedsCode, code: string | null, known: boolean, v: SlotView): SlotVerdict {
  const s = n.facts.slot;
  if (!code || !known) {
    const label = code ?? hoursText.projectLabel(s.project?.id ?? null);
    const waiting = { kind: 'unknown' as const, label, minutes: Math.max(0, s.totalTimeMinutes) };
    return settle(n.facts, 'unknown_chantier', hoursText.stateUnknownChantier(label, v.sw), null, { waiting });
  }
  const desired: Contribution = {
    code_chantier: code,
    code_salarie: n.salarie.code,
    day: localDay(s.startDate, v.timezone),
    minutes: Math.max(0, Math.round(s.totalTimeMinutes)),
    trajet: s.hasHomeToWorkJourney ? 1 : 0,
    panier: s.hasPackedLunch ? 1 : 0,
  };
  return settle(n.facts, 'written', null, desired, {});
}

/** A validated slot's verdict: unchanged when its state and contribution are what the buffer remembers. */
function settle(f: SlotFacts, state: SlotState, reason: string | null, desired: Contribution | null, extra: Partial<SlotVerdict>): SlotVerdict {
  const skipped = state !== 'written';
  if (sameContribution(f.mapping, desired) && f.same && f.prev?.state === state) return verdict({ ...extra, skipped, touch: true, unchanged: !skipped });
  return verdict({ ...extra, skipped, change: { slot: f.slot, slotId: f.slot.id, prev: f.prev, state, reason, desired, keepMapping: false } });
}

/** A slot not (or no longer) validated: its hours are removed or kept (option), or it is simply not imported. */
function notValidated(f: SlotFacts, v: SlotView): SlotVerdict {
  const s = f.slot;
  const change = (reason: string, keepMapping: boolean): SlotChange => ({ slot: s, slotId: s.id, prev: f.prev, state: 'not_validated', reason, desired: null, keepMapping });
  if (!f.mapping) {
    const unchanged = f.same && f.prev?.state === 'not_validated';
    return verdict({ skipped: true, notValidatedSilent: true, touch: unchanged, change: unchanged ? null : change(hoursText.stateStatus(s.managementStatus), false) });
  }
  const who = userDisplayName(s.user);
  const key = `slot:${s.id}`;
  if (v.removeUnvalidated) {
    const item = { recordKey: key, action: 'removed', reason: hoursText.unvalidatedRemoved(who, f.mapping.day, f.mapping.code_chantier, v.sw) };
    return verdict({ skipped: true, change: change(hoursText.stateUnvalidatedRemoved, false), item });
  }
  if (f.same) return verdict({ skipped: true, touch: true });
  const item = { recordKey: key, action: 'reported', reason: hoursText.unvalidatedKept(who, f.mapping.day, f.mapping.code_chantier, v.sw) };
  return verdict({ skipped: true, change: change(hoursText.stateUnvalidatedKept, true), item });
}

/** Adds a verdict's waiting hours and silent not-validated slot to the run's tally. */
export function tallyVerdict(t: HoursTally, v: SlotVerdict): void {
  if (v.notValidatedSilent) t.notValidatedSilent++;
  if (v.impossible) t.rejectedSlots++;
  if (v.waiting?.kind === 'unmapped') {
    t.unmappedSlots++;
    t.pendingMinutes += v.waiting.minutes;
    const u = t.unmapped.get(v.waiting.userId) ?? { name: v.waiting.name, n: 0 };
    u.n++;
    t.unmapped.set(v.waiting.userId, u);
  } else if (v.waiting?.kind === 'unknown') {
    t.unknownSlots++;
    t.pendingMinutes += v.waiting.minutes;
    const u = t.unknown.get(v.waiting.label) ?? { n: 0 };
    u.n++;
    t.unknown.set(v.waiting.label, u);
  }
}

/**
 * Slots written earlier, still inside the window, and no longer listed: deleted in BatiSimply. A slot without
 * readable id could be any of them: no deletion is concluded during such a run. Each one is a skipped item.
 */
export function planDeletions(keysMap: ReadonlyMap<string, SlotKeyRow>, prevSlots: ReadonlyMap<string, SlotBrief>, t: HoursTally, v: SlotView): { changes: SlotChange[]; items: RunItemInput[] } {
  const changes: SlotChange[] = [];
  const items: RunItemInput[] = [];
  if (t.unreadableWithoutId > 0) return { changes, items };
  const margin = v.windowStart.getTime() + 86_400_000;
  for (const [slotId, m] of keysMap) {
    if (t.listed.has(slotId) || t.unreadable.has(slotId)) continue;
    const prev = prevSlots.get(slotId);
    if (!prev || prev.start_utc.getTime() < margin || prev.start_utc.getTime() > v.now.getTime()) continue;
    if (prev.state === 'deleted' && !v.removeUnvalidated) continue;
    const recordKey = `slot:${slotId}`;
    if (v.removeUnvalidated) {
      items.push({ recordKey, action: 'removed', reason: hoursText.deletedRemoved(slotId, m.day, m.code_chantier, m.code_salarie, v.sw) });
      changes.push({ slot: null, slotId, prev, state: 'deleted', reason: hoursText.stateDeletedRemoved, desired: null, keepMapping: false });
    } else {
      items.push({ recordKey, action: 'reported', reason: hoursText.deletedKept(slotId, m.day, m.code_chantier, m.code_salarie, v.sw) });
      changes.push({ slot: null, slotId, prev, state: 'deleted', reason: hoursText.stateDeletedKept, desired: null, keepMapping: true });
    }
  }
  return { changes, items };
}

/** The run's lines over the whole window: per user without salarié, per unknown chantier, the unvalidated slots. */
export function closingLines(t: HoursTally, sw: string): RunItemInput[] {
  const items: RunItemInput[] = [];
  for (const [userId, u] of t.unmapped) items.push({ recordKey: `user:${userId}`, action: 'skipped', reason: hoursText.unmappedUser(u.name, u.n, sw) });
  for (const [label, u] of t.unknown) items.push({ recordKey: `chantier:${label}`, action: 'skipped', reason: hoursText.unknownChantier(label, u.n, sw) });
  if (t.notValidatedSilent > 0) items.push({ recordKey: 'slots:not-validated', action: 'skipped', reason: hoursText.notValidated(t.notValidatedSilent) });
  return items;
}

/** What the run's message says it left aside. */
export const leftAside = (t: HoursTally): HoursLeftAside => ({
  rejectedSlots: t.rejectedSlots,
  unmappedSlots: t.unmappedSlots,
  unmappedUsers: t.unmapped.size,
  unknownSlots: t.unknownSlots,
  unknownChantiers: t.unknown.size,
  pendingMinutes: t.pendingMinutes,
});
