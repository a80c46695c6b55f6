/**
 * In-memory store of the admin sessions for @fastify/session (one licence manager process; a
 * restart logs the administrators out). Unlike the plugin's demo MemoryStore it forgets idle
 * sessions and is bounded: anonymous sessions (login page, carrying only a CSRF secret) are cheap to
 * create, so when the store is full the oldest anonymous ones go first, logged-in ones last.
 */
import type { Session } from 'fastify';
import type { SessionStore } from '@fastify/session';

interface Stored {
  session: Session;
  expiresAt: number;
  loggedIn: boolean;
}

type Callback = (err?: unknown) => void;
type GetCallback = (err: unknown, result?: Session | null) => void;

export class BoundedSessionStore implements SessionStore {
  /** Map order = order of the last save (set() re-inserts), so iteration starts with the stalest. */
  private readonly sessions = new Map<string, Stored>();

  constructor(
    private readonly opts: { max: number; idleMs: number; now?: () => number },
  ) {}

  private now(): number {
    return (this.opts.now ?? Date.now)();
  }

  get size(): number {
    return this.sessions.size;
  }

  set(sessionId: string, session: Session, callback: Callback): void {
    const t = this.now();
    this.sessions.delete(sessionId);
    if (this.sessions.size >= this.opts.max) this.evict(t);
    this.sessions.set(sessionId, { session, expiresAt: t + this.opts.idleMs, loggedIn: typeof session.user === 'string' && session.user !== '' });
    callback();
  }

  get(sessionId: string, callback: GetCallback): void {
    const s = this.sessions.get(sessionId);
    if (!s) return callback(null, null);
    if (s.expiresAt <= this.now()) {
      this.sessions.delete(sessionId);
      return callback(null, null);
    }
    callback(null, s.session);
  }

  destroy(sessionId: string, callback: Callback): void {
    this.sessions.delete(sessionId);
    callback();
  }

  private evict(t: number): void {
    for (const [id, s] of this.sessions) if (s.expiresAt <= t) this.sessions.delete(id);
    const target = Math.floor(this.opts.max * 0.8);
    if (this.sessions.size < this.opts.max) return;
    for (const [id, s] of this.sessions) {
      if (this.sessions.size <= target) break;
      if (!s.loggedIn) this.sessions.delete(id);
    }
    for (const [id] of this.sessions) {
      if (this.sessions.size < this.opts.max) break;
      this.sessions.delete(id);
    }
  }
}
