/** Retries of remote calls inside a run, and the classification of errors (record-level vs fatal). */
import { AppError, cancelledError, throwIfCancelled as throwIfCancelledAs, toAppError } from '../../../shared/errors.js';

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const realSleep: Sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(syncCancelled());
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(syncCancelled());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** The cancellation error of a sync (src/shared/errors.ts cancelledError, naming the synchronisation). */
export const syncCancelled = (): AppError => cancelledError('Synchronisation');

export function throwIfCancelled(signal?: AbortSignal): void {
  throwIfCancelledAs(signal, 'Synchronisation');
}

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT']);

export function isRetryable(e: unknown): boolean {
  if (e instanceof AppError) return e.retryable;
  const code = (e as { code?: string } | null)?.code;
  return typeof code === 'string' && NETWORK_CODES.has(code);
}

/** Errors that concern one record only: journal it, go on with the next one. */
const RECORD_LEVEL = new Set([
  'BS_REQUEST_REJECTED',
  'BS_CONFLICT',
  'BS_NOT_FOUND',
  'SQL_DUPLICATE_KEY',
  'INVALID_INPUT',
  'SQL_ERROR',
  'BS_BAD_RESPONSE',
]);

export function isRecordLevel(e: unknown): boolean {
  return e instanceof AppError && RECORD_LEVEL.has(e.code) && !e.retryable;
}

export interface RetryOptions {
  attempts: number;
  baseMs: number;
  signal?: AbortSignal;
  sleep: Sleep;
  onRetry?: (attempt: number, e: unknown) => void;
}

/** Calls `fn`; on a retryable error waits (exponential backoff + jitter) and tries again. */
export async function withRetry<T>(fn: () => Promise<T>, o: RetryOptions): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw cancelledError();
    try {
      return await fn();
    } catch (e) {
      if (e instanceof AppError && e.code === 'CANCELLED') throw e;
      if (o.signal?.aborted) throw cancelledError();
      if (attempt >= o.attempts || !isRetryable(e)) throw e;
      o.onRetry?.(attempt, e);
      const delay = o.baseMs * 2 ** (attempt - 1);
      await o.sleep(delay / 2 + Math.random() * delay, o.signal);
    }
  }
}

export function reasonOf(e: unknown): string {
  const a = toAppError(e);
  return a.message;
}
