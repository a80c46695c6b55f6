/** When to notify: a pure function of (what was notified before, the new state). */
import { describe, expect, it } from 'vitest';
import type { ConnectorState, Problem } from '../../../src/shared/connector-state.js';
import { notificationsFor, type NotificationMemory } from '../../../src/main/shell/notification-policy.js';

const problem = (id: string, keys: string[], title = id, target: Problem['fix']['target'] = { page: 'journal' }): Problem => ({
  id,
  keys,
  severity: 'warning',
  flow: 'hours',
  title,
  detail: `Détail de ${title}.`,
  fix: { label: 'Corriger', target },
});
const state = (problems: Problem[], settled = true): ConnectorState => ({
  kind: problems.length ? 'attention' : 'ok',
  label: '',
  headline: '',
  problems,
  flows: [],
  lastSuccessAt: null,
  nextRunAt: null,
  pausedUntil: null,
  canSync: true,
  settled,
});

/** Runs the policy over a sequence of states, as the controller does: the memory of each step feeds the next. */
function replay(states: ConnectorState[], memory: NotificationMemory | null = null) {
  const all: ReturnType<typeof notificationsFor>['notices'][] = [];
  let m = memory;
  for (const s of states) {
    const r = notificationsFor(m, s);
    all.push(r.notices);
    m = r.memory;
  }
  return { notices: all, memory: m };
}

describe('notification policy', () => {
  const unmapped = (keys: string[]) => problem('hours:unmapped_user', keys, `${keys.length} salariés sans correspondance`, { page: 'mapping' });

  it('a new problem is notified once, with the page that fixes it; the next runs that still see it say nothing', () => {
    const { notices } = replay([state([]), state([unmapped(['u1', 'u2'])]), state([unmapped(['u1', 'u2'])]), state([unmapped(['u1', 'u2'])])]);
    expect(notices.map((n) => n.length)).toEqual([0, 1, 0, 0]);
    expect(notices[1]![0]).toMatchObject({ kind: 'new', title: '2 salariés sans correspondance', target: { page: 'mapping' } });
    expect(notices[1]![0]!.body).toContain('Corriger : cliquez ici.');
  });

  it('a problem that gains keys (a new salarié, a new chantier) is notified once more; fewer keys, nothing', () => {
    const { notices } = replay([state([unmapped(['u1'])]), state([unmapped(['u1', 'u2', 'u3'])]), state([unmapped(['u2'])]), state([unmapped(['u2'])])]);
    expect(notices.map((n) => n.map((x) => x.kind))).toEqual([['new'], ['more'], [], []]);
    expect(notices[1]![0]!.body).toMatch(/^2 nouveaux cas depuis la dernière notification/);
  });

  it('a problem gone is notified once as resolved, opening the dashboard; back again, it is new again', () => {
    const failed = problem('push:failed', ['failed'], 'Échec : Sage Batigest → BatiSimply');
    const { notices } = replay([state([failed]), state([]), state([]), state([failed])]);
    expect(notices.map((n) => n.map((x) => x.kind))).toEqual([['new'], ['resolved'], [], ['new']]);
    expect(notices[1]![0]).toMatchObject({ title: 'Résolu : Échec : Sage Batigest → BatiSimply', target: { page: 'dashboard' } });
  });

  it('the memory survives a restart: nothing notified again for what was already notified', () => {
    const first = replay([state([unmapped(['u1'])])]);
    const afterRestart = replay([state([unmapped(['u1'])])], JSON.parse(JSON.stringify(first.memory)) as NotificationMemory);
    expect(afterRestart.notices).toEqual([[]]);
  });

  it('while the licence is not verified yet (unsettled state) nothing is decided, the memory is kept', () => {
    const before: NotificationMemory = { 'hours:unmapped_user': { keys: ['u1'], title: 't' } };
    const r = notificationsFor(before, state([], false));
    expect(r.notices).toEqual([]);
    expect(r.memory).toEqual(before);
  });

  it('the unfinished setup is never notified (the wizard is on screen)', () => {
    expect(notificationsFor(null, state([problem('setup', ['wizard'])])).notices).toEqual([]);
  });

  it('more than three new problems at once: one summary instead of a burst', () => {
    const many = ['a', 'b', 'c', 'd'].map((id) => problem(id, [id], `Problème ${id}`));
    const r = notificationsFor(null, state(many));
    expect(r.notices).toHaveLength(1);
    expect(r.notices[0]).toMatchObject({ kind: 'summary', title: '4 points à traiter pour le connecteur', target: { page: 'dashboard' } });
    expect(Object.keys(r.memory)).toEqual(['a', 'b', 'c', 'd']);
    expect(notificationsFor(r.memory, state(many)).notices).toEqual([]);
  });
});
