/**
 * Classifies what mssql/tedious throws into AppErrors with a French message for the user
 * (what happened + what to do) and the technical text in `detail` for the log only.
 */
import { AppError, cancelledError } from '../../../shared/errors.js';
import type { ServerAddress } from './config.js';

export interface ErrorContext {
  address: ServerAddress | null;
  database: string;
  user: string;
  encrypt: boolean;
  trustServerCertificate: boolean;
  /** Server error numbers seen during login (tedious `errorMessage` events), e.g. [4060, 18456]. */
  loginErrorNumbers?: readonly number[];
}

interface Facts {
  codes: Set<string>;
  numbers: Set<number>;
  text: string;
}

/** Walks the error, its `originalError`, `cause` and `errors` (AggregateError) collecting codes, numbers and text. */
export function errorFacts(e: unknown): Facts {
  const facts: Facts = { codes: new Set(), numbers: new Set(), text: '' };
  const seen = new Set<unknown>();
  const texts: string[] = [];
  const visit = (x: unknown, depth: number): void => {
    if (x === null || x === undefined || depth > 6 || seen.has(x)) return;
    seen.add(x);
    if (typeof x !== 'object') {
      texts.push(String(x));
      return;
    }
    const o = x as Record<string, unknown>;
    if (typeof o.code === 'string') facts.codes.add(o.code);
    if (typeof o.number === 'number') facts.numbers.add(o.number);
    if (typeof o.message === 'string') texts.push(o.message);
    const info = o.info as Record<string, unknown> | undefined;
    if (info && typeof info.number === 'number') facts.numbers.add(info.number);
    visit(o.originalError, depth + 1);
    visit(o.cause, depth + 1);
    if (Array.isArray(o.errors)) for (const sub of o.errors) visit(sub, depth + 1);
    if (Array.isArray(o.precedingErrors)) for (const sub of o.precedingErrors) visit(sub, depth + 1);
  };
  visit(e, 0);
  facts.text = texts.join(' | ');
  return facts;
}

const CERT_CODES = [
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_UNTRUSTED',
];

function serverLabel(ctx: ErrorContext): string {
  const a = ctx.address;
  if (!a) return 'le serveur SQL';
  if (a.port !== null) return `${a.host},${a.port}`;
  if (a.instanceName !== null) return `${a.host}\\${a.instanceName}`;
  return a.host;
}

/** What classifies one driver error: its facts, and helpers over them. */
interface Probe {
  e: unknown;
  f: Facts;
  ctx: ErrorContext;
  detail: string;
  srv: string;
  has(...codes: string[]): boolean;
  num(n: number): boolean;
}

/** Any error from the driver → AppError. Already-typed AppErrors pass through. */
export function classifySqlError(e: unknown, ctx: ErrorContext): AppError {
  if (e instanceof AppError) return e;
  const f = errorFacts(e);
  const p: Probe = {
    e,
    f,
    ctx,
    detail: f.text.slice(0, 2000),
    srv: serverLabel(ctx),
    has: (...codes) => codes.some((c) => f.codes.has(c) || f.text.includes(c)),
    num: (n) => f.numbers.has(n) || (ctx.loginErrorNumbers ?? []).includes(n),
  };
  const name = typeof e === 'object' && e !== null ? String((e as { name?: unknown }).name) : '';
  const request = name === 'RequestError' || name === 'TransactionError' || name === 'PreparedStatementError';
  return statementError(p) ?? (request ? requestError(p) : (connectionError(p) ?? unreachable(p)));
}

/** SQL Server's own answer to a statement (deadlock, duplicate key, missing table or column). */
function statementError({ e, ctx, detail, num }: Probe): AppError | null {
  if (num(1205)) {
    return new AppError(
      'SQL_DEADLOCK',
      "SQL Server a interrompu l'écriture pour résoudre un conflit d'accès (interblocage) avec un autre programme. Rien n'a été écrit ; l'opération sera relancée.",
      { detail, cause: e, retryable: true },
    );
  }
  if (num(2627) || num(2601)) {
    return new AppError('SQL_DUPLICATE_KEY', 'Une ligne existe déjà avec la même clé dans Batigest : rien n\'a été écrit. Relancez la synchronisation ; si le problème persiste, consultez le journal.', { detail, cause: e });
  }
  if (num(208)) {
    return new AppError('SQL_TABLE_MISSING', `Une table attendue est absente de la base « ${ctx.database} » : vérifiez qu'il s'agit bien d'une base société Batigest.`, { detail, cause: e });
  }
  if (num(207)) {
    return new AppError('SQL_COLUMN_MISSING', `Une colonne attendue est absente de la base « ${ctx.database} » : relancez « Détecter les colonnes » dans Réglages › Options de synchronisation › Avancé › Correspondance des colonnes.`, { detail, cause: e });
  }
  return null;
}

