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
 *
 * Migration 2 (issue 16): every SECURITY DEFINER function runs with `search_path = ''` (bodies
 * schema-qualified: an object created in `public` by another role can no longer be picked up by
 * name resolution), CREATE on `public` is revoked from PUBLIC/anon/authenticated, the migrations
 * table and the sequences are revoked too (Supabase's default privileges grant them), the anon entry
 * `validate_license` is rate-limited per caller and per key (`license_rate_settings`), and a seat
 * bound to a connector's previous machine id moves to its new one (`p_previous_machine_id`).
 *
 * Rule for later migrations: on Supabase, `alter default privileges` gives anon/authenticated every
 * new table, sequence and function; each migration revokes what it creates.
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
  {
    version: 2,
    name: 'search_path vide, privilèges Supabase retirés, limites de débit SQL, migration de poste',
    sql: `
revoke create on schema public from public;

create table if not exists public.license_rate_settings (
  id boolean primary key default true check (id),
  per_key_per_min integer not null default 20 check (per_key_per_min >= 1),
  per_caller_per_min integer not null default 60 check (per_caller_per_min >= 1),
  unidentified_per_min integer not null default 600 check (unidentified_per_min >= 1)
);
insert into public.license_rate_settings (id) values (true) on conflict (id) do nothing;

create table if not exists public.license_rate_buckets (
  bucket text primary key,
  window_start timestamptz not null,
  hits integer not null
);

alter table public.license_rate_settings enable row level security;
alter table public.license_rate_buckets enable row level security;
revoke all on public.license_rate_settings, public.license_rate_buckets from public;

drop function if exists public.license_check(text, text, text, text);

create or replace function public.license_check(p_key text, p_machine_id text, p_app_version text, p_kind text, p_previous_machine_id text default null)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $fn$
declare
  v_key text := pg_catalog.upper(coalesce(p_key, ''));
  v_machine text := pg_catalog.left(coalesce(p_machine_id, ''), 128);
  v_previous text := pg_catalog.left(coalesce(p_previous_machine_id, ''), 128);
  v_version text := pg_catalog.left(coalesce(p_app_version, ''), 64);
  v_kind text := case when p_kind = 'heartbeat' then 'heartbeat' else 'validate' end;
  v_lic public.licenses%rowtype;
  v_status text;
  v_active_machines integer;
  v_known_machine boolean;
begin
  if v_key operator(pg_catalog.~) '^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$' and pg_catalog.length(v_machine) > 0 then
    select * into v_lic from public.licenses where key = v_key for update;
  end if;

  if v_lic.id is null then
    insert into public.license_validations (license_id, machine_id, app_version, kind, status)
    values (null, nullif(v_machine, ''), nullif(v_version, ''), v_kind, 'invalid');
    return pg_catalog.jsonb_build_object(
      'status', 'invalid', 'client_name', null, 'expires_at', null,
      'features', '{}'::jsonb, 'max_machines', null, 'machine_id', v_machine);
  end if;

  if not v_lic.active then
    v_status := 'deactivated';
  elsif v_lic.expires_at <= pg_catalog.now() then
    v_status := 'expired';
  elsif v_lic.usage_limit is not null and v_lic.usage_count >= v_lic.usage_limit then
    v_status := 'deactivated';
  else
    select exists (
      select 1 from public.license_machines
      where license_id = v_lic.id and machine_id = v_machine and released_at is null
    ) into v_known_machine;
    -- A connector whose machine id changed (new binding scheme) names its previous id once: the
    -- seat it held is renamed, so the move never needs a second seat and never loses the first.
    if not v_known_machine and v_previous <> '' and v_previous <> v_machine then
      delete from public.license_machines
       where license_id = v_lic.id and machine_id = v_machine and released_at is not null;
      update public.license_machines
         set machine_id = v_machine, last_seen_at = pg_catalog.now()
       where license_id = v_lic.id and machine_id = v_previous and released_at is null;
      if found then
        v_known_machine := true;
        insert into public.admin_audit (actor, action, license_id, details, ip)
        values ('connecteur', 'poste.migration', v_lic.id, pg_catalog.jsonb_build_object('from', v_previous, 'to', v_machine), null);
      end if;
    end if;
    if v_known_machine then
      v_status := 'valid';
    else
      select pg_catalog.count(*) into v_active_machines from public.license_machines
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
      set last_seen_at = pg_catalog.now(),
          app_version = excluded.app_version,
          activated_at = case when public.license_machines.released_at is null
                              then public.license_machines.activated_at else pg_catalog.now() end,
          released_at = null;
    update public.licenses
       set usage_count = usage_count + 1, last_validated_at = pg_catalog.now()
     where id = v_lic.id;
  end if;

  insert into public.license_validations (license_id, machine_id, app_version, kind, status)
  values (v_lic.id, v_machine, nullif(v_version, ''), v_kind, v_status);

  return pg_catalog.jsonb_build_object(
    'status', v_status,
    'client_name', v_lic.client_name,
    'expires_at', pg_catalog.to_char(v_lic.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'features', v_lic.features,
    'max_machines', v_lic.max_machines,
    'machine_id', v_machine);
end;
$fn$;

-- One hit in a one-minute fixed window; returns the hits of the window (this one included).
create or replace function public.license_rate_hit(p_bucket text)
returns integer
language plpgsql
security invoker
set search_path = ''
as $fn$
declare
  v_hits integer;
begin
  insert into public.license_rate_buckets as b (bucket, window_start, hits)
  values (p_bucket, pg_catalog.now(), 1)
  on conflict (bucket) do update
    set hits = case when b.window_start <= pg_catalog.now() - interval '1 minute' then 1 else b.hits + 1 end,
        window_start = case when b.window_start <= pg_catalog.now() - interval '1 minute' then pg_catalog.now() else b.window_start end
  returning hits into v_hits;
  return v_hits;
end;
$fn$;

-- Limits of the anon entry: per caller (address set by the Supabase gateway: cf-connecting-ip, then
-- x-real-ip; never X-Forwarded-For, whose first entry the client writes), then per key. Over the
-- limit: SQLSTATE PT429, which PostgREST answers as HTTP 429. The raise rolls the call back, so a
-- refused call writes nothing.
create or replace function public.license_rate_check(p_key text)
returns void
language plpgsql
security definer
set search_path = ''
as $fn$
declare
  v_settings public.license_rate_settings%rowtype;
  v_headers jsonb;
  v_ip text;
  v_bucket text;
  v_limit integer;
begin
  select * into v_settings from public.license_rate_settings where id;
  begin
    v_headers := nullif(pg_catalog.current_setting('request.headers', true), '')::jsonb;
  exception when others then
    v_headers := null;
  end;
  if pg_catalog.jsonb_typeof(v_headers) is distinct from 'object' then
    v_headers := null;
  end if;
  v_ip := pg_catalog.left(coalesce(nullif(pg_catalog.btrim(v_headers ->> 'cf-connecting-ip'), ''), nullif(pg_catalog.btrim(v_headers ->> 'x-real-ip'), '')), 64);
  if v_ip is null then
    v_bucket := 'appelant:inconnu';
    v_limit := coalesce(v_settings.unidentified_per_min, 600);
  else
    v_bucket := 'appelant:' || pg_catalog.lower(v_ip);
    v_limit := coalesce(v_settings.per_caller_per_min, 60);
  end if;
  if public.license_rate_hit(v_bucket) > v_limit then
    raise exception using errcode = 'PT429', message = 'Trop de validations de licence depuis ce poste : réessayez dans une minute.';
  end if;
  v_bucket := 'cle:' || pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(pg_catalog.upper(coalesce(p_key, '')), 'UTF8')), 'hex');
  if public.license_rate_hit(v_bucket) > coalesce(v_settings.per_key_per_min, 20) then
    raise exception using errcode = 'PT429', message = 'Trop de validations pour cette clé de licence : réessayez dans une minute.';
  end if;
  if pg_catalog.random() < 0.01 then
    delete from public.license_rate_buckets where window_start < pg_catalog.now() - interval '10 minutes';
  end if;
end;
$fn$;

create or replace function public.validate_license(p_key text, p_machine_id text, p_app_version text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $fn$
begin
  perform public.license_rate_check(p_key);
  return public.license_check(p_key, p_machine_id, p_app_version, 'validate', null);
end;
$fn$;

create or replace function public.validate_license(p_key text, p_machine_id text, p_app_version text, p_previous_machine_id text)
returns jsonb
language plpgsql
security definer
set search_path = ''
as $fn$
begin
  perform public.license_rate_check(p_key);
  return public.license_check(p_key, p_machine_id, p_app_version, 'validate', p_previous_machine_id);
end;
$fn$;

revoke all on function public.license_check(text, text, text, text, text) from public;
revoke all on function public.license_rate_hit(text) from public;
revoke all on function public.license_rate_check(text) from public;
revoke all on function public.validate_license(text, text, text) from public;
revoke all on function public.validate_license(text, text, text, text) from public;
revoke all on sequence public.license_validations_id_seq, public.admin_audit_id_seq from public;

do $grants$
declare r text;
begin
  if pg_catalog.to_regclass('public.license_manager_migrations') is not null then
    execute 'revoke all on public.license_manager_migrations from public';
  end if;
  foreach r in array array['anon', 'authenticated'] loop
    if exists (select 1 from pg_catalog.pg_roles where rolname = r) then
      execute pg_catalog.format('revoke create on schema public from %I', r);
      execute pg_catalog.format('revoke all on public.licenses, public.license_machines, public.license_validations, public.admin_audit, public.license_rate_settings, public.license_rate_buckets from %I', r);
      if pg_catalog.to_regclass('public.license_manager_migrations') is not null then
        execute pg_catalog.format('revoke all on public.license_manager_migrations from %I', r);
      end if;
      execute pg_catalog.format('revoke all on sequence public.license_validations_id_seq, public.admin_audit_id_seq from %I', r);
      execute pg_catalog.format('revoke all on function public.license_check(text, text, text, text, text) from %I', r);
      execute pg_catalog.format('revoke all on function public.license_rate_hit(text) from %I', r);
      execute pg_catalog.format('revoke all on function public.license_rate_check(text) from %I', r);
      execute pg_catalog.format('grant execute on function public.validate_license(text, text, text) to %I', r);
      execute pg_catalog.format('grant execute on function public.validate_license(text, text, text, text) to %I', r);
    end if;
  end loop;
end
$grants$;
`,
  },
];

