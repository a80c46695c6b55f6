/** Journal: runs with filters (flow, status, dates), a run's items with their French reasons, CSV export. */
import { useEffect, useRef, useState } from 'react';
import type { JournalItem, RunSummary } from '../../shared/contract.js';
import type { SyncFlow } from '../../shared/domain.js';
import { formatDateTime, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useQuery } from '../lib/backend.js';
import { useToast } from '../components/toast.js';
import { Button, Card, EmptyState, ErrorBanner, Field, Loading, Select, StatusBadge, Switch, Table, type Column, type Tone } from '../components/ui.js';
import { CountsLine, RUN_TONE, flowLabel, runColumns } from './dashboard.js';
import { download } from '../lib/download.js';
import { itemReference, reasonParts } from '../lib/journal-text.js';

type Filters = { flow: '' | SyncFlow; status: '' | RunSummary['status']; from: string; to: string };
const EMPTY: Filters = { flow: '', status: '', from: '', to: '' };
const PAGE_SIZE = 25;

const ACTION_TONE: Record<JournalItem['action'], Tone> = {
  created: 'ok',
  updated: 'ok',
  unchanged: 'neutral',
  moved: 'info',
  deleted: 'info',
  skipped: 'warn',
  failed: 'error',
  conflict: 'warn',
};

function toInput(f: Filters) {
  return {
    ...(f.flow ? { flow: f.flow } : {}),
    ...(f.status ? { status: f.status } : {}),
    ...(f.from ? { from: f.from } : {}),
    ...(f.to ? { to: f.to } : {}),
  };
}

/** `focus`: a run to open at once (a dashboard row, an « À traiter » link, a notification), maybe filtered. */
export function JournalPage({ software, focus = null }: { software: string; focus?: { runId: string; action?: 'failed' | 'skipped' } | null }) {
  const call = useCall();
  const toast = useToast();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<string | null>(focus?.runId ?? null);
  const [exporting, setExporting] = useState(false);
  const [exportError, setExportError] = useState<string | null>(null);
  const [dateError, setDateError] = useState<string | null>(null);

  const runs = useQuery((c) => c('journal.list', { ...toInput(filters), page, pageSize: PAGE_SIZE }), JSON.stringify([filters, page]));

  const apply = () => {
    if (draft.from && draft.to && draft.from > draft.to) {
      setDateError('La date de début doit précéder la date de fin.');
      return;
    }
    setDateError(null);
    setFilters(draft);
    setPage(1);
    setSelected(null);
  };

  const exportCsv = async () => {
    setExporting(true);
    setExportError(null);
    try {
      const res = await call('journal.exportCsv', { ...toInput(filters), ...(selected ? { runId: selected } : {}) });
      download(res.fileName, res.csv, 'text/csv;charset=utf-8');
      toast.show(fr.journal.exported(res.fileName), 'ok');
    } catch (e) {
      setExportError(errorMessage(e));
    } finally {
      setExporting(false);
    }
  };

  const total = runs.data?.total ?? 0;
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));

  return (
    <div data-testid="page-journal">
      <div className="page-head">
        <div>
          <h1>{fr.journal.title}</h1>
          <p>{fr.journal.intro}</p>
        </div>
        <Button onClick={() => void exportCsv()} busy={exporting} data-testid="export-csv">
          {fr.journal.export}
        </Button>
      </div>
      {exportError ? <ErrorBanner message={exportError} /> : null}

      <Card title={fr.journal.filters} headingLevel={2}>
        <form
          className="row"
          style={{ alignItems: 'flex-end' }}
          onSubmit={(e) => {
            e.preventDefault();
            apply();
          }}
        >
          <div style={{ minWidth: 220 }}>
            <Select
              id="j-flow"
              label={fr.journal.flow}
              value={draft.flow}
              onChange={(v) => setDraft({ ...draft, flow: v as Filters['flow'] })}
              options={[
                { value: '', label: fr.common.all },
                { value: 'push', label: flowLabel('push', software) },
                { value: 'hours', label: flowLabel('hours', software) },
                { value: 'imports', label: flowLabel('imports', software) },
                { value: 'all', label: flowLabel('all', software) },
              ]}
            />
          </div>
          <div style={{ minWidth: 160 }}>
            <Select
              id="j-status"
              label={fr.journal.status}
              value={draft.status}
              onChange={(v) => setDraft({ ...draft, status: v as Filters['status'] })}
              options={[{ value: '', label: fr.common.all }, ...Object.entries(fr.runStatus).map(([value, label]) => ({ value, label }))]}
            />
          </div>
          <div>
            <Field id="j-from" label={fr.journal.from} type="date" value={draft.from} onChange={(v) => setDraft({ ...draft, from: v })} error={dateError} />
          </div>
          <div>
            <Field id="j-to" label={fr.journal.to} type="date" value={draft.to} onChange={(v) => setDraft({ ...draft, to: v })} />
          </div>
          <div className="row" style={{ marginBottom: 12 }}>
            <Button type="submit" variant="primary">
              {fr.journal.apply}
            </Button>
            <Button
              onClick={() => {
                setDraft(EMPTY);
                setFilters(EMPTY);
                setPage(1);
              }}
            >
              {fr.journal.reset}
            </Button>
          </div>
        </form>
      </Card>

      <Card title={runs.data ? fr.journal.total(total) : fr.journal.runs}>
        {runs.loading && !runs.data ? <Loading /> : null}
        {runs.error ? <ErrorBanner message={runs.error.message} onRetry={runs.reload} /> : null}
        {runs.data && runs.data.runs.length === 0 ? <EmptyState title={fr.journal.noRuns}>{fr.journal.noRunsHelp}</EmptyState> : null}
        {runs.data && runs.data.runs.length > 0 ? (
          <>
            <Table
              columns={runColumns(software)}
              rows={runs.data.runs}
              rowKey={(r) => r.id}
              caption={fr.journal.title}
              onRowClick={(r) => setSelected(r.id)}
              selectedKey={selected}
              testId="journal-runs"
            />
            {pages > 1 ? (
              <div className="row row-end" style={{ marginTop: 8 }}>
                <Button size="sm" disabled={page <= 1} onClick={() => setPage(page - 1)}>
                  {fr.journal.previous}
                </Button>
                <span className="small">
                  {page} / {pages}
                </span>
                <Button size="sm" disabled={page >= pages} onClick={() => setPage(page + 1)}>
                  {fr.journal.nextPage}
                </Button>
              </div>
            ) : null}
          </>
        ) : null}
      </Card>

      <Card title={fr.journal.items}>
        {selected ? (
          <RunItems key={selected} runId={selected} software={software} {...(focus?.runId === selected ? { focusAction: focus.action ?? null, takeFocus: true } : {})} />
        ) : (
          <p className="muted">{fr.journal.pickRun}</p>
        )}
      </Card>
    </div>
  );
}

