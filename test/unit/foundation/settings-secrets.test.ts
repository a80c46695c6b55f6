/**
 * Secrets are marked in the settings schema itself (`secret(…)` in src/shared/settings.ts): the list of
 * secret paths, the renderer's view, the patch schema and type, and the identity rule all derive from the
 * mark. This test ties the type-level derivation to the run-time one.
 */
import { describe, expect, it } from 'vitest';
import { settingsPatchSchema, settingsViewSchema, type SettingsPatch, type SettingsView } from '../../../src/shared/contract.js';
import { SECRETS, SECRET_PATHS, defaultSettings, type SecretPath } from '../../../src/shared/settings.js';
import { SECRET_IDENTITIES } from '../../../src/main/services/settings/secret-identity.js';
import { maskSettings } from '../../../src/main/services/settings/service.js';
import { getPath, setPath, type Raw } from '../../../src/main/services/settings/paths.js';

/** Exhaustive at compile time: a missing or extra path here does not type-check. */
const EVERY_SECRET: Record<SecretPath, true> = {
  'sqlServer.password': true,
  'buffer.remote.password': true,
  'batisimply.clientSecret': true,
  'batisimply.password': true,
  'licence.key': true,
  'licence.supabaseAnonKey': true,
  'imports.apiKey': true,
  'alerts.smtpPassword': true,
  'proxy.password': true,
  'protection.pinHash': true,
};

/** Sent to no one (the PIN's salted hash is only compared in this process): no identity fields. */
const SENT_NOWHERE: readonly SecretPath[] = ['protection.pinHash'];
/** Changed only through their own channels (protection.set / clear), never by settings.update. */
const NOT_PATCHABLE: readonly SecretPath[] = ['protection.pinHash'];

describe('secrets marked in the settings schema', () => {
  it('the paths found in the schema at run time are exactly those of the type', () => {
    expect([...SECRET_PATHS].sort()).toEqual(Object.keys(EVERY_SECRET).sort());
  });

  it('every mark names the secret, its gender and who may receive it (existing setting paths)', () => {
    const defaults = defaultSettings() as unknown as Raw;
    for (const { path, meta } of SECRETS) {
      expect(meta.label, path).toMatch(/^(le|la) /);
      expect(meta.label.startsWith(meta.pronoun), path).toBe(true);
      if (SENT_NOWHERE.includes(path)) expect(meta.identity, path).toEqual([]);
      else expect(meta.identity.length, path).toBeGreaterThan(0);
      for (const f of meta.identity) expect(getPath(defaults, f), `${path} → ${f}`).not.toBeUndefined();
    }
    expect(SECRET_IDENTITIES.map((x) => x.secret)).toEqual(SECRET_PATHS);
  });

  it('the view schema wants { set } on every secret and refuses the value in clear', () => {
    const s = defaultSettings();
    const view: SettingsView = maskSettings(s);
    expect(settingsViewSchema.safeParse(view).success).toBe(true);
    for (const p of SECRET_PATHS) {
      const leak = structuredClone(view) as unknown as Raw;
      setPath(leak, p, 'en clair');
      expect(settingsViewSchema.safeParse(leak).success, p).toBe(false);
    }
  });

  it('the patch schema takes a new value, { keep } or { clear } on every secret, and nothing else', () => {
    for (const p of NOT_PATCHABLE) {
      const patch = {} as Raw;
      setPath(patch, p, 'nouveau');
      expect(settingsPatchSchema.safeParse(patch).success, p).toBe(false);
    }
    for (const p of SECRET_PATHS.filter((x) => !NOT_PATCHABLE.includes(x))) {
      for (const ok of ['nouveau', { keep: true }, { clear: true }]) {
        const patch = {} as Raw;
        setPath(patch, p, ok);
        expect(settingsPatchSchema.safeParse(patch).success, `${p} ${JSON.stringify(ok)}`).toBe(true);
      }
      const bad = {} as Raw;
      setPath(bad, p, { set: true });
      expect(settingsPatchSchema.safeParse(bad).success, p).toBe(false);
    }
    // The type follows: a secret takes a SecretInput, a plain field its own type.
    const typed: SettingsPatch = { sqlServer: { password: { keep: true }, server: 'SRV' }, licence: { key: { clear: true } } };
    expect(settingsPatchSchema.safeParse(typed).success).toBe(true);
  });
});
