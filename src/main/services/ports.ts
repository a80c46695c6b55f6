/**
 * Small interfaces that services depend on. Every service receives its dependencies through its
 * constructor (no singletons), so tests and the CLI can pass real implementations pointing at the
 * simulators, and the Electron shell can pass Electron-backed ones.
 */
import type {
  BatisimplyUser,
  ChantierFieldChange,
  ChantierSource,
  ConnectionDiagnosis,
  DevisSource,
  Project,
  ProjectInput,
  Salarie,
  SuiviMoKey,
  SuiviMoOp,
  SuiviMoRow,
  TimeSlot,
} from '../../shared/domain.js';
import type { CodebsStatus, DetectedTable } from '../../shared/contract.js';

export interface Clock {
  now(): Date;
}
export const systemClock: Clock = { now: () => new Date() };

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(bindings: LogFields): Logger;
}

/** Cancellation: services accept an AbortSignal and throw AppError('CANCELLED') when it fires. */
export type Cancellable = { signal?: AbortSignal };
/**
 * A write to BatiSimply or SQL Server made under a flow's lease: `confirm` (the lease is still this run's, else it
 * throws SYNC_LEASE_LOST) is called as late as possible — right before the HTTP request leaves, right before the
 * SQL Server COMMIT — so a PC frozen or cut off in between does not write once another PC took its flow over.
 */
export type FencedWrite = Cancellable & { confirm?: () => Promise<void> };

/** Encrypts secrets at rest (Electron safeStorage in the app, a Node implementation for CLI/tests). */
export interface SecretCipher {
  readonly available: boolean;
  encrypt(plain: string): string;
  decrypt(cipherText: string): string;
}

/** A Batigest row the gateway did not return (e.g. no code), with a French reason the engine can journal. */
export interface SkippedSourceRow {
  table: 'ChantierDef' | 'Devis' | 'Salarie';
  code: string | null;
  /** Name that helps the user find the row in Batigest (client, salarié), when known. */
  label: string | null;
  reason: string;
}

export type BatigestReadOptions = Cancellable & { pageSize?: number; onSkip?: (row: SkippedSourceRow) => void };

/** The Batigest (SQL Server) side, as the sync engine sees it. Implemented in services/batigest. */
export interface BatigestPort {
  testConnection(): Promise<ConnectionDiagnosis>;
  /** Pages through ChantierDef; each yielded array is one page. Rows without code go to `onSkip`, not to the pages. */
  readChantiers(opts?: BatigestReadOptions): AsyncIterable<ChantierSource[]>;
  /** Pages through Devis with Etat IN (0,3,4). */
  readDevis(opts?: BatigestReadOptions): AsyncIterable<DevisSource[]>;
  readSalaries(): Promise<Salarie[]>;
  /** Applies a batch of SuiviMO changes in one transaction with a bounded number of statements. */
  applySuiviMo(ops: SuiviMoOp[], opts?: FencedWrite): Promise<{ inserted: number; updated: number; deleted: number }>;
  readSuiviMo(keys: SuiviMoKey[]): Promise<SuiviMoRow[]>;
  /** Sold hours per chantier code: sum of TempsMO of its devis in these states (issue 18). */
  readDevisHours(states: readonly number[]): Promise<Map<string, number>>;
  /** Distinct Etat values of ChantierDef with their counts. */
  chantierEtatCounts(): Promise<{ value: string; count: number }[]>;
  /** Writes only these fields of these chantiers, in one transaction (opt-in write-back). */
  writeChantierFields(changes: readonly ChantierFieldChange[], opts?: FencedWrite): Promise<{ updated: number }>;
  close(): Promise<void>;
}

/**
 * The Batigest features used by setup and the employee-mapping page (not by the sync engine).
 * Implemented by services/batigest BatigestGateway.
 */
export interface BatigestSetupPort {
  testConnection(): Promise<ConnectionDiagnosis>;
  /** Column mapping report per table (detected, overrides, candidates, French warnings). */
  detectColumns(): Promise<DetectedTable[]>;
  readSalaries(): Promise<Salarie[]>;
  codebsStatus(): Promise<CodebsStatus>;
  /** Adds Salarie.codebs; only after the user's explicit confirmation. Idempotent. */
  createCodebsColumn(): Promise<CodebsStatus>;
  /** Maps a salarié to a BatiSimply user UUID (null removes it); the UUID is cleared from any other salarié. */
  writeEmployeeMapping(salarieCode: string, userId: string | null): Promise<{ cleared: number }>;
}

