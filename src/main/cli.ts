/**
 * Headless command line: `connecteur sync|service|status|test-connections|journal|mapping|maintenance|diagnostic`.
 * For a server without a desktop session, or for the integrator.
 *
 * The CLI is a client of the app's handler map, like the window and the web bridge: it builds the app
 * with createApp (same services, same licence policy as the installed app) and invokes the channels of
 * the contract; a CLI command and a button are the same code.
 *
 * Settings: the settings service of the data folder (CONNECTEUR_DATA_DIR or the OS user folder), with
 * the overrides of a JSON file (`--settings FILE` or CONNECTEUR_SETTINGS_FILE) and CONNECTEUR_* variables.
 *
 * Exit codes: 0 ok · 1 run failed (or connection test failed) · 2 bad usage or configuration ·
 * 3 licence refused · 130 cancelled (Ctrl+C).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import type { ChannelName, ChannelOutput, InvokeArgs, Result, RunSummary as UiRunSummary } from '../shared/contract.js';
import type { ProgressEvent } from '../shared/domain.js';
import { toAppError } from '../shared/errors.js';
import { connectorState } from '../shared/connector-state.js';
import { count } from '../shared/plural.js';
import type { App } from './app.js';
import { createNodeApp, nodeLogger } from './composition/node-app.js';
import type { ServiceOverrides } from './composition/services.js';
import { defaultFeatures } from './features/index.js';
import type { LicenceGuard } from './features/types.js';
export { applyMemoryProfile } from './memory-profile.js';
import type { PinnedLicenceConfig } from './services/licence/licence-service.js';
import type { Clock, Logger } from './services/ports.js';
import { userDataDir as defaultUserDataDir } from './services/settings/node-cipher.js';
import type { Timers } from './services/scheduler/scheduler.js';
import type { RunSummary, SyncHooks } from './services/sync/engine.js';

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, LICENCE: 3, CANCELLED: 130 } as const;

export interface CliIo {
  out: (s: string) => void;
  err: (s: string) => void;
  isTTY: boolean;
  env: Record<string, string | undefined>;
  /** Ctrl+C: the CLI subscribes here (default: process SIGINT). */
  onInterrupt?: (fn: () => void) => () => void;
}

/** Injection points for tests and the crash test's child: replace what the app builds from the settings. */
export interface CliOverrides {
  clock?: Clock;
  logger?: Logger;
  runtime?: { licence?: LicenceGuard } & Pick<ServiceOverrides, 'batigest' | 'batisimply' | 'buffer' | 'importsFs' | 'importsPollMs'>;
  /** Engine checkpoints (crash tests: test/support/proof/cli-child.ts kills the process at a named one). */
  hooks?: SyncHooks;
  /** Timers of the scheduler and of the lease heartbeat (time-scaled multi-process tests). */
  timers?: Timers;
  /** Tests of the release policy: a packaged release, and the licence values it has built in. */
  release?: boolean;
  licencePinned?: PinnedLicenceConfig;
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

/** Engine statuses in French (the demo prints engine summaries). */
export const STATUS_FR: Record<RunSummary['status'], string> = {
  running: 'en cours',
  succeeded: 'réussie',
  partial: 'terminée avec des erreurs',
  failed: 'échouée',
  cancelled: 'annulée',
  interrupted: 'interrompue',
};

/** Journal statuses (the contract's) in French. */
const UI_STATUS_FR: Record<UiRunSummary['status'], string> = {
  running: STATUS_FR.running,
  success: STATUS_FR.succeeded,
  partial: STATUS_FR.partial,
  failed: STATUS_FR.failed,
  cancelled: STATUS_FR.cancelled,
};

/** A refused call of the handler map, as the error the CLI reports. */
class Refused extends Error {
  constructor(readonly error: { code: string; message: string }) {
    super(error.message);
  }
}

/** The app of one CLI command: invoke a channel, or throw its French refusal. */
interface CliApp {
  app: App;
  call<K extends ChannelName>(channel: K, ...args: InvokeArgs<K>): Promise<ChannelOutput<K>>;
}

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

