/**
 * Versioned SQL migrations of the licence manager. Plain PostgreSQL (13+) that also runs on
 * Supabase: paste them in order in the SQL editor, or let `runMigrations` apply them.
 *
 * Security model:
 *  - every table has row-level security ENABLED and no policy: roles such as Supabase's `anon` and
 *    `authenticated` see nothing even if default privileges granted them the table;
 *  - privileges on the tables are also revoked from PUBLIC/anon/authenticated;
 *  - `validate_license(p_key, p_machine_id, p_app_version)` is a SECURITY DEFINER function with a
 *    fixed search_path: the only thing the anon key can do;
 *  - `license_check(…, p_kind)` (used by the HTTP service for heartbeats) is NOT granted to anon.
 */
import type pg from 'pg';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'licences, postes, historique, audit',
    sql: `
create table if not exists licenses (
  id uuid primary key default gen_random_uuid(),
  key text not null unique check (key ~ '^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$'),
  client_name text not null check (length(client_name) between 1 and 300),
  email text check (email is null or length(email) <= 320),
  expires_at timestamptz not null,
  active boolean not null default true,
  usage_limit integer check (usage_limit is null or usage_limit >= 0),
  usage_count integer not null default 0,
  features jsonb not null default '{}'::jsonb,
  max_machines integer not null default 1 check (max_machines >= 1),
  notes text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_validated_at timestamptz
);
create index if not exists licenses_expires_at_idx on licenses (expires_at);

create table if not exists license_machines (
  id uuid primary key default gen_random_uuid(),
  license_id uuid not null references licenses(id) on delete cascade,
  machine_id text not null check (length(machine_id) between 1 and 128),
  app_version text,
  activated_at timestamptz not null default now(),
  last_seen_at timestamptz not null default now(),
  released_at timestamptz,
  unique (license_id, machine_id)
);

create table if not exists license_validations (
  id bigint generated always as identity primary key,
  license_id uuid references licenses(id) on delete cascade,
  machine_id text,
  app_version text,
  kind text not null default 'validate' check (kind in ('validate', 'heartbeat')),
  status text not null,
  created_at timestamptz not null default now()
);
create index if not exists license_validations_license_idx on license_validations (license_id, created_at desc);

create table if not exists admin_audit (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor text not null,
  action text not null,
  license_id uuid references licenses(id) on delete set null,
  details jsonb not null default '{}'::jsonb,
  ip text
);
create index if not exists admin_audit_license_idx on admin_audit (license_id, at desc);

alter table licenses enable row level security;
alter table license_machines enable row level security;
alter table license_validations enable row level security;
alter table admin_audit enable row level security;

revoke all on licenses, license_machines, license_validations, admin_audit from public;

create or replace function license_check(p_key text, p_machine_id text, p_app_version text, p_kind text)
returns jsonb
language plpgsql
security definer
set search_path = pg_catalog, public, pg_temp
as $fn$
declare
  v_key text := upper(coalesce(p_key, ''));
  v_machine text := left(coalesce(p_machine_id, ''), 128);
  v_version text := left(coalesce(p_app_version, ''), 64);
  v_kind text := case when p_kind = 'heartbeat' then 'heartbeat' else 'validate' end;
  v_lic public.licenses%rowtype;
  v_status text;
  v_active_machines integer;
  v_known_machine boolean;
begin
  if v_key ~ '^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$' and length(v_machine) > 0 then
    select * into v_lic from public.licenses where key = v_key for update;
  end if;

  if v_lic.id is null then
    insert into public.license_validations (license_id, machine_id, app_version, kind, status)
    values (null, nullif(v_machine, ''), nullif(v_version, ''), v_kind, 'invalid');
    return jsonb_build_object(
      'status', 'invalid', 'client_name', null, 'expires_at', null,
      'features', '{}'::jsonb, 'max_machines', null, 'machine_id', v_machine);
  end if;

  if not v_lic.active then
    v_status := 'deactivated';
  elsif v_lic.expires_at <= now() then
    v_status := 'expired';
  elsif v_lic.usage_limit is not null and v_lic.usage_count >= v_lic.usage_limit then
    v_status := 'deactivated';
  else
    select exists (
      select 1 from public.license_machines
      where license_id = v_lic.id and machine_id = v_machine and released_at is null
    ) into v_known_machine;
    if v_known_machine then
      v_status := 'valid';
    else
      select count(*) into v_active_machines from public.license_machines
      where license_id = v_lic.id and released_at is null;
      if v_active_machines >= v_lic.max_machines then
        v_status := 'machine_limit';
      else
        v_status := 'valid';
      end if;
    end if;
  end if;

  if v_status = 'valid' then
    insert into public.license_machines (license_id, machine_id, app_version)
    values (v_lic.id, v_machine, nullif(v_version, ''))
    on conflict (license_id, machine_id) do update
      set last_seen_at = now(),
          app_version = excluded.app_version,
          activated_at = case when public.license_machines.released_at is null
                              then public.license_machines.activated_at else now() end,
          released_at = null;
    update public.licenses
       set usage_count = usage_count + 1, last_validated_at = now()
     where id = v_lic.id;
  end if;

  insert into public.license_validations (license_id, machine_id, app_version, kind, status)
  values (v_lic.id, v_machine, nullif(v_version, ''), v_kind, v_status);

  return jsonb_build_object(
    'status', v_status,
    'client_name', v_lic.client_name,
    'expires_at', to_char(v_lic.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'features', v_lic.features,
    'max_machines', v_lic.max_machines,
    'machine_id', v_machine);
end;
$fn$;

create or replace function validate_license(p_key text, p_machine_id text, p_app_version text)
returns jsonb
language sql
security definer
set search_path = pg_catalog, public, pg_temp
as $fn$
  select public.license_check(p_key, p_machine_id, p_app_version, 'validate');
$fn$;

revoke all on function license_check(text, text, text, text) from public;
revoke all on function validate_license(text, text, text) from public;

do $grants$
declare r text;
begin
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_roles where rolname = r) then
      execute format('revoke all on licenses, license_machines, license_validations, admin_audit from %I', r);
      execute format('revoke all on function license_check(text, text, text, text) from %I', r);
      execute format('grant execute on function validate_license(text, text, text) to %I', r);
    end if;
  end loop;
end
$grants$;
`,
  },
];

/** Applies the pending migrations, each in its own transaction, under an advisory lock. */
export async function runMigrations(pool: pg.Pool): Promise<number[]> {
  const client = await pool.connect();
  const applied: number[] = [];
  try {
    await client.query('select pg_advisory_lock(7264001)');
    await client.query(
      `create table if not exists license_manager_migrations (
         version integer primary key, name text not null, applied_at timestamptz not null default now())`,
    );
    await client.query('alter table license_manager_migrations enable row level security');
    const done = await client.query<{ version: number }>('select version from license_manager_migrations');
    const have = new Set(done.rows.map((r) => r.version));
    for (const m of MIGRATIONS) {
      if (have.has(m.version)) continue;
      await client.query('begin');
      try {
        await client.query(m.sql);
        await client.query('insert into license_manager_migrations (version, name) values ($1, $2)', [m.version, m.name]);
        await client.query('commit');
        applied.push(m.version);
      } catch (e) {
        await client.query('rollback');
        throw e;
      }
    }
  } finally {
    try {
      await client.query('select pg_advisory_unlock(7264001)');
    } finally {
      client.release();
    }
  }
  return applied;
}
