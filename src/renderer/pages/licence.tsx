/** Licence page, licence key entry and the "Licence expirée" screen (re-checks every 5 minutes). */
import { useEffect, useState, type ReactNode } from 'react';
import type { LicenceStatus } from '../../shared/contract.js';
import { formatDate, formatDateTime, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useEvent, useQuery } from '../lib/backend.js';
import { Button, Card, ErrorBanner, Facts, Field, Loading, StatusBadge, type Tone } from '../components/ui.js';
import { useToast } from '../components/toast.js';

export const LICENCE_RECHECK_MS = 5 * 60 * 1000;

const LABELS: Record<LicenceStatus['state'], string> = {
  missing: 'Non configurée',
  valid: 'Valide',
  expiring: 'Expire bientôt',
  expired: 'Expirée',
  deactivated: 'Désactivée',
  machine_limit: 'Limite de postes atteinte',
  unknown_key: 'Clé inconnue',
  offline_grace: 'Hors ligne (délai de grâce)',
  offline_expired: 'Hors ligne (délai écoulé)',
  tampered: 'Données de licence altérées',
  error: 'Vérification impossible',
};

export function licenceLabel(s: LicenceStatus): string {
  return LABELS[s.state];
}

export function licenceTone(s: LicenceStatus): Tone {
  switch (s.state) {
    case 'valid':
      return 'ok';
    case 'expiring':
    case 'offline_grace':
      return 'warn';
    case 'missing':
      return 'neutral';
    default:
      return 'error';
  }
}

/** States where the app shows the "Licence expirée" screen instead of the dashboard. */
export function isLicenceBlocking(s: LicenceStatus): boolean {
  return !s.syncAllowed && ['expired', 'deactivated', 'offline_expired', 'tampered', 'machine_limit', 'unknown_key'].includes(s.state);
}

export function normalizeKeyInput(raw: string): string {
  const compact = raw.toUpperCase().replace(/[^A-Z0-9]/g, '').slice(0, 16);
  return compact.match(/.{1,4}/g)?.join('-') ?? '';
}
const KEY_RE = /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/;

