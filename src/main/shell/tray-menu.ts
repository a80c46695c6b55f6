/**
 * The tray as a pure function of the connector's state: which icon, which tooltip, which menu. The Electron
 * part (electron-tray.ts) only renders this model and sends the chosen action back.
 *
 * Menu:
 *   <last success · next run>            (or what runs, or why nothing does)
 *   À traiter : <first problem>          (opens the page that fixes it; only when there is one)
 *   Mise à jour prête — …                (only when an update is downloaded)
 *   ───
 *   Synchroniser maintenant
 *   Suspendre ▸ 1 heure / 4 heures / Jusqu'à demain 7 h     — or —     Reprendre (en pause jusqu'à …)
 *   ───
 *   Ouvrir
 *   Journal
 *   ───
 *   Quitter
 */
import type { NavTarget, PausePreset, UpdateStatus } from '../../shared/contract.js';
import { untilTime, type ConnectorState, type StateKind } from '../../shared/connector-state.js';

export type TrayCommand =
  | { kind: 'sync-now' }
  | { kind: 'pause'; preset: PausePreset }
  | { kind: 'resume' }
  | { kind: 'open'; target?: NavTarget }
  | { kind: 'quit' };

export type TrayItem =
  | { type: 'label'; label: string }
  | { type: 'separator' }
  | { type: 'action'; label: string; enabled: boolean; command: TrayCommand }
  | { type: 'submenu'; label: string; enabled: boolean; items: TrayItem[] };

export interface TrayModel {
  icon: StateKind;
  tooltip: string;
  items: TrayItem[];
}

/** Windows cuts a tray tooltip at 127 characters. */
export const TOOLTIP_MAX = 127;

function clip(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max - 1).trimEnd()}…`;
}

export function trayModel(state: ConnectorState, opts: { now: Date; productName: string; scheduleEnabled: boolean; update?: UpdateStatus | null }): TrayModel {
  const items: TrayItem[] = [{ type: 'label', label: clip(state.headline, 120) }];
  const first = state.problems[0];
  if (first) {
    const more = state.problems.length > 1 ? ` (+${state.problems.length - 1})` : '';
    items.push({ type: 'action', label: clip(`À traiter : ${first.title}${more}`, 120), enabled: true, command: { kind: 'open', target: first.fix.target } });
  }
  if (opts.update?.state === 'ready') items.push({ type: 'label', label: opts.update.message });
  items.push({ type: 'separator' });
  items.push({ type: 'action', label: 'Synchroniser maintenant', enabled: state.canSync, command: { kind: 'sync-now' } });
  if (state.pausedUntil) {
    items.push({ type: 'action', label: `Reprendre (en pause ${untilTime(state.pausedUntil, opts.now)})`, enabled: true, command: { kind: 'resume' } });
  } else {
    items.push({
      type: 'submenu',
      label: opts.scheduleEnabled ? 'Suspendre' : 'Suspendre (synchronisation automatique désactivée)',
      enabled: opts.scheduleEnabled,
      items: [
        { type: 'action', label: '1 heure', enabled: true, command: { kind: 'pause', preset: '1h' } },
        { type: 'action', label: '4 heures', enabled: true, command: { kind: 'pause', preset: '4h' } },
        { type: 'action', label: "Jusqu'à demain 7 h", enabled: true, command: { kind: 'pause', preset: 'tomorrow' } },
      ],
    });
  }
  items.push({ type: 'separator' });
  items.push({ type: 'action', label: 'Ouvrir', enabled: true, command: { kind: 'open' } });
  items.push({ type: 'action', label: 'Journal', enabled: true, command: { kind: 'open', target: { page: 'journal' } } });
  items.push({ type: 'separator' });
  items.push({ type: 'action', label: 'Quitter', enabled: true, command: { kind: 'quit' } });
  return { icon: state.kind, tooltip: clip(`${opts.productName} — ${state.label}\n${state.headline}`, TOOLTIP_MAX), items };
}
