/**
 * Hours flow: validated BatiSimply time slots → Batigest SuiviMO rows (one per chantier, salarié and local day).
 * The executor: lists the window segment by segment, resolves chantier codes, asks the planners (plan.ts,
 * plan-keys.ts) what to do, and writes with the crash-safe protocol (buffer intent → SuiviMO batch → buffer
 * commit, docs/crash-safety.md).
 *
 * The window is read and written in segments of whole local days, and only one segment's slots are in memory at
 * a time. Each segment aggregates from the whole slot → key map (kept in step with the buffer), so a key is right
 * whatever segment its slots come from; whole days only make it written once per run (a slot moved to another
 * segment's day rewrites its old key too). What must see the whole window (deleted slots, the journal's per-user
 * and per-chantier lines) is done after the last segment.
 */
import type { Salarie, SuiviMoOp, TimeSlot } from '../../../../../shared/domain.js';
import { AppError } from '../../../../../shared/errors.js';
import { hasUnstorable } from '../../../../../shared/text.js';
import type { RejectedTimeSlot } from '../../../ports.js';
import type { FlowContext, FlowModule, FlowOutcome } from '../../flow.js';
import { engineText, hoursText } from '../../journal-text.js';
import { assertTimeZone, normaliseCode } from '../../mapping.js';
import { keyString } from '../../model.js';
import { isRecordLevel, reasonOf, throwIfCancelled } from '../../retry.js';
import { classifyRejected, classifySlot, closingLines, leftAside, newTally, planDeletions, salariesByCodebs, settleWithCode, tallyVerdict, type HoursTally, type NeedsCode, type SlotChange, type SlotVerdict, type SlotView } from './plan.js';
import {
  intentOf,
  journalChanges,
  nothingToWrite,
  opKey,
  opsToCheck,
  planKeyOps,
  rememberIntent,
  rememberWritten,
  suiviConflicts,
  suiviOps,
  type HoursMemory,
  type KeyOp,
} from './plan-keys.js';
import { localDaySegments } from './segments.js';

export interface HoursFlowOptions {
  /** SuiviMO ops per applySuiviMo call (default 250). */
  suiviMoBatchSize?: number;
  /** Local days per segment of the hours window (default 31): bounds the slots held in memory at once. */
  segmentDays?: number;
}

export function createHoursFlow(o: HoursFlowOptions = {}): FlowModule {
  return {
    name: 'hours',
    label: (sw) => engineText.flowLabel('hours', sw),
    run: (ctx) => runHours(ctx, o),
  };
}

/** One hours run: its view of the buffer, its running tally, its memory of the keys, its code lookups. */
interface HoursRun {
  ctx: FlowContext;
  view: SlotView;
  tally: HoursTally;
  memory: HoursMemory;
  codes: CodeLookup;
  batchSize: number;
}

