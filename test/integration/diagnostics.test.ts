/**
 * « Exporter un diagnostic »: a zip for support with the settings without secrets, the last 7 days of logs,
 * the last runs with their items, versions, a fresh run of the connection tests — and, unzipped and grepped,
 * not one configured secret in any encoding (plain, base64, hex, URL-encoded, JSON-escaped, UTF-16), even
 * where a secret had leaked into a log line or a journal reason.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import yauzl from 'yauzl';
import { createApp, type App } from '../../src/main/app.js';
import { connectionsFeature } from '../../src/main/features/connections.js';
import { configuredSecrets, recentLogFiles } from '../../src/main/features/sync/diagnostics.js';
import { syncFeature } from '../../src/main/features/sync/index.js';
import type { DesktopOpener } from '../../src/main/features/types.js';
import { scrubSecrets } from '../../src/main/services/diagnostics/archive.js';
import { LATEST_BUFFER_VERSION } from '../../src/main/services/buffer/migrations.js';
import { BufferStore } from '../../src/main/services/buffer/store.js';
import { createNodeCipher } from '../../src/main/services/settings/node-cipher.js';
import { createNodeSettingsStore } from '../../src/main/services/settings/store.js';
import type { ChannelName, ChannelOutput, Result } from '../../src/shared/contract.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';
import { simHarness, type Harness } from '../support/sync/harness.js';

let h: Harness;
let dir: string;
let app: App;
const opened: string[] = [];

/** Secrets with characters that every encoding changes (space, /, +, =, &, %, quotes, accents). */
const SECRETS = {
  bufferPassword: 'Tampon "Tilleuls"/2026+ok=',
  licenceKey: 'K7QX-2MZP-9RTA-W4LE',
  supabaseAnonKey: 'eyJhbGciOiJIUzI1NiJ9.anon-clé&rôle=lecteur',
  importsApiKey: 'api_key 100% privée',
};

/** Every form of a secret the grep looks for — written here independently of the scrubber's own list. */
function encodings(secret: string): [string, Buffer][] {
  const utf8 = Buffer.from(secret, 'utf8');
  const hex = [...utf8].map((b) => b.toString(16).padStart(2, '0')).join('');
  const utf16le = Buffer.alloc(secret.length * 2);
  for (let i = 0; i < secret.length; i++) utf16le.writeUInt16LE(secret.charCodeAt(i), i * 2);
  const utf16be = Buffer.alloc(secret.length * 2);
  for (let i = 0; i < secret.length; i++) utf16be.writeUInt16BE(secret.charCodeAt(i), i * 2);
  return [
    ['plain', utf8],
    ['base64', Buffer.from(utf8.toString('base64'))],
    ['base64 without padding', Buffer.from(utf8.toString('base64').replace(/=+$/, ''))],
    ['base64url', Buffer.from(utf8.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''))],
    ['hex', Buffer.from(hex)],
    ['HEX', Buffer.from(hex.toUpperCase())],
    ['url-encoded', Buffer.from(encodeURIComponent(secret))],
    ['url-encoded lower case', Buffer.from(encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase()))],
    ['form-encoded', Buffer.from(encodeURIComponent(secret).replace(/%20/g, '+'))],
    ['json-escaped', Buffer.from(JSON.stringify(secret).slice(1, -1))],
    ['utf-16le', utf16le],
    ['utf-16be', utf16be],
  ];
}

/** Where each secret appears in `data`, in which encoding. */
function grep(data: Buffer, secrets: string[]): string[] {
  const found: string[] = [];
  for (const s of secrets) for (const [name, form] of encodings(s)) if (data.includes(form)) found.push(`${JSON.stringify(s)} (${name})`);
  return found;
}

async function unzip(file: string): Promise<Map<string, Buffer>> {
  const zip = await new Promise<yauzl.ZipFile>((res, rej) => yauzl.open(file, { lazyEntries: true }, (e, z) => (e ? rej(e) : res(z!))));
  const out = new Map<string, Buffer>();
  await new Promise<void>((res, rej) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      zip.openReadStream(entry, (e, stream) => {
        if (e || !stream) return rej(e);
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          out.set(entry.fileName, Buffer.concat(chunks));
          zip.readEntry();
        });
      });
    });
    zip.on('end', () => res());
    zip.on('error', rej);
    zip.readEntry();
  });
  return out;
}