/**
 * The migrations as one SQL script for the Supabase SQL editor (`npm run license-manager -- sql`). It
 * records the versions in `license_manager_migrations` like `runMigrations` and skips those already
 * applied, so the whole script can be pasted again after an update (migration 1 run again over
 * migration 2 would not be valid).
 */
export function migrationScript(migrations: readonly Migration[] = MIGRATIONS): string {
  const parts = [
    `create table if not exists public.license_manager_migrations (
  version integer primary key, name text not null, applied_at timestamptz not null default now());
alter table public.license_manager_migrations enable row level security;`,
  ];
  for (const m of migrations) {
    const tag = `$migration_${m.version}$`;
    if (m.sql.includes(tag) || m.sql.includes('$apply$')) throw new Error(`migration ${m.version}: its SQL uses a dollar-quote tag of the script`);
    parts.push(`-- migration ${m.version} : ${m.name}
do $apply$
begin
  if not exists (select 1 from public.license_manager_migrations where version = ${m.version}) then
    execute ${tag}${m.sql}${tag};
    insert into public.license_manager_migrations (version, name) values (${m.version}, ${quoteLiteral(m.name)});
  end if;
end
$apply$;`);
  }
  return `${parts.join('\n\n')}\n`;
}

function quoteLiteral(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

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
