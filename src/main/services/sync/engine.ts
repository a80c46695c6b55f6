/**
 * The sync engine: runs the flows it is given (flows/index.ts: Batigest → BatiSimply, BatiSimply hours → Batigest)
 * through the buffer database. It owns the run: licence check, the flow's lease, the journal (one run row and its
 * items), cancellation, progress, checkpoints and in-run retries; each flow (FlowModule, flow.ts) only decides and
 * does its own reads and writes. Plain Node, no Electron: used by the app, the CLI, the demo and the tests.
 *
 * Crash safety (docs/crash-safety.md): every remote write is framed by a buffer intent written before
 * it and a buffer commit written after it, and every remote write is idempotent or preceded by a lookup,
 * so a run killed at any instant and started again converges to the right state.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ProgressEvent } from '../../../shared/domain.js';
import { AppError, toAppError } from '../../../shared/errors.js';
import { SOFTWARE_LABELS, type Settings } from '../../../shared/settings.js';
import type { BufferStore } from '../buffer/store.js';
import type { BatigestPort, BatisimplyPort, Clock, ImportsPorts, Logger } from '../ports.js';
import type { FlowContext, FlowModule } from './flow.js';
import { engineText } from './journal-text.js';
import { FlowLease, localProcessProbe, type LeaseTimers, type ProcessProbe } from './lease.js';
import { emptyCounts, type CheckpointName, type FlowName, type RunCounts, type RunItemInput, type RunOptions, type RunStatus, type RunSummary, type SyncHooks } from './model.js';
import { isRetryable, realSleep, withRetry, type Sleep } from './retry.js';

export type { CheckpointName, RunOptions, RunSummary, SyncHooks } from './model.js';
export { isStaleLocalLease, localProcessProbe, type ProcessProbe } from './lease.js';

export interface SyncEngineDeps {
  /** The flows this engine runs, in the order of `run('all')` (createSyncFlows() in flows/index.ts). */
  flows: readonly FlowModule[];
  batigest: BatigestPort;
  batisimply: BatisimplyPort;
  buffer: BufferStore;
  /** The import agent's ports (flow 'imports'). */
  imports?: ImportsPorts;
  settings: () => Settings;
  clock: Clock;
  logger: Logger;
  licence?: { assertSyncAllowed(): Promise<unknown> };
  machineName: string;
  hooks?: SyncHooks;
  sleep?: Sleep;
  /** Backoff base of in-run retries (ms). */
  retryBaseMs?: number;
  retryAttempts?: number;
  /** Lease duration; renewed by a heartbeat every third of it, and before each external write. */
  leaseTtlMs?: number;
  /** Timers of the lease heartbeat (time-scaled tests). */
  timers?: LeaseTimers;
  /** This process's id and a liveness probe for other pids on this PC (lease takeover after a crash). */
  processProbe?: ProcessProbe;
  /**
   * Leases held by the engines of this process (`flow holder`). Pass the SAME set to every engine of the
   * process (the composition root owns it): it tells a lease of our own pid left by an engine instance that
   * no longer runs the flow (taken over) from one still running (kept). Without it, a lease of our own pid
   * is never taken over: it waits for its expiry.
   */
  localLeases?: Set<string>;
}

/** How a run ended, before it is journaled. */
interface RunEnd {
  status: RunStatus;
  errorCode: string | null;
  message: string;
}

export class SyncEngine {
  readonly events = new EventEmitter();
  private readonly active = new Map<FlowName, AbortController>();
  private readonly instanceId = randomUUID();
  private readonly sleep: Sleep;
  private readonly flows: ReadonlyMap<FlowName, FlowModule>;

  constructor(private readonly d: SyncEngineDeps) {
    this.sleep = d.sleep ?? realSleep;
    this.flows = new Map(d.flows.map((f) => [f.name, f]));
    if (this.flows.size !== d.flows.length) throw new AppError('INTERNAL', engineText.unexpected, { detail: `two flows registered under one name: ${d.flows.map((f) => f.name).join(', ')}` });
  }

  /** Flows running in this process. */
  get running(): FlowName[] {
    return [...this.active.keys()];
  }

  /** Runs one flow, or every flow in order ('all': the next flow runs even if one failed; stops when cancelled). */
  async run(flow: FlowName | 'all', opts: RunOptions = {}): Promise<RunSummary[]> {
    if (flow !== 'all') return [await this.runFlow(flow, opts)];
    const out: RunSummary[] = [];
    let done: AppError | null = null;
    for (const f of this.d.flows) {
      if (f.inAll === false) continue;
      if (out.length > 0 && opts.signal?.aborted) break;
      // An opt-in flow that is off is not part of « Tout synchroniser » (no run, no journal line).
      if (f.enabled && !f.enabled(this.d.settings())) continue;
      try {
        out.push(await this.runFlow(f.name, opts));
      } catch (e) {
        // A flow already run in this interval by some PC of the buffer: the next flow may still be due.
        if (!(e instanceof AppError && e.code === 'SYNC_ALREADY_DONE')) throw e;
        done = e;
      }
    }
    if (out.length === 0 && done) throw done;
    return out;
  }

