/**
 * Every SQL statement of the licence manager (parameterised). Rows are parsed with zod.
 */
import type pg from 'pg';
import { z } from 'zod';
import { licenceRpcResultSchema, type LicenceRpcResult } from '../shared/licence.js';

const ts = z.union([z.date(), z.string()]).transform((v) => (v instanceof Date ? v : new Date(v)));
const tsNull = ts.nullable();

export const licenseRowSchema = z.object({
  id: z.string(),
  key: z.string(),
  client_name: z.string(),
  email: z.string().nullable(),
  expires_at: ts,
  active: z.boolean(),
  usage_limit: z.number().int().nullable(),
  usage_count: z.number().int(),
  features: z.record(z.string(), z.unknown()),
  max_machines: z.number().int(),
  notes: z.string().nullable(),
  created_at: ts,
  updated_at: ts,
  last_validated_at: tsNull,
  machines_in_use: z.coerce.number().int().optional(),
});
export type LicenseRow = z.infer<typeof licenseRowSchema>;

export const machineRowSchema = z.object({
  id: z.string(),
  machine_id: z.string(),
  app_version: z.string().nullable(),
  activated_at: ts,
  last_seen_at: ts,
  released_at: tsNull,
});
export type MachineRow = z.infer<typeof machineRowSchema>;

export const validationRowSchema = z.object({
  id: z.coerce.number(),
  machine_id: z.string().nullable(),
  app_version: z.string().nullable(),
  kind: z.string(),
  status: z.string(),
  created_at: ts,
});
export type ValidationRow = z.infer<typeof validationRowSchema>;

export const auditRowSchema = z.object({
  id: z.coerce.number(),
  at: ts,
  actor: z.string(),
  action: z.string(),
  license_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
});
export type AuditRow = z.infer<typeof auditRowSchema>;

export const STATUS_FILTERS = ['all', 'active', 'expiring', 'expired', 'deactivated'] as const;
export type StatusFilter = (typeof STATUS_FILTERS)[number];

export interface NewLicense {
  key: string;
  clientName: string;
  email: string | null;
  expiresAt: Date;
  maxMachines: number;
  usageLimit: number | null;
  features: Record<string, unknown>;
  notes: string | null;
}

export interface AuditContext {
  actor: string;
  ip: string | null;
}

const LICENSE_COLUMNS = `l.id, l.key, l.client_name, l.email, l.expires_at, l.active, l.usage_limit, l.usage_count,
  l.features, l.max_machines, l.notes, l.created_at, l.updated_at, l.last_validated_at`;

