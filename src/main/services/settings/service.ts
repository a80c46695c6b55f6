/**
 * The settings service: loads, validates, migrates, decrypts and saves the connector's settings.
 *
 *  - On disk (SettingsStore) secret fields (SECRET_PATHS) are `{ "$enc": "<cipher text>" }`, never clear.
 *  - Towards the renderer they are `{ set: boolean }` (`view()`).
 *  - A file that cannot be read is renamed aside (`.corrupt-<stamp>`) and defaults load; a file with
 *    invalid sections keeps its valid sections, the invalid ones return to their defaults, the
 *    original is kept aside. Either way a French notice tells the user.
 *  - Headless servers can impose values with `CONNECTEUR_SETTINGS_FILE` (a JSON file) and
 *    `CONNECTEUR_<SECTION>_<FIELD>` variables (e.g. CONNECTEUR_SQL_SERVER_PASSWORD); they apply in
 *    memory over the stored settings and are never written back.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Notice, SettingsPatch, SettingsView } from '../../../shared/contract.js';
import { AppError, isAppError, type ErrorCode } from '../../../shared/errors.js';
import { SECRET_PATHS, SETTINGS_VERSION, defaultSettings, settingsSchema, type Settings } from '../../../shared/settings.js';
import { systemClock, type Clock, type Logger, type SecretCipher } from '../ports.js';
import { migrate } from './migrations.js';
import { deepMerge, getPath, isPlainObject, setPath, type Raw } from './paths.js';
import type { SettingsStore } from './store.js';

export const SECTION_LABELS: Record<string, string> = {
  software: 'Logiciel',
  mode: 'Mode de synchronisation',
  setupCompleted: 'Assistant de configuration',
  machineName: 'Nom du poste',
  sqlServer: 'Serveur SQL (Batigest)',
  buffer: 'Base tampon',
  batisimply: 'Compte BatiSimply',
  licence: 'Licence',
  schedule: 'Planification',
  hours: 'Import des heures',
  imports: 'Import de documents',
  updates: 'Mises à jour',
  protection: 'Protection des réglages',
  version: 'Version',
};

const SECRET_LABELS: Record<string, string> = {
  'sqlServer.password': 'le mot de passe SQL Server',
  'buffer.remote.password': 'le mot de passe de la base tampon',
  'batisimply.clientSecret': 'le secret client BatiSimply',
  'batisimply.password': 'le mot de passe BatiSimply',
  'licence.key': 'la clé de licence',
  'licence.supabaseAnonKey': 'la clé Supabase',
  'imports.apiKey': "la clé de l'API d'export",
  'protection.pinHash': 'le code de protection des réglages',
};

type Enc = { $enc: string };
const isEnc = (v: unknown): v is Enc => isPlainObject(v) && typeof v.$enc === 'string' && Object.keys(v).length === 1;

/** The renderer's view: every secret replaced by `{ set }`. Pure. */
export function maskSettings(s: Settings): SettingsView {
  const out = structuredClone(s) as unknown as Raw;
  for (const p of SECRET_PATHS) setPath(out, p, { set: typeof getPath(s, p) === 'string' && (getPath(s, p) as string).length > 0 });
  return out as unknown as SettingsView;
}

/** Applies a renderer patch to settings (secrets: string = new value, {keep} = unchanged, {clear} = empty). Pure. */
export function applyPatch(s: Settings, patch: SettingsPatch): Settings {
  const p = structuredClone(patch) as unknown as Raw;
  const secrets: [string, string | null][] = [];
  for (const sp of SECRET_PATHS) {
    const v = getPath(p, sp);
    if (v === undefined) continue;
    if (typeof v === 'string') secrets.push([sp, v]);
    else if (isPlainObject(v) && v.clear === true) secrets.push([sp, '']);
    // remove from the patch so the deep merge does not write the marker object
    const parent = sp.split('.').slice(0, -1).join('.');
    const holder = getPath(p, parent);
    if (isPlainObject(holder)) delete holder[sp.split('.').pop() as string];
  }
  // columnOverrides tables are replaced whole, not merged
  const co = getPath(p, 'sqlServer.columnOverrides');
  let merged = deepMerge(s as unknown as Raw, p);
  if (isPlainObject(co)) for (const [t, rec] of Object.entries(co)) setPath(merged, `sqlServer.columnOverrides.${t}`, rec);
  merged = structuredClone(merged);
  for (const [sp, v] of secrets) if (v !== null) setPath(merged, sp, v);
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') ?? '';
    throw new AppError('SETTINGS_INVALID', `Réglage invalide${where ? ` (« ${where} »)` : ''}. Corrigez la valeur puis enregistrez.`, {
      detail: parsed.error.message,
    });
  }
  return parsed.data;
}

