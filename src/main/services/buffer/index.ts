/** Opens the buffer chosen in the settings, applies the migrations and returns its store. */
import { join } from 'node:path';
import type { BufferSettings } from '../../../shared/settings.js';
import type { Logger } from '../ports.js';
import { openEmbeddedBuffer, openRemoteBuffer, type BufferDb, type EmbeddedBufferOptions } from './db.js';
import { BufferStore } from './store.js';

export * from './db.js';
export * from './store.js';
export { migrate, MIGRATIONS } from './migrations.js';

/** Journals the creation of an embedded buffer (technical log). */
function creationLogger(logger: Logger): NonNullable<EmbeddedBufferOptions['onCreated']> {
  return ({ origin, note, keptAside }) => {
    if (keptAside) {
      logger.warn(
        `La base tampon intégrée ne pouvait pas être ouverte (création interrompue ou fichiers endommagés) : elle est conservée dans ${keptAside} et une base neuve a été créée.`,
        { keptAside },
      );
    }
    logger.info('base tampon intégrée créée', { origin, ...(note ? { note } : {}) });
  };
}

/**
 * @param userDataDir the app's user-data folder; the embedded buffer lives in `<userDataDir>/buffer`
 *   unless `settings.embeddedPath` is set. `':memory:'` opens an in-memory buffer (tests).
 * @param logger told how a new embedded buffer was made, and where an unopenable one was kept aside.
 */
export async function openBuffer(settings: BufferSettings, userDataDir: string, logger?: Logger): Promise<BufferStore> {
  let db: BufferDb;
  if (settings.kind === 'remote') {
    db = await openRemoteBuffer(settings.remote);
  } else if (userDataDir === ':memory:' && !settings.embeddedPath) {
    db = await openEmbeddedBuffer();
  } else {
    db = await openEmbeddedBuffer(settings.embeddedPath || join(userDataDir, 'buffer'), logger ? { onCreated: creationLogger(logger) } : {});
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
