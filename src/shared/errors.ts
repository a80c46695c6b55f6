/**
 * Typed errors shared by every layer.
 *
 * An AppError carries:
 *  - `code`: a stable machine code (see ErrorCode) that crosses the IPC boundary;
 *  - `message`: a French sentence for the user, saying what happened and what to do;
 *  - `detail`: technical detail for the log only (never shown raw to the user, never containing secrets).
 */
import { z } from 'zod';

export const ERROR_CODES = [
  // generic
  'INTERNAL',
  'INVALID_INPUT',
  'FORBIDDEN_SENDER',
  'UNKNOWN_CHANNEL',
  'CANCELLED',
  'TIMEOUT',
  'NOT_CONFIGURED',
  // settings
  'SETTINGS_CORRUPT',
  'SETTINGS_INVALID',
  'SECRET_UNAVAILABLE',
  // SQL Server / Batigest
  'SQL_HOST_UNREACHABLE',
  'SQL_INSTANCE_NOT_FOUND',
  'SQL_LOGIN_FAILED',
  'SQL_DATABASE_MISSING',
  'SQL_CERTIFICATE_REFUSED',
  'SQL_COLUMN_MISSING',
  'SQL_TABLE_MISSING',
  'SQL_DEADLOCK',
  'SQL_DUPLICATE_KEY',
  'SQL_ERROR',
  'CODEBS_COLUMN_MISSING',
  // buffer database
  'BUFFER_UNREACHABLE',
  'BUFFER_ERROR',
  'BUFFER_LOCKED',
  /** The buffer was migrated by a newer connector than this one (« mettez à jour ce poste »). */
  'BUFFER_SCHEMA_NEWER',
  // BatiSimply
  'BS_AUTH_FAILED',
  'BS_CLIENT_SECRET_INVALID',
  'BS_ACCOUNT_DISABLED',
  'BS_SSO_UNREACHABLE',
  'BS_API_UNREACHABLE',
  'BS_TLS_ERROR',
  'BS_RATE_LIMITED',
  'BS_SERVER_ERROR',
  'BS_BAD_RESPONSE',
  'BS_NOT_FOUND',
  'BS_CONFLICT',
  'BS_REQUEST_REJECTED',
  // licence
  'LICENSE_FORMAT',
  'LICENSE_INVALID',
  'LICENSE_EXPIRED',
  'LICENSE_DEACTIVATED',
  'LICENSE_MACHINE_LIMIT',
  'LICENSE_OFFLINE',
  'LICENSE_REQUIRED',
  'LICENSE_TAMPERED',
  // sync
  'SYNC_ALREADY_RUNNING',
  'SYNC_MODE_GUARD',
  /** Fencing: another PC took this flow's lease over while this one was frozen or cut off; the run stopped without writing. */
  'SYNC_LEASE_LOST',
  /** A scheduled run already done in this interval by a PC of the buffer (not an error: skipped). */
  'SYNC_ALREADY_DONE',
  'SYNC_FAILED',
  // imports agent
  'IMPORT_FAILED',
  'EXPORTS_UNREACHABLE',
  'EXPORTS_AUTH_FAILED',
  'EXPORTS_RATE_LIMITED',
  'EXPORTS_SERVER_ERROR',
  'EXPORTS_BAD_RESPONSE',
  'EXPORTS_NOT_FOUND',
  'EXPORTS_DOWNLOAD_CUT',
  'IMPORT_FOLDER_UNAVAILABLE',
  'DISK_FULL',
  // protection on a shared PC
  'PROTECTION_LOCKED',
  'PROTECTION_PIN_INVALID',
  // updates, diagnostics
  'UPDATE_FAILED',
  'DIAGNOSTIC_FAILED',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];
export const errorCodeSchema = z.enum(ERROR_CODES);

/** What crosses the IPC boundary when a call fails. */
export const serializedErrorSchema = z.object({
  code: errorCodeSchema,
  message: z.string(),
});
export type SerializedError = z.infer<typeof serializedErrorSchema>;

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Technical detail for the log; never shown raw to the user. */
  readonly detail: string | undefined;
  /** True when retrying the same operation later may succeed (network, 429, 5xx, deadlock…). */
  readonly retryable: boolean;

  constructor(
    code: ErrorCode,
    userMessage: string,
    options: { detail?: string; cause?: unknown; retryable?: boolean } = {},
  ) {
    super(userMessage, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = 'AppError';
    this.code = code;
    this.detail = options.detail;
    this.retryable = options.retryable ?? false;
  }

  toJSON(): SerializedError {
    return { code: this.code, message: this.message };
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}

/** Turns anything thrown into an AppError without leaking raw exception text to the user. */
export function toAppError(e: unknown, fallbackMessage = 'Une erreur inattendue est survenue. Consultez le journal pour le détail technique.'): AppError {
  if (e instanceof AppError) return e;
  const detail = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return new AppError('INTERNAL', fallbackMessage, { detail, cause: e });
}

/**
 * THE cancellation error (code CANCELLED): every service throws this one when its AbortSignal fires, so the
 * journal, the CLI (exit 130) and the UI recognise a cancellation whatever was running. `what` names the
 * operation for the user (a feminine noun: « Synchronisation », « Vérification de licence »).
 */
export function cancelledError(what = 'Opération', detail = 'cancelled by the caller'): AppError {
  return new AppError('CANCELLED', `${what} annulée à votre demande. Ce qui était déjà fait est enregistré ; relancez pour terminer.`, { detail });
}

/** Throws the cancellation error when `signal` has fired. */
export function throwIfCancelled(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw cancelledError(what);
}

/** The app is closing: work in progress stops (a cancellation the user did not ask for). */
export function shuttingDownError(): AppError {
  return new AppError('CANCELLED', "Le connecteur s'arrête : l'opération en cours est interrompue ; elle reprendra au prochain démarrage.", { detail: 'app shutting down' });
}
