/**
 * Settings: each section of the wizard, editable on its own, plus the schedule, the PC name, the updates,
 * the protection on a shared PC, Maintenance and Assistance (settings-tools.tsx). A link may name a section
 * (`#/settings?section=maintenance`): the page scrolls to it and moves the focus there.
 */
import { ImportsSettingsCard } from '../components/imports-settings.js';
import { NetworkSettingsCard } from '../components/network-settings.js';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ConnectionDiagnosis } from '../../shared/domain.js';
import type { DetectedTable, NavTarget, ProtectionStatus, SettingsPatch, SettingsView } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useQuery } from '../lib/backend.js';
import { useFocusAfterRender } from '../lib/focus.js';
import {
  bsDraft,
  bsPatch,
  bufferDraft,
  bufferPatch,
  clearEdited,
  hasErrors,
  optionsDraft,
  optionsPatch,
  softwareLabel,
  sqlDraft,
  sqlPatch,
  validateBs,
  validateBuffer,
  validateOptions,
  validateSql,
  type Errors,
} from '../lib/drafts.js';
import { Advanced, BsForm, BufferForm, ColumnMappingTable, DiagnosisView, OptionsForm, SqlForm } from '../components/forms.js';
import { useToast } from '../components/toast.js';
import { SqlDiscovery } from '../components/sql-discovery.js';
import { Button, Card, ErrorBanner, Field, Loading, Select, Switch } from '../components/ui.js';
import { ConfigShareCard, MachinesCard } from './settings-machines.js';
import { MaintenanceCard, ProtectionCard, SupportCard, UpdatesCard } from './settings-tools.js';
import { ChantiersCard } from './settings-chantiers.js';

type Section = NonNullable<NavTarget['section']>;

interface SettingsPageProps {
  onSaved: (v: SettingsView) => void;
  onRerunWizard: () => void;
  /** The section a link asked for. */
  section?: Section | null;
  protection?: ProtectionStatus | null;
  onProtection?: (s: ProtectionStatus) => void;
}

export function SettingsPage({ onSaved, onRerunWizard, section = null, protection = null, onProtection = () => undefined }: SettingsPageProps) {
  const q = useQuery((c) => c('settings.get'));
  // A configuration imported from another PC: the sections start again from the new values.
  const [generation, setGeneration] = useState(0);
  if (q.loading && !q.data) return <Loading />;
  if (q.error && !q.data) return <ErrorBanner message={q.error.message} onRetry={q.reload} />;
  if (!q.data) return null;
  return (
    <>
      {q.error ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : null}
      <SettingsEditor
        key={generation}
        view={q.data}
        onSaved={(v) => {
          q.setData(v);
          onSaved(v);
        }}
        onRerunWizard={onRerunWizard}
        section={section}
        protection={protection}
        onProtection={onProtection}
      />
      <MachinesCard software={softwareLabel(q.data.software)} />
      <ConfigShareCard
        onImported={(v) => {
          q.setData(v);
          onSaved(v);
          setGeneration((g) => g + 1);
        }}
      />
    </>
  );
}

/** A section a link can point at: scrolled into view and focused once the page is there. */
function Anchor({ id, active, children }: { id: Section; active: boolean; children: ReactNode }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!active) return;
    const t = window.setTimeout(() => {
      ref.current?.scrollIntoView({ block: 'start' });
      ref.current?.focus();
    }, 20);
    return () => window.clearTimeout(t);
  }, [active]);
  return (
    <div id={`section-${id}`} ref={ref} tabIndex={-1} className="section-anchor">
      {children}
    </div>
  );
}

