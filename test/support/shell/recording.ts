/**
 * Node implementations of the shell's ports (src/main/shell/ports.ts) for the tests: a tray that keeps the
 * models it was given and can « click » a menu item, a notifier that keeps what it showed, and a notification
 * memory in memory (or shared between two controllers, as the file is between two starts).
 */
import type { NotificationMemory } from '../../../src/main/shell/notification-policy.js';
import type { DesktopNotifier, NotificationMemoryStore, TrayView } from '../../../src/main/shell/ports.js';
import type { TrayCommand, TrayItem, TrayModel } from '../../../src/main/shell/tray-menu.js';

export interface RecordingTray extends TrayView {
  models: TrayModel[];
  last(): TrayModel;
  /** Labels of the last menu, submenus as « label ▸ a / b ». */
  labels(): string[];
  /** « Clicks » the item whose label starts with `label` (in a submenu too); resolves when its command ran. */
  click(label: string): Promise<void>;
  destroyed: boolean;
}

export function recordingTray(): RecordingTray {
  let onCommand: (c: TrayCommand) => void | Promise<void> = () => undefined;
  const t: RecordingTray = {
    models: [],
    destroyed: false,
    render(model, cb) {
      t.models.push(model);
      onCommand = cb;
    },
    destroy() {
      t.destroyed = true;
    },
    last() {
      const m = t.models.at(-1);
      if (!m) throw new Error('the tray was never rendered');
      return m;
    },
    labels() {
      const walk = (items: TrayItem[]): string[] =>
        items.map((i) => (i.type === 'separator' ? '───' : i.type === 'submenu' ? `${i.label} ▸ ${walk(i.items).join(' / ')}` : i.label));
      return walk(t.last().items);
    },
    async click(label) {
      const find = (items: TrayItem[]): TrayItem | undefined => {
        for (const i of items) {
          if (i.type === 'action' && i.label.startsWith(label)) return i;
          if (i.type === 'submenu') {
            const x = find(i.items);
            if (x) return x;
          }
        }
        return undefined;
      };
      const item = find(t.last().items);
      if (!item || item.type !== 'action') throw new Error(`no menu item « ${label} » in: ${t.labels().join(' | ')}`);
      if (!item.enabled) throw new Error(`menu item « ${label} » is greyed out`);
      await onCommand(item.command);
    },
  };
  return t;
}

export interface Shown {
  title: string;
  body: string;
  click(): void;
}

export function recordingNotifier(): DesktopNotifier & { shown: Shown[] } {
  const shown: Shown[] = [];
  return {
    shown,
    show(n, onClick) {
      shown.push({ ...n, click: onClick });
    },
  };
}

export function memoryNotificationStore(initial: NotificationMemory | null = null): NotificationMemoryStore & { value: NotificationMemory | null } {
  const s = {
    value: initial,
    load: () => (s.value ? structuredClone(s.value) : null),
    save: (m: NotificationMemory) => {
      s.value = structuredClone(m);
    },
  };
  return s;
}
