/**
 * BatiSimply API client (plain Node, undici). Implements BatisimplyPort for the sync engine.
 *
 * - keep-alive pool (undici Agent), per-request timeout, at most `settings.concurrency` requests in flight;
 * - tokens from the TokenManager (single flight, refresh before expiry), one re-authentication on 401;
 * - retries with exponential backoff + jitter on 429, 5xx and network errors, honouring Retry-After, capped;
 *   no retry on 4xx that cannot succeed;
 * - every answer validated with zod (tolerant list envelopes, strict on the fields used) → AppError, never a crash.
 */
import { createHttpDispatcher } from '../network/proxy.js';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { z } from 'zod';
import {
  batisimplyUserSchema,
  projectSchema,
  timeSlotSchema,
  type BatisimplyUser,
  type ConnectionDiagnosis,
  type Project,
  type ProjectInput,
  type TimeSlot,
} from '../../../shared/domain.js';
import { AppError } from '../../../shared/errors.js';
import { cleanLabel } from '../../../shared/text.js';
import type { BatisimplySettings, ProxySettings } from '../../../shared/settings.js';
import type { BatisimplyPort, BatisimplyStats, Cancellable, Clock, FencedWrite, Logger, TimeSlotListOptions } from '../ports.js';
import { apiUrl, BATISIMPLY_PATHS, PAGING_PARAMS } from './paths.js';
import { abortableSleep, backoffDelay, cancelled, Limiter, mapLimited, parseRetryAfter, throwIfAborted } from './retry.js';
import { conflictReason, DistinctById } from './distinct.js';
import { badResponse, createdEntitySchema, parseItems, parseOne, partitionItems, problemSchema, readList, type InvalidListItem } from './schemas.js';
import { TokenManager, safeHost } from './token-manager.js';
import { exchange, header, TransportError, type HttpExchange } from './transport.js';

export interface BatisimplyClientDeps {
  /** undici dispatcher; by default the client creates (and closes) its own keep-alive Agent. */
  dispatcher?: Dispatcher;
  /** The connector's proxy setting (settings.proxy); takes precedence over `proxyUrl` when not 'none'. */
  proxy?: ProxySettings;
  /** HTTP(S) proxy for both SSO and API (e.g. http://proxy.entreprise.local:3128); ignored with `dispatcher`. */
  proxyUrl?: string;
  clock: Clock;
  logger: Logger;
  /** Injected so tests don't wait for real; receives the caller's signal. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Items asked per page (default 200). */
  pageSize?: number;
  /** First backoff step (default 500 ms) and cap of any wait (default 30 s; a longer Retry-After fails fast). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Refresh the token this long before it expires (default 30 s). */
  tokenSkewMs?: number;
  /** How long the projectCode → id index stays valid (default 10 min); clearCache() starts afresh. */
  cacheTtlMs?: number;
  /** Time slots are fetched in windows of at most this many days, concurrently (default 31). */
  timeSlotChunkDays?: number;
}

/** A quote for `POST /api/quote` (devis mode). Free-form: the real API's fields are not documented. */
export type QuoteInput = Record<string, unknown>;

type Method = 'GET' | 'POST' | 'PUT';

interface CallOptions {
  method: Method;
  path: string;
  query?: Record<string, string | number | undefined>;
  body?: unknown;
  /** French description of what is asked, for messages ("la liste des chantiers"). */
  what: string;
  /** Safe to repeat after an ambiguous failure (GET, PUT; a POST guarded by `beforeRetry`). */
  idempotent: boolean;
  signal?: AbortSignal | undefined;
  maxRetries?: number;
  /** Before retrying after an ambiguous failure: returns a value to stop retrying and use it instead. */
  beforeRetry?: () => Promise<unknown>;
  /** Fencing (FencedWrite): called right before each request of a write leaves (token and turn obtained). */
  confirm?: (() => Promise<void>) | undefined;
  /** Route label for the stats. */
  route: string;
}

interface CallResult {
  status: number;
  headers: HttpExchange['headers'];
  json: unknown;
  recovered?: unknown;
}

interface CachedProject {
  project: Project;
  raw: Record<string, unknown>;
}

/** A project as listed: like projectSchema, but a missing/empty code is allowed (null) and a null name is ''. */
const listedProjectSchema = z.preprocess(
  (v) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    const o = v as Record<string, unknown>;
    const code = o.projectCode === undefined || o.projectCode === '' ? null : o.projectCode;
    return { ...o, projectCode: code, projectName: o.projectName ?? '' };
  },
  projectSchema.extend({ projectCode: projectSchema.shape.projectCode.nullable() }),
);

