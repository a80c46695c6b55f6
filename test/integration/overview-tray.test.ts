/**
 * The connector's state end to end, on the real app (createApp + the features) against the simulators: the
 * overview facts after real runs, the shell controller with Node implementations of the tray and the
 * notifier — notifications for scheduled runs too, once per new problem and once when resolved — the tray's
 * commands (pause kept across a restart, sync now), and « Tout synchroniser » journaled as one job.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/app.js';
import { connectionsFeature } from '../../src/main/features/connections.js';
import { protectionFeature } from '../../src/main/features/protection.js';
import { syncFeature } from '../../src/main/features/sync/index.js';
import { updatesFeature } from '../../src/main/features/updates.js';
import { BufferStore } from '../../src/main/services/buffer/store.js';
import type { Timers } from '../../src/main/services/scheduler/scheduler.js';
import { createNodeCipher } from '../../src/main/services/settings/node-cipher.js';
import { createNodeSettingsStore } from '../../src/main/services/settings/store.js';
import { startShellController, type ShellController } from '../../src/main/shell/controller.js';
import type { ChannelName, ChannelOutput, Overview, Result } from '../../src/shared/contract.js';
import { connectorState } from '../../src/shared/connector-state.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { memoryNotificationStore, recordingNotifier, recordingTray } from '../support/shell/recording.js';
import { simHarness, U3, type Harness } from '../support/sync/harness.js';

let h: Harness;
let dir: string;
const apps: App[] = [];
const controllers: ShellController[] = [];

/** Scheduler timers the test fires by hand. */
function manualTimers() {
  const q: { fn: () => void; ms: number }[] = [];
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      const t = { fn, ms };
      q.push(t);
      return t;
    },
    clearTimeout: (t) => {
      const i = q.indexOf(t as (typeof q)[number]);
      if (i >= 0) q.splice(i, 1);
    },
  };
  return { timers, pending: q, fire: () => q.shift()!.fn() };
}

/** The harness buffer, shared by successive apps (a restart): closing an app must not close it. */
function sharedBuffer(): BufferStore {
  const db = h.buffer.db;
  return new BufferStore({ kind: db.kind, query: (s, p) => db.query(s, p), transaction: (fn) => db.transaction(fn), exec: (s) => db.exec(s), close: async () => undefined });
}

async function newApp(data: string, timers: Timers): Promise<App> {
  fs.mkdirSync(data, { recursive: true });
  const app = await createApp({
    settingsStore: await createNodeSettingsStore({ cwd: data }),
    cipher: createNodeCipher({ keyFile: path.join(data, 'secret.key') }),
    logger: memoryLogger(),
    userDataDir: data,
    host: 'bridge',
    version: '0.1.0',
    features: [connectionsFeature(), syncFeature({ timers }), protectionFeature(), updatesFeature()],
    overrides: { buffer: sharedBuffer(), licenceGuard: { assertSyncAllowed: async () => undefined, allowsSync: () => true } },
  });
  apps.push(app);
  return app;
}

async function ok<K extends ChannelName>(app: App, channel: K, input?: unknown): Promise<ChannelOutput<K>> {
  const r = (await app.router.invoke(channel, input, { host: 'bridge' })) as Result<ChannelOutput<K>>;
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
  return r.value;
}

/** Waits until no job runs any more in the app. */
async function idle(app: App): Promise<void> {
  await expect.poll(async () => (await ok(app, 'sync.status')).running, { timeout: 60_000 }).toBeNull();
  await expect.poll(async () => (await ok(app, 'status.overview')).running, { timeout: 60_000 }).toBeNull();
}

const daysAgo = (n: number) => {
  const d = new Date(Date.now() - n * 86_400_000);
  d.setUTCHours(6, 0, 0, 0);
  return d.toISOString();
};

let app: App;
let sched: ReturnType<typeof manualTimers>;
let tray: ReturnType<typeof recordingTray>;
let notifier: ReturnType<typeof recordingNotifier>;
let memory: ReturnType<typeof memoryNotificationStore>;
let controller: ShellController;
const overviews: Overview[] = [];
/** The pages the window was asked to show (a notification's click, a tray item). */
const opened: unknown[] = [];

beforeAll(async () => {
  h = await simHarness();
  h.clock.set(new Date());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-overview-'));
  sched = manualTimers();
  app = await newApp(path.join(dir, 'pc'), sched.timers);
  app.settings.update({ machineName: 'PC-BUREAU', setupCompleted: true, sqlServer: h.settings.sqlServer, batisimply: h.settings.batisimply });
  app.onEvent((e, p) => {
    if (e === 'status:overview') overviews.push(p as Overview);
  });
  tray = recordingTray();
  notifier = recordingNotifier();
  memory = memoryNotificationStore();
  controller = await startShellController({ app, tray, notifier, memory, show: (t) => opened.push(t ?? null), quit: () => undefined, logger: memoryLogger() });
  controllers.push(controller);
}, 120_000);

