/**
 * Push flow: Batigest chantiers (or devis) → BatiSimply projects. The executor: reads the source and the
 * buffer, asks the planner (plan.ts) what to do, and does it record by record with the crash-safe protocol
 * (buffer intent → remote write → buffer commit, docs/crash-safety.md).
 */
import type { ChantierSource, DevisSource, Project } from '../../../../../shared/domain.js';
import { AppError } from '../../../../../shared/errors.js';
import type { Settings } from '../../../../../shared/settings.js';
import type { RecordKind, RecordRow } from '../../../buffer/store.js';
import type { SkippedSourceRow } from '../../../ports.js';
import type { FlowContext, FlowModule, FlowOutcome } from '../../flow.js';
import { engineText, inSoftware, lifeText, pushText } from '../../journal-text.js';
import type { ChantierMark } from '../../../buffer/chantier-life.js';
import { backFieldsOfProject, chantierLife } from '../../chantier-life.js';
import { mapChantier, mapDevis, normaliseCode, parseDate } from '../../mapping.js';
import { isRecordLevel, isRetryable, reasonOf, throwIfCancelled } from '../../retry.js';
import { classifyMapped, decideKnown, decideUnknown, indexProjects, lifeNotes, looksLikeWrongSource, sourceDeletions, type MappedRow, type ProjectIndex, type PushStep, type PushWork } from './plan.js';

export const pushFlow: FlowModule = {
  name: 'push',
  label: (sw) => engineText.flowLabel('push', sw),
  runMode: (settings) => settings.mode,
  run: runPush,
};

/** Source rows left aside for want of a code or a name, for the run's message. */
interface LeftAside {
  noCode: number;
  noName: number;
}

function modeOf(settings: Settings): RecordKind {
  const mode = settings.mode;
  if (mode !== 'chantier' && mode !== 'devis') throw new AppError('SYNC_MODE_GUARD', pushText.modeUnknown);
  return mode;
}

async function runPush(ctx: FlowContext): Promise<FlowOutcome> {
  const { buffer, batisimply, clock } = ctx.ports;
  const kind = modeOf(ctx.settings);
  const records = await buffer.loadRecords(kind);
  batisimply.clearCache?.();
  const left: LeftAside = { noCode: 0, noName: 0 };
  const mapped = await readSource(ctx, kind, left);

  // Chantiers missing from ChantierDef (issue 18); those back are compared with BatiSimply again.
  const gone = kind === 'chantier' ? await deletions(ctx, new Set(mapped.map((r) => r.m.code).filter(Boolean)), records) : [];
  // Compare with the buffer: only new or changed records are worked on.
  const plan = classifyMapped(mapped, records, kind, ctx.sw);
  ctx.counts.skipped += plan.skipped.length;
  left.noCode += plan.noCode;
  left.noName += plan.noName;
  ctx.journal.push(...plan.skipped);
  throwIfCancelled(ctx.signal);
  ctx.counts.unchanged += plan.unchanged.length;
  await buffer.touchRecords(kind, plan.unchanged, clock.now());
  await ctx.progress('push', pushText.sending, 0, plan.work.length, null);
  let index: ProjectIndex | null = null;
  if (plan.work.length > 0 || gone.length > 0) {
    // One listing of the BatiSimply projects per run: adoption by code (empty buffer) and conflicts.
    index = indexProjects(await ctx.retryBatisimply(() => batisimply.listProjects({ signal: ctx.signal })));
  }
  if (index && plan.work.length > 0) await sendAll(ctx, kind, plan.work, index);
  if (index && gone.length > 0) await handleDeleted(ctx, gone, index);
  const scope = kind === 'chantier' ? lifeText.outOfScope(plan.outOfScope, ctx.settings.chantiers.scopeMonths) : '';
  return { message: pushText.summary(ctx.counts) + pushText.note(left, ctx.sw) + scope, leftUndone: false };
}

