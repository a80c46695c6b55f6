/**
 * `npm run try [-- --port 5180] [--dev] [--no-prefill]`: the whole app in a browser, against the simulators.
 *
 * Starts, on the loopback: a SQL Server simulator holding a generated Batigest company (two salariés without a
 * BatiSimply user, so the « Salariés » step and the mapping page have something to show), a BatiSimply simulator
 * (a few projects made by hand and validated hours on them), a licence service with a demonstration key, and the
 * app itself (the same services and features as `npm run bridge`) behind the web bridge. Prints the address to
 * open and what to type at each step of the wizard; the connection fields are pre-filled (--no-prefill: empty, type
 * them from the printed values). Ctrl+C stops everything.
 *
 * Demo-only pieces live in test/support (the simulators and the licence service); nothing of src/main/services is
 * replaced. Its data folder (.try-data/ in the current folder, or --data-dir) is emptied at each start: the
 * simulators keep nothing either.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { App } from './app.js';
import { createNodeApp, nodeLogger } from './composition/node-app.js';
import { defaultFeatures } from './features/index.js';
import type { IpcRouter } from './ipc/router.js';
import { applyMemoryProfile } from './memory-profile.js';
import { startWebBridge, type BridgeOptions, type RunningBridge } from './web-bridge.js';
import { createPgliteBackend, startTdsSimulator } from '../../test/support/tds/index.js';
import { SIM_DEFAULT_CREDENTIALS, startBatisimplySimulator } from '../../test/support/batisimply/index.js';
import { batisimplyUsersFor, generateBatigestCompany, loadBatigestCompany } from '../../test/support/datasets/batigest.js';
import { startLicenceSimulator } from '../../test/support/licence/simulator.js';
import { startBatigestImporter } from '../../test/support/exports/importer.js';
import { startExportsSim } from '../../test/support/exports/server.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** What a newcomer types (or finds pre-filled) in the wizard. */
export const TRY_VALUES = {
  licenceKey: 'DEMO-BATI-SIMP-LY26',
  database: 'BTG_ESSAI',
  sqlUser: 'connecteur',
  sqlPassword: 'Essai#2026',
  machineName: 'PC-ESSAI',
} as const;

export interface TryOptions {
  /** Data folder (emptied first). */
  dataDir: string;
  /** Web bridge port (0 = any free port). */
  port?: number;
  /** Vite's dev middleware instead of a built renderer. */
  dev?: boolean;
  /** Pre-fill the connection settings (default true); the licence key is always typed. */
  prefill?: boolean;
  /** Test hook: wraps the contract router the bridge exposes (e.g. to make a channel fail). */
  wrapRouter?: (router: IpcRouter) => IpcRouter;
  /** Test hook: runs on the emptied data folder before the app starts (e.g. to write a damaged settings file). */
  prepare?: (dataDir: string) => void;
  /** Told what is being prepared (progress lines). */
  onStep?: (line: string) => void;
}

export interface TryStack {
  app: App;
  bridge: RunningBridge;
  loginUrl: string;
  sql: { server: string; database: string; user: string; password: string };
  batisimply: { ssoUrl: string; apiUrl: string; clientId: string; clientSecret: string; username: string; password: string };
  licence: { url: string; key: string };
  /** Salariés left without a BatiSimply user (their hours wait until mapped). */
  unmapped: { code: string; name: string; user: string; userId: string }[];
  /** Lines to print: where to go and what to type. */
  guide: string[];
  /** The simulators, for tests (slow BatiSimply down, change the Batigest tables, deactivate the licence). */
  simulators: {
    backend: Awaited<ReturnType<typeof createPgliteBackend>>;
    batisimply: Awaited<ReturnType<typeof startBatisimplySimulator>>;
    licences: Awaited<ReturnType<typeof startLicenceSimulator>>;
    /** The exports API of the import agent, and Batigest's import folder (a simulated importer takes its files). */
    exports: Awaited<ReturnType<typeof startExportsSim>>;
    importDir: string;
  };
  close(): Promise<void>;
}

// ------------------------------------------------------------------------------------------ renderer

