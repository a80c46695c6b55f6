/**
 * Réglages › Postes (the PCs seen on a shared buffer, « Oublier ce poste » for one unseen for long) and
 * Réglages › Configuration partagée (export of this PC's settings without any secret, import of another PC's).
 */
import { useRef, useState } from 'react';
import type { MachineView, SettingsView } from '../../shared/contract.js';
import type { SyncFlow } from '../../shared/domain.js';
import { formatDateTime, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useQuery } from '../lib/backend.js';
import { download } from '../lib/download.js';
import { useToast } from '../components/toast.js';
import { Button, Card, ErrorBanner, Loading, StatusBadge, SuccessBanner, Table, type Column } from '../components/ui.js';
import { flowLabel } from './dashboard.js';

const isFlow = (f: string): f is SyncFlow => f === 'push' || f === 'hours';
const flowName = (f: string, software: string): string => (isFlow(f) ? flowLabel(f, software) : f);

export function MachinesCard({ software }: { software: string }) {
  const call = useCall();
  const toast = useToast();
  const q = useQuery((c) => c('machines.list'));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const headingRef = useRef<HTMLParagraphElement>(null);
  const forget = async (m: MachineView) => {
    setBusy(m.machineId);
    setError(null);
    try {
      q.setData(await call('machines.forget', { machineId: m.machineId }));
      toast.show(fr.machines.forgotten(m.name), 'ok');
      // The row and its button are gone: the focus goes back to the card's text.
      headingRef.current?.focus();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const columns: Column<MachineView>[] = [
    { key: 'name', header: fr.machines.name, render: (m) => (m.self ? `${m.name} ${fr.machines.self}` : m.name), minWidth: '10rem' },
    { key: 'version', header: fr.machines.version, render: (m) => m.appVersion },
    { key: 'heartbeat', header: fr.machines.heartbeat, render: (m) => formatDateTime(m.lastHeartbeat) },
    {
      key: 'activity',
      header: fr.machines.activity,
      render: (m) =>
        m.holding.length > 0
          ? fr.machines.holding(m.holding.map((f) => flowName(f, software)).join(', '))
          : m.lastRun
            ? fr.machines.lastRun(flowName(m.lastRun.flow, software), formatDateTime(m.lastRun.startedAt))
            : fr.machines.idle,
    },
    {
      key: 'state',
      header: fr.machines.state,
      render: (m) => (
        <span className="row">
          <StatusBadge tone={m.reachable ? 'ok' : 'warn'}>{m.reachable ? fr.machines.reachable : fr.machines.unreachable}</StatusBadge>
          {m.outdated ? <StatusBadge tone="warn">{fr.machines.outdated}</StatusBadge> : null}
          {m.forgettable ? (
            <Button size="sm" busy={busy === m.machineId} aria-label={fr.machines.forgetLabel(m.name)} onClick={() => void forget(m)}>
              {fr.machines.forget}
            </Button>
          ) : null}
        </span>
      ),
    },
  ];
  return (
    <Card title={fr.machines.title} data-testid="settings-machines">
      <p ref={headingRef} tabIndex={-1}>
        {q.data && !q.data.shared ? fr.machines.embedded : fr.machines.intro}
      </p>
      {q.loading && !q.data ? <Loading /> : null}
      {q.error ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : null}
      {error ? <ErrorBanner message={error} /> : null}
      {q.data && q.data.machines.length === 0 ? <p>{fr.machines.none}</p> : null}
      {q.data && q.data.machines.length > 0 ? (
        <>
          <Table columns={columns} rows={q.data.machines} rowKey={(m) => m.machineId} caption={fr.machines.caption} testId="machines-table" />
          <p className="muted">{fr.machines.forgetHelp(q.data.forgetAfterDays)}</p>
        </>
      ) : null}
    </Card>
  );
}

/** The import of another PC's configuration (Réglages and the wizard's first step). */
export function ConfigImport({ onImported, label = fr.configShare.import }: { onImported: (v: SettingsView, secretsToType: string[]) => void; label?: string }) {
  const call = useCall();
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ from: string; secrets: string[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const onFile = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      const r = await call('config.import', { content: await file.text() });
      setDone({ from: r.from, secrets: r.secretsToType });
      onImported(r.view, r.secretsToType);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
      if (input.current) input.current.value = '';
    }
  };
  return (
    <div data-testid="config-import">
      <label className="field-label" htmlFor="config-import-file">
        {fr.configShare.importFile}
      </label>
      <input id="config-import-file" ref={input} type="file" accept="application/json,.json" className="sr-only" onChange={(e) => void onFile(e.target.files?.[0])} />
      <div className="row">
        <Button busy={busy} onClick={() => input.current?.click()}>
          {label}
        </Button>
      </div>
      {error ? <ErrorBanner message={error} /> : null}
      {done ? (
        <SuccessBanner
          message={fr.configShare.imported(done.from) + (done.secrets.length > 0 ? ` ${fr.configShare.secretsToType(done.secrets.length)} ${done.secrets.join(', ')}.` : '')}
        />
      ) : null}
    </div>
  );
}

export function ConfigShareCard({ onImported }: { onImported: (v: SettingsView) => void }) {
  const call = useCall();
  const toast = useToast();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const exportNow = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await call('config.export');
      download(r.fileName, r.content, 'application/json;charset=utf-8');
      toast.show(fr.configShare.exported(r.fileName), 'ok');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={fr.configShare.title} data-testid="settings-config-share">
      <p>{fr.configShare.intro}</p>
      {error ? <ErrorBanner message={error} /> : null}
      <div className="row">
        <Button variant="primary" busy={busy} onClick={() => void exportNow()}>
          {fr.configShare.export}
        </Button>
      </div>
      <ConfigImport onImported={(v) => onImported(v)} />
    </Card>
  );
}
