/** Shared helpers of the Batigest gateway integration tests. */
import type { Logger, LogFields } from '../../src/main/services/ports.js';

/** A logger that keeps every line (JSON) so tests can assert what is — and is not — logged. */
export function captureLogger(lines: string[] = []): Logger & { lines: string[] } {
  const mk = (bindings: LogFields): Logger & { lines: string[] } => {
    const write = (level: string) => (msg: string, fields?: LogFields) => void lines.push(JSON.stringify({ level, msg, ...bindings, ...fields }));
    return { lines, debug: write('debug'), info: write('info'), warn: write('warn'), error: write('error'), child: (b) => mk({ ...bindings, ...b }) };
  };
  return mk({});
}
