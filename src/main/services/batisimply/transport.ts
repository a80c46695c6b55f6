/**
 * One HTTP exchange over undici, with a per-request timeout, and a classification of transport failures
 * (network, timeout, TLS, truncated body, cancelled) that the retry logic and the diagnoses use.
 */
import { request, type Dispatcher } from 'undici';

export type TransportFailureKind = 'network' | 'timeout' | 'tls' | 'truncated' | 'cancelled';

/** Codes of certificate problems (self-signed, unknown CA, expired, wrong host name…). */
export const TLS_ERROR_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_SSL_WRONG_VERSION_NUMBER',
  'EPROTO',
]);

/** Failures where the request certainly never reached the server: safe to retry even a non-idempotent call. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

export class TransportError extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    /** The underlying error code (ECONNREFUSED, UND_ERR_SOCKET, DEPTH_ZERO_SELF_SIGNED_CERT…). */
    readonly code: string,
    message: string,
    /** True when the request certainly did not reach the server. */
    readonly notSent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

export interface HttpExchange {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface HttpCall {
  url: string;
  method: 'GET' | 'POST' | 'PUT';
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

function errorCode(e: unknown): string {
  let cur: unknown = e;
  for (let i = 0; i < 5 && cur && typeof cur === 'object'; i++) {
    const c = (cur as { code?: unknown }).code;
    if (typeof c === 'string' && c !== '') return c;
    cur = (cur as { cause?: unknown }).cause;
  }
  return e instanceof Error ? e.name : 'UNKNOWN';
}

export function classify(e: unknown, timedOut: boolean, cancelled: boolean, phase: 'connect' | 'body'): TransportError {
  if (e instanceof TransportError) return e;
  const code = errorCode(e);
  const msg = e instanceof Error ? e.message : String(e);
  if (cancelled) return new TransportError('cancelled', 'ABORTED', 'cancelled', false, { cause: e });
  if (timedOut || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT') {
    return new TransportError('timeout', code, `timeout: ${msg}`, code === 'UND_ERR_CONNECT_TIMEOUT', { cause: e });
  }
  if (TLS_ERROR_CODES.has(code) || /certificate|SSL routines|TLS/i.test(msg)) {
    return new TransportError('tls', code, msg, true, { cause: e });
  }
  if (phase === 'body') return new TransportError('truncated', code, `response body interrupted: ${msg}`, false, { cause: e });
  return new TransportError('network', code, msg, NOT_SENT_CODES.has(code), { cause: e });
}

/** Sends one request and reads the whole body as text. Throws TransportError only. */
export async function exchange(dispatcher: Dispatcher, call: HttpCall): Promise<HttpExchange> {
  const timeout = AbortSignal.timeout(call.timeoutMs);
  const signal = call.signal ? AbortSignal.any([call.signal, timeout]) : timeout;
  let phase: 'connect' | 'body' = 'connect';
  try {
    const res = await request(call.url, {
      dispatcher,
      method: call.method,
      headers: call.headers,
      body: call.body,
      signal,
      headersTimeout: call.timeoutMs,
      bodyTimeout: call.timeoutMs,
    });
    phase = 'body';
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, text };
  } catch (e) {
    throw classify(e, timeout.aborted, call.signal?.aborted === true, phase);
  }
}

/** First value of a header. */
export function header(h: HttpExchange['headers'], name: string): string | undefined {
  const v = h[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}
