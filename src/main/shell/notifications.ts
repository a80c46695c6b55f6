/** System notifications behind a small interface (no-op where unsupported). */
import { Notification } from 'electron';

export interface Notifier {
  notify(title: string, body: string, onClick?: () => void): void;
}

export function createNotifier(iconPath?: string): Notifier {
  return {
    notify(title, body, onClick) {
      if (!Notification.isSupported()) return;
      const n = new Notification({ title, body, silent: false, ...(iconPath ? { icon: iconPath } : {}) });
      if (onClick) n.on('click', onClick);
      n.show();
    },
  };
}
