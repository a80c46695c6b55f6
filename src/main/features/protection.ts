/**
 * Protection on a shared office PC (option): a PIN asked before Réglages, Correspondance and Maintenance.
 * The dashboard, the journal, the licence page and « Synchroniser maintenant » stay open.
 *
 * Enforced in the main process: the feature's guard refuses every protected channel (PROTECTED below) with
 * PROTECTION_LOCKED while the PIN has not been typed, whatever the page shows. The PIN is stored as a salted
 * scrypt hash (settings.protection.pinHash, itself encrypted on disk like the other secrets), never in
 * clear, never sent to the renderer, and changed only through protection.set / protection.clear (the
 * settings.update schema has no `protection`). After `idleMinutes` without a protected action, the PIN is
 * asked again. Wrong codes: after 5, each new try waits (30 s, doubling, at most 15 min).
 *
 * The in-process command line (`connecteur …`, host 'cli') is not asked: whoever runs it already has the
 * Windows session and its files. This protects the window against a colleague, not against an
 * administrator of the PC.
 */
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import type { ChannelName, ProtectionStatus } from '../../shared/contract.js';
import { PIN_PATTERN } from '../../shared/contract.js';
import { AppError } from '../../shared/errors.js';
import type { CallContext } from '../ipc/router.js';
import type { AppFeature } from './types.js';

const scrypt = promisify(crypto.scrypt) as (pw: string, salt: Buffer, keylen: number, o: crypto.ScryptOptions) => Promise<Buffer>;

/** The channels of Réglages, Correspondance and Maintenance. */
export const PROTECTED: ReadonlySet<ChannelName> = new Set<ChannelName>([
  'settings.update',
  'schedule.set',
  'sqlServer.detectColumns',
  'chantiers.preview',
  'sqlServer.discover',
  'sqlServer.databases',
  'mapping.get',
  'mapping.save',
  'mapping.codebsStatus',
  'mapping.createCodebsColumn',
  'maintenance.verify',
  'maintenance.recompare',
  'maintenance.purgeJournal',
  'maintenance.forget',
  'maintenance.log',
  'config.import',
  'config.export',
  'machines.forget',
  'diagnostics.export',
  'diagnostics.reveal',
  'diagnostics.openLogFolder',
  'updates.check',
  'protection.set',
  'protection.clear',
]);

/** The connection tests feed the dashboard's cards freely; testing typed values (Réglages) is protected. */
const PROTECTED_WITH_OVERRIDE: ReadonlySet<ChannelName> = new Set<ChannelName>(['sqlServer.test', 'buffer.test', 'batisimply.test']);

/** Hosts calling the handler map in process (the command line, the demo): not asked. */
const TRUSTED_HOSTS: ReadonlySet<CallContext['host']> = new Set(['cli', 'demo']);

/** Whether this call needs the PIN (when a PIN is set). Pure. */
export function needsUnlock(channel: ChannelName, input: unknown, host: CallContext['host']): boolean {
  if (TRUSTED_HOSTS.has(host)) return false;
  if (PROTECTED.has(channel)) return true;
  if (PROTECTED_WITH_OVERRIDE.has(channel)) return typeof input === 'object' && input !== null && 'override' in input && (input as { override?: unknown }).override !== undefined;
  return false;
}

// ---- the hash ----------------------------------------------------------------------------------

const LOG_N = 15;
const R = 8;
const P = 1;
const KEYLEN = 32;
const maxmem = (logN: number, r: number) => 256 * 2 ** logN * r;

