/**
 * HTTP server of the licence manager, on fastify and its plugins:
 *  - public API: POST /api/v1/validate, POST /api/v1/heartbeat → Ed25519-signed answers;
 *    GET /api/v1/public-key, GET /healthz;
 *  - admin pages under /admin: @fastify/session (cookie `lm_sid`, bounded in-memory store, 30 min
 *    idle), @fastify/csrf-protection (token of the session on every POST form) plus an Origin check,
 *    @fastify/rate-limit (validations per IP and per key, logins per IP).
 *
 * Hardening (issue 16): cookies are parsed by @fastify/cookie (a malformed %-escape stays as it is,
 * it never throws); every error, including those of the plugins and of the body parser, goes through
 * one error handler that cannot throw (it falls back to a fixed text); a body over 16 KB gets a 413;
 * behind LM_TRUST_PROXY the client address is the one the trusted hops added (fastify trustProxy),
 * never the left-most X-Forwarded-For. The admin pages only work over HTTPS as seen by the service
 * (directly, or through the trusted proxy's X-Forwarded-Proto), since the session cookie is `Secure`.
 */
import { createHash } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fastifyCookie from '@fastify/cookie';
import fastifyCsrf from '@fastify/csrf-protection';
import fastifyRateLimit from '@fastify/rate-limit';
import fastifySession from '@fastify/session';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import { z } from 'zod';
import {
  licenceValidateRequestSchema,
  normalizeLicenceKey,
  type LicencePayload,
  type SignedLicenceAnswer,
} from '../shared/licence.js';
import type { LicenseManagerConfig, TrustProxy } from './config.js';
import { generateLicenceKey, randomToken, safeEqual, signPayload, verifyPassword } from './security.js';
import { BoundedSessionStore } from './session-store.js';
import { LicenseStore, STATUS_FILTERS, type AuditContext, type StatusFilter } from './store.js';
import * as views from './views.js';

export const MAX_BODY = 16 * 1024;
const DAY = 86_400_000;
const SESSION_COOKIE = 'lm_sid';
const MAX_SESSIONS = 5000;

declare module 'fastify' {
  interface Session {
    /** The administrator's login name once logged in. */
    user?: string;
    /** CSRF secret (@fastify/csrf-protection). */
    _csrf?: string;
  }
}

const STATUS_CODES: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  408: 'request_timeout',
  413: 'payload_too_large',
  414: 'uri_too_long',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
  431: 'headers_too_large',
  500: 'internal',
  503: 'unavailable',
};

const STATUS_TEXTS: Record<number, string> = {
  400: 'Requête invalide.',
  401: 'Authentification requise.',
  403: 'Accès refusé.',
  404: 'Page introuvable.',
  405: 'Méthode non autorisée.',
  408: 'Délai de la requête dépassé.',
  413: 'Requête trop volumineuse : 16 Kio au maximum.',
  414: 'Adresse trop longue.',
  415: 'Type de contenu non pris en charge.',
  429: 'Trop de requêtes. Réessayez dans une minute.',
  431: 'En-têtes trop volumineux.',
  503: 'Service momentanément indisponible. Réessayez dans quelques instants.',
};

const CSRF_MESSAGE = 'Jeton de sécurité (CSRF) absent ou invalide : rechargez la page et recommencez.';
const HTTPS_MESSAGE =
  "L'administration du gestionnaire de licences n'est accessible qu'en HTTPS : ouvrez-la par l'adresse https:// du reverse proxy, déclaré au service par LM_TRUST_PROXY (voir docs/licence-manager.md).";

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
    readonly code: string = STATUS_CODES[status] ?? 'error',
  ) {
    super(message);
  }
}

export interface LicenseManagerServer {
  server: Server;
  store: LicenseStore;
  app: FastifyInstance;
  listen(): Promise<{ host: string; port: number; url: string }>;
  close(): Promise<void>;
}

export interface LicenseManagerLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const silentLogger: LicenseManagerLogger = { info: () => undefined, error: () => undefined };

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};
const HTML_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/** Error → what the client is told. Pure, total: never throws. */
export function describeError(err: unknown): ErrorAnswer {
  try {
    return describeErrorUnsafe(err);
  } catch {
    return INTERNAL;
  }
}

interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  headers: Record<string, string>;
  internal: boolean;
}

