/**
 * Employee mapping: Batigest salariés beside BatiSimply users, suggestions with a confidence, manual
 * choice, unmapped users highlighted with the hours waiting for them, and "Enregistrer".
 * Used by the Mapping page and by the wizard's "Salariés" step.
 *
 * Nothing changes without the user knowing: the lists are kept for the session (« Actualiser » fetches
 * them again), salariés without a user come first, changed rows are marked, a user already given to
 * another salarié is moved only once confirmed, the arrow keys never change a closed list, and leaving
 * with unsaved changes asks first. The search ignores case and accents.
 */
import { useEffect, useMemo, useState } from 'react';
import type { MappingUser, MappingView } from '../../shared/contract.js';
import type { Salarie } from '../../shared/domain.js';
import { SAFE_CONFIDENCE, suggestMappings, type Suggestion } from '../../shared/mapping-suggest.js';
import { formatHours, fr } from '../../shared/strings.fr.js';
import { matchesSearch } from '../../shared/text-search.js';
import { errorMessage, useCall } from '../lib/backend.js';
import { keepClosedListValue, useFocusAfterRender } from '../lib/focus.js';
import { mappingSession, mayLeave, setLeaveGuard } from '../lib/session.js';
import { useToast } from './toast.js';
import { Button, Card, EmptyState, ErrorBanner, Field, Loading, StatusBadge, SuccessBanner, Switch, Table, WarnBanner, type Column } from './ui.js';

type Choices = Record<string, string>; // salarieCode -> userId ('' = none)

function initialChoices(view: MappingView): Choices {
  const c: Choices = {};
  for (const s of view.salaries) c[s.code] = s.codebs ?? '';
  return c;
}

function salarieName(s: Salarie): string {
  return [s.nom, s.prenom].filter(Boolean).join(' ');
}

/** A CSS selector for the select of a salarié (codes may hold any character). */
const selectOf = (code: string) => `[data-testid="map-${CSS.escape(code)}"]`;


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
  const call = useCall();
  const [view, setView] = useState<MappingView | null>(() => mappingSession.get());
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(() => mappingSession.get() === null);
  const [refreshed, setRefreshed] = useState(0);
  /** « 2 correspondances enregistrées. »: shown (and focused) once the saved mapping is drawn again. */
  const [result, setResult] = useState<string | null>(null);
  const focusAfter = useFocusAfterRender();
  /** Asked reads (« Actualiser », « Réessayer »); 0 = only when the session has no lists yet. */
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (tick === 0 && mappingSession.get()) return undefined;
    let alive = true;
    call('mapping.get')
      .then(
        (v) => {
          if (!alive) return;
          mappingSession.set(v);
          setView(v);
          setRefreshed((n) => n + 1);
        },
        (e: unknown) => {
          if (alive) setError(errorMessage(e));
        },
      )
      .finally(() => {
        if (alive) setLoading(false);
      });
    return () => {
      alive = false;
    };
  }, [call, tick]);
  const load = () => {
    // Reading the lists again drops the unsaved choices: the page asks first.
    if (!mayLeave()) return;
    setLoading(true);
    setError(null);
    setResult(null);
    setTick((t) => t + 1);
  };
  if (loading && !view) return <Loading />;
  if (error && !view) return <ErrorBanner message={error} onRetry={load} />;
  if (!view) return null;
  return (
    <>
      {error ? <ErrorBanner message={error} onRetry={load} /> : null}
      <MappingEditor
        key={`${refreshed}|${JSON.stringify(view.salaries.map((s) => [s.code, s.codebs]))}`}
        view={view}
        software={software}
        refreshing={loading}
        result={result}
        onEdit={() => setResult(null)}
        onSaved={(v, message) => {
          mappingSession.set(v);
          setView(v);
          setResult(message);
          focusAfter('#mapping-result');
          onSaved?.();
        }}
        onReload={load}
        onPendingChange={onPendingChange}
      />
    </>
  );
}

interface Reassignment {
  code: string;
  userId: string;
  owner: string;
}

