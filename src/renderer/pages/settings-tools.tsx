/**
 * The sections of Réglages that are tools rather than settings: Mises à jour, Protection des réglages,
 * Maintenance (verify, recompare, purge, forget — each journaled by the main process) and Assistance
 * (diagnostic, log folder).
 */
import { useState } from 'react';
import type { BufferCheck, MaintenanceEntry, ProtectionStatus, SettingsView, UpdateStatus } from '../../shared/contract.js';
import { FORGET_CONFIRMATION, PIN_PATTERN } from '../../shared/contract.js';
import { count } from '../../shared/plural.js';
import { formatDateTime, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useEvent, useQuery } from '../lib/backend.js';
import { useToast } from '../components/toast.js';
import { Button, Card, ErrorBanner, Facts, Field, Loading, Select, StatusBadge, SuccessBanner, Table, WarnBanner, type Tone } from '../components/ui.js';

type FlowChoice = 'push' | 'hours';
const LEVEL_TONE: Record<BufferCheck['checks'][number]['level'], Tone> = { ok: 'ok', warning: 'warn', error: 'error' };
const OUTCOME_TONE: Record<MaintenanceEntry['outcome'], Tone> = { ok: 'ok', warning: 'warn', failed: 'error' };

const kb = (bytes: number) => (bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} Ko` : `${(bytes / 1048576).toLocaleString('fr-FR', { maximumFractionDigits: 1 })} Mo`);

// ---------------------------------------------------------------------------------------------
// Mises à jour
// ---------------------------------------------------------------------------------------------

export function UpdatesCard({ view, onSaved }: { view: SettingsView; onSaved: (v: SettingsView) => void }) {
  const call = useCall();
  const toast = useToast();
  const q = useQuery((c) => c('updates.status'));
  useEvent('updates:status', (s) => q.setData(s));
  const [feed, setFeed] = useState(view.updates.feedUrl);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'save' | 'check' | null>(null);
  const save = async () => {
    const v = feed.trim();
    if (v && !/^https?:\/\/[^\s/]+/i.test(v)) {
      setFieldError(fr.updates.urlInvalid);
      return;
    }
    setFieldError(null);
    setError(null);
    setBusy('save');
    try {
      onSaved(await call('settings.update', { updates: { feedUrl: v } }));
      toast.show(fr.common.saved, 'ok');
      q.reload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const check = async () => {
    setError(null);
    setBusy('check');
    try {
      q.setData(await call('updates.check'));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const s: UpdateStatus | null = q.data;
  return (
    <Card title={fr.updates.title} data-testid="settings-updates">
      {q.error && !s ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : null}
      {error ? <ErrorBanner message={error} /> : null}
      {s ? (
        <p className="row" data-testid="update-status">
          <StatusBadge tone={s.state === 'ready' ? 'ok' : s.state === 'error' ? 'error' : s.state === 'disabled' || s.state === 'unsupported' ? 'neutral' : 'info'}>{fr.updates.current(s.currentVersion)}</StatusBadge>
          <span>{s.message}</span>
        </p>
      ) : null}
      <Field id="upd-feed" label={fr.updates.feedUrl} value={feed} onChange={setFeed} help={fr.updates.feedHelp} error={fieldError} inputMode="url" placeholder="https://" />
      <div className="row row-end">
        <Button onClick={() => void check()} busy={busy === 'check'} disabled={!view.updates.feedUrl}>
          {fr.updates.check}
        </Button>
        <Button variant="primary" onClick={() => void save()} busy={busy === 'save'}>
          {fr.settings.saveSection}
        </Button>
      </div>
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------
// Protection des réglages
// ---------------------------------------------------------------------------------------------

const IDLE_CHOICES = [5, 10, 15, 30, 60, 120];

export function ProtectionCard({ status: known, onStatus }: { status: ProtectionStatus | null; onStatus: (s: ProtectionStatus) => void }) {
  const call = useCall();
  const toast = useToast();
  // Its own reading of the status (the app's may have failed at start): what it says, or why it cannot.
  const q = useQuery((c) => c('protection.status'));
  const status = known ?? q.data;
  const [current, setCurrent] = useState('');
  const [pin, setPin] = useState('');
  const [confirm, setConfirm] = useState('');
  const [idle, setIdle] = useState(String(status?.idleMinutes ?? 10));
  const [errors, setErrors] = useState<{ pin?: string; confirm?: string }>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const digits = (v: string) => v.replace(/\D/g, '').slice(0, 12);
  const reset = () => {
    setCurrent('');
    setPin('');
    setConfirm('');
  };
  const run = async (what: string, fn: () => Promise<ProtectionStatus>, done: string) => {
    setBusy(what);
    setError(null);
    try {
      onStatus(await fn());
      reset();
      toast.show(done, 'ok');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const setOrChange = () => {
    const e: { pin?: string; confirm?: string } = {};
    if (!PIN_PATTERN.test(pin)) e.pin = fr.protection.pinInvalid;
    else if (pin !== confirm) e.confirm = fr.protection.pinMismatch;
    setErrors(e);
    if (e.pin || e.confirm) return;
    void run('set', () => call('protection.set', { pin, idleMinutes: Number(idle), ...(status?.enabled ? { current } : {}) }), status?.enabled ? fr.protection.changed : fr.protection.enabled);
  };
  if (!status) {
    return (
      <Card title={fr.protection.title} data-testid="settings-protection">
        {q.error ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : <Loading />}
      </Card>
    );
  }
  return (
    <Card title={fr.protection.title} data-testid="settings-protection">
      <p className="muted">{fr.protection.intro}</p>
      <p data-testid="protection-state">
        <StatusBadge tone={status.enabled ? 'ok' : 'neutral'}>{status.enabled ? fr.protection.on(status.idleMinutes) : fr.protection.off}</StatusBadge>
      </p>
      {error ? <ErrorBanner message={error} /> : null}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setOrChange();
        }}
      >
        <div className="form-grid">
          {status.enabled ? <PinField id="pin-current" label={fr.protection.current} value={current} onChange={(v) => setCurrent(digits(v))} /> : null}
          <PinField id="pin-new" label={status.enabled ? fr.protection.newPin : fr.protection.pin} value={pin} onChange={(v) => setPin(digits(v))} error={errors.pin} />
          <PinField id="pin-confirm" label={fr.protection.pinConfirm} value={confirm} onChange={(v) => setConfirm(digits(v))} error={errors.confirm} />
          <Select id="pin-idle" label={fr.protection.idle} value={idle} onChange={setIdle} options={IDLE_CHOICES.map((m) => ({ value: String(m), label: fr.schedule.minutesOption(m) }))} />
        </div>
        <div className="row row-end">
          {status.enabled ? (
            <>
              <Button onClick={() => void run('lock', () => call('protection.lock'), fr.protection.lock)} busy={busy === 'lock'}>
                {fr.protection.lock}
              </Button>
              <Button variant="danger" disabled={current.length < 4} busy={busy === 'clear'} onClick={() => void run('clear', () => call('protection.clear', { current }), fr.protection.removed)}>
                {fr.protection.remove}
              </Button>
            </>
          ) : null}
          <Button type="submit" variant="primary" busy={busy === 'set'}>
            {status.enabled ? fr.protection.change : fr.protection.enable}
          </Button>
        </div>
      </form>
    </Card>
  );
}

function PinField({ id, label, value, onChange, error }: { id: string; label: string; value: string; onChange: (v: string) => void; error?: string | undefined }) {
  return <Field id={id} label={label} value={value} onChange={onChange} error={error ?? null} type="password" inputMode="numeric" autoComplete="off" maxLength={12} />;
}

// ---------------------------------------------------------------------------------------------
// Maintenance
// ---------------------------------------------------------------------------------------------

export function MaintenanceCard({ software }: { software: string }) {
  const call = useCall();
  const log = useQuery((c) => c('maintenance.log'));
  const [check, setCheck] = useState<BufferCheck | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<Record<string, { ok: boolean; text: string } | null>>({});
  const [recompareFlow, setRecompareFlow] = useState<FlowChoice>('hours');
  const [days, setDays] = useState('180');
  const [daysError, setDaysError] = useState<string | null>(null);
  const [purgeAsked, setPurgeAsked] = useState(false);
  const [forgetFlow, setForgetFlow] = useState<FlowChoice>('hours');
  const [word, setWord] = useState('');
  const flows = [
    { value: 'push', label: fr.flows.push(software) },
    { value: 'hours', label: fr.flows.hours(software) },
  ];

  const act = async (key: string, fn: () => Promise<string>) => {
    setBusy(key);
    setResult((r) => ({ ...r, [key]: null }));
    try {
      const text = await fn();
      setResult((r) => ({ ...r, [key]: { ok: true, text } }));
    } catch (e) {
      setResult((r) => ({ ...r, [key]: { ok: false, text: errorMessage(e) } }));
    } finally {
      setBusy(null);
      log.reload();
    }
  };
  const shown = (key: string) => {
    const r = result[key];
    if (!r || !r.text) return null;
    return r.ok ? <SuccessBanner message={r.text} /> : <ErrorBanner message={r.text} />;
  };

  return (
    <Card title={fr.maintenance.title} data-testid="settings-maintenance">
      <p className="muted">{fr.maintenance.intro}</p>

      <h3>{fr.maintenance.verify}</h3>
      <p className="muted small">{fr.maintenance.verifyHelp}</p>
      <div className="row">
        <Button
          busy={busy === 'verify'}
          onClick={() =>
            void act('verify', async () => {
              const r = await call('maintenance.verify');
              setCheck(r);
              return '';
            })
          }
          data-testid="maint-verify"
        >
          {fr.maintenance.verify}
        </Button>
      </div>
      {shown('verify')}
      {check ? (
        <div className="stack check-result" data-testid="buffer-check">
          <p className="small" style={{ margin: 0 }}>
            <strong>{fr.maintenance.schema(check.schemaVersion, check.expectedVersion)}</strong>
          </p>
          <Facts items={check.tables.map((t) => [fr.maintenance.tables[t.table] ?? t.table, fr.maintenance.rows(t.rows)] as const)} />
          <ul className="check-list">
            {check.checks.map((c) => (
              <li key={c.id} className="row" data-check={c.id}>
                <StatusBadge tone={LEVEL_TONE[c.level]}>{fr.maintenance.level[c.level]}</StatusBadge>
                <span className="small">
                  {c.message}
                  {c.examples.length ? <span className="muted"> ({c.examples.join(', ')})</span> : null}
                </span>
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <h3>{fr.maintenance.recompare}</h3>
      <p className="muted small">{fr.maintenance.recompareHelp(software)}</p>
      {shown('recompare')}
      <div className="row" style={{ alignItems: 'flex-end' }}>
        <div style={{ minWidth: 260 }}>
          <Select id="maint-recompare-flow" label={fr.maintenance.flow} value={recompareFlow} onChange={(v) => setRecompareFlow(v as FlowChoice)} options={flows} />
        </div>
        <div className="field">
          <Button busy={busy === 'recompare'} onClick={() => void act('recompare', async () => `${(await call('maintenance.recompare', { flow: recompareFlow })).message} ${fr.maintenance.recompareStarted}`)}>
            {fr.maintenance.recompareButton}
          </Button>
        </div>
      </div>

      <h3>{fr.maintenance.purge}</h3>
      <p className="muted small">{fr.maintenance.purgeHelp}</p>
      {shown('purge')}
      <div className="row" style={{ alignItems: 'flex-end' }}>
        <Field
          id="maint-days"
          label={fr.maintenance.purgeDays}
          value={days}
          onChange={(v) => {
            setDays(v);
            setPurgeAsked(false);
          }}
          error={daysError}
          inputMode="numeric"
        />
        <div className="field">
          {purgeAsked ? (
            <Button
              variant="danger"
              busy={busy === 'purge'}
              onClick={() =>
                void act('purge', async () => {
                  setPurgeAsked(false);
                  return (await call('maintenance.purgeJournal', { olderThanDays: Number(days) })).message;
                })
              }
            >
              {fr.maintenance.purgeConfirm(Number(days))}
            </Button>
          ) : (
            <Button
              onClick={() => {
                const n = Number(days);
                if (!Number.isInteger(n) || n < 1 || n > 3650) {
                  setDaysError(fr.maintenance.purgeDaysInvalid);
                  return;
                }
                setDaysError(null);
                setPurgeAsked(true);
              }}
            >
              {fr.maintenance.purgeButton}
            </Button>
          )}
        </div>
      </div>

      <h3>{fr.maintenance.forget}</h3>
      <WarnBanner>{fr.maintenance.forgetHelp(software)}</WarnBanner>
      {shown('forget')}
      <div className="row" style={{ alignItems: 'flex-end' }}>
        <div style={{ minWidth: 260 }}>
          <Select id="maint-forget-flow" label={fr.maintenance.flow} value={forgetFlow} onChange={(v) => setForgetFlow(v as FlowChoice)} options={flows} />
        </div>
        <Field id="maint-forget-word" label={fr.maintenance.forgetConfirm(FORGET_CONFIRMATION)} value={word} onChange={setWord} autoComplete="off" />
        <div className="field">
          <Button
            variant="danger"
            disabled={word.trim().toUpperCase() !== FORGET_CONFIRMATION}
            busy={busy === 'forget'}
            onClick={() =>
              void act('forget', async () => {
                const r = await call('maintenance.forget', { flow: forgetFlow, confirm: word });
                setWord('');
                return r.message;
              })
            }
          >
            {fr.maintenance.forgetButton}
          </Button>
        </div>
      </div>

      <h3>{fr.maintenance.log}</h3>
      {log.loading && !log.data ? <Loading /> : null}
      {log.error ? <ErrorBanner message={log.error.message} onRetry={log.reload} /> : null}
      {log.data && log.data.length === 0 ? <p className="muted">{fr.maintenance.logEmpty}</p> : null}
      {log.data && log.data.length > 0 ? (
        <Table
          columns={[
            { key: 'at', header: fr.journal.at, minWidth: '8rem', render: (e) => formatDateTime(e.at) },
            { key: 'action', header: fr.journal.action, render: (e) => fr.maintenance.actions[e.action] ?? e.action },
            { key: 'outcome', header: fr.journal.status, render: (e) => <StatusBadge tone={OUTCOME_TONE[e.outcome]}>{fr.maintenance.outcome[e.outcome] ?? e.outcome}</StatusBadge> },
            { key: 'machine', header: fr.journal.machine, render: (e) => e.machine },
            { key: 'message', header: fr.journal.reason, render: (e) => e.message },
          ]}
          rows={log.data.slice(0, 10)}
          rowKey={(e) => e.id}
          caption={fr.maintenance.log}
          testId="maintenance-log"
        />
      ) : null}
    </Card>
  );
}

// ---------------------------------------------------------------------------------------------
// Assistance
// ---------------------------------------------------------------------------------------------

export function SupportCard() {
  const call = useCall();
  const [busy, setBusy] = useState<string | null>(null);
  const [exported, setExported] = useState<{ path: string; fileName: string; bytes: number; entries: number } | null>(null);
  const [where, setWhere] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = async (key: string, fn: () => Promise<void>) => {
    setBusy(key);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  return (
    <Card title={fr.support.title} data-testid="settings-support">
      <p className="muted">{fr.support.intro}</p>
      <p className="small muted">{fr.support.exportHelp}</p>
      {error ? <ErrorBanner message={error} /> : null}
      {exported ? (
        <SuccessBanner message={fr.support.exported(exported.fileName, kb(exported.bytes))} details={{ emplacement: exported.path, contenu: count(exported.entries, 'fichier', 'fichiers') }} />
      ) : null}
      {where ? <p className="small">{fr.support.path(where)}</p> : null}
      <div className="row">
        <Button
          variant="primary"
          busy={busy === 'export'}
          onClick={() =>
            void run('export', async () => {
              const r = await call('diagnostics.export');
              setExported({ path: r.path, fileName: r.fileName, bytes: r.bytes, entries: r.entries.length });
            })
          }
          data-testid="export-diagnostic"
        >
          {fr.support.export}
        </Button>
        {exported ? (
          <Button
            busy={busy === 'reveal'}
            onClick={() =>
              void run('reveal', async () => {
                const r = await call('diagnostics.reveal', { path: exported.path });
                if (!r.opened) setWhere(r.path);
              })
            }
          >
            {fr.support.reveal}
          </Button>
        ) : null}
        <Button
          busy={busy === 'logs'}
          onClick={() =>
            void run('logs', async () => {
              const r = await call('diagnostics.openLogFolder');
              setWhere(r.opened ? null : r.path);
            })
          }
          data-testid="open-logs"
        >
          {fr.support.openLogs}
        </Button>
      </div>
    </Card>
  );
}
