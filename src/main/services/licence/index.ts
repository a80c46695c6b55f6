export { LicenceService, defaultSupabaseFactory, type LicenceServiceDeps, type FetchLike, type SupabaseFactory, type PinnedLicenceConfig } from './licence-service.js';
export { VENDOR_LICENCE_PINNED, VENDOR_LICENCE_PUBLIC_KEY } from './vendor-config.js';
export { FileLicenceCacheStore, MemoryLicenceCacheStore, type LicenceCacheStore } from './cache-store.js';
export { fileMachineId, nodeMachineIdSources, readOsMachineId, type MachineIdentity, type MachineIdProvider, type MachineIdSources } from './machine-id.js';
export { toContractLicenceStatus } from './ipc-status.js';
