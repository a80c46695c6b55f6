/**
 * The settings section forms, shared by the first-run wizard and the Settings page. Each form is
 * controlled: it shows a draft and reports changes; the container validates, tests and saves.
 */
import type { ReactNode } from 'react';
import type { ConnectionDiagnosis } from '../../shared/domain.js';
import type { DetectedTable } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { keepClosedListValue } from '../lib/focus.js';
import { TIMEZONES, type BsDraft, type BufferDraft, type Errors, type OptionsDraft, type SqlDraft } from '../lib/drafts.js';
import { ErrorBanner, Field, RadioGroup, SecretField, Select, SuccessBanner, Switch, Table, WarnBanner, type Column } from './ui.js';

/** A connection test's result; `id` lets the page move the focus to it once the test is done. */
export function DiagnosisView({ diagnosis, id }: { diagnosis: ConnectionDiagnosis | null; id?: string }) {
  if (!diagnosis) return null;
  return diagnosis.ok ? (
    <SuccessBanner title={fr.diagnosis.ok} message={diagnosis.message} details={diagnosis.details} {...(id ? { id } : {})} />
  ) : (
    <ErrorBanner title={fr.diagnosis.failed} message={diagnosis.message} details={diagnosis.details} {...(id ? { id } : {})} />
  );
}

type FormProps<D> = { draft: D; onChange: (d: D) => void; errors: Errors };

export function SqlForm({
  draft,
  onChange,
  errors,
  passwordSaved,
  software,
}: FormProps<SqlDraft> & { passwordSaved: boolean; software: string }) {
  const set = <K extends keyof SqlDraft>(k: K, v: SqlDraft[K]) => onChange({ ...draft, [k]: v });
  return (
    <div>
      <div className="form-grid">
        <Field id="sql-server" label={fr.sql.server} value={draft.server} onChange={(v) => set('server', v)} help={fr.sql.serverHelp} error={errors.server} autoComplete="off" spellCheck={false} />
        <Field id="sql-database" label={fr.sql.database(software)} value={draft.database} onChange={(v) => set('database', v)} help={fr.sql.databaseHelp} error={errors.database} autoComplete="off" spellCheck={false} />
      </div>
      <RadioGroup
        legend={fr.sql.auth}
        name="sql-auth"
        value={draft.authentication}
        onChange={(v) => set('authentication', v)}
        options={[
          { value: 'sql', label: fr.sql.authSql },
          { value: 'windows', label: fr.sql.authWindows },
        ]}
      />
      <div className="form-grid">
        {draft.authentication === 'windows' ? (
          <Field id="sql-domain" label={fr.sql.domain} value={draft.domain} onChange={(v) => set('domain', v)} error={errors.domain} autoComplete="off" />
        ) : null}
        <Field id="sql-user" label={fr.sql.user} value={draft.user} onChange={(v) => set('user', v)} error={errors.user} autoComplete="off" spellCheck={false} />
        <SecretField id="sql-password" label={fr.sql.password} saved={passwordSaved} value={draft.password} onChange={(v) => set('password', v)} error={errors.password} />
      </div>
      <div className="form-grid">
        <Switch id="sql-encrypt" label={fr.sql.encrypt} checked={draft.encrypt} onChange={(v) => set('encrypt', v)} help={fr.sql.encryptHelp} />
        <Switch id="sql-trust" label={fr.sql.trust} checked={draft.trustServerCertificate} onChange={(v) => set('trustServerCertificate', v)} help={fr.sql.trustHelp} />
      </div>
    </div>
  );
}

