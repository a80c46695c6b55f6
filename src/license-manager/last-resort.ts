/**
 * Last-resort handlers of the licence manager process. Every request error is answered by the HTTP
 * layer's error handler; what still escapes (a bug in a timer, a library emitting 'error' without a
 * listener, a forgotten promise) is logged here and the service keeps serving the other requests.
 *
 * A process that keeps failing is not left limping: past `maxPerWindow` escapes within `windowMs`
 * it exits with code 70 (EX_SOFTWARE) so that its supervisor (systemd `Restart=always`, see
 * docs/licence-manager.md) starts a clean one.
 */
import type { EventEmitter } from 'node:events';

export interface LastResortLogger {
  error(msg: string, fields?: Record<string, unknown>): void;
}

export interface LastResortOptions {
  logger: LastResortLogger;
  /** The process (injectable for tests). */
  target?: Pick<EventEmitter, 'on' | 'off'>;
  exit?: (code: number) => void;
  now?: () => number;
  maxPerWindow?: number;
  windowMs?: number;
}

export const LAST_RESORT_EXIT_CODE = 70;

function describe(e: unknown): { err: string; stack?: string } {
  try {
    if (e instanceof Error) return { err: `${e.name}: ${e.message}`, ...(e.stack ? { stack: e.stack.split('\n').slice(0, 8).join('\n') } : {}) };
    return { err: String(e) };
  } catch {
    return { err: 'erreur illisible' };
  }
}

/** Installs the handlers; returns a function that removes them. */
export function installLastResortHandlers(opts: LastResortOptions): () => void {
  const target = opts.target ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const now = opts.now ?? Date.now;
  const max = opts.maxPerWindow ?? 20;
  const windowMs = opts.windowMs ?? 60_000;
  const seen: number[] = [];
  let exiting = false;

  const onEscape = (kind: 'exception' | 'rejection') => (e: unknown) => {
    try {
      opts.logger.error('erreur non rattrapée : le service continue', { kind, ...describe(e) });
    } catch {
      /* logging must not make things worse */
    }
    const t = now();
    seen.push(t);
    while (seen.length > 0 && t - seen[0]! > windowMs) seen.shift();
    if (seen.length > max && !exiting) {
      exiting = true;
      try {
        opts.logger.error('trop d’erreurs non rattrapées : arrêt pour redémarrage par le superviseur', { count: seen.length, windowMs });
      } catch {
        /* ignore */
      }
      exit(LAST_RESORT_EXIT_CODE);
    }
  };
  const onException = onEscape('exception');
  const onRejection = onEscape('rejection');
  target.on('uncaughtException', onException);
  target.on('unhandledRejection', onRejection);
  return () => {
    target.off('uncaughtException', onException);
    target.off('unhandledRejection', onRejection);
  };
}