async function runHours(ctx: FlowContext, o: HoursFlowOptions): Promise<FlowOutcome> {
  const { buffer, batisimply, clock } = ctx.ports;
  const hs = ctx.settings.hours;
  try {
    assertTimeZone(hs.timezone);
  } catch {
    throw new AppError('SETTINGS_INVALID', hoursText.timezoneUnknown(hs.timezone));
  }
  batisimply.clearCache?.();
  const now = clock.now();
  const windowStart = new Date(now.getTime() - hs.windowDays * 86_400_000);
  const byCodebs = await readSalaries(ctx);
  throwIfCancelled(ctx.signal);
  const prevSlots = await buffer.loadSlotBriefs();
  const memory: HoursMemory = { keysMap: await buffer.loadSlotKeys(), written: await buffer.loadWritten(), dirtyDone: false };
  const view: SlotView = { prevSlots, keysMap: memory.keysMap, byCodebs, removeUnvalidated: hs.removeUnvalidated, timezone: hs.timezone, windowStart, now, sw: ctx.sw };
  const codes = new CodeLookup(ctx, new Map(await buffer.loadProjectCodes()), new Set([...memory.keysMap.values()].map((k) => k.code_chantier)));
  const run: HoursRun = { ctx, view, tally: newTally(), memory, codes, batchSize: o.suiviMoBatchSize ?? 250 };

  const segments = localDaySegments(windowStart, now, hs.timezone, o.segmentDays ?? 31);
  for (const [i, seg] of segments.entries()) await runSegment(run, seg, i, segments.length);

  const deletions = planDeletions(memory.keysMap, prevSlots, run.tally, view);
  ctx.counts.skipped += deletions.items.length;
  ctx.journal.push(...deletions.items, ...closingLines(run.tally, ctx.sw));
  await applySlotChanges(run, deletions.changes, [], hoursText.removingDeleted(ctx.sw));

  const left = leftAside(run.tally);
  // Validated hours that wait (salarié, chantier) or that BatiSimply must correct are work left undone: 'partial'.
  return { message: hoursText.summary(ctx.counts) + hoursText.note(left, ctx.sw), leftUndone: left.unmappedSlots + left.unknownSlots + left.rejectedSlots > 0 };
}

/**
 * Batigest salariés by their BatiSimply user id (codebs, trimmed, lower case). A salarié whose code the buffer
 * cannot store is left out (its SuiviMO key could not be found again), with a journal line.
 */
async function readSalaries(ctx: FlowContext): Promise<Map<string, Salarie>> {
  await ctx.progress('read', hoursText.readingSalaries(ctx.sw), 0, null, null);
  const salaries = await ctx.retry(() => ctx.ports.batigest.readSalaries());
  const { byCodebs, refused } = salariesByCodebs(salaries, ctx.sw);
  ctx.counts.skipped += refused.length;
  ctx.journal.push(...refused);
  return byCodebs;
}

async function runSegment(run: HoursRun, seg: { start: Date; end: Date }, index: number, total: number): Promise<void> {
  const { ctx } = run;
  throwIfCancelled(ctx.signal);
  const part = hoursText.segment(index, total);
  await ctx.progress('read', hoursText.readingSlots(part), index, total, null);
  // Unreadable slots (missing field, wrong type) are left out by the client and reported here, not fatal.
  let rejected: RejectedTimeSlot[] = [];
  const slots = await ctx.retryBatisimply(() => {
    rejected = [];
    return ctx.ports.batisimply.listTimeSlots(seg, { signal: ctx.signal, onInvalid: (r) => rejected.push(r) });
  });
  const unreadable = classifyRejected(rejected, run.tally, ctx.sw);
  ctx.counts.skipped += unreadable.length;
  ctx.journal.push(...unreadable);
  const { changes, touched } = await compareSlots(run, slots, part);
  await applySlotChanges(run, changes, touched, hoursText.writing(ctx.sw, part));
}

/** Compares the listed slots with the buffer: the changes to apply and the slots merely seen again. */
async function compareSlots(run: HoursRun, slots: readonly TimeSlot[], part: string): Promise<{ changes: SlotChange[]; touched: string[] }> {
  const { ctx, tally } = run;
  const changes: SlotChange[] = [];
  const touched: string[] = [];
  let i = 0;
  await ctx.progress('compare', hoursText.comparing(part), 0, slots.length, null);
  for (const s of slots) {
    if (++i % 200 === 0) {
      throwIfCancelled(ctx.signal);
      await ctx.progress('compare', hoursText.comparing(part), i, slots.length, null);
    }
    // A slot answered for two segments (an API that filters by overlap) is taken once.
    if (tally.listed.has(s.id)) continue;
    tally.listed.add(s.id);
    const first = classifySlot(s, run.view);
    const v = 'verdict' in first ? first.verdict : await settleNeedsCode(run, first.needsCode);
    tallyVerdict(tally, v);
    if (v.item) ctx.journal.push(v.item);
    if (v.skipped) ctx.counts.skipped++;
    if (v.unchanged) ctx.counts.unchanged++;
    if (v.touch) touched.push(s.id);
    if (v.change) changes.push(v.change);
  }
  return { changes, touched };
}

