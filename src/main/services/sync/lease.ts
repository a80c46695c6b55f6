/**
 * The lease of a flow in the buffer: one PC at a time runs a given flow (SPEC §7, several PCs). A lease left
 * by a process of this PC that is gone is taken over at once; one of another PC waits for its expiry.
 */
import { AppError } from '../../../shared/errors.js';
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
}

/** One flow's lease for one run: taken, renewed while the run progresses, released at its end. */
export class FlowLease {
  private lastRenew = 0;

  constructor(
    private readonly d: FlowLeaseDeps,
    readonly flow: FlowName,
  ) {}

  /** Takes the lease or throws BUFFER_LOCKED naming the PC that holds it (`label`: the flow's name for the user). */
  async acquire(runId: string, label: () => string): Promise<void> {
    const lease = await this.take(runId);
    if (!lease.acquired) {
      const until = lease.lease?.expires_at.toISOString() ?? '';
      throw new AppError('BUFFER_LOCKED', engineText.lockedElsewhere(label(), lease.lease?.machine ?? null), {
        detail: `lease held by ${lease.lease?.holder ?? '?'} until ${until}`,
      });
    }
  }

  /** The lease counts as renewed at `ms` (the run's start): the next renewal is due a third of its duration later. */
  renewedAt(ms: number): void {
    this.lastRenew = ms;
  }

  /** Renews the lease when a third of its duration has passed; throws when another PC took it over. */
  async renewIfDue(nowMs: number): Promise<void> {
    const { buffer, clock, holder, ttlMs } = this.d;
    if (nowMs - this.lastRenew <= ttlMs / 3) return;
    this.lastRenew = nowMs;
    const ok = await buffer.renewLease({ flow: this.flow, holder, now: clock.now(), ttlMs });
    if (!ok) throw new AppError('BUFFER_LOCKED', engineText.leaseLost);
  }

  async release(): Promise<void> {
    await this.d.buffer.releaseLease(this.flow, this.d.holder).catch(() => undefined);
    this.d.localLeases?.delete(leaseKey(this.flow, this.d.holder));
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
