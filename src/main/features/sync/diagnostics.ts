/**
 * « Exporter un diagnostic » and « Ouvrir le dossier des journaux » (Réglages › Maintenance):
 * diagnostics.export / reveal / openLogFolder.
 *
 * The archive (<données>/diagnostics/diagnostic-<poste>-<date>.zip, the five latest kept) holds: what it is
 * (LISEZMOI.txt), the versions, the settings without any secret, the last 7 days of technical logs, the last
 * runs with their items, a fresh run of the connection tests, the buffer check, the licence status, the
 * connector's state, the notices and the maintenance log. Every configured secret is scrubbed from every
 * file in every encoding (services/diagnostics/archive.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionDiagnosis } from '../../../shared/domain.js';
import { AppError, toAppError } from '../../../shared/errors.js';
import { SECRET_PATHS, type Settings } from '../../../shared/settings.js';
import type { Handlers } from '../../ipc/router.js';
import { BufferMaintenance } from '../../services/buffer/maintenance.js';
import { JournalQueries } from '../../services/buffer/journal.js';
import { writeDiagnosticArchive, type ArchiveEntry } from '../../services/diagnostics/archive.js';
import { toContractLicenceStatus } from '../../services/licence/ipc-status.js';
import { maskSettings } from '../../services/settings/service.js';
import type { AppContext, DesktopOpener } from '../types.js';
import type { SyncJobs } from './jobs.js';
import type { OverviewParts } from './overview.js';
import { toUiItem, toUiRun } from './ui.js';

type DiagnosticsHandlers = Pick<Handlers, 'diagnostics.export' | 'diagnostics.reveal' | 'diagnostics.openLogFolder'>;

export const LOG_DAYS = 7;
const RUNS = 50;
const ITEMS_PER_RUN = 500;
const KEEP_ARCHIVES = 5;
/** A log file bigger than this is cut to its end (the latest lines). */
const MAX_LOG_BYTES = 20 * 1024 * 1024;

/** Every secret value of the settings (resolved: imposed variables included). */
export function configuredSecrets(s: Settings): string[] {
  const out: string[] = [];
  for (const p of SECRET_PATHS) {
    let v: unknown = s;
    for (const k of p.split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
    if (typeof v === 'string' && v.length > 0) out.push(v);
  }
  return out;
}

/** The log files of the last `days` local days (by the date in their name, else by modification time). */
export function recentLogFiles(dir: string, now: Date, days = LOG_DAYS): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const since = new Date(now.getTime());
  since.setHours(0, 0, 0, 0);
  since.setDate(since.getDate() - (days - 1));
  return names
    .filter((n) => n.endsWith('.log'))
    .filter((n) => {
      const m = /(\d{4})-(\d{2})-(\d{2})\.log$/.exec(n);
      const when = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : fs.statSync(path.join(dir, n)).mtime;
      return when.getTime() >= since.getTime();
    })
    .sort();
}

const json = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;
const stamp = (d: Date) => {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
};
const safeName = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '_').slice(0, 40) || 'poste';