async function settleNeedsCode(run: HoursRun, n: NeedsCode): Promise<SlotVerdict> {
  const code = await run.codes.codeOf(n.facts.slot);
  const known = code ? await run.codes.isKnown(code) : false;
  return settleWithCode(n, code, known, run.view);
}

/**
 * A slot's chantier code: its project's code, else the buffer's memory of the project, else BatiSimply (once per
 * project id). Whether Batigest knows a code: codes already used by written slots, else the chantiers (and devis
 * in devis mode) read once, only when some slot needs a new key.
 */
class CodeLookup {
  private knownCodes: Set<string> | null = null;

  constructor(
    private readonly ctx: FlowContext,
    private readonly codeById: Map<string, string | null>,
    private readonly usedCodes: ReadonlySet<string>,
  ) {}

  async codeOf(s: TimeSlot): Promise<string | null> {
    if (!s.project) return null;
    const direct = normaliseCode(s.project.projectCode ?? null);
    if (direct) return direct;
    const id = s.project.id;
    if (!this.codeById.has(id)) {
      const p = await this.ctx.retryBatisimply(() => this.ctx.ports.batisimply.getProject(id, { signal: this.ctx.signal }));
      this.codeById.set(id, p ? normaliseCode(p.projectCode) || null : null);
    }
    return this.codeById.get(id) ?? null;
  }

  async isKnown(code: string): Promise<boolean> {
    if (this.usedCodes.has(code)) return true;
    if (!this.knownCodes) {
      const { batigest } = this.ctx.ports;
      const known = new Set<string>();
      // A code the buffer cannot store is never a known one: its SuiviMO key could not be found again.
      const add = (code: string): void => void (hasUnstorable(code) || known.add(normaliseCode(code)));
      for await (const page of batigest.readChantiers({ signal: this.ctx.signal })) for (const c of page) add(c.code);
      if (this.ctx.settings.mode === 'devis') {
        for await (const page of batigest.readDevis({ signal: this.ctx.signal })) for (const d of page) add(d.code);
      }
      this.knownCodes = known;
    }
    return this.knownCodes.has(code);
  }
}

/**
 * Applies the changes of one segment (or the deletions found at the end): recomputes the SuiviMO keys they
 * affect, journals conflicts, records the intent in one buffer transaction, then writes SuiviMO in batches,
 * each one Batigest transaction followed by its commit in the buffer. Keeps the run's memory (slot → key map,
 * written rows) up to date for the next segments.
 */
async function applySlotChanges(run: HoursRun, changes: SlotChange[], touched: string[], writeLabel: string): Promise<void> {
  const { ctx, memory } = run;
  const { buffer, clock } = ctx.ports;
  const nowTs = clock.now();
  if (nothingToWrite(changes, memory)) {
    memory.dirtyDone = true;
    await buffer.touchSlots(touched, nowTs);
    return;
  }
  const { ops, slotsPerKey } = planKeyOps(changes, memory);
  const journaled = journalChanges(changes, memory.keysMap);
  ctx.counts.created += journaled.created;
  ctx.counts.updated += journaled.updated;
  ctx.journal.push(...journaled.items);
  await journalConflicts(run, ops, slotsPerKey);
  throwIfCancelled(ctx.signal);
  await storeIntent(run, changes, ops, nowTs);
  await buffer.touchSlots(touched, nowTs);
  await ctx.checkpoint('hours:after-intent');
  await writeSuiviMo(run, ops, writeLabel);
}

