/**
 * Headless command line: `connecteur sync|status|test-connections|journal|mapping`.
 * For a server without a desktop session, or for the integrator. Same services as the app.
 *
 * Settings: the settings service of the data folder (CONNECTEUR_DATA_DIR or the OS user folder), with
 * the overrides of a JSON file (`--settings FILE` or CONNECTEUR_SETTINGS_FILE) and CONNECTEUR_* variables.
 *
 * Exit codes: 0 ok · 1 run failed (or connection test failed) · 2 bad usage or configuration ·
 * 3 licence refused · 130 cancelled (Ctrl+C).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { ProgressEvent } from '../shared/domain.js';
import { AppError, toAppError } from '../shared/errors.js';
import { settingsSchema, type Settings } from '../shared/settings.js';
import { readPackageInfo } from './app.js';
export { applyMemoryProfile } from './memory-profile.js';
import { createLogger } from './services/logger.js';
import { FileLicenceCacheStore, LicenceService, fileMachineId } from './services/licence/index.js';
import type { Clock, Logger } from './services/ports.js';
import { systemClock } from './services/ports.js';
import { SettingsService } from './services/settings/service.js';
import { createNodeCipher, userDataDir as defaultUserDataDir } from './services/settings/node-cipher.js';
import { createNodeSettingsStore } from './services/settings/store.js';
import type { RunSummary, SyncHooks } from './services/sync/engine.js';
import { createSyncRuntime, type SyncRuntime, type SyncRuntimeDeps } from './services/sync/runtime.js';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, LICENCE: 3, CANCELLED: 130 } as const;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  env: Record<string, string | undefined>;
  /** Ctrl+C: the CLI subscribes here (default: process SIGINT). */
  onInterrupt?: (fn: () => void) => () => void;
}

/** Injection points for tests and the demo: replace what the CLI builds from the settings. */
export interface CliOverrides {
  clock?: Clock;
  logger?: Logger;
  runtime?: Partial<Pick<SyncRuntimeDeps, 'batigest' | 'batisimply' | 'buffer' | 'licence'>>;
  /** Engine checkpoints (crash tests: test/support/proof/cli-child.ts kills the process at a named one). */
  hooks?: SyncHooks;
}

const defaultIo = (): CliIo => ({
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: !!process.stdout.isTTY,
  env: process.env,
  onInterrupt: (fn) => {
    process.on('SIGINT', fn);
    return () => process.off('SIGINT', fn);
  },
});

interface GlobalOpts {
  dataDir?: string;
  settings?: string;
  machine?: string;
}

export const STATUS_FR: Record<RunSummary['status'], string> = {
  running: 'en cours',
  succeeded: 'réussie',
  partial: 'terminée avec des erreurs',
  failed: 'échouée',
  cancelled: 'annulée',
  interrupted: 'interrompue',
};

