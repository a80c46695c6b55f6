/**
 * Maintenance (Réglages › Maintenance and `connecteur maintenance`) on the real app against the simulators:
 * verify the buffer, re-compare a flow from scratch with nothing duplicated, purge the journal, forget a
 * flow's state (typed confirmation checked by the main process), each action journaled; refused while a
 * run is in progress here or the flow's lease is held by another PC.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mssql from 'mssql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, runCli, type CliIo } from '../../src/main/cli.js';
import { createApp, type App } from '../../src/main/app.js';
import { connectionsFeature } from '../../src/main/features/connections.js';
import { syncFeature } from '../../src/main/features/sync/index.js';
import { suiviMoDifferences } from '../../src/main/features/sync/maintenance.js';
import { BufferStore } from '../../src/main/services/buffer/store.js';
import { LATEST_BUFFER_VERSION as latest } from '../../src/main/services/buffer/migrations.js';
import { createNodeCipher } from '../../src/main/services/settings/node-cipher.js';
import { createNodeSettingsStore } from '../../src/main/services/settings/store.js';
import type { ChannelName, ChannelOutput, Result } from '../../src/shared/contract.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { simHarness, U1, U2, type Harness } from '../support/sync/harness.js';

let h: Harness;
let dir: string;
let app: App;
let sql: mssql.ConnectionPool;

function sharedBuffer(): BufferStore {
  const db = h.buffer.db;
  return new BufferStore({ kind: db.kind, query: (s, p) => db.query(s, p), transaction: (fn) => db.transaction(fn), exec: (s) => db.exec(s), close: async () => undefined });
}

async function call<K extends ChannelName>(channel: K, input?: unknown): Promise<Result<ChannelOutput<K>>> {
  return (await app.router.invoke(channel, input, { host: 'bridge' })) as Result<ChannelOutput<K>>;
}
async function ok<K extends ChannelName>(channel: K, input?: unknown): Promise<ChannelOutput<K>> {
  const r = await call(channel, input);
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
  return r.value;
}

const daysAgo = (n: number) => {
  const d = new Date(Date.now() - n * 86_400_000);
  d.setUTCHours(6, 0, 0, 0);
  return d.toISOString();
};

beforeAll(async () => {
  h = await simHarness();
  h.clock.set(new Date());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-maintenance-'));
  app = await createApp({
    settingsStore: await createNodeSettingsStore({ cwd: dir }),
    cipher: createNodeCipher({ keyFile: path.join(dir, 'secret.key') }),
    logger: memoryLogger(),
    userDataDir: dir,
    host: 'bridge',
    version: '0.1.0',
    features: [connectionsFeature(), syncFeature({ schedule: false })],
    overrides: { buffer: sharedBuffer(), licenceGuard: { assertSyncAllowed: async () => undefined, allowsSync: () => true } },
  });
  app.settings.update({ machineName: 'PC-MAINT', setupCompleted: true, sqlServer: h.settings.sqlServer, batisimply: h.settings.batisimply });
  sql = await new mssql.ConnectionPool({
    server: '127.0.0.1',
    port: h.sims!.tds.port,
    user: 'sa',
    password: 'Secret#1',
    database: 'BTG_TEST',
    options: { encrypt: false, trustServerCertificate: true },
  }).connect();
  // Projects, then hours of the two mapped salariés on them.
  await ok('sync.run', { flow: 'push', wait: true });
  const [p1, p2] = [...h.state.projects.values()];
  h.state.addSlot({ startDate: daysAgo(2), userId: U1, projectId: p1!.id, managementStatus: 'VALIDATED', totalTimeMinutes: 420 });
  h.state.addSlot({ startDate: daysAgo(3), userId: U1, projectId: p2!.id, managementStatus: 'VALIDATED', totalTimeMinutes: 240, hasPackedLunch: true });
  h.state.addSlot({ startDate: daysAgo(3), userId: U2, projectId: p1!.id, managementStatus: 'VALIDATED', totalTimeMinutes: 480 });
  await ok('sync.run', { flow: 'hours', wait: true });
}, 120_000);

afterAll(async () => {
  await sql?.close();
  await app?.dispose();
  await h?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('maintenance', { timeout: 120_000 }, () => {
  it('suiviMoDifferences (pure): a missing row, other hours or flags differ; the same values do not', () => {
    const key = { codeChantier: '00000101', codeSalarie: 'S01', day: '2026-03-02' };
    const w = [{ key, minutes: 450, trajet: 0, panier: 1 }];
    const row = { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-03-02', nbH0: 7.5, nbH3: 0, nbH4: 1 };
    expect(suiviMoDifferences(w, [row])).toEqual([]);
    expect(suiviMoDifferences(w, [])).toEqual([{ key, missing: true }]);
    expect(suiviMoDifferences(w, [{ ...row, nbH0: 7 }])).toEqual([{ key, missing: false }]);
    expect(suiviMoDifferences(w, [{ ...row, nbH4: 0 }])).toEqual([{ key, missing: false }]);
  });

  it('verify: schema version, counts per table, every check clean after normal runs; journaled', async () => {
    const r = await ok('maintenance.verify');
    expect(r).toMatchObject({ ok: true, schemaVersion: latest, expectedVersion: latest });
    expect(r.tables.find((t) => t.table === 'suivimo_written')?.rows).toBe(3);
    expect(r.tables.find((t) => t.table === 'sync_records')?.rows).toBe(3);
    expect(r.checks.every((c) => c.level === 'ok')).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['schema', 'orphan-slot-keys', 'written-mismatch', 'duplicate-projects', 'pending-intents']));
    const log = await ok('maintenance.log');
    expect(log[0]).toMatchObject({ action: 'verify', outcome: 'ok', machine: 'PC-MAINT', message: expect.stringMatching(/aucune anomalie/) });
  });

  it('verify finds an orphan key and a written row that no longer matches its slots', async () => {
    await h.buffer.db.query(`INSERT INTO slot_keys (slot_id, code_chantier, code_salarie, day, minutes, trajet, panier, mapped_at) VALUES ('fantome', '00000103', 'S02', '2026-01-05', 60, 0, 0, now())`);
    await h.buffer.db.query(`UPDATE suivimo_written SET minutes = minutes + 60 WHERE code_salarie = 'S02'`);
    const r = await ok('maintenance.verify');
    const byId = new Map(r.checks.map((c) => [c.id, c]));
    expect(byId.get('orphan-slot-keys')).toMatchObject({ level: 'warning', count: 1, examples: ['fantome'] });
    expect(byId.get('orphan-slot-keys')!.message).toBe('1 clé SuiviMO orpheline (créneau absent de la base tampon) : « Recomparer » sur les heures les corrige.');
    expect(byId.get('written-mismatch')).toMatchObject({ level: 'warning', count: 1 });
    expect(r.ok).toBe(true); // warnings, no error
    expect((await ok('maintenance.log'))[0]).toMatchObject({ action: 'verify', outcome: 'warning' });
    await h.buffer.db.query(`DELETE FROM slot_keys WHERE slot_id = 'fantome'`);
  });

  it('recompare the hours: SuiviMO read back and compared; what differs is rewritten at its key, nothing duplicated', async () => {
    const right = await h.suiviMo();
    expect(right).toHaveLength(3);
    // Someone edited Batigest by hand: one row changed, one deleted (and the previous test left the buffer
    // believing it wrote one more hour for S02).
    await sql.request().query(`UPDATE SuiviMO SET NbH0 = 1 WHERE CodeSalarie = 'S01' AND NbH4 = 1`);
    await sql.request().query(`DELETE FROM SuiviMO WHERE CodeSalarie = 'S01' AND NbH4 = 0`);
    expect(await h.suiviMo()).toHaveLength(2);
    const r = await ok('maintenance.recompare', { flow: 'hours', wait: true });
    expect(r.message).toMatch(/^3 lignes SuiviMO relues dans Sage Batigest ; 3 diffèrent de ce que le connecteur avait écrit \(dont 1 absente\) ; 1 ne correspond plus à ses créneaux\. 3 lignes seront réécrites à sa clé/);
    expect(r.runs).toEqual([expect.objectContaining({ flow: 'hours', status: 'success', trigger: 'manual', counts: expect.objectContaining({ writes: 3, created: 0 }) })]);
    expect(await h.suiviMo()).toEqual(right);
    // The buffer is consistent again, and a second recompare has nothing to rewrite.
    expect((await ok('maintenance.verify')).checks.every((c) => c.level === 'ok')).toBe(true);
    const again = await ok('maintenance.recompare', { flow: 'hours', wait: true });
    expect(again.message).toMatch(/toutes conformes .* Rien à réécrire/);
    expect(again.runs?.[0]?.counts.writes).toBe(0);
    expect((await ok('maintenance.log'))[0]).toMatchObject({ action: 'recompare', flow: 'hours', outcome: 'ok' });
  });

  it('recompare the push: every project compared with BatiSimply again, a project changed there is put back, none created', async () => {
    const before = h.state.projects.size;
    const p = [...h.state.projects.values()].find((x) => x.projectCode === '00000102')!;
    p.projectName = 'Modifié à la main';
    h.resetWrites();
    const r = await ok('maintenance.recompare', { flow: 'push', wait: true });
    expect(r.message).toBe("3 chantiers ou devis seront comparés à son projet BatiSimply, relu ; aucun projet n'est créé en double.");
    expect(r.runs?.[0]).toMatchObject({ flow: 'push', status: 'success', counts: { created: 0, updated: 1, unchanged: 2 } });
    expect(h.state.projects.size).toBe(before);
    expect(h.projectsByCode('00000102')).toHaveLength(1);
    expect(h.projectsByCode('00000102')[0]!.projectName).not.toBe('Modifié à la main');
    expect(await h.writes()).toMatchObject({ bsPost: 0, bsPut: 1 });
  });

  it('forget: refused without the typed word; then the next runs read everything again and duplicate nothing', async () => {
    expect(await call('maintenance.forget', { flow: 'hours', confirm: 'oui' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT', message: 'Pour confirmer, tapez OUBLIER dans le champ de confirmation.' } });
    expect((await ok('maintenance.verify')).tables.find((t) => t.table === 'time_slots')!.rows).toBe(3);

    const rows = await h.suiviMo();
    const hours = await ok('maintenance.forget', { flow: 'hours', confirm: 'oublier ' });
    expect(hours.deleted).toMatchObject({ time_slots: 3, slot_keys: 3, suivimo_written: 3 });
    expect(hours.message).toMatch(/^État de l'import des heures oublié \(3 créneaux, 3 lignes SuiviMO suivies\)/);
    await ok('sync.run', { flow: 'hours', wait: true });
    expect(await h.suiviMo()).toEqual(rows);

    const projects = h.state.projects.size;
    h.resetWrites();
    expect((await ok('maintenance.forget', { flow: 'push', confirm: 'OUBLIER' })).deleted).toEqual({ sync_records: 3 });
    const [run] = (await ok('sync.run', { flow: 'push', wait: true })).runs!;
    expect(run).toMatchObject({ status: 'success', counts: { created: 0 } });
    expect(h.state.projects.size).toBe(projects);
    expect((await h.writes()).bsPost).toBe(0);
    const log = await ok('maintenance.log');
    expect(log.slice(0, 2).map((e) => [e.action, e.flow])).toEqual([
      ['forget', 'push'],
      ['forget', 'hours'],
    ]);
  });

  it('purge: the runs older than N days and their items go; the recent ones stay; journaled', async () => {
    const old = new Date(Date.now() - 400 * 86_400_000);
    await h.buffer.db.query(`INSERT INTO runs (id, flow, machine, trigger, started_at, ended_at, status) VALUES ('ancien', 'push', 'PC', 'manual', $1, $1, 'succeeded')`, [old]);
    await h.buffer.db.query(`INSERT INTO run_items (run_id, record_key, action, reason, at) VALUES ('ancien', 'chantier:1', 'created', '', $1), ('ancien', 'chantier:2', 'created', '', $1)`, [old]);
    const total = (await ok('journal.list')).total;
    const r = await ok('maintenance.purgeJournal', { olderThanDays: 365 });
    expect(r).toMatchObject({ runsDeleted: 1, itemsDeleted: 2, message: 'Journal purgé des exécutions de plus de 365 jours : 1 exécution supprimée, 2 lignes de détail.' });
    expect((await ok('journal.list')).total).toBe(total - 1);
    expect((await ok('maintenance.log'))[0]).toMatchObject({ action: 'purge', outcome: 'ok' });
  });

  it('refused while a run is in progress on this PC, or while another PC holds the flow (failure journaled)', async () => {
    await h.updateChantier('00000101', { description: 'Cuisine, cellier et buanderie' });
    h.sims!.bs.config.latencyMs = 400;
    try {
      const { runId } = await ok('sync.run', { flow: 'push' });
      expect(await call('maintenance.forget', { flow: 'push', confirm: 'OUBLIER' })).toMatchObject({ ok: false, error: { code: 'SYNC_ALREADY_RUNNING' } });
      expect(runId).toBeTruthy();
    } finally {
      h.sims!.bs.config.latencyMs = 0;
    }
    await expect.poll(async () => (await ok('sync.status')).running, { timeout: 60_000 }).toBeNull();
    await h.buffer.acquireLease({ flow: 'hours', holder: 'PC-CHANTIER#4242#x', machine: 'PC-CHANTIER', runId: 'r', now: new Date(), ttlMs: 60_000 });
    try {
      const r = await call('maintenance.recompare', { flow: 'hours' });
      expect(r).toMatchObject({ ok: false, error: { code: 'BUFFER_LOCKED', message: "L'import des heures est en cours sur le poste PC-CHANTIER : réessayez à la fin de son exécution." } });
      expect((await ok('maintenance.log'))[0]).toMatchObject({ action: 'recompare', flow: 'hours', outcome: 'failed', message: expect.stringMatching(/^Échec : L'import des heures est en cours sur le poste PC-CHANTIER/) });
    } finally {
      await h.buffer.releaseLease('hours', 'PC-CHANTIER#4242#x');
    }
  });

  it('the command line: connecteur maintenance verify / purge / forget / log', async () => {
    let out = '';
    let err = '';
    const io: CliIo = { out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false, env: { CONNECTEUR_DATA_DIR: path.join(dir, 'cli') } };
    const settingsFile = path.join(dir, 'reglages-cli.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ ...h.settings, machineName: 'PC-CLI' }));
    const cli = async (args: string[]) => {
      out = '';
      err = '';
      return runCli(['--settings', settingsFile, ...args], io, { runtime: { buffer: sharedBuffer(), licence: { assertSyncAllowed: async () => undefined } } });
    };
    expect(await cli(['maintenance', 'verify'])).toBe(EXIT.OK);
    expect(out).toMatch(new RegExp(`^Base tampon : schéma version ${latest} \\(attendue ${latest}\\)`));
    expect(out).toMatch(/✓ Aucune clé SuiviMO sans son créneau\./);
    expect(await cli(['maintenance', 'forget', '--flow', 'hours', '--confirm', 'non'])).toBe(EXIT.USAGE);
    expect(err).toContain('tapez OUBLIER');
    expect(await cli(['maintenance', 'purge', '--days', '0'])).toBe(EXIT.USAGE);
    expect(await cli(['maintenance', 'purge', '--days', '3650'])).toBe(EXIT.OK);
    expect(out).toMatch(/0 exécution supprimée/);
    expect(await cli(['maintenance', 'log'])).toBe(EXIT.OK);
    expect(out.split('\n')[0]).toMatch(/PC-CLI {2}purge {2}ok {2}Journal purgé/);
    // `connecteur status` says the state the tray and the dashboard show.
    expect(await cli(['status'])).toBe(EXIT.OK);
    expect(out).toMatch(/^État : (À jour|Attention requise|Licence) — /m);
  });
});
