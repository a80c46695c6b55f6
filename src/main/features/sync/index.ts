/**
 * Sync, journal, employee mapping and schedule as one app feature. Its parts share one SyncJobs (the
 * runtime and the jobs in progress), each in its own module:
 *   runs.ts      sync.run / cancel / status, buffer.status
 *   journal.ts   journal.list / get / exportCsv
 *   mapping.ts   mapping.get / save
 *   schedule.ts  schedule.get / set / pause / resume and the background scheduler
 *   overview.ts  status.overview and the 'status:overview' event (the facts of the connector's state)
 *   maintenance.ts maintenance.verify / recompare / purgeJournal / forget / log
 *   diagnostics.ts diagnostics.export / reveal / openLogFolder
 *   imports.ts   imports.status / retry and the import agent's own cycle (flow 'imports')
 */
import type { AppFeature, AppFeatureInstance, DesktopOpener } from '../types.js';
import type { Timers } from '../../services/scheduler/scheduler.js';
import type { SyncHooks } from '../../services/sync/engine.js';
import { toAppError } from '../../../shared/errors.js';
import { SyncJobs } from './jobs.js';
import { diagnosticsHandlers } from './diagnostics.js';
import { journalHandlers } from './journal.js';
import { maintenanceHandlers } from './maintenance.js';
import { mappingHandlers } from './mapping.js';
import { runHandlers } from './runs.js';
import { overviewParts } from './overview.js';
import { machinesParts } from './machines.js';
import { importsParts } from './imports.js';
import { scheduleParts } from './schedule.js';

export { csvCell, toCsv } from './ui.js';

export interface SyncFeatureOptions {
  /** Opens folders and files on the desktop (the Electron shell passes it; elsewhere the UI shows the path). */
  opener?: DesktopOpener;
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
    let overview: ReturnType<typeof overviewParts> | null = null;
    const schedule = scheduleParts(ctx, jobs, {
      ...(opts.timers ? { timers: opts.timers } : {}),
      run: opts.schedule !== false,
      onAttempt: (error) => overview?.noteAttempt(error),
    });
    const imports = importsParts(ctx, jobs, { run: opts.schedule !== false, ...(opts.timers ? { timers: opts.timers } : {}) });
    overview = overviewParts(ctx, jobs, schedule.nextRunAt);
    // The PCs panel's heartbeat runs on real timers (the injected ones are the scheduler's).
    const machines = machinesParts(ctx, jobs, { run: opts.schedule !== false });
    const ov = overview;
    jobs.onStatus = (lastRun) => {
      ctx.emit('sync:status', { running: jobs.currentRun(), lastRun, nextRunAt: schedule.nextRunAt(), jobActive: jobs.runningFlows().length > 0 });
      ov.refresh();
    };
    if (opts.openAtStart !== false) {
      // Open the buffer now rather than on the first question (creating an embedded one takes seconds).
      void jobs
        .getRuntime()
        .then(() => {
          ov.refresh();
          return machines.beat();
        })
        .catch((e: unknown) => {
          ctx.logger.warn('the sync runtime could not be prepared at start', { code: toAppError(e).code });
          ov.refresh();
        });
    }
    const mapping = mappingHandlers(ctx, jobs);
    return {
      name: 'synchronisation',
      handlers: {
        ...runHandlers(ctx, jobs, schedule.nextRunAt),
        ...journalHandlers(ctx, jobs),
        ...mapping,
        'mapping.save': async (input, call) => {
          const out = await mapping['mapping.save'](input, call);
          ov.refresh();
          return out;
        },
        ...schedule.handlers,
        ...imports.handlers,
        ...ov.handlers,
        ...maintenanceHandlers(ctx, jobs, () => ov.refresh()),
        ...diagnosticsHandlers(ctx, jobs, ov, opts.opener),
        ...machines.handlers,
      },
      onSettingsChanged: async (s) => {
        schedule.onSettingsChanged(s);
        imports.onSettingsChanged(s);
        await jobs.closeIfStale();
        ov.refresh();
      },
      dispose: async () => {
        ov.dispose();
        schedule.stop();
        machines.stop();
        imports.stop();
        await jobs.dispose();
      },
    };
  };
}
