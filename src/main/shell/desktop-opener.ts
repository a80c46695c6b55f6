/** « Ouvrir le dossier des journaux », « Afficher le diagnostic »: Electron's shell, behind DesktopOpener. */
import { shell } from 'electron';
import type { DesktopOpener } from '../features/types.js';

export function createElectronOpener(): DesktopOpener {
  return {
    // openPath answers '' on success, an error text otherwise.
    openFolder: async (p) => (await shell.openPath(p)) === '',
    showFile: async (p) => {
      shell.showItemInFolder(p);
      return true;
    },
  };
}
