/**
 * THE IPC contract between the main process and the renderer.
 *
 * Every channel is declared once here with a zod schema for its input and its output. The main side
 * (src/main/ipc) validates every input and every output against these schemas; the renderer
 * (src/renderer/api.ts) gets a typed `invoke` and typed event subscriptions from the same object.
 * Nothing untyped crosses the boundary: no z.any / z.unknown in this file.
 *
 * Conventions:
 *  - channel names are `area.verb` (`sync.run`); push events are `area:noun` (`sync:progress`);
 *  - dates are ISO-8601 strings (UTC, `…Z`), days are `YYYY-MM-DD`;
 *  - every user-facing text (`message`, `reason`, `label`) is French;
 *  - a failed call yields `{ ok: false, error: { code, message } }` (see `Result`), never raw exception text.
 */
import { z } from 'zod';
import { errorCodeSchema, type SerializedError } from './errors.js';
import { connectionDiagnosisSchema, progressEventSchema, salarieSchema, syncFlowSchema } from './domain.js';
import {
  chantierEtatRoleSchema,
  SECRET_PATHS,
  scheduleSettingsSchema,
  secretMetaOf,
  settingsSchema,
  softwareSchema,
  syncModeSchema,
  type IsSecret,
  type Settings,
} from './settings.js';

// ---------------------------------------------------------------------------------------------
// The tiny framework
// ---------------------------------------------------------------------------------------------

export interface ChannelDef<I extends z.ZodType = z.ZodType, O extends z.ZodType = z.ZodType> {
  readonly input: I;
  readonly output: O;
  /** One line for the reader (and the README's channel list). */
  readonly description?: string;
}

export function defineChannel<I extends z.ZodType, O extends z.ZodType>(def: {
  input: I;
  output: O;
  description?: string;
}): ChannelDef<I, O> {
  return def;
}

/** A channel without input: the caller may pass nothing (or `{}`). */
export const noInput = z.object({}).strict().optional();

/** The result of every call, as the renderer receives it. */
export type Result<T> = { ok: true; value: T } | { ok: false; error: SerializedError };
export const resultSchema = <T extends z.ZodType>(value: T) =>
  z.discriminatedUnion('ok', [
    z.object({ ok: z.literal(true), value }),
    z.object({ ok: z.literal(false), error: z.object({ code: errorCodeSchema, message: z.string() }) }),
  ]);

// ---------------------------------------------------------------------------------------------
// Shared pieces
// ---------------------------------------------------------------------------------------------

const isoDateTime = z.string().min(1).max(40);
const isoDay = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'Date attendue au format AAAA-MM-JJ');

/** How a secret field looks in what the renderer receives. */
export const secretViewSchema = z.object({ set: z.boolean() }).strict();
export type SecretView = z.infer<typeof secretViewSchema>;

/** How the renderer changes a secret field: a new value, keep the stored one, or clear it. */
export const secretInputSchema = z.union([
  z.string().max(4096),
  z.object({ keep: z.literal(true) }).strict(),
  z.object({ clear: z.literal(true) }).strict(),
]);
export type SecretInput = z.infer<typeof secretInputSchema>;

// --- settings as the renderer sees them (secrets replaced by { set }) ------------------------

/** A settings type with every `Secret` field replaced by its view `{ set }` (derived from the mark). */
export type Masked<T> = {
  [K in keyof T]: IsSecret<T[K]> extends true ? SecretView : T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Masked<T[K]> : T[K];
};
export type SettingsView = Masked<Settings>;

/** The schema of the view: every marked secret field replaced by `secretViewSchema`. */
function viewOf(schema: z.ZodType): z.ZodType {
  if (secretMetaOf(schema)) return secretViewSchema;
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodObject)) return schema;
  const shape: Record<string, z.ZodType> = {};
  let changed = false;
  for (const [k, v] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
    shape[k] = viewOf(v);
    changed ||= shape[k] !== v;
  }
  return changed ? inner.extend(shape) : schema;
}
export const settingsViewSchema = viewOf(settingsSchema) as unknown as z.ZodType<SettingsView, SettingsView>;

// --- settings patch (deep partial; records replaced whole; secrets as SecretInput) -----------

/** A deep-partial patch of a settings type, every `Secret` field taking a `SecretInput` (derived from the mark). */
export type Patch<T> = {
  [K in keyof T]?: IsSecret<T[K]> extends true ? SecretInput : T[K] extends readonly unknown[] ? T[K] : T[K] extends object ? Patch<T[K]> : T[K];
};
/** What settings.update accepts: the `sqlServer.columnOverrides` tables are replaced whole when given. */
export type SettingsPatch = Patch<Omit<Settings, 'version'>>;

/**
 * Builds a patch schema from an object schema: every field optional, defaults removed (a missing
 * field means "unchanged", never "reset to default"), nested objects patched recursively, unknown
 * keys refused, and the fields at `secretPaths` replaced by `secretInputSchema`.
 */
function patchOf(schema: z.ZodObject, secretPaths: readonly string[], prefix = ''): z.ZodObject {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const path = prefix ? `${prefix}.${key}` : key;
    let inner: z.ZodType = field;
    while (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
    if (secretPaths.includes(path)) shape[key] = secretInputSchema.optional();
    else if (inner instanceof z.ZodObject && path !== 'sqlServer.columnOverrides') {
      shape[key] = patchOf(inner, secretPaths, path).optional();
    } else if (path === 'sqlServer.columnOverrides' && inner instanceof z.ZodObject) {
      const o: Record<string, z.ZodType> = {};
      for (const [t, rec] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
        let r: z.ZodType = rec;
        while (r instanceof z.ZodDefault) r = r.unwrap() as z.ZodType;
        o[t] = r.optional();
      }
      shape[key] = z.object(o).strict().optional();
    } else shape[key] = inner.optional();
  }
  return z.object(shape).strict();
}

