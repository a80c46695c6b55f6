/**
 * BatiSimply simulator: a Keycloak token endpoint (SSO server) and the BatiSimply REST API (API server), two
 * real HTTP servers on 127.0.0.1 (random ports), with fault injection and a request log.
 *
 * Used by the integration tests, the demo and the benchmarks. The paths here are written independently of the
 * client's paths table on purpose: sharing them would hide a wrong path in the client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FaultRegistry, RequestLog, type ActiveFault } from './faults.js';
import { SimState, type SimAccount, type SimClient, type SimProject, type SimSeed } from './state.js';

export type ListShape = 'array' | 'elements' | 'content' | 'items' | 'data';
export type ListResource = 'projects' | 'users' | 'timeSlots';

export interface SimulatorConfig {
  /** Body shape of list answers, per resource. */
  listShape: Record<ListResource, ListShape>;
  /** Whether a list honours `page`/`size` (else it returns everything in one answer). */
  paged: Record<ListResource, boolean>;
  /** Whether totals are sent (X-Total-Count for arrays, totalElements/total in envelopes). */
  includeTotals: boolean;
  /** Page size when the request gives none (JHipster: 20). */
  defaultPageSize: number;
  /** Larger `size` values are silently capped to this (Spring's max-page-size). */
  pageSizeMax: number;
  /** Whether `GET /api/project?projectCode.equals=X` filters (JHipster criteria); else the parameter is ignored. */
  supportsCodeFilter: boolean;
  /** Status for a duplicate projectCode on create/update (JHipster BadRequestAlertException = 400). */
  duplicateStatus: 400 | 409;
  /** Latency added to every request, in ms. */
  latencyMs: number;
  tokenLifetimeSeconds: number;
  refreshLifetimeSeconds: number;
}

export interface StartOptions {
  accounts?: SimAccount[];
  clients?: SimClient[];
  tokenLifetimeSeconds?: number;
  refreshLifetimeSeconds?: number;
  latencyMs?: number;
  pageSizeMax?: number;
  /** Initial projects, users and time slots. */
  seed?: SimSeed;
  /** Clock of the server (token expiry, lastModifiedDate); default Date.now. */
  now?: () => number;
  config?: Partial<Omit<SimulatorConfig, 'listShape' | 'paged'>> & {
    listShape?: ListShape | Partial<Record<ListResource, ListShape>>;
    paged?: Partial<Record<ListResource, boolean>>;
  };
}

export interface BatisimplySimulator {
  /** Base URL of the SSO (Keycloak); the token path is /auth/realms/jhipster/protocol/openid-connect/token. */
  ssoUrl: string;
  /** Base URL of the API (paths start with /api). */
  apiUrl: string;
  state: SimState;
  faults: FaultRegistry;
  log: RequestLog;
  /** Mutable at run time. */
  config: SimulatorConfig;
  quotes: Array<Record<string, unknown>>;
  editSlot: SimState['editSlot'];
  deleteSlot: SimState['deleteSlot'];
  setAccountDisabled: SimState['setAccountDisabled'];
  revokeTokens: SimState['revokeTokens'];
  /** Stops only the SSO server (its port then refuses connections). */
  stopSso(): Promise<void>;
  /** Stops only the API server. */
  stopApi(): Promise<void>;
  close(): Promise<void>;
}

export const TOKEN_PATH = '/auth/realms/jhipster/protocol/openid-connect/token';
const MAX_BODY = 5 * 1024 * 1024;

