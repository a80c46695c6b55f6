/**
 * The app on plain Node (everything but the Electron shell): settings in `<dataDir>/settings.json` through
 * `conf`, secrets encrypted with the AES key `<dataDir>/secret.key`, technical logs in `<dataDir>/logs`.
 * The CLI, the web bridge, the demo, the try command and the tests build their app here; the Electron
 * shell calls createApp with electron-store and safeStorage instead.
 */
import path from 'node:path';
import { createApp, type App, type AppDeps } from '../app.js';
import { createLogger } from '../services/logger.js';
import type { Logger } from '../services/ports.js';
import { createNodeCipher } from '../services/settings/node-cipher.js';
import { createNodeSettingsStore } from '../services/settings/store.js';

export interface NodeAppOptions extends Omit<AppDeps, 'settingsStore' | 'cipher' | 'logger' | 'userDataDir'> {
  /** The data folder: settings, secret key, embedded buffer, licence cache, logs. */
  dataDir: string;
  /** Default: daily JSON files in `<dataDir>/logs`, kept 30 days, nothing on the console. */
  logger?: Logger;
}

/** The technical log of a Node entry point (`sink`: what also goes to the console). */
export function nodeLogger(dataDir: string, o: { level?: 'debug' | 'info'; retainDays?: number; sink?: (line: string, level: string) => void } = {}): Logger {
  return createLogger({ dir: path.join(dataDir, 'logs'), retainDays: o.retainDays ?? 30, level: o.level ?? 'info', sink: o.sink ?? (() => undefined) });
}

export async function createNodeApp(o: NodeAppOptions): Promise<App> {
  const { dataDir, logger, ...deps } = o;
  return createApp({
    ...deps,
    settingsStore: await createNodeSettingsStore({ cwd: dataDir }),
    cipher: createNodeCipher({ keyFile: path.join(dataDir, 'secret.key') }),
    logger: logger ?? nodeLogger(dataDir),
    userDataDir: dataDir,
  });
}
