/**
 * The journal keeps the mode (chantier / devis) each push run really used: migration 2 adds `runs.mode`,
 * startRun records it, the journal queries read it back. Same suite on PGlite and on PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS, migrate } from '../../src/main/services/buffer/index.js';
import { JournalQueries } from '../../src/main/services/buffer/journal.js';
import { BUFFER_KINDS, useTestBuffer, type TestBuffer } from '../support/sync/buffers.js';
import { memoryHarness, type Harness } from '../support/sync/harness.js';

const t0 = new Date('2026-03-01T10:00:00Z');
const page = { limit: 50, offset: 0 };

describe.each(BUFFER_KINDS)('runs.mode on %s', (kind) => {
  let tb!: TestBuffer;
  useTestBuffer(kind, (x) => (tb = x));

  it('migration 2 adds a nullable mode column to a buffer created before it; old runs read as null', async () => {
    const db = tb.store.db;
    expect(MIGRATIONS.map((m) => m.version)).toContain(2);
    // Back to a version-1 buffer holding one push run of that time.
    await db.query('TRUNCATE run_items, runs');
    await db.query('ALTER TABLE runs DROP COLUMN mode');
    await db.query('DELETE FROM schema_migrations WHERE version >= 2');
    await db.query(`INSERT INTO runs (id, flow, machine, trigger, started_at, status) VALUES ('old', 'push', 'PC', 'manual', $1, 'succeeded')`, [t0]);
    expect(await migrate(db)).toEqual(MIGRATIONS.filter((m) => m.version >= 2).map((m) => m.version));
    const cols = await db.query<{ is_nullable: string }>(`SELECT is_nullable FROM information_schema.columns WHERE table_name = 'runs' AND column_name = 'mode'`);
    expect(cols).toEqual([{ is_nullable: 'YES' }]);
    expect((await new JournalQueries(db).listRuns({}, page)).rows).toEqual([expect.objectContaining({ id: 'old', mode: null })]);
    expect(await tb.store.getRun('old')).toMatchObject({ mode: null });
  });

  it('startRun records the mode of push runs (never of hours runs) and the journal reads it', async () => {
    const s = tb.store;
    await s.db.query('TRUNCATE run_items, runs');
    await s.startRun({ id: 'p1', flow: 'push', machine: 'PC', trigger: 'manual', now: t0, mode: 'devis' });
    await s.startRun({ id: 'p2', flow: 'push', machine: 'PC', trigger: 'manual', now: new Date(t0.getTime() + 1000), mode: 'chantier' });
    await s.startRun({ id: 'h1', flow: 'hours', machine: 'PC', trigger: 'manual', now: new Date(t0.getTime() + 2000), mode: 'chantier' });
    const rows = (await new JournalQueries(s.db).listRuns({}, page)).rows;
    expect(rows.map((r) => [r.id, r.mode])).toEqual([
      ['h1', null],
      ['p2', 'chantier'],
      ['p1', 'devis'],
    ]);
  });
});

describe('engine records the mode of each push run', () => {
  let h!: Harness;
  beforeAll(async () => {
    h = await memoryHarness();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a push run in chantier mode still reads "chantier" after the settings switch to devis', async () => {
    const [r1] = await h.engine().run('push');
    h.settings.mode = 'devis';
    const [r2] = await h.engine().run('push');
    const [r3] = await h.engine().run('hours');
    const rows = (await new JournalQueries(h.buffer.db).listRuns({}, page)).rows;
    const modeOf = (id: string) => rows.find((r) => r.id === id)?.mode;
    expect([modeOf(r1!.runId), modeOf(r2!.runId), modeOf(r3!.runId)]).toEqual(['chantier', 'devis', null]);
  });
});
