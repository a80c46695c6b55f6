/**
 * What the sync engine and its flows both need: flow names, run counts, keys, checkpoints, run options and
 * summaries. Neither side imports the other for these (SPEC §5): a flow imports this module, never the engine.
 */
import type { ProgressEvent } from '../../../shared/domain.js';
import type { FlowName, RunCounts, RunStatus } from '../buffer/store.js';

export type { FlowName, KeyRef, RunCounts, RunItemInput, RunStatus } from '../buffer/store.js';
export { keyString } from '../buffer/store.js';

export const emptyCounts = (): RunCounts => ({ created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0, conflicts: 0, writes: 0 });

/** Named points where tests can pause or kill the process (crash tests). */
export type CheckpointName =
  | 'run:started'
  | 'push:before-remote'
  | 'push:after-remote'
  | 'push:after-commit'
  | 'hours:after-intent'
  | 'hours:before-remote'
  | 'hours:after-remote'
  | 'hours:after-commit'
  | 'back:after-write'
  | ImportCheckpoint;

/** The import agent's checkpoints, in the order of one export's cycle (flows/imports, docs/crash-safety.md). */
export const IMPORT_CHECKPOINTS = [
  'imports:listed',
  'imports:after-seen',
  'imports:after-download',
  'imports:after-stage',
  'imports:after-reserve',
  'imports:after-intent',
  'imports:after-copy',
  'imports:after-handover',
  'imports:after-handed',
  'imports:after-consumed',
  'imports:after-mark-synced',
  'imports:after-archive',
  'imports:after-synced',
  'imports:after-withdraw-intent',
  'imports:after-withdraw',
  'imports:after-mark-error',
  'imports:after-errored',
] as const;
export type ImportCheckpoint = (typeof IMPORT_CHECKPOINTS)[number];

export interface SyncHooks {
  checkpoint?(name: CheckpointName, detail: { runId: string; key?: string }): void | Promise<void>;
}

export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (e: ProgressEvent) => void;
  trigger?: 'manual' | 'schedule' | 'cli' | 'demo';
  /**
   * Scheduled runs: the schedule's interval (ms). A flow whose scheduled run already ended (succeeded or partial) on
   * any PC of the buffer since the start of the current interval (intervals aligned on the clock; manual runs do
   * not count) is not run again
   * (SYNC_ALREADY_DONE; in 'all', the other flows still run).
   */
  oncePerMs?: number;
}

export interface RunSummary {
  runId: string;
  flow: FlowName;
  machine: string;
  status: RunStatus;
  startedAt: string;
  endedAt: string;
  /** `writes`: operations sent to the remote side (BatiSimply POST/PUT, SuiviMO ops). */
  counts: RunCounts;
  errorCode: string | null;
  message: string;
}
