/**
 * The settings schema: one zod schema for everything the connector can be configured with.
 *
 * This is the *resolved* shape used by the main process (secrets in clear, in memory only).
 * On disk, secret fields are encrypted by the settings service; towards the renderer they are
 * replaced by `{ set: boolean }` (see `SECRET_PATHS` and the settings service).
 */
import { z } from 'zod';

export const SETTINGS_VERSION = 1;

export const softwareSchema = z.enum(['batigest', 'codial']);
/** The accounting software's name shown to the user (progress labels, journal, screens). */
export const SOFTWARE_LABELS: Record<z.infer<typeof softwareSchema>, string> = { batigest: 'Sage Batigest', codial: 'Codial' };
export const syncModeSchema = z.enum(['chantier', 'devis']);

/** Logical columns of ChantierDef that the gateway maps onto real column names. */
export const CHANTIER_LOGICAL_COLUMNS = [
  'code',
  'nomClient',
  'description',
  'adresse',
  'codePostal',
  'ville',
  'dateDebut',
  'dateFin',
  'etat',
  'heuresVendues',
  'montant',
  'dateModif',
] as const;
export type ChantierLogicalColumn = (typeof CHANTIER_LOGICAL_COLUMNS)[number];

export const columnOverridesSchema = z
  .record(z.string(), z.string().min(1).max(128))
  .default({});

export const sqlServerSettingsSchema = z.object({
  /** `host`, `host\INSTANCE` or `host,port`. */
  server: z.string().max(255).default(''),
  database: z.string().max(128).default(''),
  authentication: z.enum(['sql', 'windows']).default('sql'),
  user: z.string().max(128).default(''),
  password: z.string().max(512).default(''),
  /** Windows authentication (NTLM) needs a domain. */
  domain: z.string().max(128).default(''),
  encrypt: z.boolean().default(false),
  trustServerCertificate: z.boolean().default(true),
  connectTimeoutMs: z.number().int().min(1000).max(120_000).default(15_000),
  requestTimeoutMs: z.number().int().min(1000).max(600_000).default(60_000),
  /** Integrator overrides of the detected column mapping, per table: { chantier: { nomClient: 'NomCli' } }. */
  columnOverrides: z
    .object({
      chantier: columnOverridesSchema,
      devis: columnOverridesSchema,
      salarie: columnOverridesSchema,
    })
    .default({ chantier: {}, devis: {}, salarie: {} }),
});

export const remoteBufferSchema = z.object({
  host: z.string().max(255).default('127.0.0.1'),
  port: z.number().int().min(1).max(65535).default(5432),
  database: z.string().max(128).default('connecteur'),
  user: z.string().max(128).default('postgres'),
  password: z.string().max(512).default(''),
  ssl: z.boolean().default(false),
});

export const bufferSettingsSchema = z.object({
  kind: z.enum(['embedded', 'remote']).default('embedded'),
  /** Folder of the embedded (PGlite) database; empty = the app's user-data folder. */
  embeddedPath: z.string().max(1024).default(''),
  remote: remoteBufferSchema.default(() => remoteBufferSchema.parse({})),
});

export const BATISIMPLY_ENVIRONMENTS = {
  staging: { ssoUrl: 'https://sso.staging.batisimply.fr', apiUrl: 'https://api.staging.batisimply.fr' },
  production: { ssoUrl: 'https://sso.batisimply.fr', apiUrl: 'https://api.batisimply.fr' },
} as const;

export const batisimplySettingsSchema = z.object({
  environment: z.enum(['staging', 'production', 'custom']).default('staging'),
  /** Base URL of the SSO (Keycloak); the token path is appended by the client. */
  ssoUrl: z.string().max(512).default(BATISIMPLY_ENVIRONMENTS.staging.ssoUrl),
  apiUrl: z.string().max(512).default(BATISIMPLY_ENVIRONMENTS.staging.apiUrl),
  realm: z.string().max(128).default('jhipster'),
  grantType: z.enum(['password', 'client_credentials']).default('password'),
  clientId: z.string().max(256).default(''),
  clientSecret: z.string().max(1024).default(''),
  username: z.string().max(256).default(''),
  password: z.string().max(512).default(''),
  scope: z.string().max(512).default(''),
  timeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
  concurrency: z.number().int().min(1).max(32).default(8),
  maxRetries: z.number().int().min(0).max(10).default(4),
  /** Project fields the reference connector hard-coded; now settings. */
  project: z
    .object({
      headQuarterId: z.string().max(64).default(''),
      projectManager: z.string().max(256).default(''),
      projectColor: z.string().max(16).default('#1e6fd9'),
      countryCode: z.string().max(2).default('FR'),
      currency: z.string().max(3).default('EUR'),
    })
    .default({ headQuarterId: '', projectManager: '', projectColor: '#1e6fd9', countryCode: 'FR', currency: 'EUR' }),
});

