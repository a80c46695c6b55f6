/**
 * The application frame: loads app info, settings and licence; shows the first-run wizard until the
 * setup is completed, then the sidebar and the pages. The "Licence expirée" screen replaces the
 * dashboard while the licence forbids syncing (settings and the licence page stay reachable).
 *
 * Routes are links (`#/journal?run=…&action=failed`, see lib/nav.ts): the dashboard's « À traiter », a
 * notification's click and the tray land on the page that fixes something. With the protection on, the
 * protected pages ask for the PIN first (the main process refuses their channels anyway).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppInfo, LicenceStatus, NavTarget, ProtectionStatus, SettingsView } from '../shared/contract.js';
import { fr } from '../shared/strings.fr.js';
import { CallError, errorMessage, useCall, useEvent } from './lib/backend.js';
import { softwareLabel } from './lib/drafts.js';
import { Button, ErrorBanner, Loading } from './components/ui.js';
import { Dashboard } from './pages/dashboard.js';
import { JournalPage } from './pages/journal.js';
import { LicenceExpiredScreen, LicencePage, isLicenceBlocking } from './pages/licence.js';
import { SettingsPage } from './pages/settings.js';
import { Wizard } from './pages/wizard.js';
import { MappingPanel } from './components/mapping-panel.js';
import { Notices } from './components/notices.js';
import { ProtectionGate } from './components/protection-gate.js';
import { useToast } from './components/toast.js';
import { PAGES, PROTECTED_PAGES, hrefOf, parseHash, type Page, type Route } from './lib/nav.js';
import { mappingSession, mayLeave } from './lib/session.js';

export type { Page } from './lib/nav.js';

const routeFromHash = (): Route => parseHash(window.location.hash) ?? { page: 'dashboard' };

interface Boot {
  info: AppInfo;
  settings: SettingsView;
  licence: LicenceStatus | null;
  /** Why the licence status could not be read (shown where the status would be). */
  licenceError: string | null;
}

