/**
 * The Batigest gateway reads modification dates in the time zone of the settings (`hours.timezone`):
 * every place that builds one (the service factory for the sync runtime, the connection tests) must pass
 * it. An unknown zone is logged by the gateway when it is built, which makes the wiring observable
 * without a SQL Server.
 */
import { describe, expect, it } from 'vitest';
import { createServices, licencePolicy } from '../../src/main/composition/services.js';
import { connectionsFeature } from '../../src/main/features/connections.js';
import type { AppContext } from '../../src/main/features/types.js';
import type { BufferStore } from '../../src/main/services/buffer/index.js';
import type { BatisimplyPort, Logger } from '../../src/main/services/ports.js';
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

/** The app's service factory on fixed settings (as createApp builds it). */
function services(s: Settings, logger: Logger, overrides: Parameters<typeof createServices>[0]['overrides'] = {}) {
  return createServices({
    settings: { get: () => s },
    logger,
    clock: { now: () => new Date() },
    cipher: { available: true, encrypt: (p) => p, decrypt: (c) => c },
    userDataDir: '/nonexistent',
    appVersion: '0.0.0-test',
    licence: licencePolicy('test', false),
    machineName: () => 'PC',
    overrides,
  });
}

function contextOf(s: Settings, log: ReturnType<typeof memoryLogger>): AppContext {
  return { settings: { get: () => s }, services: services(s, log), logger: log, clock: { now: () => new Date() }, userDataDir: '/nonexistent' } as unknown as AppContext;
}

describe('Batigest gateway time zone wiring', () => {
  it('the sync runtime gets a gateway built with settings.hours.timezone', async () => {
    const log = memoryLogger();
    const s = settingsWithZone(UNKNOWN_ZONE);
    const rt = await services(s, log, { batisimply: { close: async () => undefined } as unknown as BatisimplyPort }).syncRuntime({ buffer: {} as BufferStore });
    try {
      expect(zoneWarnings(log)).toHaveLength(1);
    } finally {
      await rt.batigest.close().catch(() => undefined);
    }
  });

  it('the connection tests build their gateway with settings.hours.timezone', async () => {
    const log = memoryLogger();
    const feature = await connectionsFeature()(contextOf(settingsWithZone(UNKNOWN_ZONE), log));
    await Promise.resolve(feature.handlers['sqlServer.test']!(undefined as never, undefined as never)).catch(() => undefined);
    expect(zoneWarnings(log)).toHaveLength(1);
  });

  it('a valid zone is accepted without warning', async () => {
    const log = memoryLogger();
    const feature = await connectionsFeature()(contextOf(settingsWithZone('America/Cayenne'), log));
    await Promise.resolve(feature.handlers['sqlServer.test']!(undefined as never, undefined as never)).catch(() => undefined);
    expect(log.records.filter((r) => r.msg.includes('Fuseau horaire inconnu'))).toHaveLength(0);
  });
});
