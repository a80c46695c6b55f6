/**
 * Two apps (two PCs: two data folders) on one PostgreSQL buffer: Réglages › Postes (machines.list: each PC's
 * heartbeat, version, the flow it holds, its last run, whether it answers; machines.forget only for a PC unseen
 * for long) and the configuration shared without secrets (config.export on one PC, config.import on the other:
 * its name and id kept, its secrets asked again; a hostile file refused or stripped), also through the CLI.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/main/app.js';
import { EXIT, runCli, type CliIo } from '../../src/main/cli.js';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import { CONFIG_FILE_FORMAT } from '../../src/shared/config-share.js';
import type { ChannelName, ChannelOutput, Result } from '../../src/shared/contract.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { createTestBuffer, type TestBuffer } from '../support/sync/buffers.js';

let tb: TestBuffer;
let dir: string;
let database = '';
const apps: App[] = [];

const remote = () => ({ kind: 'remote' as const, remote: { host: '127.0.0.1', port: 5432, user: 'postgres', password: '', database, ssl: false } });

async function newPc(name: string): Promise<App> {
  const data = path.join(dir, name);
  fs.mkdirSync(data, { recursive: true });
  const app = await createNodeApp({
    dataDir: data,
    logger: memoryLogger(),
    host: 'headless',
    version: '1.4.0',
    features: defaultFeatures({ licence: { checkAtStart: false }, sync: { schedule: false, openAtStart: false } }),
  });
  apps.push(app);
  app.settings.update({ machineName: name, buffer: remote() });
  return app;
}

async function ok<K extends ChannelName>(app: App, channel: K, input?: unknown): Promise<ChannelOutput<K>> {
  const r = (await app.router.invoke(channel, input)) as Result<ChannelOutput<K>>;
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
  return r.value;
}

async function refused(app: App, channel: ChannelName, input?: unknown): Promise<{ code: string; message: string }> {
  const r = (await app.router.invoke(channel, input)) as Result<unknown>;
  if (r.ok) throw new Error(`${channel} was accepted`);
  return r.error;
}

beforeAll(async () => {
  tb = await createTestBuffer('postgres');
  database = (await tb.store.db.query<{ d: string }>('SELECT current_database() AS d'))[0]!.d;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-multi-pc-app-'));
});

afterAll(async () => {
  for (const a of apps) await a.dispose().catch(() => undefined);
  await tb?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Réglages › Postes', () => {
  it('lists every PC of the buffer with its version, heartbeat, held flow and last run; forgets only a long-unseen one', async () => {
    const a = await newPc('PC-ACCUEIL');
    const b = await newPc('PC-COMPTA');
    await ok(a, 'machines.list');
    const seenByB = await ok(b, 'machines.list');
    expect(seenByB.shared).toBe(true);
    expect(seenByB.machines.map((m) => [m.name, m.self, m.reachable, m.appVersion, m.forgettable])).toEqual(
      expect.arrayContaining([
        ['PC-ACCUEIL', false, true, '1.4.0', false],
        ['PC-COMPTA', true, true, '1.4.0', false],
      ]),
    );
    // PC-ACCUEIL holds the hours flow and ran a push before.
    await tb.store.startRun({ id: 'run-1', flow: 'push', machine: 'PC-ACCUEIL', trigger: 'schedule', now: new Date(Date.now() - 60_000) });
    await tb.store.acquireLease({ flow: 'hours', holder: 'PC-ACCUEIL#1#x', machine: 'PC-ACCUEIL', runId: 'run-2', now: new Date(), ttlMs: 120_000 });
    const accueil = (await ok(b, 'machines.list')).machines.find((m) => m.name === 'PC-ACCUEIL')!;
    expect(accueil.holding).toEqual(['hours']);
    expect(accueil.lastRun).toMatchObject({ flow: 'push', status: 'running' });
    await tb.store.releaseLease('hours', 'PC-ACCUEIL#1#x');

    // A live PC is not forgotten; one unseen for 8 days is (and is an older version: to update).
    const live = await refused(b, 'machines.forget', { machineId: accueil.machineId });
    expect(live.message).toMatch(/signe de vie depuis moins de 7 jours/);
    await tb.store.db.query("UPDATE machines SET last_heartbeat = now() - interval '8 days', app_version = '1.3.9' WHERE name = 'PC-ACCUEIL'");
    const old = (await ok(b, 'machines.list')).machines.find((m) => m.name === 'PC-ACCUEIL')!;
    expect(old).toMatchObject({ reachable: false, forgettable: true, outdated: true });
    const after = await ok(b, 'machines.forget', { machineId: old.machineId });
    expect(after.machines.map((m) => m.name)).toEqual(['PC-COMPTA']);
    // Never this PC itself.
    expect((await refused(b, 'machines.forget', { machineId: after.machines[0]!.machineId })).code).toBe('INVALID_INPUT');
  });
});

describe('configuration sharing', () => {
  it('exports without any secret nor the PC name, imports on another PC keeping its name, and asks its secrets again', async () => {
    const a = await newPc('PC-SOURCE');
    a.settings.update({
      sqlServer: { server: 'SRV-BATIGEST\\SAGE', database: 'BTG_SARL', user: 'sage', password: 'Mot-De-Passe-SQL-42' },
      batisimply: { clientId: 'client-7', clientSecret: 'secret-client-XYZ', username: 'bureau@example.fr', password: 'MotDePasseBS' },
      schedule: { intervalSeconds: 600, enabled: true },
      hours: { windowDays: 45 },
    });
    const { content, fileName } = await ok(a, 'config.export');
    expect(fileName).toMatch(/^configuration-connecteur-\d{4}-\d{2}-\d{2}\.json$/);
    for (const secret of ['Mot-De-Passe-SQL-42', 'secret-client-XYZ', 'MotDePasseBS', 'PC-SOURCE"']) expect(content).not.toContain(secret === 'PC-SOURCE"' ? `"machineName"` : secret);
    const file = JSON.parse(content) as { format: string; exportedFrom: string; secretsSet: string[] };
    expect(file.format).toBe(CONFIG_FILE_FORMAT);
    expect(file.exportedFrom).toBe('PC-SOURCE');
    expect(file.secretsSet).toEqual(expect.arrayContaining(['sqlServer.password', 'batisimply.clientSecret', 'batisimply.password']));

    const b = await newPc('PC-NOUVEAU');
    // A password saved here for another server is cleared (to be typed again), never sent to the imported server.
    b.settings.update({ sqlServer: { server: 'ANCIEN-SERVEUR', user: 'sage', password: 'ancien-mot-de-passe' } });
    const r = await ok(b, 'config.import', { content });
    expect(b.settings.get().sqlServer.password).toBe('');
    expect(r.from).toBe('PC-SOURCE');
    expect(r.view.machineName).toBe('PC-NOUVEAU');
    expect(r.view.sqlServer).toMatchObject({ server: 'SRV-BATIGEST\\SAGE', database: 'BTG_SARL', user: 'sage', password: { set: false } });
    expect(r.view.batisimply).toMatchObject({ clientId: 'client-7', clientSecret: { set: false } });
    expect(r.view.schedule).toMatchObject({ intervalSeconds: 600, enabled: true });
    expect(r.view.hours.windowDays).toBe(45);
    expect(r.secretsToType).toEqual(expect.arrayContaining(['le mot de passe SQL Server']));
    expect(r.secretsToType.length).toBe(3);
    // The buffer stays shared, and each PC keeps its own id on it.
    const names = (await ok(b, 'machines.list')).machines.map((m) => m.name);
    expect(names).toEqual(expect.arrayContaining(['PC-NOUVEAU']));

    // Hostile files: not JSON, another format, or a hand-edited one setting a secret or the PC name (stripped).
    expect((await refused(b, 'config.import', { content: '{ pas du json' })).message).toMatch(/JSON illisible/);
    expect((await refused(b, 'config.import', { content: JSON.stringify({ ...file, format: 'autre' }) })).message).toMatch(/champ « format »/);
    const edited = JSON.parse(content) as { settings: Record<string, unknown> };
    edited.settings.machineName = 'PIRATE';
    (edited.settings.sqlServer as Record<string, unknown>).password = 'injecté';
    const r2 = await ok(b, 'config.import', { content: JSON.stringify(edited) });
    expect(r2.view.machineName).toBe('PC-NOUVEAU');
    expect(r2.view.sqlServer.password).toEqual({ set: false });
  });

  it('through the CLI: connecteur config export FILE, then config import FILE on another data folder', async () => {
    let out = '';
    let err = '';
    const io: CliIo = { out: (s) => void (out += s), err: (s) => void (err += s), isTTY: false, env: {} };
    const file = path.join(dir, 'partage.json');
    const src = path.join(dir, 'cli-src');
    const dst = path.join(dir, 'cli-dst');
    const settingsFile = path.join(dir, 'cli-settings.json');
    fs.writeFileSync(settingsFile, JSON.stringify({ machineName: 'PC-CLI', mode: 'devis', hours: { windowDays: 30 } }));
    expect(await runCli(['--data-dir', src, '--settings', settingsFile, 'config', 'export', file], io), err).toBe(EXIT.OK);
    expect(out).toMatch(/Configuration exportée/);
    out = '';
    expect(await runCli(['--data-dir', dst, 'config', 'import', file], io), err).toBe(EXIT.OK);
    expect(out).toMatch(/Configuration du poste PC-CLI importée/);
    const saved = JSON.parse(fs.readFileSync(path.join(dst, 'settings.json'), 'utf8')) as { mode?: string; machineName?: string };
    expect(saved.mode).toBe('devis');
    expect(saved.machineName ?? '').toBe('');
  });
});
