/**
 * A saved secret is only ever sent to the identity it was saved for: the pure rule (one table of which
 * identity fields guard which secret) and its use by applyPatch (settings.update and the connection tests).
 */
import { describe, expect, it } from 'vitest';
import type { SettingsPatch } from '../../../src/shared/contract.js';
import { AppError } from '../../../src/shared/errors.js';
import { defaultSettings, type Settings } from '../../../src/shared/settings.js';
import { applyPatch } from '../../../src/main/services/settings/service.js';
import { SECRET_IDENTITIES, keptSecretsOffIdentity } from '../../../src/main/services/settings/secret-identity.js';
import { getPath, setPath } from '../../../src/main/services/settings/paths.js';

function saved(): Settings {
  const s = defaultSettings();
  Object.assign(s.sqlServer, { server: 'SRV-BTG\\SAGE', database: 'BTG', user: 'sa', password: 'sql-saved', domain: '', encrypt: false, trustServerCertificate: true });
  Object.assign(s.buffer, { kind: 'remote', remote: { host: 'pg.local', port: 5432, database: 'tampon', user: 'connecteur', password: 'pg-saved', ssl: false } });
  Object.assign(s.batisimply, {
    environment: 'custom',
    ssoUrl: 'https://sso.batisimply.fr',
    apiUrl: 'https://api.batisimply.fr',
    realm: 'jhipster',
    grantType: 'password',
    clientId: 'connecteur',
    clientSecret: 'cs-saved',
    username: 'compta@pme.fr',
    password: 'bs-saved',
  });
  Object.assign(s.imports, { apiUrl: 'https://export.example', apiKey: 'ak-saved' });
  Object.assign(s.alerts, { smtpHost: 'smtp.pme.fr', smtpUser: 'alertes', smtpPassword: 'smtp-saved' });
  Object.assign(s.proxy, { mode: 'manual', url: 'http://proxy.pme.fr:8080', username: 'agent', password: 'px-saved' });
  Object.assign(s.licence, { key: 'LICE-2345-6789-ABCD', serverUrl: 'https://licences.groupe-sages.fr', supabaseUrl: 'https://projet.supabase.co', supabaseAnonKey: 'anon-saved' });
  return s;
}

/** A different value of the same type for an identity field. */
function other(v: unknown): unknown {
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'number') return v + 1;
  if (v === 'sql') return 'windows';
  if (v === 'password') return 'client_credentials';
  if (typeof v === 'string' && /^https?:/.test(v)) return 'https://capture.evil.example';
  return `${String(v)}-autre`;
}

/** A patch that sets `field` (deep) and leaves every secret as { keep: true }. */
function patchOf(field: string, value: unknown, secrets: readonly string[] = []): SettingsPatch {
  const p: Record<string, unknown> = {};
  setPath(p, field, value);
  for (const sp of secrets) setPath(p, sp, { keep: true });
  return p as SettingsPatch;
}

