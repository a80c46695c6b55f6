/** journal.list / journal.get / journal.exportCsv: the runs and their items, from the app's buffer. */
import { AppError } from '../../../shared/errors.js';
import { fr } from '../../../shared/strings.fr.js';
import type { Handlers } from '../../ipc/router.js';
import { JournalQueries, type UiAction } from '../../services/buffer/journal.js';
import type { FlowName } from '../../services/buffer/store.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';
import { bufferStatuses, localStamp, toCsv, toUiItem, toUiRun } from './ui.js';

type JournalHandlers = Pick<Handlers, 'journal.list' | 'journal.get' | 'journal.exportCsv'>;
type Filters = { flow?: 'push' | 'hours' | 'imports' | 'all'; status?: Parameters<typeof bufferStatuses>[0]; from?: string; to?: string } | undefined;

const notFound = () => new AppError('INVALID_INPUT', 'Cette synchronisation est introuvable dans le journal : actualisez la liste.');

export function journalHandlers(ctx: AppContext, jobs: SyncJobs): JournalHandlers {
  const queries = async () => new JournalQueries((await jobs.buffer()).db);
  const filters = (input: Filters) => ({
    ...(input?.flow && input.flow !== 'all' ? { flow: input.flow } : {}),
    ...(input?.status ? { statuses: bufferStatuses(input.status) } : {}),
    ...(input?.from ? { fromDay: input.from } : {}),
    ...(input?.to ? { toDay: input.to } : {}),
    timezone: ctx.settings.get().hours.timezone,
  });

  /** One run's items as CSV lines. */
  const runCsv = async (runId: string, day: string, flowLabel: (f: FlowName) => string, tz: string) => {
    const store = await jobs.buffer();
    const run = await store.getRun(runId);
    if (!run) throw notFound();
    const ui = toUiRun(run);
    const { rows } = await new JournalQueries(store.db).listItems(runId, { limit: 100_000, offset: 0 });
    const csv = toCsv(
      ['Synchronisation', 'Flux', 'Poste', 'Début', 'Résultat', 'Date', 'Type', 'Référence', 'Libellé', 'Action', 'Motif'],
      rows.map((r) => {
        const it = toUiItem(r);
        return [run.id, flowLabel(run.flow), run.machine, localStamp(ui.startedAt, tz), fr.runStatus[ui.status], localStamp(it.at, tz), it.kind, it.key, it.label, fr.actions[it.action], it.reason];
      }),
    );
    return { fileName: `journal-${day}-${run.id.slice(0, 8)}.csv`, csv };
  };

  /** The runs matching the filters as CSV lines. */
  const runsCsv = async (input: Filters, day: string, flowLabel: (f: FlowName) => string, tz: string) => {
    const { rows } = await (await queries()).listRuns(filters(input), { limit: 100_000, offset: 0 });
    const csv = toCsv(
      ['Synchronisation', 'Flux', 'Déclenchement', 'Poste', 'Début', 'Fin', 'Résultat', 'Créés', 'Mis à jour', 'Inchangés', 'Ignorés', 'En échec', 'Message'],
      rows.map((r) => {
        const ui = toUiRun(r);
        return [r.id, flowLabel(r.flow), fr.trigger[ui.trigger], r.machine, localStamp(ui.startedAt, tz), localStamp(ui.endedAt, tz), fr.runStatus[ui.status], r.created, r.updated, r.unchanged, r.skipped, r.failed, r.message];
      }),
    );
    return { fileName: `journal-${day}.csv`, csv };
  };

  return {
    'journal.list': async (input) => {
      const page = input?.page ?? 1;
      const pageSize = input?.pageSize ?? 50;
      const { rows, total } = await (await queries()).listRuns(filters(input), { limit: pageSize, offset: (page - 1) * pageSize });
      return { runs: rows.map(toUiRun), total, page, pageSize };
    },
    'journal.get': async ({ runId, action, page, pageSize }) => {
      const store = await jobs.buffer();
      const row = await store.getRun(runId);
      if (!row) throw notFound();
      const { rows, total } = await new JournalQueries(store.db).listItems(runId, {
        ...(action ? { uiActions: [action as UiAction] } : {}),
        limit: pageSize,
        offset: (page - 1) * pageSize,
      });
      return { run: toUiRun(row), items: rows.map(toUiItem), totalItems: total };
    },
    'journal.exportCsv': async (input) => {
      const s = ctx.settings.get();
      const tz = s.hours.timezone;
      const label = s.software === 'codial' ? 'Codial' : 'Sage Batigest';
      const flowLabel = (f: FlowName) => fr.flows[f](label);
      const day = new Intl.DateTimeFormat('fr-CA', { timeZone: tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ctx.clock.now());
      return input?.runId ? runCsv(input.runId, day, flowLabel, tz) : runsCsv(input, day, flowLabel, tz);
    },
  };
}
