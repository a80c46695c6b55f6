/** The connector's state as one pure function of the overview facts: every combination that matters. */
process.env.TZ = 'Europe/Paris';
import { describe, expect, it } from 'vitest';
import { ago, atTime, connectorState, problemsOf, untilTime } from '../../src/shared/connector-state.js';
import type { Overview, RunSummary, WaitingGroup } from '../../src/shared/contract.js';

const NOW = new Date('2026-03-10T10:40:00+01:00');
const min = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();

function run(flow: 'push' | 'hours', status: RunSummary['status'], endedMinAgo = 3, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    id: `${flow}-${status}-${endedMinAgo}`,
    flow,
    mode: flow === 'push' ? 'chantier' : null,
    trigger: 'schedule',
    machineName: 'PC-BUREAU',
    status,
    startedAt: min(-endedMinAgo - 1),
    endedAt: min(-endedMinAgo),
    counts: { created: 0, updated: 0, unchanged: 10, skipped: 0, failed: 0, conflicts: 0, writes: 0 },
    message: status === 'failed' ? 'Le serveur SQL Server est injoignable.' : 'Envoi vers BatiSimply : 10 inchangés.',
    jobId: null,
    ...extra,
  };
}

/** All is well: both flows ran 3 minutes ago, schedule on every 5 minutes, next at 10:45. */
function facts(patch: Partial<Overview> = {}): Overview {
  return {
    at: NOW.toISOString(),
    softwareLabel: 'Sage Batigest',
    setup: { completed: true, missing: [] },
    licence: { state: 'valid', syncAllowed: true, message: 'Licence valide.', daysLeft: 200, graceDaysLeft: null, graceDays: 7 },
    schedule: { enabled: true, intervalSeconds: 300, nextRunAt: min(5), pausedUntil: null },
    running: null,
    flows: [
      { flow: 'push', lastRun: run('push', 'success'), lastSuccessAt: min(-3), scheduled: true },
      { flow: 'hours', lastRun: run('hours', 'success'), lastSuccessAt: min(-3), scheduled: true },
    ],
    waiting: [],
    lastAttempt: null,
    bufferError: null,
    journalKnown: true,
    ...patch,
  };
}

const unmapped = (n: number, hours: number): WaitingGroup => ({
  kind: 'unmapped_user',
  flow: 'hours',
  count: n,
  keys: Array.from({ length: n }, (_, i) => `user-${i}`),
  names: ['Jean Dupont', 'Marie Martin', 'Paul Leroy', 'Luc Petit'].slice(0, n),
  hours,
  slots: n * 3,
  runId: 'hours-run',
});

describe('time in words', () => {
  it('ago: just now, minutes, hours, days (real plurals)', () => {
    expect(ago(min(-0.5), NOW)).toBe("à l'instant");
    expect(ago(min(2), NOW)).toBe("à l'instant");
    expect(ago(min(-3), NOW)).toBe('il y a 3 min');
    expect(ago(min(-59), NOW)).toBe('il y a 59 min');
    expect(ago(min(-60), NOW)).toBe('il y a 1 h');
    expect(ago(min(-60 * 24), NOW)).toBe('il y a 1 jour');
    expect(ago(min(-60 * 24 * 3), NOW)).toBe('il y a 3 jours');
  });
  it('atTime / untilTime: today, tomorrow, another day', () => {
    expect(atTime(min(5), NOW)).toBe('à 10:45');
    expect(atTime('2026-03-11T07:00:00+01:00', NOW)).toBe('demain à 07:00');
    expect(atTime('2026-03-14T09:30:00+01:00', NOW)).toBe('le 14/03 à 09:30');
    expect(untilTime(min(60), NOW)).toBe("jusqu'à 11:40");
    expect(untilTime('2026-03-11T07:00:00+01:00', NOW)).toBe("jusqu'à demain 07:00");
    expect(untilTime('2026-03-14T09:30:00+01:00', NOW)).toBe("jusqu'au 14/03 à 09:30");
  });
});

