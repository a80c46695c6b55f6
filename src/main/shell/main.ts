/**
 * Electron main process: the thin shell around createApp (src/main/app.ts).
 *
 * Security: single instance; the renderer is served from the app's own files through the `app://`
 * scheme with a strict Content-Security-Policy header; contextIsolation + sandbox on, nodeIntegration
 * off; navigation, new windows, webviews and permission requests refused; nothing remote is loaded.
 * The window hides to the tray on close; "Quitter" in the tray quits.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BrowserWindow, app, protocol, session } from 'electron';
import { createApp, type App } from '../app.js';
import { defaultFeatures } from '../features/index.js';
import { applyMemoryProfile } from '../memory-profile.js';
import { createLogger } from '../services/logger.js';
import { CONTENT_SECURITY_POLICY, resolveStaticFile } from '../static-files.js';
import { bindIpc } from './ipc.js';
import { HIDDEN_ARG, createLoginItem } from './login-item.js';
import { createNotifier } from './notifications.js';
import { createSafeStorageCipher } from './safe-storage-cipher.js';
import { createElectronSettingsStore } from './settings-store.js';
import { createTray, type TrayHandle } from './tray.js';

applyMemoryProfile();

const here = path.dirname(fileURLToPath(import.meta.url)); // dist/main/shell
const distRoot = path.resolve(here, '..', '..'); // dist
const rendererRoot = path.join(distRoot, 'renderer');
const buildDir = path.resolve(distRoot, '..', 'build');
const APP_SCHEME = 'app';
const APP_ORIGIN = `${APP_SCHEME}://connecteur`;


protocol.registerSchemesAsPrivileged([
  { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

let win: BrowserWindow | null = null;
let quitting = false;
let tray: TrayHandle | null = null;
let theApp: App | null = null;

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app
    .whenReady()
    .then(start)
    .catch((e: unknown) => {
      process.stderr.write(`startup failed: ${e instanceof Error ? e.stack : String(e)}\n`);
      app.exit(1);
    });
}

function showWindow(): void {
  if (!win) createWindow();
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
}

function serveRenderer(request: Request): Response {
  const found = resolveStaticFile(rendererRoot, new URL(request.url).pathname);
  if (!found) return new Response('Forbidden', { status: 403 });
  return new Response(fs.readFileSync(found.file), {
    headers: {
      'content-type': found.type,
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    },
  });
}

function createWindow(): void {
  win = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 1024,
    minHeight: 700,
    show: false,
    title: 'Connecteur Batigest BatiSimply',
    icon: path.join(buildDir, 'icon.png'),
    autoHideMenuBar: true,
    webPreferences: {
      preload: path.join(here, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      spellcheck: false,
      devTools: !app.isPackaged,
    },
  });
  const wc = win.webContents;
  wc.on('will-navigate', (e, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
  });
  wc.on('will-redirect', (e, url) => {
    if (!url.startsWith(`${APP_ORIGIN}/`)) e.preventDefault();
  });
  wc.setWindowOpenHandler(() => ({ action: 'deny' }));
  win.once('ready-to-show', () => {
    if (!process.argv.includes(HIDDEN_ARG)) win?.show();
  });
  win.on('close', (e) => {
    if (!quitting) {
      e.preventDefault();
      win?.hide();
    }
  });
  win.on('closed', () => {
    win = null;
  });
  void win.loadURL(`${APP_ORIGIN}/index.html`);
}

async function start(): Promise<void> {
  const userDataDir = app.getPath('userData');
  const logger = createLogger({ dir: path.join(userDataDir, 'logs'), retainDays: 30 });
  process.on('uncaughtException', (e) => logger.error('uncaught exception', { error: e }));
  process.on('unhandledRejection', (e) => logger.error('unhandled rejection', { error: e }));

  protocol.handle(APP_SCHEME, serveRenderer);
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  ses.setPermissionCheckHandler(() => false);
  // nothing remote: every request outside the app's own scheme (and devtools) is cancelled
  ses.webRequest.onBeforeRequest((details, cb) => {
    const ok = details.url.startsWith(`${APP_ORIGIN}/`) || details.url.startsWith('devtools://');
    cb({ cancel: !ok });
  });
  app.on('web-contents-created', (_e, contents) => {
    contents.on('will-attach-webview', (ev) => ev.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });

  const cipher = createSafeStorageCipher();
  const notifier = createNotifier(path.join(buildDir, 'icon.png'));
  theApp = await createApp({
    settingsStore: createElectronSettingsStore(userDataDir),
    cipher,
    logger,
    userDataDir,
    host: 'electron',
    entry: 'app',
    // A release must carry the vendor's licence key (vendor-config.ts): otherwise no licence is accepted.
    release: app.isPackaged,
    version: app.getVersion(),
    features: defaultFeatures({
      // scheduled results (and scheduled runs refused, e.g. licence) are notified by the sync feature
      sync: { notify: (title, body) => notifier.notify(title, body, () => showWindow()) },
    }),
  });
  const running = theApp;

  const binding = bindIpc({
    router: running.router,
    logger,
    policy: () => ({ allowedWebContentsId: win?.webContents.id ?? null, allowedUrlPrefixes: [`${APP_ORIGIN}/`] }),
    target: () => win?.webContents ?? null,
  });
  running.onEvent((event, payload) => binding.emit(event, payload));

  running.onEvent((event, payload) => {
    if (event !== 'sync:status') return;
    const run = (payload as { lastRun: { status: string; trigger: string; message: string | null } | null }).lastRun;
    if (!run) return;
    tray?.setStatus(run.message ?? '');
    if (run.trigger !== 'schedule' && (run.status === 'failed' || run.status === 'partial')) {
      notifier.notify('Synchronisation incomplète', run.message ?? 'Consultez le journal.', () => showWindow());
    }
  });
  running.onEvent((event) => {
    if (event === 'settings:notice') showWindow();
  });

  const loginItem = createLoginItem();
  const applyLoginItem = () => {
    const wanted = running.settings.get().schedule.startWithWindows;
    if (app.isPackaged && loginItem.isEnabled() !== wanted) loginItem.setEnabled(wanted);
  };
  applyLoginItem();
  running.settings.onChange(applyLoginItem);

  tray = createTray(
    path.join(buildDir, process.platform === 'win32' ? 'icon.ico' : 'icon.png'),
    {
      open: () => showWindow(),
      syncNow: () => {
        void running.router.invoke('sync.run', { flow: 'all' }, { host: 'electron' }).then((r) => {
          if (!r.ok) notifier.notify('Synchronisation impossible', r.error.message, () => showWindow());
        });
      },
      showStatus: () => {
        showWindow();
        running.context.emit('app:navigate', { page: 'dashboard' });
      },
      quit: () => {
        quitting = true;
        app.quit();
      },
    },
    'Connecteur Batigest BatiSimply',
  );

  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (e) => {
    if (!theApp) return;
    e.preventDefault();
    const a = theApp;
    theApp = null;
    binding.dispose();
    tray?.destroy();
    void a.dispose().finally(() => app.exit(0));
  });
  // keep running in the tray when the window is closed
  app.on('window-all-closed', () => undefined);

  createWindow();
}
