/**
 * Licence contract shared by the licence manager (vendor side), the licence client (main process)
 * and the renderer (licence page, banners).
 *
 * - key format and normalisation;
 * - the payload the licence manager signs (Ed25519 over `canonicalJson(payload)`);
 * - the states the UI shows, with a French label and message for each.
 *
 * Pure TypeScript + zod: no Node import (the renderer imports this file too).
 */
import { z } from 'zod';

/** Alphabet of generated keys: no 0/O, 1/I/L (ambiguous when read aloud or on paper). */
export const LICENCE_KEY_ALPHABET = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const LICENCE_KEY_PATTERN = /^[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}$/;

/** Trims, upper-cases and removes inner spaces: what a user pastes becomes the canonical form. */
export function normalizeLicenceKey(raw: string): string {
  return raw.replace(/\s+/g, '').toUpperCase();
}

export function isLicenceKeyFormat(raw: string): boolean {
  return LICENCE_KEY_PATTERN.test(normalizeLicenceKey(raw));
}

/** Shows only the last group, for logs and the UI: "XXXX-XXXX-XXXX-7KQ3". */
export function maskLicenceKey(raw: string): string {
  const key = normalizeLicenceKey(raw);
  if (!LICENCE_KEY_PATTERN.test(key)) return key.length > 0 ? '••••' : '';
  return `XXXX-XXXX-XXXX-${key.slice(-4)}`;
}

export const LICENCE_KEY_FORMAT_MESSAGE =
  'La clé de licence doit avoir la forme XXXX-XXXX-XXXX-XXXX (4 groupes de 4 lettres ou chiffres). Vérifiez la clé fournie par le Groupe SAGES.';

// ---------------------------------------------------------------------------------------------
// Signed answers of the licence manager

export const LICENCE_SERVER_STATUSES = ['valid', 'expired', 'deactivated', 'machine_limit', 'invalid'] as const;
export const licenceServerStatusSchema = z.enum(LICENCE_SERVER_STATUSES);
export type LicenceServerStatus = z.infer<typeof licenceServerStatusSchema>;

/** Request body of POST /api/v1/validate and POST /api/v1/heartbeat. */
export const licenceValidateRequestSchema = z.object({
  license_key: z.string().max(64),
  machine_id: z.string().max(128),
  app_version: z.string().max(64).optional(),
  /** Random value echoed in the signed payload, so an old answer cannot be replayed. */
  nonce: z.string().max(64).optional(),
  /**
   * The id this installation was bound to before its machine id changed (previous binding scheme):
   * the seat held by that id moves to `machine_id` instead of a second seat being taken.
   */
  previous_machine_id: z.string().max(128).optional(),
});
export type LicenceValidateRequest = z.infer<typeof licenceValidateRequestSchema>;

const isoDate = z.string().max(40).refine((s) => !Number.isNaN(Date.parse(s)), 'date ISO attendue');

/** The payload signed by the licence manager. Every field is always present (null when unknown). */
export const licencePayloadSchema = z.object({
  status: licenceServerStatusSchema,
  client_name: z.string().max(300).nullable(),
  expires_at: isoDate.nullable(),
  features: z.record(z.string(), z.unknown()),
  max_machines: z.number().int().nullable(),
  issued_at: isoDate,
  /** Validity horizon: the client may rely on this answer (offline) until then, at most. */
  valid_until: isoDate,
  machine_id: z.string().max(128),
  nonce: z.string().max(64).nullable(),
});
export type LicencePayload = z.infer<typeof licencePayloadSchema>;

export const signedLicenceAnswerSchema = z.object({
  payload: licencePayloadSchema,
  /** base64 Ed25519 signature of canonicalJson(payload). */
  signature: z.string().min(1).max(200),
  alg: z.literal('Ed25519'),
});
export type SignedLicenceAnswer = z.infer<typeof signedLicenceAnswerSchema>;

/**
 * What the SQL function `validate_license` returns (the Supabase path gets exactly this).
 * No issued_at / valid_until / nonce: the HTTP service adds them before signing.
 */
export const licenceRpcResultSchema = z.object({
  status: licenceServerStatusSchema,
  client_name: z.string().max(300).nullable(),
  expires_at: isoDate.nullable(),
  features: z.record(z.string(), z.unknown()).nullable(),
  max_machines: z.number().int().nullable(),
  machine_id: z.string().max(128),
});
export type LicenceRpcResult = z.infer<typeof licenceRpcResultSchema>;

