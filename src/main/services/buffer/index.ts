/** Opens the buffer chosen in the settings, applies the migrations and returns its store. */
import { join } from 'node:path';
import type { BufferSettings } from '../../../shared/settings.js';
import { openEmbeddedBuffer, openRemoteBuffer, type BufferDb } from './db.js';
import { BufferStore } from './store.js';

export * from './db.js';
export * from './store.js';
export { migrate, MIGRATIONS } from './migrations.js';

/**
 * @param userDataDir the app's user-data folder; the embedded buffer lives in `<userDataDir>/buffer`
 *   unless `settings.embeddedPath` is set. `':memory:'` opens an in-memory buffer (tests).
 */
export async function openBuffer(settings: BufferSettings, userDataDir: string): Promise<BufferStore> {
  let db: BufferDb;
  if (settings.kind === 'remote') {
    db = await openRemoteBuffer(settings.remote);
  } else if (userDataDir === ':memory:' && !settings.embeddedPath) {
    db = await openEmbeddedBuffer();
  } else {
    db = await openEmbeddedBuffer(settings.embeddedPath || join(userDataDir, 'buffer'));
  }
  const store = new BufferStore(db);
  try {
    await store.init();
  } catch (e) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return store;
}
