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
import { SECRETS, SECRET_PATHS, SETTINGS_VERSION, defaultSettings, settingsSchema, type Settings } from '../../../shared/settings.js';
import { systemClock, type Clock, type Logger, type SecretCipher } from '../ports.js';
import { settingLabel } from './labels.js';
import { keptSecretMessage, keptSecretsOffIdentity } from './secret-identity.js';
import { migrate, type MigrationNote } from './migrations.js';
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
  chantiers: 'Chantiers',
  imports: 'Import de documents',
  updates: 'Mises à jour',
  protection: 'Protection des réglages',
  version: 'Version',
};

/** « Le mot de passe SQL Server enregistré ne peut pas être déchiffré… » (label and gender from the secret's mark). */
function undecryptableMessage(sp: string, software: Settings['software']): string {
  const meta = SECRETS.find((x) => x.path === sp)?.meta;
  const e = meta?.pronoun === 'la' ? 'e' : '';
  return `${capitalise(meta?.label ?? sp)} enregistré${e} ne peut pas être déchiffré${e} sur ce poste. Ressaisissez-${meta?.pronoun ?? 'le'} dans ${settingLabel(sp, software)}.`;
}

type Enc = { $enc: string };
const isEnc = (v: unknown): v is Enc => isPlainObject(v) && typeof v.$enc === 'string' && Object.keys(v).length === 1;

/** The renderer's view: every secret replaced by `{ set }`. Pure. */
export function maskSettings(s: Settings): SettingsView {
  const out = structuredClone(s) as unknown as Raw;
  for (const p of SECRET_PATHS) setPath(out, p, { set: typeof getPath(s, p) === 'string' && (getPath(s, p) as string).length > 0 });
  return out as unknown as SettingsView;
}

/**
 * Applies a renderer patch to settings (secrets: string = new value, {keep} = unchanged, {clear} = empty). Pure.
 * A saved secret kept while the server, account or security mode it was saved for changes is refused
 * (secret-identity.ts): the caller must type it again.
 */
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
  // so are the Etat meanings of Réglages › Chantiers (a value given back to detection is removed)
  const roles = getPath(p, 'chantiers.etatRoles');
  if (isPlainObject(roles)) setPath(merged, 'chantiers.etatRoles', roles);
  merged = structuredClone(merged);
  for (const [sp, v] of secrets) if (v !== null) setPath(merged, sp, v);
  const parsed = settingsSchema.safeParse(merged);
  if (!parsed.success) {
    const where = parsed.error.issues[0]?.path.join('.') ?? '';
    throw new AppError('SETTINGS_INVALID', `Réglage invalide${where ? ` (« ${where} »)` : ''}. Corrigez la valeur puis enregistrez.`, {
      detail: parsed.error.message,
    });
  }
  const refused = keptSecretsOffIdentity(s, parsed.data, patch);
  if (refused.length > 0) {
    throw new AppError('SETTINGS_INVALID', keptSecretMessage(refused, parsed.data.software), {
      detail: `kept secret for another identity: ${refused.map((r) => `${r.secret} (${r.changed.join(', ')})`).join('; ')}`,
    });
  }
  return parsed.data;
}

// ---- environment overrides ------------------------------------------------------------------

const snake = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();

