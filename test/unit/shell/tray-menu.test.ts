/** The tray menu is a pure function of the connector's state (the Electron part only renders it). */
process.env.TZ = 'Europe/Paris';
import { describe, expect, it } from 'vitest';
import { connectorState, type ConnectorState } from '../../../src/shared/connector-state.js';
import type { Overview, UpdateStatus } from '../../../src/shared/contract.js';
import { TOOLTIP_MAX, trayModel, type TrayItem } from '../../../src/main/shell/tray-menu.js';

const NOW = new Date('2026-03-10T10:40:00+01:00');
const min = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();

function facts(patch: Partial<Overview> = {}): Overview {
  const ok = (flow: 'push' | 'hours') => ({
    flow,
    lastRun: { id: `${flow}1`, flow, mode: null, trigger: 'schedule' as const, machineName: 'PC', status: 'success' as const, startedAt: min(-4), endedAt: min(-3), counts: { created: 0, updated: 0, unchanged: 1, skipped: 0, failed: 0, conflicts: 0, writes: 0 }, message: null, jobId: null },
    lastSuccessAt: min(-3),
    scheduled: true,
  });
  return {
    at: NOW.toISOString(),
    softwareLabel: 'Sage Batigest',
    setup: { completed: true, missing: [] },
    licence: { state: 'valid', syncAllowed: true, message: 'Licence valide.', daysLeft: 200, graceDaysLeft: null, graceDays: 7 },
    schedule: { enabled: true, intervalSeconds: 300, nextRunAt: min(5), pausedUntil: null },
    running: null,
    flows: [ok('push'), ok('hours')],
    waiting: [],
    lastAttempt: null,
    bufferError: null,
    journalKnown: true,
    ...patch,
  };
}
const model = (s: ConnectorState, o: { scheduleEnabled?: boolean; update?: UpdateStatus } = {}) =>
  trayModel(s, { now: NOW, productName: 'Connecteur Batigest BatiSimply', scheduleEnabled: o.scheduleEnabled ?? true, update: o.update ?? null });
const labels = (items: TrayItem[]): string[] => items.map((i) => (i.type === 'separator' ? '───' : i.type === 'submenu' ? `${i.label} ▸ ${labels(i.items).join(' / ')}` : i.label));
const find = (items: TrayItem[], label: string) => items.find((i) => i.type !== 'separator' && i.label.startsWith(label));

