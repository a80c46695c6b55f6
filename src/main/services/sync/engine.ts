/**
 * The sync engine: Batigest → BatiSimply (chantiers or devis) and BatiSimply → Batigest (hours),
 * through the buffer database. Plain Node, no Electron: used by the app, the CLI, the demo and the tests.
 *
 * Crash safety (docs/crash-safety.md): every remote write is framed by a buffer intent written before
 * it and a buffer commit written after it, and every remote write is idempotent or preceded by a lookup,
 * so a run killed at any instant and started again converges to the right state.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ChantierSource, DevisSource, Project, ProgressEvent, Salarie, SuiviMoOp, SuiviMoRow, TimeSlot } from '../../../shared/domain.js';
import { AppError, toAppError } from '../../../shared/errors.js';
import { SOFTWARE_LABELS, type Settings } from '../../../shared/settings.js';
import type { BatigestPort, BatisimplyPort, Clock, Logger, RejectedTimeSlot, SkippedSourceRow } from '../ports.js';
import {
  keyString,
  type BufferStore,
  type FlowName,
  type KeyRef,
  type LeaseRow,
  type RecordKind,
  type RecordRow,
  type RunCounts,
  type RunItemInput,
  type RunStatus,
  type SlotBrief,
  type SlotKeyRow,
  type SlotState,
  type SlotUpsert,
  type WrittenRow,
} from '../buffer/store.js';
import {
  assertTimeZone,
  localDay,
  mapChantier,
  mapDevis,
  normaliseCode,
  projectHash,
  slotHash,
  stableStringify,
  userDisplayName,
  type Mapped,
} from './mapping.js';
import { cancelledError, isRecordLevel, isRetryable, realSleep, reasonOf, throwIfCancelled, withRetry, type Sleep } from './retry.js';

/** Named points where tests can pause or kill the process (crash tests). */
export type CheckpointName =
  | 'run:started'
  | 'push:before-remote'
  | 'push:after-remote'
  | 'push:after-commit'
  | 'hours:after-intent'
  | 'hours:before-remote'
  | 'hours:after-remote'
  | 'hours:after-commit';

export interface SyncHooks {
  checkpoint?(name: CheckpointName, detail: { runId: string; key?: string }): void | Promise<void>;
}

export interface SyncEngineDeps {
  batigest: BatigestPort;
  batisimply: BatisimplyPort;
  buffer: BufferStore;
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
  /** Lease duration; renewed while the run progresses. */
  leaseTtlMs?: number;
  /** This process's id and a liveness probe for other pids on this PC (lease takeover after a crash). */
  processProbe?: ProcessProbe;
  /**
   * Leases held by the engines of this process (`flow holder`). Pass the SAME set to every engine of the
   * process (the composition root owns it): it tells a lease of our own pid left by an engine instance that
   * no longer runs the flow (taken over) from one still running (kept). Without it, a lease of our own pid
   * is never taken over: it waits for its expiry.
   */
  localLeases?: Set<string>;
  /** SuiviMO ops per applySuiviMo call. */
  suiviMoBatchSize?: number;
  /** Local days per segment of the hours window (default 31): bounds the slots held in memory at once. */
  hoursSegmentDays?: number;
}

/** The current process id, and whether another process of this PC is alive. */
export interface ProcessProbe {
  pid: number;
  isAlive(pid: number): boolean;
}

/** A pid is dead when signal 0 says ESRCH; any other answer (EPERM: another user's process) means alive. */
export const localProcessProbe: ProcessProbe = {
  pid: process.pid,
  isAlive(pid) {
    try {
      process.kill(pid, 0);
      return true;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code !== 'ESRCH';
    }
  },
};

const leaseKey = (flow: FlowName, holder: string): string => `${flow} ${holder}`;

/**
 * Whether a lease row was left by a process of this PC that is gone: holder `${machine}#${pid}#${instance}`
 * on our machine, and that pid is dead, or is ours with an engine instance not running the flow any more.
 * Holders of another PC, or in an older format without pid, are never stale here (they wait for expiry).
 */
export function isStaleLocalLease(lease: { flow: string; holder: string; machine: string }, machine: string, probe: ProcessProbe, heldHere?: ReadonlySet<string>): boolean {
  if (lease.machine !== machine || !lease.holder.startsWith(`${machine}#`)) return false;
  const parts = lease.holder.slice(machine.length + 1).split('#');
  if (parts.length !== 2 || !/^\d+$/.test(parts[0] ?? '') || !parts[1]) return false;
  const pid = Number(parts[0]);
  if (pid === probe.pid) return heldHere ? !heldHere.has(leaseKey(lease.flow as FlowName, lease.holder)) : false;
  return !probe.isAlive(pid);
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  trigger?: 'manual' | 'schedule' | 'cli' | 'demo';
}

export interface RunSummary {
  runId: string;
  flow: FlowName;
  machine: string;
  status: RunStatus;
  startedAt: string;
  endedAt: string;
  counts: RunCounts;
  /** Operations sent to the remote side (BatiSimply POST/PUT, SuiviMO ops). */
  errorCode: string | null;
  message: string;
}

const emptyCounts = (): RunCounts => ({ created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, conflicts: 0, writes: 0 });

/** The flow's name for the user, with the software's own name (Sage Batigest or Codial). */
const flowLabel = (flow: FlowName, sw: string): string => (flow === 'push' ? 'Envoi des chantiers/devis vers BatiSimply' : `Import des heures vers ${sw}`);

interface RunCtx {
  runId: string;
  flow: FlowName;
  signal?: AbortSignal;
  counts: RunCounts;
  items: RunItemInput[];
  emit: (phase: string, label: string, done: number, total: number | null, current: string | null) => Promise<void>;
  settings: Settings;
  /** The software's name for the user: 'Sage Batigest' or 'Codial'. */
  sw: string;
  /** What the run leaves aside, for its status and message (see runNote). */
  left: LeftAside;
}

/** Validated hours left unwritten (hours flow) and source rows ignored for want of a code or name (push). */
interface LeftAside {
  unmappedSlots: number;
  unknownSlots: number;
  pendingMinutes: number;
  noCode: number;
  noName: number;
}

/** A desired SuiviMO contribution of one slot. */
interface Contribution {
  code_chantier: string;
  code_salarie: string;
  day: string;
  minutes: number;
  trajet: number;
  panier: number;
}

const sameContribution = (a: Contribution | undefined, b: Contribution | null): boolean =>
  (!a && !b) ||
  (!!a &&
    !!b &&
    a.code_chantier === b.code_chantier &&
    a.code_salarie === b.code_salarie &&
    a.day === b.day &&
    a.minutes === b.minutes &&
    a.trajet === b.trajet &&
    a.panier === b.panier);

/** A gateway message names "Batigest": say the software the user has (Codial shares its tables). */
const inSoftware = (text: string, sw: string): string => (sw === SOFTWARE_LABELS.batigest ? text : text.replace(/(Sage )?Batigest/g, sw));

const keyOf = (c: Contribution): KeyRef => ({ codeChantier: c.code_chantier, codeSalarie: c.code_salarie, day: c.day });

/** One listed slot that changes something in the buffer (or a deleted one: `slot` null). */
type SlotChange = { slot: TimeSlot | null; slotId: string; prev: SlotBrief | undefined; state: SlotState; reason: string | null; desired: Contribution | null; keepMapping: boolean };

