/**
 * The one interface between the sync engine and its flows. The engine owns the run (licence, lease, journal,
 * cancellation, progress, checkpoints, retries); a flow only says what to read, decide and write. A flow lives in
 * its own folder under flows/ (a pure planner and a thin executor) and is registered in flows/index.ts; it imports
 * this module, model.ts, journal-text.ts and the ports, never the engine.
 */
import type { Settings } from '../../../shared/settings.js';
import type { BufferStore } from '../buffer/store.js';
import type { BatigestPort, BatisimplyPort, Clock, ImportsPorts, Logger } from '../ports.js';
import type { CheckpointName, FlowName, RunCounts, RunItemInput } from './model.js';

/** What a flow reads and writes through. */
export interface FlowPorts {
  batigest: BatigestPort;
  batisimply: BatisimplyPort;
  buffer: BufferStore;
  clock: Clock;
  logger: Logger;
  /** The import agent's ports (exports API, files); absent where the module is not wired (some tests). */
  imports?: ImportsPorts;
}

/** One run of one flow, as the engine hands it over. */
export interface FlowContext {
  readonly runId: string;
  /** The settings read when the run started (the same for the whole run). */
  readonly settings: Settings;
  /** The software's name for the user: 'Sage Batigest' or 'Codial'. */
  readonly sw: string;
  /** Fires on cancellation (user, shutdown): check it between steps (throwIfCancelled). */
  readonly signal: AbortSignal;
  readonly ports: FlowPorts;
  /** The run's counts, kept by the flow, persisted and shown by the engine. */
  readonly counts: RunCounts;
  /** The run's journal lines (one per item that deserves a word), written by the engine with the run. */
  readonly journal: RunItemInput[];
  /** Progress for the UI/CLI; also renews the lease and saves the counts now and then (may throw BUFFER_LOCKED). */
  progress(phase: string, label: string, done: number, total: number | null, current: string | null): Promise<void>;
  /**
   * Call right before each external write (BatiSimply create/update, SuiviMO batch): the run's lease is still
   * this run's (same generation) and is extended; else throws SYNC_LEASE_LOST and the write must not be made.
   */
  confirmLease(): Promise<void>;
  /** A named point where crash tests pause or kill the process. */
  checkpoint(name: CheckpointName, key?: string): Promise<void>;
  /** In-run retries of SQL Server and buffer calls (deadlocks, timeouts), cancellable. */
  retry<T>(fn: () => Promise<T>): Promise<T>;
  /** BatiSimply calls: one attempt when the client already retries itself, else like `retry`. */
  retryBatisimply<T>(fn: () => Promise<T>): Promise<T>;
}

/** How a flow's run ended when it did not throw. */
export interface FlowOutcome {
  /** The run's message for the user (counts and what was left aside). */
  message: string;
  /** Work left undone that a rerun alone will not do (e.g. validated hours waiting for a salarié): the run is 'partial'. */
  leftUndone: boolean;
}

export interface FlowModule {
  readonly name: FlowName;
  /** The flow's name for the user, with the software's name (Sage Batigest or Codial). */
  label(sw: string): string;
  /** The sync mode journaled with the run, when the flow depends on it. */
  runMode?(settings: Settings): 'chantier' | 'devis' | null;
  /** False: `run('all')` leaves this flow out (an optional module with its own cycle, e.g. the import agent). */
  readonly inAll?: boolean;
  /** An opt-in flow: `run('all')` skips it while this says false (it may still be run by name). */
  enabled?(settings: Settings): boolean;
  run(ctx: FlowContext): Promise<FlowOutcome>;
}
