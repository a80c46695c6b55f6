/**
 * Versioned migrations of the buffer database. Applied at start, in order, each in its own transaction,
 * recorded in `schema_migrations`. Never edit a released migration: add a new one.
 * The same SQL runs on PGlite and on PostgreSQL (keep to portable PostgreSQL: no extensions).
 */
import { AppError } from '../../../shared/errors.js';
import type { BufferDb, BufferQueryable } from './db.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
-- One row per Batigest record pushed to BatiSimply (chantier or devis).
CREATE TABLE sync_records (
  kind             text        NOT NULL CHECK (kind IN ('chantier', 'devis')),
  source_code      text        NOT NULL,
  source_name      text,
  source_hash      text        NOT NULL,
  source_modified  timestamptz,
  batisimply_id    text,
  pushed_hash      text,
  pushed_at        timestamptz,
  remote_modified  timestamptz,
  first_seen       timestamptz NOT NULL,
  last_seen        timestamptz NOT NULL,
  last_error       text,
  attempts         integer     NOT NULL DEFAULT 0,
  -- crash safety: an intent is written BEFORE the remote call and cleared by the commit after it.
  intent           text        CHECK (intent IN ('create', 'update')),
  intent_hash      text,
  intent_at        timestamptz,
  PRIMARY KEY (kind, source_code)
);
CREATE INDEX sync_records_bsid ON sync_records (batisimply_id);

-- One row per BatiSimply time slot seen in the window.
CREATE TABLE time_slots (
  slot_id          text        PRIMARY KEY,
  content          text        NOT NULL,
  content_hash     text        NOT NULL,
  status           text        NOT NULL,
  start_utc        timestamptz NOT NULL,
  remote_modified  timestamptz,
  state            text        NOT NULL,
  reason           text,
  attempts         integer     NOT NULL DEFAULT 0,
  first_seen       timestamptz NOT NULL,
  last_seen        timestamptz NOT NULL,
  last_changed     timestamptz NOT NULL
);
CREATE INDEX time_slots_start ON time_slots (start_utc);

-- Slot -> SuiviMO key it contributes to, with its contribution. The SuiviMO row at a key is the
-- aggregate of every slot mapped to it: NbH0 = sum(minutes)/60, NbH3/NbH4 = max of the flags.
CREATE TABLE slot_keys (
  slot_id          text        PRIMARY KEY,
  code_chantier    text        NOT NULL,
  code_salarie     text        NOT NULL,
  day              text        NOT NULL,
  minutes          integer     NOT NULL,
  trajet           smallint    NOT NULL,
  panier           smallint    NOT NULL,
  mapped_at        timestamptz NOT NULL
);
CREATE INDEX slot_keys_key ON slot_keys (code_chantier, code_salarie, day);

-- What the connector last wrote in SuiviMO at each key. dirty = an intent: the row must be
-- (re)computed from slot_keys and written again (set before the Batigest write, cleared after).
CREATE TABLE suivimo_written (
  code_chantier    text        NOT NULL,
  code_salarie     text        NOT NULL,
  day              text        NOT NULL,
  minutes          integer,
  trajet           smallint,
  panier           smallint,
  dirty            boolean     NOT NULL DEFAULT false,
  written_at       timestamptz,
  PRIMARY KEY (code_chantier, code_salarie, day)
);
CREATE INDEX suivimo_written_dirty ON suivimo_written (dirty) WHERE dirty;

-- Employee mapping cache: BatiSimply user -> Batigest salarie (codebs), for the mapping screen and reports.
CREATE TABLE employees (
  batisimply_user_id text      PRIMARY KEY,
  first_name       text,
  last_name        text,
  email            text,
  salarie_code     text,
  salarie_name     text,
  updated_at       timestamptz NOT NULL
);

