/**
 * Sync jobs of one app: the sync runtime it runs on, and the jobs in progress.
 *
 * The runtime (engine + Batigest gateway + BatiSimply client on the app's buffer) is built lazily by
 * the service factory and rebuilt when the connection settings change — never under a running job:
 * the rebuild then waits for the end of the job. The buffer itself comes from the buffer pool, so it
 * is reopened only when the buffer settings change (opening an embedded buffer takes seconds).
 *
 * A job is what a button, the scheduler or the CLI asks for: one flow, or 'all' (push then hours). Every
 * job goes through `launch`, so scheduled runs send the same progress and status events as the buttons.
 */
import { randomUUID } from 'node:crypto';
import type { RunSummary as UiRunSummary, SyncStatus } from '../../../shared/contract.js';
import type { ProgressEvent } from '../../../shared/domain.js';
import { AppError, cancelledError, shuttingDownError, toAppError } from '../../../shared/errors.js';
import type { Settings } from '../../../shared/settings.js';
import type { BufferStore, FlowName } from '../../services/buffer/store.js';
import type { RunOptions, RunSummary as EngineRunSummary, SyncHooks } from '../../services/sync/engine.js';
import type { SyncRuntime } from '../../services/sync/runtime.js';
import type { AppContext } from '../types.js';
import { toUiRun } from './ui.js';

export type EngineFlow = FlowName | 'all';
export type Trigger = NonNullable<RunOptions['trigger']>;

interface ActiveRun {
  /** Flow asked for (push, hours or all). */
  requested: EngineFlow;
  /** 'all' jobs: the id its runs are tagged with in the journal (runs.job_id), so they show as one job. */
  jobId: string | null;
  controller: AbortController;
  runId: string | null;
  flow: FlowName | null;
  startedAt: string | null;
  progress: ProgressEvent | null;
  runIds: Set<string>;
  /** Runs of this job that have ended (an 'all' job runs push, then hours). */
  ended: Set<string>;
  /** Its last run has ended (the job is only cleaning up). */
  finished: boolean;
  done: Promise<unknown>;
}

/** A job just launched: `started` resolves with its first run id (or rejects when refused), `done` with its runs. */
export interface LaunchedJob {
  started: Promise<string>;
  done: Promise<EngineRunSummary[]>;
}

/** The push and the chantiers-back flow work on the same records: never at once. */
const CHANTIER_FLOWS: ReadonlySet<EngineFlow> = new Set<EngineFlow>(['push', 'chantiers-back']);
/** Two jobs that cannot run together here ('all' is push then hours; the import agent runs beside them). */
const conflicts = (a: EngineFlow, b: EngineFlow): boolean =>
  a === b || ((a === 'all' || b === 'all') && a !== 'imports' && b !== 'imports') || (CHANTIER_FLOWS.has(a) && CHANTIER_FLOWS.has(b));

/** The settings a runtime depends on: a change of any of them rebuilds it (after the running job). */
const connectionKey = (s: Settings): string => JSON.stringify([s.sqlServer, s.buffer, s.batisimply, s.mode, s.machineName]);

export class SyncJobs {
  private runtime: SyncRuntime | null = null;
  private building: Promise<SyncRuntime> | null = null;
  private builtFor = '';
  /** Jobs holding the current runtime: it is never closed under them. */
  private holders = 0;
  private disposed = false;
  private openError: string | null = null;
  private readonly active = new Set<ActiveRun>();
  /** Journal tags being written (runs.job_id), awaited before a run's end is announced. */
  private readonly tagging = new Map<string, Promise<void>>();
  private readonly log;
  /** Called with each job's status change (the schedule adds its next run). */
  onStatus: (lastRun: UiRunSummary | null) => void = () => undefined;

  constructor(
    private readonly ctx: AppContext,
    private readonly hooks?: SyncHooks,
  ) {
    this.log = ctx.logger.child({ feature: 'sync' });
  }

  // ------------------------------------------------------------------ runtime

  /** The buffer of the current settings (opened on first use, shared with the connection test). */
  buffer(): Promise<BufferStore> {
    return this.ctx.services.buffers.get(this.ctx.settings.get().buffer);
  }

  /** The buffer if already open (never waits for an embedded buffer to open). */
  openBuffer(): Promise<BufferStore | null> {
    return this.ctx.services.buffers.peek(this.ctx.settings.get().buffer);
  }