/** Users: JHipster ids are strings with Keycloak, numbers without: accept both, as strings. */
const listedUserSchema = z.preprocess(
  (v) => (v !== null && typeof v === 'object' && typeof (v as { id?: unknown }).id === 'number' ? { ...v, id: String((v as { id: number }).id) } : v),
  batisimplyUserSchema,
);

/** A list's items as the journal names them (« 2 créneaux différents portent l'identifiant 7 »), by route. */
const NOUNS: Record<string, readonly [string, string]> = {
  'GET timeSlots': ['créneau', 'créneaux'],
  'GET users': ['utilisateur', 'utilisateurs'],
  'GET projects': ['chantier', 'chantiers'],
  default: ['élément', 'éléments'],
};

/** One listed item, parsed, with its raw JSON when kept. */
type ListEntry<S extends z.ZodType> = { item: z.output<S>; raw: Record<string, unknown> };
/** One page of a list. */
type ListPage<S extends z.ZodType> = { valid: Array<ListEntry<S>>; invalid: InvalidListItem[]; length: number; total: number | null };
const NO_RAW: Record<string, unknown> = Object.freeze({});

const WHAT = {
  projects: 'la liste des chantiers',
  project: 'un chantier',
  create: 'la création du chantier',
  update: 'la mise à jour du chantier',
  slots: 'les heures saisies',
  users: 'la liste des utilisateurs',
  quote: "l'envoi du devis",
} as const;

export class BatisimplyClient implements BatisimplyPort {
  /** Every call retries transient failures (settings.maxRetries, backoff, Retry-After): see BatisimplyPort. */
  readonly retriesInternally = true;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  private readonly tokens: TokenManager;
  private readonly limiter: Limiter;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  private readonly pageSize: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly cacheTtlMs: number;
  private readonly chunkDays: number;
  private readonly counters: BatisimplyStats = { apiCalls: 0, tokenRequests: 0, retries: 0, reauthentications: 0, byRoute: {} };
  private readonly projectCache = new Map<string, CachedProject>();
  private codeIndex: { byCode: Map<string, string>; builtAt: number } | null = null;
  /** null = not yet known; false once the server was seen ignoring `projectCode.equals`. */
  private codeFilterWorks: boolean | null = null;

  constructor(
    private readonly settings: BatisimplySettings,
    private readonly deps: BatisimplyClientDeps,
  ) {
    this.ownsDispatcher = deps.dispatcher === undefined;
    this.dispatcher = deps.dispatcher ?? createBatisimplyDispatcher(settings, deps.proxyUrl, deps.proxy);
    this.sleep = deps.sleep ?? abortableSleep;
    this.random = deps.random ?? Math.random;
    this.pageSize = deps.pageSize ?? 200;
    this.baseDelayMs = deps.baseDelayMs ?? 500;
    this.maxDelayMs = deps.maxDelayMs ?? 30_000;
    this.cacheTtlMs = deps.cacheTtlMs ?? 10 * 60_000;
    this.chunkDays = deps.timeSlotChunkDays ?? 31;
    this.limiter = new Limiter(Math.max(1, settings.concurrency));
    this.tokens = new TokenManager(settings, {
      dispatcher: this.dispatcher,
      clock: deps.clock,
      logger: deps.logger,
      sleep: (ms) => this.sleep(ms),
      random: this.random,
      skewMs: deps.tokenSkewMs ?? 30_000,
      baseDelayMs: this.baseDelayMs,
      maxDelayMs: this.maxDelayMs,
      onTokenRequest: () => {
        this.counters.tokenRequests++;
      },
    });
  }

  /** Counters for benchmarks and the journal (API calls include retries; token requests are separate). */
  apiStats(): BatisimplyStats {
    return { ...this.counters, byRoute: { ...this.counters.byRoute } };
  }

  /** Forgets the per-run caches (projectCode index, raw entities). Call at the start of a run. */
  clearCache(): void {
    this.projectCache.clear();
    this.codeIndex = null;
  }

  private closed = false;

