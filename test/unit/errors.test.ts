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
