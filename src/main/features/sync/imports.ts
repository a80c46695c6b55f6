/**
 * The import agent as part of the sync feature: imports.status (the « Imports » card: pending, imported today, in
 * error with the reason, last cycle), imports.retry (« Réessayer » an export in error: handed over again by a cycle
 * started at once) and the agent's own cycle (settings.imports.intervalSeconds, when the schedule and the module are
 * on and the schedule is not paused). Every cycle is a run of the engine's 'imports' flow through SyncJobs, so it is
 * journaled, shown and notified like the other flows.
 */
import path from 'node:path';
import type { ImportsView } from '../../../shared/contract.js';
import { AppError, toAppError } from '../../../shared/errors.js';
import type { Settings } from '../../../shared/settings.js';
import type { Handlers } from '../../ipc/router.js';
import { ImportStore } from '../../services/buffer/imports.js';
import { JournalQueries } from '../../services/buffer/journal.js';
import { activePause, nodeTimers, type Timers } from '../../services/scheduler/scheduler.js';
import { importsText } from '../../services/sync/journal-text.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';
import { toUiRun } from './ui.js';

export interface ImportsParts {
  handlers: Pick<Handlers, 'imports.status' | 'imports.retry'>;
  nextRunAt(): string | null;
  onSettingsChanged(s: Settings): void;
  stop(): void;
}

/** Midnight of `now` on this PC (for « importés aujourd'hui »). */
function startOfDay(now: Date): Date {
  const d = new Date(now.getTime());
  d.setHours(0, 0, 0, 0);
  return d;
}

export function importsParts(ctx: AppContext, jobs: SyncJobs, o: { run: boolean; timers?: Timers }): ImportsParts {
  const log = ctx.logger.child({ feature: 'imports' });
  const timers = o.timers ?? nodeTimers;
  let handle: unknown = null;
  let next: Date | null = null;
  let key = '';

  const due = (s: Settings): boolean => o.run && s.schedule.enabled && s.imports.enabled && s.imports.apiUrl.trim() !== '';
  const plan = (): void => {
    if (handle !== null) timers.clearTimeout(handle);
    handle = null;
    next = null;
    const s = ctx.settings.get();
    if (!due(s)) return;
    const pause = activePause(s, ctx.clock.now());
    const delay = pause ? pause.getTime() - ctx.clock.now().getTime() : s.imports.intervalSeconds * 1000;
    next = new Date(ctx.clock.now().getTime() + delay);
    handle = timers.setTimeout(() => void tick(), delay);
  };
  const tick = async (): Promise<void> => {
    handle = null;
    const s = ctx.settings.get();
    if (due(s) && !activePause(s, ctx.clock.now()) && !jobs.runningFlows().includes('imports')) {
      const { started, done } = jobs.launch('imports', 'schedule');
      started.catch(() => undefined);
      await done.catch((e: unknown) => log.warn('scheduled import cycle refused', { code: toAppError(e).code }));
    }
    plan();
  };
  const apply = (s: Settings): void => {
    const k = JSON.stringify([s.schedule.enabled, s.schedule.pausedUntil, s.imports.enabled, s.imports.apiUrl, s.imports.intervalSeconds]);
    if (k === key) return;
    key = k;
    plan();
  };
  apply(ctx.settings.get());

  const view = async (): Promise<ImportsView> => {
    const s = ctx.settings.get();
    const defaultAgentId = ctx.services.importsAgentId();
    const base: ImportsView = {
      enabled: s.imports.enabled,
      agentId: s.imports.agentId.trim() || defaultAgentId,
      defaultAgentId,
      workDir: path.resolve(s.imports.workDir.trim() || path.join(ctx.userDataDir, 'imports')),
      importPath: s.imports.batigestImportPath,
      pending: 0,
      importedToday: 0,
      errored: [],
      erroredTotal: 0,
      lastRun: null,
      nextRunAt: next?.toISOString() ?? null,
      error: null,
    };
    try {
      const store = await jobs.buffer();
      const imports = new ImportStore(store.db);
      const c = await imports.counts(startOfDay(ctx.clock.now()));
      const errored = await imports.listErrored(50);
      const [last] = (await new JournalQueries(store.db).listRuns({ flow: 'imports' }, { limit: 1, offset: 0 })).rows;
      return {
        ...base,
        pending: c.pending,
        importedToday: c.syncedSince,
        erroredTotal: c.errored,
        errored: errored.map((r) => ({ exportId: r.export_id, fileName: r.import_name, reason: r.reason ?? '', at: r.done_at?.toISOString() ?? null })),
        lastRun: last ? toUiRun(last) : null,
      };
    } catch (e) {
      return { ...base, error: toAppError(e).message };
    }
  };

  return {
    handlers: {
      'imports.status': () => view(),
      'imports.retry': async ({ exportId }) => {
        const store = await jobs.buffer();
        const ok = await new ImportStore(store.db).retry(exportId, ctx.clock.now());
        if (!ok) throw new AppError('INVALID_INPUT', importsText.notErrored(exportId));
        log.info('export put back for another try', { exportId });
        if (!ctx.settings.get().imports.enabled) return { message: importsText.retried(exportId), runId: null };
        const { started } = jobs.launch('imports', 'manual');
        const runId = await started.catch(() => null);
        return { message: importsText.retried(exportId), runId };
      },
    },
    nextRunAt: () => next?.toISOString() ?? null,
    onSettingsChanged: apply,
    stop: () => {
      if (handle !== null) timers.clearTimeout(handle);
      handle = null;
    },
  };
}