  /**
   * The runtime for the current settings (built on first use). `hold` = for a job: counted until
   * `release()`, so that a settings change never closes it under the job (it is rebuilt after).
   */
  async getRuntime(hold = false): Promise<SyncRuntime> {
    for (;;) {
      if (this.disposed) throw shuttingDownError();
      if (this.runtime) {
        if (this.builtFor === connectionKey(this.ctx.settings.get()) || this.holders > 0) {
          if (hold) this.holders++;
          return this.runtime;
        }
        await this.closeIfStale();
        continue;
      }
      this.building ??= this.build()
        .then((rt) => (this.runtime = rt))
        .finally(() => {
          this.building = null;
        });
      await this.building;
    }
  }

  private async release(): Promise<void> {
    this.holders--;
    await this.closeIfStale();
  }

  /** Why the buffer of the last runtime build could not be opened (null: it opened, or none tried yet). */
  lastOpenError(): string | null {
    return this.openError;
  }

  private async build(): Promise<SyncRuntime> {
    const s = this.ctx.settings.get();
    let store: BufferStore;
    try {
      store = await this.ctx.services.buffers.get(s.buffer);
      this.openError = null;
    } catch (e) {
      this.openError = toAppError(e).message;
      throw e;
    }
    // The buffer of older settings is closed once nothing runs on it any more.
    await this.ctx.services.buffers.closeOthers(s.buffer);
    const rt = await this.ctx.services.syncRuntime({ buffer: store, ...(this.hooks ? { hooks: this.hooks } : {}) });
    this.builtFor = connectionKey(s);
    rt.engine.events.on('finished', (summary: EngineRunSummary) => void this.announceEnd(rt, summary));
    return rt;
  }

  /** The current runtime closed for a rebuild, when stale and unused. */
  async closeIfStale(): Promise<void> {
    if (!this.runtime || this.holders > 0 || this.builtFor === connectionKey(this.ctx.settings.get())) return;
    const old = this.runtime;
    this.runtime = null;
    await old.close().catch((e: unknown) => this.log.warn('closing the sync runtime failed', { detail: toAppError(e).detail }));
  }

  // ------------------------------------------------------------------ jobs

  /** The run in progress shown by the dashboard (the latest started). */
  currentRun(): SyncStatus['running'] {
    let best: ActiveRun | null = null;
    for (const a of this.active) if (a.runId && !a.ended.has(a.runId) && (!best || (a.startedAt ?? '') > (best.startedAt ?? ''))) best = a;
    if (!best || !best.runId || !best.flow) return null;
    return { runId: best.runId, flow: best.flow, startedAt: best.startedAt ?? this.ctx.clock.now().toISOString(), progress: best.progress, requested: best.requested };
  }

  /** Flows running in this app (the scheduler skips a tick meanwhile). */
  runningFlows(): FlowName[] {
    return [...this.active].map((a) => a.flow ?? (a.requested === 'all' ? 'push' : a.requested));
  }

  /** Cancels the jobs holding `runId` (or all). */
  cancel(runId?: string): boolean {
    let cancelled = false;
    for (const a of this.active) {
      if (runId && !a.runIds.has(runId)) continue;
      a.controller.abort();
      cancelled = true;
    }
    return cancelled;
  }

  /** Starts a job through the engine (the licence is asked first). */
  launch(flow: EngineFlow, trigger: Trigger, extra: Pick<RunOptions, 'oncePerMs'> = {}): LaunchedJob {
    let resolveStarted!: (id: string) => void;
    let rejectStarted!: (e: unknown) => void;
    const started = new Promise<string>((res, rej) => {
      resolveStarted = res;
      rejectStarted = rej;
    });
    const run: ActiveRun = {
      requested: flow,
      jobId: flow === 'all' ? randomUUID() : null,
      controller: new AbortController(),
      runId: null,
      flow: null,
      startedAt: null,
      progress: null,
      runIds: new Set(),
      ended: new Set(),
      finished: false,
      done: Promise.resolve(),
    };
    const onProgress = this.progressRelay(run, resolveStarted);
    const done = this.execute(run, flow, trigger, onProgress, extra);
    run.done = done.catch(() => undefined);
    // Once the job is over (and out of `active`), say so: what waited for the end of a job may go on.
    void run.done.then(() => {
      if (!this.disposed) this.onStatus(null);
    });
    done.then(
      (summaries) => {
        for (const x of summaries) run.ended.add(x.runId);
        if (summaries[0]) resolveStarted(summaries[0].runId);
        else rejectStarted(cancelledError('Synchronisation', 'cancelled before its first run started'));
      },
      (e: unknown) => {
        rejectStarted(e);
        if (run.runIds.size > 0) {
          this.log.warn('sync run ended with an error after it started', { code: toAppError(e).code });
          this.onStatus(null);
        }
      },
    );
    return { started, done };
  }

