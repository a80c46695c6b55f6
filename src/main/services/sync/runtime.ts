/**
 * Wires the sync engine onto its ports (Batigest gateway, BatiSimply client, buffer). It builds none of
 * them: the service factory (src/main/composition/services.ts) does, so every entry point builds them
 * one way. Closing the runtime cancels its runs and closes the ports it was given to own.
 */
import type { Settings } from '../../../shared/settings.js';
import type { BufferStore } from '../buffer/index.js';
import type { BatigestPort, BatisimplyPort, Clock, ImportsPorts, Logger } from '../ports.js';
import { refreshEmployeeMapping, type EmployeeMappingRow } from './employees.js';
import { SyncEngine, type SyncHooks } from './engine.js';
import type { FlowModule } from './flow.js';
import type { LeaseTimers } from './lease.js';
import { createSyncFlows } from './flows/index.js';

export interface SyncRuntimeDeps {
  settings: () => Settings;
  logger: Logger;
  clock: Clock;
  machineName: string;
  licence?: { assertSyncAllowed(): Promise<unknown> };
  hooks?: SyncHooks;
  /** Timers of the lease heartbeat (time-scaled tests). */
  timers?: LeaseTimers;
  /** Leases held by this process's engines; one set shared by every runtime of the process (see SyncEngineDeps). */
  localLeases?: Set<string>;
  /** The flows the engine runs (default: createSyncFlows(), the registered ones). */
  flows?: readonly FlowModule[];
  batigest: BatigestPort;
  batisimply: BatisimplyPort;
  buffer: BufferStore;
  imports?: ImportsPorts;
  /** The ports closed with the runtime (the buffer's owner is usually the buffer pool: not closed here). */
  owns?: { batigest?: boolean; batisimply?: boolean; buffer?: boolean };
}

export interface SyncRuntime {
  engine: SyncEngine;
  buffer: BufferStore;
  batigest: BatigestPort;
  batisimply: BatisimplyPort;
  /** Reads BatiSimply users and Batigest salariés, stores the mapping cache in the buffer and returns it. */
  refreshEmployeeMapping(signal?: AbortSignal): Promise<EmployeeMappingRow[]>;
  close(): Promise<void>;
}

export function createSyncRuntime(d: SyncRuntimeDeps): SyncRuntime {
  const { batigest, batisimply, buffer } = d;
  const engine = new SyncEngine({
    flows: d.flows ?? createSyncFlows(),
    batigest,
    batisimply,
    buffer,
    ...(d.imports ? { imports: d.imports } : {}),
    settings: d.settings,
    clock: d.clock,
    logger: d.logger,
    machineName: d.machineName,
    ...(d.licence ? { licence: d.licence } : {}),
    ...(d.hooks ? { hooks: d.hooks } : {}),
    ...(d.timers ? { timers: d.timers } : {}),
    ...(d.localLeases ? { localLeases: d.localLeases } : {}),
  });
  return {
    engine,
    buffer,
    batigest,
    batisimply,
    refreshEmployeeMapping: (signal) => refreshEmployeeMapping({ batigest, batisimply, buffer, clock: d.clock }, signal),
    async close() {
      engine.cancel();
      if (d.owns?.batigest) await batigest.close().catch(() => undefined);
      if (d.owns?.batisimply) await batisimply.close().catch(() => undefined);
      if (d.owns?.buffer) await buffer.db.close().catch(() => undefined);
    },
  };
}
