/**
 * Form drafts of each settings section. A draft holds what the user is typing; a secret field holds
 * the NEW value ('' = keep the saved one). `toPatch` turns a draft into the contract's settings patch,
 * and `validate*` returns French errors per field.
 */
import type { SettingsPatch, SettingsView, SecretInput } from '../../shared/contract.js';
import { BATISIMPLY_ENVIRONMENTS } from '../../shared/settings.js';
import { fr } from '../../shared/strings.fr.js';

export type Errors = Record<string, string>;

const secret = (v: string): SecretInput => (v === '' ? { keep: true } : v);

// --- SQL Server ----------------------------------------------------------------------------------

export interface SqlDraft {
  server: string;
  database: string;
  authentication: 'sql' | 'windows';
  user: string;
  password: string;
  domain: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
}
export function sqlDraft(v: SettingsView): SqlDraft {
  const s = v.sqlServer;
  return {
    server: s.server,
    database: s.database,
    authentication: s.authentication,
    user: s.user,
    password: '',
    domain: s.domain,
    encrypt: s.encrypt,
    trustServerCertificate: s.trustServerCertificate,
  };
}
export function sqlPatch(d: SqlDraft): NonNullable<SettingsPatch['sqlServer']> {
  return {
    server: d.server.trim(),
    database: d.database.trim(),
    authentication: d.authentication,
    user: d.user.trim(),
    password: secret(d.password),
    domain: d.domain.trim(),
    encrypt: d.encrypt,
    trustServerCertificate: d.trustServerCertificate,
  };
}
export function validateSql(d: SqlDraft, passwordSaved: boolean): Errors {
  const e: Errors = {};
  if (!d.server.trim()) e.server = fr.common.required;
  if (!d.database.trim()) e.database = fr.common.required;
  if (!d.user.trim()) e.user = fr.common.required;
  if (d.authentication === 'sql' && !d.password && !passwordSaved) e.password = fr.common.required;
  if (d.authentication === 'windows' && !d.password && !passwordSaved) e.password = fr.common.required;
  return e;
}

// --- buffer --------------------------------------------------------------------------------------

export interface BufferDraft {
  kind: 'embedded' | 'remote';
  host: string;
  port: string;
  database: string;
  user: string;
  password: string;
  ssl: boolean;
}
export function bufferDraft(v: SettingsView): BufferDraft {
  const r = v.buffer.remote;
  return { kind: v.buffer.kind, host: r.host, port: String(r.port), database: r.database, user: r.user, password: '', ssl: r.ssl };
}
export function bufferPatch(d: BufferDraft): NonNullable<SettingsPatch['buffer']> {
  if (d.kind === 'embedded') return { kind: 'embedded' };
  return {
    kind: 'remote',
    remote: {
      host: d.host.trim(),
      port: Number(d.port),
      database: d.database.trim(),
      user: d.user.trim(),
      password: secret(d.password),
      ssl: d.ssl,
    },
  };
}
export function validateBuffer(d: BufferDraft): Errors {
  const e: Errors = {};
  if (d.kind === 'embedded') return e;
  if (!d.host.trim()) e.host = fr.common.required;
  const port = Number(d.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) e.port = 'Port entre 1 et 65535.';
  if (!d.database.trim()) e.database = fr.common.required;
  if (!d.user.trim()) e.user = fr.common.required;
  return e;
}

// --- BatiSimply ----------------------------------------------------------------------------------

