/**
 * Background scheduler: runs the configured flows every `schedule.intervalSeconds` (default 300 s),
 * retries a failed run up to `schedule.retries` times (default 3) with a growing delay, skips a tick
 * while a run is active, and checks the licence before each run. Plain Node; timers are injected.
 */
import { AppError, toAppError } from '../../../shared/errors.js';
import type { Settings } from '../../../shared/settings.js';
import type { Clock, Logger } from '../ports.js';
import type { FlowName } from '../buffer/store.js';
import type { RunOptions, RunSummary } from '../sync/engine.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const nodeTimers: Timers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface SchedulerDeps {
  engine: { run(flow: FlowName | 'all', opts?: RunOptions): Promise<RunSummary[]>; readonly running: FlowName[] };
  settings: () => Settings;
  clock: Clock;
  timers?: Timers;
  logger: Logger;
  licence?: { assertSyncAllowed(): Promise<unknown> };
  /** Called after each scheduled attempt (tray notification, UI refresh). */
  onResult?: (r: { summaries: RunSummary[]; error: AppError | null; attempt: number }) => void;
  /** Delay before retry n (1-based), ms. Default 30 s × n. */
  retryDelayMs?: (attempt: number) => number;
}

export interface SchedulerState {
  enabled: boolean;
  running: boolean;
  nextRunAt: string | null;
  lastRunAt: string | null;
  lastStatus: 'succeeded' | 'partial' | 'failed' | 'cancelled' | 'skipped' | null;
  lastMessage: string | null;
  attempt: number;
}

export class Scheduler {
  private timer: unknown = null;
  private nextAt: Date | null = null;
  private started = false;
  private busy = false;
  private attempt = 0;
  private lastAt: Date | null = null;
  private lastStatus: SchedulerState['lastStatus'] = null;
  private lastMessage: string | null = null;
  private readonly timers: Timers;

  constructor(private readonly d: SchedulerDeps) {
    this.timers = d.timers ?? nodeTimers;
  }

  /** Starts ticking when `schedule.enabled`; call again after the settings change. */
  start(): void {
    this.started = true;
    this.plan(this.interval());
  }

  stop(): void {
    this.started = false;
    this.clear();
  }

  /** Re-reads the settings (interval, enabled) and re-plans the next run. */
  reschedule(): void {
    if (this.started) this.plan(this.interval());
  }

  get nextRunAt(): Date | null {
    return this.nextAt;
  }

  state(): SchedulerState {
    return {
      enabled: this.started && this.d.settings().schedule.enabled,
      running: this.busy || this.d.engine.running.length > 0,
      nextRunAt: this.nextAt?.toISOString() ?? null,
      lastRunAt: this.lastAt?.toISOString() ?? null,
      lastStatus: this.lastStatus,
      lastMessage: this.lastMessage,
      attempt: this.attempt,
    };
  }

  private interval(): number {
    return this.d.settings().schedule.intervalSeconds * 1000;
  }

  private clear(): void {
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.nextAt = null;
  }

  private plan(ms: number): void {
    this.clear();
    if (!this.started || !this.d.settings().schedule.enabled) return;
    this.nextAt = new Date(this.d.clock.now().getTime() + ms);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, ms);
  }

  /** One scheduled attempt (public for tests and "run now" from the tray). */
  async tick(): Promise<void> {
    const s = this.d.settings();
    if (this.busy || this.d.engine.running.length > 0) {
      this.d.logger.info('scheduled run skipped: a run is active');
      this.lastStatus = 'skipped';
      this.plan(this.interval());
      return;
    }
    this.busy = true;
    let summaries: RunSummary[] = [];
    let error: AppError | null = null;
    this.attempt++;
    try {
      if (this.d.licence) await this.d.licence.assertSyncAllowed();
      summaries = await this.d.engine.run(s.schedule.flows, { trigger: 'schedule' });
    } catch (e) {
      error = toAppError(e);
    } finally {
      this.busy = false;
    }
    this.lastAt = this.d.clock.now();
    const failed = error !== null || summaries.some((x) => x.status === 'failed');
    this.lastStatus = error ? (error.code === 'BUFFER_LOCKED' || error.code === 'SYNC_ALREADY_RUNNING' ? 'skipped' : 'failed') : worst(summaries);
    this.lastMessage = error ? error.message : summaries.map((x) => x.message).join(' ');
    this.d.onResult?.({ summaries, error, attempt: this.attempt });
    const licenceRefused = error?.code.startsWith('LICENSE_') ?? false;
    const lockedElsewhere = error?.code === 'BUFFER_LOCKED' || error?.code === 'SYNC_ALREADY_RUNNING';
    if (failed && !licenceRefused && !lockedElsewhere && this.attempt <= s.schedule.retries) {
      const delay = this.d.retryDelayMs?.(this.attempt) ?? 30_000 * this.attempt;
      this.d.logger.warn('scheduled run failed, retry planned', { attempt: this.attempt, delayMs: delay });
      this.plan(Math.min(delay, this.interval()));
      return;
    }
    this.attempt = 0;
    this.plan(this.interval());
  }
}

function worst(summaries: RunSummary[]): SchedulerState['lastStatus'] {
  const order = ['failed', 'cancelled', 'partial', 'succeeded'] as const;
  for (const st of order) if (summaries.some((x) => x.status === st)) return st;
  return 'succeeded';
}