/** Chantiers sent to BatiSimply and missing from ChantierDef this run (those back are followed again). */
async function deletions(ctx: FlowContext, sourceCodes: ReadonlySet<string>, records: Map<string, RecordRow>): Promise<ChantierMark[]> {
  const store = ctx.ports.buffer.chantierLife;
  const marks = await store.load();
  const { deleted, back } = sourceDeletions(marks, sourceCodes);
  const known = [...marks.values()].filter((m) => m.batisimplyId !== null && m.deletedAt === null).length;
  if (looksLikeWrongSource(deleted.length, known)) {
    ctx.journal.push({ recordKey: 'chantier:*', action: 'reported', reason: lifeText.massDeletion(deleted.length, known, ctx.sw) });
    return [];
  }
  for (const code of back) {
    ctx.journal.push({ recordKey: `chantier:${code}`, action: 'reported', reason: lifeText.reappeared(code, ctx.sw) });
    const rec = records.get(code);
    if (rec) records.set(code, { ...rec, pushed_hash: null });
  }
  await store.clearDeleted(back);
  return deleted;
}

/** Reports each chantier deleted in Batigest and, by setting, marks its project finished (archived): never deletes. */
async function handleDeleted(ctx: FlowContext, gone: readonly ChantierMark[], index: ProjectIndex): Promise<void> {
  const how = ctx.settings.chantiers.deleted;
  const store = ctx.ports.buffer.chantierLife;
  for (const g of gone) {
    throwIfCancelled(ctx.signal);
    const key = `chantier:${g.code}`;
    const p = g.batisimplyId ? (index.byId.get(g.batisimplyId) ?? null) : null;
    if (how === 'report' || !p || !g.batisimplyId) {
      ctx.journal.push({ recordKey: key, action: 'reported', reason: p ? lifeText.deletedReported(g.code, p.projectName, ctx.sw) : lifeText.deletedGoneRemotely(g.code, ctx.sw) });
      await store.markDeleted([g.code], ctx.ports.clock.now());
      continue;
    }
    const archive = how === 'archive' || p.isArchived === true;
    try {
      if (p.isFinished !== true || archive !== (p.isArchived === true)) {
        const id = g.batisimplyId;
        await ctx.retryBatisimply(() => ctx.ports.batisimply.updateProject(id, { projectCode: p.projectCode, projectName: p.projectName, isFinished: true, isArchived: archive }, { signal: ctx.signal }));
        ctx.counts.writes++;
        ctx.counts.updated++;
      }
      ctx.journal.push({ recordKey: key, action: 'reported', reason: lifeText.deletedFinished(g.code, p.projectName, ctx.sw, archive) });
      await store.markDeleted([g.code], ctx.ports.clock.now());
    } catch (e) {
      if (e instanceof AppError && e.code === 'CANCELLED') throw e;
      if (!isRecordLevel(e)) throw e;
      ctx.counts.failed++;
      ctx.journal.push({ recordKey: key, action: 'failed', reason: lifeText.deletedFailed(g.code, reasonOf(e)) });
    }
  }
}

/** Reads Batigest page by page (mode guard: only the table of the configured mode is read) and maps each row. */
async function readSource(ctx: FlowContext, kind: RecordKind, left: LeftAside): Promise<MappedRow[]> {
  const { batigest } = ctx.ports;
  const defaults = ctx.settings.batisimply.project;
  await ctx.progress('read', pushText.reading(kind, ctx.sw), 0, null, null);
  const mapped: MappedRow[] = [];
  // Rows the gateway cannot key (no code) are reported, not silently dropped.
  let noCode = 0;
  const onSkip = (r: SkippedSourceRow): void => {
    ctx.counts.skipped++;
    left.noCode++;
    ctx.journal.push({ recordKey: r.code !== null ? `${kind}:${r.code}` : pushText.keyWithoutCodeLine(kind, ++noCode), action: 'skipped', reason: inSoftware(r.reason, ctx.sw) });
  };
  const toRow = kind === 'chantier' ? await chantierMapper(ctx) : (row: ChantierSource | DevisSource): MappedRow => ({ m: mapDevis(row as DevisSource, defaults, ctx.sw), modified: parseDate(row.dateModif) });
  const pages = kind === 'chantier' ? batigest.readChantiers({ signal: ctx.signal, onSkip }) : batigest.readDevis({ signal: ctx.signal, onSkip });
  for await (const page of pages as AsyncIterable<(ChantierSource | DevisSource)[]>) {
    throwIfCancelled(ctx.signal);
    for (const row of page) mapped.push(toRow(row));
    await ctx.progress('read', pushText.readingPages(ctx.sw), mapped.length, null, null);
  }
  return mapped;
}

