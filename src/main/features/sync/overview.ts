/**
 * status.overview and the 'status:overview' event: the facts the connector's state is computed from
 * (src/shared/connector-state.ts) — licence, settings completeness, schedule and pause, the run in
 * progress, the last finished run of each flow, and what waits for a person.
 *
 * What waits comes from « waiting sources », one function per concern reading the buffer: the hours flow's
 * slots (users without salarié, unknown chantiers) and every flow's items in failure. A later flow (imports)
 * adds its own source to WAITING_SOURCES and reports 'import_error' / 'import_waiting' groups: the state,
 * the « À traiter » list, the tray and the notification policy take them with no other change.
 *
 * The facts are pushed again (debounced, only when they changed) whenever a run starts or ends, the
 * schedule or the pause changes, the licence status changes, the settings change or the mapping is saved.
 */
import type { FlowFacts, Overview, WaitingGroup } from '../../../shared/contract.js';
import { toAppError, type AppError } from '../../../shared/errors.js';
import { SOFTWARE_LABELS, type Settings } from '../../../shared/settings.js';
import type { Handlers } from '../../ipc/router.js';
import type { BufferQueryable } from '../../services/buffer/db.js';
import { ImportStore } from '../../services/buffer/imports.js';
import { JournalQueries } from '../../services/buffer/journal.js';
import type { BufferStore, FlowName } from '../../services/buffer/store.js';
import { toContractLicenceStatus } from '../../services/licence/ipc-status.js';
import { activePause } from '../../services/scheduler/scheduler.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';
import { toUiRun } from './ui.js';

/** The flows shown by the overview: push and hours, and the import agent once it is turned on. */
const flowsOf = (s: Settings): readonly FlowName[] => (s.imports.enabled ? ['push', 'hours', 'imports'] : ['push', 'hours']);
const MAX_KEYS = 1000;

interface SourceInput {
  q: JournalQueries;
  db: BufferQueryable;
  settings: Settings;
  now: Date;
  flows: FlowFacts[];
}
/** One concern's groups of things waiting for a person. */
export type WaitingSource = (i: SourceInput) => Promise<WaitingGroup[]>;

/** Hours flow: validated slots waiting for a salarié, or for a chantier Batigest knows. */
const hoursSlots: WaitingSource = async ({ q, settings, now, flows }) => {
  const since = new Date(now.getTime() - settings.hours.windowDays * 86_400_000);
  const rows = await q.waitingSlots(since);
  const runId = flows.find((f) => f.flow === 'hours')?.lastRun?.id ?? null;
  const out: WaitingGroup[] = [];
  for (const kind of ['unmapped_user', 'unknown_chantier'] as const) {
    const mine = rows.filter((r) => r.state === kind);
    if (mine.length === 0) continue;
    const minutes = mine.reduce((n, r) => n + r.minutes, 0);
    out.push({
      kind,
      flow: 'hours',
      count: mine.length,
      keys: mine.slice(0, MAX_KEYS).map((r) => r.who),
      names: mine.slice(0, 10).map((r) => r.name ?? r.who),
      hours: Math.round((minutes / 60) * 100) / 100,
      slots: mine.reduce((n, r) => n + r.slots, 0),
      runId,
    });
  }
  return out;
};

/** Every flow: the items in failure of its last finished run (a failed run is a problem of its own). */
const failedItems: WaitingSource = async ({ q, flows }) => {
  const out: WaitingGroup[] = [];
  for (const f of flows) {
    // The import agent reports its exports in error itself (importErrors), with their reasons.
    if (f.flow === 'imports') continue;
    const r = f.lastRun;
    if (!r || r.status === 'failed' || r.counts.failed === 0) continue;
    const { keys, total } = await q.failedItemKeys(r.id, MAX_KEYS);
    if (total === 0) continue;
    const { rows } = await q.listItems(r.id, { uiActions: ['failed'], limit: 10, offset: 0 });
    out.push({ kind: 'failed_items', flow: f.flow, count: total, keys, names: rows.map((i) => i.label ?? i.record_key), hours: null, slots: null, runId: r.id });
  }
  return out;
};

/** Import agent: exports in error (Batigest did not take the file, file altered…), until « Réessayer » or a later success. */
const importErrors: WaitingSource = async ({ db, settings, flows }) => {
  if (!settings.imports.enabled) return [];
  const store = new ImportStore(db);
  const rows = await store.listErrored(MAX_KEYS);
  if (rows.length === 0) return [];
  const runId = flows.find((f) => f.flow === 'imports')?.lastRun?.id ?? null;
  return [{ kind: 'import_error', flow: 'imports', count: rows.length, keys: rows.map((r) => r.export_id), names: rows.slice(0, 10).map((r) => r.import_name), hours: null, slots: null, runId }];
};

/** The sources read for each overview, in this order (add a flow's own source here). */
export const WAITING_SOURCES: readonly WaitingSource[] = [hoursSlots, failedItems, importErrors];

/** What the settings still lack for a run (the licence is reported by the licence facts). */
export function missingSetup(s: Settings): Overview['setup']['missing'] {
  const out: Overview['setup']['missing'] = [];
  if (!s.sqlServer.server.trim() || !s.sqlServer.database.trim()) out.push('sqlServer');
  const b = s.batisimply;
  if (!b.clientId.trim() || (b.grantType === 'password' && !b.username.trim())) out.push('batisimply');
  return out;
}