function MappingEditor({
  view,
  software,
  refreshing,
  result,
  onEdit,
  onSaved,
  onReload,
  onPendingChange,
}: {
  view: MappingView;
  software: string;
  refreshing: boolean;
  result: string | null;
  onEdit: () => void;
  onSaved: (v: MappingView, message: string) => void;
  onReload: () => void;
  onPendingChange?: ((n: number) => void) | undefined;
}) {
  const call = useCall();
  const toast = useToast();
  const focusAfter = useFocusAfterRender();
  const [choices, setChoices] = useState<Choices>(() => initialChoices(view));
  const [filter, setFilter] = useState('');
  const [onlyUnmapped, setOnlyUnmapped] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [creatingCol, setCreatingCol] = useState(false);
  const [reassign, setReassign] = useState<Reassignment | null>(null);

  const usersById = useMemo(() => new Map(view.users.map((u) => [u.id, u])), [view.users]);
  const salariesByCode = useMemo(() => new Map(view.salaries.map((s) => [s.code, s])), [view.salaries]);

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
  const changed = new Set(changes.map(([code]) => code));

  const pendingCount = changes.length;
  useEffect(() => {
    onPendingChange?.(pendingCount);
  }, [pendingCount, onPendingChange]);
  // Leaving the page (menu, a link, « Précédent », « Actualiser ») with unsaved choices asks first. No
  // beforeunload: in Electron it would silently stop the window from closing (and an update from installing).
  useEffect(() => {
    if (pendingCount === 0) return undefined;
    setLeaveGuard(() => fr.mapping.leaveConfirm(pendingCount));
    return () => setLeaveGuard(null);
  }, [pendingCount]);

  const chosenUserIds = new Set(Object.values(choices).filter(Boolean));
  const unmappedUsers = view.users
    .filter((u) => !chosenUserIds.has(u.id))
    .sort((a, b) => b.hoursWaiting - a.hoursWaiting || a.displayName.localeCompare(b.displayName, 'fr'));

  const ownerOf = (userId: string): string | undefined => Object.entries(choices).find(([, u]) => u === userId)?.[0];

  const apply = (code: string, userId: string) => {
    setChoices((c) => {
      const next = { ...c };
      if (userId) for (const [k, v] of Object.entries(next)) if (v === userId && k !== code) next[k] = '';
      next[code] = userId;
      return next;
    });
  };

  /** A user already given to another salarié is moved only once the user confirms. */
  const choose = (code: string, userId: string, focusSelect = false) => {
    onEdit();
    const owner = userId ? ownerOf(userId) : undefined;
    if (owner && owner !== code) {
      setReassign({ code, userId, owner });
      focusAfter('#mapping-reassign');
      return;
    }
    setReassign(null);
    apply(code, userId);
    // « Accepter » disappears with the suggestion: the focus goes to the list it filled.
    if (focusSelect) focusAfter(selectOf(code));
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
      setLeaveGuard(null);
      // The editor is drawn again for the saved mapping; the message says what was done and takes the focus.
      onSaved(res.mapping, fr.mapping.saved(res.saved));
    } catch (e) {
      setError(errorMessage(e));
      focusAfter('#mapping-error');
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

  const rows = view.salaries
    .filter((s) => {
      if (onlyUnmapped && choices[s.code]) return false;
      return matchesSearch(`${s.code} ${salarieName(s)} ${s.prenom ?? ''} ${s.nom}`, filter);
    })
    // Salariés without a saved user first (the order does not move while choosing).
    .sort((a, b) => Number(Boolean(original[a.code])) - Number(Boolean(original[b.code])) || salarieName(a).localeCompare(salarieName(b), 'fr'));

  const salarieLabel = (code: string) => {
    const o = salariesByCode.get(code);
    return o ? salarieName(o) || code : code;
  };
  const userLabel = (u: MappingUser) => `${u.displayName}${u.email ? ` — ${u.email}` : ''}`;

  const columns: Column<Salarie>[] = [
    { key: 'code', header: fr.mapping.code, render: (s) => <code>{s.code}</code> },
    {
      key: 'name',
      header: fr.mapping.salarie(software),
      render: (s) => (
        <>
          <strong>{salarieName(s)}</strong>
          {changed.has(s.code) ? (
            <span className="map-changed">
              {' '}
              <StatusBadge tone="info">{fr.mapping.changed}</StatusBadge>
            </span>
          ) : null}
        </>
      ),
    },
    {
      key: 'user',
      header: fr.mapping.user,
      render: (s) => {
        const chosen = usersById.get(choices[s.code] ?? '');
        const before = original[s.code] ? usersById.get(original[s.code] ?? '') : undefined;
        return (
          <div className="map-user">
            <select
              className="select"
              value={choices[s.code] ?? ''}
              aria-label={`${fr.mapping.user} pour ${salarieName(s)}`}
              aria-describedby="mapping-keyboard-help"
              data-testid={`map-${s.code}`}
              onKeyDown={keepClosedListValue}
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
            {chosen?.email ? (
              <span className="small muted map-email" data-testid={`map-email-${s.code}`}>
                {chosen.email}
              </span>
            ) : null}
            {changed.has(s.code) ? (
              <span className="small muted">{fr.mapping.before(before ? before.displayName : fr.mapping.noUserPlain)}</span>
            ) : null}
          </div>
        );
      },
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
            <Button size="sm" onClick={() => choose(s.code, sg.userId, true)} aria-label={`${fr.mapping.accept} : ${u.displayName} pour ${salarieName(s)}`}>
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
        const hours = fr.common.hours(formatHours(u.hoursWaiting));
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
      {error ? <ErrorBanner id="mapping-error" message={error} /> : null}
      {result && !error ? <SuccessBanner id="mapping-result" message={result} /> : null}
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
        <Card title={fr.mapping.unmappedUsers} headingLevel={2} data-testid="unmapped-users">
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
          <Field id="map-filter" label={fr.mapping.filter} value={filter} onChange={setFilter} type="search" help={fr.mapping.filterHelp} />
        </div>
        <Switch id="map-only-unmapped" label={fr.mapping.onlyUnmapped} checked={onlyUnmapped} onChange={setOnlyUnmapped} />
        <span className="spacer" />
        <Button onClick={onReload} busy={refreshing} data-testid="mapping-refresh">
          {fr.common.refresh}
        </Button>
      </div>
      {reassign ? (
        <div className="banner banner-warn" role="alertdialog" aria-labelledby="mapping-reassign-text" id="mapping-reassign" tabIndex={-1} data-testid="mapping-reassign">
          <div className="banner-body">
            <span id="mapping-reassign-text">
              {fr.mapping.reassignQuestion(usersById.get(reassign.userId)?.displayName ?? reassign.userId, salarieLabel(reassign.owner), salarieLabel(reassign.code))}
            </span>
            <div className="row">
              <Button
                variant="primary"
                size="sm"
                onClick={() => {
                  apply(reassign.code, reassign.userId);
                  setReassign(null);
                  focusAfter(selectOf(reassign.code));
                }}
              >
                {fr.mapping.reassign}
              </Button>
              <Button
                size="sm"
                onClick={() => {
                  setReassign(null);
                  focusAfter(selectOf(reassign.code));
                }}
              >
                {fr.common.cancel}
              </Button>
            </div>
          </div>
        </div>
      ) : null}
      <div className="row">
        <span className="small" role="status">
          {changes.length ? fr.mapping.pending(changes.length) : ''}
        </span>
        <span className="spacer" />
        <Button onClick={acceptSafe}>{fr.mapping.acceptAll}</Button>
        <Button variant="primary" busy={saving} onClick={() => void save()} data-testid="mapping-save">
          {fr.common.save}
          {changes.length ? ` (${changes.length})` : ''}
        </Button>
      </div>
      <p className="small muted" id="mapping-keyboard-help">
        {fr.mapping.keyboardHelp}
      </p>

      {view.salaries.length === 0 ? (
        <EmptyState title={fr.mapping.noSalaries(software)}>{fr.mapping.noSalariesHelp}</EmptyState>
      ) : (
        <div className="mapping-table">
          <Table
            columns={columns}
            rows={rows}
            rowKey={(s) => s.code}
            caption={fr.mapping.title}
            rowClassName={(s) => [choices[s.code] ? '' : 'highlight', changed.has(s.code) ? 'changed' : ''].filter(Boolean).join(' ') || undefined}
            testId="mapping-table"
          />
        </div>
      )}
    </div>
  );
}