/** Key entry: formats as the user types, checks the format, calls licence.setKey. */
export function LicenceKeyForm({
  onStatus,
  submitLabel = fr.licence.activate,
}: {
  onStatus: (s: LicenceStatus) => void;
  submitLabel?: string;
}) {
  const call = useCall();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async () => {
    if (!KEY_RE.test(key)) {
      setError(fr.licence.keyFormat);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const s = await call('licence.setKey', { key });
      onStatus(s);
      // A key the licence service does not accept (or that cannot be checked) stays in the field, with the reason.
      if (s.syncAllowed) setKey('');
      else setError(s.message);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form
      className="row"
      style={{ alignItems: 'flex-start' }}
      onSubmit={(e) => {
        e.preventDefault();
        void submit();
      }}
    >
      <div style={{ flex: 1, minWidth: 200 }}>
        <Field
          id="licence-key"
          label={fr.licence.key}
          value={key}
          onChange={(v) => setKey(normalizeKeyInput(v))}
          help={fr.licence.keyHelp}
          error={error}
          autoComplete="off"
          spellCheck={false}
          placeholder="XXXX-XXXX-XXXX-XXXX"
          style={{ fontFamily: 'var(--font-mono)', letterSpacing: '0.05em' }}
        />
      </div>
      <Button type="submit" variant="primary" busy={busy} style={{ marginTop: 22 }}>
        {submitLabel}
      </Button>
    </form>
  );
}

/** `checks`: the last and next check dates (left out where the page says them in its own words). */
export function LicenceFacts({ status, checks = true }: { status: LicenceStatus; checks?: boolean }) {
  const items: [string, ReactNode][] = [
    [fr.licence.status, <StatusBadge key="s" tone={licenceTone(status)}>{licenceLabel(status)}</StatusBadge>],
  ];
  if (status.keyHint) items.push([fr.licence.keyHint, <code key="k">{status.keyHint}</code>]);
  if (status.clientName) items.push([fr.licence.client, status.clientName]);
  if (status.expiresAt) items.push([fr.licence.expires, formatDate(status.expiresAt)]);
  if (status.daysLeft !== null && status.daysLeft >= 0) items.push([fr.licence.daysLeft, String(status.daysLeft)]);
  if (status.graceDaysLeft !== null) items.push([fr.licence.grace, `${status.graceDaysLeft} j`]);
  if (checks) {
    items.push([fr.licence.lastValidated, status.lastValidatedAt ? formatDateTime(status.lastValidatedAt) : fr.licence.neverValidated]);
    if (status.nextCheckAt) items.push([fr.licence.nextCheck, formatDateTime(status.nextCheckAt)]);
  }
  items.push([fr.licence.machineId, status.machineId ? <code key="m">{status.machineId}</code> : fr.common.none]);
  if (status.features.length) items.push([fr.licence.features, status.features.join(', ')]);
  return <Facts items={items} />;
}

export function LicencePage() {
  const call = useCall();
  const toast = useToast();
  const q = useQuery((c) => c('licence.status'));
  const [checking, setChecking] = useState(false);
  const [checkError, setCheckError] = useState<string | null>(null);
  useEvent('licence:status', (s) => q.setData(s));
  const check = async () => {
    setChecking(true);
    setCheckError(null);
    try {
      q.setData(await call('licence.check'));
    } catch (e) {
      setCheckError(errorMessage(e));
    } finally {
      setChecking(false);
    }
  };
  return (
    <div data-testid="page-licence">
      <div className="page-head">
        <div>
          <h1>{fr.licence.title}</h1>
          <p>{fr.licence.intro}</p>
        </div>
      </div>
      {q.loading && !q.data ? <Loading /> : null}
      {q.error ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : null}
      {q.data ? (
        <div className="grid grid-2">
          <Card
            title={fr.licence.status}
            actions={
              <Button onClick={() => void check()} busy={checking}>
                {fr.licence.check}
              </Button>
            }
          >
            {checkError ? <ErrorBanner message={checkError} /> : null}
            <p>{q.data.message}</p>
            <LicenceFacts status={q.data} />
          </Card>
          <Card title={fr.licence.key}>
            <LicenceKeyForm
              onStatus={(s) => {
                q.setData(s);
                // A refused key is explained under the field itself.
                if (s.syncAllowed) toast.show(s.message, 'ok');
              }}
            />
          </Card>
        </div>
      ) : null}
    </div>
  );
}

/** Full-page "Licence expirée": explains, re-checks every 5 minutes, lets the user enter another key. */
export function LicenceExpiredScreen({
  status,
  onStatus,
  onOpenSettings,
}: {
  status: LicenceStatus;
  onStatus: (s: LicenceStatus) => void;
  onOpenSettings: () => void;
}) {
  const call = useCall();
  const [checking, setChecking] = useState(false);
  const [lastCheck, setLastCheck] = useState<string>(() => new Date().toISOString());
  const [error, setError] = useState<string | null>(null);

  const check = async () => {
    setChecking(true);
    setError(null);
    try {
      onStatus(await call('licence.check'));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setChecking(false);
      setLastCheck(new Date().toISOString());
    }
  };

  useEffect(() => {
    const t = window.setInterval(() => {
      call('licence.check')
        .then((s) => {
          setError(null);
          onStatus(s);
        })
        .catch((e: unknown) => setError(errorMessage(e)))
        .finally(() => setLastCheck(new Date().toISOString()));
    }, LICENCE_RECHECK_MS);
    return () => window.clearInterval(t);
  }, [call, onStatus]);

  const title = status.state === 'expired' ? fr.licence.expiredTitle : licenceLabel(status);
  return (
    <div className="fullscreen" data-testid="licence-expired">
      <Card>
        <div className="stack">
          <div className="row">
            <StatusBadge tone="error">{fr.licence.blockedTitle}</StatusBadge>
          </div>
          <h1>{title}</h1>
          <p>{status.message}</p>
          {error ? <ErrorBanner message={error} /> : null}
          <LicenceFacts status={status} checks={false} />
          {/* One sentence for both checks: this screen checks again by itself every 5 minutes. */}
          <p className="muted small" aria-live="polite" data-testid="licence-checks">
            {fr.licence.checksLine(formatDateTime(lastCheck), formatDateTime(new Date(Date.parse(lastCheck) + LICENCE_RECHECK_MS).toISOString()))}
          </p>
          <div className="row">
            <Button variant="primary" busy={checking} onClick={() => void check()}>
              {fr.licence.check}
            </Button>
            <Button onClick={onOpenSettings}>{fr.licence.openSettings}</Button>
          </div>
          <h2 className="small">{fr.licence.enterOtherKey}</h2>
          <LicenceKeyForm onStatus={onStatus} />
        </div>
      </Card>
    </div>
  );
}