  /**
   * Runs one flow. Throws (no run recorded) for: licence refused, flow already running here or on
   * another PC (lease), buffer unreachable. Everything else ends in a journaled run whose status says it.
   */
  async runFlow(name: FlowName, opts: RunOptions = {}): Promise<RunSummary> {
    if (this.d.licence) await this.d.licence.assertSyncAllowed();
    const flow = this.flows.get(name);
    if (!flow) throw new AppError('INVALID_INPUT', engineText.unknownFlow(name));
    if (this.active.has(name)) throw new AppError('SYNC_ALREADY_RUNNING', engineText.alreadyRunningHere(flow.label(this.softwareLabel())));
    const inner = new AbortController();
    this.active.set(name, inner);
    const onOuterAbort = (): void => inner.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (opts.signal?.aborted) inner.abort();
    try {
      return await this.runLocked(flow, { ...opts, signal: inner.signal }, inner);
    } finally {
      opts.signal?.removeEventListener('abort', onOuterAbort);
      this.active.delete(name);
    }
  }

  /** Cancels the runs of this process (all flows, or one). */
  cancel(flow?: FlowName): void {
    for (const [f, c] of this.active) if (!flow || f === flow) c.abort();
  }

  /** 'Sage Batigest' or 'Codial' (settings.software), for labels and journal messages. */
  private softwareLabel(settings: Settings = this.d.settings()): string {
    return SOFTWARE_LABELS[settings.software] ?? SOFTWARE_LABELS.batigest;
  }

  /** `${machine}#${pid}#${instance}`: the pid lets a restart on the same PC take over the lease of a dead process. */
  private get holder(): string {
    return `${this.d.machineName}#${(this.d.processProbe ?? localProcessProbe).pid}#${this.instanceId}`;
  }

  private leaseFor(flow: FlowName): FlowLease {
    const { buffer, clock, logger, machineName, localLeases, timers } = this.d;
    const probe = this.d.processProbe ?? localProcessProbe;
    const deps = { buffer, clock, logger, machineName, holder: this.holder, ttlMs: this.d.leaseTtlMs ?? 120_000, probe };
    return new FlowLease({ ...deps, ...(localLeases ? { localLeases } : {}), ...(timers ? { timers } : {}) }, flow);
  }

  /**
   * A scheduled run (`oncePerMs`: the schedule's interval) of a flow whose scheduled run already ended in this
   * interval on any PC of the buffer is not run again: several PCs with the schedule on run each flow once per interval in
   * total. Checked while holding the lease, so two PCs cannot both find the interval free.
   */
  private async assertDue(flow: FlowModule, lease: FlowLease, opts: RunOptions): Promise<void> {
    if (!opts.oncePerMs) return;
    const now = this.d.clock.now().getTime();
    const since = new Date(now - (now % opts.oncePerMs));
    const done = await this.d.buffer.lastDoneSince(flow.name, since).catch(async (e: unknown) => {
      await lease.release();
      throw e;
    });
    if (!done) return;
    await lease.release();
    throw new AppError('SYNC_ALREADY_DONE', engineText.alreadyDone(flow.label(this.softwareLabel()), done.machine), { detail: `run ${done.id} started ${done.started_at.toISOString()}` });
  }

