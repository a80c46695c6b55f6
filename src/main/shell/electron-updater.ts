/**
 * The UpdateBackend of the installed app: electron-updater's generic provider on the feed address of the
 * settings (the folder holding latest.yml, where electron-builder publishes). The decisions (when to check,
 * never downloading during a run) are the update service's (services/updates/service.ts); this only does
 * the work. The downloaded update is installed when the app quits (autoInstallOnAppQuit): never in the
 * middle of a synchronisation, and never by restarting the app behind the user's back.
 *
 * electron-updater is imported here only (eslint and the layers test forbid it elsewhere).
 */
import electronUpdater from 'electron-updater';
import type { Logger } from '../services/ports.js';
import type { UpdateBackend } from '../services/updates/service.js';

export function createElectronUpdateBackend(logger: Logger): UpdateBackend {
  const { autoUpdater } = electronUpdater;
  const log = logger.child({ component: 'electron-updater' });
  autoUpdater.autoDownload = false;
  autoUpdater.autoInstallOnAppQuit = true;
  autoUpdater.allowDowngrade = false;
  autoUpdater.logger = {
    info: (m?: unknown) => log.info(String(m)),
    warn: (m?: unknown) => log.warn(String(m)),
    error: (m?: unknown) => log.error(String(m)),
    debug: (m: string) => log.debug(m),
  };
  let feed = '';
  return {
    async check(feedUrl) {
      if (feedUrl !== feed) {
        autoUpdater.setFeedURL({ provider: 'generic', url: feedUrl });
        feed = feedUrl;
      }
      const r = await autoUpdater.checkForUpdates();
      if (!r || !r.isUpdateAvailable) return null;
      return { version: r.updateInfo.version, releaseDate: r.updateInfo.releaseDate ?? null };
    },
    async download() {
      await autoUpdater.downloadUpdate();
    },
  };
}
