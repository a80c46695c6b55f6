/**
 * The background schedule: the scheduler (services/scheduler) runs its jobs through SyncJobs, the same
 * path as the buttons; schedule.get / schedule.set show and change it; schedule.pause / schedule.resume
 * suspend it (« Suspendre 1 h / 4 h / jusqu'à demain », kept in the settings across restarts). What a
 * scheduled attempt leaves (a run, or a refusal before any run) reaches the overview; the notifications are
 * decided from the overview by the shell's notification policy, for scheduled and manual runs alike.
 */
import type { AppError } from '../../../shared/errors.js';
import type { ScheduleView } from '../../../shared/contract.js';
import { toAppError } from '../../../shared/errors.js';
import type { Settings } from '../../../shared/settings.js';
import type { Handlers } from '../../ipc/router.js';
import { JournalQueries } from '../../services/buffer/journal.js';
import { Scheduler, activePause, pauseEnd, type Timers } from '../../services/scheduler/scheduler.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';

export interface ScheduleOptions {
  /** Tests: scheduler timers. */
  timers?: Timers;
  /** False: no background runs (one-shot CLI commands); schedule.get/set still answer. */
  run?: boolean;
  /** Each scheduled attempt's refusal before any run was journaled (null: it ran). */
  onAttempt?(error: AppError | null): void;
}

export interface ScheduleParts {
  handlers: Pick<Handlers, 'schedule.get' | 'schedule.set' | 'schedule.pause' | 'schedule.resume'>;
  nextRunAt(): string | null;
  onSettingsChanged(s: Settings): void;
  stop(): void;
}

/** A refusal that is not a problem: another PC or another job of this one is running the flow. */
const isLockCode = (code: string) => code === 'BUFFER_LOCKED' || code === 'SYNC_ALREADY_RUNNING' || code === 'SYNC_ALREADY_DONE';

export function scheduleParts(ctx: AppContext, jobs: SyncJobs, opts: ScheduleOptions): ScheduleParts {
  const log = ctx.logger.child({ feature: 'schedule' });
  const scheduler = new Scheduler({
    engine: {
      run: (flow, o) => {
        const { started, done } = jobs.launch(flow, o?.trigger === 'schedule' ? 'schedule' : 'manual', o?.oncePerMs ? { oncePerMs: o.oncePerMs } : {});
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
    onResult: ({ error }) => {
      if (!error || !isLockCode(error.code)) opts.onAttempt?.(error);
      jobs.onStatus(null);
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
    const s = ctx.settings.get();
    return { ...s.schedule, pausedUntil: activePause(s, ctx.clock.now())?.toISOString() ?? null, nextRunAt: scheduler.nextRunAt?.toISOString() ?? null, lastRunAt };
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
      'schedule.pause': async ({ preset }) => {
        const until = pauseEnd(preset, ctx.clock.now());
        ctx.settings.update({ schedule: { pausedUntil: until.toISOString() } });
        log.info('scheduled runs paused', { until: until.toISOString() });
        apply(ctx.settings.get());
        return view();
      },
      'schedule.resume': async () => {
        ctx.settings.update({ schedule: { pausedUntil: null } });
        log.info('scheduled runs resumed');
        apply(ctx.settings.get());
        return view();
      },
    },
    nextRunAt: () => scheduler.nextRunAt?.toISOString() ?? null,
    onSettingsChanged: apply,
    stop: () => scheduler.stop(),
  };
}