function RunItems({ runId, software, focusAction = null, takeFocus = false }: { runId: string; software: string; focusAction?: 'failed' | 'skipped' | null; takeFocus?: boolean }) {
  /** null = not chosen yet: problems only when the run has any. */
  const [onlyProblemsChoice, setOnlyProblems] = useState<boolean | null>(null);
  /** Opened from a link « voir les éléments en échec »: only that action, until « Tout afficher ». */
  const [onlyAction, setOnlyAction] = useState<'failed' | 'skipped' | null>(focusAction);
  const head = useRef<HTMLDivElement>(null);
  const q = useQuery((c) => c('journal.get', { runId, pageSize: 1000 }), runId);
  const loaded = q.data !== null;
  useEffect(() => {
    // Opened from a link: the detail is what was asked for, so the focus goes there (after the page's own).
    if (takeFocus && loaded) window.setTimeout(() => head.current?.focus(), 10);
  }, [takeFocus, loaded]);
  if (q.loading && !q.data) return <Loading />;
  if (q.error) return <ErrorBanner message={q.error.message} onRetry={q.reload} />;
  if (!q.data) return null;
  const { run } = q.data;
  const onlyProblems = onlyProblemsChoice ?? run.counts.failed + run.counts.skipped > 0;
  const items = onlyAction
    ? q.data.items.filter((i) => i.action === onlyAction)
    : onlyProblems
      ? q.data.items.filter((i) => i.action === 'failed' || i.action === 'skipped' || i.action === 'conflict')
      : q.data.items;
  const cols: Column<JournalItem>[] = [
    { key: 'action', header: fr.journal.action, render: (i) => <StatusBadge tone={ACTION_TONE[i.action]}>{fr.actions[i.action]}</StatusBadge> },
    {
      key: 'key',
      header: fr.journal.key,
      minWidth: '9rem',
      render: (i) => {
        const ref = itemReference(i);
        return <span title={ref.technical ?? undefined}>{ref.text}</span>;
      },
    },
    { key: 'label', header: fr.journal.label, minWidth: '12rem', render: (i) => i.label ?? '' },
    { key: 'reason', header: fr.journal.reason, render: (i) => (i.reason ? <Reason text={i.reason} /> : '') },
    { key: 'at', header: fr.journal.at, minWidth: '8rem', render: (i) => formatDateTime(i.at) },
  ];
  return (
    <div className="stack" data-testid="run-items">
      <div className="row" ref={head} tabIndex={-1}>
        <strong>{flowLabel(run.flow, software)}</strong>
        <StatusBadge tone={RUN_TONE[run.status]}>{fr.runStatus[run.status]}</StatusBadge>
        <span className="muted small">
          {formatDateTime(run.startedAt)} → {formatDateTime(run.endedAt)} · {fr.journal.machine} : {run.machineName} ·{' '}
          {fr.journal.trigger} : {fr.trigger[run.trigger]}
        </span>
      </div>
      {run.message ? (
        <p>
          <Reason text={run.message} />
        </p>
      ) : null}
      <CountsLine counts={run.counts} />
      {onlyAction ? (
        <div className="row" data-testid="items-filter">
          <StatusBadge tone={ACTION_TONE[onlyAction]}>{fr.journal.onlyAction(fr.actions[onlyAction])}</StatusBadge>
          <Button size="sm" onClick={() => setOnlyAction(null)}>
            {fr.journal.showAll}
          </Button>
        </div>
      ) : (
        <Switch id="j-only-problems" label={fr.journal.onlyProblems} checked={onlyProblems} onChange={setOnlyProblems} />
      )}
      {items.length === 0 ? (
        <EmptyState title={fr.journal.noItems} />
      ) : (
        <Table columns={cols} rows={items} rowKey={(i) => i.id} caption={fr.journal.items} testId="items-table" />
      )}
    </div>
  );
}

/** A reason with the screen that fixes it as a link (« Correspondance des salariés » opens that page). */
function Reason({ text }: { text: string }) {
  return (
    <>
      {reasonParts(text).map((p, n) =>
        typeof p === 'string' ? (
          <span key={n}>{p}</span>
        ) : (
          <a key={n} href={p.href}>
            {p.text}
          </a>
        ),
      )}
    </>
  );
}
