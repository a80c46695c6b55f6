import { describe, expect, it } from 'vitest';
import { AppError, toAppError } from '../../src/shared/errors.js';
import { defaultSettings, settingsSchema } from '../../src/shared/settings.js';

describe('AppError', () => {
  it('keeps the technical detail out of the serialised form', () => {
    const e = new AppError('SQL_LOGIN_FAILED', 'Identifiant ou mot de passe SQL Server refusé.', { detail: 'Login failed for user sa' });
    expect(e.toJSON()).toEqual({ code: 'SQL_LOGIN_FAILED', message: 'Identifiant ou mot de passe SQL Server refusé.' });
    expect(JSON.stringify(e.toJSON())).not.toContain('Login failed');
  });

  it('wraps unknown throwables without exposing raw text to the user', () => {
    const e = toAppError(new TypeError('cannot read x of undefined'));
    expect(e.code).toBe('INTERNAL');
    expect(e.message).not.toContain('undefined');
    expect(e.detail).toContain('cannot read x');
  });
});

describe('settings schema', () => {
  it('fills every default from an empty object', () => {
    const s = defaultSettings();
    expect(s.mode).toBe('chantier');
    expect(s.hours.windowDays).toBe(180);
    expect(s.hours.timezone).toBe('Europe/Paris');
    expect(s.schedule.intervalSeconds).toBe(300);
    expect(s.buffer.kind).toBe('embedded');
  });
  it('rejects wrong types', () => {
    expect(settingsSchema.safeParse({ mode: 'autre' }).success).toBe(false);
    expect(settingsSchema.safeParse({ hours: { windowDays: 'beaucoup' } }).success).toBe(false);
  });
});

describe('one cancellation error', () => {
  it('every CANCELLED error of src/ is built by cancelledError / shuttingDownError (src/shared/errors.ts)', async () => {
    const fs = await import('node:fs');
    const path = await import('node:path');
    const files = (dir: string): string[] =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(path.join(dir, e.name)) : /\.tsx?$/.test(e.name) ? [path.join(dir, e.name)] : []));
    const elsewhere = files('src').filter((f) => !f.endsWith(path.join('shared', 'errors.ts')) && /new AppError\(\s*'CANCELLED'/.test(fs.readFileSync(f, 'utf8')));
    expect(elsewhere).toEqual([]);
  });

  it('names the operation and is recognised by its code', async () => {
    const { cancelledError, throwIfCancelled } = await import('../../src/shared/errors.js');
    expect(cancelledError('Synchronisation')).toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(/^Synchronisation annulée à votre demande\./) });
    const ac = new AbortController();
    expect(() => throwIfCancelled(ac.signal)).not.toThrow();
    ac.abort();
    expect(() => throwIfCancelled(ac.signal, 'Vérification de licence')).toThrow(/Vérification de licence annulée/);
  });
});
