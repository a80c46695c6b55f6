/**
 * Turns the SQL Server settings into an mssql (tedious) configuration.
 *
 * `server` accepts `host`, `host\INSTANCE` (port found by the SQL Server Browser) and `host,port`
 * (the SQL Server client convention). The password only lives in the returned object, never in logs:
 * use `describeTarget()` for anything that is logged.
 */
import type { config as MssqlConfig } from 'mssql';
import { AppError } from '../../../shared/errors.js';
import type { SqlServerSettings } from '../../../shared/settings.js';

export interface ServerAddress {
  host: string;
  instanceName: string | null;
  port: number | null;
}

export function parseServerAddress(server: string): ServerAddress {
  const s = server.trim();
  const bad = (why: string) =>
    new AppError(
      'INVALID_INPUT',
      `Le nom du serveur SQL « ${s} » n'est pas valide (${why}). Utilisez « serveur », « serveur\\INSTANCE » ou « serveur,port ».`,
      { detail: `invalid server address: ${why}` },
    );
  if (s === '') {
    throw new AppError('NOT_CONFIGURED', "Le serveur SQL n'est pas renseigné : indiquez-le dans Réglages › Base Sage Batigest (SQL Server) › Serveur SQL Server (ex. « SERVEUR\\SQLEXPRESS »).");
  }
  let rest = s;
  let port: number | null = null;
  const comma = rest.lastIndexOf(',');
  if (comma >= 0) {
    const p = rest.slice(comma + 1).trim();
    if (!/^\d{1,5}$/.test(p) || Number(p) < 1 || Number(p) > 65535) throw bad(`port « ${p} » incorrect`);
    port = Number(p);
    rest = rest.slice(0, comma).trim();
  }
  let instanceName: string | null = null;
  const bs = rest.indexOf('\\');
  if (bs >= 0) {
    instanceName = rest.slice(bs + 1).trim();
    rest = rest.slice(0, bs).trim();
    if (!/^[A-Za-z0-9_$#-]{1,32}$/.test(instanceName)) throw bad(`nom d'instance « ${instanceName} » incorrect`);
  }
  let host = rest;
  if (host.startsWith('tcp:')) host = host.slice(4);
  if (host === '.' || host === '(local)' || host.toLowerCase() === '(localdb)') host = 'localhost';
  if (!/^[A-Za-z0-9._:[\]-]{1,253}$/.test(host)) throw bad('nom d’hôte incorrect');
  // With an explicit port, the instance name is not needed to connect (SQL Server clients ignore it too).
  if (port !== null) instanceName = null;
  return { host, instanceName, port };
}

/** Safe description of the connection target, for logs and messages (no secret). */
export function describeTarget(settings: SqlServerSettings): Record<string, string> {
  return {
    server: settings.server,
    database: settings.database,
    authentication: settings.authentication,
    user: settings.authentication === 'windows' && settings.domain ? `${settings.domain}\\${settings.user}` : settings.user,
    encrypt: String(settings.encrypt),
    trustServerCertificate: String(settings.trustServerCertificate),
  };
}

export interface PoolOptions {
  max?: number;
  min?: number;
  idleTimeoutMillis?: number;
}

export function buildMssqlConfig(settings: SqlServerSettings, pool: PoolOptions = {}): MssqlConfig {
  const addr = parseServerAddress(settings.server);
  if (settings.database.trim() === '') {
    throw new AppError('NOT_CONFIGURED', "La base Batigest n'est pas renseignée : indiquez le nom de la base de la société dans Réglages › Base Sage Batigest (SQL Server) › Base de données Sage Batigest.");
  }
  if (settings.user.trim() === '') {
    throw new AppError(
      'NOT_CONFIGURED',
      settings.authentication === 'windows'
        ? "Le compte Windows n'est pas renseigné : indiquez l'utilisateur (et son domaine) dans Réglages › Base Sage Batigest (SQL Server)."
        : "L'utilisateur SQL n'est pas renseigné : indiquez l'identifiant SQL Server (ex. « sa » ou le compte Batigest) dans Réglages › Base Sage Batigest (SQL Server) › Utilisateur.",
    );
  }
  const options: NonNullable<MssqlConfig['options']> = {
    encrypt: settings.encrypt,
    trustServerCertificate: settings.trustServerCertificate,
    enableArithAbort: true,
    appName: 'Connecteur Batigest BatiSimply',
    useUTC: true,
  };
  if (addr.instanceName !== null) options.instanceName = addr.instanceName;
  const cfg: MssqlConfig = {
    server: addr.host,
    database: settings.database.trim(),
    connectionTimeout: settings.connectTimeoutMs,
    requestTimeout: settings.requestTimeoutMs,
    options,
    pool: { max: pool.max ?? 4, min: pool.min ?? 0, idleTimeoutMillis: pool.idleTimeoutMillis ?? 30_000 },
  };
  // mssql validates a pooled connection with a `SELECT 1` round trip on every acquire by default; checking the
  // socket is enough (a broken connection fails its request and is discarded) and halves the round trips.
  cfg.validateConnection = 'socket';
  if (addr.port !== null) cfg.port = addr.port;
  if (settings.authentication === 'windows') {
    // NTLM: Windows account of a domain (tedious implements NTLM itself, no native module).
    cfg.authentication = {
      type: 'ntlm',
      options: { domain: settings.domain, userName: settings.user, password: settings.password },
    };
  } else {
    cfg.user = settings.user;
    cfg.password = settings.password;
  }
  return cfg;
}