const INTERNAL: ErrorAnswer = { status: 500, code: 'internal', message: 'Une erreur interne est survenue ; consultez le journal du serveur.', headers: {}, internal: true };

function describeErrorUnsafe(err: unknown): ErrorAnswer {
  if (err instanceof HttpError) return { status: err.status, code: err.code, message: err.message, headers: err.headers, internal: false };
  const e = (typeof err === 'object' && err !== null ? err : {}) as { statusCode?: unknown; code?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'FST_CSRF_MISSING_SECRET' || code === 'FST_CSRF_INVALID_TOKEN') {
    return { status: 403, code: 'csrf', message: CSRF_MESSAGE, headers: {}, internal: false };
  }
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return { status: 415, code: 'unsupported_media_type', message: 'Formulaire attendu (application/x-www-form-urlencoded).', headers: {}, internal: false };
  }
  const status = typeof e.statusCode === 'number' && Number.isInteger(e.statusCode) && e.statusCode >= 400 && e.statusCode <= 599 ? e.statusCode : 500;
  if (status >= 500 && status !== 503) return INTERNAL;
  return { status, code: STATUS_CODES[status] ?? 'error', message: STATUS_TEXTS[status] ?? 'Requête refusée.', headers: status === 503 ? { 'Retry-After': '30' } : {}, internal: false };
}

/**
 * fastify's trustProxy. A hop count trusts the N nearest addresses whatever they are (fastify itself
 * refuses a bare number for that reason): only safe when the service cannot be reached except
 * through the proxy (LM_HOST on the loopback, the default). A list of addresses is checked.
 */
function fastifyTrustProxy(tp: TrustProxy): false | string[] | ((address: string, hop: number) => boolean) {
  if (tp === false) return false;
  if ('hops' in tp) {
    const hops = tp.hops;
    return (_address: string, hop: number) => hop < hops;
  }
  return tp.addresses;
}

/** A logger that fails (full disk, closed stream) must not turn an answer into a crash. */
function neverThrows(l: LicenseManagerLogger): LicenseManagerLogger {
  return {
    info: (msg, fields) => {
      try {
        l.info(msg, fields);
      } catch {
        /* ignore */
      }
    },
    error: (msg, fields) => {
      try {
        l.error(msg, fields);
      } catch {
        /* ignore */
      }
    },
  };
}

function errorText(e: unknown): string {
  try {
    return e instanceof Error ? e.message : String(e);
  } catch {
    return 'erreur illisible';
  }
}

