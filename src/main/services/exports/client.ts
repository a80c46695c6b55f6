/**
 * The exports API client (import agent, seed 003): the pending listing, the download of an export’s file, the
 * mark-synced / mark-error acknowledgements and the status endpoint (connection test). Every path is in paths.ts.
 * Timeouts per request, retries of transient failures (network, 429, 5xx) with exponential backoff and jitter,
 * honouring Retry-After. Every answer is read with zod; errors are typed AppErrors naming the screen and field.
 */
import { request, type Dispatcher } from 'undici';
import type { ConnectionDiagnosis } from '../../../shared/domain.js';
import { AppError, cancelledError, toAppError } from '../../../shared/errors.js';
import type { ImportsSettings, ProxySettings } from '../../../shared/settings.js';
import { createHttpDispatcher } from '../network/proxy.js';
import { abortableSleep, backoffDelay, parseRetryAfter } from '../batisimply/retry.js';
import { classify, header, TransportError } from '../batisimply/transport.js';
import type { Cancellable, Logger } from '../ports.js';
import { EXPORTS_AUTH_HEADER, EXPORTS_PATHS, exportsUrl } from './paths.js';
import { pendingExportSchema, pendingListSchema, statusSchema, type PendingExport } from './schemas.js';

export type { PendingExport } from './schemas.js';

const SCREEN = 'Réglages › Imports';

/** An export listed by the API that could not be read, with a French reason. */
export interface RejectedExport {
  id: string | null;
  reason: string;
}

/** Where downloaded bytes go (the flow writes them aside, then renames). */
export interface DownloadSink {
  write(chunk: Uint8Array): Promise<void>;
}

/** What the import flow needs of the exports API. */
export interface ExportsPort {
  listPending(o: { limit: number; agentId: string; onInvalid?: (r: RejectedExport) => void } & Cancellable): Promise<PendingExport[]>;
  /** Streams the file into `sink`; one attempt (the caller restarts the file from the start on a failure). */
  download(e: PendingExport, sink: DownloadSink, opts?: Cancellable): Promise<{ bytes: number }>;
  markSynced(id: string, agentId: string, opts?: Cancellable): Promise<void>;
  markError(id: string, agentId: string, error: string, opts?: Cancellable): Promise<void>;
  testConnection(agentId: string): Promise<ConnectionDiagnosis>;
  close(): Promise<void>;
}

export interface ExportsClientDeps {
  logger: Logger;
  /** undici dispatcher (not closed by the client); by default the client builds its own from `proxy` and closes it. */
  dispatcher?: Dispatcher;
  /** The connector’s proxy setting (settings.proxy). */
  proxy?: ProxySettings;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  now?: () => number;
}