class HttpAnswer {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

function problem(status: number, title: string, extra: Record<string, unknown> = {}): HttpAnswer {
  return new HttpAnswer(
    status,
    { type: 'https://www.jhipster.tech/problem/problem-with-message', title, status, ...extra },
    { 'content-type': 'application/problem+json' },
  );
}

function badRequestAlert(status: number, title: string, errorKey: string): HttpAnswer {
  const a = problem(status, title, { entityName: 'project', errorKey, message: `error.${errorKey}`, params: 'project' });
  return new HttpAnswer(a.status, a.body, { ...a.headers, 'x-batisimplyapp-error': `error.${errorKey}`, 'x-batisimplyapp-params': 'project' });
}

function keycloakError(status: number, error: string, description: string): HttpAnswer {
  return new HttpAnswer(status, { error, error_description: description });
}

export async function startBatisimplySimulator(opts: StartOptions = {}): Promise<BatisimplySimulator> {
  const now = opts.now ?? (() => Date.now());
  const state = new SimState(
    now,
    opts.accounts ?? [{ username: 'bureau@exemple.fr', password: 'motdepasse' }],
    opts.clients ?? [{ clientId: 'connecteur', clientSecret: 'secret-client', serviceAccount: true }],
  );
  if (opts.seed) state.load(opts.seed);
  const shapeOpt = opts.config?.listShape;
  const baseShape: ListShape = typeof shapeOpt === 'string' ? shapeOpt : 'array';
  const config: SimulatorConfig = {
    includeTotals: true,
    defaultPageSize: 20,
    pageSizeMax: opts.pageSizeMax ?? 2000,
    supportsCodeFilter: true,
    duplicateStatus: 400,
    latencyMs: opts.latencyMs ?? 0,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 300,
    refreshLifetimeSeconds: opts.refreshLifetimeSeconds ?? 1800,
    ...opts.config,
    listShape: {
      projects: baseShape,
      users: baseShape,
      timeSlots: baseShape,
      ...(typeof shapeOpt === 'object' ? shapeOpt : {}),
    },
    paged: { projects: true, users: true, timeSlots: false, ...opts.config?.paged },
  };
  const faults = new FaultRegistry();
  const log = new RequestLog();
  const quotes: Array<Record<string, unknown>> = [];
  const timers = new Set<NodeJS.Timeout>();

  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  // ---------------- token endpoint ----------------

  function tokenAnswer(form: URLSearchParams, basic: { id: string; secret: string } | null): HttpAnswer {
    const grant = form.get('grant_type');
    const clientId = basic?.id ?? form.get('client_id') ?? '';
    const clientSecret = basic?.secret ?? form.get('client_secret') ?? '';
    const client = state.clients.get(clientId);
    if (!client || client.clientSecret !== clientSecret) {
      return keycloakError(401, 'invalid_client', 'Invalid client or Invalid client credentials');
    }
    const issue = (subject: string, withRefresh: boolean): HttpAnswer => {
      const t = state.issueTokens(subject, clientId, config.tokenLifetimeSeconds, config.refreshLifetimeSeconds);
      const body: Record<string, unknown> = {
        access_token: t.access,
        expires_in: config.tokenLifetimeSeconds,
        refresh_expires_in: withRefresh ? config.refreshLifetimeSeconds : 0,
        token_type: 'Bearer',
        'not-before-policy': 0,
        session_state: 'sim-session',
        scope: form.get('scope') || 'profile email',
      };
      if (withRefresh) body.refresh_token = t.refresh;
      return new HttpAnswer(200, body, { 'cache-control': 'no-store', pragma: 'no-cache' });
    };
    switch (grant) {
      case 'password': {
        const username = form.get('username') ?? '';
        const acc = state.accounts.get(username);
        if (!acc || acc.password !== (form.get('password') ?? '')) {
          return keycloakError(401, 'invalid_grant', 'Invalid user credentials');
        }
        if (acc.disabled) return keycloakError(400, 'invalid_grant', 'Account disabled');
        return issue(username, true);
      }
      case 'client_credentials': {
        if (!client.serviceAccount) {
          return keycloakError(401, 'unauthorized_client', 'Client not enabled to retrieve service account');
        }
        return issue(`service-account-${clientId}`, false);
      }
      case 'refresh_token': {
        const rec = state.useRefreshToken(form.get('refresh_token') ?? '', clientId);
        if (!rec) return keycloakError(400, 'invalid_grant', 'Session not active');
        const acc = state.accounts.get(rec.subject);
        if (acc?.disabled) return keycloakError(400, 'invalid_grant', 'Account disabled');
        return issue(rec.subject, true);
      }
      default:
        return keycloakError(400, 'unsupported_grant_type', 'Unsupported grant_type');
    }
  }

  // ---------------- API ----------------

  function pageOf<T>(resource: ListResource, items: T[], query: URLSearchParams): HttpAnswer {
    const total = items.length;
    let pageItems = items;
    let page = 0;
    let size = total;
    if (config.paged[resource]) {
      page = Math.max(0, Number.parseInt(query.get('page') ?? '0', 10) || 0);
      const asked = Number.parseInt(query.get('size') ?? '', 10);
      size = Math.min(config.pageSizeMax, Number.isFinite(asked) && asked > 0 ? asked : config.defaultPageSize);
      pageItems = items.slice(page * size, page * size + size);
    }
    const totalPages = size > 0 ? Math.ceil(total / size) : 0;
    const headers: Record<string, string> = {};
    const withTotals = config.includeTotals;
    switch (config.listShape[resource]) {
      case 'array':
        if (withTotals) headers['x-total-count'] = String(total);
        return new HttpAnswer(200, pageItems, headers);
      case 'elements':
        return new HttpAnswer(200, withTotals ? { elements: pageItems, totalElements: total, totalPages, page, size } : { elements: pageItems });
      case 'content':
        return new HttpAnswer(
          200,
          withTotals
            ? { content: pageItems, totalElements: total, totalPages, number: page, size, numberOfElements: pageItems.length, first: page === 0, last: page >= totalPages - 1 }
            : { content: pageItems, number: page, size },
        );
      case 'items':
        return new HttpAnswer(200, withTotals ? { items: pageItems, total, page, size } : { items: pageItems });
      case 'data':
        return new HttpAnswer(200, withTotals ? { data: pageItems, meta: { total, page, size }, totalCount: total } : { data: pageItems });
    }
  }

  function validateProjectBody(body: unknown): { ok: true; p: Record<string, unknown> } | { ok: false; a: HttpAnswer } {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      return { ok: false, a: problem(400, 'Bad Request', { detail: 'JSON object expected', message: 'error.http.400' }) };
    }
    const p = body as Record<string, unknown>;
    const fieldErrors: Array<Record<string, string>> = [];
    for (const f of ['projectCode', 'projectName']) {
      if (typeof p[f] !== 'string' || (p[f] as string).trim() === '') fieldErrors.push({ objectName: 'project', field: f, message: 'NotBlank' });
    }
    if (p.hoursSold !== undefined && p.hoursSold !== null && typeof p.hoursSold !== 'number') {
      fieldErrors.push({ objectName: 'project', field: 'hoursSold', message: 'TypeMismatch' });
    }
    // JHipster Boolean fields: true/false (or absent/null), anything else is a type mismatch.
    for (const f of ['isFinished', 'isArchived']) {
      if (p[f] !== undefined && p[f] !== null && typeof p[f] !== 'boolean') fieldErrors.push({ objectName: 'project', field: f, message: 'TypeMismatch' });
    }
    if (fieldErrors.length > 0) {
      return {
        ok: false,
        a: problem(400, 'Method argument not valid', { type: 'https://www.jhipster.tech/problem/constraint-violation', message: 'error.validation', fieldErrors }),
      };
    }
    return { ok: true, p };
  }

