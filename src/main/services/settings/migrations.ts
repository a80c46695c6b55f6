/**
 * Settings migrations. Each entry upgrades the raw (decoded JSON, secrets still encrypted) object
 * from version N to N+1; `migrate` runs them in order up to SETTINGS_VERSION.
 *
 * Version 0 is the reference connector's `app/services/credentials.json` (Python version):
 *   { "sqlserver": { server, user, password, database }, "postgres": { host, user, password, database, port: "5432" } }
 * plus, in some installs, a "batisimply" block and a few top-level keys (sso_url, client_id,
 * schedule_minutes, hours_window_days, timezone). Copying that file next to the new settings (or pointing
 * CONNECTEUR_SETTINGS_FILE at it) imports it; its secrets are then encrypted on the next save.
 *
 * A legacy key is converted only where its meaning is certain (one table, LEGACY_V0 below). A value of the
 * wrong type is carried over as it is, so the settings validation names the field (with its legacy name,
 * see MigrationNote); keys without an equivalent are reported as ignored, never dropped silently.
 */
import { BATISIMPLY_ENVIRONMENTS, SETTINGS_VERSION } from '../../../shared/settings.js';
import { tokenUrl } from '../batisimply/paths.js';

type Raw = Record<string, unknown>;

/** What a migration tells about the legacy keys it met. */
export type MigrationNote =
  /** `legacy` became `path` (the validation names `legacy` when the value is invalid). */
  | { kind: 'converted'; legacy: string; path: string }
  /** `legacy` has no equivalent (or an uncertain one) and was not imported. */
  | { kind: 'ignored'; legacy: string };

export type Migration = (raw: Raw, notes: MigrationNote[]) => Raw;

const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
/** A number, or a string holding only an integer (the legacy file wrote "5432"); anything else is kept as it is (invalid, named later). */
const int = (v: unknown): unknown => (typeof v === 'string' && /^\s*[+-]?\d+\s*$/.test(v) ? Number(v) : v);
const bool = (v: unknown): unknown => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string' && /^(require|verify-ca|verify-full|true|1|oui|yes|on)$/i.test(v.trim())) return true;
  if (typeof v === 'string' && /^(disable|allow|prefer|false|0|non|no|off)$/i.test(v.trim())) return false;
  return v;
};

interface LegacyField {
  /** Key in the legacy block (first present wins). */
  keys: string[];
  /** Dotted path in the current settings. */
  path: string;
  convert?: (v: unknown) => unknown;
}

/** Legacy v0 blocks and top-level keys → current settings. `null` block = the top level of the file. */
const LEGACY_V0: { block: string | null; fields: LegacyField[] }[] = [
  {
    block: 'sqlserver',
    fields: [
      { keys: ['server'], path: 'sqlServer.server', convert: str },
      { keys: ['database'], path: 'sqlServer.database', convert: str },
      { keys: ['user'], path: 'sqlServer.user', convert: str },
      { keys: ['password'], path: 'sqlServer.password', convert: str },
    ],
  },
  {
    block: 'postgres',
    fields: [
      { keys: ['host'], path: 'buffer.remote.host', convert: str },
      { keys: ['port'], path: 'buffer.remote.port', convert: int },
      { keys: ['database'], path: 'buffer.remote.database', convert: str },
      { keys: ['user'], path: 'buffer.remote.user', convert: str },
      { keys: ['password'], path: 'buffer.remote.password', convert: str },
      { keys: ['sslmode', 'ssl'], path: 'buffer.remote.ssl', convert: bool },
    ],
  },
  {
    block: 'batisimply',
    fields: [
      { keys: ['sso_url', 'ssoUrl'], path: 'batisimply.ssoUrl', convert: str },
      { keys: ['api_url', 'apiUrl'], path: 'batisimply.apiUrl', convert: str },
      { keys: ['realm'], path: 'batisimply.realm', convert: str },
      { keys: ['client_id', 'clientId'], path: 'batisimply.clientId', convert: str },
      { keys: ['client_secret', 'clientSecret'], path: 'batisimply.clientSecret', convert: str },
      { keys: ['username'], path: 'batisimply.username', convert: str },
      { keys: ['password'], path: 'batisimply.password', convert: str },
      { keys: ['grant_type', 'grantType'], path: 'batisimply.grantType', convert: str },
      { keys: ['scope'], path: 'batisimply.scope', convert: str },
    ],
  },
  {
    // Top-level keys seen in installs of the reference connector. A top-level user/password is ambiguous
    // (SQL Server, PostgreSQL or BatiSimply?): it is reported as ignored, not guessed.
    block: null,
    fields: [
      { keys: ['sso_url'], path: 'batisimply.ssoUrl', convert: str },
      { keys: ['api_url'], path: 'batisimply.apiUrl', convert: str },
      { keys: ['client_id'], path: 'batisimply.clientId', convert: str },
      { keys: ['client_secret'], path: 'batisimply.clientSecret', convert: str },
      { keys: ['grant_type'], path: 'batisimply.grantType', convert: str },
      { keys: ['realm'], path: 'batisimply.realm', convert: str },
      { keys: ['schedule_minutes'], path: 'schedule.intervalSeconds', convert: (v) => (typeof int(v) === 'number' ? (int(v) as number) * 60 : v) },
      { keys: ['hours_window_days'], path: 'hours.windowDays', convert: int },
      { keys: ['timezone'], path: 'hours.timezone', convert: str },
    ],
  },
];