// `protection` is not patchable from the renderer: the PIN goes through protection.set / protection.clear.
const settingsPatchObject = patchOf(settingsSchema.omit({ version: true, protection: true }), SECRET_PATHS);
export const settingsPatchSchema = settingsPatchObject as unknown as z.ZodType<SettingsPatch, SettingsPatch>;

/** The patch schema of one section (already optional). */
export function sectionPatchSchema<K extends keyof SettingsPatch>(key: K) {
  return (settingsPatchObject.shape as Record<string, z.ZodType>)[key] as unknown as z.ZodType<
    SettingsPatch[K] | undefined,
    SettingsPatch[K] | undefined
  >;
}

/**
 * Input of the "Tester la connexion" channels: optional values typed in the wizard but not saved
 * yet, laid over the stored settings for this test only.
 */
const sectionOverride = <K extends keyof SettingsPatch>(key: K) =>
  z.object({ override: sectionPatchSchema(key) }).strict().optional();

/** The import agent's page / dashboard card (imports.status). */
export const importsViewSchema = z.object({
  enabled: z.boolean(),
  /** The agent id sent to the API (the setting, or the one generated for this machine). */
  agentId: z.string(),
  /** The id generated for this machine (shown as the field's placeholder). */
  defaultAgentId: z.string(),
  /** The work folder in use (the setting, or `imports` in the data folder). */
  workDir: z.string(),
  importPath: z.string(),
  pending: z.number().int().min(0),
  importedToday: z.number().int().min(0),
  errored: z.array(z.object({ exportId: z.string(), fileName: z.string(), reason: z.string(), at: isoDateTime.nullable() })).max(50),
  erroredTotal: z.number().int().min(0),
  lastRun: z.lazy(() => runSummarySchema).nullable(),
  /** Next cycle of the import agent when its schedule is on. */
  nextRunAt: isoDateTime.nullable(),
  /** The buffer could not be read (French), null otherwise. */
  error: z.string().nullable(),
});
export type ImportsView = z.infer<typeof importsViewSchema>;

export const noticeSchema = z.object({
  id: z.string(),
  level: z.enum(['info', 'warning', 'error']),
  code: errorCodeSchema.nullable(),
  /** French sentence: what happened and what to do. */
  message: z.string(),
  at: isoDateTime,
});
export type Notice = z.infer<typeof noticeSchema>;

// --- app ---------------------------------------------------------------------------------------

export const appInfoSchema = z.object({
  productName: z.string(),
  version: z.string(),
  /** Name of this PC as shown in the journal. */
  machineName: z.string(),
  software: softwareSchema,
  /** 'Sage Batigest' or 'Codial': use it in every label that names the software. */
  softwareLabel: z.string(),
  mode: syncModeSchema,
  setupCompleted: z.boolean(),
  /** How the UI is hosted: the Electron window, or a browser through the development web bridge. */
  host: z.enum(['electron', 'bridge', 'headless']),
  platform: z.string(),
  userDataDir: z.string(),
  logDir: z.string(),
});
export type AppInfo = z.infer<typeof appInfoSchema>;

// --- connections -------------------------------------------------------------------------------

export const columnTableSchema = z.enum(['chantier', 'devis', 'salarie']);
export type ColumnTable = z.infer<typeof columnTableSchema>;

/** Réglages › Chantiers: what the chosen settings would do with the company's chantiers, before the first run. */
export const chantiersPreviewSchema = z.object({
  total: z.number().int(),
  inScope: z.number().int(),
  scopeMonths: z.number().int(),
  byRole: z.object({ open: z.number().int(), finished: z.number().int(), closed: z.number().int(), ignored: z.number().int() }),
  /** Distinct Etat values with their counts, the meaning guessed and the one used. */
  etats: z.array(z.object({ value: z.string(), count: z.number().int(), detected: chantierEtatRoleSchema, role: chantierEtatRoleSchema })),
  /** The Devis column linking a devis to its chantier. */
  devisLink: z.object({ detected: z.string().nullable(), effective: z.string().nullable(), candidates: z.array(z.string()) }),
  /** Why the devis hours cannot be read (French), null when they can. */
  devisHoursError: z.string().nullable(),
  /** A few chantiers in scope: sold hours from each source. */
  samples: z.array(z.object({ code: z.string(), name: z.string(), fromChantier: z.number().nullable(), fromDevis: z.number().nullable() })),
  /** The project name of the first chantier in scope by each source. */
  nameExamples: z.object({ libelle: z.string().nullable(), client: z.string().nullable(), codeLibelle: z.string().nullable() }),
});
export type ChantiersPreview = z.infer<typeof chantiersPreviewSchema>;