/** What the segments of one hours run share: the slot → key map and the written rows, kept in step with the buffer. */
interface HoursState {
  keysMap: Map<string, SlotKeyRow>;
  written: Map<string, WrittenRow>;
  /** Keys left dirty by an interrupted run are recomputed with the first segment that writes. */
  dirtyDone: boolean;
}

/**
 * Splits [start, end] into segments of whole local days in `tz` (inner bounds at local midnight), so that the
 * slots of one SuiviMO key (one local day) are normally listed in the same segment. (In a zone whose clocks go
 * back across midnight, a key may span two segments: still right, see hoursFlow, just written twice.)
 */
export function localDaySegments(start: Date, end: Date, tz: string, days: number): { start: Date; end: Date }[] {
  const out: { start: Date; end: Date }[] = [];
  let from = start.getTime();
  const stop = end.getTime();
  while (from < stop) {
    // The local midnight after `days` − 1.5 days: segments of `days` − 1.5 to `days` − 0.5 days (one day at
    // least), so that a segment of 31 days fits one listing request of the client (31-day chunks).
    const to = localMidnightAfter(Math.max(from, from + (Math.max(1, days) - 1.5) * 86_400_000), tz);
    if (to >= stop) {
      out.push({ start: new Date(from), end: new Date(stop) });
      break;
    }
    out.push({ start: new Date(from), end: new Date(to) });
    from = to;
  }
  return out;
}

/** The first instant, strictly after `t`, whose local day in `tz` differs from t's: the next local midnight. */
function localMidnightAfter(t: number, tz: string): number {
  const day = localDay(new Date(t).toISOString(), tz);
  // Local midnights fall on whole minutes (UTC offsets are whole quarters of an hour): search on whole minutes.
  let lo = Math.floor(t / 60_000) * 60_000;
  let hi = lo + 26 * 3_600_000;
  while (hi - lo > 60_000) {
    const mid = lo + Math.floor((hi - lo) / 2 / 60_000) * 60_000;
    if (localDay(new Date(mid).toISOString(), tz) === day) lo = mid;
    else hi = mid;
  }
  return hi;
}

export class SyncEngine {
  readonly events = new EventEmitter();
  private readonly active = new Map<FlowName, AbortController>();
  private readonly instanceId = randomUUID();
  private readonly sleep: Sleep;

  constructor(private readonly d: SyncEngineDeps) {
    this.sleep = d.sleep ?? realSleep;
  }

  /** Flows running in this process. */
  get running(): FlowName[] {
    return [...this.active.keys()];
  }

  /** Runs one flow, or both ('all': push then hours, the hours flow runs even if push failed). */
  async run(flow: FlowName | 'all', opts: RunOptions = {}): Promise<RunSummary[]> {
    if (flow === 'all') {
      const out: RunSummary[] = [];
      out.push(await this.runFlow('push', opts));
      if (opts.signal?.aborted) return out;
      out.push(await this.runFlow('hours', opts));
      return out;
    }
    return [await this.runFlow(flow, opts)];
  }

