/**
 * Background scheduler: runs the configured flows every `schedule.intervalSeconds` (default 300 s),
 * retries a failed run up to `schedule.retries` times (default 3) with a growing delay, skips a tick
 * while a run is active, and checks the licence before each run. Plain Node; timers are injected.
 *
 * Pause (« Suspendre 1 h / 4 h / jusqu'à demain »): `schedule.pausedUntil` in the settings, so a restart
 * keeps it. While it lies ahead, no scheduled run starts: the next one is planned at the end of the pause
 * (manual runs stay possible). « Reprendre » clears it and the schedule starts again from now.
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

/** When a pause chosen now ends: in 1 h, in 4 h, or tomorrow at 7:00 (local time of this PC). Pure. */
export function pauseEnd(preset: '1h' | '4h' | 'tomorrow', now: Date): Date {
  if (preset === '1h') return new Date(now.getTime() + 3_600_000);
  if (preset === '4h') return new Date(now.getTime() + 4 * 3_600_000);
  const d = new Date(now.getTime());
  d.setDate(d.getDate() + 1);
  d.setHours(7, 0, 0, 0);
  return d;
}

/** The pause still ahead of `now` in these settings, or null (none, unreadable or over). */
export function activePause(s: Settings, now: Date): Date | null {
  const raw = s.schedule.pausedUntil;
  if (!raw) return null;
  const t = Date.parse(raw);
  return Number.isFinite(t) && t > now.getTime() ? new Date(t) : null;
}

export interface SchedulerState {
  enabled: boolean;
  /** Scheduled runs suspended until then (null: not paused). */
  pausedUntil: string | null;
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
      pausedUntil: activePause(this.d.settings(), this.d.clock.now())?.toISOString() ?? null,
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
    const s = this.d.settings();
    if (!this.started || !s.schedule.enabled) return;
    const now = this.d.clock.now();
    let at = now.getTime() + ms;
    // Paused: nothing before the end of the pause; the schedule starts again then.
    const pause = activePause(s, now);
    if (pause && pause.getTime() > at) at = pause.getTime();
    this.nextAt = new Date(at);
    this.timer = this.timers.setTimeout(() => {
      this.timer = null;
      void this.tick();
    }, at - now.getTime());
  }

  /** One scheduled attempt (public for tests and "run now" from the tray). */
  async tick(): Promise<void> {
    const s = this.d.settings();
    if (activePause(s, this.d.clock.now())) {
      this.d.logger.info('scheduled run skipped: paused', { until: s.schedule.pausedUntil });
      this.plan(this.interval());
      return;
    }
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
      // Once per interval in total over the PCs of the buffer (the engine skips a flow already run in it).
      summaries = await this.d.engine.run(s.schedule.flows, { trigger: 'schedule', oncePerMs: this.interval() });
    } catch (e) {
      error = toAppError(e);
    } finally {
      this.busy = false;
    }
    this.lastAt = this.d.clock.now();
    const failed = error !== null || summaries.some((x) => x.status === 'failed');
    const lockedElsewhere = error?.code === 'BUFFER_LOCKED' || error?.code === 'SYNC_ALREADY_RUNNING' || error?.code === 'SYNC_ALREADY_DONE';
    this.lastStatus = error ? (lockedElsewhere ? 'skipped' : 'failed') : worst(summaries);
    this.lastMessage = error ? error.message : summaries.map((x) => x.message).join(' ');
    this.d.onResult?.({ summaries, error, attempt: this.attempt });
    const licenceRefused = error?.code.startsWith('LICENSE_') ?? false;
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
