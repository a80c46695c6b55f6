/** How the gateway compares codes in memory: as SQL Server does under the column collation. */
import { describe, expect, it } from 'vitest';
import { canonicalCodebs, collationKey } from '../../src/main/services/batigest/compare.js';
import { planSuiviMo } from '../../src/main/services/batigest/suivimo.js';

describe('collationKey', () => {
  it('French_CI_AS (and an unknown collation): case and trailing spaces ignored, accents and leading spaces kept', () => {
    for (const c of ['French_CI_AS', null, '', 'SQL_Latin1_General_CP1_CI_AS']) {
      const k = collationKey(c);
      expect(k('S01  ')).toBe(k('s01'));
      expect(k('Émile')).toBe(k('éMILE'));
      expect(k('Emile')).not.toBe(k('Émile'));
      expect(k(' S01')).not.toBe(k('S01'));
    }
  });
  it('_CS_ keeps case, _AI_ drops accents, _BIN2 compares code points (trailing spaces still ignored)', () => {
    expect(collationKey('French_CS_AS')('S01')).not.toBe(collationKey('French_CS_AS')('s01'));
    expect(collationKey('French_CS_AS')('S01 ')).toBe('S01');
    expect(collationKey('French_CI_AI')('Émile')).toBe(collationKey('French_CI_AI')('emile'));
    expect(collationKey('Latin1_General_BIN2')('Ab ')).toBe('Ab');
    expect(collationKey('Latin1_General_BIN2')('ab')).not.toBe('Ab');
  });
});

describe('canonicalCodebs', () => {
  it('gives the lower-case UUID for an upper-case, padded or braced one; other text trimmed; blank is null', () => {
    expect(canonicalCodebs('  11111111-1111-4111-A111-111111111111   ')).toBe('11111111-1111-4111-a111-111111111111');
    expect(canonicalCodebs('{22222222-2222-4222-A222-222222222222}')).toBe('22222222-2222-4222-a222-222222222222');
    expect(canonicalCodebs(' pas-un-uuid ')).toBe('pas-un-uuid');
    expect(canonicalCodebs('   ')).toBeNull();
    expect(canonicalCodebs(null)).toBeNull();
  });
});

describe('planSuiviMo under a collation', () => {
  const up = (codeSalarie: string, nbH0: number) => ({ kind: 'upsert' as const, row: { codeChantier: '00000101', codeSalarie, date: '2026-03-02', nbH0, nbH3: 0, nbH4: 0 } });
  it('keys equal under the collation are one row, the last op winning', () => {
    const ci = planSuiviMo([up('S01', 7), up('s01', 8)], collationKey('French_CI_AS'));
    expect(ci.upserts).toEqual([expect.objectContaining({ codeSalarie: 's01', nbH0: 8 })]);
    const cs = planSuiviMo([up('S01', 7), up('s01', 8)], collationKey('French_CS_AS'));
    expect(cs.upserts).toHaveLength(2);
  });
  it('a move to a key that is the same row under the collation deletes nothing', () => {
    const p = planSuiviMo(
      [{ kind: 'move', from: { codeChantier: '00000101', codeSalarie: 'S01', date: '2026-03-02' }, row: { codeChantier: '00000101', codeSalarie: 's01', date: '2026-03-02', nbH0: 4, nbH3: 0, nbH4: 0 } }],
      collationKey('French_CI_AS'),
    );
    expect(p).toEqual({ deletes: [], upserts: [expect.objectContaining({ codeSalarie: 's01', nbH0: 4 })] });
  });
});