describe('trayModel', () => {
  it('« à jour »: the first line says the last success and the next run; the menu of the issue, in its order', () => {
    const m = model(connectorState(facts(), NOW));
    expect(m.icon).toBe('ok');
    expect(labels(m.items)).toEqual([
      'Dernier succès il y a 3 min · prochain à 10:45',
      '───',
      'Synchroniser maintenant',
      "Suspendre ▸ 1 heure / 4 heures / Jusqu'à demain 7 h",
      '───',
      'Ouvrir',
      'Journal',
      '───',
      'Quitter',
    ]);
    expect(m.items[0]).toMatchObject({ type: 'label' });
    expect(find(m.items, 'Synchroniser')).toMatchObject({ enabled: true, command: { kind: 'sync-now' } });
    const pause = find(m.items, 'Suspendre') as Extract<TrayItem, { type: 'submenu' }>;
    expect(pause.items.map((i) => (i.type === 'action' ? i.command : null))).toEqual([
      { kind: 'pause', preset: '1h' },
      { kind: 'pause', preset: '4h' },
      { kind: 'pause', preset: 'tomorrow' },
    ]);
    expect(find(m.items, 'Journal')).toMatchObject({ command: { kind: 'open', target: { page: 'journal' } } });
    expect(find(m.items, 'Quitter')).toMatchObject({ command: { kind: 'quit' } });
    expect(m.tooltip).toBe('Connecteur Batigest BatiSimply — À jour\nDernier succès il y a 3 min · prochain à 10:45');
  });

  it('paused: « Reprendre » with the end of the pause replaces « Suspendre »', () => {
    const m = model(connectorState(facts({ schedule: { enabled: true, intervalSeconds: 300, nextRunAt: min(120), pausedUntil: min(120) } }), NOW));
    expect(m.icon).toBe('paused');
    expect(find(m.items, 'Suspendre')).toBeUndefined();
    expect(find(m.items, 'Reprendre')).toMatchObject({ label: "Reprendre (en pause jusqu'à 12:40)", enabled: true, command: { kind: 'resume' } });
  });

  it('schedule off: « Suspendre » is greyed out and says why', () => {
    const m = model(connectorState(facts({ schedule: { enabled: false, intervalSeconds: 300, nextRunAt: null, pausedUntil: null } }), NOW), { scheduleEnabled: false });
    expect(find(m.items, 'Suspendre')).toMatchObject({ label: 'Suspendre (synchronisation automatique désactivée)', enabled: false });
  });

  it('something to do: a second line opens the page that fixes the first problem', () => {
    const s = connectorState(
      facts({
        waiting: [
          { kind: 'unmapped_user', flow: 'hours', count: 4, keys: ['a', 'b', 'c', 'd'], names: ['A'], hours: 99, slots: 12, runId: 'h' },
          { kind: 'unknown_chantier', flow: 'hours', count: 1, keys: ['x'], names: ['x'], hours: 2, slots: 1, runId: 'h' },
        ],
      }),
      NOW,
    );
    const m = model(s);
    expect(m.icon).toBe('attention');
    expect(m.items[1]).toMatchObject({ type: 'action', label: 'À traiter : 4 salariés sans correspondance — 99 h en attente (+1)', command: { kind: 'open', target: { page: 'mapping' } } });
  });

  it('running or blocked by the licence: « Synchroniser maintenant » is greyed out; the icon follows the state', () => {
    const running = model(connectorState(facts({ running: { runId: 'r', flow: 'push', startedAt: min(0), progress: null } }), NOW));
    expect(running.icon).toBe('running');
    expect(find(running.items, 'Synchroniser')).toMatchObject({ enabled: false });
    const licence = model(connectorState(facts({ licence: { state: 'expired', syncAllowed: false, message: 'La licence a expiré le 01/03/2026.', daysLeft: -9, graceDaysLeft: null, graceDays: 7 } }), NOW));
    expect(licence.icon).toBe('licence');
    expect(licence.items[0]).toMatchObject({ label: 'La licence a expiré le 01/03/2026.' });
    expect(find(licence.items, 'Synchroniser')).toMatchObject({ enabled: false });
    const o = facts();
    o.flows[0]!.lastRun!.status = 'failed';
    expect(model(connectorState(o, NOW)).icon).toBe('error');
  });

  it('an update downloaded is said in the menu', () => {
    const update: UpdateStatus = { state: 'ready', currentVersion: '0.1.0', availableVersion: '0.2.0', lastCheckAt: min(-60), nextCheckAt: null, message: 'Mise à jour prête — installée au prochain redémarrage (version 0.2.0).' };
    expect(labels(model(connectorState(facts(), NOW), { update }).items)[1]).toBe('Mise à jour prête — installée au prochain redémarrage (version 0.2.0).');
  });

  it('the tooltip fits the 127 characters Windows shows', () => {
    const long = 'Le serveur SQL Server SRV-COMPTA\\SAGE est injoignable depuis ce poste : vérifiez le réseau, le pare-feu et le nom du serveur dans les réglages.';
    const m = model(connectorState(facts({ licence: { state: 'expired', syncAllowed: false, message: long, daysLeft: -1, graceDaysLeft: null, graceDays: 7 } }), NOW));
    expect(m.tooltip.length).toBeLessThanOrEqual(TOOLTIP_MAX);
    expect(m.tooltip.endsWith('…')).toBe(true);
  });
});
