/**
 * Chantiers-back flow (issue 18, opt-in, Réglages › Chantiers › Modifications BatiSimply reportées dans le logiciel): the ticked fields of
 * the projects changed in BatiSimply since the connector last saw them are written to ChantierDef, in ONE
 * transaction (gateway), nothing else; each change and each conflict is journaled (old value, new value, winner).
 * Off (the default), it is not part of « Tout synchroniser » and, run by name, reads and writes nothing.
 */
import type { ChantierFieldChange, ChantierSource } from '../../../../../shared/domain.js';
import { AppError } from '../../../../../shared/errors.js';
import type { Settings } from '../../../../../shared/settings.js';
import type { FlowContext, FlowModule, FlowOutcome } from '../../flow.js';
import { backFieldsOfProject } from '../../chantier-life.js';
import { backText, engineText } from '../../journal-text.js';
import { normaliseCode } from '../../mapping.js';
import { reasonOf, throwIfCancelled } from '../../retry.js';
import { changedSince, planBack, type BackRecord } from './plan.js';

const isOn = (s: Settings): boolean => s.mode === 'chantier' && s.chantiers.back.enabled && s.chantiers.back.fields.length > 0;

export const chantiersBackFlow: FlowModule = {
  name: 'chantiers-back',
  label: (sw) => engineText.flowLabel('chantiers-back', sw),
  enabled: isOn,
  run: runBack,
};

/** The projects BatiSimply changed since the connector last saw them, with their ChantierDef rows. */
async function changedRecords(ctx: FlowContext): Promise<BackRecord[]> {
  const marks = await ctx.ports.buffer.chantierLife.load();
  const byId = new Map([...marks.values()].filter((m) => m.batisimplyId !== null && m.deletedAt === null).map((m) => [m.batisimplyId as string, m]));
  await ctx.progress('read', backText.reading, 0, null, null);
  ctx.ports.batisimply.clearCache?.();
  const projects = await ctx.retryBatisimply(() => ctx.ports.batisimply.listProjects({ signal: ctx.signal }));
  const changed: Omit<BackRecord, 'source'>[] = [];
  for (const p of projects) {
    const m = byId.get(p.id);
    if (!m) continue;
    if (changedSince(m, p)) changed.push({ mark: m, project: p });
    // pushed before the option was on, unchanged since: BatiSimply still holds what was pushed
    else if (m.pushedFields === null) await ctx.ports.buffer.chantierLife.saveBack({ code: m.code, fields: backFieldsOfProject(p), remoteModified: null });
  }
  if (changed.length === 0) return [];
  const wanted = new Set(changed.map((c) => c.mark.code));
  const rows = new Map<string, ChantierSource>();
  for await (const page of ctx.ports.batigest.readChantiers({ signal: ctx.signal })) {
    throwIfCancelled(ctx.signal);
    for (const c of page) if (wanted.has(normaliseCode(c.code))) rows.set(normaliseCode(c.code), c);
  }
  return changed.map((c) => ({ ...c, source: rows.get(c.mark.code) ?? null }));
}

async function runBack(ctx: FlowContext): Promise<FlowOutcome> {
  if (!isOn(ctx.settings)) return { message: backText.disabled(ctx.sw), leftUndone: false };
  const records = await changedRecords(ctx);
  const plan = planBack(records, ctx.settings.chantiers.back.fields, ctx.sw);
  throwIfCancelled(ctx.signal);
  const refused = plan.writes.length > 0 ? await write(ctx, plan.writes) : new Set<string>();
  if (plan.writes.length > 0) await ctx.checkpoint('back:after-write');
  const written = plan.writes.filter((w) => !refused.has(w.code));
  ctx.counts.writes += written.length;
  ctx.journal.push(...plan.journal.filter((j) => !refused.has(j.recordKey.slice('chantier:'.length))));
  const chantiers = new Set(written.map((w) => w.code)).size;
  ctx.counts.updated += chantiers;
  ctx.counts.conflicts += plan.conflicts;
  ctx.counts.unchanged += records.length - chantiers - refused.size;
  // after the Batigest transaction committed: a crash before this point redoes the same writes (idempotent)
  for (const c of plan.commits) if (!refused.has(c.code)) await ctx.ports.buffer.chantierLife.saveBack(c);
  return { message: backText.summary(written.length, chantiers, plan.conflicts, ctx.sw), leftUndone: false };
}

/**
 * All the writes in one transaction. When SQL Server refuses the batch for its content (a value too long for its
 * column…), each chantier is written on its own so that one bad value does not hold back the others: the refused
 * ones are journaled and tried again next run. Returns the codes refused.
 */
async function write(ctx: FlowContext, writes: readonly ChantierFieldChange[]): Promise<Set<string>> {
  const g = ctx.ports.batigest;
  await ctx.progress('write', backText.writing(ctx.sw), 0, writes.length, null);
  try {
    await ctx.confirmLease(); // fencing: never write ChantierDef with a lease another PC took over
    await ctx.retry(() => g.writeChantierFields(writes, { signal: ctx.signal, confirm: () => ctx.confirmLease() }));
    return new Set();
  } catch (e) {
    if (!(e instanceof AppError) || e.retryable || e.code !== 'SQL_ERROR') throw e;
  }
  const refused = new Set<string>();
  for (const code of new Set(writes.map((w) => w.code))) {
    throwIfCancelled(ctx.signal);
    try {
      await ctx.retry(() => g.writeChantierFields(writes.filter((w) => w.code === code), { signal: ctx.signal, confirm: () => ctx.confirmLease() }));
    } catch (e) {
      if (!(e instanceof AppError) || e.retryable || e.code !== 'SQL_ERROR') throw e;
      refused.add(code);
      ctx.counts.failed++;
      ctx.journal.push({ recordKey: `chantier:${code}`, action: 'failed', reason: backText.refused(code, reasonOf(e), ctx.sw) });
    }
  }
  return refused;
}