  /**
   * Runs one flow. Throws (no run recorded) for: licence refused, flow already running here or on
   * another PC (lease), buffer unreachable. Everything else ends in a journaled run whose status says it.
   */
  async runFlow(flow: FlowName, opts: RunOptions = {}): Promise<RunSummary> {
    if (this.d.licence) await this.d.licence.assertSyncAllowed();
    if (this.active.has(flow)) {
      throw new AppError('SYNC_ALREADY_RUNNING', `La synchronisation « ${flowLabel(flow, this.softwareLabel())} » est déjà en cours sur ce poste. Attendez la fin de l'exécution.`);
    }
    const inner = new AbortController();
    this.active.set(flow, inner);
    const onOuterAbort = (): void => inner.abort();
    opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
    if (opts.signal?.aborted) inner.abort();
    try {
      return await this.runLocked(flow, { ...opts, signal: inner.signal });
    } finally {
      opts.signal?.removeEventListener('abort', onOuterAbort);
      this.active.delete(flow);
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

  /** Takes the flow's lease; a lease left on this PC by a dead process is taken over at once (not after expiry). */
  private async acquireLease(flow: FlowName, runId: string): Promise<{ acquired: boolean; lease: LeaseRow | null }> {
    const { buffer, clock, machineName } = this.d;
    const req = { flow, holder: this.holder, machine: machineName, runId, ttlMs: this.leaseTtl() };
    let lease = await buffer.acquireLease({ ...req, now: clock.now() });
    if (!lease.acquired && lease.lease && isStaleLocalLease(lease.lease, machineName, this.d.processProbe ?? localProcessProbe, this.d.localLeases)) {
      const taken = await buffer.takeOverLease({ ...req, fromHolder: lease.lease.holder, now: clock.now() });
      if (taken) {
        this.d.logger.info('lease taken over from a process of this PC that is gone', { flow, from: lease.lease.holder });
        lease = { acquired: true, lease: taken };
      } else {
        lease = await buffer.acquireLease({ ...req, now: clock.now() });
      }
    }
    if (lease.acquired) this.d.localLeases?.add(leaseKey(flow, this.holder));
    return lease;
  }

  private leaseTtl(): number {
    return this.d.leaseTtlMs ?? 120_000;
  }

  private async runLocked(flow: FlowName, opts: RunOptions): Promise<RunSummary> {
    const { buffer, clock, logger } = this.d;
    const runId = randomUUID();
    const lease = await this.acquireLease(flow, runId);
    if (!lease.acquired) {
      const who = lease.lease?.machine ?? 'un autre poste';
      const until = lease.lease?.expires_at.toISOString() ?? '';
      throw new AppError('BUFFER_LOCKED', `Le flux « ${flowLabel(flow, this.softwareLabel())} » est déjà en cours sur le poste ${who}. Il sera repris automatiquement si ce poste ne répond plus.`, {
        detail: `lease held by ${lease.lease?.holder ?? '?'} until ${until}`,
      });
    }
    const settings = this.d.settings();
    const startedAt = clock.now();
    const counts = emptyCounts();
    const items: RunItemInput[] = [];
    let lastRenew = startedAt.getTime();
    let lastPersist = 0;
    let status: RunStatus;
    let errorCode: string | null = null;
    let message: string;
    const log = logger.child({ runId, flow });
    const left: LeftAside = { unmappedSlots: 0, unknownSlots: 0, pendingMinutes: 0, noCode: 0, noName: 0 };
    const sw = this.softwareLabel(settings);
    try {
      await buffer.markInterrupted(flow, runId, startedAt);
      await buffer.startRun({ id: runId, flow, machine: this.d.machineName, trigger: opts.trigger ?? 'manual', now: startedAt, mode: flow === 'push' ? settings.mode : null });
      const ctx: RunCtx = {
        runId,
        flow,
        signal: opts.signal,
        counts,
        items,
        settings,
        sw,
        left,
        emit: async (phase, label, done, total, current) => {
          const ev: ProgressEvent = { runId, flow, phase, label, done, total, current, counts: { ...counts } };
          opts.onProgress?.(ev);
          this.events.emit('progress', ev);
          const nowMs = clock.now().getTime();
          if (nowMs - lastRenew > this.leaseTtl() / 3) {
            lastRenew = nowMs;
            const ok = await buffer.renewLease({ flow, holder: this.holder, now: clock.now(), ttlMs: this.leaseTtl() });
            if (!ok) {
              throw new AppError('BUFFER_LOCKED', "Le verrou de synchronisation a été repris par un autre poste : exécution arrêtée. Elle reprendra au prochain passage.");
            }
          }
          if (nowMs - lastPersist > 2000) {
            lastPersist = nowMs;
            await buffer.updateRunCounts(runId, counts);
          }
        },
      };
      await this.checkpoint('run:started', runId);
      log.info('sync run started', { machine: this.d.machineName });
      if (flow === 'push') await this.pushFlow(ctx);
      else await this.hoursFlow(ctx);
      // Validated hours that wait for a salarié mapping or a chantier are work left undone: 'partial'.
      status = counts.failed > 0 || left.unmappedSlots + left.unknownSlots > 0 ? 'partial' : 'succeeded';
      message = summaryMessage(flow, counts) + runNote(flow, left, sw);
    } catch (e) {
      const err = toAppError(e, 'La synchronisation a échoué de façon inattendue. Consultez le journal technique et relancez.');
      errorCode = err.code;
      if (err.code === 'CANCELLED') {
        status = 'cancelled';
        message = err.message;
      } else {
        status = 'failed';
        message = err.message;
        log.error('sync run failed', { code: err.code, detail: err.detail });
      }
    }
    const endedAt = clock.now();
    try {
      // Retried as a whole (one transaction) when the buffer connection was just lost: the journal of a run
      // that failed because of the buffer is exactly what must not be lost. Not cancellable.
      await withRetry(() => buffer.closeRun({ id: runId, status, counts, errorCode, message, now: endedAt }, items), {
        attempts: this.d.retryAttempts ?? 3,
        baseMs: this.d.retryBaseMs ?? 500,
        sleep: this.sleep,
        onRetry: (attempt, e) => log.warn('retrying the journal write', { attempt, code: toAppError(e).code }),
      });
    } catch (e) {
      log.error('journal write failed', { detail: toAppError(e).detail });
    }
    await buffer.releaseLease(flow, this.holder).catch(() => undefined);
    this.d.localLeases?.delete(leaseKey(flow, this.holder));
    const summary: RunSummary = {
      runId,
      flow,
      machine: this.d.machineName,
      status,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      counts,
      errorCode,
      message,
    };
    this.events.emit('finished', summary);
    log.info('sync run finished', { status, ...counts });
    return summary;
  }

  private async checkpoint(name: CheckpointName, runId: string, key?: string): Promise<void> {
    await this.d.hooks?.checkpoint?.(name, { runId, key });
  }

  /** In-run retries of SQL Server / buffer calls (deadlocks, timeouts) and of BatiSimply test doubles. */
  private retry<T>(ctx: RunCtx, fn: () => Promise<T>, attempts = this.d.retryAttempts ?? 3): Promise<T> {
    return withRetry(fn, {
      attempts,
      baseMs: this.d.retryBaseMs ?? 500,
      signal: ctx.signal,
      sleep: this.sleep,
      onRetry: (attempt, e) => this.d.logger.warn('retrying after a transient error', { attempt, code: toAppError(e).code }),
    });
  }

  /**
   * BatiSimply calls: the real client already retried transient errors (maxRetries, backoff, Retry-After),
   * so retrying again here would multiply the requests (3 × 3 on a persistent 503): one attempt then.
   */
  private retryBs<T>(ctx: RunCtx, fn: () => Promise<T>): Promise<T> {
    return this.retry(ctx, fn, this.d.batisimply.retriesInternally ? 1 : (this.d.retryAttempts ?? 3));
  }

  // =================================================================== push flow

  private async pushFlow(ctx: RunCtx): Promise<void> {
    const { buffer, batigest, batisimply, clock } = this.d;
    const mode = ctx.settings.mode;
    if (mode !== 'chantier' && mode !== 'devis') {
      throw new AppError('SYNC_MODE_GUARD', 'Mode de synchronisation inconnu : choisissez « chantier » ou « devis » dans les réglages.');
    }
    const kind: RecordKind = mode;
    const defaults = ctx.settings.batisimply.project;
    const records = await buffer.loadRecords(kind);
    batisimply.clearCache?.();

    // 1. Read Batigest, page by page (mode guard: only the table of the configured mode is read).
    await ctx.emit('read', kind === 'chantier' ? `Lecture des chantiers ${ctx.sw}` : `Lecture des devis ${ctx.sw}`, 0, null, null);
    const mapped: { m: Mapped; modified: Date | null }[] = [];
    // Rows the gateway cannot key (no code) are reported, not silently dropped.
    let noCode = 0;
    const onSkip = (r: SkippedSourceRow): void => {
      ctx.counts.skipped++;
      ctx.left.noCode++;
      ctx.items.push({ recordKey: `${kind}:${r.code ?? `(sans code, ligne ${++noCode})`}`, action: 'skipped', reason: inSoftware(r.reason, ctx.sw) });
    };
    const pages = kind === 'chantier' ? batigest.readChantiers({ signal: ctx.signal, onSkip }) : batigest.readDevis({ signal: ctx.signal, onSkip });
    for await (const page of pages as AsyncIterable<(ChantierSource | DevisSource)[]>) {
      throwIfCancelled(ctx.signal);
      for (const row of page) {
        const m = kind === 'chantier' ? mapChantier(row as ChantierSource, defaults, ctx.sw) : mapDevis(row as DevisSource, defaults, ctx.sw);
        mapped.push({ m, modified: parseDate(row.dateModif) });
      }
      await ctx.emit('read', `Lecture ${ctx.sw}`, mapped.length, null, null);
    }

    // 2. Compare with the buffer: only new or changed records are worked on.
    const work: { code: string; name: string; input: Mapped & { ok: true }; hash: string; rec: RecordRow | undefined; modified: Date | null }[] = [];
    const seen = new Set<string>();
    const unchanged: string[] = [];
    let anonymous = 0;
    for (const { m, modified } of mapped) {
      if (!m.ok) {
        ctx.counts.skipped++;
        if (m.missing === 'code') ctx.left.noCode++;
        else if (m.missing === 'name') ctx.left.noName++;
        const key = m.code ? `${kind}:${m.code}` : `${kind}:(sans code ${++anonymous})`;
        ctx.items.push({ recordKey: key, action: 'skipped', reason: m.reason });
        continue;
      }
      if (seen.has(m.code)) {
        ctx.counts.skipped++;
        ctx.items.push({ recordKey: `${kind}:${m.code}`, action: 'skipped', reason: `Code ${m.code} présent plusieurs fois dans ${ctx.sw} : seule la première ligne est envoyée.` });
        continue;
      }
      seen.add(m.code);
      const hash = projectHash(m.input);
      const rec = records.get(m.code);
      if (rec && rec.batisimply_id && rec.intent === null && rec.pushed_hash === hash) {
        unchanged.push(m.code);
        continue;
      }
      work.push({ code: m.code, name: m.name, input: m, hash, rec, modified });
    }
    throwIfCancelled(ctx.signal);
    ctx.counts.unchanged += unchanged.length;
    await buffer.touchRecords(kind, unchanged, clock.now());
    const total = work.length;
    await ctx.emit('push', 'Envoi vers BatiSimply', 0, total, null);
    if (total === 0) return;

    // 3. One listing of the BatiSimply projects per run: adoption by code (empty buffer) and conflicts.
    const remote = await this.retryBs(ctx, () => batisimply.listProjects({ signal: ctx.signal }));
    const byCode = new Map<string, Project>();
    const byId = new Map<string, Project>();
    for (const p of remote) {
      byId.set(p.id, p);
      const c = normaliseCode(p.projectCode);
      if (c && !byCode.has(c)) byCode.set(c, p);
    }

    // Bounded concurrency (settings.batisimply.concurrency): each record follows the intent → write → commit
    // protocol on its own, so records in flight together stay crash-safe. The first fatal error stops the
    // others from starting; the ones in flight finish (or fail) before the run ends.
    const workers = Math.max(1, Math.min(16, ctx.settings.batisimply.concurrency));
    let done = 0;
    let next = 0;
    let fatal: unknown = null;
    const worker = async (): Promise<void> => {
      while (fatal === null) {
        const w = work[next++];
        if (!w) return;
        try {
          throwIfCancelled(ctx.signal);
          try {
            await this.pushOne(ctx, kind, w, byCode, byId);
          } catch (e) {
            if (e instanceof AppError && e.code === 'CANCELLED') throw e;
            const recordLevel = isRecordLevel(e);
            // A transient BatiSimply error that outlived the client's own retries: this record fails (journaled,
            // retried next run) and the run stops, so an unavailable server is not asked again for every record.
            const exhausted = !recordLevel && isRetryable(e) && e instanceof AppError && e.code.startsWith('BS_');
            if (!recordLevel && !exhausted) throw e;
            ctx.counts.failed++;
            const reason = `${w.name} (${w.code}) : ${reasonOf(e)} Nouvel essai au prochain passage.`;
            ctx.items.push({ recordKey: `${kind}:${w.code}`, action: 'failed', reason });
            await buffer.recordError({ kind, code: w.code, name: w.name, hash: w.hash, error: reasonOf(e), now: clock.now() });
            if (exhausted) throw e;
          }
          done++;
          await ctx.emit('push', 'Envoi vers BatiSimply', done, total, w.code);
        } catch (e) {
          fatal ??= e;
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(workers, work.length) }, worker));
    if (fatal !== null) throw fatal;
  }

  private async pushOne(
    ctx: RunCtx,
    kind: RecordKind,
    w: { code: string; name: string; input: Mapped & { ok: true }; hash: string; rec: RecordRow | undefined; modified: Date | null },
    byCode: Map<string, Project>,
    byId: Map<string, Project>,
  ): Promise<void> {
    const { buffer, batisimply, clock } = this.d;
    const key = `${kind}:${w.code}`;
    const input = w.input.input;
    const commit = async (id: string, remoteModified: Date | null): Promise<void> => {
      await buffer.commitPush({
        kind,
        code: w.code,
        name: w.name,
        sourceHash: w.hash,
        sourceModified: w.modified,
        batisimplyId: id,
        pushedHash: w.hash,
        remoteModified,
        now: clock.now(),
      });
      await this.checkpoint('push:after-commit', ctx.runId, key);
    };
    const update = async (id: string): Promise<Project> => {
      await buffer.setIntent({ kind, code: w.code, name: w.name, hash: w.hash, sourceModified: w.modified, intent: 'update', now: clock.now() });
      await this.checkpoint('push:before-remote', ctx.runId, key);
      const p = await this.retryBs(ctx, () => batisimply.updateProject(id, input, { signal: ctx.signal }));
      ctx.counts.writes++;
      await this.checkpoint('push:after-remote', ctx.runId, key);
      return p;
    };

    let id = w.rec?.batisimply_id ?? null;
    let existing: Project | null = id ? (byId.get(id) ?? null) : null;
    if (id && !existing) {
      // Not in this run's listing: deleted in BatiSimply, or listing incomplete. Ask directly.
      existing = await this.retryBs(ctx, () => batisimply.getProject(id as string, { signal: ctx.signal }));
      if (!existing) {
        ctx.items.push({ recordKey: key, action: 'reported', reason: `Projet ${w.code} supprimé dans BatiSimply : il est recréé.` });
        id = null;
      }
    }

    if (id && existing) {
      // Known project. Conflict = changed in BatiSimply since our last push AND changed in Batigest.
      const remoteModified = parseDate(existing.lastModifiedDate ?? null);
      // Compared with the server's own date of our last write when we have it (no clock skew between this PC
      // and BatiSimply), else with the time of our last push.
      const lastOurs = w.rec?.remote_modified ?? w.rec?.pushed_at ?? null;
      if (remoteModified && lastOurs && remoteModified.getTime() > lastOurs.getTime() + 1000 && w.rec?.pushed_hash !== w.hash) {
        ctx.counts.conflicts++;
        const bgDate = w.modified;
        if (bgDate && bgDate.getTime() < remoteModified.getTime()) {
          ctx.items.push({
            recordKey: key,
            action: 'conflict',
            reason: `${w.name} (${w.code}) modifié dans ${ctx.sw} (${fmt(bgDate)}) et dans BatiSimply (${fmt(remoteModified)}) : la modification BatiSimply, plus récente, est conservée.`,
          });
          ctx.counts.unchanged++;
          await commit(id, remoteModified);
          return;
        }
        ctx.items.push({
          recordKey: key,
          action: 'conflict',
          reason: `${w.name} (${w.code}) modifié dans ${ctx.sw} (${bgDate ? fmt(bgDate) : 'date inconnue'}) et dans BatiSimply (${fmt(remoteModified)}) : la modification ${ctx.sw}, plus récente, est envoyée.`,
        });
      }
      if (projectHash(existing) === w.hash) {
        // Already right remotely (e.g. crash after the PUT, before the commit): no write.
        ctx.counts.unchanged++;
        await commit(id, remoteModified);
        return;
      }
      const p = await update(id);
      ctx.counts.updated++;
      ctx.items.push({ recordKey: key, action: 'updated', reason: null });
      await commit(p.id || id, parseDate(p.lastModifiedDate ?? null));
      return;
    }

    // Unknown id: adopt an existing project with this code before ever creating one.
    let found = byCode.get(w.code) ?? null;
    if (!found && w.rec?.intent === 'create') {
      // Recovery of a create whose outcome is unknown (crash or timeout): look it up once more.
      found = await this.retryBs(ctx, () => batisimply.findProjectByCode(w.code, { signal: ctx.signal }));
    }
    if (found) {
      if (projectHash(found) === w.hash) {
        ctx.counts.unchanged++;
        ctx.items.push({ recordKey: key, action: 'adopted', reason: `Projet BatiSimply existant repris par son code ${w.code} (aucune modification nécessaire).` });
        await commit(found.id, parseDate(found.lastModifiedDate ?? null));
        return;
      }
      const p = await update(found.id);
      ctx.counts.updated++;
      ctx.items.push({ recordKey: key, action: 'adopted', reason: `Projet BatiSimply existant repris par son code ${w.code} et mis à jour.` });
      await commit(p.id || found.id, parseDate(p.lastModifiedDate ?? null));
      return;
    }
    await buffer.setIntent({ kind, code: w.code, name: w.name, hash: w.hash, sourceModified: w.modified, intent: 'create', now: clock.now() });
    await this.checkpoint('push:before-remote', ctx.runId, key);
    // A failed create may still have been processed (e.g. an unreadable answer): look the code up (fresh)
    // before posting again, so a retry never creates a second project with the same code.
    let posted = false;
    const created = await this.retryBs(ctx, async () => {
      if (posted) {
        batisimply.clearCache?.();
        const again = await batisimply.findProjectByCode(w.code, { signal: ctx.signal });
        if (again) return again;
      }
      posted = true;
      return batisimply.createProject(input, { signal: ctx.signal });
    });
    ctx.counts.writes++;
    await this.checkpoint('push:after-remote', ctx.runId, key);
    byCode.set(w.code, created);
    ctx.counts.created++;
    ctx.items.push({ recordKey: key, action: 'created', reason: null });
    await commit(created.id, parseDate(created.lastModifiedDate ?? null));
  }

  // =================================================================== hours flow

  private async hoursFlow(ctx: RunCtx): Promise<void> {
    const { buffer, batigest, batisimply, clock } = this.d;
    const hs = ctx.settings.hours;
    try {
      assertTimeZone(hs.timezone);
    } catch {
      throw new AppError('SETTINGS_INVALID', `Fuseau horaire « ${hs.timezone} » inconnu : corrigez-le dans les réglages (par exemple Europe/Paris).`);
    }
    batisimply.clearCache?.();
    const now = clock.now();
    const windowStart = new Date(now.getTime() - hs.windowDays * 86_400_000);

    await ctx.emit('read', `Lecture des salariés ${ctx.sw}`, 0, null, null);
    const salaries = await this.retry(ctx, () => batigest.readSalaries());
    const byCodebs = new Map<string, Salarie>();
    for (const s of salaries) if (s.codebs && s.codebs.trim()) byCodebs.set(s.codebs.trim().toLowerCase(), s);

    throwIfCancelled(ctx.signal);
    const prevSlots = await buffer.loadSlotBriefs();
    const keysMap = await buffer.loadSlotKeys();
    const st: HoursState = { keysMap, written: await buffer.loadWritten(), dirtyDone: false };

    // Project id → code resolution (slot without projectCode): buffer first, then BatiSimply once per id.
    const codeById = new Map<string, string | null>(await buffer.loadProjectCodes());
    const resolveCode = async (s: TimeSlot): Promise<string | null> => {
      if (!s.project) return null;
      const direct = normaliseCode(s.project.projectCode ?? null);
      if (direct) return direct;
      if (!codeById.has(s.project.id)) {
        const p = await this.retryBs(ctx, () => batisimply.getProject(s.project!.id, { signal: ctx.signal }));
        codeById.set(s.project.id, p ? normaliseCode(p.projectCode) || null : null);
      }
      return codeById.get(s.project.id) ?? null;
    };
    // Chantier codes known in Batigest: read only when some slot needs a new SuiviMO key.
    let knownCodes: Set<string> | null = null;
    const usedCodes = new Set([...keysMap.values()].map((k) => k.code_chantier));
    const isKnownCode = async (code: string): Promise<boolean> => {
      if (usedCodes.has(code)) return true;
      if (!knownCodes) {
        knownCodes = new Set();
        for await (const page of batigest.readChantiers({ signal: ctx.signal })) for (const c of page) knownCodes.add(normaliseCode(c.code));
        if (ctx.settings.mode === 'devis') {
          for await (const page of batigest.readDevis({ signal: ctx.signal })) for (const d of page) knownCodes.add(normaliseCode(d.code));
        }
      }
      return knownCodes.has(code);
    };

    // The window is read and written in segments of whole local days, and only one segment's slots are in memory
    // at a time. Each segment aggregates from the whole slot → key map (kept in step with the buffer), so a key
    // is right whatever segment its slots come from; whole days only make it written once per run (a slot
    // moved to another segment's day rewrites its old key too). What must see the whole window (deleted slots,
    // the journal's per-user and per-chantier lines) is done after the last segment.
    const listed = new Set<string>();
    const unreadable = new Set<string>();
    const unreadableKeys = new Set<string>();
    let unreadableWithoutId = 0;
    const unmapped = new Map<string, { name: string; n: number }>();
    const unknown = new Map<string, { n: number }>();
    let notValidatedSilent = 0;
    const segments = localDaySegments(windowStart, now, hs.timezone, this.d.hoursSegmentDays ?? 31);
    for (const [segIndex, seg] of segments.entries()) {
      throwIfCancelled(ctx.signal);
      const part = segments.length > 1 ? ` (période ${segIndex + 1}/${segments.length})` : '';
      await ctx.emit('read', `Lecture des créneaux BatiSimply${part}`, segIndex, segments.length, null);
      // Unreadable slots (missing field, wrong type) are left out by the client and reported here, not fatal.
      let rejected: RejectedTimeSlot[] = [];
      const slots = await this.retryBs(ctx, () => {
        rejected = [];
        return batisimply.listTimeSlots(seg, { signal: ctx.signal, onInvalid: (r) => rejected.push(r) });
      });
      // Their ids keep their earlier state: an unreadable slot is not a deleted one.
      for (const r of rejected) {
        if (r.id !== null && (unreadable.has(r.id) || listed.has(r.id))) continue;
        if (r.id === null && r.key !== undefined) {
          if (unreadableKeys.has(r.key)) continue;
          unreadableKeys.add(r.key);
        }
        ctx.counts.skipped++;
        if (r.id !== null) {
          unreadable.add(r.id);
          ctx.items.push({
            recordKey: `slot:${r.id}`,
            action: 'skipped',
            reason: `Créneau ${r.id} illisible dans la réponse de BatiSimply (${r.reason}) : il n'est pas importé, et ses heures déjà importées (s'il y en a) restent dans ${ctx.sw}. Corrigez-le dans BatiSimply ; nouvel essai au prochain passage.`,
          });
        } else {
          unreadableWithoutId++;
          ctx.items.push({
            recordKey: `slot:illisible-${unreadableWithoutId}`,
            action: 'skipped',
            reason: `Créneau sans identifiant lisible dans la réponse de BatiSimply (${r.reason}) : il n'est pas importé, et aucune heure n'est retirée de ${ctx.sw} pour un créneau disparu pendant ce passage. Corrigez-le dans BatiSimply ; nouvel essai au prochain passage.`,
          });
        }
      }

      const changes: SlotChange[] = [];
      const touched: string[] = [];
      let i = 0;
      const total = slots.length;
      await ctx.emit('compare', `Comparaison des créneaux${part}`, 0, total, null);
      for (const s of slots) {
        if (++i % 200 === 0) {
          throwIfCancelled(ctx.signal);
          await ctx.emit('compare', `Comparaison des créneaux${part}`, i, total, null);
        }
        // A slot answered for two segments (an API that filters by overlap) is taken once.
        if (listed.has(s.id)) continue;
        listed.add(s.id);
        const hash = slotHash(s);
        const prev = prevSlots.get(s.id);
        const mapping = keysMap.get(s.id);
        const same = prev?.content_hash === hash;
        if (same && prev.state === 'written' && mapping) {
          touched.push(s.id);
          ctx.counts.unchanged++;
          continue;
        }
        if (s.managementStatus !== 'VALIDATED') {
          ctx.counts.skipped++;
          if (mapping) {
            if (hs.removeUnvalidated) {
              changes.push({ slot: s, slotId: s.id, prev, state: 'not_validated', reason: 'Créneau dé-validé : heures retirées', desired: null, keepMapping: false });
              ctx.items.push({ recordKey: `slot:${s.id}`, action: 'removed', reason: `Créneau de ${userDisplayName(s.user)} du ${mapping.day} (chantier ${mapping.code_chantier}) n'est plus validé dans BatiSimply : ses heures sont retirées de ${ctx.sw}.` });
            } else if (!same) {
              changes.push({ slot: s, slotId: s.id, prev, state: 'not_validated', reason: 'Créneau dé-validé : heures conservées', desired: null, keepMapping: true });
              ctx.items.push({ recordKey: `slot:${s.id}`, action: 'reported', reason: `Créneau de ${userDisplayName(s.user)} du ${mapping.day} (chantier ${mapping.code_chantier}) n'est plus validé dans BatiSimply ; ses heures restent dans ${ctx.sw} (option « retirer les heures dé-validées » désactivée).` });
            } else touched.push(s.id);
          } else {
            notValidatedSilent++;
            if (!same || prev?.state !== 'not_validated') changes.push({ slot: s, slotId: s.id, prev, state: 'not_validated', reason: `Statut ${s.managementStatus}`, desired: null, keepMapping: false });
            else touched.push(s.id);
          }
          continue;
        }
        let code: string | null;
        const sal = byCodebs.get(s.user.id.trim().toLowerCase());
        let desired: Contribution | null = null;
        let state: SlotState = 'written';
        let reason: string | null = null;
        const absurd = slotProblem(s, windowStart, now);
        if (absurd) {
          // Right shape, impossible values: never written to SuiviMO; reported every run until corrected.
          state = 'failed';
          reason = absurd;
          ctx.items.push({ recordKey: `slot:${s.id}`, action: 'skipped', reason: `Créneau ${s.id} de ${userDisplayName(s.user)} : ${absurd} Il n'est pas importé ; corrigez-le dans BatiSimply.` });
        } else if (!sal) {
          // Checked first: cheap, and the most useful report (the mapping screen lists these slots).
          state = 'unmapped_user';
          const name = userDisplayName(s.user);
          reason = `Utilisateur ${name} sans salarié ${ctx.sw}`;
          ctx.left.unmappedSlots++;
          ctx.left.pendingMinutes += Math.max(0, s.totalTimeMinutes);
          const u = unmapped.get(s.user.id) ?? { name, n: 0 };
          u.n++;
          unmapped.set(s.user.id, u);
        } else if (!(code = await resolveCode(s)) || !(await isKnownCode(code))) {
          state = 'unknown_chantier';
          const label = code ?? `projet BatiSimply ${s.project?.id ?? '(aucun)'}`;
          reason = `Chantier ${label} inconnu dans ${ctx.sw}`;
          ctx.left.unknownSlots++;
          ctx.left.pendingMinutes += Math.max(0, s.totalTimeMinutes);
          const u = unknown.get(label) ?? { n: 0 };
          u.n++;
          unknown.set(label, u);
        } else {
          desired = {
            code_chantier: code,
            code_salarie: sal.code,
            day: localDay(s.startDate, hs.timezone),
            minutes: Math.max(0, Math.round(s.totalTimeMinutes)),
            trajet: s.hasHomeToWorkJourney ? 1 : 0,
            panier: s.hasPackedLunch ? 1 : 0,
          };
        }
        if (state !== 'written') ctx.counts.skipped++;
        if (sameContribution(mapping, desired) && same && prev?.state === state) {
          touched.push(s.id);
          if (state === 'written') ctx.counts.unchanged++;
          continue;
        }
        changes.push({ slot: s, slotId: s.id, prev, state, reason, desired, keepMapping: false });
      }
      await this.applySlotChanges(ctx, st, changes, touched, `Écriture des heures dans ${ctx.sw}${part}`);
    }

    // Slots written earlier, still inside the window, and no longer listed: deleted in BatiSimply.
    const margin = windowStart.getTime() + 86_400_000;
    const deletions: SlotChange[] = [];
    // A slot without readable id could be any of them: no deletion is concluded during such a run.
    for (const [slotId, mapping] of keysMap) {
      if (listed.has(slotId) || unreadable.has(slotId) || unreadableWithoutId > 0) continue;
      const prev = prevSlots.get(slotId);
      if (!prev || prev.start_utc.getTime() < margin || prev.start_utc.getTime() > now.getTime()) continue;
      if (prev.state === 'deleted' && !hs.removeUnvalidated) continue;
      ctx.counts.skipped++;
      const what = `Créneau ${slotId} du ${mapping.day} (chantier ${mapping.code_chantier}, salarié ${mapping.code_salarie})`;
      if (hs.removeUnvalidated) {
        ctx.items.push({ recordKey: `slot:${slotId}`, action: 'removed', reason: `${what} supprimé dans BatiSimply : ses heures sont retirées de ${ctx.sw}.` });
        deletions.push({ slot: null, slotId, prev, state: 'deleted', reason: 'Supprimé dans BatiSimply : heures retirées', desired: null, keepMapping: false });
      } else {
        ctx.items.push({ recordKey: `slot:${slotId}`, action: 'reported', reason: `${what} supprimé dans BatiSimply ; ses heures restent dans ${ctx.sw} (option « retirer » désactivée).` });
        deletions.push({ slot: null, slotId, prev, state: 'deleted', reason: 'Supprimé dans BatiSimply : heures conservées', desired: null, keepMapping: true });
      }
    }

    for (const [userId, u] of unmapped) {
      ctx.items.push({
        recordKey: `user:${userId}`,
        action: 'skipped',
        reason: `Aucun salarié ${ctx.sw} pour l'utilisateur BatiSimply ${u.name} : ${u.n} créneau(x) non importé(s). Associez-le à un salarié (correspondance des salariés) ; ses heures seront importées au prochain passage.`,
      });
    }
    for (const [label, u] of unknown) {
      ctx.items.push({
        recordKey: `chantier:${label}`,
        action: 'skipped',
        reason: `Chantier ${label} introuvable dans ${ctx.sw} : ${u.n} créneau(x) non importé(s). Vérifiez le code du chantier ; nouvel essai au prochain passage.`,
      });
    }
    if (notValidatedSilent > 0) {
      ctx.items.push({ recordKey: 'slots:not-validated', action: 'skipped', reason: `${notValidatedSilent} créneau(x) non validé(s) dans BatiSimply : non importé(s) tant qu'ils ne sont pas validés.` });
    }
    await this.applySlotChanges(ctx, st, deletions, [], `Retrait des heures de créneaux supprimés dans ${ctx.sw}`);
  }

  /**
   * Applies the changes of one segment (or the deletions found at the end): recomputes the SuiviMO keys they
   * affect, journals conflicts, records the intent in one buffer transaction, then writes SuiviMO in batches,
   * each one Batigest transaction followed by its commit in the buffer. Keeps `st` (slot → key map, written
   * rows) up to date for the next segments.
   */
  private async applySlotChanges(ctx: RunCtx, st: HoursState, changes: SlotChange[], touched: string[], writeLabel: string): Promise<void> {
    const { buffer, batigest, clock } = this.d;
    const { keysMap, written } = st;
    const nowTs = clock.now();
    const withDirty = !st.dirtyDone;
    if (changes.length === 0 && !(withDirty && [...written.values()].some((w) => w.dirty))) {
      st.dirtyDone = true;
      await buffer.touchSlots(touched, nowTs);
      return;
    }

    // The keys whose SuiviMO row must be recomputed: old and new keys of the changed slots, and (once per run)
    // the keys left dirty by an interrupted run.
    const overrides = new Map<string, Contribution | null>();
    const affected = new Map<string, KeyRef>();
    for (const c of changes) {
      const old = keysMap.get(c.slotId);
      if (c.keepMapping) continue;
      if (old) affected.set(keyString(keyOf(old)), keyOf(old));
      overrides.set(c.slotId, c.desired);
      if (c.desired) affected.set(keyString(keyOf(c.desired)), keyOf(c.desired));
    }
    if (withDirty) {
      for (const w of written.values()) {
        if (w.dirty) {
          const k = { codeChantier: w.code_chantier, codeSalarie: w.code_salarie, day: w.day };
          affected.set(keyString(k), k);
        }
      }
    }
    // Aggregate: one SuiviMO row per (chantier, salarié, day) = sum of minutes, max of the flags.
    const agg = new Map<string, { minutes: number; trajet: number; panier: number }>();
    const add = (c: Contribution): void => {
      const k = keyString(keyOf(c));
      if (!affected.has(k)) return;
      const a = agg.get(k) ?? { minutes: 0, trajet: 0, panier: 0 };
      a.minutes += c.minutes;
      a.trajet = Math.max(a.trajet, c.trajet);
      a.panier = Math.max(a.panier, c.panier);
      agg.set(k, a);
    };
    for (const [slotId, c] of keysMap) if (!overrides.has(slotId)) add(c);
    for (const c of overrides.values()) if (c) add(c);
    const ops: { key: KeyRef; value: { minutes: number; trajet: number; panier: number } | null; isNew: boolean }[] = [];
    for (const [k, ref] of affected) {
      const want = agg.get(k) ?? null;
      const w = written.get(k);
      const had = w && w.minutes !== null ? { minutes: w.minutes, trajet: w.trajet ?? 0, panier: w.panier ?? 0 } : null;
      if (!w?.dirty) {
        if (!want && !had) continue;
        if (want && had && want.minutes === had.minutes && want.trajet === had.trajet && want.panier === had.panier) continue;
      }
      ops.push({ key: ref, value: want, isNew: !had });
    }

    // Per-slot counts and journal lines for the changes that write something.
    for (const c of changes) {
      if (c.keepMapping || c.state !== 'written') continue;
      const old = keysMap.get(c.slotId);
      const d = c.desired!;
      if (!old) {
        ctx.counts.created++;
      } else {
        ctx.counts.updated++;
        const moved = keyString(keyOf(old)) !== keyString(keyOf(d));
        ctx.items.push({
          recordKey: `slot:${c.slotId}`,
          action: moved ? 'moved' : 'updated',
          reason: moved
            ? `Créneau modifié dans BatiSimply : heures déplacées de ${old.code_chantier}/${old.code_salarie}/${old.day} vers ${d.code_chantier}/${d.code_salarie}/${d.day}.`
            : `Créneau modifié dans BatiSimply : ligne ${d.code_chantier}/${d.code_salarie}/${d.day} mise à jour.`,
        });
      }
    }
    for (const c of changes) if (!c.keepMapping && c.state !== 'written' && keysMap.has(c.slotId) && c.state !== 'not_validated' && c.state !== 'deleted') ctx.counts.updated++;

    // Conflicts: a row we wrote and that was changed in Batigest since, while its slots changed in BatiSimply.
    const toCheck = ops.filter((o) => !o.isNew && !written.get(keyString(o.key))?.dirty);
    for (let b = 0; b < toCheck.length; b += 500) {
      const part = toCheck.slice(b, b + 500);
      const rows = await this.retry(ctx, () => batigest.readSuiviMo(part.map((o) => ({ codeChantier: o.key.codeChantier, codeSalarie: o.key.codeSalarie, date: o.key.day }))));
      const byKey = new Map(rows.map((r) => [keyString({ codeChantier: r.codeChantier, codeSalarie: r.codeSalarie, day: r.date }), r]));
      for (const o of part) {
        const k = keyString(o.key);
        const w = written.get(k);
        const cur = byKey.get(k);
        if (!w || w.minutes === null) continue;
        const ours = toRow(o.key, { minutes: w.minutes, trajet: w.trajet ?? 0, panier: w.panier ?? 0 });
        if (cur && Math.abs(cur.nbH0 - ours.nbH0) < 0.005 && cur.nbH3 === ours.nbH3 && cur.nbH4 === ours.nbH4) continue;
        ctx.counts.conflicts++;
        const when = w.written_at ? fmt(w.written_at) : 'la dernière synchronisation';
        ctx.items.push({
          recordKey: `suivimo:${k}`,
          action: 'conflict',
          reason: `Ligne SuiviMO ${o.key.codeChantier}/${o.key.codeSalarie}/${o.key.day} modifiée dans ${ctx.sw} (${cur ? `${cur.nbH0} h` : 'supprimée'}) depuis ${when}, et créneau(x) modifié(s) dans BatiSimply depuis : la modification BatiSimply, plus récente, est appliquée.`,
        });
      }
    }

    throwIfCancelled(ctx.signal);
    // Intent (one buffer transaction): slot states, the new slot → key map, and the keys to write marked dirty.
    const setKeys: SlotKeyRow[] = [];
    const delKeys: string[] = [];
    await buffer.transaction(async (tx) => {
      // Slot contents are serialised 1,000 at a time.
      let upserts: SlotUpsert[] = [];
      const states: { slotId: string; state: SlotState; reason: string | null }[] = [];
      for (const c of changes) {
        if (upserts.length >= 1000) {
          await tx.upsertSlots(upserts, nowTs);
          upserts = [];
        }
        if (c.slot) {
          upserts.push({
            slotId: c.slotId,
            content: stableStringify(c.slot),
            contentHash: slotHash(c.slot),
            status: c.slot.managementStatus,
            // An unreadable start date (slot journaled as failed) must not break the buffer write.
            startUtc: parseDate(c.slot.startDate) ?? c.prev?.start_utc ?? nowTs,
            remoteModified: parseDate(c.slot.lastModifiedDate ?? null),
            state: c.state,
            reason: c.reason,
            changed: true,
          });
        } else {
          states.push({ slotId: c.slotId, state: c.state, reason: c.reason });
        }
        if (c.keepMapping) continue;
        if (c.desired) setKeys.push({ slot_id: c.slotId, ...c.desired });
        else if (keysMap.has(c.slotId)) delKeys.push(c.slotId);
      }
      await tx.upsertSlots(upserts, nowTs);
      await tx.setSlotStates(states, nowTs);
      await tx.setSlotKeys(setKeys, nowTs);
      await tx.deleteSlotKeys(delKeys);
      await tx.markDirty(ops.map((o) => o.key));
    });
    // The buffer now holds the new map and the dirty marks: so does memory, for the next segments and the deletions.
    for (const k of setKeys) keysMap.set(k.slot_id, k);
    for (const id of delKeys) keysMap.delete(id);
    for (const o of ops) {
      const k = keyString(o.key);
      const w = written.get(k);
      written.set(k, w ? { ...w, dirty: true } : { code_chantier: o.key.codeChantier, code_salarie: o.key.codeSalarie, day: o.key.day, minutes: null, trajet: null, panier: null, dirty: true, written_at: null });
    }
    st.dirtyDone = true;
    await buffer.touchSlots(touched, nowTs);
    await this.checkpoint('hours:after-intent', ctx.runId);

    // Write SuiviMO in batches; each batch is one Batigest transaction, then committed in the buffer.
    const batchSize = this.d.suiviMoBatchSize ?? 250;
    let doneOps = 0;
    await ctx.emit('write', writeLabel, 0, ops.length, null);
    for (let b = 0; b < ops.length; b += batchSize) {
      throwIfCancelled(ctx.signal);
      const part = ops.slice(b, b + batchSize);
      const suivi: SuiviMoOp[] = part.map((o) =>
        o.value ? { kind: 'upsert', row: toRow(o.key, o.value) } : { kind: 'delete', key: { codeChantier: o.key.codeChantier, codeSalarie: o.key.codeSalarie, date: o.key.day } },
      );
      await this.checkpoint('hours:before-remote', ctx.runId);
      const failedKeys = await this.applyBatch(ctx, suivi);
      ctx.counts.writes += suivi.length - failedKeys.size;
      await this.checkpoint('hours:after-remote', ctx.runId);
      const at = clock.now();
      const done = part.filter((o) => !failedKeys.has(keyString(o.key)));
      await buffer.transaction((tx) => tx.commitWrittenMany(done, at));
      for (const o of done) {
        const k = keyString(o.key);
        if (o.value) written.set(k, { code_chantier: o.key.codeChantier, code_salarie: o.key.codeSalarie, day: o.key.day, ...o.value, dirty: false, written_at: at });
        else written.delete(k);
      }
      await this.checkpoint('hours:after-commit', ctx.runId);
      doneOps += part.length;
      await ctx.emit('write', writeLabel, doneOps, ops.length, null);
    }
  }

  /** Applies a batch; if Batigest rejects it, applies its ops one by one so one bad row does not block the others. */
  private async applyBatch(ctx: RunCtx, ops: SuiviMoOp[]): Promise<Set<string>> {
    const failed = new Set<string>();
    if (ops.length === 0) return failed;
    try {
      await this.retry(ctx, () => this.d.batigest.applySuiviMo(ops, { signal: ctx.signal }));
      return failed;
    } catch (e) {
      if (!isRecordLevel(e) || ops.length === 1) {
        if (ops.length === 1 && isRecordLevel(e)) {
          const k = opKey(ops[0]!);
          failed.add(k);
          ctx.counts.failed++;
          ctx.items.push({ recordKey: `suivimo:${k}`, action: 'failed', reason: `Écriture SuiviMO ${k.replace(/\|/g, '/')} refusée : ${reasonOf(e)} Nouvel essai au prochain passage.` });
          return failed;
        }
        throw e;
      }
    }
    for (const op of ops) {
      const sub = await this.applyBatch(ctx, [op]);
      for (const k of sub) failed.add(k);
    }
    return failed;
  }

  // =================================================================== employee mapping

  /** Reads BatiSimply users and Batigest salariés, stores the mapping cache and returns it. */
  async refreshEmployeeMapping(signal?: AbortSignal): Promise<{ userId: string; name: string; email: string | null; salarieCode: string | null; salarieName: string | null }[]> {
    const [users, salaries] = await Promise.all([this.d.batisimply.listUsers({ signal }), this.d.batigest.readSalaries()]);
    const byCodebs = new Map<string, Salarie>();
    for (const s of salaries) if (s.codebs && s.codebs.trim()) byCodebs.set(s.codebs.trim().toLowerCase(), s);
    const rows = users.map((u) => {
      const s = byCodebs.get(u.id.toLowerCase()) ?? null;
      return {
        batisimply_user_id: u.id,
        first_name: u.firstName ?? null,
        last_name: u.lastName ?? null,
        email: u.email ?? null,
        salarie_code: s?.code ?? null,
        salarie_name: s ? [s.prenom, s.nom].filter(Boolean).join(' ') : null,
      };
    });
    await this.d.buffer.replaceEmployees(rows, this.d.clock.now());
    return rows.map((r) => ({
      userId: r.batisimply_user_id,
      name: userDisplayName({ id: r.batisimply_user_id, firstName: r.first_name, lastName: r.last_name, email: r.email }),
      email: r.email,
      salarieCode: r.salarie_code,
      salarieName: r.salarie_name,
    }));
  }
}

/** French reason why a time slot's values are impossible (negative or > 24 h, unreadable or out-of-window date), or null. */
function slotProblem(s: TimeSlot, windowStart: Date, now: Date): string | null {
  const m = s.totalTimeMinutes;
  if (!Number.isFinite(m) || m < 0) return `durée négative ou illisible (${String(m)} min).`;
  if (m > 24 * 60) return `durée de ${Math.round((m / 60) * 100) / 100} h sur un seul créneau (plus de 24 h).`;
  const t = Date.parse(s.startDate);
  if (Number.isNaN(t)) return `date de début illisible (« ${s.startDate} »).`;
  if (t < windowStart.getTime() - 86_400_000 || t > now.getTime() + 86_400_000) return `date de début ${s.startDate.slice(0, 10)} hors de la période importée.`;
  return null;
}

function opKey(op: SuiviMoOp): string {
  if (op.kind === 'delete') return keyString({ codeChantier: op.key.codeChantier, codeSalarie: op.key.codeSalarie, day: op.key.date });
  return keyString({ codeChantier: op.row.codeChantier, codeSalarie: op.row.codeSalarie, day: op.row.date });
}

function toRow(k: KeyRef, v: { minutes: number; trajet: number; panier: number }): SuiviMoRow {
  return {
    codeChantier: k.codeChantier,
    codeSalarie: k.codeSalarie,
    date: k.day,
    nbH0: Math.round((v.minutes / 60) * 100) / 100,
    nbH3: v.trajet ? 1 : 0,
    nbH4: v.panier ? 1 : 0,
  };
}

function parseDate(s: string | null | undefined): Date | null {
  if (!s) return null;
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : new Date(t);
}

function fmt(d: Date): string {
  return new Intl.DateTimeFormat('fr-FR', { timeZone: 'Europe/Paris', dateStyle: 'short', timeStyle: 'short' }).format(d);
}

/** What the run left aside, appended to its message ('' when nothing). */
function runNote(flow: FlowName, l: LeftAside, sw: string): string {
  if (flow === 'hours') {
    const slots = l.unmappedSlots + l.unknownSlots;
    if (slots === 0) return '';
    const hours = (l.pendingMinutes / 60).toLocaleString('fr-FR', { maximumFractionDigits: 2 });
    const why: string[] = [];
    if (l.unmappedSlots > 0) why.push(`${l.unmappedSlots} créneau(x) d'utilisateur(s) BatiSimply sans salarié ${sw} (à associer dans la correspondance des salariés)`);
    if (l.unknownSlots > 0) why.push(`${l.unknownSlots} créneau(x) sur des chantiers inconnus de ${sw} (code à vérifier)`);
    return ` ${hours} h validée(s) en attente, non écrite(s) dans ${sw} : ${why.join(' ; ')}. Elles seront importées au prochain passage une fois corrigé.`;
  }
  const ignored = l.noCode + l.noName;
  if (ignored === 0) return '';
  const why: string[] = [];
  if (l.noCode > 0) why.push(`${l.noCode} sans code`);
  if (l.noName > 0) why.push(`${l.noName} sans nom ni client`);
  return ` ${ignored} ligne(s) de ${sw} ignorée(s) : ${why.join(', ')} (détail dans le journal).`;
}

export function summaryMessage(flow: FlowName, c: RunCounts): string {
  const parts =
    flow === 'push'
      ? [`${c.created} créé(s)`, `${c.updated} mis à jour`, `${c.unchanged} inchangé(s)`, `${c.skipped} ignoré(s)`, `${c.failed} en erreur`]
      : [`${c.created} créneau(x) importé(s)`, `${c.updated} modifié(s)`, `${c.unchanged} inchangé(s)`, `${c.skipped} ignoré(s)`, `${c.failed} en erreur`, `${c.writes} écriture(s) SuiviMO`];
  if (c.conflicts > 0) parts.push(`${c.conflicts} conflit(s)`);
  return `${flow === 'push' ? 'Envoi vers BatiSimply' : 'Import des heures'} : ${parts.join(', ')}.`;
}

export { cancelledError, isRetryable };