  /** Closes the connection pool (when the client created it). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsDispatcher) await this.dispatcher.close();
  }

  // ------------------------------------------------------------------ projects

  async listProjects(opts: Cancellable = {}): Promise<Project[]> {
    const all = await this.listAll(BATISIMPLY_PATHS.projects, {}, listedProjectSchema, WHAT.projects, 'GET projects', opts.signal);
    // Projects created by hand in BatiSimply may have no code: the connector cannot match them, so they are
    // left out (and counted in the log) instead of failing the whole list.
    const rows = all.filter((r): r is { item: Project; raw: Record<string, unknown> } => r.item.projectCode !== null);
    if (rows.length < all.length) {
      this.deps.logger.info('BatiSimply : chantiers sans code ignorés', { count: all.length - rows.length });
    }
    const byCode = new Map<string, string>();
    for (const { item, raw } of rows) {
      this.projectCache.set(item.id, { project: item, raw });
      byCode.set(item.projectCode, item.id);
    }
    this.codeIndex = { byCode, builtAt: this.now() };
    return rows.map((r) => r.item);
  }

  async getProject(id: string, opts: Cancellable = {}): Promise<Project | null> {
    try {
      const r = await this.call({
        method: 'GET',
        path: BATISIMPLY_PATHS.project(id),
        what: WHAT.project,
        idempotent: true,
        signal: opts.signal,
        route: 'GET project',
      });
      return this.remember(r.json, WHAT.project);
    } catch (e) {
      if (e instanceof AppError && e.code === 'BS_NOT_FOUND') return null;
      throw e;
    }
  }

  async findProjectByCode(code: string, opts: Cancellable = {}): Promise<Project | null> {
    if (this.codeIndex && this.now() - this.codeIndex.builtAt < this.cacheTtlMs) {
      const id = this.codeIndex.byCode.get(code);
      return id === undefined ? null : (this.projectCache.get(id)?.project ?? (await this.getProject(id, opts)));
    }
    if (this.codeFilterWorks !== false) {
      const found = await this.findByServerFilter(code, opts.signal);
      if (found !== undefined) return found;
    }
    await this.listProjects(opts);
    return this.fromIndex(code);
  }

  private fromIndex(code: string): Project | null {
    const id = this.codeIndex?.byCode.get(code);
    return id === undefined ? null : (this.projectCache.get(id)?.project ?? null);
  }

  /** undefined = the server ignores the filter (fall back to a scan). */
  private async findByServerFilter(code: string, signal?: AbortSignal): Promise<Project | null | undefined> {
    const r = await this.call({
      method: 'GET',
      path: BATISIMPLY_PATHS.projects,
      query: { [BATISIMPLY_PATHS.projectCodeFilter]: code, [PAGING_PARAMS.page]: 0, [PAGING_PARAMS.size]: 20 },
      what: WHAT.projects,
      idempotent: true,
      signal,
      route: 'GET projects',
    });
    const { items } = readList(r.json, header(r.headers, 'x-total-count'), WHAT.projects);
    const projects = parseItems(items, listedProjectSchema, WHAT.projects);
    if (projects.some((p) => p.projectCode !== code)) {
      this.codeFilterWorks = false;
      this.deps.logger.info('BatiSimply : le filtre par code de chantier est ignoré par le serveur ; recherche par parcours de la liste');
      return undefined;
    }
    this.codeFilterWorks = true;
    const first = projects[0];
    if (!first) return null;
    const p: Project = { ...first, projectCode: code };
    this.projectCache.set(p.id, { project: p, raw: items[0] as Record<string, unknown> });
    return p;
  }

  async createProject(input: ProjectInput, opts: FencedWrite = {}): Promise<Project> {
    const body = stripUndefined({ ...input });
    let r: CallResult;
    try {
      r = await this.call({
        method: 'POST',
        path: BATISIMPLY_PATHS.projects,
        body,
        what: WHAT.create,
        idempotent: true,
        signal: opts.signal,
        confirm: opts.confirm,
        route: 'POST project',
        // The previous attempt may have been processed (connection lost after sending): look before posting
        // again, so a retry never creates a second project with the same code.
        beforeRetry: async () => (await this.findByCodeFresh(input.projectCode, opts.signal)) ?? undefined,
      });
    } catch (e) {
      // Someone else created it meanwhile: the cached index is stale, let the next lookup ask the server.
      if (e instanceof AppError && e.code === 'BS_CONFLICT') this.codeIndex = null;
      throw e;
    }
    let project: Project;
    if (r.recovered !== undefined) {
      project = r.recovered as Project;
    } else if (r.json === undefined) {
      // Created without a body in the answer: read it back by its code.
      const found = await this.findByCodeFresh(input.projectCode, opts.signal);
      if (!found) throw badResponse(WHAT.create, `POST project: HTTP ${r.status} without a body, and ${input.projectCode} not found afterwards`);
      project = found;
    } else {
      project = this.remember(r.json, WHAT.create);
    }
    this.codeIndex?.byCode.set(project.projectCode, project.id);
    return project;
  }