  function apiAnswer(method: string, route: string, id: string | undefined, query: URLSearchParams, body: unknown): HttpAnswer {
    switch (route) {
      case 'GET /api/project': {
        let list = state.sortedProjects();
        const code = query.get('projectCode.equals');
        if (code !== null && config.supportsCodeFilter) list = list.filter((p) => p.projectCode === code);
        return pageOf('projects', list, query);
      }
      case 'GET /api/project/{id}': {
        const p = state.projects.get(Number(id));
        return p ? new HttpAnswer(200, p) : problem(404, 'Not Found', { detail: '404 NOT_FOUND', message: 'error.http.404' });
      }
      case 'POST /api/project': {
        const v = validateProjectBody(body);
        if (!v.ok) return v.a;
        if (v.p.id !== undefined && v.p.id !== null) return badRequestAlert(400, 'A new project cannot already have an ID', 'idexists');
        if (state.findProjectByCode(String(v.p.projectCode))) {
          return badRequestAlert(config.duplicateStatus, 'A project with this projectCode already exists', 'projectcodeexists');
        }
        const created = state.addProject({ ...(v.p as unknown as Omit<SimProject, "id">), lastModifiedDate: state.nowIso() });
        return new HttpAnswer(201, created, { location: `/api/project/${created.id}` });
      }
      case 'PUT /api/project/{id}': {
        const v = validateProjectBody(body);
        if (!v.ok) return v.a;
        if (v.p.id === undefined || v.p.id === null) return badRequestAlert(400, 'Invalid id', 'idnull');
        if (String(v.p.id) !== id) return badRequestAlert(400, 'Invalid ID', 'idinvalid');
        const existing = state.projects.get(Number(id));
        if (!existing) return badRequestAlert(400, 'Entity not found', 'idnotfound');
        const other = state.findProjectByCode(String(v.p.projectCode));
        if (other && other.id !== existing.id) {
          return badRequestAlert(config.duplicateStatus, 'A project with this projectCode already exists', 'projectcodeexists');
        }
        const updated: SimProject = { ...(v.p as unknown as SimProject), id: existing.id, lastModifiedDate: state.nowIso() };
        state.projects.set(existing.id, updated);
        return new HttpAnswer(200, updated);
      }
      case 'GET /api/timeSlotManagement/allUsers': {
        const s = query.get('startDate');
        const e = query.get('endDate');
        const start = s ? Date.parse(s) : Number.NaN;
        const end = e ? Date.parse(e) : Number.NaN;
        if (Number.isNaN(start) || Number.isNaN(end)) {
          return problem(400, 'Bad Request', { detail: 'Required parameters startDate and endDate (ISO-8601, UTC)', message: 'error.http.400' });
        }
        return pageOf('timeSlots', state.slotsInWindow(start, end).map((x) => state.slotJson(x)), query);
      }
      case 'GET /api/users': {
        const users = [...state.users.values()]
          .sort((a, b) => a.login.localeCompare(b.login))
          .map((u) => ({ ...u, langKey: 'fr', imageUrl: null, authorities: ['ROLE_USER'], createdBy: 'system' }));
        return pageOf('users', users, query);
      }
      case 'POST /api/quote': {
        if (typeof body !== 'object' || body === null || Array.isArray(body)) {
          return problem(400, 'Bad Request', { detail: 'JSON object expected', message: 'error.http.400' });
        }
        const q = { ...(body as Record<string, unknown>), id: 9000 + quotes.length + 1 };
        quotes.push(q);
        return new HttpAnswer(201, q, { location: `/api/quote/${String(q.id)}` });
      }
      default:
        return problem(method === 'GET' ? 404 : 405, method === 'GET' ? 'Not Found' : 'Method Not Allowed', { message: 'error.http.404' });
    }
  }

