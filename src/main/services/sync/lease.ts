/**
 * The lease of a flow in the buffer: one PC at a time runs a given flow (SPEC §7, several PCs). A lease left
 * by a process of this PC that is gone is taken over at once; one of another PC waits for its expiry.
 */
import { AppError } from '../../../shared/errors.js';
import { leaseLostError, type LeaseFence } from '../buffer/fence.js';
import type { BufferStore, FlowName, LeaseRow } from '../buffer/store.js';
import type { Clock, Logger } from '../ports.js';
import { engineText } from './journal-text.js';

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

/** The entry of a held lease in the process's registry (SyncEngineDeps.localLeases). */
export const leaseKey = (flow: FlowName, holder: string): string => `${flow} ${holder}`;

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

/** Timers of the heartbeat (injected by time-scaled tests; the scheduler's `Timers` shape). */
export interface LeaseTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
const nodeLeaseTimers: LeaseTimers = {
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface FlowLeaseDeps {
  buffer: BufferStore;
  clock: Clock;
  logger: Logger;
  machineName: string;
  /** `${machine}#${pid}#${instance}`: the pid lets a restart on the same PC take over the lease of a dead process. */
  holder: string;
  ttlMs: number;
  probe: ProcessProbe;
  localLeases?: Set<string>;
  timers?: LeaseTimers;
}

/**
 * One flow's lease for one run: taken (a new generation, the run's fencing token), renewed by a heartbeat every
 * third of its duration whatever the run is doing (a long SQL or HTTP call included), confirmed before each
 * external write, released at its end. Lost (another PC holds it now): `lost` is set and `onLost` called once.
 */
export class FlowLease {
  private lastRenew = 0;
  private gen = 0;
  private label = '';
  private beat: unknown = null;
  private beating = false;
  private lostError: AppError | null = null;
  /** Called once when the heartbeat or a confirmation finds the lease taken over (the engine aborts the run). */
  onLost: (e: AppError) => void = () => undefined;

  constructor(
    private readonly d: FlowLeaseDeps,
    readonly flow: FlowName,
  ) {}

  /** The fencing token of this acquisition. */
  get generation(): number {
    return this.gen;
  }

  get lost(): AppError | null {
    return this.lostError;
  }

  /** What the run's buffer is fenced with (BufferStore.fenced). */
  fence(): LeaseFence {
    return { flow: this.flow, holder: this.d.holder, generation: this.gen, label: this.label };
  }

  /** Takes the lease or throws BUFFER_LOCKED naming the PC that holds it (`label`: the flow's name for the user). */
  async acquire(runId: string, label: () => string): Promise<void> {
    this.label = label();
    const lease = await this.take(runId);
    if (!lease.acquired) {
      const until = lease.lease?.expires_at.toISOString() ?? '';
      throw new AppError('BUFFER_LOCKED', engineText.lockedElsewhere(this.label, lease.lease?.machine ?? null), {
        detail: `lease held by ${lease.lease?.holder ?? '?'} until ${until}`,
      });
    }
    this.gen = lease.lease?.generation ?? 0;
  }

  /** The lease counts as renewed at `ms` (the run's start): the next renewal is due a third of its duration later. */
  renewedAt(ms: number): void {
    this.lastRenew = ms;
  }

  /** Renews the lease when a third of its duration has passed; throws SYNC_LEASE_LOST when another PC took it over. */
  async renewIfDue(nowMs: number): Promise<void> {
    if (this.lostError) throw this.lostError;
    if (nowMs - this.lastRenew <= this.d.ttlMs / 3) return;
    await this.confirm();
  }

  /**
   * Before an external write (BatiSimply create/update, SuiviMO batch): the lease is still ours (same generation),
   * and extended; else SYNC_LEASE_LOST and the write is not made.
   */
  async confirm(): Promise<void> {
    if (this.lostError) throw this.lostError;
    const { buffer, clock, holder, ttlMs } = this.d;
    const now = clock.now();
    const ok = await buffer.renewLease({ flow: this.flow, holder, now, ttlMs, generation: this.gen });
    if (!ok) throw this.markLost(await buffer.leaseTakenBy(this.flow).catch(() => null));
    this.lastRenew = now.getTime();
  }

  /** Starts the heartbeat: a renewal every third of the lease's duration, independent of the run's progress. */
  startHeartbeat(): void {
    const timers = this.d.timers ?? nodeLeaseTimers;
    const period = Math.max(10, Math.floor(this.d.ttlMs / 3));
    const tick = (): void => {
      this.beat = timers.setTimeout(() => void this.heartbeat().finally(() => this.beating && tick()), period);
    };
    this.beating = true;
    tick();
  }

  stopHeartbeat(): void {
    this.beating = false;
    if (this.beat !== null) (this.d.timers ?? nodeLeaseTimers).clearTimeout(this.beat);
    this.beat = null;
  }

  async release(): Promise<void> {
    this.stopHeartbeat();
    await this.d.buffer.releaseLease(this.flow, this.d.holder).catch(() => undefined);
    this.d.localLeases?.delete(leaseKey(this.flow, this.d.holder));
  }

  /** One heartbeat: lost → onLost; the buffer unreachable → logged and tried again at the next beat (fencing protects). */
  private async heartbeat(): Promise<void> {
    if (this.lostError) return;
    try {
      await this.confirm();
    } catch (e) {
      if (!this.lostError) this.d.logger.warn('lease heartbeat failed', { flow: this.flow, detail: e instanceof AppError ? e.detail : String(e) });
    }
  }

  private markLost(now: { machine: string; holder: string; generation: number } | null): AppError {
    if (!this.lostError) {
      this.lostError = leaseLostError(this.fence(), now);
      this.d.logger.warn('lease lost: another PC took the flow over', { flow: this.flow, generation: this.gen, now: now?.holder ?? null });
      this.onLost(this.lostError);
    }
    return this.lostError;
  }

  /** A lease left on this PC by a dead process is taken over at once (not after expiry). */
  private async take(runId: string): Promise<{ acquired: boolean; lease: LeaseRow | null }> {
    const { buffer, clock, machineName, holder } = this.d;
    const req = { flow: this.flow, holder, machine: machineName, runId, ttlMs: this.d.ttlMs };
    let lease = await buffer.acquireLease({ ...req, now: clock.now() });
    if (!lease.acquired && lease.lease && isStaleLocalLease(lease.lease, machineName, this.d.probe, this.d.localLeases)) {
      const taken = await buffer.takeOverLease({ ...req, fromHolder: lease.lease.holder, now: clock.now() });
      if (taken) {
        this.d.logger.info('lease taken over from a process of this PC that is gone', { flow: this.flow, from: lease.lease.holder });
        lease = { acquired: true, lease: taken };
      } else {
        lease = await buffer.acquireLease({ ...req, now: clock.now() });
      }
    }
    if (lease.acquired) this.d.localLeases?.add(leaseKey(this.flow, holder));
    return lease;
  }
}
