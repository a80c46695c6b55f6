/**
 * First-run wizard: licence → SQL Server → buffer → BatiSimply → options (with the detected column
 * mapping) → employee mapping → schedule and summary. Each step validates (and tests the connection) before
 * moving on; drafts live here so going back keeps what was typed; a saved secret is never shown again.
 * The last step asks how the connector works unattended — automatic sync (on, every 5 minutes, by
 * default) and start with Windows (on by default) — and says what will happen next.
 */
import { ImportsSettingsCard } from '../components/imports-settings.js';
import { useState, type ReactNode } from 'react';
import { useFocusAfterRender } from '../lib/focus.js';
import { mappingSession, mayLeave } from '../lib/session.js';
import type { ConnectionDiagnosis } from '../../shared/domain.js';
import type { DetectedTable, LicenceStatus, SettingsView } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall } from '../lib/backend.js';
import { useNow } from '../lib/use-now.js';
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
import { ScopeSummary } from './settings-chantiers.js';
import { MappingPanel } from '../components/mapping-panel.js';
import { SqlDiscovery } from '../components/sql-discovery.js';
import { atTime } from '../../shared/connector-state.js';
import { Button, Card, ErrorBanner, Facts, Loading, Select, Stepper, Switch, WarnBanner } from '../components/ui.js';
import { LicenceFacts, LicenceKeyForm } from './licence.js';
import { ConfigImport } from './settings-machines.js';

type StepResult = { ok: true } | { ok: false };

/** The schedule asked for at the last step. */
interface ScheduleDraft {
  enabled: boolean;
  minutes: number;
  startWithWindows: boolean;
}
const MINUTES = [5, 10, 15, 30, 60, 120, 240];

/** First setup: on, every 5 minutes, with Windows. A wizard run again keeps what was chosen. */
function scheduleDraft(v: SettingsView): ScheduleDraft {
  if (!v.setupCompleted) return { enabled: true, minutes: 5, startWithWindows: true };
  return { enabled: v.schedule.enabled, minutes: Math.max(1, Math.round(v.schedule.intervalSeconds / 60)), startWithWindows: v.schedule.startWithWindows };
}