function SettingsEditor({
  view,
  onSaved,
  onRerunWizard,
  section: sectionAsked,
  protection,
  onProtection,
}: {
  view: SettingsView;
  onSaved: (v: SettingsView) => void;
  onRerunWizard: () => void;
  section: Section | null;
  protection: ProtectionStatus | null;
  onProtection: (s: ProtectionStatus) => void;
}) {
  const call = useCall();
  const toast = useToast();
  const [sql, setSql] = useState(() => sqlDraft(view));
  const [buffer, setBuffer] = useState(() => bufferDraft(view));
  const [bs, setBs] = useState(() => bsDraft(view));
  const [opts, setOpts] = useState(() => optionsDraft(view));
  const [machineName, setMachineName] = useState(view.machineName);
  const [errors, setErrors] = useState<Record<string, Errors>>({});
  const [diag, setDiag] = useState<Record<string, ConnectionDiagnosis | null>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [sectionError, setSectionError] = useState<Record<string, string | null>>({});
  const [tables, setTables] = useState<DetectedTable[] | null>(null);
  const software = softwareLabel(opts.software);
  const focusAfter = useFocusAfterRender();
  /** A field's message goes as soon as the field is edited (it belonged to the previous attempt). */
  const edit =
    <D extends object>(key: string, current: D, set: (d: D) => void) =>
    (d: D) => {
      setErrors((x) => ({ ...x, [key]: clearEdited(x[key] ?? {}, current, d) }));
      set(d);
    };

  const save = async (section: string, patch: SettingsPatch, after?: () => void) => {
    setBusy(`save-${section}`);
    setSectionError((s) => ({ ...s, [section]: null }));
    try {
      const v = await call('settings.update', patch);
      after?.();
      onSaved(v);
      toast.show(fr.common.saved, 'ok');
    } catch (e) {
      setSectionError((s) => ({ ...s, [section]: errorMessage(e) }));
      focusAfter(`#settings-error-${section}`);
    } finally {
      setBusy(null);
    }
  };

  const test = async (section: 'sql' | 'buffer' | 'bs') => {
    setBusy(`test-${section}`);
    setDiag((d) => ({ ...d, [section]: null }));
    setSectionError((s) => ({ ...s, [section]: null }));
    try {
      const d =
        section === 'sql'
          ? await call('sqlServer.test', { override: sqlPatch(sql) })
          : section === 'buffer'
            ? await call('buffer.test', { override: bufferPatch(buffer) })
            : await call('batisimply.test', { override: bsPatch(bs) });
      setDiag((x) => ({ ...x, [section]: d }));
      // The connection works with what is typed: the previous attempt's field messages no longer apply.
      if (d.ok) setErrors((x) => ({ ...x, [section]: {} }));
      focusAfter(`#settings-diag-${section}`);
    } catch (e) {
      setSectionError((s) => ({ ...s, [section]: errorMessage(e) }));
      focusAfter(`#settings-error-${section}`);
    } finally {
      setBusy(null);
    }
  };

  const detect = async () => {
    setBusy('detect');
    setSectionError((s) => ({ ...s, options: null }));
    try {
      setTables((await call('sqlServer.detectColumns', { override: { columnOverrides: optionsPatch(opts).sqlServer?.columnOverrides } })).tables);
    } catch (e) {
      setSectionError((s) => ({ ...s, options: errorMessage(e) }));
    } finally {
      setBusy(null);
    }
  };

  const section = (
    key: string,
    title: string,
    body: ReactNode,
    onSave: () => void,
    testKey?: 'sql' | 'buffer' | 'bs',
  ) => (
    <Card title={title} data-testid={`settings-${key}`}>
      {sectionError[key] ? <ErrorBanner id={`settings-error-${key}`} message={sectionError[key] ?? ''} /> : null}
      {body}
      {testKey ? (
        <div aria-live="polite">
          <DiagnosisView diagnosis={diag[testKey] ?? null} id={`settings-diag-${testKey}`} />
        </div>
      ) : null}
      <div className="row row-end">
        {testKey ? (
          <Button onClick={() => void test(testKey)} busy={busy === `test-${testKey}`}>
            {fr.common.test}
          </Button>
        ) : null}
        <Button variant="primary" onClick={onSave} busy={busy === `save-${key}`}>
          {fr.settings.saveSection}
        </Button>
      </div>
    </Card>
  );

  return (
    <div data-testid="page-settings">
      <div className="page-head">
        <div>
          <h1>{fr.settings.title}</h1>
          <p>{fr.settings.intro}</p>
        </div>
        <Button onClick={onRerunWizard}>{fr.settings.rerunWizard}</Button>
      </div>

      {section(
        'sql',
        fr.sql.title(software),
        <>
          <SqlForm draft={sql} onChange={edit('sql', sql, setSql)} errors={errors.sql ?? {}} passwordSaved={view.sqlServer.password.set} software={software} />
          <SqlDiscovery draft={sql} onChange={edit('sql', sql, setSql)} passwordSaved={view.sqlServer.password.set} software={software} />
        </>,
        () => {
          const e = validateSql(sql, view.sqlServer.password.set);
          setErrors((x) => ({ ...x, sql: e }));
          if (hasErrors(e)) focusAfter('[data-testid="settings-sql"] [aria-invalid="true"]');
          else void save('sql', { sqlServer: sqlPatch(sql) }, () => setSql((s) => ({ ...s, password: '' })));
        },
        'sql',
      )}
      {section(
        'buffer',
        fr.buffer.title,
        <BufferForm draft={buffer} onChange={edit('buffer', buffer, setBuffer)} errors={errors.buffer ?? {}} passwordSaved={view.buffer.remote.password.set} />,
        () => {
          const e = validateBuffer(buffer);
          setErrors((x) => ({ ...x, buffer: e }));
          if (hasErrors(e)) focusAfter('[data-testid="settings-buffer"] [aria-invalid="true"]');
          else void save('buffer', { buffer: bufferPatch(buffer) }, () => setBuffer((s) => ({ ...s, password: '' })));
        },
        'buffer',
      )}
      {section(
        'bs',
        fr.batisimply.title,
        <BsForm
          draft={bs}
          onChange={edit('bs', bs, setBs)}
          errors={errors.bs ?? {}}
          saved={{ clientSecret: view.batisimply.clientSecret.set, password: view.batisimply.password.set }}
        />,
        () => {
          const e = validateBs(bs, { clientSecret: view.batisimply.clientSecret.set, password: view.batisimply.password.set });
          setErrors((x) => ({ ...x, bs: e }));
          if (hasErrors(e)) focusAfter('[data-testid="settings-bs"] [aria-invalid="true"]');
          else void save('bs', { batisimply: bsPatch(bs) }, () => setBs((s) => ({ ...s, password: '', clientSecret: '' })));
        },
        'bs',
      )}
      {section(
        'options',
        fr.options.title,
        <>
          <OptionsForm draft={opts} onChange={edit('options', opts, setOpts)} errors={errors.options ?? {}} />
          <Advanced testId="options-advanced" open={(tables ?? []).some((t) => !t.exists || t.warnings.length > 0)}>
          <h3>{fr.options.columns}</h3>
          <p className="muted small">{fr.options.columnsIntro(software)}</p>
          {tables
            ? tables.map((t) => (
                <ColumnMappingTable
                  key={t.table}
                  table={t}
                  overrides={opts.overrides[t.table]}
                  onChange={(o) => setOpts({ ...opts, overrides: { ...opts.overrides, [t.table]: o } })}
                />
              ))
            : null}
          <div className="row" style={{ margin: '12px 0' }}>
            <Button onClick={() => void detect()} busy={busy === 'detect'}>
              {fr.options.detect}
            </Button>
          </div>
          </Advanced>
        </>,
        () => {
          const e = validateOptions(opts);
          setErrors((x) => ({ ...x, options: e }));
          if (hasErrors(e)) focusAfter('[data-testid="settings-options"] [aria-invalid="true"]');
          else void save('options', optionsPatch(opts));
        },
      )}
      <ChantiersCard view={view} onSaved={onSaved} software={software} />
      <Anchor id="schedule" active={sectionAsked === 'schedule'}>
        <ScheduleCard software={software} />
      </Anchor>
      <ImportsSettingsCard view={view} onSaved={onSaved} />
      <NetworkSettingsCard view={view} onSaved={onSaved} />
      {section(
        'general',
        fr.settings.general,
        <Field id="machine-name" label={fr.settings.machineName} value={machineName} onChange={setMachineName} maxLength={128} />,
        () => void save('general', { machineName: machineName.trim() }),
      )}
      <Anchor id="updates" active={sectionAsked === 'updates'}>
        <UpdatesCard view={view} onSaved={onSaved} />
      </Anchor>
      <Anchor id="protection" active={sectionAsked === 'protection'}>
        <ProtectionCard status={protection} onStatus={onProtection} />
      </Anchor>
      <Anchor id="maintenance" active={sectionAsked === 'maintenance'}>
        <MaintenanceCard software={software} />
        <SupportCard />
      </Anchor>
    </div>
  );
}