-- Run journal.
CREATE TABLE runs (
  id               text        PRIMARY KEY,
  seq              integer     GENERATED ALWAYS AS IDENTITY,
  flow             text        NOT NULL CHECK (flow IN ('push', 'hours')),
  machine          text        NOT NULL,
  trigger          text        NOT NULL DEFAULT 'manual',
  started_at       timestamptz NOT NULL,
  ended_at         timestamptz,
  status           text        NOT NULL CHECK (status IN ('running', 'succeeded', 'partial', 'failed', 'cancelled', 'interrupted')),
  created          integer     NOT NULL DEFAULT 0,
  updated          integer     NOT NULL DEFAULT 0,
  unchanged        integer     NOT NULL DEFAULT 0,
  skipped          integer     NOT NULL DEFAULT 0,
  failed           integer     NOT NULL DEFAULT 0,
  conflicts        integer     NOT NULL DEFAULT 0,
  writes           integer     NOT NULL DEFAULT 0,
  error_code       text,
  message          text
);
CREATE INDEX runs_started ON runs (started_at DESC);

CREATE TABLE run_items (
  id               integer     GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  run_id           text        NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  record_key       text        NOT NULL,
  action           text        NOT NULL,
  reason           text,
  at               timestamptz NOT NULL
);
CREATE INDEX run_items_run ON run_items (run_id);

-- Multi-PC lock: one holder per flow; a lease that is not renewed expires and can be taken over.
CREATE TABLE leases (
  flow             text        PRIMARY KEY,
  holder           text        NOT NULL,
  machine          text        NOT NULL,
  run_id           text,
  acquired_at      timestamptz NOT NULL,
  expires_at       timestamptz NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'runs.mode',
    sql: `
-- Mode of a push run (chantier / devis) as it was when the run started; NULL for hours runs and older runs.
ALTER TABLE runs ADD COLUMN mode text NULL;
`,
  },
  {
    version: 3,
    name: 'runs.job_id and maintenance log',
    sql: `
-- (IF NOT EXISTS: a buffer whose migration table was reset re-applies it without failing.)
-- The job a run belongs to: the push and hours runs of one « Tout synchroniser » share it (NULL: one flow).
ALTER TABLE runs ADD COLUMN IF NOT EXISTS job_id text NULL;
CREATE INDEX IF NOT EXISTS runs_job ON runs (job_id);

-- Maintenance actions (Réglages › Maintenance, CLI): what was done, on which PC, when.
CREATE TABLE IF NOT EXISTS maintenance_log (
  id               text        PRIMARY KEY,
  seq              integer     GENERATED ALWAYS AS IDENTITY,
  at               timestamptz NOT NULL,
  machine          text        NOT NULL,
  action           text        NOT NULL CHECK (action IN ('verify', 'recompare', 'purge', 'forget')),
  flow             text,
  outcome          text        NOT NULL CHECK (outcome IN ('ok', 'warning', 'failed')),
  message          text        NOT NULL
);
CREATE INDEX IF NOT EXISTS maintenance_log_at ON maintenance_log (at DESC);
`,
  },
  {
    version: 4,
    name: 'runs.flow open to new flows',
    sql: `
-- The runs table journals every flow (push, hours, and the flows added since): the list of names lives in the
-- code (FlowName); the buffer only keeps the name well-formed.
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_flow_check;
ALTER TABLE runs DROP CONSTRAINT IF EXISTS runs_flow_name;
ALTER TABLE runs ADD CONSTRAINT runs_flow_name CHECK (flow ~ '^[a-z][a-z-]{1,31}$');
`,
  },
  {
    version: 5,
    name: 'chantier life: deleted in Batigest, fields last pushed',
    sql: `
-- Issue 18. When a chantier pushed to BatiSimply was found missing from ChantierDef (reported once, NULL again if it
-- comes back), and the values of the fields BatiSimply may change in Batigest as last pushed (JSON), so the
-- chantiers-back flow can tell which side changed a field.
ALTER TABLE sync_records ADD COLUMN IF NOT EXISTS source_deleted_at timestamptz NULL;
ALTER TABLE sync_records ADD COLUMN IF NOT EXISTS pushed_fields text NULL;
`,
  },
  {
    version: 6,
    name: 'import agent: one row per export',
    sql: `
-- The import agent (flow 'imports', seed 003): the state of each export of the exports API, so that a kill at any
-- step is resumed without a second copy into Batigest's import folder and without marking an export synced that
-- Batigest did not consume (services/sync/flows/imports/, docs/crash-safety.md).
CREATE TABLE IF NOT EXISTS import_exports (
  export_id        text        PRIMARY KEY,
  -- The agent (PC) that works on it: its files are in that PC's folders, so only that PC resumes it.
  agent_id         text        NOT NULL DEFAULT '',
  doc_type         text        NULL,
  file_name        text        NOT NULL,
  import_name      text        NOT NULL,
  size             bigint      NULL,
  checksum         text        NULL,
  state            text        NOT NULL CHECK (state IN ('seen', 'downloaded', 'staged', 'handing', 'handed', 'withdrawing', 'consumed', 'failing', 'synced', 'errored')),
  reason           text        NULL,
  attempts         integer     NOT NULL DEFAULT 0,
  first_seen       timestamptz NOT NULL,
  updated_at       timestamptz NOT NULL,
  handed_at        timestamptz NULL,
  done_at          timestamptz NULL,
  run_id           text        NULL
);
CREATE INDEX IF NOT EXISTS import_exports_state ON import_exports (agent_id, state);
CREATE INDEX IF NOT EXISTS import_exports_done ON import_exports (done_at DESC);
`,
  },
  {
    version: 7,
    name: 'lease generation (fencing) and the PCs of the buffer',
    sql: `
-- Fencing token: each acquisition of a flow's lease takes a new number from this sequence (never reused, even after
-- the row is deleted at release). Every write of a run checks, in its own transaction, that the lease row still
-- carries the number the run acquired: a PC that lost its lease (frozen past the expiry) cannot write any more.
CREATE SEQUENCE IF NOT EXISTS lease_generation;
ALTER TABLE leases ADD COLUMN IF NOT EXISTS generation bigint NOT NULL DEFAULT nextval('lease_generation');

-- Every PC (connector installation) seen on this buffer: its heartbeat and version. What it holds or ran last comes
-- from the leases and the journal (by its name).
CREATE TABLE IF NOT EXISTS machines (
  machine_id       text        PRIMARY KEY,
  name             text        NOT NULL,
  app_version      text        NOT NULL,
  schema_version   integer     NOT NULL,
  first_seen       timestamptz NOT NULL,
  last_heartbeat   timestamptz NOT NULL,
  heartbeat_ms     integer     NOT NULL
);
`,
  },
];

