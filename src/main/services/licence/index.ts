export { LicenceService, defaultSupabaseFactory, type LicenceServiceDeps, type FetchLike, type SupabaseFactory } from './licence-service.js';
export { FileLicenceCacheStore, MemoryLicenceCacheStore, type LicenceCacheStore } from './cache-store.js';
export { fileMachineId, type MachineIdProvider } from './machine-id.js';
export { toContractLicenceStatus } from './ipc-status.js';
