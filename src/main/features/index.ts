/**
 * The feature modules plugged into the app (app.info, settings.* and config.export / import are always there, see app.ts).
 * One list, used by the Electron shell, the web bridge, the CLI, the demo and the end-to-end tests:
 *   licence      → licence.status / setKey / check, event 'licence:status';
 *   connections  → sqlServer.test / detectColumns, buffer.test, batisimply.test, mapping.codebsStatus / createCodebsColumn;
 *   sync         → sync.*, buffer.status, journal.*, mapping.get / save, schedule.* (engine, buffer, scheduler),
 *                  status.overview (event 'status:overview'), maintenance.*, diagnostics.*,
 *                  machines.list / forget (the PCs of a shared buffer, their heartbeat);
 *   protection   → protection.* and the guard of the protected channels (PIN on a shared PC);
 *   updates      → updates.status / check, event 'updates:status';
 *   chantiers    → chantiers.preview (Réglages › Chantiers: scope, Etat values, sold hours, name source).
 */
import type { AppFeature } from './types.js';
import { chantiersFeature } from './chantiers.js';
import { connectionsFeature } from './connections.js';
import { licenceFeature, type LicenceFeatureOptions } from './licence.js';
import { protectionFeature } from './protection.js';
import { syncFeature, type SyncFeatureOptions } from './sync/index.js';
import { updatesFeature, type UpdatesFeatureOptions } from './updates.js';

export interface DefaultFeaturesOptions {
  licence?: LicenceFeatureOptions;
  sync?: SyncFeatureOptions;
  updates?: UpdatesFeatureOptions;
}

export function defaultFeatures(opts: DefaultFeaturesOptions = {}): AppFeature[] {
  return [licenceFeature(opts.licence), connectionsFeature(), syncFeature(opts.sync), protectionFeature(), updatesFeature(opts.updates), chantiersFeature()];
}