export async function runCli(argv: string[], io: CliIo = defaultIo(), overrides: CliOverrides = {}): Promise<number> {
  let code: number = EXIT.OK;
  const program = new Command();
  program
    .name('connecteur')
    .description('Connecteur Batigest ↔ BatiSimply (ligne de commande)')
    .option('--data-dir <dossier>', 'dossier de données (réglages, base tampon intégrée, journaux)')
    .option('--settings <fichier>', 'fichier JSON de réglages (remplace les valeurs enregistrées)')
    .option('--machine <nom>', 'nom de ce poste dans le journal')
    .helpOption('-h, --help', "affiche l'aide")
    .helpCommand('help [commande]', "affiche l'aide d'une commande")
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError();

  const withRuntime = async (fn: (rt: SyncRuntime, ctx: { settings: Settings; machine: string; logger: Logger }) => Promise<number>): Promise<number> => {
    const g = program.opts<GlobalOpts>();
    const ctx = await loadContext(g, io, overrides);
    const rt = await createSyncRuntime({
      settings: () => ctx.settings,
      userDataDir: ctx.dataDir,
      logger: ctx.logger,
      clock: overrides.clock ?? systemClock,
      machineName: ctx.machine,
      licence: overrides.runtime?.licence ?? ctx.licence,
      ...(overrides.runtime?.batigest ? { batigest: overrides.runtime.batigest } : {}),
      ...(overrides.runtime?.batisimply ? { batisimply: overrides.runtime.batisimply } : {}),
      ...(overrides.runtime?.buffer ? { buffer: overrides.runtime.buffer } : {}),
      ...(overrides.hooks ? { hooks: overrides.hooks } : {}),
    });
    try {
      return await fn(rt, { settings: ctx.settings, machine: ctx.machine, logger: ctx.logger });
    } finally {
      await rt.close();
    }
  };

  program
    .command('sync')
    .description('lance une synchronisation')
    .addOption(new Option('--flow <flux>', 'push (chantiers/devis → BatiSimply), hours (heures → Batigest) ou all').choices(['push', 'hours', 'all']).default('all'))
    .action(async (o: { flow: 'push' | 'hours' | 'all' }) => {
      code = await withRuntime(async (rt) => {
        const ac = new AbortController();
        const off = io.onInterrupt?.(() => {
          io.err('\nAnnulation demandée : arrêt propre en cours…\n');
          ac.abort();
        });
        const bar = progressPrinter(io);
        try {
          const summaries = await rt.engine.run(o.flow, { signal: ac.signal, onProgress: bar.update, trigger: 'cli' });
          bar.done();
          for (const s of summaries) io.out(`${s.message} Exécution ${STATUS_FR[s.status]} (poste ${s.machine}, ${s.runId}).\n`);
          for (const s of summaries) {
            const items = await rt.buffer.listRunItems(s.runId, 20);
            const notable = items.filter((i) => i.action !== 'created' && i.action !== 'updated' && i.reason);
            for (const i of notable.slice(0, 10)) io.out(`  • ${i.reason}\n`);
            if (notable.length > 10) io.out(`  … voir « connecteur journal --run ${s.runId} »\n`);
          }
          if (ac.signal.aborted || summaries.some((s) => s.status === 'cancelled')) return EXIT.CANCELLED;
          return summaries.some((s) => s.status === 'failed') ? EXIT.FAILED : EXIT.OK;
        } finally {
          bar.done();
          off?.();
        }
      });
    });

  program
    .command('status')
    .description("affiche l'état : réglages principaux, dernières exécutions, base tampon")
    .action(async () => {
      code = await withRuntime(async (rt, ctx) => {
        const s = ctx.settings;
        io.out(`Poste : ${ctx.machine}\nMode : ${s.mode === 'devis' ? 'devis' : 'chantiers'} · logiciel : ${s.software}\n`);
        io.out(`Base tampon : ${s.buffer.kind === 'remote' ? `PostgreSQL ${s.buffer.remote.host}:${s.buffer.remote.port}/${s.buffer.remote.database}` : 'intégrée'}\n`);
        io.out(`Planification : ${s.schedule.enabled ? `toutes les ${s.schedule.intervalSeconds} s (${s.schedule.flows})` : 'désactivée'}\n`);
        for (const flow of ['push', 'hours'] as const) {
          const [last] = await rt.buffer.listRuns(1, flow);
          io.out(`Dernier ${flow === 'push' ? 'envoi' : 'import des heures'} : ${last ? `${last.started_at.toISOString()} — ${STATUS_FR[last.status]} (${last.machine}) ${last.message ?? ''}` : 'jamais'}\n`);
        }
        for (const r of await rt.buffer.countRecords()) io.out(`${r.kind === 'devis' ? 'Devis' : 'Chantiers'} suivis : ${r.total} (${r.pushed} à jour, ${r.pending} en attente, ${r.errors} en erreur)\n`);
        const slots = await rt.buffer.countSlots();
        if (slots.length) io.out(`Créneaux suivis : ${slots.map((x) => `${x.state} ${x.n}`).join(', ')}\n`);
        const dirty = await rt.buffer.countDirtyKeys();
        if (dirty) io.out(`Lignes SuiviMO à terminer au prochain passage : ${dirty}\n`);
        for (const l of await rt.buffer.listLeases()) io.out(`Verrou ${l.flow} : poste ${l.machine} jusqu'à ${l.expires_at.toISOString()}\n`);
        return EXIT.OK;
      });
    });

  program
    .command('test-connections')
    .description('teste SQL Server, BatiSimply et la base tampon')
    .action(async () => {
      code = await withRuntime(async (rt) => {
        let ok = true;
        const show = (label: string, d: { ok: boolean; message: string }) => {
          ok &&= d.ok;
          io.out(`${d.ok ? '✓' : '✗'} ${label} : ${d.message}\n`);
        };
        show('SQL Server (Batigest)', await rt.batigest.testConnection().catch((e: unknown) => ({ ok: false, message: toAppError(e).message })));
        show('BatiSimply', await rt.batisimply.testConnection().catch((e: unknown) => ({ ok: false, message: toAppError(e).message })));
        try {
          await rt.buffer.db.query('SELECT 1');
          show('Base tampon', { ok: true, message: rt.buffer.db.kind === 'remote' ? 'PostgreSQL joignable, schéma à jour.' : 'Base intégrée ouverte, schéma à jour.' });
        } catch (e) {
          show('Base tampon', { ok: false, message: toAppError(e).message });
        }
        return ok ? EXIT.OK : EXIT.FAILED;
      });
    });

  program
    .command('journal')
    .description('affiche les dernières exécutions (ou le détail de l’une d’elles)')
    .option('--limit <n>', 'nombre d’exécutions', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 1000) throw new CommanderError(EXIT.USAGE, 'usage', '--limit attend un entier entre 1 et 1000.');
      return n;
    }, 20)
    .option('--run <id>', 'détail d’une exécution')
    .action(async (o: { limit: number; run?: string }) => {
      code = await withRuntime(async (rt) => {
        if (o.run) {
          const run = await rt.buffer.getRun(o.run);
          if (!run) {
            io.err(`Exécution ${o.run} introuvable.\n`);
            return EXIT.USAGE;
          }
          io.out(`${run.started_at.toISOString()} ${run.flow} ${STATUS_FR[run.status]} (${run.machine}) ${run.message ?? ''}\n`);
          for (const i of await rt.buffer.listRunItems(run.id, 10_000)) io.out(`  ${i.action.padEnd(9)} ${i.record_key}${i.reason ? ` — ${i.reason}` : ''}\n`);
          return EXIT.OK;
        }
        const runs = await rt.buffer.listRuns(o.limit);
        if (runs.length === 0) io.out('Aucune exécution enregistrée.\n');
        for (const r of runs) {
          io.out(
            `${r.started_at.toISOString()}  ${r.flow.padEnd(5)}  ${STATUS_FR[r.status].padEnd(12)}  ${r.machine}  créés ${r.created}, modifiés ${r.updated}, inchangés ${r.unchanged}, ignorés ${r.skipped}, erreurs ${r.failed}, conflits ${r.conflicts}  ${r.id}\n`,
          );
        }
        return EXIT.OK;
      });
    });

  program
    .command('mapping')
    .description('correspondance des utilisateurs BatiSimply avec les salariés Batigest (codebs)')
    .action(async () => {
      code = await withRuntime(async (rt) => {
        const rows = await rt.refreshEmployeeMapping();
        const unmapped = rows.filter((r) => !r.salarieCode);
        for (const r of rows) io.out(`${r.salarieCode ? '✓' : '✗'} ${r.name}${r.email ? ` <${r.email}>` : ''} → ${r.salarieCode ? `${r.salarieCode} ${r.salarieName ?? ''}` : 'aucun salarié (renseignez son codebs)'}\n`);
        io.out(`${rows.length - unmapped.length} utilisateur(s) associé(s), ${unmapped.length} sans salarié.\n`);
        return EXIT.OK;
      });
    });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return EXIT.OK;
      if (e.code === 'usage') io.err(`${e.message}\n`);
      return EXIT.USAGE;
    }
    const err = toAppError(e);
    io.err(`${err.message}\n`);
    if (err.code.startsWith('LICENSE_')) return EXIT.LICENCE;
    if (err.code === 'CANCELLED') return EXIT.CANCELLED;
    if (['SETTINGS_INVALID', 'SETTINGS_CORRUPT', 'NOT_CONFIGURED', 'INVALID_INPUT'].includes(err.code)) return EXIT.USAGE;
    return EXIT.FAILED;
  }
}