/** A request that failed on an open connection (cancelled, timed out, connection lost). */
function requestError({ e, f, detail, srv, has, num }: Probe): AppError {
  if (has('ECANCEL')) return cancelledError('Opération', detail);
  if (has('ETIMEOUT') || num(-2)) {
    return new AppError('TIMEOUT', 'SQL Server a mis trop de temps à répondre. Réessayez plus tard ; si cela se répète, vérifiez que le serveur n’est pas surchargé (une sauvegarde en cours, par exemple).', { detail, cause: e, retryable: true });
  }
  if (has('ESOCKET', 'ECONNCLOSED', 'ENOTOPEN', 'ECONNRESET')) {
    return new AppError('SQL_HOST_UNREACHABLE', `La connexion à ${srv} a été perdue pendant l'opération : rien n'a été validé à moitié ; l'opération sera relancée.`, { detail, cause: e, retryable: true });
  }
  return new AppError('SQL_ERROR', `SQL Server a refusé une requête${f.numbers.size ? ` (erreur ${[...f.numbers].join(', ')})` : ''}. Consultez le journal pour le détail technique.`, { detail, cause: e });
}

/** Opening the connection was refused: instance, database, login, certificate, encryption. */
function connectionError({ e, f, ctx, detail, srv, has, num }: Probe): AppError | null {
  if (has('EINSTLOOKUP')) {
    const inst = ctx.address?.instanceName ?? '';
    return new AppError(
      'SQL_INSTANCE_NOT_FOUND',
      `L'instance « ${inst} » est introuvable sur « ${ctx.address?.host ?? ''} » : vérifiez le nom de l'instance (ex. SQLEXPRESS) et que le service « SQL Server Browser » est démarré, ou indiquez directement le port (« serveur,port »).`,
      { detail, cause: e, retryable: true },
    );
  }
  if (num(4060) || /Cannot open database|Impossible d.ouvrir la base/i.test(f.text)) {
    return new AppError(
      'SQL_DATABASE_MISSING',
      `La base « ${ctx.database} » n'existe pas sur ${srv} ou l'utilisateur « ${ctx.user} » n'y a pas accès : vérifiez le nom de la base de la société dans Batigest et les droits de l'utilisateur.`,
      { detail, cause: e },
    );
  }
  if (num(18456) || num(18452) || has('ELOGIN') || /Login failed|Échec de l.ouverture de session/i.test(f.text)) {
    return new AppError(
      'SQL_LOGIN_FAILED',
      `Connexion refusée par ${srv} pour l'utilisateur « ${ctx.user} » : vérifiez l'identifiant et le mot de passe SQL (ou le compte Windows), et que l'authentification SQL Server est activée sur le serveur.`,
      { detail, cause: e },
    );
  }
  if (CERT_CODES.some((c) => has(c)) || /certificate|self[- ]signed/i.test(f.text)) {
    return new AppError(
      'SQL_CERTIFICATE_REFUSED',
      `Le certificat présenté par ${srv} n'est pas reconnu (certificat auto-signé ou non approuvé) : installez un certificat approuvé sur le serveur, ou cochez « Faire confiance au certificat du serveur » si ce serveur est bien le vôtre.`,
      { detail, cause: e },
    );
  }
  if (has('EENCRYPT')) {
    return new AppError('SQL_CERTIFICATE_REFUSED', `${srv} exige une connexion chiffrée : cochez « Chiffrer la connexion » dans Réglages › Base Sage Batigest (SQL Server).`, { detail, cause: e });
  }
  return null;
}

/** The server cannot be reached at all (name, refused, no answer), or an error of unknown kind. */
function unreachable({ e, ctx, detail, srv, has, num }: Probe): AppError {
  if (has('ENOTFOUND', 'EAI_AGAIN')) {
    return new AppError(
      'SQL_HOST_UNREACHABLE',
      `Le serveur « ${ctx.address?.host ?? ''} » est introuvable sur le réseau : vérifiez son nom (ou utilisez son adresse IP) et la connexion réseau de ce poste.`,
      { detail, cause: e, retryable: true },
    );
  }
  if (has('ECONNREFUSED')) {
    return new AppError(
      'SQL_HOST_UNREACHABLE',
      `${srv} refuse la connexion : vérifiez que le service SQL Server est démarré, que le protocole TCP/IP est activé et que le port est le bon (pare-feu compris).`,
      { detail, cause: e, retryable: true },
    );
  }
  if (has('ETIMEOUT', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'ESOCKET')) {
    if (ctx.address?.instanceName && has('ETIMEOUT')) {
      return new AppError(
        'SQL_INSTANCE_NOT_FOUND',
        `Pas de réponse pour l'instance « ${ctx.address.instanceName} » sur « ${ctx.address.host} » : vérifiez le nom de l'instance et que le service « SQL Server Browser » est démarré (port UDP 1434 ouvert), ou indiquez directement le port (« serveur,port »).`,
        { detail, cause: e, retryable: true },
      );
    }
    return new AppError(
      'SQL_HOST_UNREACHABLE',
      `${srv} ne répond pas : vérifiez que le serveur est allumé et joignable depuis ce poste, que le service SQL Server est démarré et que le pare-feu autorise la connexion.`,
      { detail, cause: e, retryable: true },
    );
  }
  if (has('ETIMEOUT') || num(-2)) {
    return new AppError('TIMEOUT', 'SQL Server a mis trop de temps à répondre. Réessayez plus tard ; si cela se répète, vérifiez que le serveur n’est pas surchargé (une sauvegarde en cours, par exemple).', { detail, cause: e, retryable: true });
  }
  return new AppError('SQL_ERROR', 'SQL Server a renvoyé une erreur. Consultez le journal pour le détail technique.', { detail, cause: e });
}
