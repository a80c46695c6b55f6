/**
 * The buffer stores any text it is given (issue 16, item 11): PostgreSQL refuses U+0000 and lone UTF-16 halves,
 * so every text parameter is made storable (U+FFFD in their place) instead of failing the whole transaction.
 * On both buffer kinds: embedded PGlite and a PostgreSQL server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUFFER_KINDS, createTestBuffer, type TestBuffer } from '../support/sync/buffers.js';
import { storable } from '../../src/shared/text.js';

const counts = { created: 0, updated: 0, unchanged: 0, skipped: 1, failed: 0, conflicts: 0, writes: 0 };

describe.each(BUFFER_KINDS)('buffer text (%s)', (kind) => {
  let tb: TestBuffer;
  beforeAll(async () => {
    tb = await createTestBuffer(kind);
  });
  afterAll(async () => {
    await tb?.close();
  });

  it('a run, its items, a slot and an employee with U+0000 and a lone surrogate are stored, marked « � »', async () => {
    const b = tb.store;
    const now = new Date('2026-07-01T10:00:00Z');
    await b.startRun({ id: 'run-nul', flow: 'hours', machine: 'PC\u0000-1', trigger: 'manual', now });
    await b.closeRun({ id: 'run-nul', status: 'partial', counts, errorCode: null, message: 'Fin\u0000.', now }, [
      { recordKey: 'user:u\u0000', action: 'skipped', reason: 'Paul Le\u0000roy \uD800 sans salarié' },
    ]);
    expect(await b.getRun('run-nul')).toMatchObject({ machine: 'PC\uFFFD-1', message: 'Fin\uFFFD.', status: 'partial' });
    expect((await b.listRunItems('run-nul')).map((i) => [i.record_key, i.reason])).toEqual([['user:u\uFFFD', 'Paul Le\uFFFDroy \uFFFD sans salarié']]);

    await b.transaction(async (tx) => {
      await tx.upsertSlots(
        [{ slotId: 's1', content: '{"user":"Le\u0000roy"}', contentHash: 'h', status: 'VALIDATED', startUtc: now, remoteModified: null, state: 'unmapped_user', reason: 'Utilisateur Le\u0000roy sans salarié', changed: true }],
        now,
      );
    });
    expect((await b.loadSlots()).get('s1')).toMatchObject({ content: '{"user":"Le\uFFFDroy"}', reason: 'Utilisateur Le\uFFFDroy sans salarié' });

    await b.replaceEmployees([{ batisimply_user_id: 'u-1', first_name: 'Paul', last_name: 'Le\u0000roy', email: null, salarie_code: null, salarie_name: null }], now);
    expect((await b.listEmployees()).map((e) => e.last_name)).toEqual(['Le\uFFFDroy']);
  });

  it('storable() leaves ordinary text alone, pairs of surrogates (emoji) included', () => {
    expect(storable('Élodie 👷‍♀️ Dupont')).toBe('Élodie 👷‍♀️ Dupont');
    expect(storable('a\u0000b\uDC00c')).toBe('a\uFFFDb\uFFFDc');
  });
});
