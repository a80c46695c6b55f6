/**
 * The Batigest gateway reads modification dates in the time zone of the settings (`hours.timezone`):
 * every place that builds one (sync runtime, connection tests) must pass it. An unknown zone is logged
 * by the gateway when it is built, which makes the wiring observable without a SQL Server.
 */
import { describe, expect, it } from 'vitest';
import type { AppContext } from '../../src/main/app.js';
import { connectionsFeature } from '../../src/main/features/connections.js';
import type { BufferStore } from '../../src/main/services/buffer/index.js';
import type { BatisimplyPort } from '../../src/main/services/ports.js';
import { createSyncRuntime } from '../../src/main/services/sync/runtime.js';
import { defaultSettings, type Settings } from '../../src/shared/settings.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

const UNKNOWN_ZONE = 'Mars/Olympus_Mons';

function settingsWithZone(timezone: string): Settings {
  const s = defaultSettings();
  // An unreachable server: nothing here should connect anywhere.
  return { ...s, sqlServer: { ...s.sqlServer, server: '127.0.0.1,1', database: 'X' }, hours: { ...s.hours, timezone } };
}

const zoneWarnings = (log: ReturnType<typeof memoryLogger>) =>
  log.records.filter((r) => r.msg.includes('Fuseau horaire inconnu') && r.fields.timezone === UNKNOWN_ZONE);

describe('Batigest gateway time zone wiring', () => {
  it('the sync runtime builds its gateway with settings.hours.timezone', async () => {
    const log = memoryLogger();
    const s = settingsWithZone(UNKNOWN_ZONE);
    const rt = await createSyncRuntime({
      settings: () => s,
      userDataDir: '/nonexistent',
      logger: log,
      clock: { now: () => new Date() } as never,
      machineName: 'PC',
      buffer: {} as BufferStore,
      batisimply: { close: async () => undefined } as unknown as BatisimplyPort,
    });
    try {
      expect(zoneWarnings(log)).toHaveLength(1);
    } finally {
      await rt.batigest.close().catch(() => undefined);
    }
  });

  it('the connection tests build their gateway with settings.hours.timezone', async () => {
    const log = memoryLogger();
    const s = settingsWithZone(UNKNOWN_ZONE);
    const ctx = {
      settings: { get: () => s },
      logger: log,
      clock: { now: () => new Date() },
      userDataDir: '/nonexistent',
    } as unknown as AppContext;
    const feature = await connectionsFeature()(ctx);
    await Promise.resolve(feature.handlers['sqlServer.test']!(undefined as never, undefined as never)).catch(() => undefined);
    expect(zoneWarnings(log)).toHaveLength(1);
  });

  it('a valid zone is accepted without warning', async () => {
    const log = memoryLogger();
    const s = settingsWithZone('America/Cayenne');
    const ctx = { settings: { get: () => s }, logger: log, clock: { now: () => new Date() }, userDataDir: '/x' } as unknown as AppContext;
    const feature = await connectionsFeature()(ctx);
    await Promise.resolve(feature.handlers['sqlServer.test']!(undefined as never, undefined as never)).catch(() => undefined);
    expect(log.records.filter((r) => r.msg.includes('Fuseau horaire inconnu'))).toHaveLength(0);
  });
});