  async updateProject(id: string, input: ProjectInput, opts: FencedWrite = {}): Promise<Project> {
    let raw = this.projectCache.get(id)?.raw;
    if (!raw) {
      const current = await this.getProject(id, opts);
      if (!current) {
        throw new AppError('BS_NOT_FOUND', `Le chantier ${input.projectCode} n'existe plus dans BatiSimply (id ${id}). Il sera recréé à la prochaine synchronisation.`, {
          detail: `PUT project ${id}: not found`,
        });
      }
      raw = this.projectCache.get(id)?.raw ?? {};
    }
    // JHipster PUT replaces the whole entity: start from what the server has, overlay what we manage.
    const body: Record<string, unknown> = { ...raw, ...stripUndefined({ ...input }), id: raw.id ?? numericIfPossible(id) };
    const r = await this.call({
      method: 'PUT',
      path: BATISIMPLY_PATHS.project(id),
      body,
      what: WHAT.update,
      idempotent: true,
      signal: opts.signal,
      confirm: opts.confirm,
      route: 'PUT project',
    });
    const project = this.remember(r.json, WHAT.update);
    this.codeIndex?.byCode.set(project.projectCode, project.id);
    return project;
  }

  private async findByCodeFresh(code: string, signal?: AbortSignal): Promise<Project | null> {
    if (this.codeFilterWorks !== false) {
      const f = await this.findByServerFilter(code, signal);
      if (f !== undefined) return f;
    }
    this.codeIndex = null;
    await this.listProjects({ signal });
    return this.fromIndex(code);
  }

  private remember(json: unknown, what: string): Project {
    const project = parseOne(json, projectSchema, what);
    this.projectCache.set(project.id, { project, raw: json as Record<string, unknown> });
    return project;
  }

  // ------------------------------------------------------------------ time slots, users, quotes

  /**
   * With `opts.onInvalid`, each slot is validated on its own: unreadable ones are reported (once each, after the
   * whole listing succeeded) and left out. Without it, one unreadable slot fails the listing (BS_BAD_RESPONSE).
   * An answer that is no list fails in both cases.
   */
  async listTimeSlots(window: { start: Date; end: Date }, opts: TimeSlotListOptions = {}): Promise<TimeSlot[]> {
    const start = window.start.getTime();
    const end = window.end.getTime();
    if (!(end > start)) return [];
    const step = this.chunkDays * 86_400_000;
    const chunks: Array<[number, number]> = [];
    for (let s = start; s < end; s += step) chunks.push([s, Math.min(end, s + step)]);
    const tolerant = opts.onInvalid !== undefined;
    const parts = await mapLimited(chunks, this.settings.concurrency, async ([s, e]) => {
      const invalid = tolerant ? new Map<string, InvalidListItem>() : undefined;
      const items = await this.listAll(BATISIMPLY_PATHS.timeSlots, { startDate: isoZ(s), endDate: isoZ(e) }, timeSlotSchema, WHAT.slots, 'GET timeSlots', opts.signal, invalid, false);
      return { items, invalid };
    });
    // A slot in two windows (it spans their bound) counts once; two different slots under one id are left out (tolerant).
    const seen = new DistinctById<{ item: TimeSlot }>((e) => e.item);
    for (const part of parts) for (const e of part.items) seen.add(e.item.id, e);
    const merged = new Map<string, InvalidListItem>();
    const slots = this.distinctItems(seen, 'GET timeSlots', tolerant ? merged : undefined).map((e) => e.item);
    if (!opts.onInvalid) return slots;
    // An id in conflict in one window stays out even if another window read it once.
    const conflicted = new Set<string>([...merged.keys()]);
    for (const part of parts) for (const [k, r] of part.invalid ?? []) if (r.conflict) conflicted.add(k);
    const invalid = new Map<string, InvalidListItem>(merged);
    for (const part of parts) for (const [k, r] of part.invalid ?? []) if (r.conflict || r.id === null || !seen.has(r.id)) invalid.set(k, r);
    if (invalid.size > 0) this.deps.logger.warn('BatiSimply : créneaux illisibles ignorés', { count: invalid.size, ids: [...invalid.values()].slice(0, 20).map((r) => r.id) });
    for (const r of invalid.values()) opts.onInvalid(r.id === null ? { id: null, reason: r.reason, key: r.key } : { id: r.id, reason: r.reason });
    return slots.filter((x) => !conflicted.has(`id:${x.id}`));
  }

  /** Users that cannot be read (missing id, an id holding a NUL…) are left out, and logged: the others are listed. */
  async listUsers(opts: Cancellable = {}): Promise<BatisimplyUser[]> {
    const invalid = new Map<string, InvalidListItem>();
    const rows = await this.listAll(BATISIMPLY_PATHS.users, {}, listedUserSchema, WHAT.users, 'GET users', opts.signal, invalid);
    if (invalid.size > 0) this.deps.logger.warn('BatiSimply : utilisateurs illisibles ignorés', { count: invalid.size, reasons: [...invalid.values()].slice(0, 20).map((r) => r.reason) });
    return rows.map((r) => r.item);
  }

