/**
 * The PCs of a shared buffer (migration 7): each connector process writes its heartbeat (name, version, schema
 * version) every minute; the PCs panel lists them with the flow each holds (leases) and its last run (journal).
 * Every SQL statement on `machines` is here.
 */
import { z } from 'zod';
import type { BufferQueryable } from './db.js';

const date = z.coerce.date();

export interface MachineBeat {
  machineId: string;
  name: string;
  appVersion: string;
  schemaVersion: number;
  heartbeatMs: number;
  now: Date;
}

const machineRowSchema = z.object({
  machine_id: z.string(),
  name: z.string(),
  app_version: z.string(),
  schema_version: z.number(),
  first_seen: date,
  last_heartbeat: date,
  heartbeat_ms: z.number(),
  holding: z.string().nullable(),
  last_flow: z.string().nullable(),
  last_run_at: z.union([z.null(), date]),
  last_status: z.string().nullable(),
});
export type MachineRow = z.infer<typeof machineRowSchema>;

export class MachineRegistry {
  constructor(private readonly db: BufferQueryable) {}

  /** This PC is alive: its row is created or refreshed (a renamed PC keeps its id, so its row). */
  async beat(b: MachineBeat): Promise<void> {
    await this.db.query(
      `INSERT INTO machines (machine_id, name, app_version, schema_version, first_seen, last_heartbeat, heartbeat_ms)
       VALUES ($1, $2, $3, $4, $5, $5, $6)
       ON CONFLICT (machine_id) DO UPDATE SET name = EXCLUDED.name, app_version = EXCLUDED.app_version,
              schema_version = EXCLUDED.schema_version, last_heartbeat = EXCLUDED.last_heartbeat, heartbeat_ms = EXCLUDED.heartbeat_ms`,
      [b.machineId, b.name, b.appVersion, b.schemaVersion, b.now, b.heartbeatMs],
    );
  }

  /** Every PC seen, with the flows whose lease it holds now and its last run (by its name in the journal). */
  async list(now: Date): Promise<MachineRow[]> {
    const rows = await this.db.query(
      `SELECT m.machine_id, m.name, m.app_version, m.schema_version, m.first_seen, m.last_heartbeat, m.heartbeat_ms,
              (SELECT string_agg(l.flow, ',' ORDER BY l.flow) FROM leases l WHERE l.machine = m.name AND l.expires_at > $1) AS holding,
              r.flow AS last_flow, r.started_at AS last_run_at, r.status AS last_status
         FROM machines m
         LEFT JOIN LATERAL (SELECT flow, started_at, status FROM runs WHERE machine = m.name ORDER BY seq DESC LIMIT 1) r ON true
        ORDER BY m.last_heartbeat DESC, m.name`,
      [now],
    );
    return rows.map((r) => machineRowSchema.parse(r));
  }

  /** Forgets a PC last seen before `seenBefore` (true), or does nothing when it was seen since (false). */
  async forget(machineId: string, seenBefore: Date): Promise<boolean> {
    const rows = await this.db.query('DELETE FROM machines WHERE machine_id = $1 AND last_heartbeat < $2 RETURNING machine_id', [machineId, seenBefore]);
    return rows.length > 0;
  }
}
