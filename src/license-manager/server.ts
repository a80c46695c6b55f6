/**
 * HTTP server of the licence manager (node:http, no framework):
 *  - public API: POST /api/v1/validate, POST /api/v1/heartbeat → Ed25519-signed answers;
 *    GET /api/v1/public-key, GET /healthz;
 *  - admin pages under /admin (session cookie + CSRF token on every POST form).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';
import { z } from 'zod';
import {
  licenceValidateRequestSchema,
  normalizeLicenceKey,
  type LicencePayload,
  type SignedLicenceAnswer,
} from '../shared/licence.js';
import type { LicenseManagerConfig } from './config.js';
import { RateLimiter } from './rate-limit.js';
import { generateLicenceKey, randomToken, safeEqual, signPayload, verifyPassword } from './security.js';
import { LicenseStore, STATUS_FILTERS, type AuditContext, type StatusFilter } from './store.js';
import * as views from './views.js';

const MAX_BODY = 16 * 1024;
const DAY = 86_400_000;
const SESSION_COOKIE = 'lm_sid';
const MAX_SESSIONS = 5000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

interface Session {
  id: string;
  csrf: string;
  user: string | null;
  lastSeen: number;
}

export interface LicenseManagerServer {
  server: Server;
  store: LicenseStore;
  listen(): Promise<{ host: string; port: number; url: string }>;
  close(): Promise<void>;
}

export interface LicenseManagerLogger {
  info(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const silentLogger: LicenseManagerLogger = { info: () => undefined, error: () => undefined };

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'Requête trop volumineuse.'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function parseCookies(header: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i <= 0) continue;
    out[part.slice(0, i).trim()] = decodeURIComponent(part.slice(i + 1).trim());
  }
  return out;
}

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};
const HTML_CSP = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export function createLicenseManager(opts: {
  config: LicenseManagerConfig;
  pool: pg.Pool;
  logger?: LicenseManagerLogger;
  now?: () => Date;
}): LicenseManagerServer {
  const { config, pool } = opts;
  const logger = opts.logger ?? silentLogger;
  const now = opts.now ?? (() => new Date());
  const store = new LicenseStore(pool);
  const { rateLimits } = config;
  const ipLimiter = new RateLimiter(rateLimits.perIp, rateLimits.windowMs);
  const keyLimiter = new RateLimiter(rateLimits.perKey, rateLimits.windowMs);
  const loginLimiter = new RateLimiter(rateLimits.loginPerIp, rateLimits.windowMs);
  const sessions = new Map<string, Session>();

  function clientIp(req: IncomingMessage): string {
    if (config.trustProxy) {
      const fwd = req.headers['x-forwarded-for'];
      const first = (Array.isArray(fwd) ? fwd[0] : fwd)?.split(',')[0]?.trim();
      if (first) return first;
    }
    return req.socket.remoteAddress ?? 'inconnue';
  }

  function send(res: ServerResponse, status: number, body: string, type: string, headers: Record<string, string> = {}): void {
    res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body), ...headers });
    res.end(body);
  }
  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
    send(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
  const sendHtml = (res: ServerResponse, status: number, html: string, headers: Record<string, string> = {}) =>
    send(res, status, html, 'text/html; charset=utf-8', { 'Content-Security-Policy': HTML_CSP, ...headers });
  const redirect = (res: ServerResponse, location: string, headers: Record<string, string> = {}) => {
    res.writeHead(303, { ...SECURITY_HEADERS, Location: location, ...headers });
    res.end();
  };

  // ------------------------------------------------------------------ public API

  async function handleValidate(req: IncomingMessage, res: ServerResponse, kind: 'validate' | 'heartbeat'): Promise<void> {
    const ip = clientIp(req);
    const ipDecision = ipLimiter.hit(ip);
    if (!ipDecision.allowed) {
      sendJson(res, 429, { error: 'too_many_requests' }, { 'Retry-After': String(ipDecision.retryAfterSeconds) });
      return;
    }
    const raw = await readBody(req);
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = null;
    }
    const parsed = licenceValidateRequestSchema.safeParse(json);
    // A malformed request follows the same path as an unknown key: same answer, same work.
    const key = parsed.success ? normalizeLicenceKey(parsed.data.license_key) : '';
    const machineId = parsed.success ? parsed.data.machine_id : '';
    const appVersion = parsed.success ? (parsed.data.app_version ?? '') : '';
    const nonce = parsed.success ? (parsed.data.nonce ?? null) : null;
    const keyBucket = createHash('sha256').update(`k:${key}`).digest('base64url');
    const keyDecision = keyLimiter.hit(keyBucket);
    if (!keyDecision.allowed) {
      sendJson(res, 429, { error: 'too_many_requests' }, { 'Retry-After': String(keyDecision.retryAfterSeconds) });
      return;
    }
    let result;
    try {
      result = await store.check(key, machineId, appVersion, kind);
    } catch (e) {
      logger.error('validation impossible (base de données)', { err: e instanceof Error ? e.message : String(e) });
      sendJson(res, 503, { error: 'unavailable' }, { 'Retry-After': '30' });
      return;
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
    sendJson(res, 200, answer);
  }

  // ------------------------------------------------------------------ admin

  function sweepSessions(): void {
    const t = Date.now();
    for (const [id, s] of sessions) if (t - s.lastSeen > config.sessionIdleMs) sessions.delete(id);
  }

  function cookieFor(id: string): string {
    return `${SESSION_COOKIE}=${id}; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=${Math.floor(config.sessionIdleMs / 1000)}`;
  }

  /** Finds the session of the request; creates an anonymous one (carrying a CSRF token) if asked. */
  function getSession(req: IncomingMessage, create: boolean): { session: Session | null; setCookie?: string } {
    sweepSessions();
    const id = parseCookies(req.headers.cookie)[SESSION_COOKIE];
    const existing = id ? sessions.get(id) : undefined;
    if (existing && Date.now() - existing.lastSeen <= config.sessionIdleMs) {
      existing.lastSeen = Date.now();
      return { session: existing };
    }
    if (!create) return { session: null };
    if (sessions.size >= MAX_SESSIONS) {
      // Anonymous (login page) sessions are cheap to create: drop the oldest ones first.
      for (const [sid, old] of sessions) {
        if (sessions.size < MAX_SESSIONS * 0.8) break;
        if (!old.user) sessions.delete(sid);
      }
    }
    const s: Session = { id: randomToken(), csrf: randomToken(), user: null, lastSeen: Date.now() };
    sessions.set(s.id, s);
    return { session: s, setCookie: cookieFor(s.id) };
  }

  function checkSameOrigin(req: IncomingMessage): void {
    const origin = req.headers.origin;
    if (origin && origin !== 'null') {
      let host: string | null;
      try {
        host = new URL(origin).host;
      } catch {
        host = null;
      }
      if (host !== req.headers.host) throw new HttpError(403, 'Origine de la requête refusée.');
    }
  }

  async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) throw new HttpError(415, 'Formulaire attendu.');
    return new URLSearchParams(await readBody(req));
  }

  /** POST guard: an existing session, the same origin and the session's CSRF token in the form. */
  async function checkedPost(req: IncomingMessage, requireUser: boolean): Promise<{ session: Session; form: URLSearchParams }> {
    checkSameOrigin(req);
    const { session } = getSession(req, false);
    const form = await readForm(req);
    const token = form.get('_csrf') ?? '';
    if (!session || token === '' || !safeEqual(token, session.csrf)) {
      throw new HttpError(403, 'Jeton de sécurité (CSRF) absent ou invalide : rechargez la page et recommencez.');
    }
    if (requireUser && !session.user) throw new HttpError(401, 'Session expirée : reconnectez-vous.');
    return { session, form };
  }

  const ctxOf = (s: Session, flash?: views.PageCtx['flash']): views.PageCtx => ({ csrf: s.csrf, user: s.user, flash });
  const audit = (req: IncomingMessage, s: Session): AuditContext => ({ actor: s.user ?? 'anonyme', ip: clientIp(req) });

  async function handleAdmin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/admin';

    if (method === 'GET' && path === '/admin/style.css') {
      send(res, 200, views.STYLE_CSS, 'text/css; charset=utf-8');
      return;
    }

    if (path === '/admin/login') {
      if (method === 'GET') {
        const { session, setCookie } = getSession(req, true);
        if (session!.user) return redirect(res, '/admin');
        sendHtml(res, 200, views.loginPage(ctxOf(session!)), setCookie ? { 'Set-Cookie': setCookie } : {});
        return;
      }
      if (method === 'POST') {
        const ip = clientIp(req);
        const d = loginLimiter.hit(ip);
        if (!d.allowed) throw new HttpError(429, 'Trop de tentatives de connexion. Réessayez dans une minute.', { 'Retry-After': String(d.retryAfterSeconds) });
        const { session, form } = await checkedPost(req, false);
        const user = form.get('username') ?? '';
        const password = form.get('password') ?? '';
        const passwordOk = await verifyPassword(password, config.adminPasswordHash);
        const userOk = safeEqual(user, config.adminUser);
        if (!passwordOk || !userOk) {
          await store.logAction({ actor: user.slice(0, 64) || 'anonyme', ip }, 'connexion.echec');
          sendHtml(res, 401, views.loginPage(ctxOf(session), 'Identifiant ou mot de passe incorrect.'));
          return;
        }
        // New session id on login (no fixation), new CSRF token.
        sessions.delete(session.id);
        const s: Session = { id: randomToken(), csrf: randomToken(), user: config.adminUser, lastSeen: Date.now() };
        sessions.set(s.id, s);
        await store.logAction({ actor: s.user!, ip }, 'connexion');
        redirect(res, '/admin', { 'Set-Cookie': cookieFor(s.id) });
        return;
      }
    }

    if (method === 'POST' && path === '/admin/logout') {
      const { session } = await checkedPost(req, false);
      sessions.delete(session.id);
      if (session.user) await store.logAction(audit(req, session), 'deconnexion');
      redirect(res, '/admin/login', { 'Set-Cookie': `${SESSION_COOKIE}=; Path=/admin; HttpOnly; Secure; SameSite=Strict; Max-Age=0` });
      return;
    }

    // Everything below needs a logged-in administrator.
    if (method === 'GET') {
      const { session } = getSession(req, false);
      if (!session?.user) return redirect(res, '/admin/login');
      const ctx = ctxOf(session, flashFrom(url));
      if (path === '/admin') {
        const statusRaw = url.searchParams.get('status') ?? 'all';
        const status: StatusFilter = (STATUS_FILTERS as readonly string[]).includes(statusRaw) ? (statusRaw as StatusFilter) : 'all';
        const q = (url.searchParams.get('q') ?? '').slice(0, 200);
        const [rows, counts] = await Promise.all([store.list({ q, status }), store.counts()]);
        sendHtml(res, 200, views.dashboardPage(ctx, rows, { q, status }, counts, now()));
        return;
      }
      if (path === '/admin/licenses/new') {
        sendHtml(res, 200, views.createPage(ctx));
        return;
      }
      if (path === '/admin/audit') {
        sendHtml(res, 200, views.auditPage(ctx, await store.audit(null, 300)));
        return;
      }
      const m = /^\/admin\/licenses\/([0-9a-f-]{36})$/.exec(path);
      if (m) {
        const l = await store.get(m[1]!);
        if (!l) throw new HttpError(404, 'Licence introuvable.');
        const [machines, history, auditRows] = await Promise.all([store.machines(l.id), store.validations(l.id), store.audit(l.id)]);
        sendHtml(res, 200, views.detailsPage(ctx, l, machines, history, auditRows, now(), url.searchParams.get('created') === '1'));
        return;
      }
      throw new HttpError(404, 'Page introuvable.');
    }

    if (method === 'POST') {
      const { session, form } = await checkedPost(req, true);
      const who = audit(req, session);
      if (path === '/admin/licenses') {
        const input = createFormSchema.safeParse(Object.fromEntries(form));
        if (!input.success) {
          const values = Object.fromEntries([...form].filter(([k]) => k !== '_csrf'));
          sendHtml(res, 400, views.createPage(ctxOf(session), values, `Formulaire incomplet : ${input.error.issues.map((i) => i.message).join(' ; ')}`));
          return;
        }
        const f = input.data;
        const features = Object.fromEntries(
          f.features
            .split(',')
            .map((s) => s.trim())
            .filter((s) => /^[A-Za-z0-9_.-]{1,40}$/.test(s))
            .map((s) => [s, true]),
        );
        const row = await store.create(who, {
          key: generateLicenceKey(),
          clientName: f.client_name,
          email: f.email || null,
          expiresAt: new Date(now().getTime() + f.duration_days * DAY),
          maxMachines: f.max_machines,
          usageLimit: f.usage_limit,
          features,
          notes: f.notes || null,
        });
        redirect(res, `/admin/licenses/${row.id}?created=1`);
        return;
      }
      const m = /^\/admin\/licenses\/([0-9a-f-]{36})\/(deactivate|reactivate|extend|machines\/([0-9a-f-]{36})\/release)$/.exec(path);
      if (m) {
        const id = m[1]!;
        const l = await store.get(id);
        if (!l) throw new HttpError(404, 'Licence introuvable.');
        let flash: FlashCode;
        if (m[2] === 'deactivate' || m[2] === 'reactivate') {
          await store.setActive(who, id, m[2] === 'reactivate');
          flash = m[2] === 'reactivate' ? 'reactivee' : 'desactivee';
        } else if (m[2] === 'extend') {
          const days = z.coerce.number().int().min(1).max(3660).safeParse(form.get('days'));
          if (!days.success) throw new HttpError(400, 'Nombre de jours invalide (1 à 3660).');
          await store.extend(who, id, days.data);
          flash = 'prolongee';
        } else {
          const ok = await store.releaseMachine(who, id, m[3]!);
          flash = ok ? 'poste_libere' : 'poste_deja_libere';
        }
        redirect(res, `/admin/licenses/${id}?flash=${flash}`);
        return;
      }
      throw new HttpError(404, 'Action inconnue.');
    }
    throw new HttpError(405, 'Méthode non autorisée.');
  }

  /** Only known codes: a crafted link cannot display a text of its choosing. */
  function flashFrom(url: URL): views.PageCtx['flash'] {
    const code = url.searchParams.get('flash') ?? '';
    return Object.hasOwn(FLASH_TEXTS, code) ? { kind: 'ok', text: FLASH_TEXTS[code as FlashCode] } : undefined;
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    if (method === 'POST' && url.pathname === '/api/v1/validate') return handleValidate(req, res, 'validate');
    if (method === 'POST' && url.pathname === '/api/v1/heartbeat') return handleValidate(req, res, 'heartbeat');
    if (method === 'GET' && url.pathname === '/api/v1/public-key') {
      send(res, 200, config.signing.publicKeyPem, 'application/x-pem-file');
      return;
    }
    if (method === 'GET' && url.pathname === '/healthz') return sendJson(res, 200, { ok: true });
    if (url.pathname === '/' && method === 'GET') return redirect(res, '/admin');
    if (url.pathname === '/admin' || url.pathname.startsWith('/admin/')) return handleAdmin(req, res, url);
    if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { error: 'not_found' });
    throw new HttpError(404, 'Page introuvable.');
  }

  const server = createServer((req, res) => {
    route(req, res).catch((e: unknown) => {
      const isApi = (req.url ?? '').startsWith('/api/');
      if (e instanceof HttpError) {
        if (res.headersSent) return void res.end();
        if (isApi) return sendJson(res, e.status, { error: e.message }, e.headers);
        const s = getSession(req, false).session;
        return sendHtml(res, e.status, views.messagePage({ csrf: s?.csrf ?? '', user: s?.user ?? null }, 'Action impossible', e.message), e.headers);
      }
      logger.error('erreur interne', { err: e instanceof Error ? e.message : String(e), path: req.url });
      if (res.headersSent) return void res.end();
      if (isApi) return sendJson(res, 500, { error: 'internal' });
      sendHtml(res, 500, views.messagePage({ csrf: '', user: null }, 'Erreur interne', "Une erreur interne est survenue ; consultez le journal du serveur."));
    });
  });
  server.headersTimeout = 15_000;
  server.requestTimeout = 30_000;

  return {
    server,
    store,
    listen: () =>
      new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.host, () => {
          const a = server.address() as AddressInfo;
          const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ host: a.address, port: a.port, url: `http://${host}:${a.port}` });
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
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
