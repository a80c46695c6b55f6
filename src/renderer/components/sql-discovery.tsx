/**
 * « Rechercher les serveurs » and « Lister les bases » beside the SQL Server fields: the SQL Browser of the
 * host typed (or of the local network) lists its instances, and once the login is typed the databases it may
 * open are listed, those that look like a Batigest company first and marked. A click fills the field; the focus
 * goes to each result and back to the field filled.
 */
import { useState } from 'react';
import type { DatabaseCandidate, DiscoveredInstanceView } from '../../shared/contract.js';
import { fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall } from '../lib/backend.js';
import { useFocusAfterRender } from '../lib/focus.js';
import { sqlPatch, type SqlDraft } from '../lib/drafts.js';
import { Button, ErrorBanner, StatusBadge } from './ui.js';

export function SqlDiscovery({ draft, onChange, passwordSaved, software }: { draft: SqlDraft; onChange: (d: SqlDraft) => void; passwordSaved: boolean; software: string }) {
  const call = useCall();
  const focusAfter = useFocusAfterRender();
  const [busy, setBusy] = useState<'servers' | 'bases' | null>(null);
  const [instances, setInstances] = useState<{ list: DiscoveredInstanceView[]; host: string } | null>(null);
  const [bases, setBases] = useState<DatabaseCandidate[] | null>(null);
  const [error, setError] = useState<string | null>(null);

  const searchServers = async () => {
    setBusy('servers');
    setError(null);
    const host = draft.server.trim().split(/[\\,]/)[0] ?? '';
    try {
      const res = await call('sqlServer.discover', { host });
      setInstances({ list: res.instances, host });
      focusAfter('#sql-discovery-servers');
    } catch (e) {
      setError(errorMessage(e));
      focusAfter('#sql-discovery-error');
    } finally {
      setBusy(null);
    }
  };

  const listBases = async () => {
    setError(null);
    if (!draft.server.trim() || !draft.user.trim() || (!draft.password && !passwordSaved)) {
      setError(fr.discovery.loginFirst);
      focusAfter('#sql-discovery-error');
      return;
    }
    setBusy('bases');
    try {
      const res = await call('sqlServer.databases', { override: { ...sqlPatch(draft), database: '' } });
      // Batigest companies first, then the others, each in name order.
      setBases([...res.databases].sort((a, b) => Number(b.batigest) - Number(a.batigest) || a.name.localeCompare(b.name, 'fr')));
      focusAfter('#sql-discovery-bases');
    } catch (e) {
      setError(errorMessage(e));
      focusAfter('#sql-discovery-error');
    } finally {
      setBusy(null);
    }
  };

  return (
    <div className="stack sql-discovery" data-testid="sql-discovery">
      <div className="row">
        <Button onClick={() => void searchServers()} busy={busy === 'servers'} data-testid="discover-servers">
          {fr.discovery.searchServers}
        </Button>
        <Button onClick={() => void listBases()} busy={busy === 'bases'} data-testid="discover-bases">
          {fr.discovery.listBases}
        </Button>
      </div>
      <p className="muted small">{fr.discovery.help}</p>
      {error ? <ErrorBanner id="sql-discovery-error" message={error} /> : null}
      {instances ? (
        <section aria-labelledby="sql-discovery-servers" data-testid="discovered-servers">
          <h3 id="sql-discovery-servers" tabIndex={-1} className="small">
            {instances.list.length ? fr.discovery.serversFound(instances.list.length, instances.host) : fr.discovery.noServer(instances.host)}
          </h3>
          <ul className="pick-list">
            {instances.list.map((i) => (
              <li key={i.server}>
                <code>{i.server}</code>
                <span className="muted small">{fr.discovery.instanceFacts(i.instance, i.version)}</span>
                <Button
                  size="sm"
                  aria-label={fr.discovery.useServer(i.server)}
                  onClick={() => {
                    onChange({ ...draft, server: i.server });
                    focusAfter('#sql-server');
                  }}
                >
                  {fr.discovery.use}
                </Button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      {bases ? (
        <section aria-labelledby="sql-discovery-bases" data-testid="discovered-bases">
          <h3 id="sql-discovery-bases" tabIndex={-1} className="small">
            {bases.length ? fr.discovery.basesFound(bases.length, bases.filter((b) => b.batigest).length, software) : fr.discovery.noBase}
          </h3>
          <ul className="pick-list">
            {bases.map((b) => (
              <li key={b.name} data-testid={`base-${b.name}`}>
                <code>{b.name}</code>
                {b.batigest ? <StatusBadge tone="ok">{fr.discovery.company(software)}</StatusBadge> : <span className="muted small">{b.readable ? fr.discovery.notCompany : fr.discovery.unreadable}</span>}
                <Button
                  size="sm"
                  aria-label={fr.discovery.useBase(b.name)}
                  onClick={() => {
                    onChange({ ...draft, database: b.name });
                    focusAfter('#sql-database');
                  }}
                >
                  {fr.discovery.use}
                </Button>
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </div>
  );
}