export function App() {
  const call = useCall();
  const toast = useToast();
  const [boot, setBoot] = useState<Boot | null>(null);
  const [bootError, setBootError] = useState<string | null>(null);
  const [route, setRouteState] = useState<Route>(routeFromHash);
  const page = route.page;
  const [wizard, setWizard] = useState(false);
  const [protection, setProtection] = useState<ProtectionStatus | null>(null);
  const mainRef = useRef<HTMLElement>(null);

  const fetchBoot = useCallback(async (): Promise<Boot> => {
    const [info, settings] = await Promise.all([call('app.info'), call('settings.get')]);
    // The app opens without the licence status (settings and the licence page stay usable); its error is shown.
    const licence = await call('licence.status').then(
      (l) => ({ licence: l, licenceError: null }),
      (e: unknown) => ({ licence: null, licenceError: errorMessage(e) }),
    );
    call('protection.status').then(setProtection, () => undefined);
    return { info, settings, ...licence };
  }, [call]);

  const applyBoot = useCallback((p: Promise<Boot>) => {
    p.then((b) => {
      setBoot(b);
      setBootError(null);
      setWizard(!b.settings.setupCompleted);
    }).catch((e: unknown) => setBootError(e instanceof CallError ? e.message : errorMessage(e)));
  }, []);

  useEffect(() => {
    applyBoot(fetchBoot());
  }, [applyBoot, fetchBoot]);

  const load = () => {
    setBootError(null);
    applyBoot(fetchBoot());
  };

  const focusMain = useCallback(() => {
    // Move focus to the new page's content for keyboard and screen-reader users (a page that focuses a
    // precise element — a journal run, a section — does so after this).
    window.setTimeout(() => mainRef.current?.focus(), 0);
  }, []);

  /** The route this window set itself: its own hashchange is not a new navigation (focus stays where put). */
  const ownHash = useRef<string | null>(null);
  useEffect(() => {
    const onHash = () => {
      if (window.location.hash === ownHash.current) return;
      ownHash.current = window.location.hash;
      const r = parseHash(window.location.hash);
      if (!r) setWizard(true);
      else {
        setRouteState(r);
        focusMain();
      }
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [focusMain]);

  const navigate = useCallback(
    (t: NavTarget | Route) => {
      // A page with unsaved changes (the mapping) asks before they are lost.
      if (!mayLeave()) return;
      if (t.page === 'setup') {
        setWizard(true);
        return;
      }
      const href = hrefOf(t);
      ownHash.current = href;
      if (window.location.hash !== href) window.location.hash = href;
      setRouteState(parseHash(href) ?? { page: 'dashboard' });
      focusMain();
    },
    [focusMain],
  );
  const setPage = useCallback((p: Page) => navigate({ page: p }), [navigate]);

  const setLicence = useCallback((licence: LicenceStatus) => setBoot((b) => (b ? { ...b, licence, licenceError: null } : b)), []);
  useEvent('licence:status', setLicence);
  // A finished run changes the hours waiting for each user: the mapping page fetches its lists again.
  useEvent('sync:status', (e) => {
    if (e.lastRun) mappingSession.forget();
  });
  useEvent('protection:status', setProtection);
  useEvent('app:navigate', (e) => navigate(e));

  if (bootError) {
    return (
      <div className="fullscreen">
        <div className="card">
          <ErrorBanner message={bootError} onRetry={load} />
        </div>
      </div>
    );
  }
  if (!boot) {
    return (
      <div className="fullscreen">
        <Loading label={fr.app.starting} />
      </div>
    );
  }

  const software = softwareLabel(boot.settings.software);

  if (wizard) {
    return (
      <>
        <Notices className="wizard notices-top" />
        <Wizard
          initial={boot.settings}
          licence={boot.licence}
          licenceError={boot.licenceError}
          onDone={(settings) => {
            setBoot({ ...boot, settings });
            setWizard(false);
            setPage('dashboard');
          }}
        />
      </>
    );
  }

  const blocked = boot.licence !== null && isLicenceBlocking(boot.licence);

  let content;
  switch (page) {
    case 'dashboard':
      content =
        blocked && boot.licence ? (
          <LicenceExpiredScreen status={boot.licence} onStatus={setLicence} onOpenSettings={() => setPage('settings')} />
        ) : (
          <Dashboard software={software} licence={boot.licence} licenceError={boot.licenceError} onNavigate={navigate} />
        );
      break;
    case 'mapping':
      content = (
        <ProtectionGate status={protection} pageTitle={fr.mapping.title} onStatus={setProtection}>
          <div data-testid="page-mapping">
            <div className="page-head">
              <div>
                <h1>{fr.mapping.title}</h1>
                <p>{fr.mapping.intro(software)}</p>
              </div>
            </div>
            <MappingPanel software={software} />
          </div>
        </ProtectionGate>
      );
      break;
    case 'journal':
      content = <JournalPage key={`${route.runId ?? ''}|${route.action ?? ''}`} software={software} focus={route.runId ? { runId: route.runId, ...(route.action ? { action: route.action } : {}) } : null} />;
      break;
    case 'settings':
      content = (
        <ProtectionGate status={protection} pageTitle={fr.settings.title} onStatus={setProtection}>
          <SettingsPage
            key={route.section ?? ''}
            section={route.section ?? null}
            protection={protection}
            onProtection={setProtection}
            onSaved={(settings) => {
              mappingSession.forget();
              setBoot((b) => (b ? { ...b, settings } : b));
            }}
            onRerunWizard={() => setWizard(true)}
          />
        </ProtectionGate>
      );
      break;
    case 'licence':
      content = <LicencePage />;
      break;
  }

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        {fr.nav.skip}
      </a>
      <aside className="sidebar">
        <div className="brand">
          {fr.app.title}
          <small>{fr.app.subtitle(software)}</small>
        </div>
        <nav aria-label={fr.nav.label}>
          <ul className="nav">
            {PAGES.map((p) => (
              <li key={p}>
                <button type="button" aria-current={page === p ? 'page' : undefined} onClick={() => setPage(p)} data-testid={`nav-${p}`}>
                  {fr.nav[p]}
                  {protection?.enabled && !protection.unlocked && PROTECTED_PAGES.has(p) ? <span className="nav-lock" title={fr.protection.lockedTitle}>
                      <svg aria-hidden="true" width="12" height="12" viewBox="0 0 16 16" focusable="false">
                        <path fill="currentColor" d="M4 7V5a4 4 0 1 1 8 0v2h1a1 1 0 0 1 1 1v7a1 1 0 0 1-1 1H3a1 1 0 0 1-1-1V8a1 1 0 0 1 1-1h1zm2 0h4V5a2 2 0 1 0-4 0v2z" />
                      </svg>
                      <span className="sr-only"> ({fr.protection.lockedTitle.toLowerCase()})</span>
                    </span> : null}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <div>{fr.app.machine(boot.info.machineName)}</div>
          <div>{fr.app.version(boot.info.version)}</div>
          {protection?.enabled && protection.unlocked ? (
            <Button
              size="sm"
              variant="ghost"
              onClick={() => void call('protection.lock').then(setProtection, (e: unknown) => toast.show(errorMessage(e), 'error'))}
              style={{ color: 'var(--c-sidebar-text)', padding: 0 }}
              data-testid="lock-now"
            >
              {fr.protection.lock}
            </Button>
          ) : null}
          {boot.licence && !boot.licence.syncAllowed ? (
            <Button size="sm" variant="ghost" onClick={() => setPage('licence')} style={{ color: '#ffd27a', padding: 0, whiteSpace: 'normal', textAlign: 'left' }}>
              {fr.licence.notAllowed}
            </Button>
          ) : null}
        </div>
      </aside>
      <main className="main" id="main" ref={mainRef} tabIndex={-1}>
        <Notices />
        {content}
      </main>
    </div>
  );
}