export function Wizard({
  initial,
  licence: initialLicence,
  licenceError = null,
  onDone,
}: {
  initial: SettingsView;
  licence: LicenceStatus | null;
  /** Why the licence status could not be read at start. */
  licenceError?: string | null;
  onDone: (s: SettingsView) => void;
}) {
  const call = useCall();
  const [view, setView] = useState(initial);
  const [step, setStep] = useState(0);
  const [licence, setLicence] = useState<LicenceStatus | null>(initialLicence);
  /** The status came from the key form, which shows a refusal under the field itself. */
  const [licenceFromForm, setLicenceFromForm] = useState(false);
  const [sql, setSql] = useState(() => sqlDraft(initial));
  const [buffer, setBuffer] = useState(() => bufferDraft(initial));
  const [bs, setBs] = useState(() => bsDraft(initial));
  const [opts, setOpts] = useState(() => optionsDraft(initial));
  const [errors, setErrors] = useState<Errors>({});
  const [diag, setDiag] = useState<Record<string, ConnectionDiagnosis | null>>({});
  const [busy, setBusy] = useState<string | null>(null);
  const [stepError, setStepError] = useState<string | null>(null);
  const [tables, setTables] = useState<DetectedTable[] | null>(null);
  const [tablesError, setTablesError] = useState<string | null>(null);
  const [mappingPending, setMappingPending] = useState(0);
  const [schedule, setSchedule] = useState<ScheduleDraft>(() => scheduleDraft(initial));

  const software = softwareLabel(opts.software);
  const steps = fr.wizard.steps;
  const focusAfter = useFocusAfterRender();
  /** A field's message goes as soon as the field is edited (it belonged to the previous attempt). */
  const edit =
    <D extends object>(current: D, set: (d: D) => void) =>
    (d: D) => {
      setErrors((e) => clearEdited(e, current, d));
      set(d);
    };
  /** A failed check: the focus goes to the first field refused, else to the message. */
  const focusProblem = () => focusAfter('[data-testid^="wizard-step-"] [aria-invalid="true"], #wizard-step-error');

  const go = (n: number) => {
    // Going back from the mapping step with unsaved choices asks first.
    if (n < step && !mayLeave()) return;
    setErrors({});
    setStepError(null);
    setStep(n);
    window.scrollTo(0, 0);
    // The new step's heading takes the focus: a screen reader reads « Étape 3 sur 7 : … ».
    focusAfter('#wizard-step-title');
  };

  const detect = async () => {
    setBusy('detect');
    setTablesError(null);
    try {
      const res = await call('sqlServer.detectColumns', { override: { columnOverrides: optionsPatch(opts).sqlServer?.columnOverrides } });
      setTables(res.tables);
    } catch (e) {
      setTablesError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };

  /** Tests a connection with the typed values; on success saves them and clears typed secrets. */
  const testAndSave = async (which: 'sql' | 'buffer' | 'bs', save: boolean): Promise<StepResult> => {
    setBusy(which);
    setStepError(null);
    setDiag((d) => ({ ...d, [which]: null }));
    try {
      let d: ConnectionDiagnosis;
      if (which === 'sql') d = await call('sqlServer.test', { override: sqlPatch(sql) });
      else if (which === 'buffer') d = await call('buffer.test', { override: bufferPatch(buffer) });
      else d = await call('batisimply.test', { override: bsPatch(bs) });
      setDiag((x) => ({ ...x, [which]: d }));
      if (!d.ok || !save) focusAfter(`#wizard-diag-${which}`);
      if (!d.ok) return { ok: false };
      // The connection works with what is typed: the previous attempt's field messages no longer apply.
      setErrors({});
      if (save) {
        let v: SettingsView;
        if (which === 'sql') {
          v = await call('settings.update', { sqlServer: sqlPatch(sql) });
          setSql((s) => ({ ...s, password: '' }));
        } else if (which === 'buffer') {
          v = await call('settings.update', { buffer: bufferPatch(buffer) });
          setBuffer((s) => ({ ...s, password: '' }));
        } else {
          v = await call('settings.update', { batisimply: bsPatch(bs) });
          setBs((s) => ({ ...s, password: '', clientSecret: '' }));
        }
        setView(v);
        // Other connection settings: the mapping step fetches its lists again.
        mappingSession.forget();
      }
      return { ok: true };
    } catch (e) {
      setStepError(errorMessage(e));
      focusAfter('#wizard-step-error');
      return { ok: false };
    } finally {
      setBusy(null);
    }
  };

  /** Another PC's configuration imported: every step starts from it (its secrets are asked at their step). */
  const imported = (v: SettingsView) => {
    setView(v);
    setSql(sqlDraft(v));
    setBuffer(bufferDraft(v));
    setBs(bsDraft(v));
    setOpts(optionsDraft(v));
    setSchedule(scheduleDraft(v));
  };

  const next = async () => {
    setStepError(null);
    switch (step) {
      case 0: {
        if (!licence || !licence.syncAllowed) {
          setStepError(licence ? licence.message : fr.wizard.licenceFirst);
          focusAfter('#wizard-step-error');
          return;
        }
        go(1);
        return;
      }
      case 1: {
        const e = validateSql(sql, view.sqlServer.password.set);
        setErrors(e);
        if (hasErrors(e)) return focusProblem();
        if ((await testAndSave('sql', true)).ok) go(2);
        return;
      }
      case 2: {
        const e = validateBuffer(buffer);
        setErrors(e);
        if (hasErrors(e)) return focusProblem();
        if ((await testAndSave('buffer', true)).ok) go(3);
        return;
      }
      case 3: {
        const e = validateBs(bs, { clientSecret: view.batisimply.clientSecret.set, password: view.batisimply.password.set });
        setErrors(e);
        if (hasErrors(e)) return focusProblem();
        if ((await testAndSave('bs', true)).ok) {
          go(4);
          if (!tables) void detect();
        }
        return;
      }
      case 4: {
        const e = validateOptions(opts);
        setErrors(e);
        if (hasErrors(e)) return focusProblem();
        setBusy('save');
        try {
          setView(await call('settings.update', optionsPatch(opts)));
          go(5);
        } catch (err) {
          setStepError(errorMessage(err));
          focusAfter('#wizard-step-error');
        } finally {
          setBusy(null);
        }
        return;
      }
      case 5:
        if (mappingPending > 0) {
          setStepError(fr.wizard.mappingUnsaved(mappingPending));
          focusAfter('#wizard-step-error');
          return;
        }
        go(6);
        return;
      case 6: {
        setBusy('save');
        try {
          await call('schedule.set', { enabled: schedule.enabled, intervalSeconds: schedule.minutes * 60, startWithWindows: schedule.startWithWindows });
          const v = await call('settings.update', { setupCompleted: true });
          onDone(v);
        } catch (err) {
          setStepError(errorMessage(err));
          focusAfter('#wizard-step-error');
        } finally {
          setBusy(null);
        }
        return;
      }
    }
  };

  let body: ReactNode = null;
  let title = '';
  let intro: ReactNode = null;
  switch (step) {
    case 0:
      title = fr.licence.title;
      intro = fr.licence.intro;
      body = (
        <div className="stack">
          <section aria-labelledby="wizard-import-title" className="stack">
            <h3 id="wizard-import-title">{fr.configShare.wizardOffer}</h3>
            <p>{fr.configShare.wizardOfferHelp}</p>
            <ConfigImport label={fr.configShare.wizardOffer} onImported={imported} />
          </section>
          {!licence && licenceError ? <ErrorBanner message={licenceError} /> : null}
          {licence && licence.state !== 'missing' ? (
            <>
              {licenceFromForm && !licence.syncAllowed ? null : <p id="wizard-licence-result">{licence.message}</p>}
              <LicenceFacts status={licence} />
            </>
          ) : null}
          <LicenceKeyForm
            onStatus={(s) => {
              setLicence(s);
              setLicenceFromForm(true);
              // « Saisissez et validez la clé… » belonged to the attempt before this key.
              if (s.syncAllowed) {
                setStepError(null);
                focusAfter('#wizard-licence-result');
              }
            }}
          />
        </div>
      );
      break;
    case 1:
      title = fr.sql.title(software);
      intro = fr.sql.intro(software);
      body = (
        <>
          <SqlForm draft={sql} onChange={edit(sql, setSql)} errors={errors} passwordSaved={view.sqlServer.password.set} software={software} />
          <SqlDiscovery draft={sql} onChange={edit(sql, setSql)} passwordSaved={view.sqlServer.password.set} software={software} />
          <TestRow id="wizard-diag-sql" busy={busy === 'sql'} onTest={() => void testAndSave('sql', false)} diagnosis={diag.sql ?? null} />
        </>
      );
      break;
    case 2:
      title = fr.buffer.title;
      intro = fr.buffer.intro;
      body = (
        <>
          <BufferForm draft={buffer} onChange={edit(buffer, setBuffer)} errors={errors} passwordSaved={view.buffer.remote.password.set} />
          <TestRow id="wizard-diag-buffer" busy={busy === 'buffer'} onTest={() => void testAndSave('buffer', false)} diagnosis={diag.buffer ?? null} />
        </>
      );
      break;
    case 3:
      title = fr.batisimply.title;
      intro = fr.batisimply.intro;
      body = (
        <>
          <BsForm
            draft={bs}
            onChange={edit(bs, setBs)}
            errors={errors}
            saved={{ clientSecret: view.batisimply.clientSecret.set, password: view.batisimply.password.set }}
          />
          <TestRow id="wizard-diag-bs" busy={busy === 'bs'} onTest={() => void testAndSave('bs', false)} diagnosis={diag.bs ?? null} />
        </>
      );
      break;
    case 4:
      title = fr.options.title;
      body = (
        <>
          <OptionsForm draft={opts} onChange={edit(opts, setOpts)} errors={errors} />
          {opts.mode === 'chantier' ? <ScopeSummary /> : null}
          <Advanced testId="options-advanced" open={Boolean(tablesError) || (tables ?? []).some((t) => !t.exists || t.warnings.length > 0)}>
          <h3>{fr.options.columns}</h3>
          <p className="muted small">{fr.options.columnsIntro(software)}</p>
          {tablesError ? <ErrorBanner message={tablesError} onRetry={() => void detect()} /> : null}
          {busy === 'detect' ? <Loading /> : null}
          {tables
            ? tables
                .filter((t) => t.table !== (opts.mode === 'chantier' ? 'devis' : 'chantier'))
                .map((t) => (
                  <ColumnMappingTable
                    key={t.table}
                    table={t}
                    overrides={opts.overrides[t.table]}
                    onChange={(o) => setOpts({ ...opts, overrides: { ...opts.overrides, [t.table]: o } })}
                  />
                ))
            : null}
          <div className="row" style={{ marginTop: 12 }}>
            <Button onClick={() => void detect()} busy={busy === 'detect'}>
              {fr.options.detect}
            </Button>
          </div>
          </Advanced>
        </>
      );
      break;
    case 5:
      title = fr.mapping.title;
      intro = fr.mapping.intro(software);
      body = (
        <>
          <WarnBanner>{fr.wizard.mappingLater}</WarnBanner>
          <MappingPanel software={software} onPendingChange={setMappingPending} />
        </>
      );
      break;
    case 6:
      title = steps[6];
      intro = fr.wizard.summaryIntro;
      body = (
        <>
          <ScheduleStep draft={schedule} onChange={setSchedule} view={view} software={software} />
          <details className="wizard-optional" data-testid="wizard-imports">
            <summary>{fr.imports.wizardStep}</summary>
            <ImportsSettingsCard view={view} onSaved={setView} headingLevel={3} />
          </details>
          <h3>{fr.wizard.summaryTitle}</h3>
          <Summary view={view} licence={licence} />
        </>
      );
      break;
  }

  return (
    <main className="wizard" id="main" data-testid="wizard">
      <h1>{fr.wizard.title}</h1>
      <p className="muted">{fr.wizard.intro}</p>
      <Stepper steps={steps} current={step} />
      <Card
        title={
          <>
            <span className="sr-only">{fr.wizard.stepOf(step + 1, steps.length)}</span>
            {title}
          </>
        }
        headingId="wizard-step-title"
        data-testid={`wizard-step-${step}`}
      >
        {intro ? <p className="muted">{intro}</p> : null}
        {stepError ? <ErrorBanner id="wizard-step-error" message={stepError} /> : null}
        {body}
        <div className="wizard-actions">
          <Button onClick={() => go(step - 1)} disabled={step === 0 || busy !== null}>
            {fr.common.back}
          </Button>
          <Button variant="primary" size="lg" busy={busy !== null && busy !== 'detect'} onClick={() => void next()} data-testid="wizard-next">
            {step === steps.length - 1 ? fr.common.finish : fr.common.next}
          </Button>
        </div>
      </Card>
    </main>
  );
}

function TestRow({ id, busy, onTest, diagnosis }: { id: string; busy: boolean; onTest: () => void; diagnosis: ConnectionDiagnosis | null }) {
  return (
    <div className="stack" style={{ marginTop: 8 }}>
      <div className="row">
        <Button onClick={onTest} busy={busy}>
          {busy ? fr.common.testing : fr.common.test}
        </Button>
      </div>
      <div aria-live="polite">
        <DiagnosisView diagnosis={diagnosis} id={id} />
      </div>
    </div>
  );
}

function ScheduleStep({ draft, onChange, view, software }: { draft: ScheduleDraft; onChange: (d: ScheduleDraft) => void; view: SettingsView; software: string }) {
  const now = useNow(30_000);
  const first = new Date(now.getTime() + draft.minutes * 60_000).toISOString();
  const options = (MINUTES.includes(draft.minutes) ? MINUTES : [...MINUTES, draft.minutes].sort((a, b) => a - b)).map((m) => ({ value: String(m), label: fr.schedule.minutesOption(m) }));
  return (
    <div className="grid grid-2" data-testid="wizard-schedule">
      <Card title={fr.wizard.scheduleTitle} headingLevel={3}>
        <Switch id="wiz-sch-enabled" label={fr.schedule.enabled} checked={draft.enabled} onChange={(v) => onChange({ ...draft, enabled: v })} />
        <Select
          id="wiz-sch-every"
          label={fr.wizard.every}
          value={String(draft.minutes)}
          onChange={(v) => onChange({ ...draft, minutes: Number(v) })}
          options={options}
          help={fr.wizard.everyHelp}
          disabled={!draft.enabled}
        />
        <Switch
          id="wiz-sch-windows"
          label={fr.schedule.startWithWindows}
          checked={draft.startWithWindows}
          onChange={(v) => onChange({ ...draft, startWithWindows: v })}
          help={fr.wizard.startWithWindowsHelp}
        />
      </Card>
      <Card title={fr.wizard.nextTitle} headingLevel={3}>
        <ul className="next-steps" data-testid="wizard-next-steps" aria-live="polite">
          <li>
            {draft.enabled
              ? fr.wizard.nextScheduled(fr.schedule.everyMinutes(draft.minutes), atTime(first, now).replace(/^à /, 'vers '), fr.wizard.whatFlows(software, view.schedule.flows, view.mode))
              : fr.wizard.nextManual}
          </li>
          <li>{draft.startWithWindows ? fr.wizard.nextWindows : fr.wizard.nextNoWindows}</li>
          <li>{fr.wizard.nextNotify}</li>
        </ul>
      </Card>
    </div>
  );
}

function Summary({ view, licence }: { view: SettingsView; licence: LicenceStatus | null }) {
  const software = softwareLabel(view.software);
  const s = view.sqlServer;
  const b = view.batisimply;
  return (
    <div className="grid grid-2">
      <Card title={fr.licence.title} headingLevel={3}>
        {licence ? <LicenceFacts status={licence} /> : null}
      </Card>
      <Card title={fr.sql.title(software)} headingLevel={3}>
        <Facts
          items={[
            [fr.sql.server, s.server],
            [fr.sql.database(software), s.database],
            [fr.sql.user, s.authentication === 'windows' ? `${s.domain}\\${s.user}` : s.user],
            [fr.sql.password, s.password.set ? fr.common.secretSaved : fr.common.none],
          ]}
        />
      </Card>
      <Card title={fr.buffer.title} headingLevel={3}>
        <Facts
          items={
            view.buffer.kind === 'embedded'
              ? [[fr.buffer.kind, fr.buffer.embedded]]
              : [
                  [fr.buffer.kind, fr.buffer.remote],
                  [fr.buffer.host, `${view.buffer.remote.host}:${view.buffer.remote.port}`],
                  [fr.buffer.database, view.buffer.remote.database],
                ]
          }
        />
      </Card>
      <Card title={fr.batisimply.title} headingLevel={3}>
        <Facts
          items={[
            [fr.batisimply.environment, fr.batisimply[b.environment]],
            [fr.batisimply.apiUrl, b.apiUrl],
            [fr.batisimply.clientId, b.clientId],
            ...(b.grantType === 'password' ? ([[fr.batisimply.username, b.username]] as [string, string][]) : []),
          ]}
        />
      </Card>
      <Card title={fr.options.title} headingLevel={3}>
        <Facts
          items={[
            [fr.options.software, software],
            [fr.options.mode, view.mode === 'chantier' ? fr.options.modeChantier : fr.options.modeDevis],
            [fr.options.timezone, view.hours.timezone],
            [fr.options.windowDays, String(view.hours.windowDays)],
          ]}
        />
      </Card>
    </div>
  );
}
