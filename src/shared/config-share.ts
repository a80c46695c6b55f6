/**
 * Configuration sharing between the PCs of one company (issue 20): the settings of a PC exported to a file without
 * any secret and without what belongs to that PC alone, and the file read back on another PC (zod-validated, then
 * applied as a settings patch). Pure: the feature (src/main/features/config-share.ts) reads and writes the settings.
 */
import { z } from 'zod';
import { settingsPatchSchema, type SettingsPatch } from './contract.js';
import { SECRETS, type Settings } from './settings.js';

export const CONFIG_FILE_FORMAT = 'connecteur-batigest-batisimply/configuration';

/**
 * What stays on each PC: its name (the journal's and the PCs panel's), its wizard state, its PIN, its pause, the
 * folder of its embedded buffer. (Its id on the buffer lives in the data folder, never in the settings.)
 */
export const LOCAL_PATHS = ['version', 'machineName', 'setupCompleted', 'protection', 'schedule.pausedUntil', 'buffer.embeddedPath'] as const;

export const configFileSchema = z
  .object({
    format: z.literal(CONFIG_FILE_FORMAT),
    version: z.literal(1),
    exportedAt: z.string().max(40),
    /** The PC it came from (shown when imported). */
    exportedFrom: z.string().max(128),
    appVersion: z.string().max(64),
    /** Secrets that were set on that PC (paths only, never values): to be typed again here. */
    secretsSet: z.array(z.string().max(64)).max(32),
    settings: settingsPatchSchema,
  })
  .strict();
export type ConfigFile = z.infer<typeof configFileSchema>;

function dropPath(o: Record<string, unknown>, dotted: string): void {
  const parts = dotted.split('.');
  let cur: Record<string, unknown> | undefined = o;
  for (const p of parts.slice(0, -1)) cur = cur?.[p] as Record<string, unknown> | undefined;
  if (cur) delete cur[parts[parts.length - 1]!];
}

function valueAt(o: unknown, dotted: string): unknown {
  return dotted.split('.').reduce<unknown>((cur, p) => (cur && typeof cur === 'object' ? (cur as Record<string, unknown>)[p] : undefined), o);
}

/** The file of these settings: every secret and every local field left out. */
export function exportConfig(s: Settings, o: { machineName: string; appVersion: string; now: Date }): ConfigFile {
  const copy = structuredClone(s) as unknown as Record<string, unknown>;
  for (const p of LOCAL_PATHS) dropPath(copy, p);
  for (const sec of SECRETS) dropPath(copy, sec.path);
  const file = {
    format: CONFIG_FILE_FORMAT,
    version: 1 as const,
    exportedAt: o.now.toISOString(),
    exportedFrom: o.machineName,
    appVersion: o.appVersion,
    secretsSet: SECRETS.filter((sec) => typeof valueAt(s, sec.path) === 'string' && valueAt(s, sec.path) !== '').map((sec) => sec.path),
    settings: copy as SettingsPatch,
  };
  return configFileSchema.parse(file);
}

/** Reads a file (JSON text from outside: hostile) into the patch to apply, or a French reason. */
export function readConfigFile(text: string): { ok: true; file: ConfigFile; patch: SettingsPatch } | { ok: false; reason: string } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return { ok: false, reason: "Ce fichier n'est pas une configuration exportée par le connecteur (JSON illisible)." };
  }
  const r = configFileSchema.safeParse(raw);
  if (!r.success) {
    const where = r.error.issues[0]?.path.join('.') ?? '';
    return { ok: false, reason: `Ce fichier n'est pas une configuration exportée par le connecteur, ou il a été modifié${where ? ` (champ « ${where} »)` : ''}.` };
  }
  const patch = structuredClone(r.data.settings) as unknown as Record<string, unknown>;
  // Whatever the file says, this PC keeps its own (a hand-edited file cannot set them either).
  for (const p of LOCAL_PATHS) dropPath(patch, p);
  for (const sec of SECRETS) dropPath(patch, sec.path);
  return { ok: true, file: r.data, patch: patch as SettingsPatch };
}

/**
 * The patch to apply on this PC: a secret saved here whose receiver the file changes (another server, account…)
 * is cleared, to be typed again, rather than sent to the new receiver (the settings refuse that) or kept with it.
 */
export function withChangedSecretsCleared(patch: SettingsPatch, here: Settings): SettingsPatch {
  const out = structuredClone(patch) as unknown as Record<string, unknown>;
  for (const sec of SECRETS) {
    if (!valueAt(here, sec.path)) continue;
    const changed = sec.meta.identity.some((p) => {
      const v = valueAt(out, p);
      return v !== undefined && JSON.stringify(v) !== JSON.stringify(valueAt(here, p));
    });
    if (!changed) continue;
    const parts = sec.path.split('.');
    let cur = out;
    for (const k of parts.slice(0, -1)) cur = (cur[k] ??= {}) as Record<string, unknown>;
    cur[parts[parts.length - 1]!] = { clear: true };
  }
  return out as SettingsPatch;
}

/** The labels of the secrets set on the source PC that this PC still lacks (« le mot de passe SQL Server »…). */
export function secretsToType(file: ConfigFile, here: Settings): string[] {
  return SECRETS.filter((sec) => file.secretsSet.includes(sec.path) && !valueAt(here, sec.path)).map((sec) => sec.meta.label);
}