/** The schema version this build of the connector brings (the highest migration). */
export const LATEST_BUFFER_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * Refuses a buffer migrated by a newer connector (another PC updated first): this PC would write with rules it
 * does not know (e.g. without the fencing of a newer version). The user updates this PC.
 */
export async function assertSchemaKnown(db: BufferQueryable): Promise<number> {
  const rows = await db.query<{ v: number | null }>('SELECT max(version)::int AS v FROM schema_migrations');
  const v = Number(rows[0]?.v ?? 0);
  if (v > LATEST_BUFFER_VERSION) {
    throw new AppError(
      'BUFFER_SCHEMA_NEWER',
      `La base tampon partagée a été mise à jour par un poste plus récent (version ${v} de la base, ce poste connaît la version ${LATEST_BUFFER_VERSION}) : mettez à jour ce poste (Réglages › Mises à jour) avant de le relancer. Les autres postes continuent de synchroniser.`,
      { detail: `buffer schema ${v} > known ${LATEST_BUFFER_VERSION}` },
    );
  }
  return v;
}

/** Applies the missing migrations. Safe when several PCs start at once (advisory lock on PostgreSQL). */
export async function migrate(db: BufferDb): Promise<number[]> {
  // Under the same lock as the migrations: PCs starting at once on a new buffer would otherwise race on
  // CREATE TABLE IF NOT EXISTS (PostgreSQL answers 23505 on pg_type to the loser).
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(715017)');
    await tx.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  });
  await assertSchemaKnown(db);
  const applied: number[] = [];
  for (const m of MIGRATIONS) {
    const done = await db.transaction(async (tx) => {
      // Serialises concurrent starts sharing one remote buffer; released at COMMIT.
      await tx.query('SELECT pg_advisory_xact_lock(715017)');
      const rows = await tx.query<{ version: number }>('SELECT version FROM schema_migrations WHERE version = $1', [m.version]);
      if (rows.length > 0) return false;
      for (const stmt of splitStatements(m.sql)) await tx.query(stmt);
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** Splits a migration script on `;` at line ends (migrations contain no procedural code). */
function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((s) => s.replace(/^\s*--.*$/gm, '').trim())
    .filter((s) => s.length > 0);
}
