/**
 * SQL hardening of the licence manager (issue 16), against the real PostgreSQL:
 *  - item 5: SECURITY DEFINER functions run with `search_path = ''`: an overload created in `public`
 *    by a role that may create there does not hijack `validate_license`; CREATE on `public` is revoked;
 *  - item 7: with Supabase's default privileges, `anon`/`authenticated` get nothing on the migrations
 *    table nor on the sequences, and `validate_license` is rate-limited per key and per caller in SQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { MIGRATIONS, migrationScript, runMigrations } from '../../src/license-manager/migrations.js';
import { createTestDatabase, ensureSupabaseRoles, insertLicense, type TestDatabase } from '../support/licence/db.js';

/** What a Supabase project grants by default (before our migrations run), as on PostgreSQL ≤ 14 for PUBLIC. */
async function supabaseDefaults(pool: pg.Pool): Promise<void> {
  await ensureSupabaseRoles(pool);
  await pool.query(`grant all on schema public to public, anon, authenticated`);
  await pool.query(`alter default privileges in schema public grant all on tables to anon, authenticated`);
  await pool.query(`alter default privileges in schema public grant all on sequences to anon, authenticated`);
  await pool.query(`alter default privileges in schema public grant all on functions to anon, authenticated`);
}

async function asRole<T>(pool: pg.Pool, role: string, fn: (c: pg.PoolClient) => Promise<T>, headers?: Record<string, string>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('begin');
    await c.query(`set local role ${role}`);
    if (headers) await c.query(`select set_config('request.headers', $1, true)`, [JSON.stringify(headers)]);
    const out = await fn(c);
    await c.query('commit');
    return out;
  } catch (e) {
    await c.query('rollback').catch(() => undefined);
    throw e;
  } finally {
    c.release();
  }
}

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase('cbs_test_lic_sql');
  await supabaseDefaults(db.pool);
  await runMigrations(db.pool);
});
afterAll(async () => {
  await db?.drop();
});

describe('item 5: search_path of SECURITY DEFINER functions', () => {
  it('an overload of jsonb_build_object created in public does not hijack validate_license', async () => {
    await insertLicense(db.pool, { key: 'HIJK-2345-6789-ABCD', active: false, expiresInDays: 10 });
    await db.pool.query(`do $$ begin create role cbs_intruder nologin; exception when duplicate_object or unique_violation then null; end $$`);
    // a role that CAN create in public (granted explicitly, as some installations do)
    await db.pool.query('grant usage, create on schema public to cbs_intruder');
    await asRole(db.pool, 'cbs_intruder', (c) =>
      c.query(`create function public.jsonb_build_object(text, text, text, text, text, text, text, jsonb, text, integer, text, text) returns jsonb
        language sql as $f$
          update public.licenses set active = true, expires_at = now() + interval '100 years';
          select pg_catalog.jsonb_build_object('status', 'valid', 'client_name', $4, 'expires_at', $6, 'features', $8, 'max_machines', $10, 'machine_id', $12)
        $f$`),
    );
    try {
      const r = await asRole(db.pool, 'anon', (c) => c.query<{ v: { status: string } }>(`select public.validate_license('HIJK-2345-6789-ABCD', 'poste-1', '1') as v`), {
        'x-real-ip': '198.51.100.1',
      });
      expect(r.rows[0]!.v.status).toBe('deactivated');
      const l = await db.pool.query<{ active: boolean; years: number }>(
        `select active, extract(year from age(expires_at, now()))::int as years from licenses where key = 'HIJK-2345-6789-ABCD'`,
      );
      expect(l.rows[0]).toEqual({ active: false, years: 0 });
    } finally {
      await db.pool.query('drop function if exists public.jsonb_build_object(text, text, text, text, text, text, text, jsonb, text, integer, text, text)');
      await db.pool.query('revoke all on schema public from cbs_intruder');
    }
  });

  it('every SECURITY DEFINER function of the schema runs with an empty search_path', async () => {
    const r = await db.pool.query<{ proname: string; proconfig: string[] | null }>(
      `select p.proname, p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
        where n.nspname = 'public' and p.prosecdef`,
    );
    expect(r.rows.length).toBeGreaterThanOrEqual(2);
    for (const row of r.rows) expect(row.proconfig, row.proname).toContain('search_path=""');
  });

  it('PUBLIC, anon and authenticated can no longer create objects in public', async () => {
    for (const role of ['public', 'anon', 'authenticated']) {
      const r = await db.pool.query<{ ok: boolean }>(
        role === 'public'
          ? `select coalesce(bool_or(a.privilege_type = 'CREATE'), false) as ok from pg_namespace n, aclexplode(n.nspacl) a where n.nspname = 'public' and a.grantee = 0`
          : `select has_schema_privilege('${role}', 'public', 'CREATE') as ok`,
      );
      expect(r.rows[0]!.ok, role).toBe(false);
    }
  });
});

