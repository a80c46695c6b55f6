/**
 * `npm run bridge [-- --port 5180] [--dev]`: starts the app services headless and the web bridge,
 * then prints the URL to open. `--dev` serves the renderer through Vite (hot reload), otherwise the
 * built renderer in dist/renderer (npm run build:renderer).
 *
 * Data folder: CONNECTEUR_DATA_DIR, or the OS user's data folder. Settings overrides:
 * CONNECTEUR_SETTINGS_FILE and CONNECTEUR_* variables (see README).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp } from './app.js';
import { defaultFeatures } from './features/index.js';
import { applyMemoryProfile } from './memory-profile.js';
import { createLogger } from './services/logger.js';
import { createNodeCipher, userDataDir } from './services/settings/node-cipher.js';
import { createNodeSettingsStore } from './services/settings/store.js';
import { startWebBridge, type BridgeOptions } from './web-bridge.js';

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const portArg = args.indexOf('--port');
  const port = portArg >= 0 ? Number(args[portArg + 1]) : Number(process.env.CONNECTEUR_BRIDGE_PORT ?? 0);
  const dev = args.includes('--dev');
  const dataDir = process.env.CONNECTEUR_DATA_DIR || userDataDir();
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
  const logger = createLogger({
    dir: path.join(dataDir, 'logs'),
    retainDays: 30,
    level: process.env.CONNECTEUR_LOG_LEVEL === 'debug' ? 'debug' : 'info',
    sink: (line, level) => {
      if (level === 'warn' || level === 'error') process.stderr.write(line + '\n');
    },
  });
  const cipher = createNodeCipher({ keyFile: path.join(dataDir, 'secret.key') });
  const app = await createApp({
    settingsStore: await createNodeSettingsStore({ cwd: dataDir }),
    cipher,
    logger,
    userDataDir: dataDir,
    host: 'bridge',
    // development bridge (never shipped): the licence public key may come from the settings
    entry: 'bridge',
    env: process.env,
    features: defaultFeatures(),
  });
  let devMiddleware: BridgeOptions['devMiddleware'];
  let closeVite: (() => Promise<void>) | undefined;
  if (dev) {
    const { createServer } = await import('vite');
    const vite = await createServer({ configFile: path.join(root, 'vite.config.ts'), server: { middlewareMode: true }, appType: 'spa' });
    devMiddleware = (req, res, next) => vite.middlewares(req, res, next);
    closeVite = () => vite.close();
  }
  const bridge = await startWebBridge({
    router: app.router,
    onEvent: app.onEvent,
    logger,
    port: Number.isFinite(port) ? port : 0,
    staticDir: path.join(root, 'dist', 'renderer'),
    ...(devMiddleware ? { devMiddleware } : {}),
  });
  process.stdout.write(
    `Pont web du connecteur (développement, local uniquement), sur les réglages de ${dataDir}.\nOuvrez : ${bridge.loginUrl}\n` +
      'Pour essayer l’application contre les simulateurs (SQL Server, BatiSimply, licences de démonstration) : npm run try\n',
  );
  const stop = async () => {
    await bridge.close();
    await closeVite?.();
    await app.dispose();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

applyMemoryProfile();
main().catch((e: unknown) => {
  process.stderr.write(`Le pont web n'a pas pu démarrer : ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
