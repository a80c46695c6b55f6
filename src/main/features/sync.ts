/**
 * Sync, journal, employee mapping and schedule as an app feature (see AppFeature in ../app.ts):
 * sync.run / cancel / status, journal.list / get / exportCsv, mapping.get / save, schedule.get / set.
 *
 * The feature holds ONE sync runtime (engine + Batigest gateway + BatiSimply client + buffer), built
 * lazily from the settings and rebuilt when the connection settings change — never under a running
 * sync: the rebuild then waits for the end of the run. The scheduler runs through the same path as the
 * buttons, so scheduled runs send the same progress and status events. The licence guard is asked
 * before every run (manual or scheduled).
 */
import type { AppContext, AppFeature, AppFeatureInstance } from '../app.js';
import type { JournalItem, MappingUser, MappingView, RunSummary as UiRunSummary, ScheduleView, SyncStatus } from '../../shared/contract.js';
import type { ProgressEvent, Salarie, SyncFlow } from '../../shared/domain.js';
import { AppError, toAppError } from '../../shared/errors.js';
import { suggestMappings } from '../../shared/mapping-suggest.js';
import type { Settings } from '../../shared/settings.js';
import { fr } from '../../shared/strings.fr.js';
import { BatigestGateway } from '../services/batigest/index.js';
import { JournalQueries, type JournalItemRow, type UiAction } from '../services/buffer/journal.js';
import { openBuffer } from '../services/buffer/index.js';
import type { BufferStore, FlowName, RunRow, RunStatus as BufferRunStatus } from '../services/buffer/store.js';
import { Scheduler, type Timers } from '../services/scheduler/scheduler.js';
import type { RunOptions, RunSummary as EngineRunSummary, SyncHooks } from '../services/sync/engine.js';
import { createSyncRuntime, type SyncRuntime } from '../services/sync/runtime.js';

export interface SyncLicenceGuard {
  assertSyncAllowed(): Promise<unknown>;
  /** Current answer without any network call (sync.status); absent = ask assertSyncAllowed. */
  allowsSync?(): boolean;
}

export interface SyncFeatureOptions {
  licence?: SyncLicenceGuard;
  /** Tray notification of scheduled results (the shell passes it). */
  notify?(title: string, body: string): void;
  /** Lets the connections feature reuse the open buffer (an embedded folder cannot be opened twice). */
  shared?: SharedBuffer;
  /** Tests: engine checkpoints (pause a run at a known point). */
  hooks?: SyncHooks;
  /** Tests: scheduler timers. */
  timers?: Timers;
}

/** An open buffer, as the connections feature's `openBuffer` option wants it. */
export interface OpenBufferHandle {
  settings: Settings['buffer'];
  query(sql: string): Promise<unknown[]>;
}

/**
 * Filled by the sync feature: the app's own buffer when `s` is the embedded folder it uses (opening it
 * if needed), else null. The connections feature asks it before opening an embedded folder itself.
 */
export interface SharedBuffer {
  bufferFor?: (s: Settings['buffer']) => Promise<OpenBufferHandle | null>;
}

const sameEmbedded = (a: Settings['buffer'], b: Settings['buffer']): boolean =>
  a.kind === 'embedded' && b.kind === 'embedded' && (a.embeddedPath || '') === (b.embeddedPath || '');

type EngineFlow = FlowName | 'all';

interface ActiveRun {
  /** Flow asked for (push, hours or all). */
  requested: EngineFlow;
  controller: AbortController;
  runId: string | null;
  flow: FlowName | null;
  startedAt: string | null;
  progress: ProgressEvent | null;
  runIds: Set<string>;
  /** Runs of this request that have ended (an 'all' request runs push, then hours). */
  ended: Set<string>;
  /** Its last run has ended (the request is only cleaning up). */
  finished: boolean;
  done: Promise<unknown>;
}

const UI_STATUS: Record<BufferRunStatus, UiRunSummary['status']> = {
  running: 'running',
  succeeded: 'success',
  partial: 'partial',
  failed: 'failed',
  cancelled: 'cancelled',
  interrupted: 'failed',
};