  /** Posts a quote (devis mode). Not retried after an ambiguous failure (it could create a duplicate). */
  async createQuote(input: QuoteInput, opts: Cancellable = {}): Promise<{ id: string }> {
    const r = await this.call({
      method: 'POST',
      path: BATISIMPLY_PATHS.quotes,
      body: stripUndefined({ ...input }),
      what: WHAT.quote,
      idempotent: false,
      signal: opts.signal,
      route: 'POST quote',
    });
    const q = parseOne(r.json, createdEntitySchema, WHAT.quote);
    return { id: q.id };
  }

  // ------------------------------------------------------------------ diagnosis

  async testConnection(): Promise<ConnectionDiagnosis> {
    const s = this.settings;
    const missing: string[] = [];
    if (!s.ssoUrl) missing.push("l'adresse du SSO");
    if (!s.apiUrl) missing.push("l'adresse de l'API");
    if (!s.clientId) missing.push("l'identifiant client");
    if (s.grantType === 'password' && !s.username) missing.push("l'utilisateur");
    if (s.grantType === 'password' && !s.password) missing.push('le mot de passe');
    if (missing.length > 0) {
      return { ok: false, code: 'NOT_CONFIGURED', message: `Connexion BatiSimply incomplète : renseignez ${missing.join(', ')}.`, details: {} };
    }
    this.tokens.reset();
    const details: Record<string, string> = { sso: safeHost(s.ssoUrl), api: safeHost(s.apiUrl) };
    try {
      await this.tokens.getToken();
    } catch (e) {
      return diagnosisOf(e, details);
    }
    details.authentification = 'réussie';
    try {
      const users = await this.countOf(BATISIMPLY_PATHS.users, listedUserSchema, WHAT.users, 'GET users');
      const projects = (await this.countOf(BATISIMPLY_PATHS.projects, listedProjectSchema, WHAT.projects, 'GET projects')) ?? 0;
      if (users !== null) details.utilisateurs = String(users);
      details.chantiers = String(projects);
      const who = users === null ? '' : `${users} utilisateur${users > 1 ? 's' : ''}, `;
      return {
        ok: true,
        code: null,
        message: `Connexion à BatiSimply réussie : ${who}${projects} chantier${projects > 1 ? 's' : ''}.`,
        details,
      };
    } catch (e) {
      return diagnosisOf(e, details);
    }
  }

  /** Number of items of a list (from its total when given, else by listing); null when forbidden (users). */
  private async countOf<S extends z.ZodType<{ id: string }>>(path: string, schema: S, what: string, route: string): Promise<number | null> {
    try {
      const r = await this.call({
        method: 'GET',
        path,
        query: { [PAGING_PARAMS.page]: 0, [PAGING_PARAMS.size]: 1 },
        what,
        idempotent: true,
        route,
        maxRetries: Math.min(1, this.settings.maxRetries),
      });
      const list = readList(r.json, header(r.headers, 'x-total-count'), what);
      parseItems(list.items, schema, what);
      if (list.total !== null) return list.total;
      return (await this.listAll(path, {}, schema, what, route)).length;
    } catch (e) {
      // A non-admin account may not read the users list: the connection itself is fine.
      if (route === 'GET users' && e instanceof AppError && e.code === 'BS_REQUEST_REJECTED') return null;
      throw e;
    }
  }

  // ------------------------------------------------------------------ paging

  /**
   * Every item of a paged list, each exactly once (by id; an item read twice counts once, two different items
   * under one id are a conflict: see distinctItems). Uses the total (X-Total-Count or the
   * envelope's) to fetch the remaining pages concurrently; without a total, pages sequentially until a short,
   * empty or already-seen page. Copes with servers that cap the page size or ignore paging.
   * With `invalid`, items that fail validation are collected there (deduplicated) instead of failing the page;
   * paging still counts them as items of their page.
   */
  private async listAll<S extends z.ZodType<{ id: string }>>(
    path: string,
    query: Record<string, string>,
    schema: S,
    what: string,
    route: string,
    signal?: AbortSignal,
    invalid?: Map<string, InvalidListItem>,
    /** false: the items' raw JSON is not kept (time slots: only the parsed item is used; 50,000 of them would hold both). */
    keepRaw = true,
  ): Promise<Array<ListEntry<S>>> {
    const size = this.pageSize;
    const items = new DistinctById<ListEntry<S>>((e) => e.item);
    const fetchPage = (page: number) => this.fetchListPage(path, { ...query, [PAGING_PARAMS.page]: page, [PAGING_PARAMS.size]: size }, schema, what, route, signal, invalid !== undefined, keepRaw);
    const add = (p: ListPage<S>): number => {
      let added = 0;
      for (const v of p.valid) if (items.add(v.item.id, v)) added++;
      for (const r of p.invalid) {
        if (!invalid!.has(r.key) && !(r.id !== null && items.has(r.id))) added++;
        invalid!.set(r.key, r);
      }
      return added;
    };
    /** Distinct items read so far, unreadable ones included (compared with the announced total). */
    const count = (): number => {
      let n = items.size;
      for (const r of invalid?.values() ?? []) if (r.id === null || !items.has(r.id)) n++;
      return n;
    };
    const done = (): Array<ListEntry<S>> => this.distinctItems(items, route, invalid);

    const first = await fetchPage(0);
    add(first);
    const firstLen = first.length;
    // A server that ignores paging answers everything at once.
    if (firstLen === 0 || firstLen > size) return done();
    let nextPage = 1;
    let maxLen = firstLen;
    if (first.total !== null) {
      if (count() >= first.total) return done();
      // The server may cap the page size: its pages are then `firstLen` long.
      const pages = Math.ceil(first.total / firstLen);
      const rest = Array.from({ length: pages - 1 }, (_, i) => i + 1);
      const results = await mapLimited(rest, this.settings.concurrency, (p) => fetchPage(p));
      for (const r of results) add(r);
      if (count() >= first.total) return done();
      nextPage = pages; // data grew while reading: continue sequentially
    }
    for (let guard = 0; guard < 100_000; guard++) {
      throwIfAborted(signal);
      const p = await fetchPage(nextPage++);
      const added = add(p);
      const len = p.length;
      if (len === 0 || added === 0 || len < maxLen) break;
      maxLen = Math.max(maxLen, len);
    }
    return done();
  }