// ---- environment overrides ------------------------------------------------------------------

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

type Leaf = { path: string; kind: 'string' | 'number' | 'boolean' | 'enum' };
function leaves(schema: z.ZodType, prefix = ''): Leaf[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  if (inner instanceof z.ZodString) return [{ path: prefix, kind: 'string' }];
  if (inner instanceof z.ZodNumber) return [{ path: prefix, kind: 'number' }];
  if (inner instanceof z.ZodBoolean) return [{ path: prefix, kind: 'boolean' }];
  if (inner instanceof z.ZodEnum) return [{ path: prefix, kind: 'enum' }];
  return [];
}
const SETTING_LEAVES = leaves(settingsSchema).filter((l) => l.path !== 'version');

/** `sqlServer.password` → `CONNECTEUR_SQL_SERVER_PASSWORD`. */
export function envNameOf(settingPath: string): string {
  return `CONNECTEUR_${settingPath.split('.').map(snake).join('_')}`;
}

/** `locked`: setting paths no variable may change (built-in licence configuration); they are ignored. */
export function envOverrides(env: Record<string, string | undefined>, locked: readonly string[] = []): { patch: Raw; paths: string[] } {
  const patch: Raw = {};
  const paths: string[] = [];
  for (const leaf of SETTING_LEAVES) {
    const v = env[envNameOf(leaf.path)];
    if (v === undefined || locked.includes(leaf.path)) continue;
    let value: unknown = v;
    if (leaf.kind === 'number') value = Number(v);
    if (leaf.kind === 'boolean') value = /^(1|true|oui|yes|on)$/i.test(v.trim());
    setPath(patch, leaf.path, value);
    paths.push(leaf.path);
  }
  return { patch, paths };
}

function flatPaths(o: Raw, prefix = ''): string[] {
  return Object.entries(o).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return isPlainObject(v) && !isEnc(v) && !p.endsWith('columnOverrides') ? flatPaths(v, p) : [p];
  });
}

// ---- the service ----------------------------------------------------------------------------

export interface SettingsServiceOptions {
  store: SettingsStore;
  cipher: SecretCipher;
  logger: Logger;
  clock?: Clock;
  /** Environment for CONNECTEUR_* overrides (pass process.env in the CLI/bridge; nothing in the app). */
  env?: Record<string, string | undefined>;
  /**
   * Setting paths that CONNECTEUR_* variables and CONNECTEUR_SETTINGS_FILE cannot change (default none).
   * The composition root passes the licence server configuration once a public key is built in.
   */
  lockedPaths?: readonly string[];
}

export class SettingsService {
  private readonly store: SettingsStore;
  private readonly cipher: SecretCipher;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly env: Record<string, string | undefined>;
  private readonly lockedPaths: readonly string[];
  private stored: Settings = defaultSettings();
  private resolved: Settings = defaultSettings();
  private overridden: string[] = [];
  private overlay: Raw = {};
  private noticeList: Notice[] = [];
  private noticeSeq = 0;
  private readonly changeListeners = new Set<(s: Settings) => void>();
  private readonly noticeListeners = new Set<(n: Notice) => void>();

  constructor(opts: SettingsServiceOptions) {
    this.store = opts.store;
    this.cipher = opts.cipher;
    this.log = opts.logger.child({ component: 'settings' });
    this.clock = opts.clock ?? systemClock;
    this.env = opts.env ?? {};
    this.lockedPaths = opts.lockedPaths ?? [];
    this.load();
    this.overlay = this.readOverlay();
    this.resolve();
    if (this.overridden.length > 0) {
      this.notice(
        'info',
        null,
        `Réglages imposés par l'environnement (CONNECTEUR_SETTINGS_FILE / CONNECTEUR_…), prioritaires sur ceux saisis ici : ${this.overridden.join(', ')}.`,
      );
    }
  }

  get filePath(): string {
    return this.store.path;
  }

  /** Resolved settings (secrets in clear, overrides applied). Main process only. */
  get(): Settings {
    return structuredClone(this.resolved);
  }