afterAll(async () => {
  for (const c of controllers) c.dispose();
  for (const a of apps) await a.dispose().catch(() => undefined);
  await h?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('overview, tray and notifications on the real app', { timeout: 120_000 }, () => {
  it('before any run: both flows « jamais lancé », the tray shows the last success line and the menu', async () => {
    const o = await ok(app, 'status.overview');
    expect(o.flows.map((f) => [f.flow, f.lastRun])).toEqual([
      ['push', null],
      ['hours', null],
    ]);
    expect(o.setup).toEqual({ completed: true, missing: [] });
    expect(tray.last().icon).toBe('ok');
    expect(tray.labels()).toEqual([
      'Aucune synchronisation réussie pour le moment · synchronisation automatique désactivée',
      '───',
      'Synchroniser maintenant',
      "Suspendre (synchronisation automatique désactivée) ▸ 1 heure / 4 heures / Jusqu'à demain 7 h",
      '───',
      'Ouvrir',
      'Journal',
      '───',
      'Quitter',
    ]);
    expect(notifier.shown).toEqual([]);
  });

  it('« Synchroniser maintenant » from the tray runs « Tout synchroniser » as one job: its two runs share a job id', async () => {
    await tray.click('Synchroniser maintenant');
    await idle(app);
    const { runs } = await ok(app, 'journal.list');
    expect(runs.map((r) => r.flow).sort()).toEqual(['hours', 'push']);
    expect(runs[0]!.jobId).not.toBeNull();
    expect(runs[0]!.jobId).toBe(runs[1]!.jobId);
    // A job of one flow has none.
    await ok(app, 'sync.run', { flow: 'push', wait: true });
    expect((await ok(app, 'journal.list')).runs[0]!.jobId).toBeNull();
    await expect.poll(() => tray.last().icon).toBe('ok');
    expect(tray.labels()[0]).toMatch(/^Dernier succès à l'instant · /);
  });

  it('hours waiting for a salarié: the overview says who and how much; one notification, whose click opens the mapping', async () => {
    const project = [...h.state.projects.values()][0]!;
    h.state.addSlot({ startDate: daysAgo(3), userId: U3, projectId: project.id, managementStatus: 'VALIDATED', totalTimeMinutes: 450 });
    const before = notifier.shown.length;
    await ok(app, 'sync.run', { flow: 'hours', wait: true });
    await idle(app);
    await expect.poll(() => overviews.at(-1)?.waiting.find((w) => w.kind === 'unmapped_user')?.keys).toEqual([U3]);
    const w = overviews.at(-1)!.waiting.find((x) => x.kind === 'unmapped_user')!;
    expect(w).toMatchObject({ flow: 'hours', count: 1, names: ['Paul Leroy'], hours: 7.5, slots: 1 });
    const state = connectorState(overviews.at(-1)!, new Date());
    expect(state.kind).toBe('attention');
    expect(state.flows.find((f) => f.flow === 'hours')?.kind).toBe('attention');
    await expect.poll(() => tray.last().icon).toBe('attention');
    expect(tray.labels()[1]).toBe('À traiter : 1 salarié sans correspondance — 7,5 h en attente');

    await expect.poll(() => notifier.shown.length).toBe(before + 1);
    const n = notifier.shown.at(-1)!;
    expect(n.title).toBe('1 salarié sans correspondance — 7,5 h en attente');
    expect(n.body).toMatch(/Paul Leroy/);
    n.click();
    expect(opened.at(-1)).toEqual({ page: 'mapping' });
    // The tray's « À traiter » line opens the same page.
    await tray.click('À traiter');
    expect(opened.at(-1)).toEqual({ page: 'mapping' });
    // Another run sees the same problem: no second notification.
    await ok(app, 'sync.run', { flow: 'hours', wait: true });
    await idle(app);
    await new Promise((r) => setTimeout(r, 300));
    expect(notifier.shown.length).toBe(before + 1);
  });

  it('mapping the salarié resolves it: one « Résolu » notification, the tray back to « à jour »', async () => {
    const before = notifier.shown.length;
    await ok(app, 'mapping.save', { entries: [{ salarieCode: 'PL', userId: U3 }] });
    await expect.poll(() => notifier.shown.length).toBe(before + 1);
    expect(notifier.shown.at(-1)!.title).toBe('Résolu : 1 salarié sans correspondance — 7,5 h en attente');
    await expect.poll(() => tray.last().icon).toBe('ok');
    // The next run writes the hours that waited.
    const rows = (await h.suiviMo()).length;
    await ok(app, 'sync.run', { flow: 'hours', wait: true });
    expect((await h.suiviMo()).length).toBe(rows + 1);
  });

  it('scheduled runs notify too: a failing scheduled run once (not at each retry), then once when it works again', async () => {
    await ok(app, 'schedule.set', { enabled: true, intervalSeconds: 600, flows: 'push', retries: 2 });
    await expect.poll(() => tray.labels()[0]).toMatch(/· prochain à \d{2}:\d{2}$/);
    app.settings.update({ sqlServer: { password: 'plus-le-bon' } });
    const before = notifier.shown.length;
    const runsBefore = (await ok(app, 'journal.list')).total;
    sched.fire();
    await expect.poll(async () => (await ok(app, 'journal.list')).total, { timeout: 60_000 }).toBe(runsBefore + 1);
    await idle(app);
    expect((await ok(app, 'journal.list')).runs[0]).toMatchObject({ trigger: 'schedule', status: 'failed' });
    await expect.poll(() => notifier.shown.length).toBe(before + 1);
    expect(notifier.shown.at(-1)!.title).toBe('Échec : Sage Batigest → BatiSimply');
    notifier.shown.at(-1)!.click();
    expect(opened.at(-1)).toEqual({ page: 'journal', runId: (await ok(app, 'journal.list')).runs[0]!.id });
    await expect.poll(() => tray.last().icon).toBe('error');
    // The retry fails the same way: nothing new.
    sched.fire();
    await expect.poll(async () => (await ok(app, 'journal.list')).total, { timeout: 60_000 }).toBe(runsBefore + 2);
    await idle(app);
    await new Promise((r) => setTimeout(r, 300));
    expect(notifier.shown.length).toBe(before + 1);
    // Fixed: the next scheduled run succeeds → « Résolu ».
    app.settings.update({ sqlServer: { password: 'Secret#1' } });
    sched.fire();
    await expect.poll(() => notifier.shown.length, { timeout: 60_000 }).toBe(before + 2);
    expect(notifier.shown.at(-1)!.title).toBe('Résolu : Échec : Sage Batigest → BatiSimply');
    await idle(app);
  });

  it('« Suspendre 4 heures » from the tray: no scheduled run before its end, kept across a restart; « Reprendre » plans from now', async () => {
    const t0 = Date.now();
    await tray.click('4 heures');
    const paused = app.settings.get().schedule.pausedUntil;
    expect(paused).not.toBeNull();
    const until = Date.parse(paused!);
    expect(until - t0).toBeGreaterThanOrEqual(4 * 3_600_000 - 5_000);
    expect(until - t0).toBeLessThanOrEqual(4 * 3_600_000 + 5_000);
    const view = await ok(app, 'schedule.get');
    expect(view.pausedUntil).toBe(paused);
    expect(view.nextRunAt).toBe(new Date(until).toISOString());
    await expect.poll(() => tray.last().icon).toBe('paused');
    expect(tray.labels().find((l) => l.startsWith('Reprendre'))).toMatch(/^Reprendre \(en pause jusqu'à (demain )?\d{2}:\d{2}\)$/);

    // Restart: a new app on the same data folder plans its first scheduled run at the end of the pause.
    const restartTimers = manualTimers();
    const again = await newApp(path.join(dir, 'pc'), restartTimers.timers);
    expect(restartTimers.pending.map((t) => Math.round((t.ms + Date.now() - until) / 10_000))).toEqual([0]);
    expect((await ok(again, 'schedule.get')).nextRunAt).toBe(new Date(until).toISOString());
    await again.dispose();

    await tray.click('Reprendre');
    expect(app.settings.get().schedule.pausedUntil).toBeNull();
    const next = Date.parse((await ok(app, 'schedule.get')).nextRunAt!);
    expect(Math.abs(next - (Date.now() + 600_000))).toBeLessThan(5_000);
    await expect.poll(() => tray.last().icon).toBe('ok');
    await ok(app, 'schedule.set', { enabled: false });
  });

  it('the memory of what was notified is kept: a second controller (a restart) notifies nothing already notified', async () => {
    const n2 = recordingNotifier();
    const c2 = await startShellController({ app, tray: recordingTray(), notifier: n2, memory: memoryNotificationStore(memory.value), show: () => undefined, quit: () => undefined, logger: memoryLogger() });
    controllers.push(c2);
    expect(n2.shown).toEqual([]);
    expect(c2.state()?.kind).toBe(controller.state()?.kind);
  });
});
