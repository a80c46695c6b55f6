/**
 * Settings migrations. Each entry upgrades the raw (decoded JSON, secrets still encrypted) object
 * from version N to N+1; `migrate` runs them in order up to SETTINGS_VERSION.
 *
 * Version 0 is the reference connector's `app/services/credentials.json` (Python version):
 *   { "sqlserver": { server, user, password, database }, "postgres": { host, user, password, database, port: "5432" } }
 * plus, in some installs, a "batisimply" block. Copying that file next to the new settings (or pointing
 * CONNECTEUR_SETTINGS_FILE at it) imports it; its secrets are then encrypted on the next save.
 */
import { SETTINGS_VERSION } from '../../../shared/settings.js';

type Raw = Record<string, unknown>;
export type Migration = (raw: Raw) => Raw;

const obj = (v: unknown): Raw => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : undefined);
const defined = (o: Raw): Raw => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

export const MIGRATIONS: Record<number, Migration> = {
  0: (raw) => {
    const sql = obj(raw.sqlserver);
    const pg = obj(raw.postgres);
    const bs = obj(raw.batisimply);
    const out: Raw = { version: 1 };
    const server = str(sql.server);
    if (server !== undefined || str(sql.database) !== undefined) {
      out.sqlServer = defined({
        server,
        database: str(sql.database),
        user: str(sql.user),
        password: str(sql.password),
        authentication: 'sql',
      });
    }
    if (str(pg.host)) {
      const port = Number.parseInt(str(pg.port) ?? '5432', 10);
      out.buffer = {
        kind: 'remote',
        remote: defined({
          host: str(pg.host),
          port: Number.isFinite(port) ? port : 5432,
          database: str(pg.database),
          user: str(pg.user),
          password: str(pg.password),
        }),
      };
    }
    if (Object.keys(bs).length > 0) {
      out.batisimply = defined({
        clientId: str(bs.client_id ?? bs.clientId),
        clientSecret: str(bs.client_secret ?? bs.clientSecret),
        username: str(bs.username),
        password: str(bs.password),
        grantType: bs.grant_type === 'client_credentials' ? 'client_credentials' : undefined,
      });
    }
    return out;
  },
};

/** Version of a raw settings object: its `version` field, or 0 for the reference connector's shape. */
export function detectVersion(raw: Raw): number {
  if (typeof raw.version === 'number' && Number.isInteger(raw.version)) return raw.version;
  if ('sqlserver' in raw || 'postgres' in raw) return 0;
  return SETTINGS_VERSION;
}

export function migrate(
  raw: Raw,
  migrations: Record<number, Migration> = MIGRATIONS,
  target: number = SETTINGS_VERSION,
): { data: Raw; from: number; applied: number[] } {
  const from = detectVersion(raw);
  let data = raw;
  const applied: number[] = [];
  for (let v = from; v < target; v++) {
    const step = migrations[v];
    if (!step) throw new Error(`no settings migration from version ${v}`);
    data = step(data);
    data.version = v + 1;
    applied.push(v);
  }
  return { data, from, applied };
}
