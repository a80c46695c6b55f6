/**
 * When to notify: a pure function of (what was notified before, the new state).
 *
 *  - a problem that appears (a failure, salariés with waiting hours, unknown chantiers, imports in error, a
 *    licence expiring within 7 days or offline past half its grace…) is notified once;
 *  - a problem that gains keys (a new salarié without correspondence, a new chantier in failure) is notified
 *    once more, for the new ones only;
 *  - a problem that is gone is notified once as resolved;
 *  - anything else — the same problem seen by the next run, and the next, and the next — is never notified.
 *
 * Clicking a notification opens the page that fixes it (the problem's fix target). The memory (which problems
 * and keys were notified) is kept on disk by the shell, so a restart does not notify everything again. Scheduled
 * runs and manual runs go through the same policy: the runs nobody watches are no longer the silent ones.
 */
import type { NavTarget } from '../../shared/contract.js';
import type { ConnectorState, Problem } from '../../shared/connector-state.js';
import { count } from '../../shared/plural.js';

/** What was notified, per problem id. */
export type NotificationMemory = Record<string, { keys: string[]; title: string }>;

export interface DesktopNotice {
  kind: 'new' | 'more' | 'resolved' | 'summary';
  problemId: string | null;
  title: string;
  body: string;
  /** The page the click opens. */
  target: NavTarget;
}

/** The configuration wizard is on screen when setup is unfinished: no notification for it. */
const NOT_NOTIFIED = new Set(['setup']);
/** More new problems than this at once: one summary notification instead of a burst. */
const MAX_AT_ONCE = 3;

const notifiable = (p: Problem) => !NOT_NOTIFIED.has(p.id);

export function notificationsFor(prev: NotificationMemory | null, state: ConnectorState): { notices: DesktopNotice[]; memory: NotificationMemory } {
  const before = prev ?? {};
  // The licence not verified yet since the start: wait (otherwise a start would notify, then « résolu »).
  if (!state.settled) return { notices: [], memory: { ...before } };
  const current = state.problems.filter(notifiable);
  const memory: NotificationMemory = {};
  const raised: DesktopNotice[] = [];
  for (const p of current) {
    memory[p.id] = { keys: [...p.keys], title: p.title };
    const had = before[p.id];
    if (!had) {
      raised.push({ kind: 'new', problemId: p.id, title: p.title, body: `${p.detail} ${p.fix.label} : cliquez ici.`, target: p.fix.target });
      continue;
    }
    const known = new Set(had.keys);
    const fresh = p.keys.filter((k) => !known.has(k));
    if (fresh.length > 0) {
      raised.push({
        kind: 'more',
        problemId: p.id,
        title: p.title,
        body: `${count(fresh.length, 'nouveau cas', 'nouveaux cas')} depuis la dernière notification. ${p.fix.label} : cliquez ici.`,
        target: p.fix.target,
      });
    }
  }
  const resolved: DesktopNotice[] = [];
  for (const [id, had] of Object.entries(before)) {
    if (memory[id] || NOT_NOTIFIED.has(id)) continue;
    resolved.push({ kind: 'resolved', problemId: id, title: `Résolu : ${had.title}`, body: 'Ce point est réglé ; rien à faire de plus.', target: { page: 'dashboard' } });
  }
  let notices = [...raised, ...resolved];
  if (raised.length > MAX_AT_ONCE) {
    notices = [
      {
        kind: 'summary',
        problemId: null,
        title: `${count(raised.length, 'point à traiter', 'points à traiter')} pour le connecteur`,
        body: `${raised.map((n) => n.title).slice(0, 3).join(' ; ')}… Ouvrez le tableau de bord pour les voir.`,
        target: { page: 'dashboard' },
      },
      ...resolved,
    ];
  }
  return { notices, memory };
}
