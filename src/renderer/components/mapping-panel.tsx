/**
 * Employee mapping: Batigest salariés beside BatiSimply users, suggestions with a confidence, manual
 * choice, unmapped users highlighted with the hours waiting for them, and "Enregistrer".
 * Used by the Mapping page and by the wizard's "Salariés" step.
 */
import { useEffect, useMemo, useState } from 'react';
import type { MappingUser, MappingView } from '../../shared/contract.js';
import type { Salarie } from '../../shared/domain.js';
import { SAFE_CONFIDENCE, suggestMappings, type Suggestion } from '../../shared/mapping-suggest.js';
import { formatHours, fr } from '../../shared/strings.fr.js';
import { errorMessage, useCall, useQuery } from '../lib/backend.js';
import { useToast } from './toast.js';
import { Button, Card, EmptyState, ErrorBanner, Field, Loading, StatusBadge, Switch, Table, WarnBanner, type Column } from './ui.js';

type Choices = Record<string, string>; // salarieCode -> userId ('' = none)

function initialChoices(view: MappingView): Choices {
  const c: Choices = {};
  for (const s of view.salaries) c[s.code] = s.codebs ?? '';
  return c;
}

function salarieName(s: Salarie): string {
  return [s.nom, s.prenom].filter(Boolean).join(' ');
}

export function MappingPanel({
  software,
  onSaved,
  onPendingChange,
}: {
  software: string;
  onSaved?: () => void;
  /** Told how many choices are not saved yet (the wizard refuses to move on while some are). */
  onPendingChange?: (n: number) => void;
}) {
  const q = useQuery((call) => call('mapping.get'));
  if (q.loading && !q.data) return <Loading />;
  if (q.error && !q.data) return <ErrorBanner message={q.error.message} onRetry={q.reload} />;
  if (!q.data) return null;
  return (
    <>
      {q.error ? <ErrorBanner message={q.error.message} onRetry={q.reload} /> : null}
      <MappingEditor
        key={JSON.stringify(q.data.salaries.map((s) => [s.code, s.codebs]))}
        view={q.data}
        software={software}
        onSaved={(v) => {
          q.setData(v);
          onSaved?.();
        }}
        onReload={q.reload}
        onPendingChange={onPendingChange}
      />
    </>
  );
}

