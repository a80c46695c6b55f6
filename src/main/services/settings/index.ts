export { SettingsService, applyPatch, maskSettings, envNameOf, envOverrides, type SettingsServiceOptions } from './service.js';
export { confBackedStore, createNodeSettingsStore, type SettingsStore, type StoreLoad, type ConfLike } from './store.js';
export { createNodeCipher, userDataDir } from './node-cipher.js';
export { migrate, detectVersion, MIGRATIONS, type Migration } from './migrations.js';
