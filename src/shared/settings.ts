/**
 * The settings schema: one zod schema for everything the connector can be configured with.
 *
 * This is the *resolved* shape used by the main process (secrets in clear, in memory only).
 * On disk, secret fields are encrypted by the settings service; towards the renderer they are
 * replaced by `{ set: boolean }`. Which fields are secret is marked on the field itself (`secret(…)`):
 * the list of secret paths, the masked view, the patch type and the identity rule derive from the mark.
 */
import { z } from 'zod';

export const SETTINGS_VERSION = 1;

// --- secrets: marked in the schema itself -----------------------------------------------------

declare const secretMark: unique symbol;
/**
 * The value of a secret setting: a string whose type carries the mark, so that the renderer's view
 * (`{ set }`) and the patch type (`SecretInput`) are derived from the schema (see contract.ts).
 */
export type Secret = string & { readonly [secretMark]?: true };
/** True for a field whose type is `Secret`. */
export type IsSecret<T> = typeof secretMark extends keyof T ? true : false;

/** What the mark says about a secret. */
export interface SecretMeta {
  secret: true;
  /** How a sentence names it: « le mot de passe SQL Server ». */
  label: string;
  /** « saisissez-le » / « saisissez-la ». */
  pronoun: 'le' | 'la';
  /**
   * Setting paths that, together, name who receives the secret (server, account, security mode): a saved
   * secret is only ever sent to them (src/main/services/settings/secret-identity.ts).
   */
  identity: readonly string[];
}

/** A secret string field (default empty): encrypted on disk, `{ set }` towards the renderer, masked in logs. */
function secret(max: number, meta: Omit<SecretMeta, 'secret'>) {
  const marked: SecretMeta = { secret: true, ...meta };
  return z.string().max(max).default('').meta(marked as unknown as Record<string, unknown>) as unknown as z.ZodDefault<z.ZodType<Secret, Secret>>;
}

/** The mark of a schema field, or null (the meta of a field's own schema, default wrapper included). */
export function secretMetaOf(field: z.ZodType): SecretMeta | null {
  const m = field.meta() as Partial<SecretMeta> | undefined;
  return m?.secret === true ? (m as SecretMeta) : null;
}

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
  password: secret(512, {
    label: 'le mot de passe SQL Server',
    pronoun: 'le',
    // `server` holds the host, the instance and the port (host\INSTANCE, host,port).
    identity: ['sqlServer.server', 'sqlServer.database', 'sqlServer.authentication', 'sqlServer.user', 'sqlServer.domain', 'sqlServer.encrypt', 'sqlServer.trustServerCertificate'],
  }),
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
  password: secret(512, {
    label: 'le mot de passe de la base tampon',
    pronoun: 'le',
    identity: ['buffer.remote.host', 'buffer.remote.port', 'buffer.remote.user', 'buffer.remote.database', 'buffer.remote.ssl'],
  }),
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
  // Production by default: real credentials typed on a first setup go to the real service (staging is under « Avancé »).
  environment: z.enum(['staging', 'production', 'custom']).default('production'),
  /** Base URL of the SSO (Keycloak); the token path is appended by the client. */
  ssoUrl: z.string().max(512).default(BATISIMPLY_ENVIRONMENTS.production.ssoUrl),
  apiUrl: z.string().max(512).default(BATISIMPLY_ENVIRONMENTS.production.apiUrl),
  realm: z.string().max(128).default('jhipster'),
  grantType: z.enum(['password', 'client_credentials']).default('password'),
  clientId: z.string().max(256).default(''),
  clientSecret: secret(1024, {
    label: 'le secret client BatiSimply',
    pronoun: 'le',
    // The API URL receives the token obtained with the secret.
    identity: ['batisimply.ssoUrl', 'batisimply.apiUrl', 'batisimply.realm', 'batisimply.clientId', 'batisimply.grantType'],
  }),
  username: z.string().max(256).default(''),
  password: secret(512, {
    label: 'le mot de passe BatiSimply',
    pronoun: 'le',
    identity: ['batisimply.ssoUrl', 'batisimply.apiUrl', 'batisimply.realm', 'batisimply.clientId', 'batisimply.username', 'batisimply.grantType'],
  }),
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
  key: secret(64, {
    label: 'la clé de licence',
    pronoun: 'la',
    // Sent to the licence server (or Supabase) for validation: only to the one it was saved for.
    identity: ['licence.provider', 'licence.serverUrl', 'licence.supabaseUrl'],
  }),
  /** 'manager' = the vendor's licence manager HTTP API; 'supabase' = rpc('validate_license') with the anon key. */
  provider: z.enum(['manager', 'supabase']).default('manager'),
  serverUrl: z.string().max(512).default('https://licences.groupe-sages.fr'),
  supabaseUrl: z.string().max(512).default(''),
  supabaseAnonKey: secret(2048, { label: 'la clé Supabase', pronoun: 'la', identity: ['licence.supabaseUrl'] }),
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
  /** The import agent (seed 003) is an optional module: off until the integrator turns it on. */
  enabled: z.boolean().default(false),
  /** Base URL of the exports API (Saxium-style: /api/batigest/exports/…). */
  apiUrl: z.string().max(512).default(''),
  apiKey: secret(1024, { label: "la clé de l'API d'export", pronoun: 'la', identity: ['imports.apiUrl'] }),
  /** This PC's agent id sent to the API; empty = the one generated for this machine (shown in Réglages › Imports). */
  agentId: z.string().max(128).default(''),
  /** Work folder (Downloads, ToImport, Archive, Errors, Logs); empty = `imports` in the connector's data folder. */
  workDir: z.string().max(1024).default(''),
  /** The folder Batigest imports from (its files disappear once imported). */
  batigestImportPath: z.string().max(1024).default(''),
  /** Exports asked per cycle (`limit` of the pending listing). */
  pollLimit: z.number().int().min(1).max(500).default(50),
  /** A file still in Batigest's import folder after this delay is taken back and its export marked in error. */
  importTimeoutSeconds: z.number().int().min(1).max(3600).default(120),
  /** Cycle of the import agent when the schedule is on (the seed's scheduled task ran every 5 minutes). */
  intervalSeconds: z.number().int().min(30).max(86_400).default(300),
  timeoutMs: z.number().int().min(1000).max(300_000).default(30_000),
  maxRetries: z.number().int().min(0).max(10).default(4),
});

