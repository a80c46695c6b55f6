/**
 * Dashboard: the connector's state (the same pure function as the tray, src/shared/connector-state.ts),
 * « À traiter » with a link to the page that fixes each thing, one status card per flow (« à jour — dernier
 * succès il y a 3 min, prochain à 10:45 » or what needs doing), the sync buttons with live progress,
 * « Annuler » and the pause, the connection cards (checked again after each job), and the last runs — a
 * « Tout synchroniser » shown as one job with its flows, live counts in the running row, each run opening
 * its detail in the journal.
 */
import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react';
import type { ConnectionDiagnosis, ProgressEvent, SyncFlow } from '../../shared/domain.js';
import type { Counts, LicenceStatus, NavTarget, Overview, PausePreset, RunSummary, SyncStatus } from '../../shared/contract.js';
import { connectorState, untilTime, type ConnectorState, type FlowCardKind, type Problem, type StateKind } from '../../shared/connector-state.js';
import { formatDateTime, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useEvent, useQuery } from '../lib/backend.js';
import { hrefOf } from '../lib/nav.js';
import { useFocusAfterRender, useThrottled } from '../lib/focus.js';
import { useNow } from '../lib/use-now.js';
import { ImportsCard } from '../components/imports-card.js';
import { useToast } from '../components/toast.js';
import { Button, Card, EmptyState, ErrorBanner, Loading, ProgressBar, StatusBadge, Table, WarnBanner, type Column, type Tone } from '../components/ui.js';
import { licenceLabel, licenceTone } from './licence.js';

type ConnKey = 'sql' | 'buffer' | 'bs';
type ConnState = { loading: boolean; diagnosis: ConnectionDiagnosis | null; error: string | null };

export const RUN_TONE: Record<RunSummary['status'], Tone> = {
  running: 'info',
  success: 'ok',
  partial: 'warn',
  failed: 'error',
  cancelled: 'neutral',
};

const STATE_TONE: Record<StateKind, Tone> = { ok: 'ok', running: 'info', attention: 'warn', error: 'error', paused: 'neutral', licence: 'error' };
const CARD_TONE: Record<FlowCardKind, Tone> = { ok: 'ok', running: 'info', attention: 'warn', error: 'error', never: 'neutral' };

export function flowLabel(flow: SyncFlow, software: string): string {
  return flow === 'all' ? fr.flows.all : fr.flows[flow](software);
}

/** "BatiSimply → Sage Batigest" wraps after the arrow only, never inside a product's name. */
function FlowCell({ label }: { label: string }) {
  const [from, to] = label.split(' → ');
  if (to === undefined) return <>{label}</>;
  return (
    <>
      <span className="nowrap">{from} →</span> <span className="nowrap">{to}</span>
    </>
  );
}

export function CountsLine({ counts }: { counts: Omit<Counts, 'conflicts' | 'writes'> }) {
  return (
    <span className="counts" data-testid="counts">
      {(Object.keys(fr.counts) as (keyof typeof fr.counts)[]).map((k) => (
        <span key={k} data-count={k}>
          {fr.counts[k]} : <b>{counts[k]}</b>
        </span>
      ))}
    </span>
  );
}

export function runColumns(software: string): Column<RunSummary>[] {
  return [
    { key: 'start', header: fr.journal.started, render: (r) => formatDateTime(r.startedAt) },
    { key: 'flow', header: fr.journal.flow, render: (r) => <FlowCell label={flowLabel(r.flow, software)} /> },
    { key: 'status', header: fr.journal.status, render: (r) => <StatusBadge tone={RUN_TONE[r.status]}>{fr.runStatus[r.status]}</StatusBadge> },
    { key: 'created', header: fr.counts.created, numeric: true, render: (r) => r.counts.created },
    { key: 'updated', header: fr.counts.updated, numeric: true, render: (r) => r.counts.updated },
    { key: 'unchanged', header: fr.counts.unchanged, numeric: true, render: (r) => r.counts.unchanged },
    { key: 'skipped', header: fr.counts.skipped, numeric: true, render: (r) => r.counts.skipped },
    { key: 'failed', header: fr.counts.failed, numeric: true, render: (r) => r.counts.failed },
    { key: 'machine', header: fr.journal.machine, render: (r) => r.machineName },
  ];
}