async function loadContext(g: GlobalOpts, io: CliIo, overrides: CliOverrides) {
  const env = { ...io.env };
  if (g.settings) env.CONNECTEUR_SETTINGS_FILE = path.resolve(g.settings);
  const file = env.CONNECTEUR_SETTINGS_FILE;
  if (file) {
    let raw: unknown;
    try {
      raw = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new AppError('SETTINGS_INVALID', `Le fichier de réglages ${file} est illisible ou n'est pas du JSON valide.`, { detail: String(e) });
    }
    const parsed = settingsSchema.safeParse(raw);
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
      throw new AppError('SETTINGS_INVALID', `Le fichier de réglages ${file} contient des valeurs invalides (${where}). Corrigez-les puis relancez.`);
    }
  }
  const dataDir = path.resolve(g.dataDir ?? env.CONNECTEUR_DATA_DIR ?? defaultUserDataDir());
  fs.mkdirSync(dataDir, { recursive: true });
  const logger =
    overrides.logger ??
    createLogger({
      dir: path.join(dataDir, 'logs'),
      retainDays: 30,
      level: env.CONNECTEUR_LOG_LEVEL === 'debug' ? 'debug' : 'info',
      sink: () => undefined,
    });
  const clock = overrides.clock ?? systemClock;
  const cipher = createNodeCipher({ keyFile: path.join(dataDir, 'secret.key') });
  const service = new SettingsService({ store: await createNodeSettingsStore({ cwd: dataDir }), cipher, logger, clock, env });
  const settings = service.get();
  const machine = g.machine ?? (settings.machineName || os.hostname());
  const licence = new LicenceService({
    settings: () => service.get().licence,
    fetch: globalThis.fetch,
    clock,
    cipher,
    cache: new FileLicenceCacheStore(path.join(dataDir, 'licence-cache.json')),
    logger,
    machineId: fileMachineId(dataDir),
    appVersion: readPackageInfo().version,
  });
  return { settings, dataDir, logger, machine, licence };
}

