/**
 * Réglages › Chantiers (issue 18): scope (months), what each Etat value means (detected from the data, with its
 * count), archiving delay, sold hours (chantier column or accepted devis, with the devis' chantier column), deleted
 * chantiers, project name source, and the opt-in changes back to ChantierDef. « Calculer l'aperçu » shows, before
 * the first run, how many chantiers would be sent, what each source of sold hours gives and a name example.
 */
import { useState } from 'react';
import type { ChantiersPreview, SettingsPatch, SettingsView } from '../../shared/contract.js';
import { CHANTIER_BACK_FIELDS, type ChantierBackField, type ChantierEtatRole } from '../../shared/settings.js';
import { formatHours, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall } from '../lib/backend.js';
import { useToast } from '../components/toast.js';
import { Button, Card, ErrorBanner, Field, Select, Switch, Table, WarnBanner, type Column } from '../components/ui.js';

type Chantiers = SettingsView['chantiers'];
const t = fr.chantiers;
const ROLES: readonly ChantierEtatRole[] = ['open', 'finished', 'closed', 'ignored'];

interface Draft {
  scopeMonths: string;
  archiveAfterDays: string;
  etatRoles: Chantiers['etatRoles'];
  hoursSource: Chantiers['hoursSource'];
  devisStates: string;
  devisLink: string;
  deleted: Chantiers['deleted'];
  nameSource: Chantiers['nameSource'];
  backEnabled: boolean;
  backFields: ChantierBackField[];
}

const draftOf = (v: SettingsView): Draft => ({
  scopeMonths: String(v.chantiers.scopeMonths),
  archiveAfterDays: String(v.chantiers.archiveAfterDays),
  etatRoles: { ...v.chantiers.etatRoles },
  hoursSource: v.chantiers.hoursSource,
  devisStates: v.chantiers.devisStates.join(', '),
  devisLink: v.sqlServer.columnOverrides.devis.chantier ?? '',
  deleted: v.chantiers.deleted,
  nameSource: v.chantiers.nameSource,
  backEnabled: v.chantiers.back.enabled,
  backFields: [...v.chantiers.back.fields],
});

const intIn = (s: string, min: number, max: number): number | null => {
  const n = Number(s.trim());
  return s.trim() !== '' && Number.isInteger(n) && n >= min && n <= max ? n : null;
};
const states = (s: string): number[] | null => {
  const parts = s.split(/[,;\s]+/).filter(Boolean);
  const ns = parts.map((p) => intIn(p, -999, 999));
  return ns.every((n): n is number => n !== null) && ns.length <= 20 ? ns : null;
};

/** The patch of the chantiers section, or the French errors of the draft. */
function patchOf(d: Draft, v: SettingsView): { patch: SettingsPatch; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const scopeMonths = intIn(d.scopeMonths, 0, 600);
  const archiveAfterDays = intIn(d.archiveAfterDays, 0, 3650);
  const devisStates = states(d.devisStates);
  if (scopeMonths === null) errors.scope = t.scopeInvalid;
  if (archiveAfterDays === null) errors.archive = t.archiveInvalid;
  if (devisStates === null) errors.states = t.devisStatesInvalid;
  const devis = { ...v.sqlServer.columnOverrides.devis };
  if (d.devisLink) devis.chantier = d.devisLink;
  else delete devis.chantier;
  const patch: SettingsPatch = {
    chantiers: {
      scopeMonths: scopeMonths ?? 24,
      archiveAfterDays: archiveAfterDays ?? 90,
      etatRoles: d.etatRoles,
      hoursSource: d.hoursSource,
      devisStates: devisStates ?? [],
      deleted: d.deleted,
      nameSource: d.nameSource,
      back: { enabled: d.backEnabled, fields: d.backFields },
    },
    sqlServer: { columnOverrides: { ...v.sqlServer.columnOverrides, devis } },
  };
  return { patch, errors };
}