/** Reads Batigest's current rows of the keys we wrote before (500 at a time) and journals those changed there. */
async function journalConflicts(run: HoursRun, ops: readonly KeyOp[], slotsPerKey: ReadonlyMap<string, number>): Promise<void> {
  const { ctx, memory } = run;
  const toCheck = opsToCheck(ops, memory.written);
  for (let b = 0; b < toCheck.length; b += 500) {
    const part = toCheck.slice(b, b + 500);
    const rows = await ctx.retry(() => ctx.ports.batigest.readSuiviMo(part.map((o) => ({ codeChantier: o.key.codeChantier, codeSalarie: o.key.codeSalarie, date: o.key.day }))));
    const items = suiviConflicts(part, rows, memory.written, slotsPerKey, ctx.sw);
    ctx.counts.conflicts += items.length;
    ctx.journal.push(...items);
  }
}

/** Intent (one buffer transaction): slot states, the new slot → key map, and the keys to write marked dirty. */
async function storeIntent(run: HoursRun, changes: readonly SlotChange[], ops: readonly KeyOp[], nowTs: Date): Promise<void> {
  const intent = intentOf(changes, run.memory.keysMap, nowTs);
  await run.ctx.ports.buffer.transaction(async (tx) => {
    // Slot contents are serialised 1,000 at a time.
    for (let b = 0; b === 0 || b < intent.upserts.length; b += 1000) await tx.upsertSlots(intent.upserts.slice(b, b + 1000), nowTs);
    await tx.setSlotStates(intent.states, nowTs);
    await tx.setSlotKeys(intent.setKeys, nowTs);
    await tx.deleteSlotKeys(intent.delKeys);
    await tx.markDirty(ops.map((o) => o.key));
  });
  // The buffer now holds the new map and the dirty marks: so does memory, for the next segments and the deletions.
  rememberIntent(run.memory, intent, ops);
}

/** Writes SuiviMO in batches; each batch is one Batigest transaction, then committed in the buffer. */
async function writeSuiviMo(run: HoursRun, ops: readonly KeyOp[], writeLabel: string): Promise<void> {
  const { ctx } = run;
  let doneOps = 0;
  await ctx.progress('write', writeLabel, 0, ops.length, null);
  for (let b = 0; b < ops.length; b += run.batchSize) {
    throwIfCancelled(ctx.signal);
    const part = ops.slice(b, b + run.batchSize);
    const suivi = suiviOps(part);
    await ctx.checkpoint('hours:before-remote');
    const failedKeys = await applyBatch(ctx, suivi);
    ctx.counts.writes += suivi.length - failedKeys.size;
    await ctx.checkpoint('hours:after-remote');
    const at = ctx.ports.clock.now();
    const done = part.filter((o) => !failedKeys.has(keyString(o.key)));
    await ctx.ports.buffer.transaction((tx) => tx.commitWrittenMany(done, at));
    rememberWritten(run.memory, done, at);
    await ctx.checkpoint('hours:after-commit');
    doneOps += part.length;
    await ctx.progress('write', writeLabel, doneOps, ops.length, null);
  }
}

/** Applies a batch; if Batigest rejects it, applies its ops one by one so one bad row does not block the others. */
async function applyBatch(ctx: FlowContext, ops: SuiviMoOp[]): Promise<Set<string>> {
  const failed = new Set<string>();
  if (ops.length === 0) return failed;
  try {
    await ctx.retry(async () => {
      await ctx.confirmLease(); // fencing: never write SuiviMO with a lease another PC took over
      return ctx.ports.batigest.applySuiviMo(ops, { signal: ctx.signal, confirm: () => ctx.confirmLease() });
    });
    return failed;
  } catch (e) {
    if (!isRecordLevel(e)) throw e;
    if (ops.length === 1) {
      const k = opKey(ops[0]!);
      failed.add(k);
      ctx.counts.failed++;
      ctx.journal.push({ recordKey: `suivimo:${k}`, action: 'failed', reason: hoursText.writeRefused(k.replace(/\|/g, '/'), reasonOf(e)) });
      return failed;
    }
  }
  for (const op of ops) for (const k of await applyBatch(ctx, [op])) failed.add(k);
  return failed;
}
