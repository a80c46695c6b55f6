/**
 * The small interfaces the shell puts in front of Electron's desktop APIs, so that what decides (the state,
 * the tray menu, the notification policy: pure functions) and what wires them (controller.ts) run and are
 * tested in plain Node. The Electron implementations: electron-tray.ts (Tray, Menu, nativeImage),
 * notifications.ts (Notification), desktop-opener.ts (shell.openPath / showItemInFolder),
 * electron-updater.ts (autoUpdater). Recording implementations for the tests: test/support/shell/.
 */
import type { TrayCommand, TrayModel } from './tray-menu.js';
import type { NotificationMemory } from './notification-policy.js';

/** The tray icon: shows a model (icon by state, tooltip, menu) and reports the chosen command. */
export interface TrayView {
  render(model: TrayModel, onCommand: (c: TrayCommand) => void | Promise<void>): void;
  destroy(): void;
}

/** A desktop notification; `onClick` opens the page that fixes what it says. */
export interface DesktopNotifier {
  show(n: { title: string; body: string }, onClick: () => void): void;
}

/** Where the notification policy keeps what it notified (so that a restart does not notify it again). */
export interface NotificationMemoryStore {
  load(): NotificationMemory | null;
  save(m: NotificationMemory): void;
}