  function resolveRoute(method: string, path: string): { route: string; id?: string } {
    if (path === TOKEN_PATH) return { route: `${method} /token` };
    const m = /^\/api\/project\/([^/]+)$/.exec(path);
    if (m) return { route: `${method} /api/project/{id}`, id: decodeURIComponent(m[1] ?? '') };
    return { route: `${method} ${path}` };
  }

  async function readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      const b = c as Buffer;
      size += b.length;
      if (size > MAX_BODY) throw new Error('body too large');
      chunks.push(b);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  function send(res: ServerResponse, a: HttpAnswer, fault: ActiveFault | undefined): void {
    if (res.destroyed) return;
    const headers: Record<string, string> = { ...a.headers, ...(fault?.headers ?? {}) };
    let text: string;
    if (fault?.body !== undefined) {
      text = typeof fault.body === 'string' ? fault.body : JSON.stringify(fault.body);
    } else {
      text = a.body === undefined ? '' : JSON.stringify(a.body);
    }
    if (text !== '' && !headers['content-type']) headers['content-type'] = 'application/json';
    if (fault?.retryAfterSeconds !== undefined) headers['retry-after'] = String(fault.retryAfterSeconds);
    if (fault?.retryAfterDate !== undefined) headers['retry-after'] = fault.retryAfterDate.toUTCString();
    const buf = Buffer.from(text, 'utf8');
    headers['content-length'] = String(buf.length);
    res.writeHead(a.status, headers);
    if (fault?.truncate && buf.length > 1) {
      res.write(buf.subarray(0, Math.floor(buf.length / 2)), () => res.destroy());
      return;
    }
    res.end(buf);
  }