export function BufferForm({ draft, onChange, errors, passwordSaved }: FormProps<BufferDraft> & { passwordSaved: boolean }) {
  const set = <K extends keyof BufferDraft>(k: K, v: BufferDraft[K]) => onChange({ ...draft, [k]: v });
  return (
    <div>
      <RadioGroup
        legend={fr.buffer.kind}
        name="buffer-kind"
        cards
        value={draft.kind}
        onChange={(v) => set('kind', v)}
        options={[
          { value: 'embedded', label: fr.buffer.embedded, help: fr.buffer.embeddedHelp },
          { value: 'remote', label: fr.buffer.remote, help: fr.buffer.remoteHelp },
        ]}
      />
      {draft.kind === 'remote' ? (
        <>
          <div className="form-grid">
            <Field id="buf-host" label={fr.buffer.host} value={draft.host} onChange={(v) => set('host', v)} error={errors.host} autoComplete="off" />
            <Field id="buf-port" label={fr.buffer.port} value={draft.port} onChange={(v) => set('port', v)} error={errors.port} inputMode="numeric" />
            <Field id="buf-database" label={fr.buffer.database} value={draft.database} onChange={(v) => set('database', v)} error={errors.database} autoComplete="off" />
            <Field id="buf-user" label={fr.buffer.user} value={draft.user} onChange={(v) => set('user', v)} error={errors.user} autoComplete="off" />
            <SecretField id="buf-password" label={fr.buffer.password} saved={passwordSaved} value={draft.password} onChange={(v) => set('password', v)} error={errors.password} />
          </div>
          <Switch id="buf-ssl" label={fr.buffer.ssl} checked={draft.ssl} onChange={(v) => set('ssl', v)} />
        </>
      ) : null}
    </div>
  );
}

/** Technical settings folded under « Avancé », each with a sentence of help; open when one differs from the default. */
export function Advanced({ children, open, testId }: { children: ReactNode; open?: boolean; testId?: string }) {
  return (
    <details className="advanced" open={open} data-testid={testId}>
      <summary>{fr.common.advanced}</summary>
      <div className="advanced-body">{children}</div>
    </details>
  );
}

export function BsForm({
  draft,
  onChange,
  errors,
  saved,
}: FormProps<BsDraft> & { saved: { clientSecret: boolean; password: boolean } }) {
  const set = <K extends keyof BsDraft>(k: K, v: BsDraft[K]) => onChange({ ...draft, [k]: v });
  const advancedOpen = draft.environment !== 'production' || draft.grantType !== 'password' || Boolean(errors.ssoUrl || errors.apiUrl);
  return (
    <div>
      <div className="form-grid">
        {draft.grantType === 'password' ? (
          <>
            <Field id="bs-username" label={fr.batisimply.username} value={draft.username} onChange={(v) => set('username', v)} error={errors.username} autoComplete="off" spellCheck={false} />
            <SecretField id="bs-password" label={fr.batisimply.password} saved={saved.password} value={draft.password} onChange={(v) => set('password', v)} error={errors.password} />
          </>
        ) : null}
        <Field id="bs-client-id" label={fr.batisimply.clientId} value={draft.clientId} onChange={(v) => set('clientId', v)} help={fr.batisimply.clientIdHelp} error={errors.clientId} autoComplete="off" spellCheck={false} />
        <SecretField id="bs-client-secret" label={fr.batisimply.clientSecret} saved={saved.clientSecret} value={draft.clientSecret} onChange={(v) => set('clientSecret', v)} help={fr.batisimply.clientSecretHelp} error={errors.clientSecret} />
      </div>
      <Advanced open={advancedOpen} testId="bs-advanced">
        <RadioGroup
          legend={fr.batisimply.environment}
          name="bs-env"
          value={draft.environment}
          onChange={(v) => set('environment', v)}
          help={fr.batisimply.environmentHelp}
          options={[
            { value: 'production', label: fr.batisimply.production },
            { value: 'staging', label: fr.batisimply.staging },
            { value: 'custom', label: fr.batisimply.custom },
          ]}
        />
        {draft.environment === 'custom' ? (
          <div className="form-grid">
            <Field id="bs-sso" label={fr.batisimply.ssoUrl} value={draft.ssoUrl} onChange={(v) => set('ssoUrl', v)} help={fr.batisimply.ssoUrlHelp} error={errors.ssoUrl} type="url" spellCheck={false} />
            <Field id="bs-api" label={fr.batisimply.apiUrl} value={draft.apiUrl} onChange={(v) => set('apiUrl', v)} help={fr.batisimply.apiUrlHelp} error={errors.apiUrl} type="url" spellCheck={false} />
          </div>
        ) : null}
        <Select
          id="bs-grant"
          label={fr.batisimply.grantType}
          value={draft.grantType}
          onChange={(v) => set('grantType', v === 'client_credentials' ? 'client_credentials' : 'password')}
          help={fr.batisimply.grantTypeHelp}
          options={[
            { value: 'password', label: fr.batisimply.grantPassword },
            { value: 'client_credentials', label: fr.batisimply.grantClient },
          ]}
        />
      </Advanced>
    </div>
  );
}