  private async runLocked(flow: FlowModule, opts: RunOptions, controller: AbortController): Promise<RunSummary> {
    const { clock } = this.d;
    const signal = controller.signal;
    const runId = randomUUID();
    const lease = this.leaseFor(flow.name);
    await lease.acquire(runId, () => flow.label(this.softwareLabel()));
    await this.assertDue(flow, lease, opts);
    // Fencing: every buffer write of this run checks the lease's generation in its own transaction.
    const buffer = this.d.buffer.fenced(lease.fence());
    lease.onLost = () => controller.abort();
    lease.startHeartbeat();
    const settings = this.d.settings();
    const startedAt = clock.now();
    lease.renewedAt(startedAt.getTime());
    const counts = emptyCounts();
    const items: RunItemInput[] = [];
    const log = this.d.logger.child({ runId, flow: flow.name });
    let end: RunEnd;
    try {
      await buffer.markInterrupted(flow.name, runId, startedAt);
      await buffer.startRun({ id: runId, flow: flow.name, machine: this.d.machineName, trigger: opts.trigger ?? 'manual', now: startedAt, mode: flow.runMode?.(settings) ?? null });
      const ctx = this.context(flow.name, runId, settings, signal, counts, items, lease, buffer, opts);
      await this.checkpoint('run:started', runId);
      log.info('sync run started', { machine: this.d.machineName });
      const outcome = await flow.run(ctx);
      const status = counts.failed > 0 || outcome.leftUndone ? 'partial' : 'succeeded';
      end = { status, errorCode: null, message: outcome.message };
    } catch (e) {
      // Lease taken over (heartbeat, a fenced write, or found now: a failure after a freeze is usually that one),
      // whatever the flow was doing when it noticed, it is that.
      if (!lease.lost && !(e instanceof AppError && e.code === 'CANCELLED')) await lease.confirm().catch(() => undefined);
      const err = lease.lost ?? toAppError(e, engineText.unexpected);
      end = { status: err.code === 'CANCELLED' ? 'cancelled' : 'failed', errorCode: err.code, message: err.message };
      if (err.code !== 'CANCELLED') log.error('sync run failed', { code: err.code, detail: err.detail });
    }
    lease.stopHeartbeat();
    const endedAt = clock.now();
    await this.journal(runId, end, counts, items, endedAt, log);
    await lease.release();
    const summary: RunSummary = { runId, flow: flow.name, machine: this.d.machineName, ...end, startedAt: startedAt.toISOString(), endedAt: endedAt.toISOString(), counts };
    this.events.emit('finished', summary);
    log.info('sync run finished', { status: end.status, ...counts });
    return summary;
  }

  /**
   * Closes the run in the journal. Retried as a whole (one transaction) when the buffer connection was just lost:
   * the journal of a run that failed because of the buffer is exactly what must not be lost. Not cancellable.
   */
  private async journal(runId: string, end: RunEnd, counts: RunCounts, items: RunItemInput[], now: Date, log: Logger): Promise<void> {
    try {
      await withRetry(() => this.d.buffer.closeRun({ id: runId, ...end, counts, now }, items), {
        attempts: this.d.retryAttempts ?? 3,
        baseMs: this.d.retryBaseMs ?? 500,
        sleep: this.sleep,
        onRetry: (attempt, e) => log.warn('retrying the journal write', { attempt, code: toAppError(e).code }),
      });
    } catch (e) {
      log.error('journal write failed', { detail: toAppError(e).detail });
    }
  }

  /** What a flow's run sees of the engine (flow.ts). */
  private context(flow: FlowName, runId: string, settings: Settings, signal: AbortSignal, counts: RunCounts, items: RunItemInput[], lease: FlowLease, buffer: BufferStore, opts: RunOptions): FlowContext {
    const { batigest, batisimply, clock, logger } = this.d;
    let lastPersist = 0;
    return {
      runId,
      settings,
      sw: this.softwareLabel(settings),
      signal,
      ports: { batigest, batisimply, buffer, clock, logger, ...(this.d.imports ? { imports: this.d.imports } : {}) },
      counts,
      journal: items,
      progress: async (phase, label, done, total, current) => {
        const ev: ProgressEvent = { runId, flow, phase, label, done, total, current, counts: { ...counts } };
        opts.onProgress?.(ev);
        this.events.emit('progress', ev);
        const nowMs = clock.now().getTime();
        await lease.renewIfDue(nowMs);
        if (nowMs - lastPersist > 2000) {
          lastPersist = nowMs;
          await buffer.updateRunCounts(runId, counts);
        }
      },
      checkpoint: (name, key) => this.checkpoint(name, runId, key),
      confirmLease: () => lease.confirm(),
      retry: (fn) => this.retry(signal, fn),
      // The real client already retried transient errors (maxRetries, backoff, Retry-After): retrying again here
      // would multiply the requests (3 × 3 on a persistent 503), so one attempt then.
      retryBatisimply: (fn) => this.retry(signal, fn, batisimply.retriesInternally ? 1 : undefined),
    };
  }

  private async checkpoint(name: CheckpointName, runId: string, key?: string): Promise<void> {
    await this.d.hooks?.checkpoint?.(name, { runId, key });
  }

  /** In-run retries of SQL Server / buffer calls (deadlocks, timeouts) and of BatiSimply test doubles. */
  private retry<T>(signal: AbortSignal, fn: () => Promise<T>, attempts = this.d.retryAttempts ?? 3): Promise<T> {
    return withRetry(fn, {
      attempts,
      baseMs: this.d.retryBaseMs ?? 500,
      signal,
      sleep: this.sleep,
      onRetry: (attempt, e) => this.d.logger.warn('retrying after a transient error', { attempt, code: toAppError(e).code }),
    });
  }
}

export { isRetryable };