/**
 * Chantier mode (issue 18): each row's life (scope, finished, archived) and name source, and its sold hours from
 * its accepted devis when so chosen (read once per run, one grouped statement).
 */
async function chantierMapper(ctx: FlowContext): Promise<(row: ChantierSource | DevisSource) => MappedRow> {
  const defaults = ctx.settings.batisimply.project;
  const life = ctx.settings.chantiers;
  const now = ctx.ports.clock.now();
  const fromDevis = life.hoursSource === 'devis';
  const devisHours = fromDevis ? await ctx.retry(() => ctx.ports.batigest.readDevisHours(life.devisStates)) : null;
  return (row) => {
    const c = row as ChantierSource;
    const l = chantierLife(c, life, now);
    const code = normaliseCode(c.code);
    const hoursSold = devisHours ? (devisHours.get(code) ?? null) : undefined;
    const m = mapChantier(c, defaults, ctx.sw, { nameSource: life.nameSource, hoursSold, isFinished: l.isFinished, isArchived: l.isArchived });
    return { m, modified: parseDate(c.dateModif), inScope: l.inScope, hoursFromDevis: fromDevis };
  };
}

/**
 * Bounded concurrency (settings.batisimply.concurrency): each record follows the intent → write → commit
 * protocol on its own, so records in flight together stay crash-safe. The first fatal error stops the
 * others from starting; the ones in flight finish (or fail) before the run ends.
 */
async function sendAll(ctx: FlowContext, kind: RecordKind, work: PushWork[], index: ProjectIndex): Promise<void> {
  const workers = Math.max(1, Math.min(16, ctx.settings.batisimply.concurrency));
  const total = work.length;
  let done = 0;
  let next = 0;
  let fatal: unknown = null;
  const worker = async (): Promise<void> => {
    while (fatal === null) {
      const w = work[next++];
      if (!w) return;
      try {
        throwIfCancelled(ctx.signal);
        await pushOrJournal(ctx, kind, w, index);
        done++;
        await ctx.progress('push', pushText.sending, done, total, w.code);
      } catch (e) {
        fatal ??= e;
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(workers, work.length) }, worker));
  if (fatal !== null) throw fatal;
}

/** Pushes one record; an error of this record only is journaled (retried next run), any other error is thrown. */
async function pushOrJournal(ctx: FlowContext, kind: RecordKind, w: PushWork, index: ProjectIndex): Promise<void> {
  try {
    await pushOne(ctx, kind, w, index);
  } catch (e) {
    if (e instanceof AppError && e.code === 'CANCELLED') throw e;
    const recordLevel = isRecordLevel(e);
    // A transient BatiSimply error that outlived the client's own retries: this record fails (journaled,
    // retried next run) and the run stops, so an unavailable server is not asked again for every record.
    const exhausted = !recordLevel && isRetryable(e) && e instanceof AppError && e.code.startsWith('BS_');
    if (!recordLevel && !exhausted) throw e;
    ctx.counts.failed++;
    ctx.journal.push({ recordKey: `${kind}:${w.code}`, action: 'failed', reason: pushText.recordFailed(w.name, w.code, reasonOf(e)) });
    await ctx.ports.buffer.recordError({ kind, code: w.code, name: w.name, hash: w.hash, error: reasonOf(e), now: ctx.ports.clock.now() });
    if (exhausted) throw e;
  }
}

async function pushOne(ctx: FlowContext, kind: RecordKind, w: PushWork, index: ProjectIndex): Promise<void> {
  const step = await decide(ctx, kind, w, index);
  if (step.do === 'create') return create(ctx, kind, w, index);
  if (step.conflict) ctx.counts.conflicts++;
  ctx.journal.push(...step.journal);
  if (step.do === 'keep') {
    ctx.counts.unchanged++;
    return commit(ctx, kind, w, step.id, step.remoteModified);
  }
  const before = index.byId.get(step.id) ?? null;
  const p = await update(ctx, kind, w, step.id);
  ctx.counts.updated++;
  ctx.journal.push(step.after);
  if (before && kind === 'chantier') ctx.journal.push(...lifeNotes(before, w, kind, ctx.sw));
  await commit(ctx, kind, w, p.id || step.id, parseDate(p.lastModifiedDate ?? null));
}