type Leaf = { path: string; kind: 'string' | 'number' | 'boolean' | 'enum'; schema: z.ZodType };
function leaves(schema: z.ZodType, prefix = ''): Leaf[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  if (inner instanceof z.ZodObject) {
    return Object.entries(inner.shape as Record<string, z.ZodType>).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  if (inner instanceof z.ZodString) return [{ path: prefix, kind: 'string', schema: inner }];
  if (inner instanceof z.ZodNumber) return [{ path: prefix, kind: 'number', schema: inner }];
  if (inner instanceof z.ZodBoolean) return [{ path: prefix, kind: 'boolean', schema: inner }];
  if (inner instanceof z.ZodEnum) return [{ path: prefix, kind: 'enum', schema: inner }];
  return [];
}
const SETTING_LEAVES = leaves(settingsSchema).filter((l) => l.path !== 'version');
const leafAt = (p: string): Leaf | undefined => SETTING_LEAVES.find((l) => l.path === p);

/** What a setting accepts, in French: « un nombre entier entre 1 et 65535 ». Derived from the schema. */
export function expectedValue(settingPath: string): string {
  const leaf = leafAt(settingPath);
  const s = leaf?.schema;
  if (s instanceof z.ZodNumber) {
    const what = s.isInt ? 'un nombre entier' : 'un nombre';
    const min = s.minValue !== null && s.minValue > Number.MIN_SAFE_INTEGER ? s.minValue : null;
    const max = s.maxValue !== null && s.maxValue < Number.MAX_SAFE_INTEGER ? s.maxValue : null;
    if (min !== null && max !== null) return `${what} entre ${min} et ${max}`;
    if (min !== null) return `${what} supérieur ou égal à ${min}`;
    if (max !== null) return `${what} inférieur ou égal à ${max}`;
    return what;
  }
  if (s instanceof z.ZodBoolean) return 'oui ou non (true/false, 1/0)';
  if (s instanceof z.ZodEnum) return `une valeur parmi ${(s.options as string[]).join(', ')}`;
  if (s instanceof z.ZodString) return s.maxLength !== null ? `un texte de ${s.maxLength} caractères au plus` : 'un texte';
  return 'une valeur du bon type';
}

const TRUE_WORDS = /^(1|true|oui|yes|on)$/i;
const FALSE_WORDS = /^(0|false|non|no|off)$/i;

/** One variable's text → the setting's value, or null when the text is not a valid value for it. */
function parseEnvValue(leaf: Leaf, text: string): { value: unknown } | null {
  let v: unknown = text;
  const t = text.trim();
  if (leaf.kind === 'number') {
    if (!/^[+-]?\d+(\.\d+)?$/.test(t)) return null;
    v = Number(t);
  } else if (leaf.kind === 'boolean') {
    if (TRUE_WORDS.test(t)) v = true;
    else if (FALSE_WORDS.test(t)) v = false;
    else return null;
  } else if (leaf.kind === 'enum') v = t;
  const r = leaf.schema.safeParse(v);
  return r.success ? { value: r.data } : null;
}

const isSecretPath = (p: string) => (SECRET_PATHS as readonly string[]).includes(p);
/** A value as a message may show it: secrets never, long texts cut. */
function shown(settingPath: string, value: unknown): string {
  if (isSecretPath(settingPath)) return '« (valeur masquée) »';
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return `« ${text.length > 60 ? `${text.slice(0, 60)}…` : text} »`;
}

/** `sqlServer.password` → `CONNECTEUR_SQL_SERVER_PASSWORD`. */
export function envNameOf(settingPath: string): string {
  return `CONNECTEUR_${settingPath.split('.').map(snake).join('_')}`;
}

export interface EnvOverrideError {
  variable: string;
  path: string;
  value: string;
}

/**
 * The settings imposed by CONNECTEUR_* variables. Each variable is checked against its setting's schema;
 * the invalid ones are returned in `errors` (the caller refuses them all, naming each variable).
 * `locked`: setting paths no variable may change (built-in licence configuration); they are ignored.
 */
export function envOverrides(
  env: Record<string, string | undefined>,
  locked: readonly string[] = [],
): { patch: Raw; paths: string[]; errors: EnvOverrideError[] } {
  const patch: Raw = {};
  const paths: string[] = [];
  const errors: EnvOverrideError[] = [];
  for (const leaf of SETTING_LEAVES) {
    const variable = envNameOf(leaf.path);
    const v = env[variable];
    if (v === undefined || locked.includes(leaf.path)) continue;
    const parsed = parseEnvValue(leaf, v);
    if (!parsed) {
      errors.push({ variable, path: leaf.path, value: v });
      continue;
    }
    setPath(patch, leaf.path, parsed.value);
    paths.push(leaf.path);
  }
  return { patch, paths, errors };
}

/** The French refusal of invalid CONNECTEUR_* variables: each one named, with what it accepts. */
export function envErrorMessage(errors: readonly EnvOverrideError[]): string {
  const parts = errors.map((e) => `${e.variable} = ${shown(e.path, e.value)} (${e.path}) : valeur attendue : ${expectedValue(e.path)}`);
  return errors.length === 1
    ? `Variable d'environnement invalide : ${parts[0]}. Corrigez ou retirez cette variable, puis relancez.`
    : `Variables d'environnement invalides : ${parts.join(' ; ')}. Corrigez ou retirez ces variables, puis relancez.`;
}

/** Paths of `value` that the settings schema does not know (typos, keys of another program). */
function unknownPaths(value: unknown, schema: z.ZodType, prefix = ''): string[] {
  let inner: z.ZodType = schema;
  while (inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType;
  if (!isPlainObject(value) || !(inner instanceof z.ZodObject)) return [];
  const shape = inner.shape as Record<string, z.ZodType>;
  return Object.entries(value).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    const child = Object.prototype.hasOwnProperty.call(shape, k) ? shape[k] : undefined;
    return child ? unknownPaths(v, child, p) : [p];
  });
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
      this.stored = this.fromDisk(r.data);
    }
  }

  /** Migrates and decrypts a raw object (stored file or CONNECTEUR_SETTINGS_FILE); validation is the caller's. */
  private decode(rawIn: Raw): { raw: Raw; applied: number[]; from: number; notes: MigrationNote[]; clearSecrets: boolean } {
    let raw: Raw;
    let applied: number[] = [];
    let from = SETTINGS_VERSION;
    const notes: MigrationNote[] = [];
    try {
      ({ data: raw, applied, from } = migrate(structuredClone(rawIn), undefined, undefined, notes));
    } catch (e) {
      this.log.error('settings migration failed', { detail: e instanceof Error ? e.message : String(e) });
      raw = { ...rawIn, version: SETTINGS_VERSION };
    }
    let clearSecrets = false;
    for (const sp of SECRET_PATHS) {
      const v = getPath(raw, sp);
      if (isEnc(v)) {
        try {
          setPath(raw, sp, this.cipher.decrypt(v.$enc));
        } catch (e) {
          setPath(raw, sp, '');
          this.log.warn('secret not decryptable', { path: sp, detail: isAppError(e) ? e.detail : String(e) });
          this.notice('warning', 'SECRET_UNAVAILABLE', undecryptableMessage(sp, settingsSchema.shape.software.safeParse(raw.software).data ?? 'batigest'));
        }
      } else if (typeof v === 'string' && v.length > 0) {
        clearSecrets = true; // a secret written in clear by hand
      }
    }
    raw.version = SETTINGS_VERSION;
    return { raw, applied, from, notes, clearSecrets };
  }

  /** The keys of a file that were not imported (legacy keys without equivalent, unknown keys): one warning. */
  private noticeIgnored(raw: Raw, notes: MigrationNote[], from: number, source: string): void {
    if (from > SETTINGS_VERSION) return; // a newer version's keys: already said above
    const ignored = [...notes.filter((n) => n.kind === 'ignored').map((n) => n.legacy), ...unknownPaths(raw, settingsSchema)];
    if (ignored.length === 0) return;
    this.log.warn('settings keys ignored', { source, keys: ignored });
    const one = ignored.length === 1;
    this.notice(
      'warning',
      null,
      `${source} contient ${one ? 'une clé ignorée' : `${ignored.length} clés ignorées`} (sans équivalent dans ce connecteur) : ${ignored.join(', ')}. ${one ? 'Elle n’a' : 'Elles n’ont'} pas été ${one ? 'reprise' : 'reprises'} : vérifiez les réglages correspondants.`,
    );
  }

  /** Invalid fields of a decoded object, each with its value, its legacy name and what it accepts. */
  private invalidFields(raw: Raw, notes: MigrationNote[]): { path: string; text: string }[] {
    const parsed = settingsSchema.safeParse(raw);
    if (parsed.success) return [];
    const legacyOf = new Map(notes.flatMap((n) => (n.kind === 'converted' ? [[n.path, n.legacy] as const] : [])));
    const out = new Map<string, string>();
    for (const issue of parsed.error.issues) {
      const p = issue.path.map(String).join('.');
      if (out.has(p)) continue;
      const legacy = legacyOf.get(p);
      const value = getPath(raw, p);
      const expected = leafAt(p) ? expectedValue(p) : issue.message;
      out.set(p, `${p || 'le fichier entier'}${legacy ? ` (« ${legacy} » de l'ancien connecteur)` : ''}${value !== undefined && !isPlainObject(value) ? ` = ${shown(p, value)}` : ''} : valeur attendue : ${expected}`);
    }
    return [...out].map(([path, text]) => ({ path, text }));
  }

  /**
   * Decodes the stored settings file: migrate, decrypt, validate. An invalid field returns to its default
   * (the rest of its section is kept), the original file is kept aside, and a notice names each field.
   */
  private fromDisk(rawIn: Raw): Settings {
    const { raw: decoded, applied, from, notes, clearSecrets } = this.decode(rawIn);
    let raw = decoded;
    if (from > SETTINGS_VERSION) {
      this.notice('warning', null, "Les réglages ont été enregistrés par une version plus récente du connecteur. Mettez l'application à jour pour éviter de perdre des réglages.");
    }
    this.noticeIgnored(raw, notes, from, applied.length > 0 ? `Le fichier de réglages de l'ancien connecteur (credentials.json)` : 'Le fichier de réglages');
    let resave = applied.length > 0 || clearSecrets;
    const invalid = this.invalidFields(raw, notes);
    const reset = new Set<string>();
    let parsed = settingsSchema.safeParse(raw);
    for (let i = 0; !parsed.success && i < 50; i++) {
      for (const issue of parsed.error.issues) {
        // Remove the deepest key of the issue's path that exists: that field takes its default.
        const parts = issue.path.map(String);
        let n = parts.length;
        while (n > 0 && getPath(raw, parts.slice(0, n).join('.')) === undefined) n--;
        if (n === 0) {
          raw = { version: SETTINGS_VERSION };
          reset.add('*');
          break;
        }
        const holder = n === 1 ? raw : getPath(raw, parts.slice(0, n - 1).join('.'));
        if (isPlainObject(holder)) delete holder[parts[n - 1] as string];
        reset.add(parts[0] as string);
      }
      parsed = settingsSchema.safeParse(raw);
    }
    const result = parsed.success ? parsed.data : defaultSettings();
    if (reset.size > 0) {
      const aside = this.store.quarantine(this.stamp());
      const names = [...reset].map((k) => (k === '*' ? 'toutes' : (SECTION_LABELS[k] ?? k))).join(', ');
      const software = result.software;
      const fields = invalid
        .map((f) => {
          const def = leafAt(f.path) && !isSecretPath(f.path) ? getPath(result, f.path) : undefined;
          return `${settingLabel(f.path, software)} — ${f.text}${def !== undefined ? ` (valeur par défaut reprise : ${shown(f.path, def)})` : ''}`;
        })
        .join(' ; ');
      this.notice(
        'warning',
        'SETTINGS_INVALID',
        `Le fichier de réglages contenait des valeurs invalides (sections : ${names})${fields ? ` : ${fields}` : ''}. Ces réglages ont repris leur valeur par défaut.${aside ? ` L'original est conservé dans ${path.basename(aside)}.` : ''} Vérifiez-les dans les réglages.`,
      );
      resave = true;
    }
    if (applied.length > 0) {
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

  /**
   * Values imposed by CONNECTEUR_SETTINGS_FILE and CONNECTEUR_* variables (read once, at start). An invalid
   * variable, an unreadable file or an invalid field of the file is refused (AppError SETTINGS_INVALID naming
   * each one): imposed settings are never dropped silently, in part or in whole.
   */
  private readOverlay(): Raw {
    const overlay: Raw = {};
    const file = this.env.CONNECTEUR_SETTINGS_FILE;
    if (file) {
      const name = path.basename(file);
      let raw: unknown;
      try {
        raw = JSON.parse(fs.readFileSync(file, 'utf8'));
        if (!isPlainObject(raw)) throw new Error('not a JSON object');
      } catch (e) {
        this.log.warn('override file unreadable', { file, detail: e instanceof Error ? e.message : String(e) });
        throw new AppError(
          'SETTINGS_INVALID',
          `Le fichier de réglages ${name} (CONNECTEUR_SETTINGS_FILE) est introuvable, illisible ou n'est pas un objet JSON. Corrigez-le (ou la variable) puis relancez.`,
          { detail: `${file}: ${e instanceof Error ? e.message : String(e)}` },
        );
      }
      const { raw: decoded, from, notes } = this.decode(raw);
      const invalid = this.invalidFields(decoded, notes).filter((f) => !this.isLocked(f.path));
      if (invalid.length > 0) {
        throw new AppError(
          'SETTINGS_INVALID',
          `Le fichier de réglages ${name} (CONNECTEUR_SETTINGS_FILE) contient ${invalid.length === 1 ? 'une valeur invalide' : `${invalid.length} valeurs invalides`} : ${invalid.map((f) => f.text).join(' ; ')}. Corrigez-le puis relancez.`,
          { detail: invalid.map((f) => f.path).join(', ') },
        );
      }
      this.noticeIgnored(decoded, notes, from, `Le fichier ${name} (CONNECTEUR_SETTINGS_FILE)`);
      const parsed = settingsSchema.parse(decoded);
      // only the keys present in the file override, after migration and decryption
      const present = flatPaths(decoded).filter((p) => p !== 'version' && getPath(parsed, p) !== undefined);
      for (const p of present) if (!this.isLocked(p)) setPath(overlay, p, getPath(parsed, p));
    }
    const ignored = SETTING_LEAVES.filter((l) => this.lockedPaths.includes(l.path) && this.env[envNameOf(l.path)] !== undefined).map((l) => envNameOf(l.path));
    if (ignored.length > 0) this.log.warn('locked settings: environment overrides ignored', { variables: ignored });
    const fromEnv = envOverrides(this.env, this.lockedPaths);
    if (fromEnv.errors.length > 0) {
      this.log.warn('invalid environment overrides', { variables: fromEnv.errors.map((e) => e.variable) });
      throw new AppError('SETTINGS_INVALID', envErrorMessage(fromEnv.errors), { detail: fromEnv.errors.map((e) => e.variable).join(', ') });
    }
    return deepMerge(overlay, fromEnv.patch);
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
    if (!parsed.success) {
      // Each imposed value was checked alone (readOverlay); this guards the combination.
      const where = parsed.error.issues.map((i) => i.path.join('.')).join(', ');
      throw new AppError('SETTINGS_INVALID', `Les réglages imposés par l'environnement (CONNECTEUR_…) sont invalides (${where}). Corrigez-les puis relancez.`, {
        detail: parsed.error.message,
      });
    }
    this.resolved = parsed.data;
    this.overridden = paths;
  }
}

function capitalise(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