export function diagnosticsHandlers(ctx: AppContext, jobs: SyncJobs, overview: Pick<OverviewParts, 'handlers'>, opener?: DesktopOpener): DiagnosticsHandlers {
  const log = ctx.logger.child({ feature: 'diagnostics' });
  const folder = path.join(ctx.userDataDir, 'diagnostics');

  /** A fresh run of the three connection tests (as the dashboard's cards), each on its own. */
  const connectionTests = async (s: Settings): Promise<Record<string, ConnectionDiagnosis | { error: string }>> => {
    const run = async (fn: () => Promise<ConnectionDiagnosis>) => fn().catch((e: unknown) => ({ error: toAppError(e).message }));
    const [sql, bs, buffer] = await Promise.all([
      run(async () => {
        const g = ctx.services.gateway(s);
        try {
          return await g.testConnection();
        } finally {
          await g.close().catch(() => undefined);
        }
      }),
      run(async () => {
        const c = ctx.services.batisimply(s);
        try {
          return await c.testConnection();
        } finally {
          await c.close().catch(() => undefined);
        }
      }),
      run(() => ctx.services.diagnoseBuffer(s.buffer)),
    ]);
    return { sqlServer: sql, batisimply: bs, baseTampon: buffer };
  };

  const journalEntries = async (): Promise<ArchiveEntry[]> => {
    try {
      const store = await jobs.buffer();
      const q = new JournalQueries(store.db);
      const { rows } = await q.listRuns({}, { limit: RUNS, offset: 0 });
      const runs = [];
      for (const r of rows) {
        const { rows: items, total } = await q.listItems(r.id, { limit: ITEMS_PER_RUN, offset: 0 });
        runs.push({ ...toUiRun(r), items: items.map(toUiItem), totalItems: total });
      }
      const m = new BufferMaintenance(store);
      return [
        { name: 'executions.json', data: json(runs) },
        { name: 'base-tampon.json', data: json({ verification: await m.verify(), compteurs: { enregistrements: await store.countRecords(), creneaux: await store.countSlots(), lignesEnSuspens: await store.countDirtyKeys() }, verrous: await store.listLeases() }) },
        { name: 'maintenance.json', data: json(await m.listLog(100)) },
      ];
    } catch (e) {
      return [{ name: 'executions.json', data: json({ erreur: toAppError(e).message }) }];
    }
  };

  const logEntries = (now: Date): ArchiveEntry[] =>
    recentLogFiles(ctx.logDir, now).map((name) => {
      const file = path.join(ctx.logDir, name);
      const size = fs.statSync(file).size;
      if (size <= MAX_LOG_BYTES) return { name: `journaux/${name}`, data: fs.readFileSync(file) };
      const fd = fs.openSync(file, 'r');
      try {
        const buf = Buffer.alloc(MAX_LOG_BYTES);
        fs.readSync(fd, buf, 0, MAX_LOG_BYTES, size - MAX_LOG_BYTES);
        return { name: `journaux/${name}`, data: buf };
      } finally {
        fs.closeSync(fd);
      }
    });

  const prune = () => {
    const all = fs
      .readdirSync(folder)
      .filter((n) => /^diagnostic-.*\.zip$/.test(n))
      .map((n) => ({ n, t: fs.statSync(path.join(folder, n)).mtimeMs }))
      .sort((a, b) => b.t - a.t);
    for (const old of all.slice(KEEP_ARCHIVES)) fs.rmSync(path.join(folder, old.n), { force: true });
  };

  return {
    'diagnostics.export': async () => {
      const now = ctx.clock.now();
      const s = ctx.settings.get();
      const view = maskSettings(s);
      let licence: unknown;
      try {
        licence = toContractLicenceStatus(ctx.services.licence().status());
      } catch (e) {
        licence = { erreur: toAppError(e).message };
      }
      const entries: ArchiveEntry[] = [
        {
          name: 'LISEZMOI.txt',
          data: [
            `Diagnostic du connecteur ${ctx.productName} ${ctx.version}, poste ${ctx.machineName()}, ${now.toLocaleString('fr-FR')}.`,
            '',
            'versions.json       versions du connecteur, de Node/Electron et du système',
            'reglages.json       réglages, sans aucun mot de passe, secret ni clé (remplacés par « set »)',
            `journaux/           journaux techniques des ${LOG_DAYS} derniers jours`,
            `executions.json     les ${RUNS} dernières synchronisations avec leurs éléments`,
            'connexions.json     les tests de connexion, relancés au moment de l’export',
            'base-tampon.json    la vérification de la base tampon',
            'licence.json        l’état de la licence (clé masquée)',
            'etat.json           l’état du connecteur (ce que montrent l’icône et le tableau de bord)',
            'maintenance.json    les dernières actions de maintenance',
            '',
            'Chaque secret enregistré a été retiré de chaque fichier, sous toutes ses formes.',
            '',
          ].join('\r\n'),
        },
        {
          name: 'versions.json',
          data: json({
            produit: ctx.productName,
            version: ctx.version,
            hote: ctx.host,
            poste: ctx.machineName(),
            systeme: { plateforme: process.platform, architecture: process.arch, version: os.release(), memoireTotaleMo: Math.round(os.totalmem() / 1048576) },
            moteurs: process.versions,
            reglages: s.version,
          }),
        },
        { name: 'reglages.json', data: json({ reglages: view, imposesParEnvironnement: ctx.settings.overriddenPaths() }) },
        { name: 'avis.json', data: json(ctx.settings.notices()) },
        { name: 'licence.json', data: json(licence) },
        ...logEntries(now),
        ...(await journalEntries()),
        { name: 'connexions.json', data: json(await connectionTests(s)) },
      ];
      try {
        entries.push({ name: 'etat.json', data: json(await overview.handlers['status.overview'](undefined, { host: 'cli' })) });
      } catch (e) {
        entries.push({ name: 'etat.json', data: json({ erreur: toAppError(e).message }) });
      }
      const fileName = `diagnostic-${safeName(ctx.machineName())}-${stamp(now)}.zip`;
      const file = path.join(folder, fileName);
      let bytes: number;
      try {
        bytes = await writeDiagnosticArchive(file, entries, configuredSecrets(s), now);
        prune();
      } catch (e) {
        throw new AppError('DIAGNOSTIC_FAILED', `Le diagnostic n'a pas pu être écrit dans ${folder} : vérifiez la place libre sur le disque.`, { detail: toAppError(e).detail ?? String(e), cause: e });
      }
      log.info('diagnostic exported', { file, bytes, entries: entries.length });
      return { fileName, path: file, bytes, entries: entries.map((e) => e.name) };
    },

    'diagnostics.reveal': async ({ path: asked }) => {
      const file = path.resolve(asked);
      if (path.dirname(file) !== path.resolve(folder) || !fs.existsSync(file)) {
        throw new AppError('INVALID_INPUT', 'Ce fichier de diagnostic est introuvable : exportez un nouveau diagnostic.');
      }
      const opened = opener ? await opener.showFile(file).catch(() => false) : false;
      return { opened, path: file };
    },

    'diagnostics.openLogFolder': async () => {
      fs.mkdirSync(ctx.logDir, { recursive: true });
      const opened = opener ? await opener.openFolder(ctx.logDir).catch(() => false) : false;
      return { opened, path: ctx.logDir };
    },
  };
}