  /** One page of a list: its valid items (and, `tolerant`, its unreadable ones instead of a failure), its length and total. */
  private async fetchListPage<S extends z.ZodType<{ id: string }>>(
    path: string,
    query: Record<string, string | number>,
    schema: S,
    what: string,
    route: string,
    signal: AbortSignal | undefined,
    tolerant: boolean,
    keepRaw: boolean,
  ): Promise<ListPage<S>> {
    const r = await this.call({ method: 'GET', path, query, what, idempotent: true, signal, route });
    const list = readList(r.json, header(r.headers, 'x-total-count'), what);
    if (tolerant) {
      const parts = partitionItems(list.items, schema);
      const valid = keepRaw ? parts.valid : parts.valid.map((v) => ({ item: v.item, raw: NO_RAW }));
      return { valid, invalid: parts.invalid, length: list.items.length, total: list.total };
    }
    const items = parseItems(list.items, schema, what);
    const raws = list.items as Array<Record<string, unknown>>;
    return { valid: items.map((item, i) => ({ item, raw: keepRaw ? (raws[i] ?? {}) : NO_RAW })), invalid: [], length: items.length, total: list.total };
  }

  /**
   * The items of a listing, each id once. Different items under one id: with `invalid` (tolerant lists) they are all
   * left out and reported there with a French reason; otherwise the last one read is kept. Logged either way.
   */
  private distinctItems<E extends { item: { id: string } }>(items: DistinctById<E>, route: string, invalid?: Map<string, InvalidListItem>): E[] {
    const conflicts = items.conflicts();
    if (conflicts.size > 0) {
      this.deps.logger.warn('BatiSimply : identifiants en double avec des contenus différents', { route, ids: [...conflicts.keys()].slice(0, 20), kept: invalid ? 'aucun' : 'le dernier lu' });
      for (const [id, n] of conflicts) invalid?.set(`id:${id}`, { id, key: `id:${id}`, reason: conflictReason(id, n, NOUNS[route] ?? NOUNS.default!), conflict: true });
    }
    return items.values(invalid !== undefined);
  }

  // ------------------------------------------------------------------ one API call, with retries

