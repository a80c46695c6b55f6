/**
 * JSON-lines logger (implements ports.Logger).
 *
 * One line per record: {"ts","level","msg",...bindings,...fields}. Secret-looking fields
 * (password, secret, token, key, authorization, cookie…) are replaced by "[masqué]" at any depth, and
 * secrets inside strings are masked too (`password=…`, connection strings, `scheme://user:…@host`,
 * « mot de passe : … », `Bearer …`, licence keys). With `dir`, records go to a daily file
 * `<prefix>-YYYY-MM-DD.log` (local date, folder 0700, files 0600), older files beyond `retainDays` are removed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { systemClock, type Clock, type LogFields, type Logger, type LogLevel } from './ports.js';
import { ensurePrivateDir, PRIVATE_FILE_MODE } from './private-fs.js';

export const REDACTED = '[masqué]';
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const SECRET_KEY = /pass(word|wd|phrase)?$|^pwd$|secret|token|^key$|[a-z_]key$|apikey|api_key|authori[sz]ation|cookie|credential|^enc$|\$enc/i;
/** Keys that end in "key" but are not secrets. */
const NOT_SECRET = /^(keyHint|runKey|codeKey|primaryKey|key_count)$/i;
/** Keys whose value is a secret when they appear as `key=value` / `key: value` / `"key":"value"` in text. */
const TEXT_KEYS =
  'password|passwd|passphrase|pwd|client[_-]?secret|secret|access[_-]?token|refresh[_-]?token|id[_-]?token|token|api[_-]?key|licen[cs]e[_-]?key|anon[_-]?key';
/** A value: quoted ("…" with escapes, '…') or a bare run (stops at spaces, quotes, & ; ,). */
const TEXT_VALUE = `("(?:[^"\\\\]|\\\\.)*"|'[^']*'|[^\\s"'&;,]+)`;
const SECRET_IN_TEXT: [RegExp, string][] = [
  // URL userinfo: scheme://user:PASSWORD@host (the password may itself contain '@' or ':').
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"'<>]*):[^\s/?#"'<>]*@/gi, `$1:${REDACTED}@`],
  // Connection strings (ADO/ODBC): ;Password=two words; · Pwd={a;b}};c} · Password="x;y"
  [/(^|;)(\s*(?:password|pwd)\s*=\s*)(\{(?:[^}]|\}\})*\}|"[^"]*"|'[^']*'|[^;]*)/gim, `$1$2${REDACTED}`],
  [new RegExp(`\\b(${TEXT_KEYS})(["']?\\s*[=:]\\s*)${TEXT_VALUE}`, 'gi'), `$1$2${REDACTED}`],
  // French: « mot de passe : X », « mdp=X » (the value may contain '&').
  [/\b(mot[ -]de[ -]passe|mdp)(\s*[=:]\s*)("[^"]*"|«[^»]*»|[^\s"';,]+)/gi, `$1$2${REDACTED}`],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/g, `$1 ${REDACTED}`],
  // Licence keys XXXX-XXXX-XXXX-XXXX: only the last group stays, as the app shows it (maskLicenceKey).
  [/\b[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-([A-Z0-9]{4})\b/gi, 'XXXX-XXXX-XXXX-$1'],
];

export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key) && !NOT_SECRET.test(key);
}

export function redactText(s: string): string {
  let out = s;
  for (const [re, rep] of SECRET_IN_TEXT) out = out.replace(re, rep);
  return out;
}

/** Deep copy of `value` with secrets masked; Errors become {name,message,stack}; cycles cut. */
export function redact(value: unknown, depth = 0, seen = new WeakSet<object>()): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[cycle]';
  if (depth > 8) return '[…]';
  seen.add(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Error) {
    return {
      name: value.name,
      message: redactText(value.message),
      ...(value.stack ? { stack: redactText(value.stack) } : {}),
      ...('code' in value && typeof value.code === 'string' ? { code: value.code } : {}),
    };
  }
  if (Buffer.isBuffer(value)) return `[${value.length} octets]`;
  if (Array.isArray(value)) return value.slice(0, 100).map((v) => redact(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretKey(k) && v !== '' && v !== null && v !== undefined && typeof v !== 'boolean' ? REDACTED : redact(v, depth + 1, seen);
  }
  return out;
}

export interface LoggerOptions {
  level?: LogLevel;
  /** Folder for daily files; none = no file. */
  dir?: string;
  filePrefix?: string;
  retainDays?: number;
  /** Extra sink for each line (console in the CLI, memory in tests). */
  sink?: (line: string, level: LogLevel) => void;
  clock?: Clock;
}

function localDay(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const clock = opts.clock ?? systemClock;
  const min = LEVELS[opts.level ?? 'info'];
  const prefix = opts.filePrefix ?? 'connecteur';
  let currentDay = '';
  let dirReady = false;

  function writeFile(line: string, now: Date) {
    if (!opts.dir) return;
    const day = localDay(now);
    try {
      if (!dirReady) {
        ensurePrivateDir(opts.dir);
        dirReady = true;
      }
      if (day !== currentDay) {
        currentDay = day;
        prune(day);
      }
      fs.appendFileSync(path.join(opts.dir, `${prefix}-${day}.log`), line + '\n', { mode: PRIVATE_FILE_MODE });
    } catch {
      /* logging must never break the app */
    }
  }

  function prune(today: string) {
    if (!opts.dir || !opts.retainDays) return;
    const limit = new Date(`${today}T00:00:00`);
    limit.setDate(limit.getDate() - opts.retainDays);
    const re = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-(\\d{4}-\\d{2}-\\d{2})\\.log$`);
    for (const f of fs.readdirSync(opts.dir)) {
      const m = re.exec(f);
      if (m && new Date(`${m[1]}T00:00:00`) < limit) fs.rmSync(path.join(opts.dir, f), { force: true });
    }
  }

  function make(bindings: LogFields): Logger {
    const at = (level: LogLevel) => (msg: string, fields?: LogFields) => {
      if (LEVELS[level] < min) return;
      const now = clock.now();
      const record = redact({ ts: now.toISOString(), level, msg, ...bindings, ...(fields ?? {}) }) as Record<string, unknown>;
      let line: string;
      try {
        line = JSON.stringify(record);
      } catch {
        line = JSON.stringify({ ts: now.toISOString(), level, msg: redactText(msg) });
      }
      writeFile(line, now);
      opts.sink?.(line, level);
    };
    return {
      debug: at('debug'),
      info: at('info'),
      warn: at('warn'),
      error: at('error'),
      child: (b) => make({ ...bindings, ...b }),
    };
  }
  return make({});
}