// ---------------------------------------------------------------------------------------------
// Runs grouped by job
// ---------------------------------------------------------------------------------------------

/** A row of the dashboard's runs table: a run alone, a « Tout synchroniser » job, or one flow of that job. */
export interface RunRow {
  key: string;
  kind: 'run' | 'job' | 'child';
  run: RunSummary;
  /** Job rows: how many flows it ran. */
  size?: number;
}

const WORST: RunSummary['status'][] = ['running', 'failed', 'partial', 'cancelled', 'success'];

/** Runs newest first → rows, the runs of one job together under a job row (push then hours). Pure. */
export function groupRuns(runs: RunSummary[]): RunRow[] {
  const out: RunRow[] = [];
  const done = new Set<string>();
  for (const r of runs) {
    if (!r.jobId) {
      out.push({ key: r.id, kind: 'run', run: r });
      continue;
    }
    if (done.has(r.jobId)) continue;
    done.add(r.jobId);
    const mine = runs.filter((x) => x.jobId === r.jobId).sort((a, b) => a.startedAt.localeCompare(b.startedAt));
    const sum = (k: keyof Counts) => mine.reduce((n, x) => n + x.counts[k], 0);
    const job: RunSummary = {
      ...mine[0]!,
      id: `job:${r.jobId}`,
      flow: 'all',
      status: WORST.find((s) => mine.some((x) => x.status === s)) ?? 'success',
      startedAt: mine[0]!.startedAt,
      endedAt: mine.some((x) => !x.endedAt) ? null : (mine.at(-1)!.endedAt ?? null),
      counts: { created: sum('created'), updated: sum('updated'), unchanged: sum('unchanged'), skipped: sum('skipped'), failed: sum('failed'), conflicts: sum('conflicts'), writes: sum('writes') },
      message: null,
    };
    out.push({ key: job.id, kind: 'job', run: job, size: mine.length });
    for (const x of mine) out.push({ key: x.id, kind: 'child', run: x });
  }
  return out;
}

/** The run in progress shows the counts of its progress events, not the ones last written to the journal. */
function withLive(runs: RunSummary[], running: SyncStatus['running'], progress: ProgressEvent | null): RunSummary[] {
  const p = progress && running && progress.runId === running.runId ? progress : (running?.progress ?? null);
  if (!running || !p) return runs;
  return runs.map((r) => (r.id === running.runId ? { ...r, status: 'running', counts: { ...r.counts, ...p.counts } } : r));
}

function rowColumns(software: string): Column<RunRow>[] {
  const base = runColumns(software);
  return base.map((c) =>
    c.key === 'flow'
      ? {
          ...c,
          render: (row: RunRow) =>
            row.kind === 'job' ? (
              <strong>{fr.dashboard.jobOf(row.size ?? 2)}</strong>
            ) : row.kind === 'child' ? (
              <span className="child-flow">
                <span aria-hidden="true">↳ </span>
                <FlowCell label={flowLabel(row.run.flow, software)} />
              </span>
            ) : (
              <FlowCell label={flowLabel(row.run.flow, software)} />
            ),
        }
      : { ...c, render: (row: RunRow) => c.render(row.run) },
  );
}

// ---------------------------------------------------------------------------------------------
// The page
// ---------------------------------------------------------------------------------------------

