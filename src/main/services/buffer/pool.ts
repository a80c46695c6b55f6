/**
 * The buffers a process has open, by identity. An embedded (PGlite) folder must never be opened twice in
 * one process, and opening one takes seconds: every user of the app's buffer (the sync, the journal, the
 * connection test of the same folder) asks the pool, which opens it once and keeps it until it is
 * closed or the pool is disposed.
 */
import type { BufferSettings } from '../../../shared/settings.js';
import type { BufferStore } from './store.js';

export type BufferOpener = (s: BufferSettings) => Promise<BufferStore>;

interface Entry {
  settings: BufferSettings;
  store: Promise<BufferStore>;
  /** Set once `store` resolved. */
  ready: BufferStore | null;
}

/** Identity of a buffer: the embedded folder, or the remote server, database and user. */
export function bufferIdentity(s: BufferSettings): string {
  return s.kind === 'embedded'
    ? `embedded:${s.embeddedPath || ''}`
    : `remote:${JSON.stringify([s.remote.host, s.remote.port, s.remote.database, s.remote.user, s.remote.ssl])}`;
}

export class BufferPool {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly opener: BufferOpener) {}

  /** The open buffer for these settings, opening it on first use (concurrent callers share the opening). */
  async get(s: BufferSettings): Promise<BufferStore> {
    if (this.closed) throw new Error('buffer pool closed');
    const key = bufferIdentity(s);
    let e = this.entries.get(key);
    if (!e) {
      const entry: Entry = { settings: s, store: this.opener(s), ready: null };
      entry.store.then(
        (st) => (entry.ready = st),
        () => this.entries.get(key) === entry && this.entries.delete(key),
      );
      this.entries.set(key, entry);
      e = entry;
    }
    return e.store;
  }

  /** The buffer for these settings if it is open (or being opened), else null; never opens one. */
  async peek(s: BufferSettings): Promise<BufferStore | null> {
    const e = this.entries.get(bufferIdentity(s));
    return e ? e.store.catch(() => null) : null;
  }

  /** Closes the buffer of these settings if open. */
  async close(s: BufferSettings): Promise<void> {
    const key = bufferIdentity(s);
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    const st = await e.store.catch(() => null);
    await st?.db.close().catch(() => undefined);
  }

  /** Closes every buffer except the one of `keep`. */
  async closeOthers(keep: BufferSettings): Promise<void> {
    const k = bufferIdentity(keep);
    for (const e of [...this.entries.values()]) if (bufferIdentity(e.settings) !== k) await this.close(e.settings);
  }

  async dispose(): Promise<void> {
    this.closed = true;
    for (const e of [...this.entries.values()]) await this.close(e.settings);
  }
}
