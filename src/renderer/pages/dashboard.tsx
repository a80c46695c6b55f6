/**
 * Dashboard: a status card per connection and for the licence, the three sync buttons, live progress
 * from `sync:progress` with "Annuler", the last runs with their counts and the next scheduled run.
 */
import { useCallback, useEffect, useState } from 'react';
import type { ConnectionDiagnosis, ProgressEvent, SyncFlow } from '../../shared/domain.js';
import type { Counts, LicenceStatus, RunSummary, SyncStatus } from '../../shared/contract.js';
import { formatDateTime, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useEvent, useQuery } from '../lib/backend.js';
import { useToast } from '../components/toast.js';
import { Button, Card, EmptyState, ErrorBanner, Loading, ProgressBar, StatusBadge, Table, type Column, type Tone } from '../components/ui.js';
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

export function Dashboard({
  software,
  licence,
  onOpenJournal,
  onOpenSettings,
}: {
  software: string;
  licence: LicenceStatus | null;
  onOpenJournal: () => void;
  onOpenSettings?: () => void;
}) {
  const call = useCall();
  const toast = useToast();
  const status = useQuery((c) => c('sync.status'));
  const [progress, setProgress] = useState<ProgressEvent | null>(null);
  const [starting, setStarting] = useState<SyncFlow | null>(null);
  const [cancelling, setCancelling] = useState(false);
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

  useEvent('sync:progress', (p) => setProgress(p));

  // Safety net if an event is lost (bridge reconnecting…): while a run is shown, re-read the status.
  const reloadStatus = status.reload;
  useEffect(() => {
    if (!running) return undefined;
    const t = window.setInterval(reloadStatus, 3000);
    return () => window.clearInterval(t);
  }, [running, reloadStatus]);
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
    } catch (e) {
      setSyncError(errorMessage(e));
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

  const syncAllowed = (st?.syncAllowed ?? true) && (licence?.syncAllowed ?? true);
  const busy = running !== null || starting !== null;

  return (
    <div data-testid="page-dashboard">
      <div className="page-head">
        <div>
          <h1>{fr.dashboard.title}</h1>
          <p>{fr.dashboard.intro}</p>
        </div>
        <Button onClick={checkConnections}>{fr.dashboard.recheck}</Button>
      </div>

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
                <StatusBadge tone="neutral">{fr.connection.unknown}</StatusBadge>
              )}
            </div>
            <div className="status-line">{licence ? licence.message : fr.licence.unavailable}</div>
          </Card>
        </div>
      </section>

      <Card title={fr.dashboard.sync} data-testid="sync-panel">
        {!syncAllowed ? <ErrorBanner message={licence?.message ?? fr.licence.notAllowed} /> : null}
        {syncError ? <ErrorBanner message={syncError} /> : null}
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
        <div style={{ marginTop: 16 }} aria-live="polite">
          {running ? (
            <ProgressPanel progress={progress ?? running.progress} flow={running.flow} software={software} cancelling={cancelling} onCancel={() => void cancel()} />
          ) : (
            <p className="muted">{fr.dashboard.idle}</p>
          )}
        </div>
        <div className="row small muted">
          <span data-testid="next-run">
            {st?.scheduleEnabled && st.nextRunAt
              ? `${fr.dashboard.nextRun} : ${formatDateTime(st.nextRunAt)}`
              : fr.dashboard.scheduleOff}
          </span>
          {onOpenSettings ? (
            <Button size="sm" variant="ghost" onClick={onOpenSettings}>
              {fr.dashboard.configureSchedule}
            </Button>
          ) : null}
        </div>
      </Card>

      <Card
        title={fr.dashboard.lastRuns}
        actions={
          <Button size="sm" variant="ghost" onClick={onOpenJournal}>
            {fr.dashboard.openJournal}
          </Button>
        }
        data-testid="last-runs"
      >
        {status.loading && !st ? <Loading /> : null}
        {status.error && !st ? <ErrorBanner message={status.error.message} onRetry={status.reload} /> : null}
        {st && st.lastRuns.length === 0 ? <EmptyState title={fr.dashboard.noRuns}>{fr.dashboard.noRunsHelp}</EmptyState> : null}
        {st && st.lastRuns.length > 0 ? (
          <Table columns={runColumns(software)} rows={st.lastRuns} rowKey={(r) => r.id} caption={fr.dashboard.lastRuns} testId="runs-table" />
        ) : null}
      </Card>
    </div>
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
