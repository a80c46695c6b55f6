/**
 * Chantiers-back flow (issue 18, opt-in, Réglages › Chantiers › Modifications BatiSimply): the ticked fields of
 * the projects changed in BatiSimply since the connector last saw them are written to ChantierDef, in ONE
 * transaction (gateway), nothing else; each change and each conflict is journaled (old value, new value, winner).
 * Off (the default), it is not part of « Tout synchroniser » and, run by name, reads and writes nothing.
 */
import type { ChantierSource } from '../../../../../shared/domain.js';
import type { Settings } from '../../../../../shared/settings.js';
import type { FlowContext, FlowModule, FlowOutcome } from '../../flow.js';
import { backFieldsOfProject } from '../../chantier-life.js';
import { backText, engineText } from '../../journal-text.js';
import { normaliseCode } from '../../mapping.js';
import { throwIfCancelled } from '../../retry.js';
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
  if (plan.writes.length > 0) {
    await ctx.progress('write', backText.writing(ctx.sw), 0, plan.writes.length, null);
    await ctx.retry(() => ctx.ports.batigest.writeChantierFields(plan.writes, { signal: ctx.signal }));
    ctx.counts.writes += plan.writes.length;
  }
  ctx.journal.push(...plan.journal);
  ctx.counts.updated += plan.chantiers;
  ctx.counts.conflicts += plan.conflicts;
  ctx.counts.unchanged += records.length - plan.chantiers;
  // after the Batigest transaction committed: a crash before this point redoes the same writes (idempotent)
  for (const c of plan.commits) await ctx.ports.buffer.chantierLife.saveBack(c);
  return { message: backText.summary(plan.writes.length, plan.chantiers, plan.conflicts, ctx.sw), leftUndone: false };
}