type Settings = Pick<ImportsSettings, 'apiUrl' | 'apiKey' | 'timeoutMs' | 'maxRetries'>;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export class ExportsClient implements ExportsPort {
  private readonly dispatcher: Dispatcher;
  private readonly owns: boolean;
  private readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;
  /** Requests sent, retries included (tests, bench). */
  readonly stats = { requests: 0, retries: 0 };

  constructor(
    private readonly s: Settings,
    private readonly deps: ExportsClientDeps,
  ) {
    this.owns = deps.dispatcher === undefined;
    this.dispatcher = deps.dispatcher ?? createHttpDispatcher(deps.proxy, { timeoutMs: s.timeoutMs });
    this.sleep = deps.sleep ?? abortableSleep;
    this.random = deps.random ?? Math.random;
  }

  async listPending(o: { limit: number; agentId: string; onInvalid?: (r: RejectedExport) => void } & Cancellable): Promise<PendingExport[]> {
    const a = await this.send('GET', EXPORTS_PATHS.pending, { query: { limit: String(o.limit), agentId: o.agentId }, ...(o.signal ? { signal: o.signal } : {}) });
    const list = pendingListSchema.safeParse(parseJson(a.text));
    if (!list.success) throw badResponse('the pending listing is neither an array nor { exports: [] }');
    const out: PendingExport[] = [];
    for (const raw of list.data) {
      const e = pendingExportSchema.safeParse(raw);
      if (e.success) out.push(e.data);
      else o.onInvalid?.({ id: idOf(raw), reason: "Export illisible envoyé par l’API (identifiant ou champs manquants) : il est ignoré." });
    }
    return out;
  }

  async download(e: PendingExport, sink: DownloadSink, opts: Cancellable = {}): Promise<{ bytes: number }> {
    const url = this.downloadUrl(e);
    this.stats.requests++;
    const timeout = AbortSignal.timeout(this.s.timeoutMs);
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    let phase: 'connect' | 'body' = 'connect';
    let sinkFailure: unknown = undefined;
    try {
      const res = await request(url, { dispatcher: this.dispatcher, method: 'GET', headers: this.headers(), signal, headersTimeout: this.s.timeoutMs, bodyTimeout: this.s.timeoutMs });
      if (res.statusCode !== 200) {
        const text = await res.body.text().catch(() => '');
        throw this.httpError({ status: res.statusCode, headers: res.headers, text }, 'download');
      }
      phase = 'body';
      let bytes = 0;
      for await (const chunk of res.body) {
        const c = chunk as Uint8Array;
        bytes += c.byteLength;
        try {
          await sink.write(c);
        } catch (w) {
          sinkFailure = w;
          throw w;
        }
      }
      return { bytes };
    } catch (err) {
      // The sink’s own failure (disk full, folder gone) is the caller’s to name.
      if (err instanceof AppError || (sinkFailure !== undefined && err === sinkFailure)) throw err;
      throw this.transportError(classify(err, timeout.aborted, opts.signal?.aborted === true, phase));
    }
  }

  async markSynced(id: string, agentId: string, opts: Cancellable = {}): Promise<void> {
    await this.send('POST', EXPORTS_PATHS.markSynced(id), { body: { agentId }, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  async markError(id: string, agentId: string, error: string, opts: Cancellable = {}): Promise<void> {
    await this.send('POST', EXPORTS_PATHS.markError(id), { body: { agentId, error }, ...(opts.signal ? { signal: opts.signal } : {}) });
  }

  async testConnection(agentId: string): Promise<ConnectionDiagnosis> {
    try {
      const a = await this.send('GET', EXPORTS_PATHS.status, { attempts: 1 });
      const st = statusSchema.safeParse(parseJson(a.text));
      if (!st.success) throw badResponse('status is not an object');
      const details: Record<string, string> = { 'Identifiant du poste': agentId };
      if (st.data.pending !== undefined) details['En attente'] = String(st.data.pending);
      if (st.data.errors !== undefined) details['En erreur'] = String(st.data.errors);
      const n = st.data.pending;
      const waiting = n === undefined ? '' : n === 0 ? ' Aucun export en attente.' : n === 1 ? ' 1 export en attente.' : ` ${n} exports en attente.`;
      return { ok: true, code: null, message: `Connexion à l’API d’export réussie.${waiting}`, details };
    } catch (e) {
      const err = toAppError(e);
      return { ok: false, code: err.code, message: err.message, details: { 'Identifiant du poste': agentId } };
    }
  }

  async close(): Promise<void> {
    if (this.owns) await this.dispatcher.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------ internals

  private headers(json = false): Record<string, string> {
    if (this.s.apiUrl.trim() === '') throw new AppError('NOT_CONFIGURED', `L’adresse de l’API d’export n’est pas renseignée : ${SCREEN} › Adresse de l’API.`);
    return { accept: 'application/json, */*', [EXPORTS_AUTH_HEADER]: this.s.apiKey, ...(json ? { 'content-type': 'application/json' } : {}) };
  }

  /** The listing’s download address, resolved on the API’s URL; another origin is refused (the key goes only to the API). */
  private downloadUrl(e: PendingExport): string {
    const base = exportsUrl(this.s.apiUrl, '');
    if (!e.downloadUrl) return exportsUrl(this.s.apiUrl, EXPORTS_PATHS.download(e.id));
    let u: URL;
    try {
      u = new URL(e.downloadUrl, `${base}/`);
    } catch {
      throw badResponse(`unreadable download address for ${e.id}`);
    }
    if (u.origin !== new URL(base).origin) {
      throw new AppError('EXPORTS_BAD_RESPONSE', `L’API d’export donne pour l’export ${e.id} une adresse de téléchargement sur un autre serveur (${u.host}) : elle est refusée, la clé de l’API n’est envoyée qu’à ${SCREEN} › Adresse de l’API.`, { detail: u.href });
    }
    return u.href;
  }

  /** One JSON call with the retries of transient failures (network, 429, 5xx), honouring Retry-After. */
  private async send(method: 'GET' | 'POST', path: string, o: { query?: Record<string, string>; body?: unknown; signal?: AbortSignal; attempts?: number }): Promise<Answer> {
    const url = exportsUrl(this.s.apiUrl, path, o.query);
    const attempts = o.attempts ?? this.s.maxRetries + 1;
    for (let attempt = 0; ; attempt++) {
      let wait: number | null = null;
      let failure: AppError;
      try {
        const a = await this.exchange(method, url, o.body, o.signal);
        if (a.status >= 200 && a.status < 300) return a;
        failure = this.httpError(a, method === 'GET' ? 'read' : 'write');
        wait = parseRetryAfter(header(a.headers, 'retry-after'), (this.deps.now ?? Date.now)());
      } catch (e) {
        if (!(e instanceof TransportError)) throw e;
        if (e.kind === 'cancelled') throw cancelledError('Opération', 'exports: cancelled');
        failure = this.transportError(e);
      }
      if (!failure.retryable || attempt + 1 >= attempts) throw failure;
      this.stats.retries++;
      const delay = wait ?? backoffDelay(attempt, this.deps.baseDelayMs ?? 500, this.deps.maxDelayMs ?? 30_000, this.random);
      this.deps.logger.warn('exports API: retrying', { path, attempt: attempt + 1, status: failure.code, delayMs: delay });
      await this.sleep(Math.min(delay, 120_000), o.signal);
    }
  }

  private async exchange(method: 'GET' | 'POST', url: string, body: unknown, signal?: AbortSignal): Promise<Answer> {
    this.stats.requests++;
    const timeout = AbortSignal.timeout(this.s.timeoutMs);
    const all = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let phase: 'connect' | 'body' = 'connect';
    try {
      const res = await request(url, {
        dispatcher: this.dispatcher,
        method,
        headers: this.headers(body !== undefined),
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: all,
        headersTimeout: this.s.timeoutMs,
        bodyTimeout: this.s.timeoutMs,
      });
      phase = 'body';
      return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
    } catch (e) {
      if (e instanceof AppError) throw e;
      throw classify(e, timeout.aborted, signal?.aborted === true, phase);
    }
  }

  private httpError(a: Answer, what: 'read' | 'write' | 'download'): AppError {
    const detail = `HTTP ${a.status}: ${a.text.slice(0, 300)}`;
    if (a.status === 401 || a.status === 403) {
      return new AppError('EXPORTS_AUTH_FAILED', `L’API d’export refuse la clé (HTTP ${a.status}) : vérifiez ${SCREEN} › Clé de l’API.`, { detail });
    }
    if (a.status === 429) return new AppError('EXPORTS_RATE_LIMITED', "L’API d’export limite les appels (trop de requêtes) : nouvel essai au prochain cycle.", { detail, retryable: true });
    if (a.status >= 500) return new AppError('EXPORTS_SERVER_ERROR', `L’API d’export est en erreur (HTTP ${a.status}) : nouvel essai au prochain cycle.`, { detail, retryable: true });
    if (a.status === 404) {
      const msg = what === 'read' ? `L’API d’export est introuvable à cette adresse (HTTP 404) : vérifiez ${SCREEN} › Adresse de l’API.` : "L’export est introuvable sur l’API d’export (HTTP 404).";
      return new AppError('EXPORTS_NOT_FOUND', msg, { detail });
    }
    return new AppError('EXPORTS_BAD_RESPONSE', `L’API d’export a refusé la demande (HTTP ${a.status}).`, { detail });
  }

  private transportError(e: TransportError): AppError {
    if (e.kind === 'cancelled') return cancelledError('Opération', 'exports: cancelled');
    if (e.kind === 'truncated') return new AppError('EXPORTS_DOWNLOAD_CUT', "Le téléchargement depuis l’API d’export a été interrompu : il sera repris.", { detail: `${e.code}: ${e.message}`, retryable: true });
    if (e.kind === 'tls') return new AppError('EXPORTS_UNREACHABLE', `Le certificat de l’API d’export est refusé : vérifiez ${SCREEN} › Adresse de l’API.`, { detail: `${e.code}: ${e.message}` });
    const what = e.kind === 'timeout' ? 'ne répond pas à temps' : 'est injoignable';
    return new AppError('EXPORTS_UNREACHABLE', `L’API d’export ${what} : vérifiez ${SCREEN} › Adresse de l’API et le réseau (proxy).`, { detail: `${e.code}: ${e.message}`, retryable: true });
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw badResponse(`not JSON: ${text.slice(0, 100)}`);
  }
}

function badResponse(detail: string): AppError {
  return new AppError('EXPORTS_BAD_RESPONSE', "L’API d’export a envoyé une réponse illisible.", { detail });
}

function idOf(raw: unknown): string | null {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? String(id).slice(0, 200) : null;
}
