/**
 * The application frame: loads app info, settings and licence; shows the first-run wizard until the
 * setup is completed, then the sidebar and the pages. The "Licence expirée" screen replaces the
 * dashboard while the licence forbids syncing (settings and the licence page stay reachable).
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import type { AppInfo, LicenceStatus, SettingsView } from '../shared/contract.js';
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

export type Page = 'dashboard' | 'mapping' | 'journal' | 'settings' | 'licence';
const PAGES: readonly Page[] = ['dashboard', 'mapping', 'journal', 'settings', 'licence'];

function pageFromHash(): Page {
  const h = window.location.hash.replace(/^#\/?/, '');
  return (PAGES as readonly string[]).includes(h) ? (h as Page) : 'dashboard';
}

interface Boot {
  info: AppInfo;
  settings: SettingsView;
  licence: LicenceStatus | null;
  /** Why the licence status could not be read (shown where the status would be). */
  licenceError: string | null;
}

export function App() {
  const call = useCall();
  const [boot, setBoot] = useState<Boot | null>(null);
  const [bootError, setBootError] = useState<string | null>(null);
  const [page, setPageState] = useState<Page>(pageFromHash);
  const [wizard, setWizard] = useState(false);
  const mainRef = useRef<HTMLElement>(null);

  const fetchBoot = useCallback(async (): Promise<Boot> => {
    const [info, settings] = await Promise.all([call('app.info'), call('settings.get')]);
    // The app opens without the licence status (settings and the licence page stay usable); its error is shown.
    const licence = await call('licence.status').then(
      (l) => ({ licence: l, licenceError: null }),
      (e: unknown) => ({ licence: null, licenceError: errorMessage(e) }),
    );
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

  useEffect(() => {
    const onHash = () => setPageState(pageFromHash());
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const setPage = useCallback((p: Page) => {
    window.location.hash = `#/${p}`;
    setPageState(p);
    // Move focus to the new page's content for keyboard and screen-reader users.
    window.setTimeout(() => mainRef.current?.focus(), 0);
  }, []);

  const setLicence = useCallback((licence: LicenceStatus) => setBoot((b) => (b ? { ...b, licence, licenceError: null } : b)), []);
  useEvent('licence:status', setLicence);
  useEvent('app:navigate', (e) => {
    if (e.page === 'setup') setWizard(true);
    else setPage(e.page);
  });

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
          <Dashboard software={software} licence={boot.licence} licenceError={boot.licenceError} onOpenJournal={() => setPage('journal')} onOpenSettings={() => setPage('settings')} />
        );
      break;
    case 'mapping':
      content = (
        <div data-testid="page-mapping">
          <div className="page-head">
            <div>
              <h1>{fr.mapping.title}</h1>
              <p>{fr.mapping.intro(software)}</p>
            </div>
          </div>
          <MappingPanel software={software} />
        </div>
      );
      break;
    case 'journal':
      content = <JournalPage software={software} />;
      break;
    case 'settings':
      content = (
        <SettingsPage
          onSaved={(settings) => setBoot((b) => (b ? { ...b, settings } : b))}
          onRerunWizard={() => setWizard(true)}
        />
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
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <div className="sidebar-foot">
          <div>{fr.app.machine(boot.info.machineName)}</div>
          <div>{fr.app.version(boot.info.version)}</div>
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