  const withApp = async (fn: (c: CliApp) => Promise<number>, background = false): Promise<number> => {
    const app = await openApp(program.opts<GlobalOpts>(), io, overrides, background);
    const call = async <K extends ChannelName>(channel: K, ...args: InvokeArgs<K>): Promise<ChannelOutput<K>> => {
      const r = (await app.router.invoke(channel, args[0], { host: 'cli' })) as Result<ChannelOutput<K>>;
      if (!r.ok) throw new Refused(r.error);
      return r.value;
    };
    try {
      return await fn({ app, call });
    } finally {
      await app.dispose();
    }
  };

  program
    .command('sync')
    .description('lance une synchronisation')
    .addOption(
      new Option(
        '--flow <flux>',
        'push (chantiers/devis → BatiSimply), hours (heures → Batigest), imports (exports → dossier d’import de Batigest), chantiers-back (chantiers modifiés dans BatiSimply → Batigest, si activé) ou all (push puis hours)',
      )
        .choices(['push', 'hours', 'imports', 'chantiers-back', 'all'])
        .default('all'),
    )
    .action(async (o: { flow: 'push' | 'hours' | 'imports' | 'chantiers-back' | 'all' }) => {
      code = await withApp((c) => syncCommand(c, o.flow, io));
    });

  program
    .command('service')
    .description('reste en marche et synchronise selon la planification (Réglages › Synchronisation automatique), comme l’application sur un poste')
    .action(async () => {
      code = await withApp((c) => serviceCommand(c, io), true);
    });

  const config = program.command('config').description('configuration partagée entre postes (sans aucun secret)');
  config
    .command('export <fichier>')
    .description("écrit la configuration de ce poste dans un fichier, pour un autre poste (aucun mot de passe ni clé)")
    .action(async (file: string) => {
      code = await withApp(async ({ call }) => {
        const { content } = await call('config.export');
        fs.writeFileSync(path.resolve(file), content);
        io.out(`Configuration exportée : ${path.resolve(file)} (aucun secret : ils seront demandés sur l'autre poste).\n`);
        return EXIT.OK;
      });
    });
  config
    .command('import <fichier>')
    .description("applique la configuration exportée par un autre poste (le nom de ce poste est gardé)")
    .action(async (file: string) => {
      code = await withApp(async ({ call }) => {
        let content: string;
        try {
          content = fs.readFileSync(path.resolve(file), 'utf8');
        } catch {
          io.err(`Fichier illisible : ${path.resolve(file)}\n`);
          return EXIT.USAGE;
        }
        const r = await call('config.import', { content });
        io.out(`Configuration du poste ${r.from} importée.\n`);
        if (r.secretsToType.length > 0) io.out(`À saisir sur ce poste (Réglages) : ${r.secretsToType.join(', ')}.\n`);
        return EXIT.OK;
      });
    });

  program
    .command('postes')
    .description('les postes vus sur la base tampon partagée (comme Réglages › Postes)')
    .action(async () => {
      code = await withApp(async ({ call }) => {
        const v = await call('machines.list');
        for (const m of v.machines) {
          const what = m.holding.length > 0 ? `synchronise ${m.holding.join(', ')}` : m.lastRun ? `dernier passage ${m.lastRun.flow} ${m.lastRun.startedAt}` : 'aucun passage';
          io.out(`${m.name}${m.self ? ' (ce poste)' : ''}  ${m.appVersion}  ${m.reachable ? 'répond' : 'ne répond plus'}${m.outdated ? ', à mettre à jour' : ''}  vu ${m.lastHeartbeat}  ${what}\n`);
        }
        if (!v.shared) io.out('Base tampon intégrée : ce poste est le seul à synchroniser.\n');
        return EXIT.OK;
      });
    });

  program
    .command('status')
    .description("affiche l'état : réglages principaux, dernières exécutions, base tampon")
    .action(async () => {
      code = await withApp((c) => statusCommand(c, io));
    });

  program
    .command('test-connections')
    .description('teste SQL Server, BatiSimply, la base tampon (et l’API d’export quand le module d’import est activé)')
    .action(async () => {
      code = await withApp(async ({ app, call }) => {
        let ok = true;
        const show = async (label: string, test: () => Promise<{ ok: boolean; message: string }>) => {
          const d = await test().catch((e: unknown) => ({ ok: false, message: e instanceof Refused ? e.error.message : toAppError(e).message }));
          ok &&= d.ok;
          io.out(`${d.ok ? '✓' : '✗'} ${label} : ${d.message}\n`);
        };
        await show('SQL Server (Batigest)', () => call('sqlServer.test'));
        await show('BatiSimply', () => call('batisimply.test'));
        await show('Base tampon', () => call('buffer.test'));
        // The import agent, once turned on (optional module).
        if (app.settings.get().imports.enabled) await show("API d'export (imports)", () => call('imports.test'));
        return ok ? EXIT.OK : EXIT.FAILED;
      });
    });

