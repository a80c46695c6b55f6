/** The tray icon in Electron: renders a TrayModel (tray-menu.ts) — one icon per state, tooltip, menu. */
import path from 'node:path';
import { Menu, Tray, nativeImage, type MenuItemConstructorOptions, type NativeImage } from 'electron';
import type { StateKind } from '../../shared/connector-state.js';
import type { TrayView } from './ports.js';
import type { TrayCommand, TrayItem } from './tray-menu.js';

/** The icons drawn by scripts/make-icons.ts: build/tray/<state>.ico on Windows, <state>.png (+ @2x) elsewhere. */
export function trayIconPath(buildDir: string, state: StateKind, platform = process.platform): string {
  return path.join(buildDir, 'tray', platform === 'win32' ? `${state}.ico` : `${state}.png`);
}

function template(items: TrayItem[], onCommand: (c: TrayCommand) => void | Promise<void>): MenuItemConstructorOptions[] {
  return items.map((i): MenuItemConstructorOptions => {
    switch (i.type) {
      case 'separator':
        return { type: 'separator' };
      case 'label':
        return { label: i.label, enabled: false };
      case 'action':
        return { label: i.label, enabled: i.enabled, click: () => void onCommand(i.command) };
      case 'submenu':
        return { label: i.label, enabled: i.enabled, submenu: template(i.items, onCommand) };
    }
  });
}

export function createElectronTray(buildDir: string, onDoubleClick: () => void): TrayView {
  const images = new Map<StateKind, NativeImage>();
  const image = (s: StateKind) => {
    let img = images.get(s);
    if (!img) images.set(s, (img = nativeImage.createFromPath(trayIconPath(buildDir, s))));
    return img;
  };
  const tray = new Tray(image('ok'));
  tray.on('double-click', onDoubleClick);
  let lastIcon: StateKind | null = null;
  return {
    render(model, onCommand) {
      if (model.icon !== lastIcon) {
        tray.setImage(image(model.icon));
        lastIcon = model.icon;
      }
      tray.setToolTip(model.tooltip);
      tray.setContextMenu(Menu.buildFromTemplate(template(model.items, onCommand)));
    },
    destroy() {
      tray.destroy();
    },
  };
}