export function Dashboard({
  software,
  licence,
  licenceError = null,
  onNavigate,
}: {
  software: string;
  licence: LicenceStatus | null;
  /** Why the licence status could not be read. */
  licenceError?: string | null;
  onNavigate: (t: NavTarget) => void;
}) {
  const call = useCall();
  const toast = useToast();
  const focusAfter = useFocusAfterRender();
  const status = useQuery((c) => c('sync.status'));
  const overview = useQuery((c) => c('status.overview'));
  const now = useNow(30_000);
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [starting, setStarting] = useState<SyncFlow | null>(null);
  const [cancelling, setCancelling] = useState(false);
  const [pausing, setPausing] = useState(false);
  const [syncError, setSyncError] = useState<string | null>(null);
  const [conns, setConns] = useState<Record<ConnKey, ConnState>>({
    sql: { loading: true, diagnosis: null, error: null },
    buffer: { loading: true, diagnosis: null, error: null },
    bs: { loading: true, diagnosis: null, error: null },
  });

  const checkConnections = useCallback(() => {
    const run = (k: ConnKey, p: Promise<ConnectionDiagnosis>) => {
      setConns((c) => ({ ...c, [k]: { loading: true, diagnosis: c[k].diagnosis, error: null } }));
      p.then((d) => setConns((c) => ({ ...c, [k]: { loading: false, diagnosis: d, error: null } }))).catch((e: unknown) =>
        setConns((c) => ({ ...c, [k]: { loading: false, diagnosis: null, error: errorMessage(e) } })),
      );
    };
    run('sql', call('sqlServer.test'));
    run('buffer', call('buffer.test'));
    run('bs', call('batisimply.test'));
  }, [call]);

  useEffect(() => {
    checkConnections();
  }, [checkConnections]);

  const st: SyncStatus | null = status.data;
  const running = st?.running ?? null;
  // The run in progress as the sync events tell it (live progress), laid over the last overview facts.
  const live = running && progress && progress.runId === running.runId ? { ...running, progress } : running;
  const facts: Overview | null = overview.data && st ? { ...overview.data, running: live } : overview.data;
  const state: ConnectorState | null = facts ? connectorState(facts, now) : null;

  useEvent('sync:progress', (p) => setProgress(p));
  useEvent('status:overview', (o) => overview.setData(o));

  // Safety net if an event is lost (bridge reconnecting…): while a run is shown, re-read the status.
  const reloadStatus = status.reload;
  useEffect(() => {
    if (!running) return undefined;
    const t = window.setInterval(reloadStatus, 3000);
    return () => window.clearInterval(t);
  }, [running, reloadStatus]);
  const jobActive = useRef(false);
  useEvent('sync:status', (e) => {
    if (status.data) status.setData({ ...status.data, running: e.running, nextRunAt: e.nextRunAt });
    // A run ended (a flow "all" ends several): re-read the list from the main process, the one truth.
    if (e.lastRun || !e.running) status.reload();
    if (!e.running) {
      setProgress(null);
      setCancelling(false);
      // The panel and the table show the result; only a failure also raises a toast.
      if (e.lastRun?.status === 'failed') toast.show(fr.dashboard.finished(fr.runStatus.failed.toLowerCase()), 'error');
    }
    const active = e.jobActive || e.running !== null;
    // A job just ended: what the connection cards say (« 150 chantiers ») may have changed.
    if (jobActive.current && !active) checkConnections();
    jobActive.current = active;
  });

  const start = async (flow: SyncFlow) => {
    setStarting(flow);
    setSyncError(null);
    setProgress(null);
    setCancelling(false);
    try {
      await call('sync.run', { flow });
      // The main process is the truth about what runs (a quick run may already be over).
      status.reload();
      // The pressed button is disabled while the run goes: the focus goes to what the run says.
      focusAfter('#sync-state');
    } catch (e) {
      setSyncError(errorMessage(e));
      focusAfter('#sync-error');
    } finally {
      setStarting(null);
    }
  };

  const cancel = async () => {
    setCancelling(true);
    try {
      await call('sync.cancel', running ? { runId: running.runId } : undefined);
    } catch (e) {
      setSyncError(errorMessage(e));
      setCancelling(false);
    }
  };

  const pause = async (preset: PausePreset | null) => {
    setPausing(true);
    setSyncError(null);
    try {
      await (preset ? call('schedule.pause', { preset }) : call('schedule.resume'));
      overview.reload();
      status.reload();
    } catch (e) {
      setSyncError(errorMessage(e));
    } finally {
      setPausing(false);
    }
  };

  const syncAllowed = (st?.syncAllowed ?? true) && (licence?.syncAllowed ?? true);
  const busy = running !== null || starting !== null;
  const rows = st ? groupRuns(withLive(st.lastRuns, running, progress)) : [];
  const open = (t: NavTarget) => onNavigate(t);

  return (
    <div data-testid="page-dashboard">
      <div className="page-head">
        <div>
          <h1>{fr.dashboard.title}</h1>
          <p>{fr.dashboard.intro}</p>
        </div>
        <Button onClick={checkConnections}>{fr.dashboard.recheck}</Button>
      </div>

      {overview.error && !facts ? <ErrorBanner message={overview.error.message} onRetry={overview.reload} /> : null}
      {state ? <StateSummary state={state} /> : <Loading />}

      {state?.pausedUntil && facts?.schedule.enabled ? (
        <div data-testid="paused-banner">
          <WarnBanner title={fr.dashboard.pausedBanner(untilTime(state.pausedUntil, now))}>
            <div className="row">
              <span className="small">{fr.dashboard.pausedHelp}</span>
              <Button size="sm" busy={pausing} onClick={() => void pause(null)} data-testid="resume">
                {fr.dashboard.resume}
              </Button>
            </div>
          </WarnBanner>
        </div>
      ) : null}

      {state && state.problems.length > 0 ? <TodoList problems={state.problems} onOpen={open} /> : null}

      {state ? (
        <section aria-labelledby="h-flows">
          <h2 id="h-flows" className="sr-only">
            {fr.dashboard.flows}
          </h2>
          <div className="grid grid-2">
            {state.flows.map((f) => (
              <Card key={f.flow} className="status-card flow-card" data-testid={`flow-${f.flow}`}>
                <div className="card-head">
                  <h3>{f.title}</h3>
                  <StatusBadge tone={CARD_TONE[f.kind]}>{f.badge}</StatusBadge>
                </div>
                <div className="status-line" data-testid={`flow-${f.flow}-line`}>
                  {f.line.charAt(0).toUpperCase() + f.line.slice(1)}
                </div>
                {f.problems.length > 0 ? (
                  <div className="row" style={{ marginTop: 8 }}>
                    {f.problems.map((p) => (
                      <FixLink key={p.id} problem={p} onOpen={open} />
                    ))}
                  </div>
                ) : null}
              </Card>
            ))}
          </div>
        </section>
      ) : null}

      <Card title={fr.dashboard.sync} data-testid="sync-panel">
        {!syncAllowed ? <ErrorBanner message={licence?.message ?? fr.licence.notAllowed} /> : null}
        {syncError ? <ErrorBanner id="sync-error" message={syncError} /> : null}
        <div className="sync-buttons">
          {(['push', 'hours', 'all'] as const).map((f) => (
            <Button
              key={f}
              variant={f === 'all' ? 'primary' : 'default'}
              size="lg"
              busy={starting === f}
              disabled={busy || !syncAllowed}
              onClick={() => void start(f)}
              data-testid={`sync-${f}`}
            >
              {flowLabel(f, software)}
            </Button>
          ))}
        </div>
        <div style={{ marginTop: 16 }} id="sync-state" tabIndex={-1} aria-label={fr.dashboard.sync}>
          {running ? (
            <ProgressPanel progress={progress ?? running.progress} flow={running.flow} software={software} cancelling={cancelling} onCancel={() => void cancel()} />
          ) : (
            <p className="muted">{fr.dashboard.idle}</p>
          )}
        </div>
        <SyncAnnouncer running={running !== null} progress={progress ?? running?.progress ?? null} lastRun={st?.lastRuns[0] ?? null} />
        <div className="row small muted">
          <span data-testid="next-run">
            {st?.scheduleEnabled && st.nextRunAt ? `${fr.dashboard.nextRun} : ${formatDateTime(st.nextRunAt)}` : fr.dashboard.scheduleOff}
          </span>
          <Button size="sm" variant="ghost" onClick={() => open({ page: 'settings', section: 'schedule' })}>
            {fr.dashboard.configureSchedule}
          </Button>
          {facts?.schedule.enabled && !state?.pausedUntil ? (
            <span className="row pause-group" role="group" aria-label={fr.dashboard.pauseLabel} data-testid="pause-group">
              <span>{fr.dashboard.pause} :</span>
              {(
                [
                  ['1h', fr.dashboard.pause1h],
                  ['4h', fr.dashboard.pause4h],
                  ['tomorrow', fr.dashboard.pauseTomorrow],
                ] as const
              ).map(([preset, label]) => (
                <Button key={preset} size="sm" disabled={pausing} onClick={() => void pause(preset)}>
                  {label}
                </Button>
              ))}
            </span>
          ) : null}
        </div>
      </Card>

      <section aria-labelledby="h-conn">
        <h2 id="h-conn" className="sr-only">
          {fr.dashboard.connections}
        </h2>
        <div className="grid grid-cards">
          <ConnCard title={fr.connection.sql(software)} state={conns.sql} testId="card-sql" />
          <ConnCard title={fr.connection.buffer} state={conns.buffer} testId="card-buffer" />
          <ConnCard title={fr.connection.batisimply} state={conns.bs} testId="card-bs" />
          <Card className="status-card" data-testid="card-licence">
            <div className="card-head">
              <h3>{fr.connection.licence}</h3>
              {licence ? (
                <StatusBadge tone={licenceTone(licence)}>{licenceLabel(licence)}</StatusBadge>
              ) : (
                <StatusBadge tone={licenceError ? 'error' : 'neutral'}>{licenceError ? fr.connection.error : fr.connection.unknown}</StatusBadge>
              )}
            </div>
            <div className="status-line" role={licence ? undefined : 'alert'}>
              {licence ? licence.message : (licenceError ?? fr.licence.unavailable)}
            </div>
          </Card>
        </div>
      </section>

      <ImportsCard software={software} />

      <Card
        title={fr.dashboard.lastRuns}
        actions={
          <Button size="sm" variant="ghost" onClick={() => open({ page: 'journal' })}>
            {fr.dashboard.openJournal}
          </Button>
        }
        data-testid="last-runs"
      >
        {status.loading && !st ? <Loading /> : null}
        {status.error ? <ErrorBanner message={status.error.message} onRetry={status.reload} /> : null}
        {st && st.lastRuns.length === 0 ? <EmptyState title={fr.dashboard.noRuns}>{fr.dashboard.noRunsHelp}</EmptyState> : null}
        {st && st.lastRuns.length > 0 ? (
          <Table
            columns={rowColumns(software)}
            rows={rows}
            rowKey={(r) => r.key}
            caption={fr.dashboard.lastRuns}
            onRowClick={(r) => open({ page: 'journal', runId: r.run.id })}
            isRowClickable={(r) => r.kind !== 'job'}
            rowLabel={() => fr.dashboard.openRun}
            rowClassName={(r) => (r.kind === 'job' ? 'job-row' : r.kind === 'child' ? 'child-row' : undefined)}
            testId="runs-table"
          />
        ) : null}
      </Card>
    </div>
  );
}

