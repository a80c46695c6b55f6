/**
 * The feature modules plugged into the app (see AppFeature in app.ts). One list, used by the
 * Electron shell, the web bridge and the end-to-end tests alike.
 *
 * TODO(lead): add the features of the other services here as they land, e.g.
 *   licenceFeature   (services/licence)   → licence.status / setKey / check, emits 'licence:status'
 *   connectionsFeature (batigest, batisimply, buffer) → sqlServer.test / detectColumns, buffer.test, batisimply.test
 *   syncFeature      (services/sync + buffer + scheduler) → sync.*, journal.*, mapping.*, schedule.*
 */
import type { AppFeature } from './app.js';

export function defaultFeatures(): AppFeature[] {
  return [];
}
