/**
 * The app's features wired as the shell and the bridge wire them (defaultFeatures), driven through
 * `createApp(...).router.invoke(channel, input)` against the REAL simulators: the Batigest gateway over
 * the TDS simulator, the BatiSimply client over the BatiSimply simulator (both from the sync test
 * harness), the embedded buffer in the app's data folder, and the real licence manager on a throw-away
 * PostgreSQL database.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main/app.js';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import { connectionsFeature } from '../../src/main/features/connections.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import { licenceFeature } from '../../src/main/features/licence.js';
import { csvCell, syncFeature } from '../../src/main/features/sync/index.js';
import type { Timers } from '../../src/main/services/scheduler/scheduler.js';
import type { SyncHooks } from '../../src/main/services/sync/engine.js';
import type { ChannelName, ChannelOutput, Result, RunSummary } from '../../src/shared/contract.js';
import type { ProgressEvent } from '../../src/shared/domain.js';
import { startShellController } from '../../src/main/shell/controller.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { memoryNotificationStore, recordingNotifier, recordingTray } from '../support/shell/recording.js';
import { createTestDatabase, insertLicense, startLicenseManager, type StartedManager, type TestDatabase } from '../support/licence/db.js';
import { simHarness, U1, U3, type Harness } from '../support/sync/harness.js';

const KEY = 'APPF-2345-6789-ABCD';

let h: Harness;
let lmDb: TestDatabase;
let lm: StartedManager;
let dir: string;
const apps: App[] = [];

interface Tracked {
  app: App;
  progress: ProgressEvent[];
  /** Resolves with the journal line of a run when its end is announced ('sync:status' lastRun). */
  ended(runId: string): Promise<RunSummary>;
  /** Resolves with the next run end announced that matches. */
  nextEnd(pred: (r: RunSummary) => boolean): Promise<RunSummary>;
}

function track(app: App): Tracked {
  const done = new Map<string, RunSummary>();
  const waiters = new Map<string, (r: RunSummary) => void>();
  const progress: ProgressEvent[] = [];
  const watchers: { pred: (r: RunSummary) => boolean; res: (r: RunSummary) => void }[] = [];
  app.onEvent((event, payload) => {
    if (event === 'sync:progress') progress.push(payload as ProgressEvent);
    if (event === 'sync:status') {
      const last = (payload as { lastRun: RunSummary | null }).lastRun;
      if (last) {
        done.set(last.id, last);
        waiters.get(last.id)?.(last);
        for (const w of watchers.splice(0)) {
          if (w.pred(last)) w.res(last);
          else watchers.push(w);
        }
      }
    }
  });
  return {
    app,
    progress,
    ended: (id) => (done.has(id) ? Promise.resolve(done.get(id)!) : new Promise((res) => waiters.set(id, res))),
    nextEnd: (pred) => new Promise((res) => watchers.push({ pred, res })),
  };
}

async function ok<K extends ChannelName>(app: App, channel: K, input?: unknown): Promise<ChannelOutput<K>> {
  const r = (await app.router.invoke(channel, input)) as Result<ChannelOutput<K>>;
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
  return r.value;
}

async function newApp(name: string, features: 'default' | 'custom', custom: { hooks?: SyncHooks; timers?: Timers } = {}): Promise<App> {
  const data = path.join(dir, name);
  fs.mkdirSync(data, { recursive: true });
  const list = features === 'default' ? defaultFeatures() : [licenceFeature(), connectionsFeature(), syncFeature(custom)];
  const app = await createNodeApp({
    dataDir: data,
    logger: memoryLogger(),
    host: 'bridge',
    version: '0.1.0',
    licencePinned: { publicKey: lm.publicKeyPem },
    features: list,
  });
  apps.push(app);
  app.settings.update({
    machineName: 'PC-TEST',
    sqlServer: h.settings.sqlServer,
    batisimply: h.settings.batisimply,
    licence: { provider: 'manager', serverUrl: lm.url, publicKey: lm.publicKeyPem },
  });
  return app;
}

