/** "Démarrer avec Windows": the OS login item, behind a small interface. */
import { app } from 'electron';

export const HIDDEN_ARG = '--hidden';

export interface LoginItem {
  isEnabled(): boolean;
  setEnabled(enabled: boolean): void;
}

export function createLoginItem(): LoginItem {
  return {
    isEnabled: () => app.getLoginItemSettings({ args: [HIDDEN_ARG] }).openAtLogin,
    setEnabled(enabled) {
      // started at login: in the tray only, no window
      app.setLoginItemSettings({ openAtLogin: enabled, args: [HIDDEN_ARG] });
    },
  };
}