  /** What the renderer may see. */
  view(): SettingsView {
    return maskSettings(this.resolved);
  }

  /** Setting paths imposed by CONNECTEUR_SETTINGS_FILE / CONNECTEUR_* (not editable from the UI). */
  overriddenPaths(): string[] {
    return [...this.overridden];
  }

  notices(): Notice[] {
    return [...this.noticeList];
  }

  dismissNotice(id: string): void {
    this.noticeList = this.noticeList.filter((n) => n.id !== id);
  }

  onChange(listener: (s: Settings) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  onNotice(listener: (n: Notice) => void): () => void {
    this.noticeListeners.add(listener);
    return () => this.noticeListeners.delete(listener);
  }

  update(patch: SettingsPatch): SettingsView {
    const next = applyPatch(this.stored, patch);
    this.save(next);
    this.stored = next;
    this.resolve();
    for (const l of this.changeListeners) l(this.get());
    return this.view();
  }

  // ---- internals ----

  private notice(level: Notice['level'], code: ErrorCode | null, message: string): void {
    const n: Notice = { id: `n${++this.noticeSeq}-${this.clock.now().getTime()}`, level, code, message, at: this.clock.now().toISOString() };
    this.noticeList.push(n);
    this.log[level === 'error' ? 'error' : level === 'warning' ? 'warn' : 'info']('settings notice', { code, message });
    for (const l of this.noticeListeners) l(n);
  }

  private stamp(): string {
    return this.clock.now().toISOString().replace(/[:.]/g, '-');
  }

  private load(): void {
    const r = this.store.load();
    if (r.kind === 'empty') {
      this.stored = defaultSettings();
    } else if (r.kind === 'unreadable') {
      this.log.warn('settings file unreadable', { detail: r.detail, path: this.store.path });
      const aside = this.store.quarantine(this.stamp());
      this.stored = defaultSettings();
      this.notice(
        'error',
        'SETTINGS_CORRUPT',
        `Le fichier de réglages était illisible : il a été mis de côté${aside ? ` (${path.basename(aside)})` : ''} et les réglages par défaut ont été chargés. Refaites la configuration ou faites restaurer ce fichier par votre intégrateur.`,
      );
    } else {
      this.stored = this.fromDisk(r.data, { allowQuarantine: true });
    }
  }

  /** Decodes a raw stored object (migrate, decrypt, validate, salvage). */
  private fromDisk(rawIn: Raw, opts: { allowQuarantine: boolean; source?: string }): Settings {
    let raw: Raw;
    let applied: number[] = [];
    let from = SETTINGS_VERSION;
    try {
      ({ data: raw, applied, from } = migrate(structuredClone(rawIn)));
    } catch (e) {
      this.log.error('settings migration failed', { detail: e instanceof Error ? e.message : String(e) });
      raw = { ...rawIn, version: SETTINGS_VERSION };
    }
    if (from > SETTINGS_VERSION) {
      this.notice('warning', null, "Les réglages ont été enregistrés par une version plus récente du connecteur. Mettez l'application à jour pour éviter de perdre des réglages.");
    }
    let resave = applied.length > 0;
    for (const sp of SECRET_PATHS) {
      const v = getPath(raw, sp);
      if (isEnc(v)) {
        try {
          setPath(raw, sp, this.cipher.decrypt(v.$enc));
        } catch (e) {
          setPath(raw, sp, '');
          this.log.warn('secret not decryptable', { path: sp, detail: isAppError(e) ? e.detail : String(e) });
          this.notice('warning', 'SECRET_UNAVAILABLE', `${capitalise(SECRET_LABELS[sp] ?? sp)} enregistré(e) ne peut pas être déchiffré(e) sur ce poste. Ressaisissez-le (la) dans les réglages.`);
        }
      } else if (typeof v === 'string' && v.length > 0 && opts.allowQuarantine) {
        resave = true; // a secret written in clear by hand: encrypt it now
      }
    }
    raw.version = SETTINGS_VERSION;
    let parsed = settingsSchema.safeParse(raw);
    const reset = new Set<string>();
    for (let i = 0; !parsed.success && i < 20; i++) {
      for (const issue of parsed.error.issues) {
        const top = String(issue.path[0] ?? '');
        if (top && top in raw) {
          reset.add(top);
          delete raw[top];
        } else {
          raw = { version: SETTINGS_VERSION };
          reset.add('*');
        }
      }
      parsed = settingsSchema.safeParse(raw);
    }
    const result = parsed.success ? parsed.data : defaultSettings();
    if (reset.size > 0) {
      const aside = opts.allowQuarantine ? this.store.quarantine(this.stamp()) : null;
      const names = [...reset].map((k) => (k === '*' ? 'toutes' : (SECTION_LABELS[k] ?? k))).join(', ');
      this.notice(
        'warning',
        'SETTINGS_INVALID',
        `${opts.source ?? 'Le fichier de réglages'} contenait des valeurs invalides (sections : ${names}) : ces sections ont repris leurs valeurs par défaut.${aside ? ` L'original est conservé dans ${path.basename(aside)}.` : ''} Vérifiez-les dans les réglages.`,
      );
      resave = opts.allowQuarantine;
    }
    if (applied.length > 0 && opts.allowQuarantine) {
      this.notice('info', null, `Les réglages d'une version précédente (v${from}) ont été repris et convertis.`);
    }
    if (resave) {
      try {
        this.save(result);
      } catch (e) {
        this.log.warn('could not re-save settings', { detail: e instanceof Error ? e.message : String(e) });
      }
    }
    return result;
  }

  private toDisk(s: Settings): Raw {
    const out = structuredClone(s) as unknown as Raw;
    for (const sp of SECRET_PATHS) {
      const v = getPath(s, sp);
      if (typeof v === 'string' && v.length > 0) {
        if (!this.cipher.available) {
          throw new AppError('SECRET_UNAVAILABLE', "Le chiffrement des mots de passe n'est pas disponible sur ce poste : impossible de les enregistrer. Contactez votre intégrateur.");
        }
        setPath(out, sp, { $enc: this.cipher.encrypt(v) });
      } else setPath(out, sp, '');
    }
    return out;
  }

  private save(s: Settings): void {
    this.store.save(this.toDisk(s));
  }

  /** Values imposed by CONNECTEUR_SETTINGS_FILE and CONNECTEUR_* variables (read once, at start). */
  private readOverlay(): Raw {
    const overlay: Raw = {};
    const file = this.env.CONNECTEUR_SETTINGS_FILE;
    if (file) {
      try {
        const raw: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (!isPlainObject(raw)) throw new Error('not a JSON object');
        const decoded = this.fromDisk(raw, { allowQuarantine: false, source: `Le fichier ${path.basename(file)} (CONNECTEUR_SETTINGS_FILE)` });
        // only the keys present in the file override, after migration and decryption
        const present = flatPaths(migrate(structuredClone(raw)).data).filter((p) => p !== 'version');
        for (const p of present) if (!this.isLocked(p)) setPath(overlay, p, getPath(decoded, p));
      } catch (e) {
        this.notice('error', 'SETTINGS_CORRUPT', `Le fichier imposé par CONNECTEUR_SETTINGS_FILE est illisible : il est ignoré. Corrigez-le puis relancez.`);
        this.log.warn('override file unreadable', { file, detail: e instanceof Error ? e.message : String(e) });
      }
    }
    const ignored = SETTING_LEAVES.filter((l) => this.lockedPaths.includes(l.path) && this.env[envNameOf(l.path)] !== undefined).map((l) => envNameOf(l.path));
    if (ignored.length > 0) this.log.warn('locked settings: environment overrides ignored', { variables: ignored });
    return deepMerge(overlay, envOverrides(this.env, this.lockedPaths).patch);
  }

  /** A locked path, or a section containing one (e.g. the whole `licence` object). */
  private isLocked(p: string): boolean {
    return this.lockedPaths.some((l) => l === p || l.startsWith(`${p}.`) || p.startsWith(`${l}.`));
  }

  private resolve(): void {
    const overlay = this.overlay;
    const paths = flatPaths(overlay);
    if (paths.length === 0) {
      this.resolved = this.stored;
      this.overridden = [];
      return;
    }
    const parsed = settingsSchema.safeParse(deepMerge(structuredClone(this.stored) as unknown as Raw, overlay));
    if (parsed.success) {
      this.resolved = parsed.data;
      this.overridden = paths;
    } else {
      this.resolved = this.stored;
      this.overridden = [];
      const where = parsed.error.issues[0]?.path.join('.') ?? '';
      this.notice('error', 'SETTINGS_INVALID', `Les réglages imposés par l'environnement (CONNECTEUR_…) sont invalides${where ? ` (« ${where} »)` : ''} : ils sont ignorés.`);
    }
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
