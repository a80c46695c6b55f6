/**
 * End-to-end harness: builds the renderer with Vite (into a temp folder, so a clean checkout works and
 * parallel runs never share output), starts the REAL app (createApp with the default features) with a
 * fresh data folder, serves it through the web bridge, and drives Debian Chromium with playwright-core
 * in a fresh user-data-dir. Screenshots go to test-output/screenshots/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { App } from '../../src/main/app.js';
import { createNodeApp } from '../../src/main/composition/node-app.js';
import type { ServiceOverrides } from '../../src/main/composition/services.js';
import { defaultFeatures } from '../../src/main/features/index.js';
import { startWebBridge, type RunningBridge } from '../../src/main/web-bridge.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOT_DIR = path.join(ROOT, 'test-output', 'screenshots');

/**
 * How long any wait in the e2e tests (locator waits, clicks, expect.poll) may take: generous, because
 * the tests run on a loaded 2-core CI machine. Waits are condition-based; this is only the ceiling.
 */
export const WAIT_MS = 30_000;
/** Ceiling for one e2e test (several waits in a row) and for the hooks that build and start the stack. */
export const E2E_TEST_MS = 240_000;
/** expect.poll options with the shared ceiling. */
export const POLL = { timeout: WAIT_MS } as const;

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--lang=fr-FR',
];

/** Builds the renderer with the project's vite.config.ts into `outDir`. */
export async function buildRenderer(outDir: string): Promise<void> {
  const { build } = await import('vite');
  await build({
    configFile: path.join(ROOT, 'vite.config.ts'),
    logLevel: 'error',
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
  if (!fs.existsSync(path.join(outDir, 'index.html'))) throw new Error(`vite build produced no index.html in ${outDir}`);
}

/**
 * Channels each journey needs from the app's features. Until a feature is wired into
 * src/main/features.ts its channels answer NOT_CONFIGURED; the journeys that need it are then
 * reported as skipped (with the missing channels named) instead of failing for an unrelated reason.
 */
export async function missingChannels(channels: readonly string[]): Promise<string[]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-e2e-probe-'));
  const logger = memoryLogger();
  const app = await createNodeApp({
    dataDir: dir,
    logger,
    host: 'bridge',
    env: {},
    version: '0.0.0-e2e',
    features: defaultFeatures(),
  });
  try {
    const missing: string[] = [];
    for (const c of channels) {
      const r = await app.router.invoke(c, undefined, { host: 'bridge' });
      if (!r.ok && r.error.code === 'NOT_CONFIGURED' && /pas encore disponible/.test(r.error.message)) missing.push(c);
    }
    return missing;
  } finally {
    await app.dispose().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The tables of the page that need a horizontal scroll (by their data-testid): none should at 1280 px and up. */
export async function overflowingTables(page: Page): Promise<string[]> {
  return page.locator('.table-wrap').evaluateAll((wraps) =>
    wraps.filter((w) => w.scrollWidth > w.clientWidth + 1).map((w) => w.querySelector('table')?.getAttribute('data-testid') ?? '(table)'),
  );
}

export interface Stack {
  dir: string;
  dataDir: string;
  app: App;
  bridge: RunningBridge;
  context: BrowserContext;
  page: Page;
  /** Errors the page logged (uncaught exceptions, console.error). */
  pageErrors: string[];
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export interface StackOptions {
  viewport?: { width: number; height: number };
  /** Environment for CONNECTEUR_* settings overrides. */
  env?: Record<string, string | undefined>;
  /** Runs before the app starts, with its (empty) data folder: e.g. to write a damaged settings file. */
  prepare?: (dataDir: string) => void;
  /** Service injections (e.g. an accepting licence guard for a journey that is not about the licence). */
  overrides?: ServiceOverrides;
}

/**
 * Starts app + bridge + browser. `rendererDir` is a built renderer (see buildRenderer).
 * Nothing of ours is replaced: the app gets the same features as `npm run bridge`.
 */
export async function startStack(rendererDir: string, opts: StackOptions = {}): Promise<Stack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-e2e-'));
  const dataDir = path.join(dir, 'data');
  fs.mkdirSync(dataDir, { recursive: true });
  opts.prepare?.(dataDir);
  const logger = memoryLogger();
  const app = await createNodeApp({
    dataDir: dataDir,
    logger,
    host: 'bridge',
    env: opts.env ?? {},
    version: '0.0.0-e2e',
    ...(opts.overrides ? { overrides: opts.overrides } : {}),
    features: defaultFeatures(),
  });
  const bridge = await startWebBridge({ router: app.router, onEvent: app.onEvent, logger, staticDir: rendererDir });
  const context = await chromium.launchPersistentContext(path.join(dir, 'chromium-profile'), {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    locale: 'fr-FR',
    // Chromium on Linux takes its own language (date inputs' jj/mm/aaaa) from LANGUAGE/LANG, not from
    // --lang, and needs Debian's chromium-l10n for the French resources.
    env: { ...process.env, LANGUAGE: 'fr', LANG: 'fr_FR.UTF-8' },
    timezoneId: 'Europe/Paris',
    acceptDownloads: true,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.setDefaultTimeout(WAIT_MS);
  page.setDefaultNavigationTimeout(WAIT_MS);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(bridge.loginUrl);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  return {
    dir,
    dataDir,
    app,
    bridge,
    context,
    page,
    pageErrors,
    async screenshot(name) {
      // Close the passing toasts first, so that they do not hide the page being reviewed.
      await page.locator('.toasts button').evaluateAll((buttons) => buttons.forEach((b) => (b as HTMLButtonElement).click()));
      const file = path.join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    async close() {
      await context.close().catch(() => undefined);
      await bridge.close().catch(() => undefined);
      await app.dispose().catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