export interface BsDraft {
  environment: 'staging' | 'production' | 'custom';
  ssoUrl: string;
  apiUrl: string;
  grantType: 'password' | 'client_credentials';
  clientId: string;
  clientSecret: string;
  username: string;
  password: string;
}
export function bsDraft(v: SettingsView): BsDraft {
  const b = v.batisimply;
  return {
    environment: b.environment,
    ssoUrl: b.ssoUrl,
    apiUrl: b.apiUrl,
    grantType: b.grantType,
    clientId: b.clientId,
    clientSecret: '',
    username: b.username,
    password: '',
  };
}
export function bsPatch(d: BsDraft): NonNullable<SettingsPatch['batisimply']> {
  const urls =
    d.environment === 'custom'
      ? { ssoUrl: d.ssoUrl.trim().replace(/\/+$/, ''), apiUrl: d.apiUrl.trim().replace(/\/+$/, '') }
      : BATISIMPLY_ENVIRONMENTS[d.environment];
  return {
    environment: d.environment,
    ssoUrl: urls.ssoUrl,
    apiUrl: urls.apiUrl,
    grantType: d.grantType,
    clientId: d.clientId.trim(),
    clientSecret: secret(d.clientSecret),
    username: d.username.trim(),
    password: secret(d.password),
  };
}
const isUrl = (s: string) => /^https?:\/\/[^\s/]+/i.test(s.trim());
export function validateBs(d: BsDraft, saved: { clientSecret: boolean; password: boolean }): Errors {
  const e: Errors = {};
  if (d.environment === 'custom') {
    if (!isUrl(d.ssoUrl)) e.ssoUrl = fr.batisimply.urlInvalid;
    if (!isUrl(d.apiUrl)) e.apiUrl = fr.batisimply.urlInvalid;
  }
  if (!d.clientId.trim()) e.clientId = fr.common.required;
  if (d.grantType === 'client_credentials' && !d.clientSecret && !saved.clientSecret) e.clientSecret = fr.common.required;
  if (d.grantType === 'password') {
    if (!d.username.trim()) e.username = fr.common.required;
    if (!d.password && !saved.password) e.password = fr.common.required;
  }
  return e;
}

// --- options -------------------------------------------------------------------------------------

export interface OptionsDraft {
  software: 'batigest' | 'codial';
  mode: 'chantier' | 'devis';
  timezone: string;
  windowDays: string;
  removeUnvalidated: boolean;
  /** Column overrides per table; '' = automatic. */
  overrides: { chantier: Record<string, string>; devis: Record<string, string>; salarie: Record<string, string> };
}
export function optionsDraft(v: SettingsView): OptionsDraft {
  const o = v.sqlServer.columnOverrides;
  return {
    software: v.software,
    mode: v.mode,
    timezone: v.hours.timezone,
    windowDays: String(v.hours.windowDays),
    removeUnvalidated: v.hours.removeUnvalidated,
    overrides: { chantier: { ...o.chantier }, devis: { ...o.devis }, salarie: { ...o.salarie } },
  };
}
const clean = (r: Record<string, string>) => Object.fromEntries(Object.entries(r).filter(([, v]) => v !== ''));
export function optionsPatch(d: OptionsDraft): SettingsPatch {
  return {
    software: d.software,
    mode: d.mode,
    hours: { timezone: d.timezone, windowDays: Number(d.windowDays), removeUnvalidated: d.removeUnvalidated },
    sqlServer: {
      columnOverrides: { chantier: clean(d.overrides.chantier), devis: clean(d.overrides.devis), salarie: clean(d.overrides.salarie) },
    },
  };
}
export function validateOptions(d: OptionsDraft): Errors {
  const e: Errors = {};
  const n = Number(d.windowDays);
  if (!Number.isInteger(n) || n < 1 || n > 3650) e.windowDays = fr.options.windowInvalid;
  return e;
}

export const TIMEZONES = [
  'Europe/Paris',
  'Europe/Brussels',
  'Europe/Luxembourg',
  'Europe/Zurich',
  'Europe/Monaco',
  'America/Guadeloupe',
  'America/Martinique',
  'America/Cayenne',
  'Indian/Reunion',
  'Indian/Mayotte',
  'Pacific/Noumea',
  'Pacific/Tahiti',
  'UTC',
] as const;

export function softwareLabel(software: 'batigest' | 'codial'): string {
  return software === 'codial' ? 'Codial' : 'Sage Batigest';
}

/**
 * The errors still true after an edit: a field's message belongs to the attempt that produced it, so a
 * field the user changed loses its message (the next attempt checks it again).
 */
export function clearEdited<D extends object>(errors: Errors, before: D, after: D): Errors {
  const keys = Object.keys(errors);
  if (keys.length === 0) return errors;
  const b = before as Record<string, unknown>;
  const a = after as Record<string, unknown>;
  const kept = keys.filter((k) => !(k in a) || b[k] === a[k]);
  return kept.length === keys.length ? errors : Object.fromEntries(kept.map((k) => [k, errors[k] ?? '']));
}

export function hasErrors(e: Errors): boolean {
  return Object.keys(e).length > 0;
}
