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
import type { NavTarget } from '../../shared/contract.js';
import { createApp, type App } from '../app.js';
import { defaultFeatures } from '../features/index.js';
import { applyMemoryProfile } from '../memory-profile.js';
import { createLogger } from '../services/logger.js';
import { CONTENT_SECURITY_POLICY, resolveStaticFile } from '../static-files.js';
import { startShellController, type ShellController } from './controller.js';
import { createElectronOpener } from './desktop-opener.js';
import { createElectronTray } from './electron-tray.js';
import { createElectronUpdateBackend } from './electron-updater.js';
import { bindIpc } from './ipc.js';
import { HIDDEN_ARG, createLoginItem } from './login-item.js';
import { fileNotificationMemory } from './notification-memory.js';
import { createElectronNotifier } from './notifications.js';
import { createSafeStorageCipher } from './safe-storage-cipher.js';
import { createElectronSettingsStore } from './settings-store.js';

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
let controller: ShellController | null = null;
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

function showWindow(target?: NavTarget): void {
  if (!win) createWindow();
  if (!win) return;
  if (win.isMinimized()) win.restore();
  win.show();
  win.focus();
  if (target) theApp?.context.emit('app:navigate', target);
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
    // Updates only in the installed app (electron-updater needs the packaged app-update.yml).
    ...(app.isPackaged ? { updateBackend: createElectronUpdateBackend(logger) } : {}),
    features: defaultFeatures({ sync: { opener: createElectronOpener() } }),
  });
  const running = theApp;

  const binding = bindIpc({
    router: running.router,
    logger,
    policy: () => ({ allowedWebContentsId: win?.webContents.id ?? null, allowedUrlPrefixes: [`${APP_ORIGIN}/`] }),
    target: () => win?.webContents ?? null,
  });
  running.onEvent((event, payload) => binding.emit(event, payload));
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


  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (e) => {
    if (!theApp) return;
    e.preventDefault();
    const a = theApp;
    theApp = null;
    binding.dispose();
    controller?.dispose();
    void a.dispose().finally(() => app.exit(0));
  });
  // keep running in the tray when the window is closed
  app.on('window-all-closed', () => undefined);

  createWindow();

  // Tray and notifications: the decisions are pure (connector-state, tray-menu, notification-policy), wired
  // by the controller; Electron only renders them.
  const ctl = await startShellController({
    app: running,
    tray: createElectronTray(buildDir, () => showWindow()),
    notifier: createElectronNotifier(path.join(buildDir, 'icon.png')),
    memory: fileNotificationMemory(userDataDir),
    show: (target) => showWindow(target),
    quit: () => {
      quitting = true;
      app.quit();
    },
    logger,
  });
  controller = ctl;
}