  private async execute(run: ActiveRun, flow: EngineFlow, trigger: Trigger, onProgress: (e: ProgressEvent) => void, extra: Pick<RunOptions, 'oncePerMs'>): Promise<EngineRunSummary[]> {
    for (const a of this.active) {
      if (!a.finished && conflicts(a.requested, flow)) {
        throw new AppError('SYNC_ALREADY_RUNNING', 'Une synchronisation est déjà en cours sur ce poste. Attendez la fin de l’exécution ou annulez-la.');
      }
    }
    this.active.add(run);
    try {
      await this.ctx.services.licenceGuard().assertSyncAllowed();
      const rt = await this.getRuntime(true);
      try {
        return await rt.engine.run(flow, { signal: run.controller.signal, trigger, onProgress, ...extra });
      } finally {
        await this.release();
      }
    } finally {
      this.active.delete(run);
    }
  }

  /** Progress of a job → its state, the first run id, and 'sync:progress' events at most every 100 ms. */
  private progressRelay(run: ActiveRun, resolveStarted: (id: string) => void): (e: ProgressEvent) => void {
    let lastProgressEmit = 0;
    return (e) => {
      const isNew = run.runId !== e.runId;
      if (isNew) {
        run.runId = e.runId;
        run.flow = e.flow;
        run.startedAt = this.ctx.clock.now().toISOString();
        run.runIds.add(e.runId);
        resolveStarted(e.runId);
        if (run.jobId) this.tagJob(e.runId, run.jobId);
      }
      run.progress = e;
      if (isNew) this.onStatus(null);
      const now = Date.now();
      if (isNew || now - lastProgressEmit >= 100 || (e.total !== null && e.done >= e.total)) {
        lastProgressEmit = now;
        this.ctx.emit('sync:progress', e);
      }
    };
  }

  /** Tags a run of an 'all' job with the job id (the journal then shows the job's runs together). */
  private tagJob(runId: string, jobId: string): void {
    const p = this.buffer()
      .then((b) => b.setRunJob(runId, jobId))
      .catch((e: unknown) => this.log.warn('tagging a run with its job failed', { detail: toAppError(e).detail }))
      .finally(() => this.tagging.delete(runId));
    this.tagging.set(runId, p);
  }

  /** A run ended (engine event): announce it with its journal line. */
  private async announceEnd(rt: SyncRuntime, summary: EngineRunSummary): Promise<void> {
    await this.tagging.get(summary.runId);
    for (const a of this.active) {
      if (!a.runIds.has(summary.runId)) continue;
      a.ended.add(summary.runId);
      if (a.requested !== 'all' || summary.flow === 'hours') a.finished = true;
    }
    let last: UiRunSummary | null = null;
    try {
      const row = await rt.buffer.getRun(summary.runId);
      if (row) last = toUiRun(row);
    } catch (e) {
      this.log.warn('reading the finished run failed', { detail: toAppError(e).detail });
    }
    this.onStatus(last);
  }

  /** The journal lines of a job's runs (sync.run with `wait`). */
  async journalOf(summaries: EngineRunSummary[]): Promise<UiRunSummary[]> {
    const store = await this.buffer();
    const out: UiRunSummary[] = [];
    for (const s of summaries) {
      const row = await store.getRun(s.runId);
      if (row) out.push(toUiRun(row));
    }
    return out;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    for (const a of this.active) a.controller.abort();
    await Promise.all([...this.active].map((a) => a.done));
    if (this.building) await this.building.catch(() => undefined);
    const old = this.runtime;
    this.runtime = null;
    await old?.close().catch((e: unknown) => this.log.warn('closing the sync runtime failed', { detail: toAppError(e).detail }));
  }
}
