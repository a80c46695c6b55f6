/**
 * Buffer backends for tests: in-memory PGlite, and a fresh database on the local PostgreSQL server
 * (127.0.0.1:5432, user postgres) created with a random name and dropped afterwards.
 */
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { BufferStore, openEmbeddedBuffer, openRemoteBuffer } from '../../../src/main/services/buffer/index.js';

export interface TestBuffer {
  store: BufferStore;
  /** Opens a second connection to the same buffer (another "PC"); only for the remote kind. */
  reopen(): Promise<BufferStore>;
  close(): Promise<void>;
}

export type BufferKind = 'pglite' | 'postgres';
export const BUFFER_KINDS: BufferKind[] = ['pglite', 'postgres'];

const PG = { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };

export async function createTestBuffer(kind: BufferKind): Promise<TestBuffer> {
  if (kind === 'pglite') {
    const store = new BufferStore(await openEmbeddedBuffer());
    await store.init();
    return {
      store,
      reopen: async () => store,
      close: () => store.db.close(),
    };
  }
  const database = `cbs_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ ...PG, database: 'postgres' });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${database}`);
  await admin.end();
  const opened: BufferStore[] = [];
  const open = async (): Promise<BufferStore> => {
    const s = new BufferStore(await openRemoteBuffer({ ...PG, database, ssl: false }));
    await s.init();
    opened.push(s);
    return s;
  };
  const store = await open();
  return {
    store,
    reopen: open,
    close: async () => {
      for (const s of opened) await s.db.close().catch(() => undefined);
      const a = new pg.Client({ ...PG, database: 'postgres' });
      await a.connect();
      await a.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      await a.end();
    },
  };
}

/**
 * One test buffer of `kind` for a describe block: created before its tests, emptied of `truncate` (tables)
 * before each when given, closed after. `onStart` receives it.
 */
export function useTestBuffer(kind: BufferKind, onStart: (tb: TestBuffer) => void, truncate: readonly string[] = []): void {
  let tb: TestBuffer | undefined;
  beforeAll(async () => {
    tb = await createTestBuffer(kind);
    onStart(tb);
  });
  afterAll(async () => {
    await tb?.close();
  });
  if (truncate.length > 0) beforeEach(async () => void (await tb!.store.db.query(`TRUNCATE ${truncate.join(', ')}`)));
}