function MappingEditor({
  view,
  software,
  onSaved,
  onReload,
  onPendingChange,
}: {
  view: MappingView;
  software: string;
  onSaved: (v: MappingView) => void;
  onReload: () => void;
  onPendingChange?: (n: number) => void;
}) {
  const call = useCall();
  const toast = useToast();
  const [choices, setChoices] = useState<Choices>(() => initialChoices(view));
  const [filter, setFilter] = useState('');
  const [onlyUnmapped, setOnlyUnmapped] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [creatingCol, setCreatingCol] = useState(false);

  const usersById = useMemo(() => new Map(view.users.map((u) => [u.id, u])), [view.users]);

  const suggestions = useMemo(() => {
    const bySal = new Map<string, Suggestion>();
    const local = suggestMappings(
      view.salaries,
      view.users.map((u) => ({ id: u.id, firstName: u.firstName, lastName: u.lastName, email: u.email, mappedTo: u.mappedTo })),
    );
    for (const s of local) bySal.set(s.salarieCode, s);
    for (const s of view.suggestions) {
      const cur = bySal.get(s.salarieCode);
      if (!cur || s.confidence > cur.confidence) bySal.set(s.salarieCode, s);
    }
    return bySal;
  }, [view]);

  const original = useMemo(() => initialChoices(view), [view]);
  const changes = Object.entries(choices).filter(([code, uid]) => (original[code] ?? '') !== uid);

  const pendingCount = changes.length;
  useEffect(() => {
    onPendingChange?.(pendingCount);
  }, [pendingCount, onPendingChange]);

  const chosenUserIds = new Set(Object.values(choices).filter(Boolean));
  const unmappedUsers = view.users
    .filter((u) => !chosenUserIds.has(u.id))
    .sort((a, b) => b.hoursWaiting - a.hoursWaiting || a.displayName.localeCompare(b.displayName, 'fr'));

  const ownerOf = (userId: string): string | undefined => Object.entries(choices).find(([, u]) => u === userId)?.[0];

  const choose = (code: string, userId: string) => {
    setChoices((c) => {
      const next = { ...c };
      if (userId) for (const [k, v] of Object.entries(next)) if (v === userId && k !== code) next[k] = '';
      next[code] = userId;
      return next;
    });
  };

  const acceptSafe = () => {
    setChoices((c) => {
      const next = { ...c };
      const used = new Set(Object.values(next).filter(Boolean));
      for (const s of suggestions.values()) {
        if (s.confidence >= SAFE_CONFIDENCE && !next[s.salarieCode] && !used.has(s.userId)) {
          next[s.salarieCode] = s.userId;
          used.add(s.userId);
        }
      }
      return next;
    });
  };

  const save = async () => {
    if (changes.length === 0) {
      toast.show(fr.mapping.nothingToSave, 'info');
      return;
    }
    setSaving(true);
    setError(null);
    try {
      const res = await call('mapping.save', { entries: changes.map(([salarieCode, userId]) => ({ salarieCode, userId: userId || null })) });
      toast.show(fr.mapping.saved(res.saved), 'ok');
      onSaved(res.mapping);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setSaving(false);
    }
  };

  const createCodebs = async () => {
    setCreatingCol(true);
    setError(null);
    try {
      await call('mapping.createCodebsColumn', { confirm: true });
      onReload();
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setCreatingCol(false);
    }
  };

  const needle = filter.trim().toLowerCase();
  const rows = view.salaries.filter((s) => {
    if (onlyUnmapped && choices[s.code]) return false;
    if (!needle) return true;
    return `${s.code} ${salarieName(s)}`.toLowerCase().includes(needle);
  });

  const salarieLabel = (code: string) => {
    const o = view.salaries.find((x) => x.code === code);
    return o ? salarieName(o) || code : code;
  };
  const userLabel = (u: MappingUser) => `${u.displayName}${u.email ? ` — ${u.email}` : ''}`;

  const columns: Column<Salarie>[] = [
    { key: 'code', header: fr.mapping.code, render: (s) => <code>{s.code}</code> },
    { key: 'name', header: fr.mapping.salarie(software), render: (s) => <strong>{salarieName(s)}</strong> },
    {
      key: 'user',
      header: fr.mapping.user,
      render: (s) => (
        <select
          className="select"
          value={choices[s.code] ?? ''}
          aria-label={`${fr.mapping.user} pour ${salarieName(s)}`}
          data-testid={`map-${s.code}`}
          onChange={(e) => choose(s.code, e.target.value)}
        >
          <option value="">{fr.mapping.noUser}</option>
          {view.users.map((u) => {
            const owner = ownerOf(u.id);
            return (
              <option key={u.id} value={u.id}>
                {userLabel(u)}
                {owner && owner !== s.code ? ` (→ ${salarieLabel(owner)})` : ''}
              </option>
            );
          })}
        </select>
      ),
    },
    {
      key: 'suggestion',
      header: fr.mapping.suggestion,
      render: (s) => {
        const sg = suggestions.get(s.code);
        if (!sg || choices[s.code] === sg.userId) return <span className="muted">{fr.common.none}</span>;
        const u = usersById.get(sg.userId);
        if (!u) return <span className="muted">{fr.common.none}</span>;
        const pct = Math.round(sg.confidence * 100);
        return (
          <div className="map-suggestion">
            <span>{u.displayName}</span>
            <StatusBadge tone={sg.confidence >= SAFE_CONFIDENCE ? 'ok' : 'warn'}>{fr.mapping.confidence(pct)}</StatusBadge>
            <span className="muted map-reason">{sg.reason}</span>
            <Button size="sm" onClick={() => choose(s.code, sg.userId)} aria-label={`${fr.mapping.accept} : ${u.displayName} pour ${salarieName(s)}`}>
              {fr.mapping.accept}
            </Button>
          </div>
        );
      },
    },
    {
      key: 'waiting',
      header: <span className="th-wrap">{fr.mapping.waiting}</span>,
      numeric: true,
      render: (s) => {
        // The hours waiting for the chosen user, or else for the suggested one (written once accepted and saved).
        const chosen = choices[s.code] ? usersById.get(choices[s.code] ?? '') : undefined;
        const sg = chosen ? undefined : suggestions.get(s.code);
        const u = chosen ?? (sg ? usersById.get(sg.userId) : undefined);
        if (!u || u.hoursWaiting <= 0) return <span className="muted">{fr.common.none}</span>;
        const hours = `${formatHours(u.hoursWaiting)} h`;
        if (chosen) return hours;
        return (
          <span>
            {hours}
            <span className="muted small" style={{ display: 'block' }}>
              {fr.mapping.waitingOfSuggestion}
            </span>
          </span>
        );
      },
    },
  ];

  return (
    <div className="stack" data-testid="mapping-panel">
      {error ? <ErrorBanner message={error} /> : null}
      {!view.codebs.exists ? (
        <WarnBanner title={fr.mapping.codebsMissing}>
          <p>{view.codebs.message}</p>
          <Button variant="primary" busy={creatingCol} onClick={() => void createCodebs()}>
            {fr.mapping.createCodebs}
          </Button>
        </WarnBanner>
      ) : null}
      {view.usersError ? <ErrorBanner message={view.usersError} onRetry={onReload} /> : null}

      {unmappedUsers.some((u) => u.hoursWaiting > 0 || u.slotsWaiting > 0) ? (
        <Card title={fr.mapping.unmappedUsers} headingLevel={3} data-testid="unmapped-users">
          <p className="muted small">{fr.mapping.unmappedUsersHelp}</p>
          <ul className="stack" style={{ margin: 0, paddingLeft: 18 }}>
            {unmappedUsers
              .filter((u) => u.hoursWaiting > 0 || u.slotsWaiting > 0)
              .map((u) => (
                <li key={u.id}>
                  <strong>{u.displayName}</strong>
                  {u.email ? <span className="muted"> — {u.email}</span> : null}{' '}
                  <StatusBadge tone="warn">{fr.mapping.waitingHours(formatHours(u.hoursWaiting), u.slotsWaiting)}</StatusBadge>
                  {u.fromTimeSlotsOnly ? <span className="muted small"> ({fr.mapping.fromSlots})</span> : null}
                </li>
              ))}
          </ul>
        </Card>
      ) : null}

      <div className="row" style={{ alignItems: 'flex-end' }}>
        <div style={{ minWidth: 280 }}>
          <Field id="map-filter" label={fr.mapping.filter} value={filter} onChange={setFilter} type="search" />
        </div>
        <Switch id="map-only-unmapped" label={fr.mapping.onlyUnmapped} checked={onlyUnmapped} onChange={setOnlyUnmapped} />
      </div>
      <div className="row">
        {changes.length ? (
          <span className="small" role="status">
            {fr.mapping.pending(changes.length)}
          </span>
        ) : null}
        <span className="spacer" />
        <Button onClick={acceptSafe}>{fr.mapping.acceptAll}</Button>
        <Button variant="primary" busy={saving} onClick={() => void save()} data-testid="mapping-save">
          {fr.common.save}
          {changes.length ? ` (${changes.length})` : ''}
        </Button>
      </div>

      {view.salaries.length === 0 ? (
        <EmptyState title={fr.mapping.noSalaries(software)}>{fr.mapping.noSalariesHelp}</EmptyState>
      ) : (
        <div className="mapping-table">
          <Table
            columns={columns}
            rows={rows}
            rowKey={(s) => s.code}
            caption={fr.mapping.title}
            rowClassName={(s) => (choices[s.code] ? undefined : 'highlight')}
            testId="mapping-table"
          />
        </div>
      )}
    </div>
  );
}