describe('item 7: Supabase privileges and SQL rate limits', () => {
  it('anon and authenticated get no privilege on any table or sequence, even with Supabase default privileges', async () => {
    for (const role of ['anon', 'authenticated']) {
      const tables = await db.pool.query<{ relname: string }>(
        `with t as materialized (
           select c.oid, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind in ('r', 'p'))
         select relname from t where has_table_privilege($1, t.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')`,
        [role],
      );
      expect(tables.rows.map((x) => x.relname), role).toEqual([]);
      const seqs = await db.pool.query<{ relname: string }>(
        `with s as materialized (
           select c.oid, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'S')
         select relname from s where has_sequence_privilege($1, s.oid, 'USAGE,SELECT,UPDATE')`,
        [role],
      );
      expect(seqs.rows.map((x) => x.relname), role).toEqual([]);
      const fns = await db.pool.query<{ sig: string }>(
        `select p.oid::regprocedure::text as sig from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where n.nspname = 'public' and has_function_privilege($1, p.oid, 'EXECUTE') order by 1`,
        [role],
      );
      expect(fns.rows.map((x) => x.sig.replace(/^public\./, '')), role).toEqual(['validate_license(text,text,text)', 'validate_license(text,text,text,text)']);
    }
    await expect(asRole(db.pool, 'anon', (c) => c.query('truncate license_manager_migrations'))).rejects.toThrow(/permission denied/);
    await expect(asRole(db.pool, 'anon', (c) => c.query(`select setval('public.license_validations_id_seq', 9223372036854775807)`))).rejects.toThrow(/permission denied/);
    await expect(asRole(db.pool, 'authenticated', (c) => c.query(`select setval('public.admin_audit_id_seq', 9223372036854775807)`))).rejects.toThrow(/permission denied/);
  });

  it('limits validate_license per caller: a flood writes at most the limit', async () => {
    await db.pool.query('update license_rate_settings set per_caller_per_min = 5, per_key_per_min = 1000');
    try {
      const before = (await db.pool.query<{ n: number }>('select count(*)::int as n from license_validations')).rows[0]!.n;
      const outcomes: string[] = [];
      for (let i = 0; i < 12; i++) {
        try {
          await asRole(db.pool, 'anon', (c) => c.query(`select public.validate_license($1, 'p', '1')`, [`FLD${i % 10}-2345-6789-ABC${i % 3}`]), { 'x-real-ip': '203.0.113.10' });
          outcomes.push('ok');
        } catch (e) {
          outcomes.push((e as { code?: string }).code ?? 'error');
        }
      }
      expect(outcomes).toEqual([...Array(5).fill('ok'), ...Array(7).fill('PT429')]);
      const after = (await db.pool.query<{ n: number }>('select count(*)::int as n from license_validations')).rows[0]!.n;
      expect(after - before).toBe(5);
      // another caller is not affected
      await asRole(db.pool, 'anon', (c) => c.query(`select public.validate_license('OTHR-2345-6789-ABCD', 'p', '1')`), { 'x-real-ip': '203.0.113.11' });
      // cf-connecting-ip (set by the Supabase gateway) names the caller before x-real-ip
      await asRole(db.pool, 'anon', (c) => c.query(`select public.validate_license('OTHR-2345-6789-ABCE', 'p', '1')`), { 'cf-connecting-ip': '203.0.113.12', 'x-real-ip': '203.0.113.10' });
    } finally {
      await db.pool.query('update license_rate_settings set per_caller_per_min = 60, per_key_per_min = 20');
      await db.pool.query('delete from license_rate_buckets');
    }
  });

  it('limits validate_license per key, whoever calls', async () => {
    await db.pool.query('update license_rate_settings set per_key_per_min = 3, per_caller_per_min = 1000');
    try {
      await insertLicense(db.pool, { key: 'KEYL-2345-6789-ABCD', maxMachines: 5 });
      const outcomes: string[] = [];
      for (let i = 0; i < 5; i++) {
        try {
          await asRole(db.pool, 'anon', (c) => c.query(`select public.validate_license('keyl-2345-6789-abcd', 'p', '1')`), { 'x-real-ip': `203.0.113.${20 + i}` });
          outcomes.push('ok');
        } catch (e) {
          outcomes.push((e as { code?: string }).code ?? 'error');
        }
      }
      expect(outcomes).toEqual(['ok', 'ok', 'ok', 'PT429', 'PT429']);
      // the HTTP service's own path (license_check, already limited in the service) is not limited in SQL
      const r = await db.pool.query<{ v: { status: string } }>(`select license_check('KEYL-2345-6789-ABCD', 'p', '1', 'heartbeat') as v`);
      expect(r.rows[0]!.v.status).toBe('valid');
    } finally {
      await db.pool.query('update license_rate_settings set per_caller_per_min = 60, per_key_per_min = 20');
      await db.pool.query('delete from license_rate_buckets');
    }
  });

  it('callers without an address header share one bucket with its own limit', async () => {
    await db.pool.query('update license_rate_settings set unidentified_per_min = 2, per_key_per_min = 1000');
    try {
      const outcomes: string[] = [];
      for (let i = 0; i < 3; i++) {
        try {
          await asRole(db.pool, 'anon', (c) => c.query(`select public.validate_license($1, 'p', '1')`, [`NOIP-2345-6789-ABC${i}`]));
          outcomes.push('ok');
        } catch (e) {
          outcomes.push((e as { code?: string }).code ?? 'error');
        }
      }
      expect(outcomes).toEqual(['ok', 'ok', 'PT429']);
    } finally {
      await db.pool.query('update license_rate_settings set unidentified_per_min = 600, per_key_per_min = 20');
      await db.pool.query('delete from license_rate_buckets');
    }
  });
});