export function ChantiersCard({ view, onSaved, software }: { view: SettingsView; onSaved: (v: SettingsView) => void; software: string }) {
  const call = useCall();
  const toast = useToast();
  const [d, setD] = useState(() => draftOf(view));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState<'save' | 'preview' | null>(null);
  const [preview, setPreview] = useState<ChantiersPreview | null>(null);

  const run = async (what: 'save' | 'preview') => {
    const { patch, errors: e } = patchOf(d, view);
    setErrors(e);
    if (Object.keys(e).length > 0) return;
    setBusy(what);
    setError(null);
    try {
      if (what === 'preview') setPreview(await call('chantiers.preview', { override: patch.chantiers }));
      else {
        onSaved(await call('settings.update', patch));
        toast.show(fr.common.saved, 'ok');
      }
    } catch (x) {
      setError(errorMessage(x));
    } finally {
      setBusy(null);
    }
  };

  return (
    <Card title={t.title} data-testid="settings-chantiers">
      <p className="muted small">{t.intro(software)}</p>
      {error ? <ErrorBanner message={error} /> : null}
      <div className="form-grid">
        <Field id="ch-scope" label={t.scopeMonths} help={t.scopeMonthsHelp} value={d.scopeMonths} onChange={(x) => setD({ ...d, scopeMonths: x })} error={errors.scope} inputMode="numeric" />
        <Field id="ch-archive" label={t.archiveDays} value={d.archiveAfterDays} onChange={(x) => setD({ ...d, archiveAfterDays: x })} error={errors.archive} inputMode="numeric" />
        <Select
          id="ch-deleted"
          label={t.deleted}
          value={d.deleted}
          onChange={(x) => setD({ ...d, deleted: x as Draft['deleted'] })}
          options={[
            { value: 'report', label: t.deletedReport },
            { value: 'finish', label: t.deletedFinish },
            { value: 'archive', label: t.deletedArchive },
          ]}
        />
        <Select
          id="ch-name"
          label={t.nameSource}
          value={d.nameSource}
          help={preview ? exampleOf(preview, d.nameSource) : undefined}
          onChange={(x) => setD({ ...d, nameSource: x as Draft['nameSource'] })}
          options={[
            { value: 'libelle', label: t.nameLibelle },
            { value: 'client', label: t.nameClient },
            { value: 'codeLibelle', label: t.nameCodeLibelle },
          ]}
        />
        <Select
          id="ch-hours"
          label={t.hoursSource}
          value={d.hoursSource}
          onChange={(x) => setD({ ...d, hoursSource: x as Draft['hoursSource'] })}
          options={[
            { value: 'chantier', label: t.hoursFromChantier },
            { value: 'devis', label: t.hoursFromDevis },
          ]}
        />
        <Field id="ch-states" label={t.devisStates} value={d.devisStates} onChange={(x) => setD({ ...d, devisStates: x })} error={errors.states} />
        <Select
          id="ch-link"
          label={t.devisLink}
          value={d.devisLink}
          onChange={(x) => setD({ ...d, devisLink: x })}
          options={[{ value: '', label: t.devisLinkAuto(preview?.devisLink.detected ?? null) }, ...(preview?.devisLink.candidates ?? (d.devisLink ? [d.devisLink] : [])).map((c) => ({ value: c, label: c }))]}
        />
      </div>
      {preview ? <PreviewView preview={preview} draft={d} onRoles={(etatRoles) => setD({ ...d, etatRoles })} /> : null}
      <h3>{t.back}</h3>
      <Switch id="ch-back" label={t.backEnabled(software)} help={t.backHelp(software)} checked={d.backEnabled} onChange={(x) => setD({ ...d, backEnabled: x })} />
      {d.backEnabled ? (
        <fieldset className="stack">
          <legend className="sr-only">{t.back}</legend>
          {CHANTIER_BACK_FIELDS.map((f) => (
            <label key={f} className="checkbox">
              <input
                type="checkbox"
                checked={d.backFields.includes(f)}
                onChange={(e) => setD({ ...d, backFields: e.target.checked ? [...d.backFields, f] : d.backFields.filter((x) => x !== f) })}
              />{' '}
              {t.backFields[f]}
            </label>
          ))}
        </fieldset>
      ) : null}
      <div className="row row-end">
        <Button onClick={() => void run('preview')} busy={busy === 'preview'}>
          {t.preview}
        </Button>
        <Button variant="primary" onClick={() => void run('save')} busy={busy === 'save'}>
          {fr.settings.saveSection}
        </Button>
      </div>
    </Card>
  );
}

