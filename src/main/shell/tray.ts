/** Tray icon and its menu: Ouvrir, Synchroniser maintenant, État, Quitter. */
import { Menu, Tray, nativeImage } from 'electron';

export interface TrayActions {
  open(): void;
  syncNow(): void;
  showStatus(): void;
  quit(): void;
}

export interface TrayHandle {
  /** Tooltip line, e.g. "Dernière synchro : 10:42 — 3 créés". */
  setStatus(text: string): void;
  destroy(): void;
}

export function createTray(iconPath: string, actions: TrayActions, productName: string): TrayHandle {
  const tray = new Tray(nativeImage.createFromPath(iconPath));
  tray.setToolTip(productName);
  tray.setContextMenu(
    Menu.buildFromTemplate([
      { label: 'Ouvrir', click: () => actions.open() },
      { label: 'Synchroniser maintenant', click: () => actions.syncNow() },
      { label: 'État', click: () => actions.showStatus() },
      { type: 'separator' },
      { label: 'Quitter', click: () => actions.quit() },
    ]),
  );
  tray.on('double-click', () => actions.open());
  return {
    setStatus(text) {
      tray.setToolTip(`${productName}\n${text}`);
    },
    destroy() {
      tray.destroy();
    },
  };
}