function newestSource(dirs: string[]): { stamp: string } {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = fs.statSync(p);
        h.update(`${path.relative(ROOT, p)}:${st.size}:${st.mtimeMs}\n`);
      }
    }
  };
  for (const d of dirs) walk(d);
  h.update(fs.readFileSync(path.join(ROOT, 'vite.config.ts')));
  return { stamp: h.digest('hex').slice(0, 16) };
}

/**
 * A built renderer for these sources: dist/renderer when `npm run build` made it from them, otherwise one built
 * once into node_modules/.cache (built aside, then renamed: two starts at once never share a half-built folder).
 */
async function builtRenderer(onStep: (s: string) => void): Promise<string> {
  const { stamp } = newestSource([path.join(ROOT, 'src', 'renderer'), path.join(ROOT, 'src', 'shared')]);
  const cacheRoot = path.join(ROOT, 'node_modules', '.cache', 'connecteur-try');
  const cached = path.join(cacheRoot, `renderer-${stamp}`);
  if (fs.existsSync(path.join(cached, 'index.html'))) return cached;
  onStep('Construction de l’interface (une fois pour ces sources)…');
  const tmp = `${cached}.${process.pid}.tmp`;
  fs.mkdirSync(cacheRoot, { recursive: true });
  const { build } = await import('vite');
  await build({ configFile: path.join(ROOT, 'vite.config.ts'), logLevel: 'error', build: { outDir: tmp, emptyOutDir: true, sourcemap: false } });
  if (!fs.existsSync(path.join(tmp, 'index.html'))) throw new Error(`vite build produced no index.html in ${tmp}`);
  try {
    fs.renameSync(tmp, cached);
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (!fs.existsSync(path.join(cached, 'index.html'))) throw e; // another start finished first: use its folder
  }
  // Builds of older sources go after a week (not at once: another `npm run try` may still serve one).
  const weekAgo = Date.now() - 7 * 86_400_000;
  for (const n of fs.readdirSync(cacheRoot)) {
    const p = path.join(cacheRoot, n);
    if (n.startsWith('renderer-') && p !== cached && fs.statSync(p).mtimeMs < weekAgo) fs.rmSync(p, { recursive: true, force: true });
  }
  return cached;
}

// ------------------------------------------------------------------------------------------ the stack