function exampleOf(p: ChantiersPreview, source: Draft['nameSource']): string | undefined {
  const e = p.nameExamples[source];
  return e ? t.nameExample(e) : undefined;
}

type EtatRow = ChantiersPreview['etats'][number];
type SampleRow = ChantiersPreview['samples'][number];
const hours = (h: number | null): string => (h === null ? fr.common.none : `${formatHours(h)} h`);

function PreviewView({ preview, draft, onRoles }: { preview: ChantiersPreview; draft: Draft; onRoles: (r: Draft['etatRoles']) => void }) {
  const etatCols: Column<EtatRow>[] = [
    { key: 'value', header: t.etatValue, render: (r) => (r.value ? <code>{r.value}</code> : <span className="muted">{t.emptyEtat}</span>) },
    { key: 'count', header: t.etatCount, numeric: true, render: (r) => r.count.toLocaleString('fr-FR') },
    {
      key: 'role',
      header: t.etatRole,
      render: (r) => (
        <select
          className="select"
          aria-label={`${t.etatRole} : ${r.value || t.emptyEtat}`}
          value={draft.etatRoles[r.value] ?? r.detected}
          onChange={(e) => onRoles({ ...draft.etatRoles, [r.value]: e.target.value as ChantierEtatRole })}
        >
          {ROLES.map((role) => (
            <option key={role} value={role}>
              {t.roles[role]}
              {role === r.detected ? ` (${t.detectedAs(t.roles[role])})` : ''}
            </option>
          ))}
        </select>
      ),
    },
  ];
  const sampleCols: Column<SampleRow>[] = [
    { key: 'code', header: t.sampleCode, render: (r) => `${r.code} — ${r.name}` },
    { key: 'chantier', header: t.sampleChantier, numeric: true, render: (r) => hours(r.fromChantier) },
    { key: 'devis', header: t.sampleDevis, numeric: true, render: (r) => hours(r.fromDevis) },
  ];
  return (
    <div className="stack" aria-live="polite" data-testid="chantiers-preview">
      <p>
        <strong>{t.inScope(preview.inScope, preview.total)}</strong>
      </p>
      <Table columns={etatCols} rows={preview.etats} rowKey={(r) => r.value} caption={t.etats} testId="chantiers-etats" />
      {preview.devisHoursError ? <WarnBanner>{preview.devisHoursError}</WarnBanner> : null}
      <Table columns={sampleCols} rows={preview.samples} rowKey={(r) => r.code} caption={t.samples} testId="chantiers-samples" />
    </div>
  );
}

/** The wizard's line (mode « chantiers »): how many chantiers the first run will send, on request. */
export function ScopeSummary() {
  const call = useCall();
  const [busy, setBusy] = useState(false);
  const [line, setLine] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const ask = async () => {
    setBusy(true);
    setError(null);
    try {
      const p = await call('chantiers.preview');
      setLine(t.inScope(p.inScope, p.total));
    } catch (x) {
      setError(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="stack" aria-live="polite" data-testid="wizard-scope">
      <p className="muted small">{t.scopeMonthsHelp}</p>
      <div className="row">
        <Button onClick={() => void ask()} busy={busy}>
          {t.preview}
        </Button>
        {line ? <strong>{line}</strong> : null}
      </div>
      {error ? <ErrorBanner message={error} /> : null}
    </div>
  );
}
