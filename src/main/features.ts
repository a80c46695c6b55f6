/**
 * The feature modules plugged into the app (see AppFeature in app.ts). One list, used by the
 * Electron shell, the web bridge and the end-to-end tests alike:
 *   licence      → licence.status / setKey / check, event 'licence:status', the sync guard;
 *   connections  → sqlServer.test / detectColumns, buffer.test, batisimply.test, mapping.codebsStatus / createCodebsColumn;
 *   sync         → sync.*, journal.*, mapping.get / save, schedule.* (engine, buffer, scheduler).
 */
import type { AppFeature } from './app.js';
import { connectionsFeature } from './features/connections.js';
import { syncFeature, type SharedBuffer } from './features/sync.js';
import { createLicenceFeature } from './services/licence/index.js';
import type { PinnedLicenceConfig } from './services/licence/licence-service.js';
import type { SecretCipher } from './services/ports.js';

export interface DefaultFeaturesOptions {
  cipher: SecretCipher;
  appVersion: string;
  /**
   * Licence values built into the release; defaults to services/licence/vendor-config.ts.
   * Tests and development pass `{}` (public key from the settings) or their own key.
   */
  licencePinned?: PinnedLicenceConfig;
  /**
   * True in the packaged Electron app: without a vendor key built in, no licence is accepted (sync refused).
   * Development and test hosts (bridge, CLI, tests) leave it off.
   */
  licenceRequireBuiltInKey?: boolean;
  /** Tray notification of scheduled sync results (the Electron shell passes it). */
  notify?(title: string, body: string): void;
}

export function defaultFeatures(opts: DefaultFeaturesOptions): AppFeature[] {
  const licence = createLicenceFeature({
    cipher: opts.cipher,
    appVersion: opts.appVersion,
    ...(opts.licencePinned ? { pinned: opts.licencePinned } : {}),
    ...(opts.licenceRequireBuiltInKey ? { requireBuiltInKey: true } : {}),
  });
  const shared: SharedBuffer = {};
  return [
    licence.feature,
    connectionsFeature({ openBuffer: async (s) => (shared.bufferFor ? shared.bufferFor(s) : null) }),
    syncFeature({
      licence: {
        assertSyncAllowed: () => licence.guard.assertSyncAllowed(),
        allowsSync: () => licence.service()?.status().allowsSync ?? false,
      },
      shared,
      ...(opts.notify ? { notify: opts.notify } : {}),
    }),
  ];
}