export async function startTryStack(o: TryOptions): Promise<TryStack> {
  const onStep = o.onStep ?? (() => undefined);
  const closers: (() => Promise<unknown>)[] = [];
  const close = async () => {
    for (const c of closers.reverse()) await c().catch(() => undefined);
    closers.length = 0;
  };
  try {
    fs.rmSync(o.dataDir, { recursive: true, force: true });
    fs.mkdirSync(o.dataDir, { recursive: true });
    o.prepare?.(o.dataDir);

    onStep('Société Batigest générée et simulateurs SQL Server, BatiSimply et licences…');
    // 12 salariés: every one has a BatiSimply user, the last two are not mapped yet (no codebs).
    const company = generateBatigestCompany({ seed: 'essai', chantiers: 40, devis: 12, salaries: 12, suiviMo: 0, variant: 'v1', withCodebs: true });
    company.salaries.forEach((s, i) => (s.codebs = i < company.salaries.length - 2 ? s.batisimplyUserId : null));
    const backend = await createPgliteBackend({ serverParams: ['-c', 'shared_buffers=32MB'] });
    closers.push(() => backend.close());
    await loadBatigestCompany(backend, TRY_VALUES.database, company);
    const tds = await startTdsSimulator({ backend, logins: { [TRY_VALUES.sqlUser]: TRY_VALUES.sqlPassword }, tls: { mode: 'off' } });
    closers.push(() => tds.close());
    const users = batisimplyUsersFor(company);
    const bs = await startBatisimplySimulator({ seed: { users: users.map(({ id, firstName, lastName, email, login, activated }) => ({ id, firstName, lastName, email, login, activated })) } });
    closers.push(() => bs.close());
    // A few projects made by hand in BatiSimply (adopted by their code at the first sync), with validated hours
    // of the last 30 days: the first sync imports those of mapped salariés; the others wait for the mapping.
    const byHand = company.chantiers.filter((c) => c.description).slice(0, 6);
    const projects = byHand.map((c) => bs.state.addProject({ projectCode: c.code, projectName: c.description ?? c.nomClient, customerName: c.nomClient }));
    const today = Date.now();
    users.forEach((u, i) => {
      for (let d = 0; d < 6; d++) {
        const day = new Date(today - (2 + d * 4 + (i % 3)) * 86_400_000);
        day.setUTCHours(6, 30, 0, 0);
        bs.state.addSlot({
          startDate: day.toISOString(),
          userId: u.id,
          projectId: projects[(i + d) % projects.length]!.id,
          managementStatus: d === 5 ? 'SUBMITTED' : 'VALIDATED',
          totalTimeMinutes: 420 + 15 * (d % 3),
          hasPackedLunch: d % 2 === 0,
          hasHomeToWorkJourney: d % 3 === 0,
        });
      }
    });
    const lic = await startLicenceSimulator({ licences: [{ key: TRY_VALUES.licenceKey, clientName: 'SARL Démonstration', expiresInDays: 365, maxMachines: 3 }] });
    closers.push(() => lic.close());

    // The import agent's side: an exports API with a few devis and bons de commande, and Batigest's import folder
    // (a simulated Batigest takes each file a second after it appears).
    const exportsApi = await startExportsSim({ apiKey: 'cle-essai-exports' });
    exportsApi.seed(5);
    closers.push(() => exportsApi.close());
    const importDir = path.join(o.dataDir, 'batigest-import');
    fs.mkdirSync(importDir, { recursive: true });
    const importer = startBatigestImporter(importDir, { delayMs: 1000, pollMs: 100 });
    closers.push(async () => importer.stop());

    onStep('Connecteur (mêmes services que l’application) et pont web…');
    const logger = nodeLogger(o.dataDir, { retainDays: 7 });
    const app = await createNodeApp({
      dataDir: o.dataDir,
      logger,
      host: 'bridge',
      // not a shipped program: the licence public key comes from the settings (as the integrator's installer sets it)
      entry: 'try',
      env: {},
      features: defaultFeatures(),
    });
    closers.push(() => app.dispose());
    const sql = { server: `127.0.0.1,${tds.port}`, database: TRY_VALUES.database, user: TRY_VALUES.sqlUser, password: TRY_VALUES.sqlPassword };
    const batisimply = { ssoUrl: bs.ssoUrl, apiUrl: bs.apiUrl, ...SIM_DEFAULT_CREDENTIALS };
    // Where the licence service is and its key: set by the integrator's installer, not typed in the wizard.
    app.settings.update({ machineName: TRY_VALUES.machineName, licence: { provider: 'manager', serverUrl: lic.url, publicKey: lic.publicKeyPem } });
    if (o.prefill !== false) {
      app.settings.update({
        sqlServer: { server: sql.server, database: sql.database, user: sql.user, password: sql.password, encrypt: false, trustServerCertificate: true },
        batisimply: { environment: 'custom', ssoUrl: batisimply.ssoUrl, apiUrl: batisimply.apiUrl, clientId: batisimply.clientId, clientSecret: batisimply.clientSecret, username: batisimply.username, password: batisimply.password },
        imports: { enabled: true, apiUrl: exportsApi.url, apiKey: 'cle-essai-exports', batigestImportPath: importDir, importTimeoutSeconds: 60 },
      });
    }

    let devMiddleware: BridgeOptions['devMiddleware'];
    let staticDir: string | undefined;
    if (o.dev) {
      const { createServer } = await import('vite');
      const vite = await createServer({ configFile: path.join(ROOT, 'vite.config.ts'), server: { middlewareMode: true }, appType: 'spa' });
      closers.push(() => vite.close());
      devMiddleware = (req, res, next) => vite.middlewares(req, res, next);
    } else {
      staticDir = await builtRenderer(onStep);
    }
    const bridge = await startWebBridge({
      router: o.wrapRouter ? o.wrapRouter(app.router) : app.router,
      onEvent: app.onEvent,
      logger,
      port: o.port ?? 0,
      ...(staticDir ? { staticDir } : {}),
      ...(devMiddleware ? { devMiddleware } : {}),
    });
    closers.push(() => bridge.close());

    const unmapped = company.salaries
      .filter((s) => !s.codebs)
      .map((s) => {
        const u = users.find((x) => x.id === s.batisimplyUserId)!;
        return { code: s.code, name: [s.nom, s.prenom].filter(Boolean).join(' '), user: `${u.firstName} ${u.lastName}`, userId: u.id };
      });
    const filled = o.prefill !== false;
    const typed = (what: string) => (filled ? `déjà rempli (${what})` : what);
    const guide = [
      `Ouvrez : ${bridge.loginUrl}`,
      '',
      'Dans l’assistant :',
      `  1. Licence — Clé de licence : ${TRY_VALUES.licenceKey}, puis « Valider la clé » et « Suivant ».`,
      `  2. SQL Server — ${typed(`Serveur ${sql.server} ; Base de données ${sql.database} ; Utilisateur ${sql.user} ; Mot de passe ${sql.password} ; sans chiffrement`)} : « Suivant ».`,
      '  3. Base tampon — Intégrée (recommandé) : « Suivant ».',
      `  4. BatiSimply — ${typed(`Utilisateur BatiSimply ${batisimply.username} ; Mot de passe BatiSimply ${batisimply.password} ; Identifiant client ${batisimply.clientId} ; Secret client ${batisimply.clientSecret} ; sous « Avancé » : Personnalisé, serveur de connexion ${batisimply.ssoUrl}, API ${batisimply.apiUrl}`)} : « Suivant ».`,
      '  5. Options — colonnes détectées : « Suivant ».',
      `  6. Salariés — ${unmapped.map((u) => u.name).join(' et ')} n’ont pas d’utilisateur BatiSimply : associez-les (${unmapped.map((u) => u.user).join(', ')}) puis « Enregistrer », ou plus tard ; « Suivant ».`,
      `  7. Résumé — ${filled ? 'le module d’import est déjà activé' : `« Imports (facultatif) » : activez le module, API ${exportsApi.url}, clé cle-essai-exports, dossier d’import ${importDir}`} ; « Terminer », puis « Tout synchroniser » et, sur la carte « Imports vers Sage Batigest », « Lancer un cycle ».`,
      '',
      'Ctrl+C arrête tout (simulateurs compris).',
    ];
    return {
      app,
      bridge,
      loginUrl: bridge.loginUrl,
      sql,
      batisimply,
      licence: { url: lic.url, key: TRY_VALUES.licenceKey },
      unmapped,
      guide,
      simulators: { backend, batisimply: bs, licences: lic, exports: exportsApi, importDir },
      close,
    };
  } catch (e) {
    await close();
    throw e;
  }
}