/** `scrypt$<log2 N>$<r>$<p>$<salt>$<hash>` (base64): a fresh salt each time. */
export async function hashPin(pin: string): Promise<string> {
  const salt = crypto.randomBytes(16);
  const key = await scrypt(pin, salt, KEYLEN, { N: 2 ** LOG_N, r: R, p: P, maxmem: maxmem(LOG_N, R) });
  return `scrypt$${LOG_N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Compares a typed PIN with a stored hash in constant time; false for any malformed hash. */
export async function verifyPin(pin: string, stored: string): Promise<boolean> {
  const m = /^scrypt\$(\d{1,2})\$(\d{1,2})\$(\d{1,2})\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(stored);
  if (!m) return false;
  const [logN, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (logN < 10 || logN > 20 || r < 1 || r > 32 || p < 1 || p > 4) return false;
  const salt = Buffer.from(m[4]!, 'base64');
  const want = Buffer.from(m[5]!, 'base64');
  if (want.length < 16) return false;
  const got = await scrypt(pin, salt, want.length, { N: 2 ** logN, r, p, maxmem: maxmem(logN, r) });
  return crypto.timingSafeEqual(got, want);
}

// ---- the feature -------------------------------------------------------------------------------

const FREE_TRIES = 5;
const MAX_WAIT_MS = 15 * 60_000;

const locked = () =>
  new AppError('PROTECTION_LOCKED', 'Cette page est protégée par un code : saisissez le code de protection pour continuer (Réglages › Protection des réglages).', {
    detail: 'protected channel while locked',
  });

export function protectionFeature(): AppFeature {
  return (ctx) => {
    const log = ctx.logger.child({ feature: 'protection' });
    let unlockedUntil = 0;
    let failures = 0;
    let retryAfter = 0;
    let expiry: NodeJS.Timeout | null = null;

    const settings = () => ctx.settings.get().protection;
    const enabled = () => settings().pinHash !== '';
    const now = () => ctx.clock.now().getTime();
    const isUnlocked = () => enabled() && now() < unlockedUntil;

    const status = (): ProtectionStatus => ({
      enabled: enabled(),
      unlocked: isUnlocked(),
      idleMinutes: settings().idleMinutes,
      retryAfter: retryAfter > now() ? new Date(retryAfter).toISOString() : null,
    });
    const publish = () => ctx.emit('protection:status', status());

    /** (Re)starts the idle delay; the window is told when it runs out. */
    const touch = () => {
      unlockedUntil = now() + settings().idleMinutes * 60_000;
      if (expiry) clearTimeout(expiry);
      expiry = setTimeout(() => {
        expiry = null;
        if (!isUnlocked()) publish();
      }, unlockedUntil - now() + 50);
      expiry.unref();
    };
    const lock = () => {
      unlockedUntil = 0;
      if (expiry) clearTimeout(expiry);
      expiry = null;
    };

    /** Checks a typed PIN, counting the wrong ones. */
    const check = async (pin: string): Promise<void> => {
      if (retryAfter > now()) {
        const s = Math.ceil((retryAfter - now()) / 1000);
        throw new AppError('PROTECTION_PIN_INVALID', `Trop de codes erronés : réessayez dans ${s} s.`, { detail: 'pin tries throttled' });
      }
      if (await verifyPin(pin, settings().pinHash)) {
        failures = 0;
        retryAfter = 0;
        return;
      }
      failures++;
      if (failures >= FREE_TRIES) retryAfter = now() + Math.min(MAX_WAIT_MS, 30_000 * 2 ** (failures - FREE_TRIES));
      log.warn('wrong protection code', { failures });
      throw new AppError('PROTECTION_PIN_INVALID', 'Code de protection incorrect.', { detail: `wrong pin (${failures})` });
    };

    return {
      name: 'protection',
      guard(channel, input, call) {
        if (!enabled() || !needsUnlock(channel, input, call.host)) return;
        if (!isUnlocked()) {
          log.info('protected channel refused while locked', { channel });
          throw locked();
        }
        touch();
      },
      handlers: {
        'protection.status': () => status(),
        'protection.unlock': async ({ pin }) => {
          if (!enabled()) return status();
          await check(pin);
          touch();
          log.info('protection unlocked');
          publish();
          return status();
        },
        'protection.lock': () => {
          lock();
          publish();
          return status();
        },
        'protection.set': async ({ pin, current, idleMinutes }) => {
          // The guard already asked for an unlocked session; changing a PIN also asks for the current one.
          if (enabled()) {
            if (current === undefined) throw new AppError('PROTECTION_PIN_INVALID', 'Saisissez le code actuel pour le changer.', { detail: 'current pin missing' });
            await check(current);
          }
          if (!PIN_PATTERN.test(pin)) throw new AppError('INVALID_INPUT', 'Le code est fait de 4 à 12 chiffres.');
          ctx.settings.update({ protection: { pinHash: await hashPin(pin), ...(idleMinutes ? { idleMinutes } : {}) } });
          log.info('protection code set');
          touch();
          publish();
          return status();
        },
        'protection.clear': async ({ current }) => {
          if (!enabled()) return status();
          await check(current);
          ctx.settings.update({ protection: { pinHash: { clear: true } } });
          lock();
          log.info('protection removed');
          publish();
          return status();
        },
      },
      dispose: () => lock(),
    };
  };
}