function StateSummary({ state }: { state: ConnectorState }) {
  return (
    <Card className="state-card" data-testid="state">
      <div className="row">
        <StatusBadge tone={STATE_TONE[state.kind]}>{state.label}</StatusBadge>
        <span data-testid="state-headline">{state.headline}</span>
      </div>
    </Card>
  );
}

/** A link to the page that fixes a problem (a real link: it can be opened with the keyboard, or copied). */
function FixLink({ problem, onOpen }: { problem: Problem; onOpen: (t: NavTarget) => void }) {
  const go = (e: MouseEvent<HTMLAnchorElement>) => {
    e.preventDefault();
    onOpen(problem.fix.target);
  };
  return (
    <a className="btn btn-sm" href={hrefOf(problem.fix.target)} onClick={go} data-fix={problem.id}>
      {problem.fix.label}
    </a>
  );
}

function TodoList({ problems, onOpen }: { problems: Problem[]; onOpen: (t: NavTarget) => void }) {
  return (
    <Card title={fr.dashboard.todo} data-testid="todo">
      <ul className="todo-list">
        {problems.map((p) => (
          <li key={p.id} className={`todo todo-${p.severity}`} data-problem={p.id}>
            <div className="todo-text">
              <strong>{p.title}</strong>
              <span className="small muted">{p.detail}</span>
            </div>
            <FixLink problem={p} onOpen={onOpen} />
          </li>
        ))}
      </ul>
    </Card>
  );
}