export interface OverviewParts {
  handlers: Pick<Handlers, 'status.overview'>;
  /** Recomputes the facts and pushes 'status:overview' when they changed (coalesced). */
  refresh(): void;
  /** A scheduled attempt's outcome: an error before any run was journaled is a fact of its own. */
  noteAttempt(error: AppError | null): void;
  dispose(): void;
}

export function overviewParts(ctx: AppContext, jobs: SyncJobs, nextRunAt: () => string | null): OverviewParts {
  const log = ctx.logger.child({ feature: 'overview' });
  let lastAttempt: Overview['lastAttempt'] = null;
  let disposed = false;

  const licenceFacts = (s: Settings): Overview['licence'] => {
    try {
      const st = toContractLicenceStatus(ctx.services.licence().status());
      const guard = ctx.services.licenceGuard();
      const allowed = guard.allowsSync ? guard.allowsSync() : st.syncAllowed;
      return { state: st.state, syncAllowed: allowed, message: st.message, daysLeft: st.daysLeft, graceDaysLeft: st.graceDaysLeft, graceDays: s.licence.graceDays };
    } catch (e) {
      log.warn('licence status unavailable for the overview', { code: toAppError(e).code });
      return null;
    }
  };

  const journalFacts = async (s: Settings, now: Date): Promise<Pick<Overview, 'flows' | 'waiting' | 'bufferError' | 'journalKnown'>> => {
    const scheduled = (f: string) => (f === 'imports' ? s.schedule.enabled && s.imports.enabled : s.schedule.flows === 'all' || s.schedule.flows === f);
    const empty: FlowFacts[] = flowsOf(s).map((flow) => ({ flow, lastRun: null, lastSuccessAt: null, scheduled: scheduled(flow) }));
    // Never opens the buffer itself (the runtime does, once, for the current settings): an overview asked for
    // while it is still being opened says so, and comes again once it is open.
    let store: BufferStore | null;
    try {
      store = await jobs.openBuffer();
    } catch (e) {
      return { flows: empty, waiting: [], bufferError: toAppError(e).message, journalKnown: true };
    }
    if (!store) return { flows: empty, waiting: [], bufferError: jobs.lastOpenError(), journalKnown: jobs.lastOpenError() !== null };
    try {
      const q = new JournalQueries(store.db);
      const byFlow = new Map((await q.flowFacts()).map((r) => [r.flow, r]));
      const flows: FlowFacts[] = flowsOf(s).map((flow) => {
        const r = byFlow.get(flow);
        return { flow, lastRun: r ? toUiRun(r.last) : null, lastSuccessAt: r?.lastSuccessAt?.toISOString() ?? null, scheduled: scheduled(flow) };
      });
      const waiting: WaitingGroup[] = [];
      for (const source of WAITING_SOURCES) waiting.push(...(await source({ q, db: store.db, settings: s, now, flows })));
      return { flows, waiting, bufferError: null, journalKnown: true };
    } catch (e) {
      const err = toAppError(e);
      log.warn('reading the overview from the buffer failed', { code: err.code, detail: err.detail });
      return { flows: empty, waiting: [], bufferError: err.message, journalKnown: true };
    }
  };

  const facts = async (): Promise<Overview> => {
    const s = ctx.settings.get();
    const now = ctx.clock.now();
    const journal = await journalFacts(s, now);
    return {
      at: now.toISOString(),
      softwareLabel: SOFTWARE_LABELS[s.software],
      setup: { completed: s.setupCompleted, missing: missingSetup(s) },
      licence: licenceFacts(s),
      schedule: {
        enabled: s.schedule.enabled,
        intervalSeconds: s.schedule.intervalSeconds,
        nextRunAt: nextRunAt(),
        pausedUntil: activePause(s, now)?.toISOString() ?? null,
      },
      running: jobs.currentRun(),
      ...journal,
      lastAttempt,
    };
  };

  // Coalesced refresh: one computation at a time, one more if asked meanwhile; emitted only when changed.
  let inFlight: Promise<void> | null = null;
  let again = false;
  let lastJson = '';
  const run = async (): Promise<void> => {
    do {
      again = false;
      try {
        const o = await facts();
        const json = JSON.stringify({ ...o, at: '' });
        if (json !== lastJson && !disposed) {
          lastJson = json;
          ctx.emit('status:overview', o);
        }
      } catch (e) {
        log.warn('overview refresh failed', { detail: toAppError(e).detail });
      }
    } while (again && !disposed);
  };
  const refresh = (): void => {
    if (disposed) return;
    if (inFlight) {
      again = true;
      return;
    }
    inFlight = run().finally(() => {
      inFlight = null;
    });
  };
  const offLicence = ctx.on('licence:status', () => refresh());

  return {
    handlers: {
      // Asked for (the dashboard, the tray at start, the CLI): waits for the runtime to have opened the buffer.
      'status.overview': async () => {
        await jobs.getRuntime().catch(() => undefined);
        return facts();
      },
    },
    refresh,
    noteAttempt(error) {
      lastAttempt = error ? { at: ctx.clock.now().toISOString(), code: error.code, message: error.message } : null;
      refresh();
    },
    dispose() {
      disposed = true;
      offLicence();
    },
  };
}