async function ok<K extends ChannelName>(channel: K, input?: unknown): Promise<ChannelOutput<K>> {
  const r = (await app.router.invoke(channel, input, { host: 'bridge' })) as Result<ChannelOutput<K>>;
  if (!r.ok) throw new Error(`${channel} failed: ${r.error.code} ${r.error.message}`);
  return r.value;
}

const localDay = (d: Date) => `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;

beforeAll(async () => {
  h = await simHarness();
  h.clock.set(new Date());
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-diagnostic-'));
  const db = h.buffer.db;
  const opener: DesktopOpener = {
    openFolder: async (p) => (opened.push(`dossier ${p}`), true),
    showFile: async (p) => (opened.push(`fichier ${p}`), true),
  };
  app = await createApp({
    settingsStore: await createNodeSettingsStore({ cwd: dir }),
    cipher: createNodeCipher({ keyFile: path.join(dir, 'secret.key') }),
    logger: memoryLogger(),
    userDataDir: dir,
    host: 'bridge',
    version: '0.1.0',
    features: [connectionsFeature(), syncFeature({ schedule: false, opener })],
    overrides: {
      buffer: new BufferStore({ kind: db.kind, query: (s, p) => db.query(s, p), transaction: (fn) => db.transaction(fn), exec: (s) => db.exec(s), close: async () => undefined }),
      licenceGuard: { assertSyncAllowed: async () => undefined, allowsSync: () => true },
    },
  });
  app.settings.update({
    machineName: 'PC-SUPPORT',
    setupCompleted: true,
    sqlServer: h.settings.sqlServer,
    batisimply: h.settings.batisimply,
    buffer: { remote: { password: SECRETS.bufferPassword } },
    licence: { key: SECRETS.licenceKey, supabaseAnonKey: SECRETS.supabaseAnonKey },
    imports: { apiKey: SECRETS.importsApiKey },
  });
  app.settings.update({ protection: { pinHash: 'scrypt$15$8$1$c2VsZGUtZGUtdGVzdA==$aGFjaGUtZGUtdGVzdC1kdS1jb2Rl' } });
  await ok('sync.run', { flow: 'push', wait: true });

  // A bug leaked secrets into the journal and the logs: the archive must still hold none of them.
  const secrets = configuredSecrets(app.settings.get());
  const [run] = (await ok('journal.list')).runs;
  await h.buffer.db.query(`INSERT INTO run_items (run_id, record_key, action, reason, at) VALUES ($1, 'chantier:fuite', 'failed', $2, now())`, [run!.id, `Connexion refusée avec ${secrets[0]} et ${secrets[3]}`]);
  const logs = path.join(dir, 'logs');
  fs.mkdirSync(logs, { recursive: true });
  const leak = secrets.flatMap((s) => encodings(s).map(([name, form]) => Buffer.concat([Buffer.from(`{"msg":"fuite ${name}","detail":"`), form, Buffer.from('"}\n')])));
  fs.writeFileSync(path.join(logs, `connecteur-${localDay(new Date())}.log`), Buffer.concat([Buffer.from('{"msg":"démarrage"}\n'), ...leak]));
  fs.writeFileSync(path.join(logs, `connecteur-${localDay(new Date(Date.now() - 3 * 86_400_000))}.log`), '{"msg":"il y a trois jours"}\n');
  fs.writeFileSync(path.join(logs, `connecteur-${localDay(new Date(Date.now() - 10 * 86_400_000))}.log`), '{"msg":"il y a dix jours"}\n');
}, 120_000);