function ConnCard({ title, state, testId }: { title: string; state: ConnState; testId: string }) {
  let badge;
  let line: string;
  if (state.loading) {
    badge = <StatusBadge tone="info">{fr.dashboard.checking}</StatusBadge>;
    line = state.diagnosis?.message ?? fr.dashboard.checking;
  } else if (state.error) {
    badge = <StatusBadge tone="error">{fr.connection.error}</StatusBadge>;
    line = state.error;
  } else if (state.diagnosis) {
    badge = <StatusBadge tone={state.diagnosis.ok ? 'ok' : 'error'}>{state.diagnosis.ok ? fr.connection.ok : fr.connection.error}</StatusBadge>;
    line = state.diagnosis.message;
  } else {
    badge = <StatusBadge tone="neutral">{fr.connection.unknown}</StatusBadge>;
    line = '';
  }
  return (
    <Card className="status-card" data-testid={testId}>
      <div className="card-head">
        <h3>{title}</h3>
        {badge}
      </div>
      <div className="status-line">{line}</div>
    </Card>
  );
}

/**
 * What a screen reader hears of a sync: the phase and the count, at most every few seconds (the panel
 * above changes with every event and is not a live region), then the result.
 */
function SyncAnnouncer({ running, progress, lastRun }: { running: boolean; progress: ProgressEvent | null; lastRun: RunSummary | null }) {
  const text = running
    ? `${fr.dashboard.running} : ${progress?.label ?? fr.common.inProgress}${progress && progress.total !== null ? ` (${progress.done} / ${progress.total})` : ''}`
    : lastRun && lastRun.status !== 'running'
      ? fr.dashboard.finished(fr.runStatus[lastRun.status].toLowerCase())
      : '';
  const said = useThrottled(text);
  return (
    <p className="sr-only" aria-live="polite" data-testid="progress-announce">
      {said}
    </p>
  );
}