/** Looks up what the planner needs (the known project, or one with this code) and asks it. */
async function decide(ctx: FlowContext, kind: RecordKind, w: PushWork, index: ProjectIndex): Promise<PushStep> {
  const { batisimply } = ctx.ports;
  const id = w.rec?.batisimply_id ?? null;
  if (id) {
    // Not in this run's listing: deleted in BatiSimply, or listing incomplete. Ask directly.
    const existing = index.byId.get(id) ?? (await ctx.retryBatisimply(() => batisimply.getProject(id, { signal: ctx.signal })));
    if (existing) return decideKnown(w, id, existing, kind, ctx.sw);
    ctx.journal.push({ recordKey: `${kind}:${w.code}`, action: 'reported', reason: pushText.deletedRemotely(w.code) });
  }
  // Unknown id: adopt an existing project with this code before ever creating one. Recovery of a create whose
  // outcome is unknown (crash or timeout): look it up once more.
  let found = index.byCode.get(w.code) ?? null;
  if (!found && w.rec?.intent === 'create') found = await ctx.retryBatisimply(() => batisimply.findProjectByCode(w.code, { signal: ctx.signal }));
  return decideUnknown(w, found, kind);
}

async function commit(ctx: FlowContext, kind: RecordKind, w: PushWork, id: string, remoteModified: Date | null): Promise<void> {
  await ctx.ports.buffer.commitPush({
    kind,
    code: w.code,
    name: w.name,
    sourceHash: w.hash,
    sourceModified: w.modified,
    batisimplyId: id,
    pushedHash: w.hash,
    remoteModified,
    now: ctx.ports.clock.now(),
  });
  // The baseline of the chantiers-back flow: which side changed a field since this push.
  if (kind === 'chantier' && ctx.settings.chantiers.back.enabled) await ctx.ports.buffer.chantierLife.savePushedFields(w.code, backFieldsOfProject(w.input.input));
  await ctx.checkpoint('push:after-commit', `${kind}:${w.code}`);
}

async function update(ctx: FlowContext, kind: RecordKind, w: PushWork, id: string): Promise<Project> {
  const { buffer, batisimply, clock } = ctx.ports;
  const key = `${kind}:${w.code}`;
  await buffer.setIntent({ kind, code: w.code, name: w.name, hash: w.hash, sourceModified: w.modified, intent: 'update', now: clock.now() });
  await ctx.checkpoint('push:before-remote', key);
  const p = await ctx.retryBatisimply(async () => {
    await ctx.confirmLease(); // fencing: never write with a lease another PC took over
    return batisimply.updateProject(id, w.input.input, { signal: ctx.signal, confirm: () => ctx.confirmLease() });
  });
  ctx.counts.writes++;
  await ctx.checkpoint('push:after-remote', key);
  return p;
}

async function create(ctx: FlowContext, kind: RecordKind, w: PushWork, index: ProjectIndex): Promise<void> {
  const { buffer, batisimply, clock } = ctx.ports;
  const key = `${kind}:${w.code}`;
  await buffer.setIntent({ kind, code: w.code, name: w.name, hash: w.hash, sourceModified: w.modified, intent: 'create', now: clock.now() });
  await ctx.checkpoint('push:before-remote', key);
  // A failed create may still have been processed (e.g. an unreadable answer): look the code up (fresh)
  // before posting again, so a retry never creates a second project with the same code.
  let posted = false;
  const created = await ctx.retryBatisimply(async () => {
    if (posted) {
      batisimply.clearCache?.();
      const again = await batisimply.findProjectByCode(w.code, { signal: ctx.signal });
      if (again) return again;
    }
    await ctx.confirmLease(); // fencing: never write with a lease another PC took over
    posted = true;
    return batisimply.createProject(w.input.input, { signal: ctx.signal, confirm: () => ctx.confirmLease() });
  });
  ctx.counts.writes++;
  await ctx.checkpoint('push:after-remote', key);
  index.byCode.set(w.code, created);
  ctx.counts.created++;
  ctx.journal.push({ recordKey: key, action: 'created', reason: null });
  await commit(ctx, kind, w, created.id, parseDate(created.lastModifiedDate ?? null));
}
