import { describe, expect, it } from 'vitest';
import { buildMssqlConfig, describeTarget, parseServerAddress } from '../../src/main/services/batigest/config.js';
import { classifySqlError } from '../../src/main/services/batigest/errors.js';
import { detectTable, quoteIdent, resolveMapping } from '../../src/main/services/batigest/columns.js';
import { deleteSql, planSuiviMo, upsertSql } from '../../src/main/services/batigest/suivimo.js';
import { convertChantier, convertSalarie, normaliseBatigestCode, toTimestamp } from '../../src/main/services/batigest/rows.js';
import { sqlServerSettingsSchema } from '../../src/shared/settings.js';
import { AppError } from '../../src/shared/errors.js';

const settings = (o: Record<string, unknown> = {}) =>
  sqlServerSettingsSchema.parse({ server: 'srv', database: 'BTG_SOC1', user: 'sa', password: 'S3cret!pw', ...o });
const ctx = { address: parseServerAddress('srv\\SQLEXPRESS'), database: 'BTG', user: 'sa', encrypt: true, trustServerCertificate: false };

describe('server address', () => {
  it('parses host, host\\INSTANCE and host,port', () => {
    expect(parseServerAddress('srv')).toEqual({ host: 'srv', instanceName: null, port: null });
    expect(parseServerAddress(' SRV-01\\SQLEXPRESS ')).toEqual({ host: 'SRV-01', instanceName: 'SQLEXPRESS', port: null });
    expect(parseServerAddress('10.0.0.5,1433')).toEqual({ host: '10.0.0.5', instanceName: null, port: 1433 });
    expect(parseServerAddress('.\\SAGE')).toEqual({ host: 'localhost', instanceName: 'SAGE', port: null });
    expect(parseServerAddress('srv\\INST,50000')).toEqual({ host: 'srv', instanceName: null, port: 50000 });
  });
  it('rejects malformed addresses with a French message', () => {
    expect(() => parseServerAddress('srv,99999')).toThrow(/port/);
    expect(() => parseServerAddress('srv\\bad name')).toThrow(/instance/);
    expect(() => parseServerAddress('')).toThrow(AppError);
  });
  it('builds an mssql config (SQL login and NTLM) and never exposes the password in the description', () => {
    const c = buildMssqlConfig(settings({ server: 'srv,1500', encrypt: true, trustServerCertificate: false }));
    expect(c).toMatchObject({ server: 'srv', port: 1500, database: 'BTG_SOC1', user: 'sa', options: { encrypt: true, trustServerCertificate: false } });
    const w = buildMssqlConfig(settings({ server: 'srv\\SAGE', authentication: 'windows', domain: 'BTP', user: 'jdupont' }));
    expect(w.options?.instanceName).toBe('SAGE');
    expect(w.authentication).toMatchObject({ type: 'ntlm', options: { domain: 'BTP', userName: 'jdupont' } });
    expect(JSON.stringify(describeTarget(settings()))).not.toContain('S3cret');
    expect(() => buildMssqlConfig(settings({ database: '' }))).toThrow(/base/);
    expect(() => buildMssqlConfig(settings({ user: ' ' }))).toThrow(expect.objectContaining({ code: 'NOT_CONFIGURED' }));
  });
});

