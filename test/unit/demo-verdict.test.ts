/** The demo's verdict (src/main/demo-verdict.ts): exit 0 exactly when its claim holds, a message that agrees with its numbers. */
import { describe, expect, it } from 'vitest';
import { countFr, demoVerdict, type SecondRunFacts } from '../../src/main/demo-verdict.js';

const quiet: SecondRunFacts = {
  posts: 0,
  puts: 0,
  suiviMoWrites: 0,
  duplicateCodes: [],
  runs: [
    { flow: 'push', status: 'success', failed: 0, message: 'Envoi terminé.' },
    { flow: 'hours', status: 'success', failed: 0, message: 'Import terminé.' },
  ],
  waiting: [],
};

/** The demo company: 5 users without a salarié, so the hours run is partial. */
const withWaiting: SecondRunFacts = {
  ...quiet,
  runs: [quiet.runs[0]!, { flow: 'hours', status: 'partial', failed: 0, message: '167 créneaux attendent.' }],
  waiting: [
    { name: 'Théo Faure', slots: 31 },
    { name: 'Cécile Mercier', slots: 40 },
    { name: 'Hélène de La Fontaine', slots: 32 },
    { name: 'Bénédicte Garnier', slots: 30 },
    { name: 'Jean-Pierre Rivière', slots: 34 },
  ],
};

describe('demo verdict', () => {
  it('a second run that writes nothing passes, and says so with its numbers', () => {
    const v = demoVerdict(quiet);
    expect(v).toMatchObject({ ok: true, exitCode: 0 });
    expect(v.lines).toEqual(["✓ Le 2e passage n'a rien écrit : 0 POST, 0 PUT vers BatiSimply, 0 écriture SuiviMO, aucun code de projet en double dans BatiSimply."]);
  });

  it('hours waiting for unmapped users are expected in the demo: shown with the way to import them, never a failure', () => {
    // The run that failed the demo before: partial hours run, 0 writes.
    const v = demoVerdict(withWaiting);
    expect(v).toMatchObject({ ok: true, exitCode: 0 });
    expect(v.lines[0]).toMatch(/^✓ Le 2e passage n'a rien écrit : 0 POST, 0 PUT/);
    expect(v.lines[1]).toBe(
      "ℹ Attendu dans cette démo : 5 utilisateurs BatiSimply sans salarié Sage Batigest associé (Théo Faure, Cécile Mercier, Hélène de La Fontaine, Bénédicte Garnier et Jean-Pierre Rivière) — 167 créneaux validés attendent, rien n'est perdu ; c'est pourquoi l'import des heures est « partiel ».",
    );
    expect(v.lines[2]).toMatch(/page « Correspondance salariés »/);
    expect(v.lines.join('\n')).not.toMatch(/✗|erreur|échou/);
  });

  it('one waiting user, one slot: singular forms', () => {
    const v = demoVerdict({ ...withWaiting, waiting: [{ name: 'Théo Faure', slots: 1 }] });
    expect(v.lines[1]).toContain('1 utilisateur BatiSimply sans salarié Sage Batigest associé (Théo Faure) — 1 créneau validé attend');
    // A user with nothing waiting is not listed.
    expect(demoVerdict({ ...quiet, waiting: [{ name: 'Théo Faure', slots: 0 }] }).lines).toHaveLength(1);
  });

  it.each([
    [{ posts: 2 }, '2 POST, 0 PUT vers BatiSimply, 0 écriture SuiviMO, aucun code de projet en double'],
    [{ puts: 1 }, '0 POST, 1 PUT vers BatiSimply, 0 écriture SuiviMO, aucun code de projet en double'],
    [{ suiviMoWrites: 3 }, '0 POST, 0 PUT vers BatiSimply, 3 écritures SuiviMO, aucun code de projet en double'],
    [{ duplicateCodes: ['00000042'] }, '0 POST, 0 PUT vers BatiSimply, 0 écriture SuiviMO, 1 code de projet en double (00000042)'],
  ] as const)('any write fails the verdict (%o), and the message gives the numbers', (facts, numbers) => {
    const v = demoVerdict({ ...withWaiting, ...facts });
    expect(v).toMatchObject({ ok: false, exitCode: 1 });
    expect(v.lines[0]).toBe(`✗ Le 2e passage a écrit alors que rien n'avait changé : ${numbers}.`);
    expect(v.lines.join('\n')).not.toMatch(/^✓/m);
  });

  it.each(['failed', 'cancelled', 'running'] as const)('a flow that did not run to its end (%s) fails: 0 writes would prove nothing', (status) => {
    const v = demoVerdict({ ...quiet, runs: [quiet.runs[0]!, { flow: 'hours', status, failed: 0, message: 'BatiSimply injoignable.' }] });
    expect(v).toMatchObject({ ok: false, exitCode: 1 });
    expect(v.lines).toHaveLength(1);
    expect(v.lines[0]).toMatch(/^✗ Heures → Batigest : exécution .+ au 2e passage — BatiSimply injoignable\.$/);
  });

  it('items in error, or a missing flow, fail the verdict', () => {
    const failedItems = demoVerdict({ ...quiet, runs: [{ ...quiet.runs[0]!, status: 'partial', failed: 2 }, quiet.runs[1]!] });
    expect(failedItems).toMatchObject({ ok: false, exitCode: 1, lines: ['✗ Chantiers → BatiSimply : 2 éléments en erreur au 2e passage — Envoi terminé.'] });
    const missing = demoVerdict({ ...quiet, runs: [quiet.runs[0]!] });
    expect(missing).toMatchObject({ ok: false, exitCode: 1, lines: ["✗ Le 2e passage n'a pas exécuté le flux Heures → Batigest."] });
  });

  it('French plurals: 0 and 1 take the singular, numbers are grouped the French way', () => {
    expect(countFr(0, 'écriture', 'écritures')).toBe('0 écriture');
    expect(countFr(1, 'écriture', 'écritures')).toBe('1 écriture');
    expect(countFr(2, 'écriture', 'écritures')).toBe('2 écritures');
    expect(countFr(1183, 'créneau', 'créneaux')).toBe('1\u202f183 créneaux');
  });
});
