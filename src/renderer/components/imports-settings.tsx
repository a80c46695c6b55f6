/**
 * Réglages › Imports (import agent, optional module): the exports API (address, key, this PC’s agent id), Batigest’s
 * import folder, the work folder, the cycle; « Tester » (imports.test, the values typed, nothing saved) and
 * « Enregistrer ». Also the wizard’s optional step.
 */
import { useState } from 'react';
import type { ConnectionDiagnosis } from '../../shared/domain.js';
import type { SettingsView } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useQuery } from '../lib/backend.js';
import { DiagnosisView } from './forms.js';
import { useToast } from './toast.js';
import { Button, Card, ErrorBanner, Field, SecretField, Switch } from './ui.js';

interface Draft {
  enabled: boolean;
  apiUrl: string;
  apiKey: string;
  agentId: string;
  batigestImportPath: string;
  workDir: string;
  pollLimit: string;
  timeout: string;
  interval: string;
}

const draftOf = (v: SettingsView): Draft => ({
  enabled: v.imports.enabled,
  apiUrl: v.imports.apiUrl,
  apiKey: '',
  agentId: v.imports.agentId,
  batigestImportPath: v.imports.batigestImportPath,
  workDir: v.imports.workDir,
  pollLimit: String(v.imports.pollLimit),
  timeout: String(v.imports.importTimeoutSeconds),
  interval: String(v.imports.intervalSeconds),
});

const int = (s: string, min: number, max: number): number | null => {
  const n = Number(s.trim());
  return Number.isInteger(n) && n >= min && n <= max ? n : null;
};

export function ImportsSettingsCard({ view, onSaved, headingLevel = 2 }: { view: SettingsView; onSaved: (v: SettingsView) => void; headingLevel?: 2 | 3 }) {
  const call = useCall();
  const toast = useToast();
  const [d, setD] = useState<Draft>(() => draftOf(view));
  const [diag, setDiag] = useState<ConnectionDiagnosis | null>(null);
  const [busy, setBusy] = useState<'test' | 'save' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [fieldErrors, setFieldErrors] = useState<Partial<Record<keyof Draft, string>>>({});
  const status = useQuery((c) => c('imports.status'));
  const saved = view.imports.apiKey.set;

  const patch = () => {
    const errs: Partial<Record<keyof Draft, string>> = {};
    const pollLimit = int(d.pollLimit, 1, 500);
    const timeout = int(d.timeout, 1, 3600);
    const interval = int(d.interval, 30, 86_400);
    if (pollLimit === null) errs.pollLimit = 'Indiquez un nombre entre 1 et 500.';
    if (timeout === null) errs.timeout = 'Indiquez un nombre de secondes entre 1 et 3600.';
    if (interval === null) errs.interval = 'Indiquez un nombre de secondes entre 30 et 86400.';
    if (d.enabled && !/^https?:\/\/\S+$/i.test(d.apiUrl.trim())) errs.apiUrl = 'Indiquez une adresse qui commence par https:// (ou http://).';
    if (d.enabled && !d.batigestImportPath.trim()) errs.batigestImportPath = "Indiquez le dossier d’import de Batigest.";
    setFieldErrors(errs);
    if (Object.keys(errs).length > 0) return null;
    return {
      enabled: d.enabled,
      apiUrl: d.apiUrl.trim(),
      apiKey: d.apiKey ? d.apiKey : { keep: true as const },
      agentId: d.agentId.trim(),
      batigestImportPath: d.batigestImportPath.trim(),
      workDir: d.workDir.trim(),
      pollLimit: pollLimit!,
      importTimeoutSeconds: timeout!,
      intervalSeconds: interval!,
    };
  };
  const act = async (what: 'test' | 'save') => {
    const p = patch();
    if (!p) return;
    setBusy(what);
    setError(null);
    try {
      if (what === 'test') setDiag(await call('imports.test', { override: p }));
      else {
        onSaved(await call('settings.update', { imports: p }));
        setD((x) => ({ ...x, apiKey: '' }));
        toast.show(fr.common.saved, 'ok');
        status.reload();
      }
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(null);
    }
  };
  const set = (k: keyof Draft) => (v: string) => setD({ ...d, [k]: v });
  return (
    <Card title={fr.imports.settingsTitle} headingLevel={headingLevel} data-testid="settings-imports">
      <p className="muted small">{fr.imports.wizardIntro}</p>
      {error ? <ErrorBanner message={error} /> : null}
      <Switch id="imp-enabled" label={fr.imports.enabled} checked={d.enabled} onChange={(v) => setD({ ...d, enabled: v })} />
      <Field id="imp-url" label={fr.imports.apiUrl} value={d.apiUrl} onChange={set('apiUrl')} error={fieldErrors.apiUrl ?? null} placeholder="https://votre-app.exemple.fr" />
      <SecretField id="imp-key" label={fr.imports.apiKey} saved={saved} value={d.apiKey} onChange={set('apiKey')} />
      <Field id="imp-agent" label={fr.imports.agentId} value={d.agentId} onChange={set('agentId')} placeholder={status.data?.defaultAgentId ?? ''} help="Vide : l’identifiant généré pour ce poste." />
      <Field id="imp-folder" label={fr.imports.importPath} value={d.batigestImportPath} onChange={set('batigestImportPath')} error={fieldErrors.batigestImportPath ?? null} placeholder="C:\Program Files\Sage\Batigest\Import" />
      <Field id="imp-work" label={fr.imports.workDir} value={d.workDir} onChange={set('workDir')} placeholder={status.data?.workDir ?? ''} help="Vide : le dossier imports des données du connecteur (Downloads, ToImport, Archive, Errors, Logs)." />
      <Field id="imp-limit" label={fr.imports.pollLimit} value={d.pollLimit} onChange={set('pollLimit')} error={fieldErrors.pollLimit ?? null} inputMode="numeric" />
      <Field id="imp-timeout" label={fr.imports.timeout} value={d.timeout} onChange={set('timeout')} error={fieldErrors.timeout ?? null} inputMode="numeric" />
      <Field id="imp-interval" label={fr.imports.interval} value={d.interval} onChange={set('interval')} error={fieldErrors.interval ?? null} inputMode="numeric" />
      <div aria-live="polite">
        <DiagnosisView diagnosis={diag} />
      </div>
      <div className="row row-end">
        <Button onClick={() => void act('test')} busy={busy === 'test'} data-testid="imports-test">
          {fr.common.test}
        </Button>
        <Button variant="primary" onClick={() => void act('save')} busy={busy === 'save'} data-testid="imports-save">
          {fr.settings.saveSection}
        </Button>
      </div>
    </Card>
  );
}
