/** The settings file of the desktop app, with electron-store (same format as the Node `conf` store). */
import path from 'node:path';
import ElectronStore from 'electron-store';
import { ensurePrivateDir } from '../services/private-fs.js';
import { confBackedStore, type ConfLike, type SettingsStore } from '../services/settings/store.js';

export function createElectronSettingsStore(userDataDir: string): SettingsStore {
  // Electron creates its user-data folder with the default rights: settings, keys and logs live there.
  ensurePrivateDir(userDataDir);
  return confBackedStore({
    path: path.join(userDataDir, 'settings.json'),
    open: () =>
      new ElectronStore<Record<string, unknown>>({
        name: 'settings',
        cwd: userDataDir,
        accessPropertiesByDotNotation: false,
        clearInvalidConfig: false,
        configFileMode: 0o600,
      }) as unknown as ConfLike,
  });
}
