/**
 * Protection on a shared PC: the PIN (salted scrypt hash, never in clear), and its enforcement in the main
 * process — the router refuses the protected channels while locked, whatever the page shows; the dashboard,
 * the journal and « Synchroniser maintenant » stay open; the command line is not asked.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/main/app.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import { PROTECTED, hashPin, needsUnlock, verifyPin } from '../../src/main/features/protection.js';
import { createNodeCipher } from '../../src/main/services/settings/node-cipher.js';
import { createNodeSettingsStore } from '../../src/main/services/settings/store.js';
import type { CallContext } from '../../src/main/ipc/router.js';
import { CHANNEL_NAMES, type ProtectionStatus, type Result } from '../../src/shared/contract.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

let dir: string;
let app: App;
let now = Date.parse('2026-03-10T09:00:00Z');
const clock = { now: () => new Date(now) };
const PIN = '482913';

const call = (channel: string, input?: unknown, host: CallContext['host'] = 'bridge') => app.router.invoke(channel, input, { host }) as Promise<Result<unknown>>;
const code = (r: Result<unknown>) => (r.ok ? 'OK' : r.error.code);
async function status(): Promise<ProtectionStatus> {
  const r = await call('protection.status');
  if (!r.ok) throw new Error(r.error.message);
  return r.value as ProtectionStatus;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-protection-'));
  app = await createApp({
    settingsStore: await createNodeSettingsStore({ cwd: dir }),
    cipher: createNodeCipher({ keyFile: path.join(dir, 'secret.key') }),
    logger: memoryLogger(),
    clock,
    userDataDir: dir,
    host: 'bridge',
    version: '0.1.0',
    features: defaultFeatures({ licence: { checkAtStart: false }, sync: { schedule: false, openAtStart: false } }),
    overrides: { licenceGuard: { assertSyncAllowed: async () => undefined, allowsSync: () => true } },
  });
});
afterAll(async () => {
  await app?.dispose();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('the PIN hash', () => {
  it('is a salted scrypt hash: two hashes of one PIN differ, both verify; a wrong PIN or a malformed hash does not', async () => {
    const a = await hashPin(PIN);
    const b = await hashPin(PIN);
    expect(a).toMatch(/^scrypt\$15\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(a).not.toContain(PIN);
    expect(await verifyPin(PIN, a)).toBe(true);
    expect(await verifyPin(PIN, b)).toBe(true);
    expect(await verifyPin('482914', a)).toBe(false);
    expect(await verifyPin(PIN, 'plain:482913')).toBe(false);
    expect(await verifyPin(PIN, a.replace(/\$15\$/, '$40$'))).toBe(false);
  });
});

describe('which calls need the PIN', () => {
  it('Réglages, Correspondance and Maintenance; the connection tests only with typed values; never from the command line', () => {
    for (const c of ['settings.update', 'schedule.set', 'mapping.get', 'mapping.save', 'maintenance.forget', 'diagnostics.export'] as const) expect(needsUnlock(c, {}, 'electron')).toBe(true);
    for (const c of ['sync.run', 'sync.status', 'sync.cancel', 'status.overview', 'journal.list', 'journal.get', 'schedule.pause', 'schedule.resume', 'licence.status', 'settings.get', 'app.info', 'protection.unlock'] as const) {
      expect(needsUnlock(c, {}, 'electron')).toBe(false);
    }
    expect(needsUnlock('sqlServer.test', undefined, 'electron')).toBe(false);
    expect(needsUnlock('sqlServer.test', { override: { password: 'x' } }, 'electron')).toBe(true);
    expect(needsUnlock('settings.update', {}, 'cli')).toBe(false);
    // Every protected name is a channel of the contract.
    for (const c of PROTECTED) expect(CHANNEL_NAMES).toContain(c);
  });
});

describe('enforced in the main process', () => {
  it('without a PIN nothing is asked', async () => {
    expect(await status()).toMatchObject({ enabled: false, unlocked: false });
    expect(code(await call('settings.update', { machineName: 'PC-ACCUEIL' }))).toBe('OK');
  });

  it('setting a PIN: only its salted hash is kept, encrypted on disk, never sent to the window; settings.update cannot touch it', async () => {
    expect(code(await call('protection.set', { pin: '12' }))).toBe('INVALID_INPUT');
    const r = await call('protection.set', { pin: PIN, idleMinutes: 5 });
    expect(r).toMatchObject({ ok: true, value: { enabled: true, unlocked: true, idleMinutes: 5 } });
    const stored = app.settings.get().protection.pinHash;
    expect(await verifyPin(PIN, stored)).toBe(true);
    const file = fs.readFileSync(path.join(dir, 'settings.json'), 'utf8');
    expect(file).not.toContain(PIN);
    expect(file).not.toContain(stored.split('$')[5]!);
    const view = await call('settings.get');
    expect(view.ok && (view.value as { protection: unknown }).protection).toEqual({ pinHash: { set: true }, idleMinutes: 5 });
    expect(JSON.stringify(view)).not.toContain(stored.split('$')[5]!);
    // The renderer's settings.update has no `protection`: refused as invalid input, the PIN unchanged.
    expect(code(await call('settings.update', { protection: { pinHash: { clear: true } } }))).toBe('INVALID_INPUT');
    expect(app.settings.get().protection.pinHash).toBe(stored);
  });

  it('locked: every protected channel is refused by the router (PROTECTION_LOCKED), the dashboard and the sync stay open', async () => {
    expect(await call('protection.lock')).toMatchObject({ ok: true, value: { enabled: true, unlocked: false } });
    for (const [channel, input] of [
      ['settings.update', { machineName: 'PIRATE' }],
      ['schedule.set', { enabled: true }],
      ['mapping.get', undefined],
      ['mapping.save', { entries: [] }],
      ['maintenance.verify', undefined],
      ['maintenance.forget', { flow: 'push', confirm: 'OUBLIER' }],
      ['maintenance.purgeJournal', { olderThanDays: 1 }],
      ['diagnostics.export', undefined],
      ['diagnostics.openLogFolder', undefined],
      ['sqlServer.test', { override: { server: 'ailleurs' } }],
      ['protection.clear', { current: PIN }],
    ] as const) {
      const r = await call(channel, input);
      expect(code(r), channel).toBe('PROTECTION_LOCKED');
      expect(r.ok ? '' : r.error.message).toMatch(/code de protection/);
    }
    expect(app.settings.get().machineName).toBe('PC-ACCUEIL');
    // Open: what the dashboard and the tray need.
    for (const [channel, input] of [
      ['sync.status', undefined],
      ['status.overview', undefined],
      ['journal.list', undefined],
      ['settings.get', undefined],
      ['licence.status', undefined],
      ['schedule.pause', { preset: '1h' }],
      ['schedule.resume', undefined],
    ] as const) {
      expect(code(await call(channel, input)), channel).toBe('OK');
    }
    // « Synchroniser maintenant » is not refused by the protection (here it fails further on: nothing configured).
    expect(code(await call('sync.run', { flow: 'push' }))).not.toBe('PROTECTION_LOCKED');
    // The command line is not asked.
    expect(code(await call('settings.update', { machineName: 'PC-ACCUEIL' }, 'cli'))).toBe('OK');
  });

  it('a wrong PIN is refused; after five, each try waits; the right one unlocks', async () => {
    for (let i = 1; i <= 5; i++) expect(await call('protection.unlock', { pin: '000000' })).toMatchObject({ ok: false, error: { code: 'PROTECTION_PIN_INVALID', message: 'Code de protection incorrect.' } });
    const throttled = await call('protection.unlock', { pin: PIN });
    expect(throttled).toMatchObject({ ok: false, error: { code: 'PROTECTION_PIN_INVALID', message: expect.stringMatching(/^Trop de codes erronés : réessayez dans \d+ s\.$/) } });
    expect((await status()).retryAfter).not.toBeNull();
    now += 31_000;
    expect(await call('protection.unlock', { pin: PIN })).toMatchObject({ ok: true, value: { unlocked: true, retryAfter: null } });
    expect(code(await call('settings.update', { machineName: 'PC-COMPTA' }))).toBe('OK');
  });

  it('the PIN is asked again after the idle delay; each protected action restarts it', async () => {
    now += 4 * 60_000;
    expect(code(await call('schedule.set', { retries: 2 }))).toBe('OK');
    now += 4 * 60_000;
    expect(code(await call('schedule.set', { retries: 3 }))).toBe('OK');
    now += 5 * 60_000 + 1;
    expect(code(await call('schedule.set', { retries: 4 }))).toBe('PROTECTION_LOCKED');
    expect((await status()).unlocked).toBe(false);
  });

  it('changing or removing the PIN asks for the current one', async () => {
    await call('protection.unlock', { pin: PIN });
    expect(await call('protection.set', { pin: '111111' })).toMatchObject({ ok: false, error: { code: 'PROTECTION_PIN_INVALID' } });
    expect(await call('protection.set', { pin: '111111', current: '999999' })).toMatchObject({ ok: false, error: { code: 'PROTECTION_PIN_INVALID' } });
    expect(code(await call('protection.set', { pin: '111111', current: PIN }))).toBe('OK');
    expect(await verifyPin('111111', app.settings.get().protection.pinHash)).toBe(true);
    expect(await call('protection.clear', { current: '111111' })).toMatchObject({ ok: true, value: { enabled: false } });
    expect(app.settings.get().protection.pinHash).toBe('');
    expect(code(await call('settings.update', { machineName: 'PC-LIBRE' }))).toBe('OK');
  });
});