  private async call(op: CallOptions): Promise<CallResult> {
    const maxRetries = op.maxRetries ?? this.settings.maxRetries;
    const url = apiUrl(this.settings.apiUrl, op.path, op.query);
    const body = op.body === undefined ? undefined : JSON.stringify(op.body);
    let attempt = 0;
    let reauthenticated = false;
    let ambiguous = false;
    for (;;) {
      throwIfAborted(op.signal);
      if (ambiguous && op.beforeRetry) {
        const recovered = await op.beforeRetry();
        if (recovered !== undefined) return { status: 0, headers: {}, json: undefined, recovered };
      }
      const token = await this.tokens.getToken();
      throwIfAborted(op.signal);
      let res: HttpExchange;
      const t0 = Date.now();
      try {
        res = await this.send(op, url, body, token);
      } catch (e) {
        const te = e as TransportError;
        if (te.kind === 'cancelled') throw cancelled();
        const canRetry = te.kind !== 'tls' && (op.idempotent || te.notSent);
        this.deps.logger.warn('BatiSimply : échec réseau', { method: op.method, path: op.path, kind: te.kind, code: te.code, attempt });
        if (canRetry && attempt < maxRetries) {
          ambiguous ||= !te.notSent;
          await this.pause(attempt++, null, op.signal);
          continue;
        }
        throw this.transportError(te, op);
      }
      this.deps.logger.debug('BatiSimply : requête', { method: op.method, path: op.path, status: res.status, attempt, ms: Date.now() - t0 });

      if (res.status === 401) {
        if (!reauthenticated) {
          reauthenticated = true;
          this.counters.reauthentications++;
          this.tokens.invalidate(token);
          continue;
        }
        throw new AppError(
          'BS_AUTH_FAILED',
          "BatiSimply refuse l'accès malgré une nouvelle authentification. Vérifiez que le SSO et l'API sont du même environnement (recette ou production) et que le compte a les droits nécessaires.",
          { detail: `${op.method} ${op.path}: 401 after re-authentication` },
        );
      }
      if (res.status === 429 || res.status >= 500) {
        // 429 and 503 mean "not processed"; other 5xx may have been processed: only idempotent calls retry.
        const notProcessed = res.status === 429 || res.status === 503;
        const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'), this.now());
        if ((op.idempotent || notProcessed) && attempt < maxRetries) {
          if (retryAfterMs !== null && retryAfterMs > this.maxDelayMs) {
            throw this.overloadError(res, op, retryAfterMs);
          }
          ambiguous ||= !notProcessed;
          await this.pause(attempt++, retryAfterMs, op.signal);
          continue;
        }
        throw this.overloadError(res, op, retryAfterMs);
      }
      if (res.status >= 400) throw this.clientError(res, op);
      return { status: res.status, headers: res.headers, json: this.parseBody(res, op) };
    }
  }

