/**
 * Réglages › Proxy et alertes: the one proxy of every outgoing connection (exports API, BatiSimply, licence) and the
 * e-mail alerts of the import agent. Secrets (proxy and SMTP passwords) are typed, never shown back.
 */
import { useState } from 'react';
import type { SettingsView } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall } from '../lib/backend.js';
import { useToast } from './toast.js';
import { Button, Card, ErrorBanner, Field, RadioGroup, SecretField, Switch } from './ui.js';

type Mode = 'none' | 'system' | 'manual';

export function NetworkSettingsCard({ view, onSaved }: { view: SettingsView; onSaved: (v: SettingsView) => void }) {
  const call = useCall();
  const toast = useToast();
  const [p, setP] = useState({ mode: view.proxy.mode as Mode, url: view.proxy.url, username: view.proxy.username, password: '', bypass: view.proxy.bypass });
  const [a, setA] = useState({
    emailEnabled: view.alerts.emailEnabled,
    smtpHost: view.alerts.smtpHost,
    smtpPort: String(view.alerts.smtpPort),
    smtpSecure: view.alerts.smtpSecure,
    smtpUser: view.alerts.smtpUser,
    smtpPassword: '',
    from: view.alerts.from,
    to: view.alerts.to,
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [portError, setPortError] = useState<string | null>(null);
  const [urlError, setUrlError] = useState<string | null>(null);

  const save = async () => {
    const port = Number(a.smtpPort);
    const badPort = !Number.isInteger(port) || port < 1 || port > 65535;
    const badUrl = p.mode === 'manual' && !/^https?:\/\/[^\s/]+/i.test(p.url.trim());
    setPortError(badPort ? 'Indiquez un port entre 1 et 65535.' : null);
    setUrlError(badUrl ? 'Indiquez l’adresse du proxy, par exemple http://proxy.entreprise.fr:8080.' : null);
    if (badPort || badUrl) return;
    setBusy(true);
    setError(null);
    try {
      const v = await call('settings.update', {
        proxy: { mode: p.mode, url: p.url.trim(), username: p.username.trim(), password: p.password ? p.password : { keep: true }, bypass: p.bypass.trim() },
        alerts: { ...a, smtpPort: port, smtpHost: a.smtpHost.trim(), smtpPassword: a.smtpPassword ? a.smtpPassword : { keep: true } },
      });
      onSaved(v);
      setP((x) => ({ ...x, password: '' }));
      setA((x) => ({ ...x, smtpPassword: '' }));
      toast.show(fr.common.saved, 'ok');
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Card title={fr.imports.networkTitle} data-testid="settings-network">
      {error ? <ErrorBanner message={error} /> : null}
      <RadioGroup<Mode>
        legend="Proxy (API d’export, BatiSimply, licence)"
        name="proxy-mode"
        value={p.mode}
        onChange={(mode) => setP({ ...p, mode })}
        options={[
          { value: 'none', label: 'Aucun' },
          { value: 'system', label: 'Celui du système', help: 'Variables HTTP_PROXY, HTTPS_PROXY et NO_PROXY.' },
          { value: 'manual', label: 'Celui-ci' },
        ]}
      />
      {p.mode === 'manual' ? (
        <>
          <Field id="proxy-url" label="Adresse du proxy" value={p.url} onChange={(url) => setP({ ...p, url })} error={urlError} placeholder="http://proxy.entreprise.fr:8080" />
          <Field id="proxy-user" label="Utilisateur du proxy" value={p.username} onChange={(username) => setP({ ...p, username })} autoComplete="off" />
          <SecretField id="proxy-pass" label="Mot de passe du proxy" saved={view.proxy.password.set} value={p.password} onChange={(password) => setP({ ...p, password })} />
          <Field id="proxy-bypass" label="Sans proxy pour" value={p.bypass} onChange={(bypass) => setP({ ...p, bypass })} help="Noms ou adresses séparés par des virgules, par exemple localhost, .entreprise.local" />
        </>
      ) : null}
      <Switch id="alerts-mail" label="M’alerter par e-mail quand un export est en erreur" checked={a.emailEnabled} onChange={(emailEnabled) => setA({ ...a, emailEnabled })} />
      {a.emailEnabled ? (
        <>
          <Field id="smtp-host" label="Serveur SMTP" value={a.smtpHost} onChange={(smtpHost) => setA({ ...a, smtpHost })} placeholder="smtp.votre-serveur.fr" />
          <Field id="smtp-port" label="Port" value={a.smtpPort} onChange={(smtpPort) => setA({ ...a, smtpPort })} error={portError} inputMode="numeric" />
          <Switch id="smtp-secure" label="TLS dès la connexion (port 465)" checked={a.smtpSecure} onChange={(smtpSecure) => setA({ ...a, smtpSecure })} />
          <Field id="smtp-user" label="Utilisateur SMTP" value={a.smtpUser} onChange={(smtpUser) => setA({ ...a, smtpUser })} autoComplete="off" />
          <SecretField id="smtp-pass" label="Mot de passe SMTP" saved={view.alerts.smtpPassword.set} value={a.smtpPassword} onChange={(smtpPassword) => setA({ ...a, smtpPassword })} />
          <Field id="smtp-from" label="Expéditeur" value={a.from} onChange={(from) => setA({ ...a, from })} placeholder="connecteur@votre-entreprise.fr" />
          <Field id="smtp-to" label="Destinataires" value={a.to} onChange={(to) => setA({ ...a, to })} help="Adresses séparées par des virgules." />
        </>
      ) : null}
      <div className="row row-end">
        <Button variant="primary" onClick={() => void save()} busy={busy} data-testid="network-save">
          {fr.settings.saveSection}
        </Button>
      </div>
    </Card>
  );
}
