/**
 * Réglages › Postes (issue 20): the PCs of a shared buffer. Each app writes its heartbeat to the buffer's `machines`
 * table (at start once the buffer is open, then every minute, and when the panel asks), and lists every PC seen:
 * name, version, last heartbeat, the flow whose lease it holds or its last run, whether it answers. A PC unseen for
 * FORGET_AFTER_DAYS can be forgotten (« Oublier ce poste »); a live one cannot.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { MachinesView } from '../../../shared/contract.js';
import { AppError, toAppError } from '../../../shared/errors.js';
import type { Handlers } from '../../ipc/router.js';
import { MachineRegistry, type MachineRow } from '../../services/buffer/machines.js';
import { LATEST_BUFFER_VERSION } from '../../services/buffer/migrations.js';
import type { BufferStore } from '../../services/buffer/store.js';
import { nodeTimers, type Timers } from '../../services/scheduler/scheduler.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';

export const HEARTBEAT_MS = 60_000;
export const FORGET_AFTER_DAYS = 7;

/** This installation's id on the buffer: a UUID kept in the data folder (never shared by a configuration export). */
export function localMachineId(userDataDir: string): string {
  const file = path.join(userDataDir, 'poste-id');
  try {
    const id = fs.readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f-]{36}$/.test(id)) return id;
  } catch {
    // first start: made below
  }
  const id = randomUUID();
  fs.mkdirSync(userDataDir, { recursive: true });
  fs.writeFileSync(file, id + '\n');
  return id;
}

/** a < b for dotted versions (1.10.0 > 1.9.3); anything unreadable compares equal. Pure. */
export function olderVersion(a: string, b: string): boolean {
  const pa = a.split(/[.+-]/).map(Number);
  const pb = b.split(/[.+-]/).map(Number);
  for (let i = 0; i < 3; i++) {
    const x = pa[i] ?? 0;
    const y = pb[i] ?? 0;
    if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
    if (x !== y) return x < y;
  }
  return false;
}

/** The panel's view of the rows. Pure. */
export function machinesView(rows: MachineRow[], o: { now: Date; selfId: string; shared: boolean; version: string }): MachinesView {
  const forgetBefore = o.now.getTime() - FORGET_AFTER_DAYS * 86_400_000;
  return {
    shared: o.shared,
    forgetAfterDays: FORGET_AFTER_DAYS,
    machines: rows.map((r) => {
      const self = r.machine_id === o.selfId;
      const reachable = self || o.now.getTime() - r.last_heartbeat.getTime() <= 3 * r.heartbeat_ms;
      return {
        machineId: r.machine_id,
        name: r.name,
        appVersion: r.app_version,
        schemaVersion: r.schema_version,
        firstSeen: r.first_seen.toISOString(),
        lastHeartbeat: r.last_heartbeat.toISOString(),
        reachable,
        self,
        holding: r.holding ? r.holding.split(',') : [],
        lastRun: r.last_flow && r.last_run_at ? { flow: r.last_flow, startedAt: r.last_run_at.toISOString(), status: r.last_status ?? '' } : null,
        forgettable: !self && !reachable && r.last_heartbeat.getTime() < forgetBefore,
        outdated: r.schema_version < LATEST_BUFFER_VERSION || olderVersion(r.app_version, o.version),
      };
    }),
  };
}

export interface MachinesParts {
  handlers: Pick<Handlers, 'machines.list' | 'machines.forget'>;
  /** Writes the heartbeat now (the buffer just opened). */
  beat(): Promise<void>;
  stop(): void;
}

export function machinesParts(ctx: AppContext, jobs: SyncJobs, opts: { timers?: Timers; run: boolean }): MachinesParts {
  const log = ctx.logger.child({ feature: 'machines' });
  const timers = opts.timers ?? nodeTimers;
  let selfId: string | null = null;
  const id = (): string => (selfId ??= localMachineId(ctx.userDataDir));
  const beatOn = (store: BufferStore): Promise<void> =>
    new MachineRegistry(store.db).beat({ machineId: id(), name: ctx.machineName(), appVersion: ctx.version, schemaVersion: LATEST_BUFFER_VERSION, heartbeatMs: HEARTBEAT_MS, now: ctx.clock.now() });
  const beat = async (): Promise<void> => {
    const store = await jobs.openBuffer();
    if (!store) return;
    await beatOn(store).catch((e: unknown) => log.warn('heartbeat write failed', { code: toAppError(e).code }));
  };
  let timer: unknown = null;
  let stopped = false;
  const loop = (): void => {
    timer = timers.setTimeout(() => void beat().finally(() => !stopped && loop()), HEARTBEAT_MS);
  };
  if (opts.run) loop();

  const view = async (): Promise<MachinesView> => {
    const store = await jobs.buffer();
    await beatOn(store);
    const now = ctx.clock.now();
    return machinesView(await new MachineRegistry(store.db).list(now), { now, selfId: id(), shared: store.db.kind === 'remote', version: ctx.version });
  };
  return {
    handlers: {
      'machines.list': () => view(),
      'machines.forget': async ({ machineId }) => {
        const store = await jobs.buffer();
        const before = new Date(ctx.clock.now().getTime() - FORGET_AFTER_DAYS * 86_400_000);
        if (machineId === id() || !(await new MachineRegistry(store.db).forget(machineId, before))) {
          throw new AppError('INVALID_INPUT', `Ce poste a donné signe de vie depuis moins de ${FORGET_AFTER_DAYS} jours (ou c'est ce poste-ci) : il n'est pas oublié. Réglages › Postes.`, { detail: `machine ${machineId}` });
        }
        log.info('machine forgotten', { machineId });
        return view();
      },
    },
    beat,
    stop: () => {
      stopped = true;
      if (timer !== null) timers.clearTimeout(timer);
    },
  };
}
