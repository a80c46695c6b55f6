/**
 * Items of one listing, by id (ids normalised to text: 7 and "7" are the same id). The same item read twice (pages
 * that overlap, a slot spanning two listing windows) counts once. Two DIFFERENT items under one id are a conflict:
 * the caller either leaves them all out with a reason (time slots, users: `conflicts()`), or keeps the last one read
 * and logs it (projects, whose last read is the freshest). Nothing is dropped silently.
 */
import { count } from '../../../shared/plural.js';

/** Canonical JSON (sorted keys, undefined left out), to compare two readings of an item. */
export function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'undefined';
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

export class DistinctById<E> {
  private readonly byId = new Map<string, E>();
  /** Ids read with different contents → the distinct contents read (canonical JSON). */
  private readonly versions = new Map<string, Set<string>>();

  constructor(private readonly content: (e: E) => unknown) {}

  /** Adds an item read; true when its id is new. A different content under a known id makes the id a conflict. */
  add(id: string, e: E): boolean {
    const known = this.byId.get(id);
    if (known === undefined) {
      this.byId.set(id, e);
      return true;
    }
    const before = canonical(this.content(known));
    const now = canonical(this.content(e));
    if (before !== now || this.versions.has(id)) {
      const v = this.versions.get(id) ?? new Set([before]);
      v.add(now);
      this.versions.set(id, v);
    }
    this.byId.set(id, e); // the last read (the freshest: a listing is no snapshot)
    return false;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Ids read with different contents, and how many different contents. */
  conflicts(): Map<string, number> {
    return new Map([...this.versions].filter(([, v]) => v.size > 1).map(([id, v]) => [id, v.size]));
  }

  /** Every id once, its last reading; `withoutConflicts`: the conflicting ids left out. */
  values(withoutConflicts: boolean): E[] {
    if (!withoutConflicts) return [...this.byId.values()];
    const c = this.conflicts();
    return [...this.byId].filter(([id]) => !c.has(id)).map(([, e]) => e);
  }
}

/** French reason for a conflicting id: « 2 créneaux différents portent l'identifiant 7 ». */
export function conflictReason(id: string, versions: number, noun: readonly [one: string, other: string]): string {
  return `${count(versions, `${noun[0]} différent`, `${noun[1]} différents`)} portent l'identifiant ${id}`;
}