describe('keptSecretsOffIdentity (pure rule, from one table)', () => {
  it('the table covers the SQL Server, buffer, BatiSimply and export API secrets, each with its identity fields', () => {
    const by = Object.fromEntries(SECRET_IDENTITIES.map((e) => [e.secret, e.identity]));
    expect(by['sqlServer.password']).toEqual(expect.arrayContaining(['sqlServer.server', 'sqlServer.database', 'sqlServer.user', 'sqlServer.encrypt', 'sqlServer.trustServerCertificate']));
    expect(by['buffer.remote.password']).toEqual(expect.arrayContaining(['buffer.remote.host', 'buffer.remote.port', 'buffer.remote.user', 'buffer.remote.database', 'buffer.remote.ssl']));
    for (const sp of ['batisimply.clientSecret', 'batisimply.password']) {
      expect(by[sp]).toEqual(expect.arrayContaining(['batisimply.ssoUrl', 'batisimply.apiUrl', 'batisimply.realm', 'batisimply.clientId', 'batisimply.grantType']));
    }
    expect(by['batisimply.password']).toContain('batisimply.username');
    expect(by['imports.apiKey']).toContain('imports.apiUrl');
    expect(by['licence.key']).toEqual(expect.arrayContaining(['licence.serverUrl', 'licence.supabaseUrl', 'licence.provider']));
  });

  const cases = SECRET_IDENTITIES.flatMap((e) => e.identity.map((f) => [e.secret, f] as const));
  it.each(cases)('keeping %s while %s changes is refused, naming that field', (secret, field) => {
    const s = saved();
    const patch = patchOf(field, other(getPath(s, field)), [secret]);
    const next = structuredClone(s);
    setPath(next as unknown as Record<string, unknown>, field, getPath(patch, field));
    const refused = keptSecretsOffIdentity(s, next, patch);
    expect(refused.find((r) => r.secret === secret)?.changed).toEqual([field]);
    // the same change with the secret typed again is allowed (the caller knows it)
    const typed = patchOf(field, getPath(patch, field), []);
    setPath(typed as Record<string, unknown>, secret, 'retapé');
    const nextTyped = structuredClone(next);
    setPath(nextTyped as unknown as Record<string, unknown>, secret, 'retapé');
    expect(keptSecretsOffIdentity(s, nextTyped, typed).find((r) => r.secret === secret)).toBeUndefined();
  });

  it('a secret left out of the patch counts as kept (not only { keep: true })', () => {
    const s = saved();
    const next = structuredClone(s);
    next.buffer.remote.host = 'capture.evil.example';
    expect(keptSecretsOffIdentity(s, next, { buffer: { remote: { host: 'capture.evil.example' } } })).toEqual([{ secret: 'buffer.remote.password', changed: ['buffer.remote.host'] }]);
  });

  it('nothing is refused when the identity is the same (spaces, case of a host, a trailing slash), when nothing was saved, or when the secret is cleared', () => {
    const s = saved();
    const same = structuredClone(s);
    same.batisimply.ssoUrl = 'https://SSO.batisimply.fr/';
    same.buffer.remote.host = ' PG.local ';
    same.sqlServer.server = 'srv-btg\\sage';
    same.batisimply.timeoutMs = 60_000; // not an identity field
    same.sqlServer.connectTimeoutMs = 30_000;
    expect(keptSecretsOffIdentity(s, same, {})).toEqual([]);

    const empty = saved();
    empty.buffer.remote.password = '';
    const moved = structuredClone(empty);
    moved.buffer.remote.host = 'ailleurs';
    expect(keptSecretsOffIdentity(empty, moved, {})).toEqual([]);

    const cleared = structuredClone(s);
    cleared.sqlServer.server = 'AUTRE';
    cleared.sqlServer.password = '';
    expect(keptSecretsOffIdentity(s, cleared, { sqlServer: { server: 'AUTRE', password: { clear: true } } })).toEqual([]);
  });
});

describe('applyPatch enforces the rule (settings.update and the « Tester la connexion » overrides)', () => {
  const refusal = (fn: () => unknown): AppError => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(AppError);
      return e as AppError;
    }
    throw new Error('not refused');
  };

  it('BatiSimply URLs changed with the secrets kept: refused, both secrets named with their screen and field', () => {
    const e = refusal(() =>
      applyPatch(saved(), { batisimply: { environment: 'custom', ssoUrl: 'http://127.0.0.1:9', apiUrl: 'http://127.0.0.1:9', clientSecret: { keep: true }, password: { keep: true } } }),
    );
    expect(e.code).toBe('SETTINGS_INVALID');
    expect(e.message).toContain('Réglages › Compte BatiSimply › Secret client');
    expect(e.message).toContain('Réglages › Compte BatiSimply › Mot de passe BatiSimply');
    expect(e.message).toMatch(/saisissez-le de nouveau/);
    expect(e.message).toMatch(/Adresse du serveur de connexion/);
    expect(e.message).not.toMatch(/cs-saved|bs-saved/);
  });

  it('SQL Server and buffer: the host changed with the password kept is refused; retyped it is accepted', () => {
    const sql = refusal(() => applyPatch(saved(), { sqlServer: { server: '127.0.0.1,1433', password: { keep: true } } }));
    expect(sql.message).toContain('Réglages › Base Sage Batigest (SQL Server) › Mot de passe');
    expect(sql.message).toContain('Serveur SQL Server');
    const buf = refusal(() => applyPatch(saved(), { buffer: { remote: { port: 6543 } } }));
    expect(buf.message).toContain('Réglages › Base tampon › Mot de passe');
    expect(buf.message).toContain('Port');
    expect(applyPatch(saved(), { buffer: { remote: { port: 6543, password: 'nouveau' } } }).buffer.remote).toMatchObject({ port: 6543, password: 'nouveau' });
    expect(applyPatch(saved(), { sqlServer: { server: 'SRV-BTG\\SAGE', password: { keep: true }, requestTimeoutMs: 90_000 } }).sqlServer.password).toBe('sql-saved');
  });
});