/**
 * Deterministic JSON: object keys sorted, no whitespace. Both sides compute it the same way, so
 * the signature covers the values, not the formatting.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('canonicalJson: nombre non fini');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  throw new Error(`canonicalJson: type non pris en charge (${typeof value})`);
}

// ---------------------------------------------------------------------------------------------
// States shown in the UI

export const LICENCE_STATES = [
  'valide',
  'expire_bientot',
  'expiree',
  'desactivee',
  'limite_postes',
  'cle_inconnue',
  'hors_ligne',
  'non_configuree',
] as const;
export const licenceStateSchema = z.enum(LICENCE_STATES);
export type LicenceState = z.infer<typeof licenceStateSchema>;

export const EXPIRING_SOON_DAYS = 30;

export const licenceStatusSchema = z.object({
  state: licenceStateSchema,
  label: z.string(),
  message: z.string(),
  /** True when sync and scheduling are permitted. */
  allowsSync: z.boolean(),
  provider: z.enum(['manager', 'supabase']),
  keyMasked: z.string(),
  clientName: z.string().nullable(),
  expiresAt: z.string().nullable(),
  daysUntilExpiry: z.number().int().nullable(),
  features: z.record(z.string(), z.unknown()),
  maxMachines: z.number().int().nullable(),
  /** Last successful exchange with the licence service. */
  lastValidatedAt: z.string().nullable(),
  /** Offline: end of the grace period and whole days left (0 when over). */
  graceEndsAt: z.string().nullable(),
  graceDaysLeft: z.number().int().nullable(),
  nextCheckAt: z.string().nullable(),
  /** Identifier of this PC as sent to the licence service (not a secret). */
  machineId: z.string().nullable(),
  /** The answer stored on this PC was rejected as altered (and nothing replaced it yet). */
  cacheRejected: z.boolean(),
});
export type LicenceStatus = z.infer<typeof licenceStatusSchema>;

export const LICENCE_STATE_LABELS: Record<LicenceState, string> = {
  valide: 'Licence valide',
  expire_bientot: 'Licence bientôt expirée',
  expiree: 'Licence expirée',
  desactivee: 'Licence désactivée',
  limite_postes: 'Limite de postes atteinte',
  cle_inconnue: 'Clé de licence inconnue',
  hors_ligne: 'Hors ligne (délai de grâce)',
  non_configuree: 'Licence non configurée',
};

function plural(n: number, word: string): string {
  return `${n} ${word}${n > 1 ? 's' : ''}`;
}

/** The French message of a state; `days` is daysUntilExpiry (expire_bientot) or graceDaysLeft (hors_ligne). */
export function licenceStateMessage(state: LicenceState, days: number | null = null): string {
  switch (state) {
    case 'valide':
      return 'Votre licence est valide. La synchronisation est autorisée.';
    case 'expire_bientot':
      return `Votre licence expire dans ${plural(Math.max(0, days ?? 0), 'jour')}. Contactez le Groupe SAGES (support@groupe-sages.fr) pour la prolonger.`;
    case 'expiree':
      return 'Votre licence a expiré : la synchronisation est suspendue. Contactez le Groupe SAGES (support@groupe-sages.fr) pour la renouveler.';
    case 'desactivee':
      return 'Votre licence a été désactivée : la synchronisation est suspendue. Contactez le Groupe SAGES (support@groupe-sages.fr).';
    case 'limite_postes':
      return 'Cette licence est déjà utilisée sur le nombre maximal de postes. Libérez un poste depuis le service de licences ou contactez le Groupe SAGES.';
    case 'cle_inconnue':
      return "Cette clé de licence n'est pas reconnue. Vérifiez la clé saisie (forme XXXX-XXXX-XXXX-XXXX) ou contactez le Groupe SAGES.";
    case 'hors_ligne':
      return days !== null && days > 0
        ? `Le service de licences est injoignable. Le connecteur continue de fonctionner encore ${plural(days, 'jour')} ; vérifiez la connexion Internet de ce poste.`
        : "Le service de licences est injoignable et le délai de grâce est écoulé : la synchronisation est suspendue. Vérifiez la connexion Internet de ce poste puis cliquez sur « Vérifier la licence ».";
    case 'non_configuree':
      return "Aucune licence n'est configurée. Saisissez la clé fournie par le Groupe SAGES dans la page Licence.";
  }
}
