import { describe, expect, it } from 'vitest';
import { settingsViewSchema, settingsPatchSchema } from '../../../src/shared/contract.js';
import { BATISIMPLY_ENVIRONMENTS, defaultSettings } from '../../../src/shared/settings.js';
import {
  bsDraft,
  bsPatch,
  bufferDraft,
  bufferPatch,
  optionsDraft,
  optionsPatch,
  sqlDraft,
  sqlPatch,
  validateBs,
  validateBuffer,
  validateOptions,
  validateSql,
} from '../../../src/renderer/lib/drafts.js';

function view(set = false) {
  const s = defaultSettings();
  return settingsViewSchema.parse({
    ...s,
    sqlServer: { ...s.sqlServer, server: 'SRV\\SAGE', database: 'BTG', user: 'sa', password: { set } },
    buffer: { ...s.buffer, remote: { ...s.buffer.remote, password: { set: false } } },
    batisimply: { ...s.batisimply, clientSecret: { set }, password: { set } },
    licence: { ...s.licence, key: { set }, supabaseAnonKey: { set: false } },
    imports: { ...s.imports, apiKey: { set: false } },
    alerts: { ...s.alerts, smtpPassword: { set: false } },
    proxy: { ...s.proxy, password: { set: false } },
    protection: { ...s.protection, pinHash: { set: false } },
  });
}

describe('settings drafts of the renderer', () => {
  it('never puts a saved secret in a draft, and keeps it when left empty', () => {
    const d = sqlDraft(view(true));
    expect(d.password).toBe('');
    const patch = sqlPatch(d);
    expect(patch.password).toEqual({ keep: true });
    expect(settingsPatchSchema.safeParse({ sqlServer: patch }).success).toBe(true);
    expect(sqlPatch({ ...d, password: 'nouveau' }).password).toBe('nouveau');
  });

  it('requires the SQL fields, and the password only when none is saved', () => {
    const empty = { ...sqlDraft(view(false)), server: ' ', database: '', user: '' };
    expect(Object.keys(validateSql(empty, false)).sort()).toEqual(['database', 'password', 'server', 'user']);
    expect(validateSql(sqlDraft(view(true)), true)).toEqual({});
  });

  it('uses the environment URLs unless the environment is custom, and checks custom URLs', () => {
    const d = { ...bsDraft(view(true)), environment: 'production' as const, clientId: 'c', username: 'u' };
    expect(bsPatch(d)).toMatchObject(BATISIMPLY_ENVIRONMENTS.production);
    const custom = { ...d, environment: 'custom' as const, ssoUrl: 'http://127.0.0.1:4000/', apiUrl: 'pas une url' };
    expect(validateBs(custom, { clientSecret: true, password: true })).toEqual({ apiUrl: expect.any(String) });
    expect(bsPatch({ ...custom, apiUrl: 'http://127.0.0.1:4001' })).toMatchObject({ ssoUrl: 'http://127.0.0.1:4000', apiUrl: 'http://127.0.0.1:4001' });
    expect(settingsPatchSchema.safeParse({ batisimply: bsPatch(d) }).success).toBe(true);
  });

  it('sends only the kind for the embedded buffer, and validates the remote one', () => {
    const d = bufferDraft(view());
    expect(bufferPatch(d)).toEqual({ kind: 'embedded' });
    const remote = { ...d, kind: 'remote' as const, port: '99999', host: '' };
    expect(Object.keys(validateBuffer(remote)).sort()).toEqual(['host', 'port']);
    const ok = { ...remote, port: '5433', host: 'pg.local' };
    expect(settingsPatchSchema.safeParse({ buffer: bufferPatch(ok) }).success).toBe(true);
  });

  it('drops empty column overrides and validates the hours window', () => {
    const d = optionsDraft(view());
    const patch = optionsPatch({ ...d, overrides: { chantier: { nomClient: 'Client', ville: '' }, devis: {}, salarie: {} } });
    expect(patch.sqlServer?.columnOverrides?.chantier).toEqual({ nomClient: 'Client' });
    expect(settingsPatchSchema.safeParse(patch).success).toBe(true);
    expect(validateOptions({ ...d, windowDays: '0' })).toHaveProperty('windowDays');
    expect(validateOptions({ ...d, windowDays: '90' })).toEqual({});
  });
});
