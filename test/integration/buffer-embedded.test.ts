/**
 * The embedded buffer (PGlite) runs with the small server settings of EMBEDDED_SERVER_PARAMS: its page cache
 * lives in WASM memory that never shrinks, so PostgreSQL's defaults (128 MB of shared_buffers) would cost
 * the user's PC ~120 MB for nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openEmbeddedBuffer, type BufferDb } from '../../src/main/services/buffer/db.js';

const opened: BufferDb[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const db of opened.splice(0)) await db.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('embedded buffer server settings', () => {
  it('runs with 16 MB of shared buffers and 8 connection slots, in memory and on disk, on creation and on reopening', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cbs-buffer-embedded-'));
    dirs.push(dir);
    const show = async (db: BufferDb): Promise<string[]> => [
      ...(await db.query<{ shared_buffers: string }>('SHOW shared_buffers')).map((r) => r.shared_buffers),
      ...(await db.query<{ max_connections: string }>('SHOW max_connections')).map((r) => r.max_connections),
    ];
    const mem = await openEmbeddedBuffer();
    opened.push(mem);
    expect(await show(mem)).toEqual(['16MB', '8']);

    const created = await openEmbeddedBuffer(join(dir, 'buffer'));
    expect(await show(created)).toEqual(['16MB', '8']);
    await created.query('CREATE TABLE kept (n int)');
    await created.query('INSERT INTO kept VALUES (42)');
    await created.close();

    const reopened = await openEmbeddedBuffer(join(dir, 'buffer'));
    opened.push(reopened);
    expect(await show(reopened)).toEqual(['16MB', '8']);
    expect(await reopened.query('SELECT n FROM kept')).toEqual([{ n: 42 }]);
  });
});