const UI_TRIGGERS = new Set(['manual', 'schedule', 'cli', 'startup']);

/** Contract status filter → buffer statuses. */
function bufferStatuses(s: UiRunSummary['status'] | undefined): BufferRunStatus[] | undefined {
  if (!s) return undefined;
  if (s === 'success') return ['succeeded'];
  if (s === 'failed') return ['failed', 'interrupted'];
  return [s];
}

/** Buffer record key (`chantier:00000101`, `slot:42`, `user:<uuid>`, `suivimo:A|B|day`…) → kind and key for the UI. */
function splitKey(recordKey: string): { kind: JournalItem['kind']; key: string } {
  const i = recordKey.indexOf(':');
  const prefix = i >= 0 ? recordKey.slice(0, i) : '';
  const rest = i >= 0 ? recordKey.slice(i + 1) : recordKey;
  switch (prefix) {
    case 'chantier':
      return { kind: 'chantier', key: rest };
    case 'devis':
      return { kind: 'devis', key: rest };
    case 'slot':
    case 'slots':
      return { kind: 'timeslot', key: rest };
    case 'suivimo':
      return { kind: 'timeslot', key: rest.split('|').join('/') };
    case 'user':
      return { kind: 'salarie', key: rest };
    case 'import':
      return { kind: 'import', key: rest };
    default:
      return { kind: 'project', key: recordKey };
  }
}

// ------------------------------------------------------------------------------------------ CSV

