/** mapping.get / mapping.save: BatiSimply users ↔ Batigest salariés (the codebs column), with waiting hours. */
import type { MappingUser, MappingView } from '../../../shared/contract.js';
import type { Salarie } from '../../../shared/domain.js';
import { AppError, toAppError } from '../../../shared/errors.js';
import { suggestMappings } from '../../../shared/mapping-suggest.js';
import type { Handlers } from '../../ipc/router.js';
import { BatigestGateway } from '../../services/batigest/index.js';
import { JournalQueries } from '../../services/buffer/journal.js';
import type { SyncRuntime } from '../../services/sync/runtime.js';
import type { AppContext } from '../types.js';
import type { SyncJobs } from './jobs.js';

type MappingHandlers = Pick<Handlers, 'mapping.get' | 'mapping.save'>;
type ListedUser = Awaited<ReturnType<SyncRuntime['batisimply']['listUsers']>>[number];
type SeenUser = Awaited<ReturnType<JournalQueries['slotUsers']>>[number];

function gatewayOf(rt: SyncRuntime): BatigestGateway {
  if (rt.batigest instanceof BatigestGateway) return rt.batigest;
  throw new AppError('NOT_CONFIGURED', "La correspondance des salariés n'est pas disponible avec cette source de données.");
}

/** Users listed by BatiSimply, then those only seen in time slots; most waiting hours first. */
export function mappingUsers(listed: ListedUser[], seen: SeenUser[], salaries: Salarie[]): MappingUser[] {
  const mappedTo = new Map<string, string>();
  for (const s of salaries) if (s.codebs && s.codebs.trim()) mappedTo.set(s.codebs.trim().toLowerCase(), s.code);
  const seenById = new Map(seen.map((r) => [r.user_id.toLowerCase(), r]));
  const users: MappingUser[] = [];
  const add = (u: { id: string; firstName?: string | null; lastName?: string | null; email?: string | null; login?: string | null }, fromTimeSlotsOnly: boolean) => {
    const m = mappedTo.get(u.id.toLowerCase()) ?? null;
    const w = seenById.get(u.id.toLowerCase());
    const name = [u.firstName, u.lastName].filter((x) => x && x.trim()).join(' ').trim();
    users.push({
      id: u.id,
      displayName: name || u.email || u.login || u.id,
      firstName: u.firstName ?? null,
      lastName: u.lastName ?? null,
      email: u.email ?? null,
      mappedTo: m,
      hoursWaiting: m || !w ? 0 : Math.round((w.minutes_waiting / 60) * 100) / 100,
      slotsWaiting: m || !w ? 0 : w.slots_waiting,
      fromTimeSlotsOnly,
    });
  };
  const listedIds = new Set<string>();
  for (const u of listed) {
    listedIds.add(u.id.toLowerCase());
    add(u, false);
  }
  for (const r of seen) if (!listedIds.has(r.user_id.toLowerCase())) add({ id: r.user_id, firstName: r.first_name, lastName: r.last_name, email: r.email }, true);
  users.sort((a, b) => b.hoursWaiting - a.hoursWaiting || a.displayName.localeCompare(b.displayName, 'fr'));
  return users;
}

export function mappingHandlers(ctx: AppContext, jobs: SyncJobs): MappingHandlers {
  const log = ctx.logger.child({ feature: 'mapping' });

  async function mappingView(): Promise<MappingView> {
    const rt = await jobs.getRuntime();
    const gw = gatewayOf(rt);
    const [salaries, codebs] = await Promise.all([gw.readSalaries(), gw.codebsStatus()]);
    let usersError: string | null = null;
    let listed: ListedUser[] = [];
    try {
      listed = await rt.batisimply.listUsers();
    } catch (e) {
      const err = toAppError(e);
      usersError = `La liste des utilisateurs BatiSimply n'a pas pu être lue : ${err.message}`;
      log.warn('listing BatiSimply users failed', { code: err.code });
    }
    const since = new Date(ctx.clock.now().getTime() - ctx.settings.get().hours.windowDays * 86_400_000);
    const seen = await new JournalQueries(rt.buffer.db).slotUsers(since);
    const users = mappingUsers(listed, seen, salaries);
    const suggestions = suggestMappings(
      salaries.map((s: Salarie) => ({ code: s.code, nom: s.nom, prenom: s.prenom, codebs: s.codebs })),
      users.map((u) => ({ id: u.id, firstName: u.firstName, lastName: u.lastName, email: u.email, mappedTo: u.mappedTo })),
    );
    return { salaries, users, suggestions, codebs, usersError };
  }

  return {
    'mapping.get': () => mappingView(),
    'mapping.save': async ({ entries }) => {
      const rt = await jobs.getRuntime();
      const gw = gatewayOf(rt);
      // Removals first, so that moving a user from one salarié to another never trips over itself.
      const ordered = [...entries.filter((e) => e.userId === null), ...entries.filter((e) => e.userId !== null)];
      let saved = 0;
      for (const e of ordered) {
        await gw.writeEmployeeMapping(e.salarieCode, e.userId);
        saved++;
      }
      try {
        await rt.refreshEmployeeMapping();
      } catch (e) {
        log.warn('refreshing the employee mapping cache failed', { code: toAppError(e).code });
      }
      return { saved, mapping: await mappingView() };
    },
  };
}