function ProgressPanel({
  progress,
  flow,
  software,
  cancelling,
  onCancel,
}: {
  progress: ProgressEvent | null;
  flow: SyncFlow;
  software: string;
  cancelling: boolean;
  onCancel: () => void;
}) {
  return (
    <div className="stack" data-testid="progress">
      <div className="row">
        <strong>{fr.dashboard.running}</strong>
        <span className="muted">— {flowLabel(progress?.flow ?? flow, software)}</span>
        <span className="spacer" />
        <Button variant="danger" busy={cancelling} onClick={onCancel} data-testid="sync-cancel">
          {cancelling ? fr.dashboard.cancelling : fr.dashboard.cancel}
        </Button>
      </div>
      <div className="row">
        <span data-testid="progress-phase">{progress?.label ?? fr.common.inProgress}</span>
        <span className="spacer" />
        {progress && progress.total !== null ? (
          <span className="small">
            {progress.done} / {progress.total}
          </span>
        ) : null}
      </div>
      <ProgressBar value={progress?.done ?? null} max={progress?.total ?? null} label={fr.dashboard.progressLabel} />
      {progress?.current ? (
        <span className="small muted">
          {fr.dashboard.current} : {progress.current}
        </span>
      ) : null}
      {progress ? <CountsLine counts={progress.counts} /> : null}
    </div>
  );
}