  /** One HTTP exchange through the concurrency limiter, counted. */
  private send(op: CallOptions, url: string, body: string | undefined, token: string): Promise<HttpExchange> {
    return this.limiter.run(async () => {
      await op.confirm?.();
      this.counters.apiCalls++;
      this.counters.byRoute[op.route] = (this.counters.byRoute[op.route] ?? 0) + 1;
      return exchange(this.dispatcher, {
        url,
        method: op.method,
        headers: {
          authorization: `Bearer ${token}`,
          accept: 'application/json',
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        body,
        timeoutMs: this.settings.timeoutMs,
        signal: op.signal,
      });
    });
  }

  /** The JSON of a successful answer (undefined when empty); not JSON → BS_BAD_RESPONSE. */
  private parseBody(res: HttpExchange, op: CallOptions): unknown {
    if (res.text.trim() === '') return undefined;
    try {
      return JSON.parse(res.text);
    } catch (e) {
      throw badResponse(op.what, `${op.method} ${op.path}: HTTP ${res.status}, body is not JSON (${res.text.length} chars)`, e);
    }
  }

  private async pause(attempt: number, retryAfterMs: number | null, signal?: AbortSignal): Promise<void> {
    const delay =
      retryAfterMs !== null
        ? retryAfterMs + Math.round(this.random() * Math.min(1000, retryAfterMs * 0.1))
        : backoffDelay(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
    this.counters.retries++;
    this.deps.logger.info('BatiSimply : nouvel essai', { attempt: attempt + 1, delayMs: delay });
    await this.sleep(delay, signal);
    throwIfAborted(signal);
  }

  private transportError(te: TransportError, op: CallOptions): AppError {
    const host = safeHost(this.settings.apiUrl);
    const detail = `${op.method} ${op.path}: ${te.kind} ${te.code}: ${te.message}`;
    switch (te.kind) {
      case 'tls':
        return new AppError(
          'BS_TLS_ERROR',
          `Le certificat de sécurité de l'API BatiSimply (${host}) est refusé (${te.code}). Vérifiez l'adresse de l'API ou le proxy d'entreprise qui intercepte les connexions HTTPS.`,
          { detail, cause: te },
        );
      case 'timeout':
        return new AppError(
          'TIMEOUT',
          `BatiSimply n'a pas répondu dans le délai (${Math.round(this.settings.timeoutMs / 1000)}\u00a0s) pour ${op.what}. Réessayez plus tard ; si cela se répète, vérifiez la connexion Internet de ce poste.`,
          { detail, cause: te, retryable: true },
        );
      case 'truncated':
        return badResponse(op.what, detail, te);
      default:
        return new AppError(
          'BS_API_UNREACHABLE',
          `L'API BatiSimply (${host}) est injoignable. Vérifiez la connexion Internet et l'adresse de l'API, puis réessayez.`,
          { detail, cause: te, retryable: true },
        );
    }
  }

  private overloadError(res: HttpExchange, op: CallOptions, retryAfterMs: number | null): AppError {
    const wait = retryAfterMs !== null ? ` dans ${Math.ceil(retryAfterMs / 1000)} s` : ' dans quelques minutes';
    const detail = `${op.method} ${op.path}: HTTP ${res.status}${retryAfterMs !== null ? `, Retry-After ${retryAfterMs} ms` : ''}`;
    if (res.status === 429) {
      return new AppError('BS_RATE_LIMITED', `BatiSimply limite le nombre de requêtes. Réessayez${wait}.`, { detail, retryable: true });
    }
    return new AppError('BS_SERVER_ERROR', `Le serveur BatiSimply est en erreur (HTTP ${res.status}) pour ${op.what}. Réessayez${wait}.`, {
      detail,
      retryable: true,
    });
  }

  private clientError(res: HttpExchange, op: CallOptions): AppError {
    let p: z.infer<typeof problemSchema> = {};
    try {
      const r = problemSchema.safeParse(JSON.parse(res.text));
      if (r.success) p = r.data;
    } catch {
      // not JSON
    }
    const fields = (p.fieldErrors ?? []).map((f) => `${f.field ?? '?'} ${f.message ?? ''}`.trim()).join(', ');
    const why = [p.title, p.errorKey, p.detail, fields].filter((x) => x && x !== '').join(' | ');
    const detail = `${op.method} ${op.path}: HTTP ${res.status}${why ? ` ${why}` : ''}`;
    const duplicate = res.status === 409 || /exist|duplicate|unique|already/i.test(`${p.errorKey ?? ''} ${p.title ?? ''} ${p.message ?? ''}`);
    if (res.status === 404) {
      return new AppError('BS_NOT_FOUND', `Élément introuvable dans BatiSimply pour ${op.what}.`, { detail });
    }
    if (duplicate && (res.status === 409 || res.status === 400)) {
      return new AppError('BS_CONFLICT', `BatiSimply refuse ${op.what} : un élément avec ce code existe déjà.`, { detail });
    }
    if (res.status === 403) {
      return new AppError(
        'BS_REQUEST_REJECTED',
        `Le compte BatiSimply n'a pas les droits nécessaires pour ${op.what}. Demandez à l'administrateur BatiSimply d'étendre ses droits.`,
        { detail },
      );
    }
    // BatiSimply's own reason (« projectName invalide ») is kept in the message the journal shows.
    const reason = serverReason([fields, p.detail, p.title && !/^(Bad Request|Method argument not valid)$/i.test(p.title) ? p.title : undefined]);
    return new AppError(
      'BS_REQUEST_REJECTED',
      `BatiSimply refuse ${op.what}${reason ? ` : « ${reason} »` : ''} (HTTP ${res.status}). Corrigez les données dans le logiciel de gestion puis relancez.`,
      { detail },
    );
  }

  private now(): number {
    return this.deps.clock.now().getTime();
  }
}

/**
 * The first reason the server gave, as short plain text: control characters dropped, at most 200 characters
 * (the text comes from outside and ends up in the journal).
 */
export function serverReason(parts: readonly (string | undefined)[]): string {
  const first = parts.find((x) => x !== undefined && x.trim() !== '') ?? '';
  const clean = cleanLabel(first);
  return clean.length > 200 ? `${clean.slice(0, 199)}…` : clean;
}

/** The keep-alive connection pool (through a proxy when one is given). */
export function createBatisimplyDispatcher(settings: Pick<BatisimplySettings, 'concurrency' | 'timeoutMs'>, proxyUrl?: string, proxy?: ProxySettings): Dispatcher {
  // The connector's one proxy setting (services/network/proxy.ts), when it says to use one.
  if (proxy && proxy.mode !== 'none') return createHttpDispatcher(proxy, { timeoutMs: settings.timeoutMs, connections: settings.concurrency + 2 });
  const options = {
    keepAliveTimeout: 10_000,
    keepAliveMaxTimeout: 60_000,
    connections: settings.concurrency + 2,
    connect: { timeout: settings.timeoutMs },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  };
  return proxyUrl && proxyUrl.trim() !== '' ? new ProxyAgent({ ...options, uri: proxyUrl.trim() }) : new Agent(options);
}

function diagnosisOf(e: unknown, details: Record<string, string>): ConnectionDiagnosis {
  if (e instanceof AppError) return { ok: false, code: e.code, message: e.message, details };
  return {
    ok: false,
    code: 'INTERNAL',
    message: 'Le test de connexion BatiSimply a échoué de façon inattendue. Consultez le journal pour le détail technique.',
    details,
  };
}

function stripUndefined<T extends Record<string, unknown>>(o: T): Partial<T> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as Partial<T>;
}

function numericIfPossible(id: string): string | number {
  return /^\d{1,15}$/.test(id) ? Number(id) : id;
}

/** ISO-8601 UTC without milliseconds: 2026-01-31T00:00:00Z. */
export function isoZ(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}
