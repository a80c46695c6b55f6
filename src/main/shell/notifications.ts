/** System notifications in Electron, behind the DesktopNotifier interface (no-op where unsupported). */
import { Notification } from 'electron';
import type { DesktopNotifier } from './ports.js';

export function createElectronNotifier(iconPath?: string): DesktopNotifier {
  return {
    show({ title, body }, onClick) {
      if (!Notification.isSupported()) return;
      const n = new Notification({ title, body, silent: false, ...(iconPath ? { icon: iconPath } : {}) });
      n.on('click', onClick);
      n.show();
    },
  };
}
