/**
 * The sync flows, in the order `run('all')` runs them. Adding a flow: its own folder under flows/ (a pure
 * planner and an executor behind FlowModule, see ../flow.ts) and one line here. (Its name also goes into
 * FlowName and the runs table's CHECK, services/buffer: the buffer journals every flow's runs.)
 */
import type { FlowModule } from '../flow.js';
import { createHoursFlow, type HoursFlowOptions } from './hours/index.js';
import { importsFlow } from './imports/index.js';
import { pushFlow } from './push/index.js';

export interface SyncFlowOptions {
  hours?: HoursFlowOptions;
}

export function createSyncFlows(o: SyncFlowOptions = {}): FlowModule[] {
  return [
    pushFlow, // Batigest chantiers/devis → BatiSimply projects
    createHoursFlow(o.hours), // BatiSimply validated hours → Batigest SuiviMO
    importsFlow, // exports API → Batigest's import folder (optional module, own cycle: not part of 'all')
  ];
}