export function createLicenseManager(opts: {
  config: LicenseManagerConfig;
  pool: pg.Pool;
  logger?: LicenseManagerLogger;
  now?: () => Date;
}): LicenseManagerServer {
  const { config, pool } = opts;
  const logger = neverThrows(opts.logger ?? silentLogger);
  const now = opts.now ?? (() => new Date());
  const store = new LicenseStore(pool);
  const { rateLimits } = config;

  const app = Fastify({
    logger: false,
    trustProxy: fastifyTrustProxy(config.trustProxy),
    bodyLimit: MAX_BODY,
    requestTimeout: 30_000,
    forceCloseConnections: true,
    routerOptions: { ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 100 },
    // malformed %-escapes in the path, over-long parameters: same French answers as everything else
    frameworkErrors: (err, req, reply) => handleError(err, req, reply),
  });
  app.server.headersTimeout = 15_000;

  // ------------------------------------------------------------------ answers

  function sendHtml(reply: FastifyReply, status: number, html: string): FastifyReply {
    return reply.code(status).type('text/html; charset=utf-8').send(html);
  }

  function redirect(reply: FastifyReply, location: string): FastifyReply {
    return reply.code(303).header('Location', location).send();
  }

  function isApi(req: FastifyRequest): boolean {
    return req.url.startsWith('/api/');
  }

  function sessionOf(req: FastifyRequest): { user: string | null; real: boolean } {
    const s = req.session as unknown;
    if (!s || typeof s !== 'object' || typeof (s as { sessionId?: unknown }).sessionId !== 'string') return { user: null, real: false };
    const user = (s as { user?: unknown }).user;
    return { user: typeof user === 'string' && user !== '' ? user : null, real: true };
  }

  /** Page context; the CSRF token is only minted for a real session (admin paths). */
  function ctxOf(req: FastifyRequest, reply: FastifyReply, flash?: views.PageCtx['flash']): views.PageCtx {
    const s = sessionOf(req);
    return { csrf: s.real ? reply.generateCsrf() : '', user: s.user, flash };
  }

  /** The one error handler (also for fastify's own URL errors): it cannot throw. */
  function handleError(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
    try {
      answerError(err, req, reply);
    } catch (e2) {
      logger.error('erreur dans le gestionnaire d’erreurs', { err: errorText(e2), first: errorText(err) });
      try {
        if (!reply.sent) void reply.code(500).type('text/plain; charset=utf-8').send('Erreur interne.');
      } catch {
        /* the reply is unusable; fastify closes the connection */
      }
    }
  }

  /** Maps every error to an answer (JSON for the API, a French page elsewhere). */
  function answerError(err: unknown, req: FastifyRequest, reply: FastifyReply): void {
    const d = describeError(err);
    if (d.internal) logger.error('erreur interne', { err: errorText(err), path: req.url.slice(0, 300), method: req.method });
    if (reply.sent) return;
    reply.code(d.status).headers(d.headers);
    if (isApi(req)) {
      void reply.type('application/json; charset=utf-8').send({ error: d.code, message: d.message });
      return;
    }
    let ctx: views.PageCtx = { csrf: '', user: null };
    try {
      // Only a logged-in administrator gets the navigation (and its logout form) on an error page.
      if (sessionOf(req).user) ctx = ctxOf(req, reply);
    } catch {
      ctx = { csrf: '', user: null };
    }
    const title = d.status >= 500 ? 'Erreur interne' : 'Action impossible';
    void reply.type('text/html; charset=utf-8').send(views.messagePage(ctx, title, d.message));
  }

  app.setErrorHandler(handleError);

  app.setNotFoundHandler((req) => {
    if (isApi(req)) throw new HttpError(404, 'Ressource introuvable.');
    const isAdmin = req.url === '/admin' || req.url.startsWith('/admin/') || req.url.startsWith('/admin?');
    if (isAdmin && req.method !== 'GET' && req.method !== 'POST' && req.method !== 'HEAD') throw new HttpError(405, 'Méthode non autorisée.');
    throw new HttpError(404, req.method === 'POST' && isAdmin ? 'Action inconnue.' : 'Page introuvable.');
  });

  app.addHook('onSend', async (req, reply) => {
    reply.headers(SECURITY_HEADERS);
    const type = String(reply.getHeader('content-type') ?? '');
    if (type.startsWith('text/html')) reply.header('Content-Security-Policy', HTML_CSP);
  });

  // ------------------------------------------------------------------ plugins

  void app.register(fastifyCookie);
  void app.register(fastifySession, {
    secret: randomToken(32),
    cookieName: SESSION_COOKIE,
    cookie: { path: '/admin', httpOnly: true, secure: true, sameSite: 'strict', maxAge: config.sessionIdleMs },
    saveUninitialized: false,
    rolling: true,
    store: new BoundedSessionStore({ max: MAX_SESSIONS, idleMs: config.sessionIdleMs }),
  });
  void app.register(fastifyCsrf, {
    sessionPlugin: '@fastify/session',
    getToken: (req) => {
      const body = req.body;
      return body instanceof URLSearchParams ? (body.get('_csrf') ?? undefined) : undefined;
    },
  });
  void app.register(fastifyRateLimit, {
    global: false,
    timeWindow: rateLimits.windowMs,
    addHeadersOnExceeding: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false },
    addHeaders: { 'x-ratelimit-limit': false, 'x-ratelimit-remaining': false, 'x-ratelimit-reset': false, 'retry-after': true },
    errorResponseBuilder: (req, context) => {
      const ttl = (context as { ttl?: unknown }).ttl;
      const seconds = typeof ttl === 'number' && ttl > 0 ? Math.ceil(ttl / 1000) : 60;
      const message = req.url.startsWith('/admin/login') ? 'Trop de tentatives de connexion. Réessayez dans une minute.' : STATUS_TEXTS[429]!;
      return new HttpError(429, message, { 'Retry-After': String(seconds) });
    },
  });

  // ------------------------------------------------------------------ public API

  const keyBuckets = new WeakMap<FastifyRequest, string>();

  void app.register(async (api) => {
    // Any body is read as text: a malformed request follows the same path as an unknown key.
    api.removeAllContentTypeParsers();
    api.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));
    const keyLimit = api.createRateLimit({
      max: rateLimits.perKey,
      timeWindow: rateLimits.windowMs,
      keyGenerator: (req) => keyBuckets.get(req) ?? 'k:',
    });

    async function handleValidate(req: FastifyRequest, reply: FastifyReply, kind: 'validate' | 'heartbeat'): Promise<void> {
      const raw = typeof req.body === 'string' ? req.body : '';
      let json: unknown;
      try {
        json = JSON.parse(raw);
      } catch {
        json = null;
      }
      const parsed = licenceValidateRequestSchema.safeParse(json);
      const key = parsed.success ? normalizeLicenceKey(parsed.data.license_key) : '';
      const machineId = parsed.success ? parsed.data.machine_id : '';
      const appVersion = parsed.success ? (parsed.data.app_version ?? '') : '';
      const nonce = parsed.success ? (parsed.data.nonce ?? null) : null;
      const previousMachineId = parsed.success ? (parsed.data.previous_machine_id ?? null) : null;
      keyBuckets.set(req, createHash('sha256').update(`k:${key}`).digest('base64url'));
      const keyDecision = await keyLimit(req);
      if (!keyDecision.isAllowed && keyDecision.isExceeded) {
        throw new HttpError(429, STATUS_TEXTS[429]!, { 'Retry-After': String(Math.max(1, keyDecision.ttlInSeconds)) });
      }
      let result;
      try {
        result = await store.check(key, machineId, appVersion, kind, previousMachineId);
      } catch (e) {
        logger.error('validation impossible (base de données)', { err: errorText(e) });
        throw new HttpError(503, STATUS_TEXTS[503]!, { 'Retry-After': '30' });
      }
      const issued = now();
      let validUntil = new Date(issued.getTime() + config.validityDays * DAY);
      if (result.status === 'valid' && result.expires_at) {
        const exp = new Date(result.expires_at);
        if (exp < validUntil) validUntil = exp;
      }
      const payload: LicencePayload = {
        status: result.status,
        client_name: result.client_name,
        expires_at: result.expires_at,
        features: result.features ?? {},
        max_machines: result.max_machines,
        issued_at: issued.toISOString(),
        valid_until: validUntil.toISOString(),
        machine_id: result.machine_id,
        nonce,
      };
      const answer: SignedLicenceAnswer = { payload, signature: signPayload(config.signing, payload), alg: 'Ed25519' };
      await reply.code(200).type('application/json; charset=utf-8').send(answer);
    }

    const perIp = { rateLimit: { max: rateLimits.perIp, timeWindow: rateLimits.windowMs } };
    api.post('/api/v1/validate', { config: perIp }, (req, reply) => handleValidate(req, reply, 'validate'));
    api.post('/api/v1/heartbeat', { config: perIp }, (req, reply) => handleValidate(req, reply, 'heartbeat'));
    api.get('/api/v1/public-key', async (_req, reply) => reply.type('application/x-pem-file').send(config.signing.publicKeyPem));
  });

  app.get('/healthz', async (_req, reply) => reply.type('application/json; charset=utf-8').send({ ok: true }));
  app.get('/', async (_req, reply) => redirect(reply, '/admin'));

  // ------------------------------------------------------------------ admin

  void app.register(async (admin) => {
    admin.removeAllContentTypeParsers();
    admin.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
      done(null, new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))),
    );

    admin.get('/admin/style.css', async (_req, reply) => reply.type('text/css; charset=utf-8').send(views.STYLE_CSS));

    // The session cookie is Secure: over plain HTTP no session could ever be kept. Say so.
    admin.addHook('onRequest', async (req) => {
      if (req.url.startsWith('/admin/style.css')) return;
      if (req.protocol !== 'https') throw new HttpError(403, HTTPS_MESSAGE, {}, 'https_required');
    });

    function checkSameOrigin(req: FastifyRequest): void {
      const origin = req.headers.origin;
      if (origin && origin !== 'null') {
        let host: string | null;
        try {
          host = new URL(origin).host;
        } catch {
          host = null;
        }
        if (host !== req.host) throw new HttpError(403, 'Origine de la requête refusée.');
      }
    }

    /** POST guard: same origin, then the session's CSRF token (a session with a CSRF secret must exist). */
    const postGuard = [
      async (req: FastifyRequest) => checkSameOrigin(req),
      (req: FastifyRequest, reply: FastifyReply, done: (err?: Error) => void) => admin.csrfProtection(req, reply, done),
    ];
    const requireUser = async (req: FastifyRequest) => {
      if (!sessionOf(req).user) throw new HttpError(401, 'Session expirée : reconnectez-vous.');
    };

    function formOf(req: FastifyRequest): URLSearchParams {
      return req.body instanceof URLSearchParams ? req.body : new URLSearchParams();
    }
    function searchOf(req: FastifyRequest): URLSearchParams {
      try {
        return new URL(req.url, 'http://localhost').searchParams;
      } catch {
        return new URLSearchParams();
      }
    }
    const audit = (req: FastifyRequest): AuditContext => ({ actor: sessionOf(req).user ?? 'anonyme', ip: req.ip });

    admin.get('/admin/login', async (req, reply) => {
      if (sessionOf(req).user) return redirect(reply, '/admin');
      return sendHtml(reply, 200, views.loginPage(ctxOf(req, reply)));
    });

    admin.post(
      '/admin/login',
      { config: { rateLimit: { max: rateLimits.loginPerIp, timeWindow: rateLimits.windowMs } }, preHandler: postGuard },
      async (req, reply) => {
        const form = formOf(req);
        const user = form.get('username') ?? '';
        const password = form.get('password') ?? '';
        const passwordOk = await verifyPassword(password, config.adminPasswordHash);
        const userOk = safeEqual(user, config.adminUser);
        if (!passwordOk || !userOk) {
          await store.logAction({ actor: user.slice(0, 64) || 'anonyme', ip: req.ip }, 'connexion.echec');
          return sendHtml(reply, 401, views.loginPage(ctxOf(req, reply), 'Identifiant ou mot de passe incorrect.'));
        }
        // New session id on login (no fixation); the CSRF secret is renewed with it.
        await req.session.regenerate();
        req.session.user = config.adminUser;
        await store.logAction({ actor: config.adminUser, ip: req.ip }, 'connexion');
        return redirect(reply, '/admin');
      },
    );

    admin.post('/admin/logout', { preHandler: postGuard }, async (req, reply) => {
      const who = audit(req);
      const wasUser = sessionOf(req).user !== null;
      await req.session.destroy();
      if (wasUser) await store.logAction(who, 'deconnexion');
      void reply.clearCookie(SESSION_COOKIE, { path: '/admin', httpOnly: true, secure: true, sameSite: 'strict' });
      return redirect(reply, '/admin/login');
    });

    // Everything below needs a logged-in administrator.
    admin.register(async (pages) => {
      pages.addHook('onRequest', async (req, reply) => {
        if (req.method === 'GET' || req.method === 'HEAD') {
          if (!sessionOf(req).user) return redirect(reply, '/admin/login');
        }
      });

      pages.get('/admin', async (req, reply) => {
        const sp = searchOf(req);
        const statusRaw = sp.get('status') ?? 'all';
        const status: StatusFilter = (STATUS_FILTERS as readonly string[]).includes(statusRaw) ? (statusRaw as StatusFilter) : 'all';
        const q = (sp.get('q') ?? '').slice(0, 200);
        const [rows, counts] = await Promise.all([store.list({ q, status }), store.counts()]);
        return sendHtml(reply, 200, views.dashboardPage(ctxOf(req, reply, flashFrom(sp)), rows, { q, status }, counts, now()));
      });

      pages.get('/admin/licenses/new', async (req, reply) => sendHtml(reply, 200, views.createPage(ctxOf(req, reply))));

      pages.get('/admin/audit', async (req, reply) => sendHtml(reply, 200, views.auditPage(ctxOf(req, reply), await store.audit(null, 300))));

      pages.get<{ Params: { id: string } }>('/admin/licenses/:id', async (req, reply) => {
        const l = await store.get(req.params.id);
        if (!l) throw new HttpError(404, 'Licence introuvable.');
        const sp = searchOf(req);
        const [machines, history, auditRows] = await Promise.all([store.machines(l.id), store.validations(l.id), store.audit(l.id)]);
        return sendHtml(reply, 200, views.detailsPage(ctxOf(req, reply, flashFrom(sp)), l, machines, history, auditRows, now(), sp.get('created') === '1'));
      });

      const postPage = { preHandler: [...postGuard, requireUser] };

      pages.post('/admin/licenses', postPage, async (req, reply) => {
        const form = formOf(req);
        const input = createFormSchema.safeParse(Object.fromEntries(form));
        if (!input.success) {
          const values = Object.fromEntries([...form].filter(([k]) => k !== '_csrf'));
          return sendHtml(reply, 400, views.createPage(ctxOf(req, reply), values, `Formulaire incomplet : ${input.error.issues.map((i) => i.message).join(' ; ')}`));
        }
        const f = input.data;
        const features = Object.fromEntries(
          f.features
            .split(',')
            .map((s) => s.trim())
            .filter((s) => /^[A-Za-z0-9_.-]{1,40}$/.test(s))
            .map((s) => [s, true]),
        );
        const row = await store.create(audit(req), {
          key: generateLicenceKey(),
          clientName: f.client_name,
          email: f.email || null,
          expiresAt: new Date(now().getTime() + f.duration_days * DAY),
          maxMachines: f.max_machines,
          usageLimit: f.usage_limit,
          features,
          notes: f.notes || null,
        });
        return redirect(reply, `/admin/licenses/${row.id}?created=1`);
      });

      async function licenceOr404(id: string) {
        const l = await store.get(id);
        if (!l) throw new HttpError(404, 'Licence introuvable.');
        return l;
      }

      pages.post<{ Params: { id: string; action: string } }>('/admin/licenses/:id/:action', postPage, async (req, reply) => {
        const { id, action } = req.params;
        if (action !== 'deactivate' && action !== 'reactivate' && action !== 'extend') throw new HttpError(404, 'Action inconnue.');
        await licenceOr404(id);
        let flash: FlashCode;
        if (action === 'extend') {
          const days = z.coerce.number().int().min(1).max(3660).safeParse(formOf(req).get('days'));
          if (!days.success) throw new HttpError(400, 'Nombre de jours invalide (1 à 3660).');
          await store.extend(audit(req), id, days.data);
          flash = 'prolongee';
        } else {
          await store.setActive(audit(req), id, action === 'reactivate');
          flash = action === 'reactivate' ? 'reactivee' : 'desactivee';
        }
        return redirect(reply, `/admin/licenses/${id}?flash=${flash}`);
      });

      pages.post<{ Params: { id: string; machine: string } }>('/admin/licenses/:id/machines/:machine/release', postPage, async (req, reply) => {
        const { id, machine } = req.params;
        await licenceOr404(id);
        if (!z.uuid().safeParse(machine).success) throw new HttpError(404, 'Poste introuvable.');
        const ok = await store.releaseMachine(audit(req), id, machine);
        return redirect(reply, `/admin/licenses/${id}?flash=${ok ? 'poste_libere' : 'poste_deja_libere'}`);
      });
    });
  });

  /** Only known codes: a crafted link cannot display a text of its choosing. */
  function flashFrom(sp: URLSearchParams): views.PageCtx['flash'] {
    const code = sp.get('flash') ?? '';
    return Object.hasOwn(FLASH_TEXTS, code) ? { kind: 'ok', text: FLASH_TEXTS[code as FlashCode] } : undefined;
  }

  return {
    server: app.server,
    store,
    app,
    async listen() {
      await app.listen({ port: config.port, host: config.host });
      const a = app.server.address() as AddressInfo;
      const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
      return { host: a.address, port: a.port, url: `http://${host}:${a.port}` };
    },
    close: () => app.close(),
  };
}

const FLASH_TEXTS = {
  reactivee: 'Licence réactivée.',
  desactivee: 'Licence désactivée.',
  prolongee: 'Licence prolongée.',
  poste_libere: 'Poste libéré.',
  poste_deja_libere: 'Ce poste était déjà libéré.',
} as const;
type FlashCode = keyof typeof FLASH_TEXTS;

const optionalInt = (min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? null : Number(s)))
    .pipe(z.number().int().min(min).max(max).nullable());

const createFormSchema = z.object({
  client_name: z.string().trim().min(1, 'le nom du client est obligatoire').max(300),
  email: z.union([z.literal(''), z.email('e-mail invalide').max(320)]).default(''),
  duration_days: z.coerce.number({ message: 'durée invalide' }).int().min(1, 'durée : au moins 1 jour').max(3660),
  max_machines: z.coerce.number({ message: 'nombre de postes invalide' }).int().min(1, 'au moins 1 poste').max(1000),
  usage_limit: optionalInt(0, 1_000_000_000),
  features: z.string().max(1000).default(''),
  notes: z.string().max(2000).default(''),
});