export const detectedTableSchema = z.object({
  table: columnTableSchema,
  /** Real table name, e.g. `dbo.ChantierDef`. */
  tableName: z.string(),
  exists: z.boolean(),
  /** Every column found in INFORMATION_SCHEMA.COLUMNS. */
  columns: z.array(z.object({ name: z.string(), dataType: z.string(), nullable: z.boolean() })),
  mapping: z.array(
    z.object({
      /** Logical column (see CHANTIER_LOGICAL_COLUMNS for ChantierDef). */
      logical: z.string(),
      /** French label of the logical column for the UI. */
      label: z.string(),
      required: z.boolean(),
      /** Column found by candidate names. */
      detected: z.string().nullable(),
      /** Integrator override stored in settings. */
      override: z.string().nullable(),
      /** What the gateway will use: override ?? detected. */
      effective: z.string().nullable(),
      /** Existing columns that could fit, best first. */
      candidates: z.array(z.string()),
    }),
  ),
  /** French remarks (missing required column, override pointing to a missing column…). */
  warnings: z.array(z.string()),
});
export type DetectedTable = z.infer<typeof detectedTableSchema>;

// --- mapping -----------------------------------------------------------------------------------

export const mappingUserSchema = z.object({
  id: z.string(),
  displayName: z.string(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  email: z.string().nullable(),
  /** Salarié code this user is mapped to, if any. */
  mappedTo: z.string().nullable(),
  /** Validated hours in the sync window that cannot be written until this user is mapped. */
  hoursWaiting: z.number().min(0),
  slotsWaiting: z.number().int().min(0),
  /** Seen only in time slots, not in the users list. */
  fromTimeSlotsOnly: z.boolean(),
});
export type MappingUser = z.infer<typeof mappingUserSchema>;

export const mappingSuggestionSchema = z.object({
  salarieCode: z.string(),
  userId: z.string(),
  /** 0..1 */
  confidence: z.number().min(0).max(1),
  /** French: why (same name, same e-mail, first/last name swapped…). */
  reason: z.string(),
});
export type MappingSuggestion = z.infer<typeof mappingSuggestionSchema>;

export const codebsStatusSchema = z.object({
  exists: z.boolean(),
  table: z.string(),
  column: z.string(),
  /** French explanation (and what creating it will do when missing). */
  message: z.string(),
});
export type CodebsStatus = z.infer<typeof codebsStatusSchema>;

// --- SQL Server discovery --------------------------------------------------------------------------

export const discoveredInstanceSchema = z.object({
  /** What goes in « Serveur SQL Server »: HOST\INSTANCE, or HOST for the default instance. */
  server: z.string().max(300),
  host: z.string().max(255),
  instance: z.string().max(128).nullable(),
  tcpPort: z.number().int().nullable(),
  version: z.string().max(32).nullable(),
  answeredBy: z.string().max(64),
});
export type DiscoveredInstanceView = z.infer<typeof discoveredInstanceSchema>;

export const databaseCandidateSchema = z.object({
  name: z.string().max(128),
  /** ChantierDef, Salarie and SuiviMO are there: a Batigest (or Codial) company. */
  batigest: z.boolean(),
  /** Which of those tables are there. */
  tables: z.array(z.string()),
  /** false when the login could list it but not read it. */
  readable: z.boolean(),
});
export type DatabaseCandidate = z.infer<typeof databaseCandidateSchema>;

export const mappingViewSchema = z.object({
  salaries: z.array(salarieSchema),
  users: z.array(mappingUserSchema),
  suggestions: z.array(mappingSuggestionSchema),
  codebs: codebsStatusSchema,
  /** When the users list could not be fetched (BatiSimply unreachable): a French explanation. */
  usersError: z.string().nullable(),
});
export type MappingView = z.infer<typeof mappingViewSchema>;

// --- sync and journal --------------------------------------------------------------------------

export const countsSchema = z.object({
  created: z.number().int().min(0),
  updated: z.number().int().min(0),
  unchanged: z.number().int().min(0),
  skipped: z.number().int().min(0),
  failed: z.number().int().min(0),
  /** Records changed on both sides, decided by the later modification (journaled per item). */
  conflicts: z.number().int().min(0).default(0),
  /** Writes sent to the other side: BatiSimply creations and updates, or SuiviMO operations. */
  writes: z.number().int().min(0).default(0),
});
export type Counts = z.infer<typeof countsSchema>;

export const runStatusSchema = z.enum(['running', 'success', 'partial', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof runStatusSchema>;

export const runSummarySchema = z.object({
  id: z.string(),
  flow: syncFlowSchema,
  /** chantier|devis for the push flow; null for hours. */
  mode: syncModeSchema.nullable(),
  trigger: z.enum(['manual', 'schedule', 'cli', 'startup']),
  machineName: z.string(),
  status: runStatusSchema,
  startedAt: isoDateTime,
  endedAt: isoDateTime.nullable(),
  counts: countsSchema,
  /** French summary or the reason of a failure. */
  message: z.string().nullable(),
  /** The job this run belongs to: the runs of one « Tout synchroniser » share it (null: a job of one flow). */
  jobId: z.string().nullable().default(null),
});
export type RunSummary = z.infer<typeof runSummarySchema>;

export const journalItemActionSchema = z.enum([
  'created',
  'updated',
  'unchanged',
  'moved',
  'deleted',
  'skipped',
  'failed',
  'conflict',
]);
export const journalItemSchema = z.object({
  id: z.string(),
  kind: z.enum(['chantier', 'devis', 'timeslot', 'salarie', 'project', 'import']),
  /** Code chantier / devis, slot id… */
  key: z.string(),
  /** Human label (chantier name, employee name + day…). */
  label: z.string().nullable(),
  action: journalItemActionSchema,
  /** French reason of a skip, failure or conflict decision. */
  reason: z.string().nullable(),
  code: errorCodeSchema.nullable(),
  at: isoDateTime,
});
export type JournalItem = z.infer<typeof journalItemSchema>;

export const runningSyncSchema = z.object({
  runId: z.string(),
  flow: syncFlowSchema,
  startedAt: isoDateTime,
  progress: progressEventSchema.nullable(),
  /** What was asked: 'all' runs push, then hours (the run above is the one in progress). */
  requested: syncFlowSchema.optional(),
});

export const syncStatusSchema = z.object({
  running: runningSyncSchema.nullable(),
  lastRuns: z.array(runSummarySchema),
  nextRunAt: isoDateTime.nullable(),
  scheduleEnabled: z.boolean(),
  /** False when the licence does not allow syncing (the UI shows why via licence.status). */
  syncAllowed: z.boolean(),
});
export type SyncStatus = z.infer<typeof syncStatusSchema>;

/** One PC seen on the buffer (Réglages › Postes, CLI `connecteur postes`). */
export const machineViewSchema = z.object({
  machineId: z.string().max(64),
  name: z.string().max(128),
  appVersion: z.string().max(64),
  schemaVersion: z.number().int(),
  firstSeen: isoDateTime,
  lastHeartbeat: isoDateTime,
  /** Its heartbeat was seen within three of its periods. */
  reachable: z.boolean(),
  /** This PC (the one asking). */
  self: z.boolean(),
  /** Flows whose lease it holds now. */
  holding: z.array(z.string().max(32)),
  lastRun: z.object({ flow: z.string().max(32), startedAt: isoDateTime, status: z.string().max(16) }).nullable(),
  /** Unseen long enough to be forgotten (« Oublier ce poste »). */
  forgettable: z.boolean(),
  /** Older than this PC: its connector should be updated. */
  outdated: z.boolean(),
});
export type MachineView = z.infer<typeof machineViewSchema>;
export const machinesViewSchema = z.object({
  /** False: the buffer is embedded (one PC only) or not open yet; `machines` is then this PC alone or empty. */
  shared: z.boolean(),
  machines: z.array(machineViewSchema),
  /** A PC unseen for this many days can be forgotten. */
  forgetAfterDays: z.number().int(),
});
export type MachinesView = z.infer<typeof machinesViewSchema>;

/** What the buffer keeps track of (CLI `status`, maintenance). */
export const bufferStatusSchema = z.object({
  records: z.array(
    z.object({
      kind: z.enum(['chantier', 'devis']),
      total: z.number().int().min(0),
      /** Sent and up to date in BatiSimply. */
      pushed: z.number().int().min(0),
      /** Changed since, or never sent. */
      pending: z.number().int().min(0),
      errors: z.number().int().min(0),
    }),
  ),
  slots: z.array(z.object({ state: z.string(), n: z.number().int().min(0) })),
  /** SuiviMO rows whose write an interrupted run left to finish. */
  dirtyKeys: z.number().int().min(0),
  leases: z.array(z.object({ flow: z.string(), machine: z.string(), expiresAt: isoDateTime })),
});
export type BufferStatus = z.infer<typeof bufferStatusSchema>;

export const journalFiltersSchema = z
  .object({
    flow: syncFlowSchema.optional(),
    status: runStatusSchema.optional(),
    /** Inclusive, YYYY-MM-DD (local day). */
    from: isoDay.optional(),
    to: isoDay.optional(),
  })
  .strict();

// --- licence -----------------------------------------------------------------------------------

export const LICENCE_KEY_PATTERN = /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/;

export const licenceStateSchema = z.enum([
  'missing', // no key entered
  'valid',
  'expiring', // valid, ≤ 30 days left
  'expired',
  'deactivated',
  'machine_limit',
  'unknown_key',
  'offline_grace', // service unreachable, last signed answer still within the grace period
  'offline_expired', // service unreachable for longer than the grace period
  'tampered',
  'error',
]);
export type LicenceState = z.infer<typeof licenceStateSchema>;

export const licenceStatusSchema = z.object({
  state: licenceStateSchema,
  /** French sentence for the licence page and the dashboard card. */
  message: z.string(),
  /** Masked key, e.g. `••••-••••-••••-7K2Q`; null when none. */
  keyHint: z.string().nullable(),
  clientName: z.string().nullable(),
  expiresAt: isoDateTime.nullable(),
  daysLeft: z.number().int().nullable(),
  graceDaysLeft: z.number().int().nullable(),
  lastValidatedAt: isoDateTime.nullable(),
  nextCheckAt: isoDateTime.nullable(),
  machineId: z.string(),
  features: z.array(z.string()),
  /** Sync and scheduling are refused when false; settings and the licence page stay usable. */
  syncAllowed: z.boolean(),
});
export type LicenceStatus = z.infer<typeof licenceStatusSchema>;

// --- schedule ----------------------------------------------------------------------------------

export const scheduleViewSchema = scheduleSettingsSchema.extend({
  nextRunAt: isoDateTime.nullable(),
  lastRunAt: isoDateTime.nullable(),
});
export type ScheduleView = z.infer<typeof scheduleViewSchema>;

const scheduleShape = scheduleSettingsSchema.shape;
export const schedulePatchSchema = z
  .object({
    enabled: scheduleShape.enabled.unwrap().optional(),
    intervalSeconds: scheduleShape.intervalSeconds.unwrap().optional(),
    retries: scheduleShape.retries.unwrap().optional(),
    flows: scheduleShape.flows.unwrap().optional(),
    startWithWindows: scheduleShape.startWithWindows.unwrap().optional(),
  })
  .strict();

/** A page of the window, and what to show in it (a run of the journal, its failed items, a section of Réglages). */
export const navTargetSchema = z.object({
  page: z.enum(['dashboard', 'journal', 'mapping', 'settings', 'licence', 'setup']),
  runId: z.string().max(64).optional(),
  action: z.enum(['failed', 'skipped']).optional(),
  section: z.enum(['maintenance', 'protection', 'updates', 'schedule']).optional(),
});
export type NavTarget = z.infer<typeof navTargetSchema>;

export const pausePresetSchema = z.enum(['1h', '4h', 'tomorrow']);
export type PausePreset = z.infer<typeof pausePresetSchema>;

// --- overview: the facts the connector's state is computed from (src/shared/connector-state.ts) -----

/**
 * Something a flow leaves waiting for a person. A flow reports its groups (the hours flow: users without
 * salarié, unknown chantiers; every flow: the items in failure of its last run; an import flow: files in
 * error); the state function turns them into « À traiter » lines, the notification policy notifies a
 * group once when it appears (or gains keys) and once when it is gone.
 */
export const waitingKindSchema = z.enum(['unmapped_user', 'unknown_chantier', 'failed_items', 'import_error', 'import_waiting']);
export type WaitingKind = z.infer<typeof waitingKindSchema>;
export const waitingGroupSchema = z.object({
  kind: waitingKindSchema,
  /** The flow reporting it: push, hours, or a later flow (imports…). */
  flow: z.string().min(1).max(32),
  /** How many things wait (users, chantiers, items, files). */
  count: z.number().int().min(0),
  /** Stable keys of what waits (user ids, chantier codes, item keys): a key not seen before is a new problem. */
  keys: z.array(z.string().max(300)).max(1000),
  /** The first names or codes, for the sentence. */
  names: z.array(z.string().max(200)).max(10),
  /** Validated hours waiting (hours flow), null otherwise. */
  hours: z.number().min(0).nullable(),
  slots: z.number().int().min(0).nullable(),
  /** The run whose journal shows the detail, when there is one. */
  runId: z.string().nullable(),
});
export type WaitingGroup = z.infer<typeof waitingGroupSchema>;

export const flowFactsSchema = z.object({
  flow: z.string().min(1).max(32),
  lastRun: runSummarySchema.nullable(),
  /** End of the last run that went to its end (success, or partial: something left waiting). */
  lastSuccessAt: isoDateTime.nullable(),
  /** Part of the scheduled flows (settings.schedule.flows). */
  scheduled: z.boolean(),
});
export type FlowFacts = z.infer<typeof flowFactsSchema>;

export const overviewSchema = z.object({
  at: isoDateTime,
  softwareLabel: z.string(),
  /** The wizard was finished, and what the settings still lack (the licence is told by `licence`). */
  setup: z.object({ completed: z.boolean(), missing: z.array(z.enum(['sqlServer', 'batisimply'])) }),
  licence: z
    .object({
      state: licenceStateSchema,
      syncAllowed: z.boolean(),
      message: z.string(),
      daysLeft: z.number().int().nullable(),
      graceDaysLeft: z.number().int().nullable(),
      /** settings.licence.graceDays: « offline past half its grace » is graceDaysLeft ≤ graceDays / 2. */
      graceDays: z.number().int().min(0),
    })
    .nullable(),
  schedule: z.object({
    enabled: z.boolean(),
    intervalSeconds: z.number().int().min(1),
    nextRunAt: isoDateTime.nullable(),
    pausedUntil: isoDateTime.nullable(),
  }),
  running: runningSyncSchema.nullable(),
  flows: z.array(flowFactsSchema),
  waiting: z.array(waitingGroupSchema),
  /** The last scheduled attempt refused before any run was journaled (SQL Server or buffer unreachable…). */
  lastAttempt: z.object({ at: isoDateTime, code: errorCodeSchema, message: z.string() }).nullable(),
  /** The buffer could not be read (the journal facts above are then missing). */
  bufferError: z.string().nullable(),
  /**
   * False while the buffer is still being opened at start (the journal facts are not known yet, which is
   * not « nothing to report »): the notification policy waits.
   */
  journalKnown: z.boolean(),
});
export type Overview = z.infer<typeof overviewSchema>;

// --- maintenance -------------------------------------------------------------------------------

export const maintenanceFlowSchema = z.enum(['push', 'hours']);
export const bufferCheckSchema = z.object({
  ok: z.boolean(),
  schemaVersion: z.number().int().min(0),
  expectedVersion: z.number().int().min(0),
  tables: z.array(z.object({ table: z.string(), rows: z.number().int().min(0) })),
  checks: z.array(
    z.object({
      id: z.string(),
      level: z.enum(['ok', 'warning', 'error']),
      /** French: what was checked and what was found. */
      message: z.string(),
      count: z.number().int().min(0),
      /** A few of the keys concerned. */
      examples: z.array(z.string()),
    }),
  ),
});
export type BufferCheck = z.infer<typeof bufferCheckSchema>;

export const maintenanceEntrySchema = z.object({
  id: z.string(),
  at: isoDateTime,
  machine: z.string(),
  action: z.enum(['verify', 'recompare', 'purge', 'forget']),
  flow: z.string().nullable(),
  outcome: z.enum(['ok', 'warning', 'failed']),
  /** French: what was done. */
  message: z.string(),
});
export type MaintenanceEntry = z.infer<typeof maintenanceEntrySchema>;

/** The words to type before « Oublier l'état » runs (checked by the main process). */
export const FORGET_CONFIRMATION = 'OUBLIER';

// --- diagnostics -------------------------------------------------------------------------------

export const openedFolderSchema = z.object({
  /** False where the host cannot open a folder (web bridge): the UI shows the path. */
  opened: z.boolean(),
  path: z.string(),
});

// --- protection on a shared PC -----------------------------------------------------------------

export const PIN_PATTERN = /^\d{4,12}$/;
const pinSchema = z.string().regex(PIN_PATTERN, 'Le code est fait de 4 à 12 chiffres.');
export const protectionStatusSchema = z.object({
  /** A PIN is set: Réglages, Correspondance and Maintenance ask for it. */
  enabled: z.boolean(),
  /** The PIN was typed and is still valid (idle delay not passed). */
  unlocked: z.boolean(),
  idleMinutes: z.number().int().min(1),
  /** After too many wrong codes: no new try before this instant. */
  retryAfter: isoDateTime.nullable(),
});
export type ProtectionStatus = z.infer<typeof protectionStatusSchema>;

// --- updates -----------------------------------------------------------------------------------

export const updateStateSchema = z.enum(['disabled', 'unsupported', 'idle', 'checking', 'up_to_date', 'available', 'downloading', 'deferred', 'ready', 'error']);
export const updateStatusSchema = z.object({
  state: updateStateSchema,
  currentVersion: z.string(),
  availableVersion: z.string().nullable(),
  lastCheckAt: isoDateTime.nullable(),
  nextCheckAt: isoDateTime.nullable(),
  /** French sentence, e.g. « Mise à jour prête — installée au prochain redémarrage ». */
  message: z.string(),
});
export type UpdateStatus = z.infer<typeof updateStatusSchema>;

// ---------------------------------------------------------------------------------------------
// The channels
// ---------------------------------------------------------------------------------------------

const ok = z.object({ ok: z.literal(true) });

export const contract = {
  // app
  'app.info': defineChannel({ input: noInput, output: appInfoSchema, description: 'Version, PC, logiciel' }),

  // settings
  'settings.get': defineChannel({
    input: noInput,
    output: settingsViewSchema,
    description: 'Réglages, secrets remplacés par { set }',
  }),
  'settings.update': defineChannel({
    input: settingsPatchSchema,
    output: settingsViewSchema,
    description: 'Patch partiel; un secret accepte une chaîne, { keep: true } ou { clear: true }',
  }),
  'settings.notices': defineChannel({ input: noInput, output: z.array(noticeSchema), description: 'Avis en attente' }),
  'settings.dismissNotice': defineChannel({ input: z.object({ id: z.string() }).strict(), output: ok }),

  // connections
  'sqlServer.test': defineChannel({ input: sectionOverride('sqlServer'), output: connectionDiagnosisSchema }),
  'sqlServer.detectColumns': defineChannel({
    input: sectionOverride('sqlServer'),
    output: z.object({ tables: z.array(detectedTableSchema) }),
  }),
  /** SQL Browser (UDP 1434): the instances of a host, or of the local network when `host` is ''. */
  'sqlServer.discover': defineChannel({
    input: z.object({ host: z.string().max(255) }).strict(),
    output: z.object({ instances: z.array(discoveredInstanceSchema), broadcast: z.boolean() }),
  }),
  /** The databases the typed login may open, marked when they look like a Batigest company. */
  'sqlServer.databases': defineChannel({
    input: sectionOverride('sqlServer'),
    output: z.object({ databases: z.array(databaseCandidateSchema) }),
  }),
  'buffer.test': defineChannel({ input: sectionOverride('buffer'), output: connectionDiagnosisSchema }),
  'chantiers.preview': defineChannel({ input: sectionOverride('chantiers'), output: chantiersPreviewSchema }),
  'batisimply.test': defineChannel({ input: sectionOverride('batisimply'), output: connectionDiagnosisSchema }),
  'imports.test': defineChannel({ input: sectionOverride('imports'), output: connectionDiagnosisSchema, description: "Teste l'API d'export et le dossier d'import" }),

  // import agent (exports API → Batigest's import folder)
  'imports.status': defineChannel({ input: noInput, output: importsViewSchema, description: 'En attente, importés aujourd’hui, en erreur, dernier cycle' }),
  'imports.retry': defineChannel({
    input: z.object({ exportId: z.string().min(1).max(200) }).strict(),
    output: z.object({ message: z.string(), runId: z.string().nullable() }),
    description: 'Réessaie un export en erreur (le dépose à nouveau)',
  }),

  // employee mapping
  'mapping.get': defineChannel({ input: noInput, output: mappingViewSchema }),
  'mapping.save': defineChannel({
    input: z
      .object({
        /** userId null = remove the mapping of this salarié. */
        entries: z.array(z.object({ salarieCode: z.string().min(1).max(32), userId: z.string().min(1).max(64).nullable() })).max(5000),
      })
      .strict(),
    output: z.object({ saved: z.number().int().min(0), mapping: mappingViewSchema }),
  }),
  'mapping.codebsStatus': defineChannel({ input: noInput, output: codebsStatusSchema }),
  'mapping.createCodebsColumn': defineChannel({
    input: z.object({ confirm: z.literal(true) }).strict(),
    output: codebsStatusSchema,
    description: 'Crée la colonne codebs dans Salarie (confirmation explicite requise)',
  }),

  // sync
  'sync.run': defineChannel({
    input: z
      .object({
        flow: syncFlowSchema,
        /** Answer at the end of the job with its runs (CLI, scheduler); default: as soon as the first run exists. */
        wait: z.boolean().optional(),
      })
      .strict(),
    output: z.object({ runId: z.string(), runs: z.array(runSummarySchema).optional() }),
  }),
  'sync.cancel': defineChannel({
    input: z.object({ runId: z.string().optional() }).strict().optional(),
    output: z.object({ cancelled: z.boolean() }),
  }),
  'sync.status': defineChannel({ input: noInput, output: syncStatusSchema }),
  'buffer.status': defineChannel({ input: noInput, output: bufferStatusSchema, description: 'Ce que la base tampon suit : projets, créneaux, verrous' }),

  // journal
  'journal.list': defineChannel({
    input: journalFiltersSchema
      .extend({
        page: z.number().int().min(1).default(1),
        pageSize: z.number().int().min(1).max(500).default(50),
      })
      .optional(),
    output: z.object({
      runs: z.array(runSummarySchema),
      total: z.number().int().min(0),
      page: z.number().int().min(1),
      pageSize: z.number().int().min(1),
    }),
  }),
  'journal.get': defineChannel({
    input: z
      .object({
        runId: z.string().min(1),
        action: journalItemActionSchema.optional(),
        page: z.number().int().min(1).default(1),
        pageSize: z.number().int().min(1).max(1000).default(200),
      })
      .strict(),
    output: z.object({ run: runSummarySchema, items: z.array(journalItemSchema), totalItems: z.number().int().min(0) }),
  }),
  'journal.exportCsv': defineChannel({
    input: journalFiltersSchema.extend({ runId: z.string().optional() }).optional(),
    output: z.object({ fileName: z.string(), csv: z.string() }),
    description: 'CSV (séparateur ;, UTF-8 avec BOM) prêt à télécharger',
  }),

  // licence
  'licence.status': defineChannel({ input: noInput, output: licenceStatusSchema }),
  'licence.setKey': defineChannel({
    input: z
      .object({
        key: z
          .string()
          .trim()
          .toUpperCase()
          .regex(LICENCE_KEY_PATTERN, 'La clé de licence a la forme XXXX-XXXX-XXXX-XXXX.'),
      })
      .strict(),
    output: licenceStatusSchema,
  }),
  'licence.check': defineChannel({ input: noInput, output: licenceStatusSchema }),

  // schedule
  'schedule.get': defineChannel({ input: noInput, output: scheduleViewSchema }),
  'schedule.set': defineChannel({ input: schedulePatchSchema, output: scheduleViewSchema }),
  'schedule.pause': defineChannel({
    input: z.object({ preset: pausePresetSchema }).strict(),
    output: scheduleViewSchema,
    description: 'Suspend les synchronisations planifiées 1 h, 4 h ou jusqu’à demain 7 h (gardé au redémarrage)',
  }),
  'schedule.resume': defineChannel({ input: noInput, output: scheduleViewSchema, description: 'Reprend les synchronisations planifiées' }),

  // overview (tray, dashboard, notifications)
  'status.overview': defineChannel({ input: noInput, output: overviewSchema, description: "Faits d'où l'état du connecteur est calculé" }),

  // maintenance (Réglages › Maintenance, CLI `connecteur maintenance`)
  'maintenance.verify': defineChannel({ input: noInput, output: bufferCheckSchema, description: 'Vérifie la base tampon : version du schéma, comptes, clés orphelines' }),
  'maintenance.recompare': defineChannel({
    input: z.object({ flow: maintenanceFlowSchema, wait: z.boolean().optional() }).strict(),
    output: z.object({ runId: z.string(), message: z.string(), runs: z.array(runSummarySchema).optional() }),
    description: 'Recompare un flux depuis le début (tout relu et comparé, rien en double)',
  }),
  'maintenance.purgeJournal': defineChannel({
    input: z.object({ olderThanDays: z.number().int().min(1).max(3650) }).strict(),
    output: z.object({ runsDeleted: z.number().int().min(0), itemsDeleted: z.number().int().min(0), message: z.string() }),
  }),
  'maintenance.forget': defineChannel({
    input: z.object({ flow: maintenanceFlowSchema, confirm: z.string().max(64) }).strict(),
    output: z.object({ message: z.string(), deleted: z.record(z.string(), z.number().int().min(0)) }),
    description: `Oublie l'état d'un flux (confirmation : taper ${FORGET_CONFIRMATION})`,
  }),
  'maintenance.log': defineChannel({ input: noInput, output: z.array(maintenanceEntrySchema), description: 'Les dernières actions de maintenance' }),

  // configuration sharing (Réglages › Configuration partagée, the wizard's first step, CLI `connecteur config`)
  'config.export': defineChannel({
    input: noInput,
    output: z.object({ fileName: z.string().max(128), content: z.string().max(200_000) }),
    description: 'La configuration de ce poste, sans aucun secret, en fichier pour un autre poste',
  }),
  'config.import': defineChannel({
    input: z.object({ content: z.string().max(200_000) }).strict(),
    output: z.object({ view: settingsViewSchema, from: z.string().max(128), secretsToType: z.array(z.string().max(128)) }),
    description: "Applique la configuration exportée par un autre poste (les secrets sont à saisir à nouveau)",
  }),

  // the PCs of a shared buffer (Réglages › Postes)
  'machines.list': defineChannel({ input: noInput, output: machinesViewSchema, description: 'Les postes vus sur la base tampon : version, dernier signe de vie, flux tenu ou dernier passage' }),
  'machines.forget': defineChannel({
    input: z.object({ machineId: z.string().min(1).max(64) }).strict(),
    output: machinesViewSchema,
    description: 'Oublie un poste qui ne donne plus signe de vie depuis longtemps',
  }),

  // diagnostics
  'diagnostics.export': defineChannel({
    input: noInput,
    output: z.object({ fileName: z.string(), path: z.string(), bytes: z.number().int().min(0), entries: z.array(z.string()) }),
    description: 'Écrit une archive zip pour l’assistance (sans aucun secret)',
  }),
  'diagnostics.reveal': defineChannel({ input: z.object({ path: z.string().max(1024) }).strict(), output: openedFolderSchema }),
  'diagnostics.openLogFolder': defineChannel({ input: noInput, output: openedFolderSchema }),

  // protection on a shared PC
  'protection.status': defineChannel({ input: noInput, output: protectionStatusSchema }),
  'protection.unlock': defineChannel({ input: z.object({ pin: z.string().max(64) }).strict(), output: protectionStatusSchema }),
  'protection.lock': defineChannel({ input: noInput, output: protectionStatusSchema }),
  'protection.set': defineChannel({
    input: z.object({ pin: pinSchema, current: z.string().max(64).optional(), idleMinutes: z.number().int().min(1).max(240).optional() }).strict(),
    output: protectionStatusSchema,
    description: 'Définit ou change le code (le code actuel est demandé quand il y en a un)',
  }),
  'protection.clear': defineChannel({ input: z.object({ current: z.string().max(64) }).strict(), output: protectionStatusSchema }),

  // updates
  'updates.status': defineChannel({ input: noInput, output: updateStatusSchema }),
  'updates.check': defineChannel({ input: noInput, output: updateStatusSchema, description: 'Recherche une mise à jour maintenant' }),
} as const;

export type Contract = typeof contract;
export type ChannelName = keyof Contract;
export const CHANNEL_NAMES = Object.keys(contract) as ChannelName[];

export function isChannelName(name: string): name is ChannelName {
  return Object.prototype.hasOwnProperty.call(contract, name);
}

/** What the caller (renderer) passes: the schema's input type (defaults may be omitted). */
export type ChannelInput<K extends ChannelName> = z.input<Contract[K]['input']>;
/** What the handler receives after validation (defaults filled). */
export type ChannelParsedInput<K extends ChannelName> = z.output<Contract[K]['input']>;
/** What the renderer receives. */
export type ChannelOutput<K extends ChannelName> = z.output<Contract[K]['output']>;
/** What a handler may return (validated and normalised by the output schema before it leaves). */
export type ChannelHandlerOutput<K extends ChannelName> = z.input<Contract[K]['output']>;

/** True when a channel can be invoked without an argument. */
export type InputOptional<K extends ChannelName> = undefined extends ChannelInput<K> ? true : false;
/** Argument tuple of `invoke(channel, ...args)`. */
export type InvokeArgs<K extends ChannelName> = InputOptional<K> extends true
  ? [input?: ChannelInput<K>]
  : [input: ChannelInput<K>];

// ---------------------------------------------------------------------------------------------
// Push events (main → renderer)
// ---------------------------------------------------------------------------------------------

export const syncStatusEventSchema = z.object({
  running: runningSyncSchema.nullable(),
  /** The run that just ended, when this event announces an end. */
  lastRun: runSummarySchema.nullable(),
  nextRunAt: isoDateTime.nullable(),
  /** A job is still active on this PC (also between the two runs of a « Tout synchroniser »). */
  jobActive: z.boolean().default(false),
});

export const events = {
  'sync:progress': progressEventSchema,
  'sync:status': syncStatusEventSchema,
  'licence:status': licenceStatusSchema,
  'settings:notice': noticeSchema,
  /** The facts of the connector's state changed (a run started or ended, licence, schedule, pause…). */
  'status:overview': overviewSchema,
  'updates:status': updateStatusSchema,
  /** The protection was unlocked, locked, or its idle delay ran out. */
  'protection:status': protectionStatusSchema,
  /** Sent by the tray and by a notification's click to show the page that fixes something. */
  'app:navigate': navTargetSchema,
} as const;

export type Events = typeof events;
export type EventName = keyof Events;
export type EventPayload<E extends EventName> = z.output<Events[E]>;
export const EVENT_NAMES = Object.keys(events) as EventName[];

export function isEventName(name: string): name is EventName {
  return Object.prototype.hasOwnProperty.call(events, name);
}

/** The API the preload exposes as `window.connecteur` (and the web-bridge client mimics). */
export interface ConnecteurApi {
  invoke<K extends ChannelName>(channel: K, ...args: InvokeArgs<K>): Promise<Result<ChannelOutput<K>>>;
  on<E extends EventName>(event: E, listener: (payload: EventPayload<E>) => void): () => void;
}

/** Low-level untyped shape actually exposed across the context bridge (validated on both ends). */
export interface RawConnecteurApi {
  invoke(channel: string, input: unknown): Promise<unknown>;
  on(event: string, listener: (payload: unknown) => void): () => void;
}