function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export class LicenseStore {
  constructor(private readonly pool: pg.Pool) {}

  /** Runs the same SQL function the Supabase anon key calls. */
  async check(
    key: string,
    machineId: string,
    appVersion: string,
    kind: 'validate' | 'heartbeat',
    previousMachineId: string | null = null,
  ): Promise<LicenceRpcResult> {
    const r = await this.pool.query<{ result: unknown }>('select public.license_check($1, $2, $3, $4, $5) as result', [
      key,
      machineId,
      appVersion,
      kind,
      previousMachineId,
    ]);
    return licenceRpcResultSchema.parse(r.rows[0]?.result);
  }

  async list(opts: { q?: string; status?: StatusFilter; limit?: number }): Promise<LicenseRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    const q = (opts.q ?? '').trim();
    if (q !== '') {
      params.push(likePattern(q));
      where.push(`(l.key ilike $${params.length} or l.client_name ilike $${params.length} or coalesce(l.email,'') ilike $${params.length})`);
    }
    switch (opts.status ?? 'all') {
      case 'active':
        where.push('l.active and l.expires_at > now()');
        break;
      case 'expiring':
        where.push("l.active and l.expires_at > now() and l.expires_at <= now() + interval '30 days'");
        break;
      case 'expired':
        where.push('l.expires_at <= now()');
        break;
      case 'deactivated':
        where.push('not l.active');
        break;
      default:
        break;
    }
    params.push(Math.min(Math.max(opts.limit ?? 500, 1), 2000));
    const sql = `select ${LICENSE_COLUMNS},
        (select count(*) from license_machines m where m.license_id = l.id and m.released_at is null) as machines_in_use
      from licenses l ${where.length ? `where ${where.join(' and ')}` : ''}
      order by l.expires_at asc, l.client_name asc limit $${params.length}`;
    const r = await this.pool.query(sql, params);
    return r.rows.map((row) => licenseRowSchema.parse(row));
  }

  async counts(): Promise<Record<Exclude<StatusFilter, 'all'> | 'all', number>> {
    const r = await this.pool.query(`select
        count(*) as all,
        count(*) filter (where active and expires_at > now()) as active,
        count(*) filter (where active and expires_at > now() and expires_at <= now() + interval '30 days') as expiring,
        count(*) filter (where expires_at <= now()) as expired,
        count(*) filter (where not active) as deactivated
      from licenses`);
    const row = z
      .object({ all: z.coerce.number(), active: z.coerce.number(), expiring: z.coerce.number(), expired: z.coerce.number(), deactivated: z.coerce.number() })
      .parse(r.rows[0]);
    return row;
  }

  async get(id: string): Promise<LicenseRow | null> {
    if (!z.uuid().safeParse(id).success) return null;
    const r = await this.pool.query(`select ${LICENSE_COLUMNS} from licenses l where l.id = $1`, [id]);
    return r.rows[0] ? licenseRowSchema.parse(r.rows[0]) : null;
  }

  async machines(licenseId: string): Promise<MachineRow[]> {
    const r = await this.pool.query(
      `select id, machine_id, app_version, activated_at, last_seen_at, released_at
         from license_machines where license_id = $1 order by released_at nulls first, last_seen_at desc`,
      [licenseId],
    );
    return r.rows.map((row) => machineRowSchema.parse(row));
  }

  async validations(licenseId: string, limit = 100): Promise<ValidationRow[]> {
    const r = await this.pool.query(
      `select id, machine_id, app_version, kind, status, created_at from license_validations
        where license_id = $1 order by created_at desc, id desc limit $2`,
      [licenseId, limit],
    );
    return r.rows.map((row) => validationRowSchema.parse(row));
  }

  async audit(licenseId: string | null, limit = 100): Promise<AuditRow[]> {
    const r = await this.pool.query(
      `select id, at, actor, action, license_id, details, ip from admin_audit
        where ($1::uuid is null or license_id = $1) order by at desc, id desc limit $2`,
      [licenseId, limit],
    );
    return r.rows.map((row) => auditRowSchema.parse(row));
  }

  /** Runs `fn` and its audit row in one transaction. */
  private async audited<T>(
    ctx: AuditContext,
    action: string,
    licenseId: string | null,
    details: Record<string, unknown>,
    fn: (c: pg.PoolClient) => Promise<{ result: T; licenseId?: string | null; details?: Record<string, unknown> }>,
  ): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('begin');
      const out = await fn(c);
      await c.query('insert into admin_audit (actor, action, license_id, details, ip) values ($1, $2, $3, $4, $5)', [
        ctx.actor,
        action,
        out.licenseId ?? licenseId,
        JSON.stringify({ ...details, ...out.details }),
        ctx.ip,
      ]);
      await c.query('commit');
      return out.result;
    } catch (e) {
      await c.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async logAction(ctx: AuditContext, action: string, details: Record<string, unknown> = {}): Promise<void> {
    await this.audited(ctx, action, null, details, async () => ({ result: undefined }));
  }

  async create(ctx: AuditContext, input: NewLicense): Promise<LicenseRow> {
    return this.audited(
      ctx,
      'licence.creation',
      null,
      { client_name: input.clientName, expires_at: input.expiresAt.toISOString(), max_machines: input.maxMachines },
      async (c) => {
        const r = await c.query(
          `insert into licenses (key, client_name, email, expires_at, max_machines, usage_limit, features, notes)
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning ${LICENSE_COLUMNS.replace(/l\./g, '')}`,
          [input.key, input.clientName, input.email, input.expiresAt, input.maxMachines, input.usageLimit, JSON.stringify(input.features), input.notes],
        );
        const row = licenseRowSchema.parse(r.rows[0]);
        return { result: row, licenseId: row.id };
      },
    );
  }

  async setActive(ctx: AuditContext, id: string, active: boolean): Promise<boolean> {
    return this.audited(ctx, active ? 'licence.reactivation' : 'licence.desactivation', id, {}, async (c) => {
      const r = await c.query('update licenses set active = $2, updated_at = now() where id = $1', [id, active]);
      return { result: (r.rowCount ?? 0) > 0 };
    });
  }

  /** Extends by `days` from the later of now and the current expiry. Returns the new expiry. */
  async extend(ctx: AuditContext, id: string, days: number): Promise<Date | null> {
    return this.audited(ctx, 'licence.prolongation', id, { days }, async (c) => {
      const r = await c.query<{ expires_at: Date }>(
        `update licenses set expires_at = greatest(expires_at, now()) + make_interval(days => $2), updated_at = now()
          where id = $1 returning expires_at`,
        [id, days],
      );
      const exp = r.rows[0]?.expires_at ?? null;
      return { result: exp, details: { new_expires_at: exp ? new Date(exp).toISOString() : null } };
    });
  }

  async releaseMachine(ctx: AuditContext, licenseId: string, machineRowId: string): Promise<boolean> {
    return this.audited(ctx, 'poste.liberation', licenseId, { machine_row: machineRowId }, async (c) => {
      const r = await c.query<{ machine_id: string }>(
        `update license_machines set released_at = now() where id = $1 and license_id = $2 and released_at is null
         returning machine_id`,
        [machineRowId, licenseId],
      );
      return { result: (r.rowCount ?? 0) > 0, details: { machine_id: r.rows[0]?.machine_id ?? null } };
    });
  }
}