  program
    .command('journal')
    .description('affiche les dernières exécutions (ou le détail de l’une d’elles)')
    .option('--limit <n>', 'nombre d’exécutions', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 500) throw new CommanderError(EXIT.USAGE, 'usage', '--limit attend un entier entre 1 et 500.');
      return n;
    }, 20)
    .option('--run <id>', 'détail d’une exécution')
    .action(async (o: { limit: number; run?: string }) => {
      code = await withApp((c) => journalCommand(c, o, io));
    });

  program
    .command('mapping')
    .description('correspondance des utilisateurs BatiSimply avec les salariés Batigest (codebs)')
    .action(async () => {
      code = await withApp(async ({ call }) => {
        const view = await call('mapping.get');
        const names = new Map(view.salaries.map((s) => [s.code, [s.prenom, s.nom].filter(Boolean).join(' ')]));
        const unmapped = view.users.filter((u) => !u.mappedTo);
        for (const u of view.users) {
          const who = `${u.displayName}${u.email ? ` <${u.email}>` : ''}`;
          io.out(u.mappedTo ? `✓ ${who} → ${u.mappedTo} ${names.get(u.mappedTo) ?? ''}\n` : `✗ ${who} → aucun salarié (renseignez son codebs)\n`);
        }
        if (view.usersError) io.err(`${view.usersError}\n`);
        io.out(`${count(view.users.length - unmapped.length, 'utilisateur associé', 'utilisateurs associés')}, ${unmapped.length} sans salarié.\n`);
        return EXIT.OK;
      });
    });

  const flowOption = () => new Option('--flow <flux>', 'push (chantiers/devis → BatiSimply) ou hours (heures → Batigest)').choices(['push', 'hours']).makeOptionMandatory();
  const maintenance = program.command('maintenance').description('outils de maintenance de la base tampon (comme Réglages › Maintenance)');
  maintenance
    .command('verify')
    .description('vérifie la base tampon : version du schéma, comptes, clés orphelines')
    .action(async () => {
      code = await withApp(async ({ call }) => {
        const r = await call('maintenance.verify');
        io.out(`Base tampon : schéma version ${r.schemaVersion} (attendue ${r.expectedVersion})\n`);
        for (const t of r.tables) io.out(`  ${t.table.padEnd(16)} ${count(t.rows, 'ligne', 'lignes')}\n`);
        for (const c of r.checks) io.out(`${c.level === 'ok' ? '✓' : c.level === 'warning' ? '!' : '✗'} ${c.message}${c.examples.length ? ` (${c.examples.join(', ')})` : ''}\n`);
        return r.ok ? EXIT.OK : EXIT.FAILED;
      });
    });
  maintenance
    .command('recompare')
    .description('recompare un flux depuis le début : tout relu et comparé, rien en double')
    .addOption(flowOption())
    .action(async (o: { flow: 'push' | 'hours' }) => {
      code = await withApp(async ({ call }) => {
        const r = await call('maintenance.recompare', { flow: o.flow, wait: true });
        io.out(`${r.message}\n`);
        for (const run of r.runs ?? []) io.out(`${run.message ?? ''} Exécution ${UI_STATUS_FR[run.status]} (${run.id}).\n`);
        return (r.runs ?? []).some((x) => x.status === 'failed') ? EXIT.FAILED : EXIT.OK;
      });
    });
  maintenance
    .command('purge')
    .description('supprime du journal les exécutions plus anciennes que N jours')
    .requiredOption('--days <n>', 'âge en jours (1 à 3650)', (v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 3650) throw new CommanderError(EXIT.USAGE, 'usage', '--days attend un entier entre 1 et 3650.');
      return n;
    })
    .action(async (o: { days: number }) => {
      code = await withApp(async ({ call }) => {
        io.out(`${(await call('maintenance.purgeJournal', { olderThanDays: o.days })).message}\n`);
        return EXIT.OK;
      });
    });
  maintenance
    .command('forget')
    .description("oublie l'état d'un flux dans la base tampon (le prochain passage relit tout, sans doublon)")
    .addOption(flowOption())
    .requiredOption('--confirm <mot>', 'tapez OUBLIER pour confirmer')
    .action(async (o: { flow: 'push' | 'hours'; confirm: string }) => {
      code = await withApp(async ({ call }) => {
        io.out(`${(await call('maintenance.forget', { flow: o.flow, confirm: o.confirm })).message}\n`);
        return EXIT.OK;
      });
    });
  maintenance
    .command('log')
    .description('les dernières actions de maintenance')
    .action(async () => {
      code = await withApp(async ({ call }) => {
        const entries = await call('maintenance.log');
        if (entries.length === 0) io.out('Aucune action de maintenance enregistrée.\n');
        for (const e of entries) io.out(`${e.at}  ${e.machine}  ${e.action}${e.flow ? ` ${e.flow}` : ''}  ${e.outcome}  ${e.message}\n`);
        return EXIT.OK;
      });
    });

  program
    .command('diagnostic')
    .description("écrit une archive de diagnostic pour l'assistance (sans aucun secret)")
    .action(async () => {
      code = await withApp(async ({ call }) => {
        const r = await call('diagnostics.export');
        io.out(`Diagnostic écrit : ${r.path} (${Math.max(1, Math.round(r.bytes / 1024))} Ko, ${count(r.entries.length, 'fichier', 'fichiers')}).\n`);
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
    const err = e instanceof Refused ? e.error : toAppError(e);
    io.err(`${err.message}\n`);
    return exitCodeOf(err.code);
  }
}

function exitCodeOf(code: string): number {
  if (code.startsWith('LICENSE_')) return EXIT.LICENCE;
  if (code === 'CANCELLED') return EXIT.CANCELLED;
  if (['SETTINGS_INVALID', 'SETTINGS_CORRUPT', 'NOT_CONFIGURED', 'INVALID_INPUT'].includes(code)) return EXIT.USAGE;
  return EXIT.FAILED;
}

/** `connecteur sync`: one job through sync.run, progress from the app's events, Ctrl+C through sync.cancel. */
async function syncCommand({ app, call }: CliApp, flow: 'push' | 'hours' | 'imports' | 'chantiers-back' | 'all', io: CliIo): Promise<number> {
  const bar = progressPrinter(io);
  let interrupted = false;
  const offProgress = app.onEvent((event, payload) => {
    if (event === 'sync:progress') bar.update(payload as ProgressEvent);
  });
  const offInterrupt = io.onInterrupt?.(() => {
    interrupted = true;
    io.err('\nAnnulation demandée : arrêt propre en cours…\n');
    void call('sync.cancel', {}).catch(() => undefined);
  });
  try {
    const { runs = [] } = await call('sync.run', { flow, wait: true });
    bar.done();
    for (const r of runs) io.out(`${r.message ?? ''} Exécution ${UI_STATUS_FR[r.status]} (poste ${r.machineName}, ${r.id}).\n`);
    for (const r of runs) {
      const { items } = await call('journal.get', { runId: r.id, pageSize: 20 });
      const notable = items.filter((i) => i.action !== 'created' && i.action !== 'updated' && i.reason);
      for (const i of notable.slice(0, 10)) io.out(`  • ${i.reason}\n`);
      if (notable.length > 10) io.out(`  … voir « connecteur journal --run ${r.id} »\n`);
    }
    if (interrupted || runs.some((r) => r.status === 'cancelled')) return EXIT.CANCELLED;
    return runs.some((r) => r.status === 'failed') ? EXIT.FAILED : EXIT.OK;
  } finally {
    bar.done();
    offProgress();
    offInterrupt?.();
  }
}

/**
 * `connecteur service`: the schedule of the settings runs until Ctrl+C or SIGTERM (a PC without the desktop app,
 * or several connector processes in the multi-PC tests). Refused when the schedule is off or the buffer cannot be
 * used by this version (« mettez à jour ce poste »).
 */
async function serviceCommand({ app, call }: CliApp, io: CliIo): Promise<number> {
  const s = app.settings.get();
  if (!s.schedule.enabled) {
    io.err('La planification est désactivée (Réglages › Synchronisation automatique › Synchroniser automatiquement) : rien à faire en service.\n');
    return EXIT.USAGE;
  }
  await call('buffer.status');
  io.out(`Service démarré sur le poste ${app.context.machineName()} : ${s.schedule.flows === 'all' ? 'tous les flux' : `flux ${s.schedule.flows}`} toutes les ${s.schedule.intervalSeconds} s.\n`);
  // The scheduler's timers do not hold the process (unref): this one does, until asked to stop.
  const keepAlive = setInterval(() => undefined, 3_600_000);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      offInterrupt?.();
      process.off('SIGTERM', stop);
      resolve();
    };
    const offInterrupt = io.onInterrupt?.(stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(keepAlive);
  io.out('Arrêt du service : la synchronisation en cours est annulée proprement.\n');
  await call('sync.cancel', {}).catch(() => undefined);
  return EXIT.OK;
}

/** `connecteur status`: the main settings, the last run of each flow, what the buffer tracks. */
async function statusCommand({ app, call }: CliApp, io: CliIo): Promise<number> {
  const s = app.settings.get();
  io.out(`Poste : ${app.context.machineName()}\nMode : ${s.mode === 'devis' ? 'devis' : 'chantiers'} · logiciel : ${s.software}\n`);
  io.out(`Base tampon : ${s.buffer.kind === 'remote' ? `PostgreSQL ${s.buffer.remote.host}:${s.buffer.remote.port}/${s.buffer.remote.database}` : 'intégrée'}\n`);
  io.out(`Planification : ${s.schedule.enabled ? `toutes les ${s.schedule.intervalSeconds} s (${s.schedule.flows})` : 'désactivée'}\n`);
  // The same state as the tray icon and the dashboard (src/shared/connector-state.ts).
  const state = connectorState(await call('status.overview'), new Date());
  io.out(`État : ${state.label} — ${state.headline}\n`);
  for (const p of state.problems) io.out(`  ! ${p.title} (${p.fix.label})\n`);
  for (const flow of ['push', 'hours', ...(s.imports.enabled ? (['imports'] as const) : [])] as const) {
    const [last] = (await call('journal.list', { flow, pageSize: 1 })).runs;
    io.out(`Dernier ${flow === 'push' ? 'envoi' : flow === 'imports' ? 'cycle d’import' : 'import des heures'} : ${last ? `${last.startedAt} — ${UI_STATUS_FR[last.status]} (${last.machineName}) ${last.message ?? ''}` : 'jamais'}\n`);
  }
  if (s.imports.enabled) {
    const v = await call('imports.status');
    io.out(`Imports (poste ${v.agentId}) : ${v.pending} en attente, ${count(v.importedToday, 'importé', 'importés')} aujourd’hui, ${v.erroredTotal} en erreur${v.lastRun ? ` ; dernier cycle ${v.lastRun.startedAt} — ${UI_STATUS_FR[v.lastRun.status]}` : ''}\n`);
  }
  const b = await call('buffer.status');
  for (const r of b.records) io.out(`${r.kind === 'devis' ? 'Devis' : 'Chantiers'} suivis : ${r.total} (${r.pushed} à jour, ${r.pending} en attente, ${r.errors} en erreur)\n`);
  if (b.slots.length) io.out(`Créneaux suivis : ${b.slots.map((x) => `${x.state} ${x.n}`).join(', ')}\n`);
  if (b.dirtyKeys) io.out(`Lignes SuiviMO à terminer au prochain passage : ${b.dirtyKeys}\n`);
  for (const l of b.leases) io.out(`Verrou ${l.flow} : poste ${l.machine} jusqu'à ${l.expiresAt}\n`);
  return EXIT.OK;
}

/** `connecteur journal [--run ID]`: the last runs, or every item of one run. */
async function journalCommand({ call }: CliApp, o: { limit: number; run?: string }, io: CliIo): Promise<number> {
  if (o.run) {
    let page = 1;
    let shown = 0;
    for (;;) {
      const r = await call('journal.get', { runId: o.run, page, pageSize: 1000 }).catch((e: unknown) => {
        if (e instanceof Refused && e.error.code === 'INVALID_INPUT') return null;
        throw e;
      });
      if (!r) {
        io.err(`Exécution ${o.run} introuvable.\n`);
        return EXIT.USAGE;
      }
      if (page === 1) io.out(`${r.run.startedAt} ${r.run.flow} ${UI_STATUS_FR[r.run.status]} (${r.run.machineName}) ${r.run.message ?? ''}\n`);
      for (const i of r.items) io.out(`  ${i.action.padEnd(9)} ${i.kind}:${i.key}${i.label ? ` (${i.label})` : ''}${i.reason ? ` — ${i.reason}` : ''}\n`);
      shown += r.items.length;
      if (r.items.length === 0 || shown >= r.totalItems) return EXIT.OK;
      page++;
    }
  }
  const { runs } = await call('journal.list', { pageSize: o.limit });
  if (runs.length === 0) io.out('Aucune exécution enregistrée.\n');
  for (const r of runs) {
    const c = r.counts;
    io.out(
      `${r.startedAt}  ${r.flow.padEnd(5)}  ${UI_STATUS_FR[r.status].padEnd(12)}  ${r.machineName}  créés ${c.created}, modifiés ${c.updated}, inchangés ${c.unchanged}, ignorés ${c.skipped}, erreurs ${c.failed}, conflits ${c.conflicts}  ${r.id}\n`,
    );
  }
  return EXIT.OK;
}

/** The app for one CLI command: the data folder's settings (plus the imposed file and variables), no background schedule. */
async function openApp(g: GlobalOpts, io: CliIo, overrides: CliOverrides, background = false): Promise<App> {
  const env = { ...io.env };
  if (g.settings) env.CONNECTEUR_SETTINGS_FILE = path.resolve(g.settings);
  // --machine is an imposed value of this run, like a CONNECTEUR_* variable: never saved.
  if (g.machine) env.CONNECTEUR_MACHINE_NAME = g.machine;
  const dataDir = path.resolve(g.dataDir ?? env.CONNECTEUR_DATA_DIR ?? defaultUserDataDir());
  fs.mkdirSync(dataDir, { recursive: true });
  const logger = overrides.logger ?? nodeLogger(dataDir, { level: env.CONNECTEUR_LOG_LEVEL === 'debug' ? 'debug' : 'info' });
  const rt = overrides.runtime ?? {};
  const serviceOverrides: ServiceOverrides = {
    ...(rt.licence ? { licenceGuard: rt.licence } : {}),
    ...(rt.batigest ? { batigest: rt.batigest } : {}),
    ...(rt.batisimply ? { batisimply: rt.batisimply } : {}),
    ...(rt.buffer ? { buffer: rt.buffer } : {}),
    ...(rt.importsFs ? { importsFs: rt.importsFs } : {}),
    ...(rt.importsPollMs !== undefined ? { importsPollMs: rt.importsPollMs } : {}),
    ...(overrides.hooks ? { hooks: overrides.hooks } : {}),
    ...(overrides.timers ? { timers: overrides.timers } : {}),
  };
  // An unreadable or invalid imposed file (--settings / CONNECTEUR_SETTINGS_FILE) or variable is refused by the
  // settings service (SETTINGS_INVALID, exit 2), naming the field.
  const app = await createNodeApp({
    dataDir,
    logger,
    ...(overrides.clock ? { clock: overrides.clock } : {}),
    host: 'headless',
    entry: 'cli',
    ...(overrides.release !== undefined ? { release: overrides.release } : {}),
    ...(overrides.licencePinned ? { licencePinned: overrides.licencePinned } : {}),
    env,
    overrides: serviceOverrides,
    // One command, then exit: no background schedule, the licence is checked when a sync asks for it. `service`: the
    // schedule runs, as in the app.
    features: defaultFeatures(
      background
        ? { sync: { ...(overrides.timers ? { timers: overrides.timers } : {}) } }
        : { licence: { checkAtStart: false }, sync: { schedule: false, openAtStart: false } },
    ),
  });
  // What the app shows as settings notices (values reset, keys ignored, secrets unreadable) goes to stderr here.
  for (const n of app.settings.notices()) if (n.level !== 'info') io.err(`${n.message}\n`);
  return app;
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
        const line = `${e.flow === 'push' ? 'Envoi ' : e.flow === 'imports' ? 'Import' : 'Heures'} [${bar}] ${pct === null ? '   ' : `${String(pct).padStart(3)}%`} ${e.label}${e.total ? ` ${e.done}/${e.total}` : e.done ? ` ${e.done}` : ''}`;
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