describe('item 8: a seat moves to the new machine id (Supabase entry)', () => {
  it('validate_license with p_previous_machine_id renames the seat instead of taking a second one', async () => {
    const id = await insertLicense(db.pool, { key: 'MOVE-2345-6789-ABCD', maxMachines: 1 });
    const call = (machine: string, previous?: string) =>
      asRole(
        db.pool,
        'anon',
        (c) =>
          previous === undefined
            ? c.query<{ v: { status: string } }>(`select public.validate_license('MOVE-2345-6789-ABCD', $1, '1') as v`, [machine])
            : c.query<{ v: { status: string } }>(`select public.validate_license('MOVE-2345-6789-ABCD', $1, '1', $2) as v`, [machine, previous]),
        { 'x-real-ip': '198.51.100.40' },
      ).then((r) => r.rows[0]!.v.status);
    expect(await call('ancien-poste')).toBe('valid');
    expect(await call('m2-nouveau', 'ancien-poste')).toBe('valid');
    expect(await call('m2-nouveau', 'ancien-poste')).toBe('valid'); // idempotent
    // the previous id no longer holds anything: a copy still carrying it cannot take the seat
    expect(await call('m2-copie', 'ancien-poste')).toBe('machine_limit');
    expect(await call('ancien-poste')).toBe('machine_limit');
    const seats = await db.pool.query('select machine_id, released_at is null as active from license_machines where license_id = $1', [id]);
    expect(seats.rows).toEqual([{ machine_id: 'm2-nouveau', active: true }]);
    const audit = await db.pool.query("select actor, details from admin_audit where license_id = $1 and action = 'poste.migration'", [id]);
    expect(audit.rows).toEqual([{ actor: 'connecteur', details: { from: 'ancien-poste', to: 'm2-nouveau' } }]);
  });
});

describe('the SQL script for the Supabase editor', () => {
  it('applies every migration once, records them, and can be pasted again after an update', async () => {
    const fresh = await createTestDatabase('cbs_test_lic_script');
    try {
      await supabaseDefaults(fresh.pool);
      // an installation made with migration 1 only, then the whole script pasted twice
      await fresh.pool.query(migrationScript(MIGRATIONS.slice(0, 1)));
      await insertLicense(fresh.pool, { key: 'SCRP-2345-6789-ABCD' });
      await fresh.pool.query(migrationScript());
      await fresh.pool.query(migrationScript());
      const v = await fresh.pool.query<{ version: number }>('select version from license_manager_migrations order by version');
      expect(v.rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
      const fns = await fresh.pool.query<{ proname: string; proconfig: string[] | null }>(
        `select p.proname, p.proconfig from pg_proc p join pg_namespace n on n.oid = p.pronamespace where n.nspname = 'public' and p.prosecdef`,
      );
      for (const f of fns.rows) expect(f.proconfig, f.proname).toContain('search_path=""');
      const r = await asRole(fresh.pool, 'anon', (c) => c.query<{ v: { status: string } }>(`select public.validate_license('SCRP-2345-6789-ABCD', 'p', '1') as v`));
      expect(r.rows[0]!.v.status).toBe('valid');
      await expect(asRole(fresh.pool, 'anon', (c) => c.query('truncate license_manager_migrations'))).rejects.toThrow(/permission denied/);
      // and runMigrations agrees: nothing left to apply
      expect(await runMigrations(fresh.pool)).toEqual([]);
    } finally {
      await fresh.drop();
    }
  });
});
