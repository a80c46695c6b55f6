/**
 * The background schedule: the scheduler (services/scheduler) runs its jobs through SyncJobs, the same
 * path as the buttons; schedule.get / schedule.set show and change it. One notification per new problem
 * of a scheduled run (the shell decides how to show it).
 */
import type { ScheduleView } from '../../../shared/contract.js';
import { toAppError } from '../../../shared/errors.js';
import type { Settings } from '../../../shared/settings.js';
import type { Handlers } from '../../ipc/router.js';
import { JournalQueries } from '../../services/buffer/journal.js';
import { Scheduler, type Timers } from '../../services/scheduler/scheduler.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';

export interface ScheduleOptions {
  /** Tray notification of scheduled results (the shell passes it). */
  notify?(title: string, body: string): void;
  /** Tests: scheduler timers. */
  timers?: Timers;
  /** False: no background runs (one-shot CLI commands); schedule.get/set still answer. */
  run?: boolean;
}

export interface ScheduleParts {
  handlers: Pick<Handlers, 'schedule.get' | 'schedule.set'>;
  nextRunAt(): string | null;
  onSettingsChanged(s: Settings): void;
  stop(): void;
}

export function scheduleParts(ctx: AppContext, jobs: SyncJobs, opts: ScheduleOptions): ScheduleParts {
  const log = ctx.logger.child({ feature: 'schedule' });
  let lastNotice = '';
  const scheduler = new Scheduler({
    engine: {
      run: (flow, o) => {
        const { started, done } = jobs.launch(flow, o?.trigger === 'schedule' ? 'schedule' : 'manual');
        started.catch(() => undefined);
        return done;
      },
      get running() {
        return jobs.runningFlows();
      },
    },
    settings: () => ctx.settings.get(),
    clock: ctx.clock,
    logger: ctx.logger.child({ service: 'scheduler' }),
    ...(opts.timers ? { timers: opts.timers } : {}),
    licence: ctx.services.licenceGuard(),
    onResult: ({ summaries, error }) => {
      jobs.onStatus(null);
      let text = '';
      if (error && error.code !== 'BUFFER_LOCKED' && error.code !== 'SYNC_ALREADY_RUNNING') text = error.message;
      else if (!error) text = summaries.filter((x) => x.status === 'failed' || x.status === 'partial').map((x) => x.message).join(' ');
      if (text && text !== lastNotice) opts.notify?.('Synchronisation planifiée incomplète', text);
      lastNotice = text;
    },
  });
  let scheduleKey = JSON.stringify(ctx.settings.get().schedule);
  if (opts.run !== false) scheduler.start();

  const view = async (): Promise<ScheduleView> => {
    let lastRunAt = scheduler.state().lastRunAt;
    // From the journal when the buffer is already open (the settings page never waits for it to open).
    const store = lastRunAt ? null : await jobs.openBuffer();
    if (store) {
      try {
        lastRunAt = (await new JournalQueries(store.db).lastRunAt('schedule'))?.toISOString() ?? null;
      } catch (e) {
        log.warn('reading the last scheduled run failed', { detail: toAppError(e).detail });
      }
    }
    return { ...ctx.settings.get().schedule, nextRunAt: scheduler.nextRunAt?.toISOString() ?? null, lastRunAt };
  };
  const apply = (s: Settings): void => {
    const key = JSON.stringify(s.schedule);
    if (key === scheduleKey) return;
    scheduleKey = key;
    scheduler.reschedule();
    jobs.onStatus(null);
  };

  return {
    handlers: {
      'schedule.get': () => view(),
      'schedule.set': async (patch) => {
        ctx.settings.update({ schedule: patch });
        apply(ctx.settings.get());
        return view();
      },
    },
    nextRunAt: () => scheduler.nextRunAt?.toISOString() ?? null,
    onSettingsChanged: apply,
    stop: () => scheduler.stop(),
  };
}