function setDeep(o: Raw, dotted: string, value: unknown): void {
  const parts = dotted.split('.');
  let cur = o;
  for (const p of parts.slice(0, -1)) cur = (cur[p] = obj(cur[p]));
  cur[parts[parts.length - 1] as string] = value;
}

/** The BatiSimply environment of a legacy SSO URL: a known host (staging/production), otherwise custom. */
function batisimplyEnvironment(out: Raw): void {
  const bs = obj(out.batisimply);
  const sso = typeof bs.ssoUrl === 'string' ? bs.ssoUrl : undefined;
  if (sso === undefined && bs.apiUrl === undefined) return;
  const origin = (u: unknown) => {
    try {
      return typeof u === 'string' ? new URL(u).origin : null;
    } catch {
      return null;
    }
  };
  // A full token URL (as BATISIMPLY_SSO_URL was) carries the realm: …/realms/<realm>/protocol/openid-connect/token
  const realm = sso ? /\/realms\/([^/]+)\/protocol\/openid-connect\/token\/?$/.exec(sso)?.[1] : undefined;
  if (realm && bs.realm === undefined) bs.realm = decodeURIComponent(realm);
  const known = Object.entries(BATISIMPLY_ENVIRONMENTS).find(([, e]) => origin(sso) !== null && origin(sso) === origin(e.ssoUrl));
  // A known environment whose token URL is the standard one: stored as that environment (the screen shows
  // it as such and saving it unchanged keeps the same URL); anything else is a custom environment, as given.
  const realmOf = typeof bs.realm === 'string' ? bs.realm : 'jhipster';
  if (known && sso !== undefined && [known[1].ssoUrl, tokenUrl(known[1].ssoUrl, realmOf)].includes(sso.trim().replace(/\/+$/, ''))) {
    bs.environment = known[0];
    bs.ssoUrl = known[1].ssoUrl;
    bs.apiUrl ??= known[1].apiUrl;
  } else bs.environment = 'custom';
  out.batisimply = bs;
}

export const MIGRATIONS: Record<number, Migration> = {
  0: (raw, notes) => {
    const out: Raw = { version: 1 };
    const blocks = new Set(LEGACY_V0.map((b) => b.block).filter((b): b is string => b !== null));
    for (const { block, fields } of LEGACY_V0) {
      const src = block === null ? raw : obj(raw[block]);
      const used = new Set<string>();
      for (const f of fields) {
        const key = f.keys.find((k) => src[k] !== undefined && src[k] !== null);
        if (key === undefined) continue;
        f.keys.forEach((k) => used.add(k));
        const legacy = block === null ? key : `${block}.${key}`;
        // A block value wins over the same setting given at the top level.
        if (block === null && getDeep(out, f.path) !== undefined) {
          notes.push({ kind: 'ignored', legacy });
          continue;
        }
        setDeep(out, f.path, f.convert ? f.convert(src[key]) : src[key]);
        notes.push({ kind: 'converted', legacy, path: f.path });
      }
      for (const k of Object.keys(src)) {
        if (used.has(k) || k === 'version' || (block === null && blocks.has(k))) continue;
        notes.push({ kind: 'ignored', legacy: block === null ? k : `${block}.${k}` });
      }
    }
    const sql = obj(out.sqlServer);
    if (Object.keys(sql).length > 0) out.sqlServer = { ...sql, authentication: 'sql' };
    if (obj(out.buffer).remote !== undefined) out.buffer = { kind: 'remote', remote: obj(obj(out.buffer).remote) };
    batisimplyEnvironment(out);
    return out;
  },
};

function getDeep(o: Raw, dotted: string): unknown {
  let cur: unknown = o;
  for (const p of dotted.split('.')) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Raw)[p];
  }
  return cur;
}

/** Version of a raw settings object: its `version` field, or 0 for the reference connector's shape. */
export function detectVersion(raw: Raw): number {
  if (typeof raw.version === 'number' && Number.isInteger(raw.version)) return raw.version;
  if ('sqlserver' in raw || 'postgres' in raw) return 0;
  return SETTINGS_VERSION;
}

/** `notes`, when given, receives what the migrations said about the legacy keys. */
export function migrate(
  raw: Raw,
  migrations: Record<number, Migration> = MIGRATIONS,
  target: number = SETTINGS_VERSION,
  notes: MigrationNote[] = [],
): { data: Raw; from: number; applied: number[] } {
  const from = detectVersion(raw);
  let data = raw;
  const applied: number[] = [];
  for (let v = from; v < target; v++) {
    const step = migrations[v];
    if (!step) throw new Error(`no settings migration from version ${v}`);
    data = step(data, notes);
    data.version = v + 1;
    applied.push(v);
  }
  return { data, from, applied };
}