export function OptionsForm({
  draft,
  onChange,
  errors,
}: FormProps<OptionsDraft>) {
  const set = <K extends keyof OptionsDraft>(k: K, v: OptionsDraft[K]) => onChange({ ...draft, [k]: v });
  return (
    <div>
      <RadioGroup
        legend={fr.options.software}
        name="software"
        value={draft.software}
        onChange={(v) => set('software', v)}
        options={[
          { value: 'batigest', label: 'Sage Batigest' },
          { value: 'codial', label: 'Codial' },
        ]}
      />
      <RadioGroup
        legend={fr.options.mode}
        name="mode"
        cards
        value={draft.mode}
        onChange={(v) => set('mode', v)}
        options={[
          { value: 'chantier', label: fr.options.modeChantier, help: fr.options.modeChantierHelp },
          { value: 'devis', label: fr.options.modeDevis, help: fr.options.modeDevisHelp },
        ]}
      />
      <div className="form-grid">
        <Select id="opt-tz" label={fr.options.timezone} value={draft.timezone} onChange={(v) => set('timezone', v)} options={TIMEZONES.map((t) => ({ value: t, label: t }))} />
        <Field id="opt-window" label={fr.options.windowDays} value={draft.windowDays} onChange={(v) => set('windowDays', v)} help={fr.options.windowHelp} error={errors.windowDays} inputMode="numeric" />
      </div>
      <Switch id="opt-remove" label={fr.options.removeUnvalidated} checked={draft.removeUnvalidated} onChange={(v) => set('removeUnvalidated', v)} help={fr.options.removeUnvalidatedHelp} />
    </div>
  );
}

type MappingRow = DetectedTable['mapping'][number];

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/** Detected column mapping of one table, with an override select per logical column. */
export function ColumnMappingTable({
  table,
  overrides,
  onChange,
}: {
  table: DetectedTable;
  overrides: Record<string, string>;
  onChange: (o: Record<string, string>) => void;
}) {
  if (!table.exists) return <WarnBanner>{fr.options.tableMissing(table.tableName)}</WarnBanner>;
  const columnNames = table.columns.map((c) => c.name);
  const cols: Column<MappingRow>[] = [
    { key: 'logical', header: fr.options.logical, render: (r) => <span>{capitalize(r.label)}{r.required ? ' *' : ''}</span> },
    {
      key: 'detected',
      header: fr.options.detected,
      render: (r) => (r.detected ? <code>{r.detected}</code> : <span className="muted">{fr.options.notFound}</span>),
    },
    {
      key: 'override',
      header: fr.options.override,
      render: (r) => (
        <select
          className="select"
          aria-label={`${fr.options.override} : ${capitalize(r.label)}`}
          value={overrides[r.logical] ?? ''}
          onKeyDown={keepClosedListValue}
          onChange={(e) => onChange({ ...overrides, [r.logical]: e.target.value })}
          data-testid={`override-${table.table}-${r.logical}`}
        >
          <option value="">
            {fr.options.auto}
            {r.detected ? ` (${r.detected})` : ''}
          </option>
          {[...new Set([...r.candidates, ...columnNames])].map((c) => (
            <option key={c} value={c}>
              {c}
            </option>
          ))}
        </select>
      ),
    },
  ];
  return (
    <div className="stack">
      <h3 className="small">
        <code>{table.tableName}</code>
      </h3>
      {table.warnings.map((w) => (
        <WarnBanner key={w}>{w}</WarnBanner>
      ))}
      <Table columns={cols} rows={table.mapping} rowKey={(r) => r.logical} caption={table.tableName} testId={`columns-${table.table}`} />
    </div>
  );
}