describe('error classification', () => {
  const conn = (message: string, code: string, cause?: unknown) =>
    Object.assign(new Error(message), { name: 'ConnectionError', code, originalError: Object.assign(new Error(message), { code, cause }) });
  it.each([
    [conn('Failed to connect to srv:1433 - connect ECONNREFUSED 127.0.0.1:1433', 'ESOCKET'), 'SQL_HOST_UNREACHABLE'],
    [conn('Failed to connect to nowhere - getaddrinfo ENOTFOUND nowhere', 'ESOCKET'), 'SQL_HOST_UNREACHABLE'],
    [conn('Port for X not found in srv', 'EINSTLOOKUP'), 'SQL_INSTANCE_NOT_FOUND'],
    [conn("Login failed for user 'sa'.", 'ELOGIN'), 'SQL_LOGIN_FAILED'],
    [conn('Cannot open database "X" requested by the login. The login failed.', 'ELOGIN'), 'SQL_DATABASE_MISSING'],
    [conn('Failed to connect to srv - self-signed certificate', 'ESOCKET', { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' }), 'SQL_CERTIFICATE_REFUSED'],
    [Object.assign(new Error('Transaction (Process ID 52) was deadlocked'), { name: 'RequestError', number: 1205 }), 'SQL_DEADLOCK'],
    [Object.assign(new Error('Timeout: Request failed to complete in 1000ms'), { name: 'RequestError', code: 'ETIMEOUT' }), 'TIMEOUT'],
  ])('%s → %s', (err, code) => {
    const e = classifySqlError(err, ctx);
    expect(e.code).toBe(code);
    expect(e.message).not.toMatch(/ECONN|ELOGIN|Error:/);
  });
  it('uses login error numbers seen on the wire (4060 before 18456) and marks deadlocks retryable', () => {
    expect(classifySqlError(conn("Login failed for user 'sa'.", 'ELOGIN'), { ...ctx, loginErrorNumbers: [4060, 18456] }).code).toBe('SQL_DATABASE_MISSING');
    expect(classifySqlError(Object.assign(new Error('x'), { number: 1205 }), ctx).retryable).toBe(true);
    expect(classifySqlError(conn('Failed to connect to srv\\SQLEXPRESS in 1000ms', 'ETIMEOUT'), ctx).code).toBe('SQL_INSTANCE_NOT_FOUND');
  });
});

describe('column detection', () => {
  const cols = (...names: string[]) => names.map((name) => ({ name, dataType: 'nvarchar', nullable: true }));
  it('detects v1 and v2 names by candidates, case-insensitively', () => {
    const v1 = detectTable('chantier', 'ChantierDef', cols('Code', 'NomClient', 'AdrChantier', 'CPChantier', 'VilleChantier', 'TotalMO'));
    const eff = (t: ReturnType<typeof detectTable>, l: string) => t.mapping.find((m) => m.logical === l)?.effective;
    expect(eff(v1, 'nomClient')).toBe('NomClient');
    expect(eff(v1, 'adresse')).toBe('AdrChantier');
    expect(eff(v1, 'heuresVendues')).toBe('TotalMO');
    const v2 = detectTable('chantier', 'ChantierDef', cols('CODE', 'client', 'Adresse', 'CodePostal', 'Ville', 'TempsMO', 'Nom'));
    expect(eff(v2, 'nomClient')).toBe('client');
    expect(v2.mapping.find((m) => m.logical === 'nomClient')?.candidates).toEqual(['client', 'Nom']);
    expect(v2.warnings).toEqual([]);
    expect(resolveMapping(v2).columns.description).toBeNull();
  });
  it('applies valid overrides and rejects unknown columns with the table named', () => {
    const t = detectTable('chantier', 'ChantierDef', cols('Code', 'NomClient', 'RaisonSoc'), { nomClient: 'raisonsoc' });
    expect(resolveMapping(t).columns.nomClient).toBe('RaisonSoc');
    const bad = detectTable('chantier', 'ChantierDef', cols('Code', 'NomClient'), { nomClient: 'Nope]; DROP TABLE x--' });
    expect(() => resolveMapping(bad)).toThrow(expect.objectContaining({ code: 'SQL_COLUMN_MISSING' }));
    const missing = detectTable('chantier', 'ChantierDef', cols('Code', 'Ville'));
    expect(() => resolveMapping(missing)).toThrow(/ChantierDef.*nomclient, client, nom/);
    expect(() => resolveMapping(detectTable('devis', null, null))).toThrow(expect.objectContaining({ code: 'SQL_TABLE_MISSING' }));
    expect(quoteIdent('a]b')).toBe('[a]]b]');
  });
});

describe('SuiviMO planning', () => {
  const row = (cc: string, cs: string, date: string, h = 7) => ({ codeChantier: cc, codeSalarie: cs, date, nbH0: h, nbH3: 1, nbH4: 0 });
  it('reduces ops to their final effect per key', () => {
    const p = planSuiviMo([
      { kind: 'upsert', row: row('00000001', 'JP', '2025-01-02') },
      { kind: 'move', from: { codeChantier: '00000001', codeSalarie: 'JP', date: '2025-01-02' }, row: row('00000002', 'JP', '2025-01-02', 8) },
      { kind: 'delete', key: { codeChantier: '00000003', codeSalarie: 'JP', date: '2025-01-03' } },
      { kind: 'upsert', row: row('00000003', 'JP', '2025-01-03', 2) },
    ]);
    expect(p.deletes).toEqual([{ codeChantier: '00000001', codeSalarie: 'JP', date: '2025-01-02' }]);
    expect(p.upserts.map((r) => [r.codeChantier, r.nbH0])).toEqual([['00000002', 8], ['00000003', 2]]);
  });
  it('rejects invalid rows before any SQL', () => {
    expect(() => planSuiviMo([{ kind: 'upsert', row: row('', 'JP', '2025-01-02') }])).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
  it('keeps each statement under 2,100 parameters', () => {
    const rows = Array.from({ length: 300 }, (_, i) => row(String(i).padStart(8, '0'), 'JP', '2025-01-02'));
    const u = upsertSql(rows);
    expect(u.params.length).toBe(1800);
    expect(u.statements).toBe(2);
    expect(u.sql).not.toMatch(/MERGE/i);
    expect(deleteSql([...rows, ...rows]).params.length).toBe(1800);
  });
});

describe('row conversion', () => {
  it('pads numeric codes, keeps alphanumeric ones, flags rows without code', () => {
    expect(normaliseBatigestCode(' 123 ')).toBe('00000123');
    expect(normaliseBatigestCode('REN00012')).toBe('REN00012');
    const ok = convertChantier({ code: '42', nomClient: "L'Hôpital", heuresVendues: 12.5, dateDebut: new Date(Date.UTC(2024, 2, 5)) });
    expect(ok).toMatchObject({ ok: true, value: { code: '00000042', nomClient: "L'Hôpital", heuresVendues: 12.5, dateDebut: '2024-03-05', ville: null } });
    const skipped = convertChantier({ code: '  ', nomClient: 'Bénédicte Dupré-Lefèvre' });
    expect(skipped).toMatchObject({ ok: false, skip: { table: 'ChantierDef', label: 'Bénédicte Dupré-Lefèvre' } });
    expect(convertSalarie({ code: '7', nom: 'Bœuf', prenom: null })).toMatchObject({ ok: true, value: { code: '7', nom: 'Bœuf', codebs: null } });
  });
  it('turns Batigest wall-clock modification dates into real instants (Europe/Paris, DST included)', () => {
    expect(toTimestamp(new Date(Date.UTC(2024, 6, 1, 12, 0, 0)), 'Europe/Paris')).toBe('2024-07-01T10:00:00.000Z');
    expect(toTimestamp(new Date(Date.UTC(2024, 0, 15, 12, 0, 0)), 'Europe/Paris')).toBe('2024-01-15T11:00:00.000Z');
    expect(toTimestamp('2024-03-31 03:30:00', 'Europe/Paris')).toBe('2024-03-31T01:30:00.000Z');
    expect(toTimestamp('2024-07-01T12:00:00Z', 'Europe/Paris')).toBe('2024-07-01T12:00:00.000Z');
    expect(toTimestamp(new Date(Date.UTC(2024, 6, 1, 12)), null)).toBe('2024-07-01T12:00:00.000Z');
    const c = convertChantier({ code: '1', nomClient: 'x', dateModif: new Date(Date.UTC(2025, 11, 24, 18, 30)) }, 'Europe/Paris');
    expect(c.ok && c.value.dateModif).toBe('2025-12-24T17:30:00.000Z');
  });
});
