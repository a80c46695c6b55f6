/**
 * Fencing of the buffer writes of a run (docs/crash-safety.md, « Plusieurs postes »). A flow's lease carries a
 * generation, a new number at each acquisition (migration 7). A run's buffer is wrapped here: every statement and
 * every transaction it makes starts by locking the lease row (FOR SHARE) and checking that the row still carries
 * the run's holder and generation. A PC frozen or cut off past the lease's expiry, whose lease another PC took
 * over, thus has each of its later transactions refused as a whole (SYNC_LEASE_LOST), and a takeover waits for the
 * commit of a transaction already checked: no write of the old holder lands after the new holder started.
 */
import { AppError } from '../../../shared/errors.js';
import type { BufferDb, BufferQueryable, SqlParam } from './db.js';

export interface LeaseFence {
  flow: string;
  holder: string;
  generation: number;
  /** The flow's name for the user (message). */
  label: string;
}

/** The French refusal of a run whose lease was taken over by `machine`. */
export function leaseLostError(fence: Pick<LeaseFence, 'label' | 'flow' | 'generation' | 'holder'>, now: { machine: string; holder: string; generation: number } | null): AppError {
  const who = now ? `le poste ${now.machine}` : 'un autre poste';
  return new AppError(
    'SYNC_LEASE_LOST',
    `Le flux « ${fence.label} » a été repris par ${who} pendant que ce poste ne répondait plus : ce poste s'est arrêté sans rien écrire de plus. Rien à faire, l'autre poste termine le travail.`,
    { detail: `lease ${fence.flow} generation ${fence.generation} of ${fence.holder} is now ${now ? `${now.generation} of ${now.holder}` : 'released'}`, retryable: false },
  );
}

/** Checks the fence inside transaction `q` (locks the lease row until its end). */
export async function checkFence(q: BufferQueryable, fence: LeaseFence): Promise<void> {
  const rows = await q.query<{ holder: string; machine: string; generation: string | number }>(
    'SELECT holder, machine, generation FROM leases WHERE flow = $1 FOR SHARE',
    [fence.flow],
  );
  const row = rows[0];
  if (row && row.holder === fence.holder && Number(row.generation) === fence.generation) return;
  throw leaseLostError(fence, row ? { holder: row.holder, machine: row.machine, generation: Number(row.generation) } : await lastRunner(q, fence.flow));
}

/** Released since: the PC of the flow's latest run took it over (and finished). */
export async function lastRunner(q: BufferQueryable, flow: string): Promise<{ holder: string; machine: string; generation: number } | null> {
  const rows = await q.query<{ machine: string }>('SELECT machine FROM runs WHERE flow = $1 ORDER BY seq DESC LIMIT 1', [flow]);
  return rows[0] ? { holder: '(released)', machine: rows[0].machine, generation: 0 } : null;
}

/** `db` whose every query and transaction is fenced (close is left to the owner of `db`). */
export function fencedDb(db: BufferDb, fence: LeaseFence): BufferDb {
  return {
    kind: db.kind,
    query: <T>(sql: string, params?: SqlParam[]) =>
      db.transaction(async (q) => {
        await checkFence(q, fence);
        return q.query<T>(sql, params);
      }),
    exec: (sql) =>
      db.transaction(async (q) => {
        await checkFence(q, fence);
        await q.query(sql);
      }),
    transaction: (fn) =>
      db.transaction(async (q) => {
        await checkFence(q, fence);
        return fn(q);
      }),
    close: async () => undefined,
  };
}