/** One CSV cell: quoted, inner quotes doubled, and a leading = + - @ (or tab/CR) neutralised so a spreadsheet never runs it. */
export function csvCell(v: string | number | null | undefined): string {
  let s = v === null || v === undefined ? '' : String(v);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function toCsv(header: string[], rows: (string | number | null)[][]): string {
  const lines = [header, ...rows].map((r) => r.map(csvCell).join(';'));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

/** Local date-time for the CSV and file names (the journal's reader is in France). */
function localStamp(iso: string | null, tz: string): string {
  if (!iso) return '';
  try {
    return new Intl.DateTimeFormat('fr-FR', { timeZone: tz, dateStyle: 'short', timeStyle: 'medium' }).format(new Date(iso));
  } catch {
    return iso;
  }
}

// ------------------------------------------------------------------------------------------ feature

export function syncFeature(opts: SyncFeatureOptions = {}): AppFeature {
  return (ctx: AppContext): AppFeatureInstance => {
    const log = ctx.logger.child({ feature: 'sync' });
    const connectionKey = (s: Settings) => JSON.stringify([s.sqlServer, s.buffer, s.batisimply, s.mode, s.machineName]);

    // ---- runtime (lazy, rebuilt on connection settings change, never under a run) ----
    // The buffer is kept apart: it is reopened only when the buffer settings change (opening an
    // embedded buffer takes seconds), while the gateway and the client follow every other change.
    let runtime: SyncRuntime | null = null;
    let building: Promise<SyncRuntime> | null = null;
    let builtFor = '';
    let buffer: { store: BufferStore; settings: Settings['buffer']; key: string } | null = null;
    /** Runs holding the current runtime: it is never closed under them. */
    let holders = 0;
    let disposed = false;
    const active = new Set<ActiveRun>();

    const closeBuffer = async (): Promise<void> => {
      const old = buffer;
      buffer = null;
      await old?.store.db.close().catch((e: unknown) => log.warn('closing the buffer failed', { detail: toAppError(e).detail }));
    };

    /** Leases held by the engines this feature builds (one set for all its runtimes, see SyncEngineDeps.localLeases). */
    const localLeases = new Set<string>();

    const build = async (): Promise<SyncRuntime> => {
      const s = ctx.settings.get();
      const bufferKey = JSON.stringify(s.buffer);
      if (buffer && buffer.key !== bufferKey) await closeBuffer();
      if (!buffer) buffer = { store: await openBuffer(s.buffer, ctx.userDataDir), settings: s.buffer, key: bufferKey };
      const rt = await createSyncRuntime({
        settings: () => ctx.settings.get(),
        userDataDir: ctx.userDataDir,
        logger: ctx.logger.child({ service: 'sync' }),
        clock: ctx.clock,
        machineName: ctx.machineName(),
        buffer: buffer.store,
        localLeases,
        ...(opts.licence ? { licence: opts.licence } : {}),
        ...(opts.hooks ? { hooks: opts.hooks } : {}),
      });
      builtFor = connectionKey(s);
      rt.engine.events.on('finished', (summary: EngineRunSummary) => void announceEnd(rt, summary));
      return rt;
    };

    /** The current runtime closed for a rebuild, when stale and unused (the gateway/client; the buffer only if its settings changed). */
    const closeIfStale = async (): Promise<void> => {
      if (!runtime || holders > 0 || builtFor === connectionKey(ctx.settings.get())) return;
      const old = runtime;
      runtime = null;
      await old.close().catch((e: unknown) => log.warn('closing the sync runtime failed', { detail: toAppError(e).detail }));
      if (buffer && buffer.key !== JSON.stringify(ctx.settings.get().buffer) && !runtime && !building) await closeBuffer();
    };

    /**
     * The runtime for the current settings (built on first use). `hold` = for a run: counted until
     * `release()`, so that a settings change never closes it under the run (it is rebuilt after).
     */
    const getRuntime = async (hold = false): Promise<SyncRuntime> => {
      for (;;) {
        if (disposed) throw new AppError('CANCELLED', "Le connecteur s'arrête.");
        if (runtime) {
          if (builtFor === connectionKey(ctx.settings.get()) || holders > 0) {
            if (hold) holders++;
            return runtime;
          }
          await closeIfStale();
          continue;
        }
        building ??= build()
          .then((rt) => (runtime = rt))
          .finally(() => {
            building = null;
          });
        await building;
      }
    };
    const release = async (): Promise<void> => {
      holders--;
      await closeIfStale();
    };

    const closeRuntime = async (): Promise<void> => {
      if (building) await building.catch(() => undefined);
      const old = runtime;
      runtime = null;
      await old?.close().catch((e: unknown) => log.warn('closing the sync runtime failed', { detail: toAppError(e).detail }));
      await closeBuffer();
    };

    const journal = async () => new JournalQueries((await getRuntime()).buffer.db);

    if (opts.shared) {
      opts.shared.bufferFor = async (s) => {
        if (building) await building.catch(() => undefined);
        const handle = (b: { store: BufferStore; settings: Settings['buffer'] }): OpenBufferHandle => ({ settings: b.settings, query: (sql) => b.store.db.query(sql) });
        if (buffer) return sameEmbedded(buffer.settings, s) ? handle(buffer) : null;
        if (!sameEmbedded(ctx.settings.get().buffer, s)) return null;
        await getRuntime();
        return buffer ? handle(buffer) : null;
      };
    }
    // Open the buffer now rather than on the first question (creating an embedded one takes seconds).
    void getRuntime().catch((e: unknown) => log.warn('the sync runtime could not be prepared at start', { code: toAppError(e).code }));

    // ---- mapping of buffer rows to the contract ----
    const toUiRun = (r: RunRow): UiRunSummary => ({
      id: r.id,
      flow: r.flow,
      // The mode recorded when the run started (null for runs recorded before the buffer kept it).
      mode: r.flow === 'push' ? (r.mode ?? null) : null,
      trigger: (UI_TRIGGERS.has(r.trigger) ? r.trigger : r.trigger === 'demo' ? 'cli' : 'manual') as UiRunSummary['trigger'],
      machineName: r.machine,
      status: UI_STATUS[r.status],
      startedAt: r.started_at.toISOString(),
      endedAt: r.ended_at?.toISOString() ?? null,
      counts: { created: r.created, updated: r.updated, unchanged: r.unchanged, skipped: r.skipped, failed: r.failed },
      message: r.message,
    });
    const toUiItem = (r: JournalItemRow): JournalItem => {
      const { kind, key } = splitKey(r.record_key);
      return { id: String(r.id), kind, key, label: r.label, action: r.ui_action, reason: r.reason, code: null, at: r.at.toISOString() };
    };

    // ---- status ----
    const currentRun = (): SyncStatus['running'] => {
      let best: ActiveRun | null = null;
      for (const a of active) if (a.runId && !a.ended.has(a.runId) && (!best || (a.startedAt ?? '') > (best.startedAt ?? ''))) best = a;
      if (!best || !best.runId || !best.flow) return null;
      return { runId: best.runId, flow: best.flow, startedAt: best.startedAt ?? ctx.clock.now().toISOString(), progress: best.progress };
    };
    const syncAllowed = async (): Promise<boolean> => {
      if (!opts.licence) return true;
      if (opts.licence.allowsSync) return opts.licence.allowsSync();
      try {
        await opts.licence.assertSyncAllowed();
        return true;
      } catch {
        return false;
      }
    };

    // ---- scheduler ----
    let lastNotice = '';
    const scheduler = new Scheduler({
      engine: {
        run: (flow, o) => execute(flow, o?.trigger === 'schedule' ? 'schedule' : 'manual'),
        get running() {
          return [...active].map((a) => a.flow ?? (a.requested === 'all' ? 'push' : a.requested));
        },
      },
      settings: () => ctx.settings.get(),
      clock: ctx.clock,
      logger: ctx.logger.child({ service: 'scheduler' }),
      ...(opts.timers ? { timers: opts.timers } : {}),
      ...(opts.licence ? { licence: opts.licence } : {}),
      onResult: ({ summaries, error }) => {
        emitStatus(null);
        let text = '';
        if (error && error.code !== 'BUFFER_LOCKED' && error.code !== 'SYNC_ALREADY_RUNNING') text = error.message;
        else if (!error) {
          const bad = summaries.filter((x) => x.status === 'failed' || x.status === 'partial');
          text = bad.map((x) => x.message).join(' ');
        }
        if (text && text !== lastNotice) opts.notify?.('Synchronisation planifiée incomplète', text);
        lastNotice = text;
      },
    });
    let scheduleKey = JSON.stringify(ctx.settings.get().schedule);
    scheduler.start();

    const emitStatus = (lastRun: UiRunSummary | null): void => {
      ctx.emit('sync:status', { running: currentRun(), lastRun, nextRunAt: scheduler.nextRunAt?.toISOString() ?? null });
    };

    // ---- running a flow ----
    const conflicts = (a: EngineFlow, b: EngineFlow) => a === 'all' || b === 'all' || a === b;

    /**
     * Runs a flow through the engine; resolves with the summaries at the end. `started` resolves with
     * the first run id as soon as the run exists (or rejects when it is refused before starting).
     */
    function launch(flow: EngineFlow, trigger: RunOptions['trigger']): { started: Promise<string>; done: Promise<EngineRunSummary[]> } {
      let resolveStarted!: (id: string) => void;
      let rejectStarted!: (e: unknown) => void;
      const started = new Promise<string>((res, rej) => {
        resolveStarted = res;
        rejectStarted = rej;
      });
      const run: ActiveRun = {
        requested: flow,
        controller: new AbortController(),
        runId: null,
        flow: null,
        startedAt: null,
        progress: null,
        runIds: new Set(),
        ended: new Set(),
        finished: false,
        done: Promise.resolve(),
      };
      let lastProgressEmit = 0;
      const onProgress = (e: ProgressEvent): void => {
        const isNew = run.runId !== e.runId;
        if (isNew) {
          run.runId = e.runId;
          run.flow = e.flow;
          run.startedAt = ctx.clock.now().toISOString();
          run.runIds.add(e.runId);
          resolveStarted(e.runId);
        }
        run.progress = e;
        if (isNew) emitStatus(null);
        const now = Date.now();
        if (isNew || now - lastProgressEmit >= 100 || (e.total !== null && e.done >= e.total)) {
          lastProgressEmit = now;
          ctx.emit('sync:progress', e);
        }
      };
      const done = (async (): Promise<EngineRunSummary[]> => {
        for (const a of active) {
          if (!a.finished && conflicts(a.requested, flow)) {
            throw new AppError('SYNC_ALREADY_RUNNING', 'Une synchronisation est déjà en cours sur ce poste. Attendez la fin de l’exécution ou annulez-la.');
          }
        }
        active.add(run);
        try {
          if (opts.licence) await opts.licence.assertSyncAllowed();
          const rt = await getRuntime(true);
          try {
            return await rt.engine.run(flow, { signal: run.controller.signal, trigger, onProgress });
          } finally {
            await release();
          }
        } finally {
          active.delete(run);
        }
      })();
      run.done = done.catch(() => undefined);
      done.then(
        async (summaries) => {
          for (const x of summaries) run.ended.add(x.runId);
          if (summaries[0]) resolveStarted(summaries[0].runId);
          else rejectStarted(new AppError('CANCELLED', 'Synchronisation annulée avant son démarrage.'));
        },
        async (e: unknown) => {
          rejectStarted(e);
          if (run.runIds.size > 0) {
            log.warn('sync run ended with an error after it started', { code: toAppError(e).code });
            emitStatus(null);
          }
        },
      );
      return { started, done };
    }

    /** A run ended (engine event): announce it with its journal line. */
    async function announceEnd(rt: SyncRuntime, summary: EngineRunSummary): Promise<void> {
      for (const a of active) {
        if (!a.runIds.has(summary.runId)) continue;
        a.ended.add(summary.runId);
        if (a.requested !== 'all' || summary.flow === 'hours') a.finished = true;
      }
      let last: UiRunSummary | null = null;
      try {
        const row = await rt.buffer.getRun(summary.runId);
        if (row) last = toUiRun(row);
      } catch (e) {
        log.warn('reading the finished run failed', { detail: toAppError(e).detail });
      }
      emitStatus(last);
    }

    /** Scheduler path: the whole run, summaries at the end. */
    async function execute(flow: EngineFlow, trigger: RunOptions['trigger']): Promise<EngineRunSummary[]> {
      const { started, done } = launch(flow, trigger);
      started.catch(() => undefined);
      return done;
    }

    // ---- mapping ----
    async function gatewayOf(rt: SyncRuntime): Promise<BatigestGateway> {
      if (rt.batigest instanceof BatigestGateway) return rt.batigest;
      throw new AppError('NOT_CONFIGURED', "La correspondance des salariés n'est pas disponible avec cette source de données.");
    }

    async function mappingView(): Promise<MappingView> {
      const rt = await getRuntime();
      const gw = await gatewayOf(rt);
      const settings = ctx.settings.get();
      const [salaries, codebs] = await Promise.all([gw.readSalaries(), gw.codebsStatus()]);
      let usersError: string | null = null;
      let listed: Awaited<ReturnType<SyncRuntime['batisimply']['listUsers']>> = [];
      try {
        listed = await rt.batisimply.listUsers();
      } catch (e) {
        const err = toAppError(e);
        usersError = `La liste des utilisateurs BatiSimply n'a pas pu être lue : ${err.message}`;
        log.warn('listing BatiSimply users failed', { code: err.code });
      }
      const since = new Date(ctx.clock.now().getTime() - settings.hours.windowDays * 86_400_000);
      const seen = await new JournalQueries(rt.buffer.db).slotUsers(since);
      const mappedTo = new Map<string, string>();
      for (const s of salaries) if (s.codebs && s.codebs.trim()) mappedTo.set(s.codebs.trim().toLowerCase(), s.code);
      const seenById = new Map(seen.map((r) => [r.user_id.toLowerCase(), r]));

      const users: MappingUser[] = [];
      const add = (u: { id: string; firstName?: string | null; lastName?: string | null; email?: string | null; login?: string | null }, fromTimeSlotsOnly: boolean) => {
        const id = u.id;
        const m = mappedTo.get(id.toLowerCase()) ?? null;
        const w = seenById.get(id.toLowerCase());
        const name = [u.firstName, u.lastName].filter((x) => x && x.trim()).join(' ').trim();
        users.push({
          id,
          displayName: name || u.email || u.login || id,
          firstName: u.firstName ?? null,
          lastName: u.lastName ?? null,
          email: u.email ?? null,
          mappedTo: m,
          hoursWaiting: m || !w ? 0 : Math.round((w.minutes_waiting / 60) * 100) / 100,
          slotsWaiting: m || !w ? 0 : w.slots_waiting,
          fromTimeSlotsOnly,
        });
      };
      const listedIds = new Set<string>();
      for (const u of listed) {
        listedIds.add(u.id.toLowerCase());
        add(u, false);
      }
      for (const r of seen) {
        if (listedIds.has(r.user_id.toLowerCase())) continue;
        add({ id: r.user_id, firstName: r.first_name, lastName: r.last_name, email: r.email }, true);
      }
      users.sort((a, b) => b.hoursWaiting - a.hoursWaiting || a.displayName.localeCompare(b.displayName, 'fr'));
      const suggestions = suggestMappings(
        salaries.map((s: Salarie) => ({ code: s.code, nom: s.nom, prenom: s.prenom, codebs: s.codebs })),
        users.map((u) => ({ id: u.id, firstName: u.firstName, lastName: u.lastName, email: u.email, mappedTo: u.mappedTo })),
      );
      return { salaries, users, suggestions, codebs, usersError };
    }

    // ---- schedule ----
    const scheduleView = async (): Promise<ScheduleView> => {
      let lastRunAt = scheduler.state().lastRunAt;
      // From the journal when the buffer is already open (the settings page never waits for it to open).
      if (!lastRunAt && buffer) {
        try {
          lastRunAt = (await new JournalQueries(buffer.store.db).lastRunAt('schedule'))?.toISOString() ?? null;
        } catch (e) {
          log.warn('reading the last scheduled run failed', { detail: toAppError(e).detail });
        }
      }
      return { ...ctx.settings.get().schedule, nextRunAt: scheduler.nextRunAt?.toISOString() ?? null, lastRunAt };
    };
    const applySchedule = (s: Settings): void => {
      const key = JSON.stringify(s.schedule);
      if (key === scheduleKey) return;
      scheduleKey = key;
      scheduler.reschedule();
      emitStatus(null);
    };

    const instance: AppFeatureInstance = {
      handlers: {
        'sync.run': async ({ flow }: { flow: SyncFlow }) => {
          const { started } = launch(flow, 'manual');
          return { runId: await started };
        },
        'sync.cancel': (input) => {
          const wanted = input?.runId;
          let cancelled = false;
          for (const a of active) {
            if (wanted && !a.runIds.has(wanted)) continue;
            a.controller.abort();
            cancelled = true;
          }
          return { cancelled };
        },
        'sync.status': async () => {
          let lastRuns: UiRunSummary[] = [];
          try {
            lastRuns = (await (await getRuntime()).buffer.listRuns(10)).map(toUiRun);
          } catch (e) {
            log.warn('reading the last runs failed', { detail: toAppError(e).detail });
          }
          return {
            running: currentRun(),
            lastRuns,
            nextRunAt: scheduler.nextRunAt?.toISOString() ?? null,
            scheduleEnabled: ctx.settings.get().schedule.enabled,
            syncAllowed: await syncAllowed(),
          };
        },

        'journal.list': async (input) => {
          const page = input?.page ?? 1;
          const pageSize = input?.pageSize ?? 50;
          const { rows, total } = await (
            await journal()
          ).listRuns(
            {
              ...(input?.flow && input.flow !== 'all' ? { flow: input.flow } : {}),
              ...(input?.status ? { statuses: bufferStatuses(input.status) } : {}),
              ...(input?.from ? { fromDay: input.from } : {}),
              ...(input?.to ? { toDay: input.to } : {}),
              timezone: ctx.settings.get().hours.timezone,
            },
            { limit: pageSize, offset: (page - 1) * pageSize },
          );
          return { runs: rows.map(toUiRun), total, page, pageSize };
        },
        'journal.get': async ({ runId, action, page, pageSize }) => {
          const rt = await getRuntime();
          const row = await rt.buffer.getRun(runId);
          if (!row) throw new AppError('INVALID_INPUT', 'Cette synchronisation est introuvable dans le journal : actualisez la liste.');
          const { rows, total } = await new JournalQueries(rt.buffer.db).listItems(runId, {
            ...(action ? { uiActions: [action as UiAction] } : {}),
            limit: pageSize,
            offset: (page - 1) * pageSize,
          });
          return { run: toUiRun(row), items: rows.map(toUiItem), totalItems: total };
        },
        'journal.exportCsv': async (input) => {
          const rt = await getRuntime();
          const q = new JournalQueries(rt.buffer.db);
          const tz = ctx.settings.get().hours.timezone;
          const software = fr.flows;
          const label = ctx.settings.get().software === 'codial' ? 'Codial' : 'Sage Batigest';
          const flowLabel = (f: FlowName) => software[f](label);
          const day = new Intl.DateTimeFormat('fr-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ctx.clock.now());
          if (input?.runId) {
            const run = await rt.buffer.getRun(input.runId);
            if (!run) throw new AppError('INVALID_INPUT', 'Cette synchronisation est introuvable dans le journal : actualisez la liste.');
            const ui = toUiRun(run);
            const { rows } = await q.listItems(input.runId, { limit: 100_000, offset: 0 });
            const csv = toCsv(
              ['Synchronisation', 'Flux', 'Poste', 'Début', 'Résultat', 'Date', 'Type', 'Référence', 'Libellé', 'Action', 'Motif'],
              rows.map((r) => {
                const it = toUiItem(r);
                return [run.id, flowLabel(run.flow), run.machine, localStamp(ui.startedAt, tz), fr.runStatus[ui.status], localStamp(it.at, tz), it.kind, it.key, it.label, fr.actions[it.action], it.reason];
              }),
            );
            return { fileName: `journal-${day}-${run.id.slice(0, 8)}.csv`, csv };
          }
          const { rows } = await q.listRuns(
            {
              ...(input?.flow && input.flow !== 'all' ? { flow: input.flow } : {}),
              ...(input?.status ? { statuses: bufferStatuses(input.status) } : {}),
              ...(input?.from ? { fromDay: input.from } : {}),
              ...(input?.to ? { toDay: input.to } : {}),
              timezone: tz,
            },
            { limit: 100_000, offset: 0 },
          );
          const csv = toCsv(
            ['Synchronisation', 'Flux', 'Déclenchement', 'Poste', 'Début', 'Fin', 'Résultat', 'Créés', 'Mis à jour', 'Inchangés', 'Ignorés', 'En échec', 'Message'],
            rows.map((r) => {
              const ui = toUiRun(r);
              return [
                r.id,
                flowLabel(r.flow),
                fr.trigger[ui.trigger],
                r.machine,
                localStamp(ui.startedAt, tz),
                localStamp(ui.endedAt, tz),
                fr.runStatus[ui.status],
                r.created,
                r.updated,
                r.unchanged,
                r.skipped,
                r.failed,
                r.message,
              ];
            }),
          );
          return { fileName: `journal-${day}.csv`, csv };
        },

        'mapping.get': () => mappingView(),
        'mapping.save': async ({ entries }) => {
          const rt = await getRuntime();
          const gw = await gatewayOf(rt);
          // Removals first, so that moving a user from one salarié to another never trips over itself.
          const ordered = [...entries.filter((e) => e.userId === null), ...entries.filter((e) => e.userId !== null)];
          let saved = 0;
          for (const e of ordered) {
            await gw.writeEmployeeMapping(e.salarieCode, e.userId);
            saved++;
          }
          try {
            await rt.refreshEmployeeMapping();
          } catch (e) {
            log.warn('refreshing the employee mapping cache failed', { code: toAppError(e).code });
          }
          return { saved, mapping: await mappingView() };
        },

        'schedule.get': () => scheduleView(),
        'schedule.set': async (patch) => {
          ctx.settings.update({ schedule: patch });
          applySchedule(ctx.settings.get());
          return scheduleView();
        },
      },
      onSettingsChanged: async (s) => {
        applySchedule(s);
        if (connectionKey(s) !== builtFor) await closeIfStale();
      },
      dispose: async () => {
        disposed = true;
        scheduler.stop();
        for (const a of active) a.controller.abort();
        await Promise.all([...active].map((a) => a.done));
        await closeRuntime();
      },
    };
    return instance;
  };
}
