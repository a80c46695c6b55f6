/**
 * The « Imports vers Batigest » card of the dashboard (import agent): pending exports, imported today, the exports in
 * error with their reason and « Réessayer », the last cycle and a button to run one. Shown only once the module is on.
 */
import { useState } from 'react';
import type { ImportsView } from '../../shared/contract.js';
import { formatDateTime, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useEvent, useQuery } from '../lib/backend.js';
import { useToast } from './toast.js';
import { Button, Card, ErrorBanner, Facts, StatusBadge } from './ui.js';

const RUN_TONE = { running: 'info', success: 'ok', partial: 'warn', failed: 'error', cancelled: 'neutral' } as const;

export function ImportsCard({ software }: { software: string }) {
  const call = useCall();
  const toast = useToast();
  const q = useQuery((c) => c('imports.status'));
  const [busy, setBusy] = useState<string | null>(null);
  useEvent('sync:status', () => q.reload());
  const v: ImportsView | null = q.data;
  if (!v && q.error) {
    return (
      <Card title={`Imports vers ${software}`} data-testid="card-imports">
        <ErrorBanner message={q.error.message} onRetry={q.reload} />
      </Card>
    );
  }
  if (!v || !v.enabled) return null;

  const retry = async (exportId: string) => {
    setBusy(exportId);
    try {
      const r = await call('imports.retry', { exportId });
      toast.show(r.message, 'ok');
      q.reload();
    } catch (e) {
      toast.show(errorMessage(e), 'error');
    } finally {
      setBusy(null);
    }
  };
  const runNow = async () => {
    setBusy('run');
    try {
      await call('sync.run', { flow: 'imports' });
    } catch (e) {
      toast.show(errorMessage(e), 'error');
    } finally {
      setBusy(null);
    }
  };
  const last = v.lastRun;
  return (
    <Card
      title={`Imports vers ${software}`}
      actions={
        <Button size="sm" busy={busy === 'run'} onClick={() => void runNow()} data-testid="imports-run">
          {fr.imports.run}
        </Button>
      }
      data-testid="card-imports"
    >
      {v.error ? <ErrorBanner message={v.error} onRetry={q.reload} /> : null}
      <Facts
        items={[
          [fr.imports.pending, <span data-testid="imports-pending">{v.pending}</span>],
          [fr.imports.importedToday, <span data-testid="imports-today">{v.importedToday}</span>],
          [fr.imports.errored, <span data-testid="imports-errored">{v.erroredTotal}</span>],
          [
            fr.imports.lastCycle,
            last ? (
              <span>
                <StatusBadge tone={RUN_TONE[last.status]}>{fr.runStatus[last.status]}</StatusBadge> {formatDateTime(last.startedAt)} — {last.message ?? ''}
              </span>
            ) : (
              fr.imports.never
            ),
          ],
          [fr.imports.agentId, v.agentId],
        ]}
      />
      {v.errored.length === 0 ? (
        <p className="small muted">{fr.imports.none}</p>
      ) : (
        <ul className="todo-list" aria-label={fr.imports.errored}>
          {v.errored.map((e) => (
            <li key={e.exportId} className="todo todo-error" data-export={e.exportId}>
              <div className="todo-text">
                <strong>{e.fileName}</strong>
                <span className="small muted">{e.reason}</span>
              </div>
              <Button size="sm" busy={busy === e.exportId} onClick={() => void retry(e.exportId)} aria-label={fr.imports.retryLabel(e.fileName)}>
                {fr.imports.retry}
              </Button>
            </li>
          ))}
          {v.erroredTotal > v.errored.length ? <li className="small muted">{fr.imports.more(v.erroredTotal - v.errored.length)}</li> : null}
        </ul>
      )}
    </Card>
  );
}