afterAll(async () => {
  await app?.dispose();
  await h?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('diagnostic archive', { timeout: 120_000 }, () => {
  it('the grep of this test does find each secret in each encoding where it is (it can fail)', () => {
    const secrets = configuredSecrets(app.settings.get());
    expect(secrets).toEqual(expect.arrayContaining(['Secret#1', 'secret-client', 'motdepasse', ...Object.values(SECRETS)]));
    expect(secrets.length).toBe(8); // + the PIN hash
    const planted = fs.readFileSync(path.join(dir, 'logs', `connecteur-${localDay(new Date())}.log`));
    expect(grep(planted, secrets)).toHaveLength(secrets.length * 12);
    expect(grep(scrubSecrets(planted, secrets), secrets)).toEqual([]);
  });

  it('holds the settings without secrets, 7 days of logs, the runs with their items, versions and fresh connection tests — and no secret in any form', async () => {
    const r = await ok('diagnostics.export');
    expect(r.fileName).toMatch(/^diagnostic-PC-SUPPORT-\d{8}-\d{6}\.zip$/);
    expect(path.dirname(r.path)).toBe(path.join(dir, 'diagnostics'));
    expect(fs.statSync(r.path).size).toBe(r.bytes);
    const files = await unzip(r.path);
    expect([...files.keys()].sort()).toEqual(
      [
        'LISEZMOI.txt',
        'avis.json',
        'base-tampon.json',
        'connexions.json',
        'etat.json',
        'executions.json',
        `journaux/connecteur-${localDay(new Date(Date.now() - 3 * 86_400_000))}.log`,
        `journaux/connecteur-${localDay(new Date())}.log`,
        'licence.json',
        'maintenance.json',
        'reglages.json',
        'versions.json',
      ].sort(),
    );
    expect(r.entries.length).toBe(files.size);

    const secrets = configuredSecrets(app.settings.get());
    const leaks = [...files].flatMap(([name, data]) => grep(data, secrets).map((x) => `${name}: ${x}`));
    expect(leaks).toEqual([]);

    const json = (n: string) => JSON.parse(files.get(n)!.toString('utf8')) as Record<string, unknown>;
    const settings = json('reglages.json').reglages as { sqlServer: { password: unknown; server: string }; protection: { pinHash: unknown } };
    expect(settings.sqlServer.password).toEqual({ set: true });
    expect(settings.sqlServer.server).toBe(h.settings.sqlServer.server);
    expect(settings.protection.pinHash).toEqual({ set: true });
    const runs = json('executions.json') as unknown as { flow: string; items: { reason: string | null }[] }[];
    expect(runs[0]).toMatchObject({ flow: 'push' });
    expect(runs[0]!.items.some((i) => i.reason === 'Connexion refusée avec [masqué] et [masqué]')).toBe(true);
    expect(json('connexions.json')).toMatchObject({ sqlServer: { ok: true }, batisimply: { ok: true }, baseTampon: { ok: true } });
    expect(json('versions.json')).toMatchObject({ version: '0.1.0', poste: 'PC-SUPPORT', moteurs: { node: process.versions.node } });
    expect(json('base-tampon.json')).toMatchObject({ verification: { ok: true, schemaVersion: LATEST_BUFFER_VERSION } });
    expect(json('etat.json')).toMatchObject({ softwareLabel: 'Sage Batigest' });
    const log = files.get(`journaux/connecteur-${localDay(new Date())}.log`)!.toString('utf8');
    expect(log).toContain('démarrage');
    expect(log).toContain('"detail":"[masqué]"');
    expect(files.get('LISEZMOI.txt')!.toString('utf8')).toMatch(/sans aucun mot de passe/);
  });

  it('keeps the five latest archives; reveals one in its folder; opens the log folder', async () => {
    let last = '';
    for (let i = 0; i < 6; i++) {
      last = (await ok('diagnostics.export')).path;
      await new Promise((res) => setTimeout(res, 1100)); // names carry the second
    }
    expect(fs.readdirSync(path.join(dir, 'diagnostics')).filter((n) => n.endsWith('.zip'))).toHaveLength(5);
    expect(await ok('diagnostics.reveal', { path: last })).toEqual({ opened: true, path: last });
    expect(opened.at(-1)).toBe(`fichier ${last}`);
    const outside = path.join(dir, 'settings.json');
    expect(await app.router.invoke('diagnostics.reveal', { path: outside }, { host: 'bridge' })).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    expect(await ok('diagnostics.openLogFolder')).toEqual({ opened: true, path: path.join(dir, 'logs') });
    expect(opened.at(-1)).toBe(`dossier ${path.join(dir, 'logs')}`);
  });

  it('recentLogFiles: the last 7 local days by the date in the name', () => {
    const d = fs.mkdtempSync(path.join(dir, 'logs-'));
    const now = new Date(2026, 2, 10, 9);
    for (const day of ['2026-03-10', '2026-03-04', '2026-03-03', '2025-12-01']) fs.writeFileSync(path.join(d, `connecteur-${day}.log`), '');
    fs.writeFileSync(path.join(d, 'notes.txt'), '');
    expect(recentLogFiles(d, now)).toEqual(['connecteur-2026-03-04.log', 'connecteur-2026-03-10.log']);
  });
});