/**
 * The one proxy of every outgoing HTTP client (exports API, BatiSimply, licence service): none, the system's
 * (HTTP_PROXY / HTTPS_PROXY / NO_PROXY), or the one given here, with its credentials and the hosts reached directly.
 */
export const proxySettingsSchema = z.object({
  mode: z.enum(['none', 'system', 'manual']).default('none'),
  /** `http://proxy.entreprise.fr:8080` (an HTTPS proxy: `https://…`). */
  url: z.string().max(512).default(''),
  username: z.string().max(256).default(''),
  password: secret(512, { label: 'le mot de passe du proxy', pronoun: 'le', identity: ['proxy.url', 'proxy.username'] }),
  /** Hosts reached without the proxy, separated by commas (`localhost, .entreprise.local, 10.0.0.5`). */
  bypass: z.string().max(2048).default(''),
});

/** E-mail alerts (seed 003's « Notifications Email en cas d'Erreur »): off until configured. */
export const alertsSettingsSchema = z.object({
  emailEnabled: z.boolean().default(false),
  smtpHost: z.string().max(255).default(''),
  smtpPort: z.number().int().min(1).max(65535).default(587),
  /** true: TLS from the first byte (port 465); false: STARTTLS when the server offers it. */
  smtpSecure: z.boolean().default(false),
  smtpUser: z.string().max(256).default(''),
  smtpPassword: secret(512, { label: 'le mot de passe SMTP', pronoun: 'le', identity: ['alerts.smtpHost', 'alerts.smtpPort', 'alerts.smtpUser'] }),
  from: z.string().max(256).default(''),
  /** Recipients, separated by commas. */
  to: z.string().max(1024).default(''),
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
   * (`scrypt$N$r$p$salt$hash`, never the PIN itself). Empty = no protection. A secret (encrypted on disk,
   * `{ set }` towards the renderer) sent nowhere; changed only through protection.set / protection.clear
   * (the settings.update schema has no `protection`).
   */
  pinHash: secret(512, { label: 'le code de protection des réglages', pronoun: 'le', identity: [] }),
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
  alerts: alertsSettingsSchema.default(() => alertsSettingsSchema.parse({})),
  proxy: proxySettingsSchema.default(() => proxySettingsSchema.parse({})),
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
export type AlertsSettings = z.infer<typeof alertsSettingsSchema>;
export type ProxySettings = z.infer<typeof proxySettingsSchema>;
export type UpdatesSettings = z.infer<typeof updatesSettingsSchema>;
export type ProtectionSettings = z.infer<typeof protectionSettingsSchema>;

/** Dotted paths of the secret fields, derived from the type (`Secret`): `'sqlServer.password' | …`. */
type SecretPathsOf<T, P extends string = ''> = {
  [K in keyof T & string]: IsSecret<T[K]> extends true ? `${P}${K}` : T[K] extends Record<string, unknown> ? SecretPathsOf<T[K], `${P}${K}.`> : never;
}[keyof T & string];
export type SecretPath = SecretPathsOf<Settings>;

/** Every secret field with its mark, found in the schema (default wrappers unwrapped). */
function collectSecrets(schema: z.ZodType, prefix = ''): { path: string; meta: SecretMeta }[] {
  const meta = secretMetaOf(schema);
  if (meta) return [{ path: prefix, meta }];
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  if (!(inner instanceof z.ZodObject)) return [];
  return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) => collectSecrets(v, prefix ? `${prefix}.${k}` : k));
}

/** The secret fields and what their marks say: encrypted on disk, never sent to the renderer in clear. */
export const SECRETS: readonly { path: SecretPath; meta: SecretMeta }[] = collectSecrets(settingsSchema) as { path: SecretPath; meta: SecretMeta }[];
/** Dotted paths of the secret fields (derived from the marks). */
export const SECRET_PATHS: readonly SecretPath[] = SECRETS.map((s) => s.path);

export function defaultSettings(): Settings {
  return settingsSchema.parse({});
}
