/**
 * Builds the sync engine and what it runs on (Batigest gateway, BatiSimply client, buffer) from the
 * settings. Used by the CLI, the demo and the app's sync feature, so all of them run the same code.
 */
import type { Settings } from '../../../shared/settings.js';
import { BatigestGateway } from '../batigest/gateway.js';
import { BatisimplyClient } from '../batisimply/client.js';
import { openBuffer, type BufferStore } from '../buffer/index.js';
import type { BatigestPort, BatisimplyPort, Clock, Logger } from '../ports.js';
import { refreshEmployeeMapping, type EmployeeMappingRow } from './employees.js';
import { SyncEngine, type SyncHooks } from './engine.js';
import type { FlowModule } from './flow.js';
import { createSyncFlows } from './flows/index.js';

export interface SyncRuntimeDeps {
  settings: () => Settings;
  /** The app's user-data folder (embedded buffer in `<dir>/buffer` unless set in the settings). */
  userDataDir: string;
  logger: Logger;
  clock: Clock;
  machineName: string;
  licence?: { assertSyncAllowed(): Promise<unknown> };
  hooks?: SyncHooks;
  /** Leases held by this process's engines; one set shared by every runtime of the process (see SyncEngineDeps). */
  localLeases?: Set<string>;
  /** Overrides (tests, demo). */
  flows?: readonly FlowModule[];
  batigest?: BatigestPort;
  batisimply?: BatisimplyPort;
  buffer?: BufferStore;
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

export async function createSyncRuntime(d: SyncRuntimeDeps): Promise<SyncRuntime> {
  const s = d.settings();
  const buffer = d.buffer ?? (await openBuffer(s.buffer, d.userDataDir));
  const batigest = d.batigest ?? new BatigestGateway({ settings: s.sqlServer, logger: d.logger, timezone: s.hours.timezone });
  const batisimply = d.batisimply ?? new BatisimplyClient(s.batisimply, { clock: d.clock, logger: d.logger });
  const engine = new SyncEngine({
    flows: d.flows ?? createSyncFlows(),
    batigest,
    batisimply,
    buffer,
    settings: d.settings,
    clock: d.clock,
    logger: d.logger,
    machineName: d.machineName,
    ...(d.licence ? { licence: d.licence } : {}),
    ...(d.hooks ? { hooks: d.hooks } : {}),
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
      if (!d.batigest) await batigest.close().catch(() => undefined);
      if (!d.batisimply) await batisimply.close().catch(() => undefined);
      if (!d.buffer) await buffer.db.close().catch(() => undefined);
    },
  };
}
