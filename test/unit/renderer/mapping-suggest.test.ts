import { describe, expect, it } from 'vitest';
import { nameTokens, normalizeName, scorePair, suggestMappings, type SuggestSalarie, type SuggestUser } from '../../../src/shared/mapping-suggest.js';

const sal = (code: string, nom: string, prenom: string | null, codebs: string | null = null): SuggestSalarie => ({ code, nom, prenom, codebs });

describe('normalizeName', () => {
  it('removes accents, case and punctuation', () => {
    expect(normalizeName('  Éloïse  LE-GOFF ')).toBe('eloise le goff');
    expect(normalizeName("D'Œuvray")).toBe('d oeuvray');
    expect(normalizeName(null)).toBe('');
    expect(nameTokens('Jean-Pierre', 'MÜLLER')).toEqual(['jean', 'pierre', 'muller']);
  });
});

describe('scorePair', () => {
  it('matches the same name whatever the accents, case and order', () => {
    expect(scorePair(sal('S1', 'DUPONT', 'Jérôme'), { id: 'u', firstName: 'jerome', lastName: 'Dupont' })?.confidence).toBe(1);
    expect(scorePair(sal('S1', 'DUPONT Jérôme', null), { id: 'u', firstName: 'Jérôme', lastName: 'DUPONT' })?.confidence).toBe(1);
    const swapped = scorePair(sal('S1', 'Jérôme', 'Dupont'), { id: 'u', firstName: 'Jérôme', lastName: 'Dupont' });
    expect(swapped?.confidence).toBe(1);
  });

  it('uses the e-mail when the user has no name', () => {
    const r = scorePair(sal('S1', 'Lefèvre', 'Amélie'), { id: 'u', email: 'amelie.lefevre@exemple.fr' });
    expect(r?.confidence).toBe(0.9);
    expect(r?.reason).toMatch(/e-mail/);
    expect(scorePair(sal('S1', 'Lefèvre', 'Amélie'), { id: 'u', email: 'alefevre@exemple.fr' })?.confidence).toBe(0.75);
  });

  it('scores a typo lower than an exact match and ignores unrelated people', () => {
    const typo = scorePair(sal('S1', 'Bernard', 'Nicolas'), { id: 'u', firstName: 'Nicolas', lastName: 'Bernardd' });
    expect(typo).not.toBeNull();
    expect(typo!.confidence).toBeLessThan(0.9);
    expect(scorePair(sal('S1', 'Bernard', 'Nicolas'), { id: 'u', firstName: 'Sophie', lastName: 'Martin' })).toBeNull();
  });

  it('same last name with a matching first-name initial is a medium suggestion', () => {
    const r = scorePair(sal('S1', 'Martin', 'Paul'), { id: 'u', firstName: 'Pierre', lastName: 'MARTIN' });
    expect(r?.confidence).toBe(0.7);
  });
});

describe('suggestMappings', () => {
  const users: SuggestUser[] = [
    { id: 'u-jd', firstName: 'Jean', lastName: 'Dupont', email: 'jean.dupont@x.fr' },
    { id: 'u-ml', firstName: 'Marie', lastName: 'Lambert' },
    { id: 'u-mapped', firstName: 'Luc', lastName: 'Petit', mappedTo: 'S9' },
    { id: 'u-other', firstName: 'Zoé', lastName: 'Garnier' },
  ];

  it('suggests one user per unmapped salarié, never a mapped user, never twice the same user', () => {
    const out = suggestMappings(
      [sal('S1', 'DUPONT', 'Jean'), sal('S2', 'LAMBERT', 'Marie'), sal('S3', 'PETIT', 'Luc'), sal('S4', 'Dupont', 'Jean'), sal('S5', 'Roux', 'Ana', 'u-x')],
      users,
    );
    const byCode = Object.fromEntries(out.map((s) => [s.salarieCode, s]));
    expect(byCode.S2?.userId).toBe('u-ml');
    // S1 and S4 have the same name: only one gets u-jd, at a lowered confidence (ambiguous).
    const jd = out.filter((s) => s.userId === 'u-jd');
    expect(jd).toHaveLength(1);
    expect(byCode.S3).toBeUndefined(); // Luc Petit is mapped to S9 already
    expect(byCode.S5).toBeUndefined(); // already mapped salarié
    expect(new Set(out.map((s) => s.userId)).size).toBe(out.length);
  });

  it('prefers the best match when two salariés could take the same user', () => {
    const out = suggestMappings([sal('S1', 'Dupont', 'Julie'), sal('S2', 'Dupont', 'Jean')], [{ id: 'u-jd', firstName: 'Jean', lastName: 'Dupont' }]);
    expect(out).toEqual([{ salarieCode: 'S2', userId: 'u-jd', confidence: 1, reason: 'Même nom et même prénom' }]);
  });

  it('respects the minimum confidence', () => {
    const out = suggestMappings([sal('S1', 'Martin', 'Paul')], [{ id: 'u', firstName: 'Pierre', lastName: 'Martin' }], { minConfidence: 0.8 });
    expect(out).toEqual([]);
  });
});
