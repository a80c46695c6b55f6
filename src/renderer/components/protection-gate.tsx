/**
 * The PIN asked before a protected page (Réglages, Correspondance) when the protection is on. The main
 * process refuses the protected channels anyway while locked: this only asks for the code, with the focus
 * in its field.
 */
import { useEffect, useRef, useState, type ReactNode } from 'react';
import type { ProtectionStatus } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall } from '../lib/backend.js';
import { Button, Card, ErrorBanner } from './ui.js';

export function ProtectionGate({ status, pageTitle, onStatus, children }: { status: ProtectionStatus | null; pageTitle: string; onStatus: (s: ProtectionStatus) => void; children: ReactNode }) {
  if (!status || !status.enabled || status.unlocked) return <>{children}</>;
  return <PinPrompt pageTitle={pageTitle} onStatus={onStatus} />;
}

function PinPrompt({ pageTitle, onStatus }: { pageTitle: string; onStatus: (s: ProtectionStatus) => void }) {
  const call = useCall();
  const [pin, setPin] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    // After the page's own focus (the main content): the code is what the page asks for first.
    const t = window.setTimeout(() => input.current?.focus(), 20);
    return () => window.clearTimeout(t);
  }, []);
  const submit = async () => {
    setBusy(true);
    setError(null);
    try {
      onStatus(await call('protection.unlock', { pin }));
    } catch (e) {
      setError(errorMessage(e));
      setPin('');
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  };
  return (
    <div data-testid="pin-prompt">
      <div className="page-head">
        <div>
          <h1>{pageTitle}</h1>
        </div>
      </div>
      <Card title={fr.protection.lockedTitle}>
        <p>{fr.protection.lockedIntro(pageTitle)}</p>
        {error ? <ErrorBanner message={error} /> : null}
        <form
          className="row"
          style={{ alignItems: 'flex-end' }}
          onSubmit={(e) => {
            e.preventDefault();
            void submit();
          }}
        >
          <div className="field">
            <label htmlFor="pin-unlock">{fr.protection.pin}</label>
            <input
              id="pin-unlock"
              ref={input}
              className="input"
              type="password"
              inputMode="numeric"
              autoComplete="off"
              value={pin}
              maxLength={12}
              onChange={(e) => setPin(e.target.value.replace(/\D/g, ''))}
            />
          </div>
          <div className="field">
            <Button type="submit" variant="primary" busy={busy} disabled={pin.length < 4}>
              {fr.protection.unlock}
            </Button>
          </div>
        </form>
      </Card>
    </div>
  );
}