/** A TCP port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const daysAgo = (n: number) => {
  const d = new Date(Date.now() - n * 86_400_000);
  d.setUTCHours(6, 0, 0, 0);
  return d.toISOString();
};

let app: App;
let t: Tracked;
let pushRunId = '';

beforeAll(async () => {
  h = await simHarness();
  h.clock.set(new Date()); // the simulators' clock: the app runs on the real clock (licence answers are dated)
  // A chantier whose name would be a spreadsheet formula.
  await h.updateChantier('00000103', { description: '=SOMME(A1:A9)' });
  lmDb = await createTestDatabase('cbs_test_appf');
  lm = await startLicenseManager(lmDb, { LM_RATE_IP_PER_MIN: '10000', LM_RATE_KEY_PER_MIN: '10000' });
  await insertLicense(lmDb.pool, { key: KEY, clientName: 'SARL Intégration', expiresInDays: 100, maxMachines: 5 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-app-features-'));
  app = await newApp('main', 'default');
  t = track(app);
}, 60_000);

afterAll(async () => {
  for (const a of apps) await a.dispose().catch(() => undefined);
  await h?.close();
  await lm?.close();
  await lmDb?.drop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('app features against the simulators', () => {
  it('without a licence key, sync.run is refused (LICENSE_REQUIRED) while settings.* still work', async () => {
    const r = await app.router.invoke('sync.run', { flow: 'push' });
    expect(r).toMatchObject({ ok: false, error: { code: 'LICENSE_REQUIRED' } });
    expect(r.ok ? '' : r.error.message).toMatch(/Licence/);
    expect(h.state.projects.size).toBe(0);
    expect((await ok(app, 'settings.get')).sqlServer.password).toEqual({ set: true });
    expect((await ok(app, 'settings.update', { hours: { windowDays: 90 } })).hours.windowDays).toBe(90);
    expect(await ok(app, 'sync.status')).toMatchObject({ running: null, syncAllowed: false });

    expect(await ok(app, 'licence.setKey', { key: KEY })).toMatchObject({ state: 'valid', syncAllowed: true });
    expect(await ok(app, 'sync.status')).toMatchObject({ syncAllowed: true });
  });

  it('connection tests: each one ok, and each one failing with a French diagnosis', async () => {
    expect(await ok(app, 'sqlServer.test')).toMatchObject({ ok: true });
    const badSql = await ok(app, 'sqlServer.test', { override: { password: 'pas-le-bon' } });
    expect(badSql).toMatchObject({ ok: false, code: 'SQL_LOGIN_FAILED' });
    expect(badSql.message).toMatch(/mot de passe/i);
    expect(app.settings.get().sqlServer.password).toBe('Secret#1'); // the test saved nothing

    expect(await ok(app, 'batisimply.test')).toMatchObject({ ok: true });
    const badBs = await ok(app, 'batisimply.test', { override: { clientSecret: 'mauvais-secret' } });
    expect(badBs.ok).toBe(false);
    expect(badBs.code).toMatch(/^BS_/);
    expect(badBs.message.length).toBeGreaterThan(20);

    expect(await ok(app, 'buffer.test')).toMatchObject({ ok: true });
    const port = await closedPort();
    const badBuf = await ok(app, 'buffer.test', { override: { kind: 'remote', remote: { host: '127.0.0.1', port, database: 'tampon', user: 'connecteur' } } });
    expect(badBuf).toMatchObject({ ok: false, code: 'BUFFER_UNREACHABLE' });
    expect(badBuf.message).toContain(`127.0.0.1:${port}`);

    const { tables } = await ok(app, 'sqlServer.detectColumns');
    const chantier = tables.find((x) => x.table === 'chantier')!;
    expect(chantier.exists).toBe(true);
    expect(chantier.mapping.find((m) => m.logical === 'code')?.effective).toBe('Code');
    expect(chantier.columns.length).toBeGreaterThan(5);
  });

  it('sync.run push returns at once, streams progress, and the journal shows the counts and a skip reason', async () => {
    const { runId } = await ok(app, 'sync.run', { flow: 'push' });
    pushRunId = runId;
    const end = await t.ended(runId);
    expect(end).toMatchObject({ id: runId, flow: 'push', status: 'success', trigger: 'manual', machineName: 'PC-TEST', counts: { created: 3, skipped: 1, failed: 0 } });
    expect(t.progress.some((p) => p.runId === runId)).toBe(true);
    expect(h.state.projects.size).toBe(3);

    const list = await ok(app, 'journal.list', { flow: 'push' });
    expect(list).toMatchObject({ total: 1, page: 1, runs: [{ id: runId, status: 'success', counts: { created: 3, updated: 0, skipped: 1 } }] });

    const detail = await ok(app, 'journal.get', { runId });
    expect(detail.totalItems).toBe(4);
    const skipped = detail.items.filter((i) => i.action === 'skipped');
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ kind: 'chantier', key: '00000104' });
    expect(skipped[0]!.reason).toMatch(/sans nom/);
    const created = detail.items.filter((i) => i.action === 'created');
    expect(created.map((i) => i.key).sort()).toEqual(['00000101', '00000102', '00000103']);
    expect(created.find((i) => i.key === '00000101')?.label).toBe('Rénovation cuisine');
    // filter by action
    expect((await ok(app, 'journal.get', { runId, action: 'skipped' })).items).toHaveLength(1);
    expect(await ok(app, 'sync.status')).toMatchObject({ running: null, lastRuns: [{ id: runId }] });
  });

  it('hours: writes mapped users, reports the unmapped one with its waiting hours; mapping.save makes the next run write them', async () => {
    const p101 = h.state.findProjectByCode('00000101')!;
    h.state.addSlot({ startDate: daysAgo(3), userId: U1, projectId: p101.id, managementStatus: 'VALIDATED', totalTimeMinutes: 450 });
    h.state.addSlot({ startDate: daysAgo(4), userId: U3, projectId: p101.id, managementStatus: 'VALIDATED', totalTimeMinutes: 240 });
    h.state.addSlot({ startDate: daysAgo(5), userId: U3, projectId: p101.id, managementStatus: 'VALIDATED', totalTimeMinutes: 90 });

    const { runId } = await ok(app, 'sync.run', { flow: 'hours' });
    const end = await t.ended(runId);
    // Paul Leroy's 5.5 validated hours wait for a salarié: the run is partial and says why.
    expect(end).toMatchObject({ flow: 'hours', mode: null, status: 'partial', counts: { created: 1, skipped: 2, failed: 0 } });
    expect(end.message).toContain(" 5,5 h validées en attente, non écrites dans Sage Batigest : 2 créneaux d'un utilisateur BatiSimply sans salarié Sage Batigest (à associer dans « Correspondance des salariés »).");
    const rows = await h.suiviMo();
    expect(rows.map((r) => [r.codeSalarie, r.nbH0])).toEqual([['S01', 7.5]]);
    const items = (await ok(app, 'journal.get', { runId })).items;
    const user = items.find((i) => i.kind === 'salarie');
    expect(user).toMatchObject({ key: U3, action: 'skipped' });
    expect(user!.reason).toMatch(/Aucun salarié Sage Batigest pour l'utilisateur BatiSimply Paul Leroy : 2 créneau/);

    const view = await ok(app, 'mapping.get');
    expect(view.salaries.map((s) => s.code).sort()).toEqual(['PL', 'S01', 'S02']);
    expect(view.codebs.exists).toBe(true);
    expect(view.usersError).toBeNull();
    const u3 = view.users.find((u) => u.id === U3)!;
    expect(u3).toMatchObject({ displayName: 'Paul Leroy', mappedTo: null, hoursWaiting: 5.5, slotsWaiting: 2, fromTimeSlotsOnly: false });
    expect(view.users.find((u) => u.id === U1)).toMatchObject({ mappedTo: 'S01', hoursWaiting: 0 });
    expect(view.suggestions).toEqual([expect.objectContaining({ salarieCode: 'PL', userId: U3 })]);
    expect(view.suggestions[0]!.confidence).toBeGreaterThanOrEqual(0.9);

    const saved = await ok(app, 'mapping.save', { entries: [{ salarieCode: 'PL', userId: U3 }] });
    expect(saved.saved).toBe(1);
    expect(saved.mapping.users.find((u) => u.id === U3)).toMatchObject({ mappedTo: 'PL', hoursWaiting: 0 });
    expect(saved.mapping.suggestions).toEqual([]);

    const second = await ok(app, 'sync.run', { flow: 'hours' });
    expect(await t.ended(second.runId)).toMatchObject({ status: 'success', counts: { created: 2 } });
    const after = await h.suiviMo();
    expect(after.filter((r) => r.codeSalarie === 'PL').map((r) => r.nbH0).sort()).toEqual([1.5, 4]);
    // The journal item of the user now has a label from the refreshed mapping cache.
    expect((await ok(app, 'journal.get', { runId })).items.find((i) => i.kind === 'salarie')?.label).toBe('Paul Leroy');
  });

  it('journal.list filters by flow, status and local day, and pages', async () => {
    const all = await ok(app, 'journal.list');
    expect(all.total).toBe(3);
    // Each push run shows the mode it used, not the current one.
    expect(all.runs.find((r) => r.id === pushRunId)?.mode).toBe('chantier');
    app.settings.update({ mode: 'devis' });
    try {
      expect((await ok(app, 'journal.list', { flow: 'push' })).runs.map((r) => r.mode)).toEqual(['chantier']);
    } finally {
      app.settings.update({ mode: 'chantier' });
    }
    expect((await ok(app, 'journal.list', { flow: 'hours' })).total).toBe(2);
    expect((await ok(app, 'journal.list', { status: 'failed' })).total).toBe(0);
    expect((await ok(app, 'journal.list', { status: 'success' })).total).toBe(2);
    expect((await ok(app, 'journal.list', { status: 'partial' })).runs.map((r) => r.flow)).toEqual(['hours']);
    const today = new Intl.DateTimeFormat('fr-CA', { timeZone: 'Europe/Paris' }).format(new Date());
    const tomorrow = new Intl.DateTimeFormat('fr-CA', { timeZone: 'Europe/Paris' }).format(new Date(Date.now() + 86_400_000));
    expect((await ok(app, 'journal.list', { from: today, to: today })).total).toBe(3);
    expect((await ok(app, 'journal.list', { from: tomorrow })).total).toBe(0);
    const page2 = await ok(app, 'journal.list', { page: 2, pageSize: 2 });
    expect(page2).toMatchObject({ total: 3, page: 2, pageSize: 2 });
    expect(page2.runs).toHaveLength(1);
    expect(page2.runs[0]!.id).toBe(pushRunId); // oldest last
    const bad = await app.router.invoke('journal.get', { runId: 'inconnu' });
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  it('journal.exportCsv: BOM, ";" separator, French headers, quoted cells, formulas neutralised', async () => {
    const { fileName, csv } = await ok(app, 'journal.exportCsv', { runId: pushRunId });
    expect(fileName).toMatch(/^journal-\d{4}-\d{2}-\d{2}-[0-9a-f]{8}\.csv$/);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const lines = csv.slice(1).trimEnd().split('\r\n');
    expect(lines[0]).toBe('"Synchronisation";"Flux";"Poste";"Début";"Résultat";"Date";"Type";"Référence";"Libellé";"Action";"Motif"');
    expect(lines).toHaveLength(5);
    expect(csv).toContain('"Ignoré"');
    expect(csv).toMatch(/00000104 sans nom/);
    expect(csv).toContain(`"'=SOMME(A1:A9)"`);
    expect(csv).not.toContain(`;"=SOMME`);

    const runs = await ok(app, 'journal.exportCsv', { flow: 'hours' });
    const runLines = runs.csv.slice(1).trimEnd().split('\r\n');
    expect(runLines[0]).toContain('"Début";"Fin";"Résultat";"Créés";"Mis à jour";"Inchangés";"Ignorés";"En échec";"Message"');
    expect(runLines).toHaveLength(3);
    expect(runLines[1]).toContain('"BatiSimply → Sage Batigest"');

    expect(csvCell('+33 6 12')).toBe(`"'+33 6 12"`);
    expect(csvCell('-1')).toBe(`"'-1"`);
    expect(csvCell('@x')).toBe(`"'@x"`);
    expect(csvCell('il a dit "oui"; fin')).toBe('"il a dit ""oui""; fin"');
    expect(csvCell(null)).toBe('""');
  });

  it('schedule.set enabled plans the next run at once; disabled removes it', async () => {
    const before = Date.now();
    const on = await ok(app, 'schedule.set', { enabled: true, intervalSeconds: 3600, flows: 'hours' });
    expect(on).toMatchObject({ enabled: true, intervalSeconds: 3600, flows: 'hours' });
    expect(on.nextRunAt).not.toBeNull();
    const next = Date.parse(on.nextRunAt!);
    expect(next).toBeGreaterThanOrEqual(before + 3600_000);
    expect(next).toBeLessThanOrEqual(Date.now() + 3600_000);
    expect(await ok(app, 'sync.status')).toMatchObject({ scheduleEnabled: true, nextRunAt: on.nextRunAt });
    expect(await ok(app, 'schedule.get')).toMatchObject({ enabled: true, nextRunAt: on.nextRunAt });
    const off = await ok(app, 'schedule.set', { enabled: false });
    expect(off).toMatchObject({ enabled: false, nextRunAt: null });
  });

  it('mapping.get with BatiSimply unreachable: salariés, users seen in the time slots, and a French explanation', async () => {
    const saved = app.settings.get().batisimply;
    const port = await closedPort();
    // Other URLs: the saved secrets must be typed again (a saved secret only goes where it was saved for).
    const secrets = { clientSecret: saved.clientSecret, password: saved.password };
    app.settings.update({ batisimply: { environment: 'custom', ssoUrl: `http://127.0.0.1:${port}`, apiUrl: `http://127.0.0.1:${port}`, maxRetries: 0, ...secrets } });
    try {
      const view = await ok(app, 'mapping.get');
      expect(view.salaries).toHaveLength(3);
      expect(view.usersError).toMatch(/^La liste des utilisateurs BatiSimply n'a pas pu être lue : /);
      expect(view.users.map((u) => [u.id, u.mappedTo, u.fromTimeSlotsOnly]).sort()).toEqual([
        [U1, 'S01', true],
        [U3, 'PL', true],
      ]);
    } finally {
      app.settings.update({ batisimply: { ssoUrl: saved.ssoUrl, apiUrl: saved.apiUrl, maxRetries: saved.maxRetries, ...secrets } });
    }
    expect((await ok(app, 'mapping.get')).usersError).toBeNull();
  });

  describe('with a run paused at a checkpoint', () => {
    let other: App;
    let ot: Tracked;
    let gate: Promise<void> = Promise.resolve();
    let release: () => void = () => undefined;
    let reached: Promise<void> = Promise.resolve();
    let paused: () => void = () => undefined;
    const arm = () => {
      gate = new Promise<void>((r) => (release = r));
      reached = new Promise<void>((r) => (paused = r));
    };

    beforeAll(async () => {
      other = await newApp('paused', 'custom', {
        hooks: {
          checkpoint: async (name) => {
            if (name !== 'push:before-remote') return;
            paused();
            await gate;
          },
        },
      });
      ot = track(other);
      expect(await ok(other, 'licence.setKey', { key: KEY })).toMatchObject({ state: 'valid' });
    });

    it('sync.cancel stops a running push; a second run of the same flow is refused meanwhile', async () => {
      arm();
      // A change in Batigest and a fresh buffer: the push must write to BatiSimply, and pauses before it.
      await h.updateChantier('00000102', { description: 'Extension garage double' });
      const { runId } = await ok(other, 'sync.run', { flow: 'push' });
      await reached;
      expect(await ok(other, 'sync.status')).toMatchObject({ running: { runId, flow: 'push' } });
      expect(await other.router.invoke('sync.run', { flow: 'push' })).toMatchObject({ ok: false, error: { code: 'SYNC_ALREADY_RUNNING' } });
      expect(await other.router.invoke('sync.run', { flow: 'all' })).toMatchObject({ ok: false, error: { code: 'SYNC_ALREADY_RUNNING' } });
      expect(await ok(other, 'sync.cancel', { runId: 'pas-celui-ci' })).toEqual({ cancelled: false });
      expect(await ok(other, 'sync.cancel', { runId })).toEqual({ cancelled: true });
      release();
      expect(await ot.ended(runId)).toMatchObject({ id: runId, status: 'cancelled' });
      expect(h.state.findProjectByCode('00000102')?.projectName).toBe('Extension garage'); // not sent
      expect(await ok(other, 'sync.status')).toMatchObject({ running: null, lastRuns: [{ id: runId, status: 'cancelled' }] });
    });

    it('a settings change under a run waits for its end; the next run uses the new settings', async () => {
      arm();
      const { runId } = await ok(other, 'sync.run', { flow: 'push' });
      await reached;
      other.settings.update({ sqlServer: { password: 'plus-le-bon' } });
      release();
      // The running push kept its gateway and client to the end.
      expect(await ot.ended(runId)).toMatchObject({ status: 'success', counts: { updated: 1, failed: 0 } });
      expect(h.state.findProjectByCode('00000102')?.projectName).toBe('Extension garage double');
      // The next one is built from the new settings: Batigest refuses the login, journaled in French.
      const next = await ok(other, 'sync.run', { flow: 'push' });
      const failed = await ot.ended(next.runId);
      expect(failed).toMatchObject({ status: 'failed' });
      expect(failed.message).toMatch(/mot de passe/);
      other.settings.update({ sqlServer: { password: 'Secret#1' } });
      const again = await ok(other, 'sync.run', { flow: 'push' });
      expect(await ot.ended(again.runId)).toMatchObject({ status: 'success', counts: { unchanged: 3 } });
    });
  });

  it('scheduled runs: refused by the licence → one notification (not at every tick), one when resolved; then a scheduled run is journaled as such', async () => {
    const timers: { fn: () => void; ms: number }[] = [];
    const fake: Timers = {
      setTimeout: (fn, ms) => {
        const t = { fn, ms };
        timers.push(t);
        return t;
      },
      clearTimeout: (t) => {
        const i = timers.indexOf(t as { fn: () => void; ms: number });
        if (i >= 0) timers.splice(i, 1);
      },
    };
    const sched = await newApp('sched', 'custom', { timers: fake });
    const notifier = recordingNotifier();
    const controller = await startShellController({ app: sched, tray: recordingTray(), notifier, memory: memoryNotificationStore(), show: () => undefined, quit: () => undefined, logger: memoryLogger() });
    const notes = () => notifier.shown.map((n) => `${n.title} | ${n.body}`);
    try {
      const st = track(sched);
      const on = await ok(sched, 'schedule.set', { enabled: true, intervalSeconds: 600, flows: 'push' });
      expect(on.nextRunAt).not.toBeNull();
      expect(timers.map((x) => x.ms)).toEqual([600_000]);

      // No licence key yet: notified once, whatever the scheduled attempts refused meanwhile.
      await expect.poll(() => notes()).toHaveLength(1);
      expect(notes()[0]).toMatch(/^Licence : synchronisation suspendue \| .*[Ll]icence/);
      for (let i = 0; i < 2; i++) {
        timers.shift()!.fn();
        await expect.poll(() => timers.length).toBe(1);
      }
      await new Promise((r) => setTimeout(r, 200));
      expect(notes()).toHaveLength(1);

      expect(await ok(sched, 'licence.setKey', { key: KEY })).toMatchObject({ state: 'valid' });
      await expect.poll(() => notes()).toHaveLength(2);
      expect(notes()[1]).toMatch(/^Résolu : Licence : synchronisation suspendue/);
      const end = st.nextEnd((r) => r.trigger === 'schedule');
      timers.shift()!.fn();
      expect(await end).toMatchObject({ flow: 'push', trigger: 'schedule', status: 'success' });
      await expect.poll(async () => (await ok(sched, 'schedule.get')).lastRunAt).not.toBeNull();
      expect((await ok(sched, 'journal.list')).runs[0]).toMatchObject({ trigger: 'schedule' });
      expect(notes()).toHaveLength(2);
    } finally {
      controller.dispose();
    }
  });
});
