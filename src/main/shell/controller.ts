/**
 * The shell's controller: what the tray and the notifications do, wired onto the app — in plain Node (no
 * Electron import), so it is tested with recording implementations of its ports.
 *
 *  - the facts (status.overview, then each 'status:overview' event) → connectorState → trayModel → the tray;
 *    re-rendered every minute so that « il y a 3 min » stays true;
 *  - each new state → the notification policy (with its memory on disk) → desktop notifications whose click
 *    opens the page that fixes the problem;
 *  - the tray's commands → the same channels as the window (sync.run, schedule.pause / resume), so the tray
 *    and a button are the same code;
 *  - an update downloaded → one notification « Mise à jour prête — installée au prochain redémarrage ».
 */
import type { NavTarget, Overview, UpdateStatus } from '../../shared/contract.js';
import type { ProgressEvent } from '../../shared/domain.js';
import { connectorState, type ConnectorState } from '../../shared/connector-state.js';
import type { App } from '../app.js';
import { systemClock, type Clock, type Logger } from '../services/ports.js';
import { notificationsFor, type NotificationMemory } from './notification-policy.js';
import type { DesktopNotifier, NotificationMemoryStore, TrayView } from './ports.js';
import { trayModel, type TrayCommand } from './tray-menu.js';

export interface ShellControllerDeps {
  app: Pick<App, 'router' | 'onEvent' | 'context'>;
  tray: TrayView | null;
  notifier: DesktopNotifier;
  memory: NotificationMemoryStore;
  /** Shows the window, on a page when given. */
  show(target?: NavTarget): void;
  quit(): void;
  logger: Logger;
  clock?: Clock;
  /** How often the relative times are re-rendered (default 60 s). */
  tickMs?: number;
}

export interface ShellController {
  /** The last state computed (null before the first facts). */
  state(): ConnectorState | null;
  /** Runs a tray command (the tray calls it; tests too). */
  command(c: TrayCommand): Promise<void>;
  dispose(): void;
}

const HOST = { host: 'electron' } as const;

export async function startShellController(d: ShellControllerDeps): Promise<ShellController> {
  const clock = d.clock ?? systemClock;
  const log = d.logger.child({ component: 'shell-controller' });
  let facts: Overview | null = null;
  let update: UpdateStatus | null = null;
  let current: ConnectorState | null = null;
  let memory: NotificationMemory | null = d.memory.load();
  let disposed = false;

  const notify = (title: string, body: string, target?: NavTarget) => {
    try {
      d.notifier.show({ title, body }, () => d.show(target));
    } catch (e) {
      log.warn('notification failed', { detail: e instanceof Error ? e.message : String(e) });
    }
  };

  const render = () => {
    if (!facts || disposed) return;
    const now = clock.now();
    current = connectorState(facts, now);
    d.tray?.render(trayModel(current, { now, productName: d.app.context.productName, scheduleEnabled: facts.schedule.enabled, update }), (c) => command(c));
  };

  const onFacts = (o: Overview) => {
    facts = o;
    render();
    if (!current) return;
    const { notices, memory: next } = notificationsFor(memory, current);
    if (JSON.stringify(next) !== JSON.stringify(memory)) {
      memory = next;
      d.memory.save(next);
    }
    for (const n of notices) notify(n.title, n.body, n.target);
  };

  const onUpdate = (u: UpdateStatus) => {
    const wasReady = update?.state === 'ready';
    update = u;
    render();
    if (u.state === 'ready' && !wasReady) notify('Mise à jour prête', u.message, { page: 'settings', section: 'updates' });
  };

  const invoke = async (channel: 'sync.run' | 'schedule.pause' | 'schedule.resume', input: unknown, failTitle: string) => {
    const r = await d.app.router.invoke(channel, input, HOST);
    if (!r.ok) notify(failTitle, r.error.message, { page: 'dashboard' });
  };

  async function command(c: TrayCommand): Promise<void> {
    switch (c.kind) {
      case 'sync-now':
        return invoke('sync.run', { flow: 'all' }, 'Synchronisation impossible');
      case 'pause':
        return invoke('schedule.pause', { preset: c.preset }, 'Suspension impossible');
      case 'resume':
        return invoke('schedule.resume', undefined, 'Reprise impossible');
      case 'open':
        return d.show(c.target);
      case 'quit':
        return d.quit();
    }
  }

  // The run in progress: its progress in the tooltip and the first line, redrawn at most every 2 s.
  let lastProgressDraw = 0;
  const onProgress = (p: ProgressEvent) => {
    if (!facts?.running || facts.running.runId !== p.runId) return;
    facts = { ...facts, running: { ...facts.running, progress: p } };
    const t = clock.now().getTime();
    if (t - lastProgressDraw < 2000) return;
    lastProgressDraw = t;
    render();
  };

  const offs = [
    d.app.onEvent((event, payload) => {
      if (event === 'status:overview') onFacts(payload as Overview);
      else if (event === 'updates:status') onUpdate(payload as UpdateStatus);
      else if (event === 'sync:progress') onProgress(payload as ProgressEvent);
    }),
  ];
  const timer = setInterval(render, d.tickMs ?? 60_000);
  timer.unref();

  const first = await d.app.router.invoke('status.overview', undefined, HOST);
  if (first.ok && !facts) onFacts(first.value as Overview);
  else if (!first.ok) log.warn('overview unavailable at start', { code: first.error.code });
  const u = await d.app.router.invoke('updates.status', undefined, HOST);
  if (u.ok && !update) onUpdate(u.value as UpdateStatus);

  return {
    state: () => current,
    command,
    dispose() {
      disposed = true;
      clearInterval(timer);
      for (const off of offs) off();
      d.tray?.destroy();
    },
  };
}
