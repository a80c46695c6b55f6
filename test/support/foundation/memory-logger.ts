import type { LogFields, Logger, LogLevel } from '../../../src/main/services/ports.js';

export interface LogRecord {
  level: LogLevel;
  msg: string;
  fields: LogFields;
}

/** A Logger that keeps records in memory, for assertions. */
export function memoryLogger(records: LogRecord[] = [], bindings: LogFields = {}): Logger & { records: LogRecord[] } {
  const at = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
    records.push({ level, msg, fields: { ...bindings, ...fields } });
  };
  return {
    records,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (b) => memoryLogger(records, { ...bindings, ...b }),
  };
}