/** A progress bar on a terminal, plain lines otherwise. */
export function progressPrinter(io: CliIo): { update: (e: ProgressEvent) => void; done: () => void } {
  let lastLine = '';
  let lastPhase = '';
  let lastPct = -1;
  let drawn = false;
  return {
    update(e) {
      const pct = e.total === null ? null : e.total === 0 ? 100 : Math.floor((e.done / e.total) * 100);
      if (io.isTTY) {
        const width = 24;
        const filled = pct === null ? 0 : Math.round((pct / 100) * width);
        const bar = pct === null ? '·'.repeat(width) : `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
        const line = `${e.flow === 'push' ? 'Envoi ' : 'Heures'} [${bar}] ${pct === null ? '   ' : `${String(pct).padStart(3)}%`} ${e.label}${e.total ? ` ${e.done}/${e.total}` : e.done ? ` ${e.done}` : ''}`;
        if (line !== lastLine) {
          io.out(`\r${line.padEnd(Math.max(lastLine.length, line.length))}`);
          lastLine = line;
          drawn = true;
        }
        return;
      }
      const step = pct === null ? -1 : Math.floor(pct / 25);
      if (e.phase !== lastPhase || (step !== lastPct && pct !== null)) {
        io.out(`${e.label}${e.total !== null ? ` : ${e.done}/${e.total}` : ''}\n`);
        lastPhase = e.phase;
        lastPct = step;
      }
    },
    done() {
      if (drawn) io.out('\n');
      drawn = false;
      lastLine = '';
    },
  };
}
