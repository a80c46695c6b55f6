/**
 * BatiSimply simulator (Keycloak token endpoint + REST API) for tests, the demo and benchmarks.
 *
 *   const sim = await startBatisimplySimulator({ seed: generateBatisimplySeed({ seed: 1, projects: 50 }) });
 *   ... new BatisimplyClient({ ...settings, ssoUrl: sim.ssoUrl, apiUrl: sim.apiUrl }, deps) ...
 *   sim.faults.add({ route: 'GET /api/project', status: 503, times: 2 });
 *   expect(sim.log.count('GET /api/project')).toBe(3);
 *   await sim.close();
 */
export { startBatisimplySimulator, TOKEN_PATH } from './server.js';
export type { BatisimplySimulator, StartOptions, SimulatorConfig, ListShape, ListResource } from './server.js';
export { FaultRegistry, RequestLog } from './faults.js';
export type { FaultSpec, LogEntry } from './faults.js';
export { SimState } from './state.js';
export type { SimAccount, SimClient, SimProject, SimSeed, SimTimeSlot, SimUser } from './state.js';
export { generateBatisimplySeed } from './dataset.js';
export type { DatasetOptions } from './dataset.js';

/** Default credentials the simulator accepts when started without `accounts`/`clients`. */
export const SIM_DEFAULT_CREDENTIALS = {
  clientId: 'connecteur',
  clientSecret: 'secret-client',
  username: 'bureau@exemple.fr',
  password: 'motdepasse',
} as const;