describe('connectorState', () => {
  it('« à jour »: last success and next run, one card per flow', () => {
    const s = connectorState(facts(), NOW);
    expect(s.kind).toBe('ok');
    expect(s.label).toBe('À jour');
    expect(s.headline).toBe('Dernier succès il y a 3 min · prochain à 10:45');
    expect(s.problems).toEqual([]);
    expect(s.flows.map((f) => [f.title, f.kind, f.line])).toEqual([
      ['Sage Batigest → BatiSimply', 'ok', 'à jour — dernier succès il y a 3 min, prochain à 10:45'],
      ['BatiSimply → Sage Batigest', 'ok', 'à jour — dernier succès il y a 3 min, prochain à 10:45'],
    ]);
    expect(s.canSync).toBe(true);
    expect(s.settled).toBe(true);
  });

  it('schedule off, and a flow outside the schedule, say so', () => {
    const off = connectorState(facts({ schedule: { enabled: false, intervalSeconds: 300, nextRunAt: null, pausedUntil: null } }), NOW);
    expect(off.kind).toBe('ok');
    expect(off.headline).toBe('Dernier succès il y a 3 min · synchronisation automatique désactivée');
    expect(off.nextRunAt).toBeNull();
    const o = facts();
    o.flows[1]!.scheduled = false;
    expect(connectorState(o, NOW).flows[1]!.line).toBe('à jour — dernier succès il y a 3 min, hors planification');
  });

  it('never synchronised: its own card, and the headline says there was no success yet', () => {
    const s = connectorState(
      facts({
        flows: [
          { flow: 'push', lastRun: null, lastSuccessAt: null, scheduled: true },
          { flow: 'hours', lastRun: null, lastSuccessAt: null, scheduled: true },
        ],
      }),
      NOW,
    );
    expect(s.kind).toBe('ok');
    expect(s.headline).toBe('Aucune synchronisation réussie pour le moment · prochain à 10:45');
    expect(s.flows.map((f) => [f.kind, f.badge, f.line])).toEqual([
      ['never', 'Jamais lancé', 'jamais synchronisé — prochain à 10:45'],
      ['never', 'Jamais lancé', 'jamais synchronisé — prochain à 10:45'],
    ]);
  });

  it('« synchronisation en cours »: the running flow shows its progress; « Synchroniser maintenant » waits', () => {
    const s = connectorState(
      facts({
        running: {
          runId: 'r1',
          flow: 'hours',
          requested: 'all',
          startedAt: min(-1),
          progress: { runId: 'r1', flow: 'hours', phase: 'write', label: 'Écriture des heures', done: 120, total: 300, current: null, counts: { created: 30, updated: 0, unchanged: 0, skipped: 0, failed: 0 } },
        },
      }),
      NOW,
    );
    expect(s.kind).toBe('running');
    expect(s.label).toBe('Synchronisation en cours');
    expect(s.headline).toBe('En cours : BatiSimply → Sage Batigest — Écriture des heures 120/300');
    expect(s.flows[1]).toMatchObject({ kind: 'running', line: 'en cours — Écriture des heures 120/300' });
    expect(s.flows[0]!.kind).toBe('ok');
    expect(s.canSync).toBe(false);
  });

  it('« erreur »: a failed last run, with the way to its journal; running wins over it, licence wins over all', () => {
    const o = facts();
    o.flows[0]!.lastRun = run('push', 'failed', 4);
    const s = connectorState(o, NOW);
    expect(s.kind).toBe('error');
    expect(s.problems[0]).toMatchObject({ id: 'push:failed', severity: 'error', title: 'Échec : Sage Batigest → BatiSimply', fix: { target: { page: 'journal', runId: 'push-failed-4' } } });
    expect(s.flows[0]).toMatchObject({ kind: 'error', badge: 'Erreur' });
    expect(s.flows[0]!.line).toContain('Le serveur SQL Server est injoignable.');
    const running = connectorState({ ...o, running: { runId: 'x', flow: 'push', startedAt: min(0), progress: null } }, NOW);
    expect(running.kind).toBe('running');
    const blocked = connectorState({ ...o, running: { runId: 'x', flow: 'push', startedAt: min(0), progress: null }, licence: { ...o.licence!, state: 'expired', syncAllowed: false, message: 'Licence expirée.' } }, NOW);
    expect(blocked.kind).toBe('licence');
    expect(blocked.headline).toBe('Licence expirée.');
    expect(blocked.canSync).toBe(false);
    expect(blocked.nextRunAt).toBeNull();
  });

  it('a scheduled attempt refused before any run is an error until a later run; a lock held elsewhere is not', () => {
    const refused = facts({ lastAttempt: { at: min(-1), code: 'SQL_HOST_UNREACHABLE', message: 'Le serveur SQL Server est injoignable.' } });
    const s = connectorState(refused, NOW);
    expect(s.kind).toBe('error');
    expect(s.problems[0]).toMatchObject({ id: 'attempt', keys: ['SQL_HOST_UNREACHABLE'], fix: { target: { page: 'settings' } } });
    expect(connectorState(facts({ lastAttempt: { at: min(-10), code: 'SQL_HOST_UNREACHABLE', message: 'x' } }), NOW).kind).toBe('ok');
    expect(connectorState(facts({ lastAttempt: { at: min(-1), code: 'BUFFER_LOCKED', message: 'x' } }), NOW).kind).toBe('ok');
    // Refused by the licence: the licence facts say it (and stop saying it once the licence is sorted).
    expect(connectorState(facts({ lastAttempt: { at: min(-1), code: 'LICENSE_REQUIRED', message: 'x' } }), NOW).kind).toBe('ok');
    expect(connectorState(facts({ bufferError: 'La base tampon PostgreSQL est injoignable.' }), NOW).problems[0]).toMatchObject({ id: 'buffer', severity: 'error' });
  });

  it('« en pause »: until when, no next run, the pause over or an off schedule is no pause', () => {
    const paused = facts({ schedule: { enabled: true, intervalSeconds: 300, nextRunAt: '2026-03-11T07:00:00+01:00', pausedUntil: '2026-03-11T07:00:00+01:00' } });
    const s = connectorState(paused, NOW);
    expect(s.kind).toBe('paused');
    expect(s.label).toBe('En pause');
    expect(s.headline).toBe("Dernier succès il y a 3 min · en pause jusqu'à demain 07:00");
    expect(s.nextRunAt).toBeNull();
    expect(s.flows[0]!.line).toBe("à jour — dernier succès il y a 3 min, en pause jusqu'à demain 07:00");
    expect(s.canSync).toBe(true); // « Synchroniser maintenant » stays possible during a pause
    // A pause beats an error for the icon (someone chose it); the error is still listed.
    const o = { ...paused, flows: [{ ...paused.flows[0]!, lastRun: run('push', 'failed') }, paused.flows[1]!] };
    expect(connectorState(o, NOW)).toMatchObject({ kind: 'paused', problems: [expect.objectContaining({ id: 'push:failed' })] });
    expect(connectorState(facts({ schedule: { enabled: true, intervalSeconds: 300, nextRunAt: min(5), pausedUntil: min(-1) } }), NOW).kind).toBe('ok');
    expect(connectorState(facts({ schedule: { enabled: false, intervalSeconds: 300, nextRunAt: null, pausedUntil: min(60) } }), NOW).kind).toBe('ok');
  });

  it('« attention requise »: salariés with waiting hours, with a link to the mapping; real plurals', () => {
    const s = connectorState(facts({ waiting: [unmapped(4, 99)] }), NOW);
    expect(s.kind).toBe('attention');
    expect(s.label).toBe('Attention requise');
    const p = s.problems[0]!;
    expect(p).toMatchObject({ id: 'hours:unmapped_user', severity: 'warning', title: '4 salariés sans correspondance — 99 h en attente', fix: { label: 'Associer ces salariés', target: { page: 'mapping' } } });
    expect(p.detail).toBe('Les heures validées de Jean Dupont, Marie Martin, Paul Leroy… ne peuvent pas être écrites dans Sage Batigest tant que ces utilisateurs BatiSimply ne sont pas associés à un salarié.');
    expect(s.flows[1]).toMatchObject({ kind: 'attention', badge: 'À traiter' });
    expect(s.flows[1]!.line).toBe('à traiter — 4 salariés sans correspondance — 99 h en attente (dernier succès il y a 3 min, prochain à 10:45)');
    expect(s.flows[0]!.kind).toBe('ok');
    const one = connectorState(facts({ waiting: [unmapped(1, 7.5)] }), NOW).problems[0]!;
    expect(one.title).toBe('1 salarié sans correspondance — 7,5 h en attente');
    expect(one.fix.label).toBe('Associer ce salarié');
  });

  it('unknown chantiers, items in failure and imports in error link to the journal of their run, filtered', () => {
    const w: WaitingGroup[] = [
      { kind: 'unknown_chantier', flow: 'hours', count: 1, keys: ['00009999'], names: ['00009999'], hours: 8, slots: 1, runId: 'h1' },
      { kind: 'failed_items', flow: 'push', count: 2, keys: ['chantier:00000101', 'chantier:00000102'], names: ['Rénovation', 'Garage'], hours: null, slots: null, runId: 'p1' },
      { kind: 'import_error', flow: 'imports', count: 3, keys: ['f1', 'f2', 'f3'], names: ['devis-12.xml', 'bc-3.csv', 'devis-13.xml'], hours: null, slots: null, runId: 'i1' },
    ];
    const s = connectorState(facts({ waiting: w }), NOW);
    expect(s.kind).toBe('attention');
    expect(s.problems.map((p) => [p.title, p.fix.label, p.fix.target])).toEqual([
      ['1 chantier inconnu de Sage Batigest — 8 h en attente', 'Voir les créneaux concernés', { page: 'journal', runId: 'h1', action: 'skipped' }],
      ['2 éléments en échec : Sage Batigest → BatiSimply', 'Voir les éléments en échec', { page: 'journal', runId: 'p1', action: 'failed' }],
      ['3 imports en erreur', 'Voir les imports en erreur', { page: 'journal', runId: 'i1', action: 'failed' }],
    ]);
    // In the flow's own card, without repeating the flow's name.
    expect(s.flows[0]!.line).toBe('à traiter — 2 éléments en échec (dernier succès il y a 3 min, prochain à 10:45)');
    // A flow the state function does not know yet (imports) is named and handled all the same.
    expect(s.problems[2]!.flow).toBe('imports');
    expect(problemsOf(facts({ waiting: [{ ...w[1]!, count: 0 }] }))).toEqual([]);
  });

  it('licence expiring within 7 days, or offline past half its grace: attention; not before', () => {
    const lic = (l: Partial<NonNullable<Overview['licence']>>) => facts({ licence: { state: 'expiring', syncAllowed: true, message: 'm', daysLeft: 7, graceDaysLeft: null, graceDays: 7, ...l } });
    expect(connectorState(lic({ daysLeft: 7 }), NOW).problems[0]).toMatchObject({ id: 'licence-expiring', title: 'La licence expire dans 7 jours', fix: { target: { page: 'licence' } } });
    expect(connectorState(lic({ daysLeft: 1 }), NOW).problems[0]!.title).toBe('La licence expire dans 1 jour');
    expect(connectorState(lic({ daysLeft: 0 }), NOW).problems[0]!.title).toBe("La licence expire aujourd'hui");
    expect(connectorState(lic({ daysLeft: 8 }), NOW).kind).toBe('ok');
    expect(connectorState(lic({ state: 'offline_grace', daysLeft: 100, graceDaysLeft: 3 }), NOW).problems[0]).toMatchObject({ id: 'licence-offline', severity: 'warning' });
    expect(connectorState(lic({ state: 'offline_grace', daysLeft: 100, graceDaysLeft: 3 }), NOW).problems[0]!.detail).toContain('dans 3 jours');
    expect(connectorState(lic({ state: 'offline_grace', daysLeft: 100, graceDaysLeft: 4 }), NOW).kind).toBe('ok');
  });

  it('the licence not verified yet since the start is not « bad »: unsettled, no licence problem', () => {
    const s = connectorState(facts({ licence: { state: 'error', syncAllowed: false, message: 'Licence non vérifiée.', daysLeft: null, graceDaysLeft: null, graceDays: 7 } }), NOW);
    expect(s.settled).toBe(false);
    expect(s.problems).toEqual([]);
    expect(s.kind).toBe('licence');
  });

  it('the buffer still being opened at start: the journal facts are unknown, not « nothing to report »', () => {
    const s = connectorState(facts({ journalKnown: false, flows: facts().flows.map((f) => ({ ...f, lastRun: null, lastSuccessAt: null })) }), NOW);
    expect(s.settled).toBe(false);
    expect(s.headline).toBe('Lecture de la base tampon…');
    expect(s.flows.map((f) => [f.badge, f.line])).toEqual([
      ['Lecture…', 'lecture de la base tampon en cours'],
      ['Lecture…', 'lecture de la base tampon en cours'],
    ]);
  });

  it('setup: the wizard not finished, or settings missing, says what to do', () => {
    const wizard = connectorState(facts({ setup: { completed: false, missing: ['sqlServer', 'batisimply'] } }), NOW);
    expect(wizard).toMatchObject({ kind: 'attention', headline: 'Configuration à terminer', canSync: false });
    expect(wizard.problems[0]).toMatchObject({ id: 'setup', fix: { target: { page: 'setup' } } });
    const missing = connectorState(facts({ setup: { completed: true, missing: ['batisimply'] } }), NOW);
    expect(missing.problems[0]).toMatchObject({ title: 'Réglages incomplets', detail: 'À renseigner : compte BatiSimply.', fix: { target: { page: 'settings' } } });
  });

  it('problems are listed errors first', () => {
    const o = facts({ waiting: [unmapped(2, 5)] });
    o.flows[1]!.lastRun = run('hours', 'failed');
    expect(problemsOf(o).map((p) => p.severity)).toEqual(['error', 'warning']);
  });
});
