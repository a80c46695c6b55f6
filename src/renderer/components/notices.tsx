/**
 * Notices from the main process (corrupt settings kept aside, a secret that cannot be decrypted on
 * this PC…): shown at the top of every screen until the user closes them.
 */
import { useState } from 'react';
import type { Notice } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useEvent, useQuery } from '../lib/backend.js';
import { Button, ErrorBanner } from './ui.js';

export function Notices({ className }: { className?: string }) {
  const call = useCall();
  const q = useQuery((c) => c('settings.notices'));
  const [pushed, setPushed] = useState<Notice[]>([]);
  const [dismissed, setDismissed] = useState<Set<string>>(() => new Set());
  const [dismissError, setDismissError] = useState<string | null>(null);
  useEvent('settings:notice', (n) => setPushed((xs) => (xs.some((x) => x.id === n.id) ? xs : [...xs, n])));

  const all = [...(q.data ?? []), ...pushed.filter((p) => !(q.data ?? []).some((n) => n.id === p.id))].filter((n) => !dismissed.has(n.id));
  if (all.length === 0 && !q.error && !dismissError) return null;

  const dismiss = (id: string) => {
    setDismissed((d) => new Set(d).add(id));
    setDismissError(null);
    call('settings.dismissNotice', { id }).catch((e: unknown) => {
      // Not closed on the main side: it comes back, with the reason.
      setDismissed((d) => {
        const next = new Set(d);
        next.delete(id);
        return next;
      });
      setDismissError(errorMessage(e));
    });
  };

  return (
    <div className={`stack notices ${className ?? ''}`} data-testid="notices">
      {q.error ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : null}
      {dismissError ? <ErrorBanner message={dismissError} /> : null}
      {all.map((n) => (
        <div
          key={n.id}
          className={`banner ${n.level === 'error' ? 'banner-error' : n.level === 'warning' ? 'banner-warn' : 'banner-ok'}`}
          role={n.level === 'error' ? 'alert' : 'status'}
        >
          <div className="banner-body">{n.message}</div>
          <Button size="sm" onClick={() => dismiss(n.id)}>
            {fr.common.close}
          </Button>
        </div>
      ))}
    </div>
  );
}