/** A time slot BatiSimply listed but that could not be read: its id when readable, and a French reason. */
export interface RejectedTimeSlot {
  id: string | null;
  reason: string;
  /** Identifies an item without readable id across listings (its JSON): the hours flow reports it once. */
  key?: string;
}

/** `onInvalid` is called once per unreadable slot, after the whole listing succeeded. */
export type TimeSlotListOptions = Cancellable & { onInvalid?: (slot: RejectedTimeSlot) => void };

/** The BatiSimply API, as the sync engine sees it. Implemented in services/batisimply. */
export interface BatisimplyPort {
  testConnection(): Promise<ConnectionDiagnosis>;
  listProjects(opts?: Cancellable): Promise<Project[]>;
  getProject(id: string, opts?: Cancellable): Promise<Project | null>;
  findProjectByCode(code: string, opts?: Cancellable): Promise<Project | null>;
  createProject(input: ProjectInput, opts?: FencedWrite): Promise<Project>;
  updateProject(id: string, input: ProjectInput, opts?: FencedWrite): Promise<Project>;
  /**
   * Time slots of the window. With `onInvalid`, a slot that cannot be read (missing field, wrong type) is reported
   * there and left out, the others are returned; without it, such a slot fails the whole listing (BS_BAD_RESPONSE).
   */
  listTimeSlots(window: { start: Date; end: Date }, opts?: TimeSlotListOptions): Promise<TimeSlot[]>;
  listUsers(opts?: Cancellable): Promise<BatisimplyUser[]>;
  /** Devis mode: posts a quote to /api/quote. Optional so test doubles may omit it. */
  createQuote?(input: Record<string, unknown>, opts?: Cancellable): Promise<{ id: string }>;
  /** Forgets per-run caches (projectCode index). Call at the start of a sync run. */
  clearCache?(): void;
  /**
   * True when the implementation already retries transient failures itself (the real client: maxRetries,
   * backoff, Retry-After): callers must then not wrap its calls in retries of their own.
   */
  readonly retriesInternally?: boolean;
  /** Call counters (benchmarks, journal). */
  apiStats?(): BatisimplyStats;
  close(): Promise<void>;
}

export interface BatisimplyStats {
  /** HTTP requests sent to the API, retries included. */
  apiCalls: number;
  /** Requests to the Keycloak token endpoint. */
  tokenRequests: number;
  retries: number;
  reauthentications: number;
  byRoute: Record<string, number>;
}

/**
 * The file operations of the import agent (flow 'imports'), behind a port so that tests inject failures (disk full,
 * read-only folder). Implemented over node:fs in services/sync/flows/imports/files.ts.
 */
export interface ImportFs {
  mkdir(dir: string): Promise<void>;
  exists(file: string): Promise<boolean>;
  /** Opens `file` for writing (created or truncated). */
  openWrite(file: string): Promise<{ write(chunk: Uint8Array): Promise<void>; sync(): Promise<void>; close(): Promise<void> }>;
  readFile(file: string): Promise<Buffer>;
  rename(from: string, to: string): Promise<void>;
  /** Removes a file; a file already gone is not an error. */
  unlink(file: string): Promise<void>;
  /** Flushes a folder's entries (after a rename) where the OS allows it. */
  syncDir(dir: string): Promise<void>;
  /** Throws (EACCES, EROFS, ENOENT…) when the folder cannot be written. */
  assertWritableDir(dir: string): Promise<void>;
  appendFile(file: string, text: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
}

/** What the import agent needs besides the common flow ports (built by the service factory). */
export interface ImportsPorts {
  /** A new exports API client for these settings; the flow closes it at the end of its run. */
  exports(settings: import('../../shared/settings.js').Settings): import('./exports/client.js').ExportsPort;
  fs: ImportFs;
  /** Work folder when `imports.workDir` is empty (`imports` in the connector's data folder). */
  defaultWorkDir: string;
  /** Agent id when `imports.agentId` is empty (generated for this machine). */
  defaultAgentId: string;
  /** How often the import folder is looked at while waiting for Batigest (ms; default 1000). */
  pollMs?: number;
  /** Told of each export put in error (desktop notification, e-mail). */
  onExportError?(e: { exportId: string; fileName: string; reason: string }): void;
}