function ScheduleCard({ software }: { software: string }) {
  const call = useCall();
  const toast = useToast();
  const q = useQuery((c) => c('schedule.get'));
  const [draft, setDraft] = useState<{ enabled: boolean; minutes: string; retries: string; flows: 'push' | 'hours' | 'all'; startWithWindows: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fieldError, setFieldError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const d =
    draft ??
    (q.data
      ? {
          enabled: q.data.enabled,
          minutes: String(Math.round(q.data.intervalSeconds / 60)),
          retries: String(q.data.retries),
          flows: q.data.flows,
          startWithWindows: q.data.startWithWindows,
        }
      : null);
  const save = async () => {
    if (!d) return;
    const minutes = Number(d.minutes);
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440) {
      setFieldError(fr.schedule.intervalInvalid);
      return;
    }
    setFieldError(null);
    setBusy(true);
    setError(null);
    try {
      q.setData(
        await call('schedule.set', {
          enabled: d.enabled,
          intervalSeconds: minutes * 60,
          retries: Number(d.retries),
          flows: d.flows,
          startWithWindows: d.startWithWindows,
        }),
      );
      setDraft(null);
      toast.show(fr.common.saved, 'ok');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={fr.schedule.title} data-testid="settings-schedule">
      {q.loading && !q.data ? <Loading /> : null}
      {q.error ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : null}
      {error ? <ErrorBanner message={error} /> : null}
      {d ? (
        <>
          <Switch id="sch-enabled" label={fr.schedule.enabled} checked={d.enabled} onChange={(v) => setDraft({ ...d, enabled: v })} />
          <div className="form-grid">
            <Field id="sch-interval" label={fr.schedule.interval} value={d.minutes} onChange={(v) => setDraft({ ...d, minutes: v })} error={fieldError} inputMode="numeric" />
            <Select
              id="sch-retries"
              label={fr.schedule.retries}
              value={d.retries}
              onChange={(v) => setDraft({ ...d, retries: v })}
              options={Array.from({ length: 11 }, (_, i) => ({ value: String(i), label: String(i) }))}
            />
            <Select
              id="sch-flows"
              label={fr.schedule.flows}
              value={d.flows}
              onChange={(v) => setDraft({ ...d, flows: v as 'push' | 'hours' | 'all' })}
              options={[
                { value: 'all', label: fr.flows.all },
                { value: 'push', label: fr.flows.push(software) },
                { value: 'hours', label: fr.flows.hours(software) },
              ]}
            />
          </div>
          <Switch id="sch-windows" label={fr.schedule.startWithWindows} checked={d.startWithWindows} onChange={(v) => setDraft({ ...d, startWithWindows: v })} />
          <div className="row row-end">
            <Button variant="primary" busy={busy} onClick={() => void save()}>
              {fr.settings.saveSection}
            </Button>
          </div>
        </>
      ) : null}
    </Card>
  );
}
