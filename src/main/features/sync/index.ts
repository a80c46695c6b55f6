/**
 * Sync, journal, employee mapping and schedule as one app feature. Its parts share one SyncJobs (the
 * runtime and the jobs in progress), each in its own module:
 *   runs.ts     sync.run / cancel / status, buffer.status
 *   journal.ts  journal.list / get / exportCsv
 *   mapping.ts  mapping.get / save
 *   schedule.ts schedule.get / set and the background scheduler
 */
import type { AppFeature, AppFeatureInstance } from '../types.js';
import type { Timers } from '../../services/scheduler/scheduler.js';
import type { SyncHooks } from '../../services/sync/engine.js';
import { toAppError } from '../../../shared/errors.js';
import { SyncJobs } from './jobs.js';
import { journalHandlers } from './journal.js';
import { mappingHandlers } from './mapping.js';
import { runHandlers } from './runs.js';
import { scheduleParts } from './schedule.js';

export { csvCell, toCsv } from './ui.js';

export interface SyncFeatureOptions {
  /** Tray notification of scheduled results (the shell passes it). */
  notify?(title: string, body: string): void;
  /** Tests: engine checkpoints (pause a run at a known point). */
  hooks?: SyncHooks;
  /** Tests: scheduler timers. */
  timers?: Timers;
  /** False: the scheduler never runs in this process (one-shot CLI commands). */
  schedule?: boolean;
  /** False: the buffer is opened on the first question rather than at start. */
  openAtStart?: boolean;
}

export function syncFeature(opts: SyncFeatureOptions = {}): AppFeature {
  return (ctx): AppFeatureInstance => {
    const jobs = new SyncJobs(ctx, opts.hooks);
    const schedule = scheduleParts(ctx, jobs, {
      ...(opts.notify ? { notify: opts.notify } : {}),
      ...(opts.timers ? { timers: opts.timers } : {}),
      run: opts.schedule !== false,
    });
    jobs.onStatus = (lastRun) => ctx.emit('sync:status', { running: jobs.currentRun(), lastRun, nextRunAt: schedule.nextRunAt() });
    if (opts.openAtStart !== false) {
      // Open the buffer now rather than on the first question (creating an embedded one takes seconds).
      void jobs.getRuntime().catch((e: unknown) => ctx.logger.warn('the sync runtime could not be prepared at start', { code: toAppError(e).code }));
    }
    return {
      name: 'synchronisation',
      handlers: { ...runHandlers(ctx, jobs, schedule.nextRunAt), ...journalHandlers(ctx, jobs), ...mappingHandlers(ctx, jobs), ...schedule.handlers },
      onSettingsChanged: async (s) => {
        schedule.onSettingsChanged(s);
        await jobs.closeIfStale();
      },
      dispose: async () => {
        schedule.stop();
        await jobs.dispose();
      },
    };
  };
}