// ------------------------------------------------------------------------------------------ the command

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const valueOf = (name: string): string | undefined => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const port = Number(valueOf('--port') ?? process.env.CONNECTEUR_BRIDGE_PORT ?? 0);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`port invalide : ${valueOf('--port')}`);
  const dataDir = path.resolve(valueOf('--data-dir') ?? '.try-data');
  const say = (s = '') => void process.stdout.write(`${s}\n`);
  say('Connecteur Batigest ↔ BatiSimply — essai dans le navigateur, contre les simulateurs (rien ne sort de ce poste)');
  const stack = await startTryStack({ dataDir, port, dev: args.includes('--dev'), prefill: !args.includes('--no-prefill'), onStep: (l) => say(`  ${l}`) });
  say(`  SQL Server simulé : ${stack.sql.server} · BatiSimply simulé : ${stack.batisimply.apiUrl} · licences : ${stack.licence.url}`);
  say(`  Données de l’essai : ${path.relative(process.cwd(), dataDir) || dataDir} (vidé à chaque lancement)`);
  say('');
  for (const line of stack.guide) say(line);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    say(`\nArrêt (${signal})…`);
    void stack.close().then(
      () => {
        say('Arrêté.');
        process.exit(0);
      },
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('Ctrl+C'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  applyMemoryProfile();
  main().catch((e: unknown) => {
    process.stderr.write(`L’essai n’a pas pu démarrer : ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