export const licenceSettingsSchema = z.object({
  key: z.string().max(64).default(''),
  /** 'manager' = the vendor's licence manager HTTP API; 'supabase' = rpc('validate_license') with the anon key. */
  provider: z.enum(['manager', 'supabase']).default('manager'),
  serverUrl: z.string().max(512).default('https://licences.groupe-sages.fr'),
  supabaseUrl: z.string().max(512).default(''),
  supabaseAnonKey: z.string().max(2048).default(''),
  /** Ed25519 public key (PEM or base64 SPKI) used to verify signed answers. */
  publicKey: z.string().max(4096).default(''),
  revalidateHours: z.number().int().min(1).max(72).default(6),
  graceDays: z.number().int().min(0).max(60).default(7),
});

export const scheduleSettingsSchema = z.object({
  enabled: z.boolean().default(false),
  intervalSeconds: z.number().int().min(60).max(86_400).default(300),
  retries: z.number().int().min(0).max(10).default(3),
  flows: z.enum(['push', 'hours', 'all']).default('all'),
  startWithWindows: z.boolean().default(false),
  /**
   * « Suspendre 1 h / 4 h / jusqu'à demain » (tray, dashboard): no scheduled run before this instant
   * (ISO, UTC). Kept in the settings so that a restart keeps the pause; null = not paused.
   */
  pausedUntil: z.string().max(40).nullable().default(null),
});

export const hoursSettingsSchema = z.object({
  windowDays: z.number().int().min(1).max(3650).default(180),
  timezone: z.string().max(64).default('Europe/Paris'),
  /** When a written slot is un-validated or deleted in BatiSimply: only report it, or also remove its SuiviMO row. */
  removeUnvalidated: z.boolean().default(false),
});

export const importsSettingsSchema = z.object({
  enabled: z.boolean().default(false),
  apiUrl: z.string().max(512).default(''),
  apiKey: z.string().max(1024).default(''),
  agentId: z.string().max(128).default(''),
  workDir: z.string().max(1024).default(''),
  batigestImportPath: z.string().max(1024).default(''),
  pollLimit: z.number().int().min(1).max(500).default(50),
  importTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
  proxyUrl: z.string().max(512).default(''),
});

export const updatesSettingsSchema = z.object({
  /**
   * Address of the update feed (electron-builder « generic » provider: the folder holding latest.yml).
   * Empty = updates off (no request is ever made).
   */
  feedUrl: z.string().max(512).default(''),
});

export const protectionSettingsSchema = z.object({
  /**
   * The PIN asked before Réglages, Correspondance and Maintenance, as a salted scrypt hash
   * (`scrypt$N$r$p$salt$hash`, never the PIN itself). Empty = no protection. Changed only through the
   * protection.* channels (never by settings.update), encrypted on disk like the other secrets.
   */
  pinHash: z.string().max(512).default(''),
  /** Minutes without a protected action after which the PIN is asked again. */
  idleMinutes: z.number().int().min(1).max(240).default(10),
});

export const settingsSchema = z.object({
  version: z.number().int().default(SETTINGS_VERSION),
  software: softwareSchema.default('batigest'),
  mode: syncModeSchema.default('chantier'),
  /** Set once the first-run wizard has been completed. */
  setupCompleted: z.boolean().default(false),
  /** Name shown in the journal for this PC (defaults to the OS host name). */
  machineName: z.string().max(128).default(''),
  sqlServer: sqlServerSettingsSchema.default(() => sqlServerSettingsSchema.parse({})),
  buffer: bufferSettingsSchema.default(() => bufferSettingsSchema.parse({})),
  batisimply: batisimplySettingsSchema.default(() => batisimplySettingsSchema.parse({})),
  licence: licenceSettingsSchema.default(() => licenceSettingsSchema.parse({})),
  schedule: scheduleSettingsSchema.default(() => scheduleSettingsSchema.parse({})),
  hours: hoursSettingsSchema.default(() => hoursSettingsSchema.parse({})),
  imports: importsSettingsSchema.default(() => importsSettingsSchema.parse({})),
  updates: updatesSettingsSchema.default(() => updatesSettingsSchema.parse({})),
  protection: protectionSettingsSchema.default(() => protectionSettingsSchema.parse({})),
});

export type Settings = z.infer<typeof settingsSchema>;
export type SqlServerSettings = z.infer<typeof sqlServerSettingsSchema>;
export type BufferSettings = z.infer<typeof bufferSettingsSchema>;
export type BatisimplySettings = z.infer<typeof batisimplySettingsSchema>;
export type LicenceSettings = z.infer<typeof licenceSettingsSchema>;
export type ScheduleSettings = z.infer<typeof scheduleSettingsSchema>;
export type HoursSettings = z.infer<typeof hoursSettingsSchema>;
export type ImportsSettings = z.infer<typeof importsSettingsSchema>;
export type UpdatesSettings = z.infer<typeof updatesSettingsSchema>;
export type ProtectionSettings = z.infer<typeof protectionSettingsSchema>;

/** Dotted paths of the fields that are secrets: encrypted on disk, never sent to the renderer in clear. */
export const SECRET_PATHS = [
  'sqlServer.password',
  'buffer.remote.password',
  'batisimply.clientSecret',
  'batisimply.password',
  'licence.key',
  'licence.supabaseAnonKey',
  'imports.apiKey',
  'protection.pinHash',
] as const;
export type SecretPath = (typeof SECRET_PATHS)[number];

export function defaultSettings(): Settings {
  return settingsSchema.parse({});
}