  function handler(kind: 'sso' | 'api') {
    return (req: IncomingMessage, res: ServerResponse): void => {
      void (async () => {
        const method = req.method ?? 'GET';
        const url = new URL(req.url ?? '/', 'http://sim');
        const { route, id } = resolveRoute(method, url.pathname);
        const isToken = route === 'POST /token';
        const query = url.searchParams;
        const arrival = log.arrive();
        if (!isToken) {
          log.inFlight++;
          log.maxInFlight = Math.max(log.maxInFlight, log.inFlight);
          res.once('close', () => {
            log.inFlight--;
          });
        }
        let rawBody: string;
        try {
          rawBody = await readBody(req);
        } catch {
          res.destroy();
          return;
        }
        const entry = {
          at: now(),
          route,
          method,
          path: url.pathname,
          query: Object.fromEntries(query.entries()),
          body: undefined as unknown,
          status: 0,
          fault: null as string | null,
        } as Parameters<RequestLog['push']>[0];
        const fault = faults.take(route, isToken);
        if (fault) entry.fault = describeFault(fault);
        const delay = config.latencyMs + (fault?.latencyMs ?? 0);
        if (delay > 0) await wait(delay);
        if (isToken) {
          const form = new URLSearchParams(rawBody);
          entry.grantType = form.get('grant_type') ?? '';
          entry.body = Object.fromEntries(form.entries());
        } else if (rawBody !== '') {
          try {
            entry.body = JSON.parse(rawBody);
          } catch {
            entry.body = rawBody;
          }
        }

        // Faults that replace the answer are applied before any processing: no side effect in the state.
        if (fault?.reset) {
          entry.status = 0;
          log.push(entry, arrival);
          req.socket.destroy();
          return;
        }
        if (fault?.malformedJson) {
          entry.status = 200;
          log.push(entry, arrival);
          if (!res.destroyed) {
            const text = '{"elements": [{"id": 1, "projectCode": "A1", "projectName": <html>Erreur';
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) });
            res.end(text);
          }
          return;
        }
        let answer: HttpAnswer;
        if (fault?.status !== undefined) {
          const st = fault.status;
          answer = isToken
            ? keycloakError(st, st >= 500 ? 'server_error' : 'invalid_request', `Injected ${st}`)
            : st === 401
              ? new HttpAnswer(401, undefined, { 'www-authenticate': 'Bearer error="invalid_token"' })
              : problem(st, st === 429 ? 'Too Many Requests' : `Injected ${st}`, { message: `error.http.${st}` });
        } else if (kind === 'sso' && !isToken) {
          answer = problem(404, 'Not Found');
        } else if (kind === 'api' && isToken) {
          answer = problem(404, 'Not Found');
        } else if (isToken) {
          answer = tokenAnswer(new URLSearchParams(rawBody), parseBasic(req.headers.authorization));
        } else {
          const auth = req.headers.authorization ?? '';
          const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
          const check = token ? state.checkAccessToken(token) : ({ ok: false, reason: 'no token' } as const);
          entry.authorized = check.ok;
          if (!check.ok) {
            answer = new HttpAnswer(401, undefined, {
              'www-authenticate': `Bearer error="invalid_token", error_description="${check.reason}"`,
            });
          } else if (typeof entry.body === 'string') {
            answer = problem(400, 'Bad Request', { detail: 'JSON parse error', message: 'error.http.400' });
          } else {
            answer = apiAnswer(method, route, id, query, entry.body);
          }
        }
        entry.status = answer.status;
        log.push(entry, arrival);
        send(res, answer, fault);
      })().catch(() => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500);
          res.end();
        } else res.destroy();
      });
    };
  }

  const ssoServer = createServer({ keepAliveTimeout: 5000 }, handler('sso'));
  const apiServer = createServer({ keepAliveTimeout: 5000 }, handler('api'));
  await Promise.all([listen(ssoServer), listen(apiServer)]);
  const ssoPort = (ssoServer.address() as AddressInfo).port;
  const apiPort = (apiServer.address() as AddressInfo).port;

  const stop = (s: Server) =>
    new Promise<void>((resolve) => {
      if (!s.listening) return resolve();
      s.close(() => resolve());
      s.closeAllConnections();
    });

  return {
    ssoUrl: `http://127.0.0.1:${ssoPort}`,
    apiUrl: `http://127.0.0.1:${apiPort}`,
    state,
    faults,
    log,
    config,
    quotes,
    editSlot: state.editSlot.bind(state),
    deleteSlot: state.deleteSlot.bind(state),
    setAccountDisabled: state.setAccountDisabled.bind(state),
    revokeTokens: state.revokeTokens.bind(state),
    stopSso: () => stop(ssoServer),
    stopApi: () => stop(apiServer),
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await Promise.all([stop(ssoServer), stop(apiServer)]);
    },
  };
}

function listen(s: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
}

function parseBasic(h: string | undefined): { id: string; secret: string } | null {
  if (!h?.startsWith('Basic ')) return null;
  const dec = Buffer.from(h.slice(6), 'base64').toString('utf8');
  const i = dec.indexOf(':');
  if (i < 0) return null;
  return { id: decodeURIComponent(dec.slice(0, i)), secret: decodeURIComponent(dec.slice(i + 1)) };
}

function describeFault(f: ActiveFault): string {
  const parts: string[] = [];
  if (f.status !== undefined) parts.push(`status ${f.status}`);
  if (f.reset) parts.push('reset');
  if (f.truncate) parts.push('truncate');
  if (f.malformedJson) parts.push('malformedJson');
  if (f.latencyMs !== undefined) parts.push(`latency ${f.latencyMs}ms`);
  if (f.body !== undefined) parts.push('body');
  return parts.join(', ') || 'fault';
}
