/**
 * Licence client of the connector.
 *
 * - The key format is checked before any network call (AppError LICENSE_FORMAT).
 * - `validate()` asks the licence service: the vendor's licence manager (`provider: 'manager'`,
 *   Ed25519-signed answers, verified with the configured public key, bound to this machine and to a
 *   fresh nonce), or Supabase directly (`provider: 'supabase'`, `rpc('validate_license')` with the
 *   anon key, trusted through TLS; see "Supabase" below).
 * - The last answer is cached ENCRYPTED (SecretCipher) together with its seal (Ed25519 signature or
 *   HMAC). A cache that does not decrypt, does not parse or whose seal does not verify is rejected.
 * - Offline (network error, timeout, 5xx, 429), the app keeps working until
 *   min(last success + graceDays, valid_until of the signed answer, licence expiry).
 * - `assertSyncAllowed()` refuses sync with AppError LICENSE_REQUIRED. There is no bypass: no
 *   environment variable, flag or magic key is read anywhere in this module.
 *
 * Supabase: PostgreSQL cannot produce an Ed25519 signature, so the Supabase answer is authenticated
 * by TLS only. Its cache entry is sealed with an HMAC keyed by (licence key, machine id) and then
 * encrypted: editing or moving the cache is detected, but this is tamper-evidence on the user's own
 * machine, not a vendor signature. A cache sealed by HMAC is never accepted when the provider is
 * the licence manager (no downgrade).
 */
import { createHash, createHmac, createPublicKey, randomBytes, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { createClient } from '@supabase/supabase-js';
import { z } from 'zod';
import { AppError } from '../../../shared/errors.js';
import {
  canonicalJson,
  EXPIRING_SOON_DAYS,
  isLicenceKeyFormat,
  LICENCE_KEY_FORMAT_MESSAGE,
  LICENCE_STATE_LABELS,
  licencePayloadSchema,
  licenceRpcResultSchema,
  licenceStateMessage,
  maskLicenceKey,
  normalizeLicenceKey,
  signedLicenceAnswerSchema,
  type LicencePayload,
  type LicenceState,
  type LicenceStatus,
} from '../../../shared/licence.js';
import type { LicenceSettings } from '../../../shared/settings.js';
import type { Clock, Logger, SecretCipher } from '../ports.js';
import type { LicenceCacheStore } from './cache-store.js';
import type { MachineIdentity } from './machine-id.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;
/** How far the local clock may be behind the issue date of the cached answer before we distrust it. */
const CLOCK_SKEW_MS = 10 * 60_000;
/** The high-water mark is written again once the clock has moved this much past the stored one. */
const CLOCK_HW_PERSIST_MS = 10 * 60_000;

const CLOCK_DATE = new Intl.DateTimeFormat('fr-FR', { dateStyle: 'long', timeStyle: 'short' });

/** The clock of this PC is behind a time it has already shown: the offline grace is suspended. */
export function clockBehindMessage(highWater: Date): string {
  return (
    `L’horloge de ce poste indique une date antérieure au ${CLOCK_DATE.format(highWater)}, déjà atteinte sur ce poste : ` +
    'la licence ne peut pas être confirmée sans connexion. Remettez le poste à la bonne date et l’heure (Paramètres Windows › Heure et langue › ' +
    'Date et heure, réglage automatique de l’heure activé) ou reconnectez-le à Internet, puis cliquez sur « Vérifier la licence » dans la page Licence.'
  );
}

export const SUPABASE_HTTPS_MESSAGE =
  "L'adresse Supabase du service de licences (réglage licence.supabaseUrl, variable CONNECTEUR_LICENCE_SUPABASE_URL) doit commencer par https:// : " +
  'en http, la réponse du service pourrait être falsifiée en chemin. Corrigez-la avec l’adresse fournie par le Groupe SAGES.';

/** http:// is only accepted towards this PC itself (tests, local stand-ins). */
function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export type FetchLike = typeof globalThis.fetch;

export const MISSING_BUILT_IN_KEY_MESSAGE =
  "Cette version du connecteur ne contient pas la clé de vérification des licences : contactez l'éditeur.";

export type PinnedLicenceConfig = Partial<Pick<LicenceSettings, 'provider' | 'serverUrl' | 'publicKey' | 'supabaseUrl' | 'supabaseAnonKey'>>;

/** The part of supabase-js the client uses (injectable for tests). */
export interface SupabaseRpcClient {
  rpc(
    fn: string,
    args: Record<string, unknown>,
  ): { abortSignal(signal: AbortSignal): PromiseLike<{ data: unknown; error: { message: string; code?: string } | null; status: number }> };
}
export type SupabaseFactory = (url: string, anonKey: string, fetchImpl: FetchLike) => SupabaseRpcClient;

/** Realtime is never used; Node 20 has no global WebSocket, so supabase-js gets a transport that refuses. */
class NoRealtimeTransport {
  constructor() {
    throw new Error('Supabase Realtime is not used by the licence client');
  }
}

export const defaultSupabaseFactory: SupabaseFactory = (url, anonKey, fetchImpl) =>
  createClient(url, anonKey, {
    auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
    global: { fetch: fetchImpl },
    realtime: { transport: NoRealtimeTransport as unknown as NonNullable<NonNullable<Parameters<typeof createClient>[2]>['realtime']>['transport'] },
  }) as unknown as SupabaseRpcClient;

export interface LicenceServiceDeps {
  /** Current licence settings (read at each call, so a saved key applies immediately). */
  settings: () => LicenceSettings;
  /**
   * Values built into the release that settings (UI, CONNECTEUR_* variables) cannot change: in
   * production, at least the vendor's public key (see vendor-config.ts). Otherwise anyone able to
   * edit the settings could point the app at a server of their own signing with a key of their own.
   */
  pinned?: PinnedLicenceConfig;
  /**
   * Production builds (packaged Electron app): accept no licence unless the vendor's public key is built
   * in (`pinned.publicKey`). Without it the status is an error state and sync is refused, so nobody can
   * trust a key of their own through the settings. Development and test hosts leave it off.
   */
  requireBuiltInKey?: boolean;
  fetch: FetchLike;
  clock: Clock;
  cipher: SecretCipher;
  cache: LicenceCacheStore;
  logger: Logger;
  /**
   * This PC's id: a plain string, or the identity from machine-id.ts (OS-bound id plus the id of the
   * previous scheme, sent once so the seat moves instead of a second one being taken).
   */
  machineId: () => Promise<string | MachineIdentity>;
  appVersion: string;
  supabase?: SupabaseFactory;
  /** Waits between retries (injectable so tests do not sleep). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Retries after a network error / 5xx / 429 (default 2). */
  retries?: number;
  timeoutMs?: number;
  /** A Retry-After longer than this is not waited for: the attempt counts as offline. */
  maxRetryAfterMs?: number;
}

const cacheRecordSchema = z.object({
  v: z.literal(1),
  provider: z.enum(['manager', 'supabase']),
  seal: z.enum(['ed25519', 'hmac']),
  /** sha256(key | machine): binds the entry to this key on this machine without storing the key. */
  binding: z.string().length(64),
  payload: licencePayloadSchema,
  /** Ed25519 signature (base64) or HMAC-SHA256 (base64) of canonicalJson(payload). */
  seal_value: z.string().min(1).max(200),
  /**
   * High-water mark of this PC's clock: the latest time seen while this answer was in use. A clock
   * set earlier than that (minus a small skew) suspends the offline grace. Sealed by `clock_seal`
   * (HMAC keyed by licence key and machine) inside the encrypted record. Absent in older caches.
   */
  clock_hw: z.string().max(40).refine((x) => !Number.isNaN(Date.parse(x))).optional(),
  clock_seal: z.string().max(100).optional(),
});
type CacheRecord = z.infer<typeof cacheRecordSchema>;

type Outcome = 'none' | 'online' | 'offline';

type ProviderResult =
  | { kind: 'answer'; payload: LicencePayload; seal: 'ed25519' | 'hmac'; sealValue: string }
  | { kind: 'offline'; detail: string };

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        reject(new AppError('CANCELLED', 'Vérification de licence annulée.'));
      },
      { once: true },
    );
  });
}

function parsePublicKey(text: string): KeyObject | null {
  const t = text.trim();
  if (t === '') return null;
  try {
    if (t.includes('BEGIN PUBLIC KEY')) return createPublicKey(t);
    return createPublicKey({ key: Buffer.from(t, 'base64'), format: 'der', type: 'spki' });
  } catch {
    return null;
  }
}

function retryAfterMs(h: string | null): number | null {
  if (!h) return null;
  const s = Number(h);
  if (Number.isFinite(s)) return Math.max(0, s * 1000);
  const d = Date.parse(h);
  return Number.isNaN(d) ? null : Math.max(0, d - Date.now());
}

export class LicenceService {
  private record: CacheRecord | null = null;
  private loadedBinding: string | null = null;
  private outcome: Outcome = 'none';
  private lastAttemptAt: Date | null = null;
  /** Local time at which the last live answer was received. */
  private onlineAt: Date | null = null;
  private next: Date | null = null;
  private configProblem: string | null = null;
  private machine: string | null = null;
  /** The id of the previous binding scheme (sent so the seat moves), null when none. */
  private previousMachine: string | null = null;
  /** Latest time this PC's clock has shown (see cacheRecordSchema.clock_hw). */
  private highWater: Date | null = null;
  private persistedHighWater = 0;
  private hwWrite: Promise<void> = Promise.resolve();
  private inflight: Promise<LicenceStatus> | null = null;
  private inflightFingerprint = '';
  /** The stored answer was rejected (tampered / unreadable) and no live answer replaced it yet. */
  private cacheRejected = false;

  constructor(private readonly d: LicenceServiceDeps) {}

  /** Settings with the pinned values applied. */
  private cfg(): LicenceSettings {
    const s = { ...this.d.settings() };
    const pinned = this.d.pinned ?? {};
    for (const [k, v] of Object.entries(pinned)) {
      if (typeof v === 'string' && v.trim() !== '') (s as Record<string, unknown>)[k] = v;
    }
    // A built-in key is only checked by the licence manager: the settings cannot switch to another provider.
    if (this.keyPinned() && !(typeof pinned.provider === 'string' && pinned.provider.trim() !== '')) s.provider = 'manager';
    return s;
  }

  private keyPinned(): boolean {
    return typeof this.d.pinned?.publicKey === 'string' && this.d.pinned.publicKey.trim() !== '';
  }

  /** Production build without the vendor's key: no licence can be trusted. */
  private missingBuiltInKey(): boolean {
    return this.d.requireBuiltInKey === true && !this.keyPinned();
  }

  /** When the scheduler should call `validate()` again (null before the first check). */
  get nextCheckAt(): Date | null {
    return this.next;
  }

  /** Loads the cache and validates once. Never throws for network problems. */
  async start(): Promise<LicenceStatus> {
    try {
      return await this.validate();
    } catch (e) {
      if (e instanceof AppError && e.code === 'LICENSE_FORMAT') return this.status();
      throw e;
    }
  }

  /** For the scheduler: validates when `nextCheckAt` has passed. */
  async checkIfDue(): Promise<LicenceStatus> {
    if (this.next && this.d.clock.now() < this.next) return this.status();
    return this.start();
  }

  /** Asks the licence service now (concurrent calls with the same settings share one request). */
  validate(opts: { signal?: AbortSignal } = {}): Promise<LicenceStatus> {
    const fingerprint = JSON.stringify(this.cfg());
    if (this.inflight && this.inflightFingerprint === fingerprint) return this.inflight;
    const previous = this.inflight ?? Promise.resolve();
    const run: Promise<LicenceStatus> = previous
      .catch(() => undefined)
      .then(() => this.doValidate(opts.signal))
      .finally(() => {
        if (this.inflight === run) this.inflight = null;
      });
    this.inflight = run;
    this.inflightFingerprint = fingerprint;
    return run;
  }

  private async doValidate(signal?: AbortSignal): Promise<LicenceStatus> {
    if (this.missingBuiltInKey()) {
      this.reset();
      return this.status();
    }
    const s = this.cfg();
    const key = normalizeLicenceKey(s.key);
    this.configProblem = null;
    if (key === '') {
      this.reset();
      return this.status();
    }
    if (!isLicenceKeyFormat(key)) {
      this.reset();
      throw new AppError('LICENSE_FORMAT', LICENCE_KEY_FORMAT_MESSAGE, { detail: 'format de clé invalide (aucun appel réseau)' });
    }
    const problem = this.configurationProblem(s);
    if (problem) {
      this.reset();
      this.configProblem = problem;
      return this.status();
    }
    const machineId = await this.machineIdOnce();
    await this.loadCache(key, machineId, s);

    const now = this.d.clock.now();
    this.lastAttemptAt = now;
    const result = s.provider === 'manager' ? await this.askManager(s, key, machineId, signal) : await this.askSupabase(s, key, machineId, signal);
    const log = this.d.logger.child({ licence: maskLicenceKey(key), provider: s.provider });
    if (result.kind === 'answer') {
      this.outcome = 'online';
      this.onlineAt = now;
      this.cacheRejected = false;
      // A live answer re-anchors the clock mark at this PC's clock (not the server's: a PC whose clock
      // is steadily wrong must keep working while online). Setting the clock back and then going
      // online gains nothing: the grace is then counted from that earlier time.
      const hw = now;
      this.highWater = hw;
      this.persistedHighWater = hw.getTime();
      this.record = this.sealClock(
        {
          v: 1,
          provider: s.provider,
          seal: result.seal,
          binding: this.binding(key, machineId),
          payload: result.payload,
          seal_value: result.sealValue,
        },
        key,
        machineId,
        hw,
      );
      await this.saveCache(this.record);
      this.next = new Date(now.getTime() + s.revalidateHours * HOUR);
      log.info('licence vérifiée', { status: result.payload.status, expiresAt: result.payload.expires_at });
    } else {
      this.outcome = 'offline';
      this.next = new Date(now.getTime() + Math.min(1, s.revalidateHours) * HOUR);
      log.warn('service de licences injoignable', { detail: result.detail });
    }
    return this.status();
  }

  /** Throws AppError LICENSE_REQUIRED when the licence does not allow sync. Revalidates first if due. */
  async assertSyncAllowed(): Promise<void> {
    if (!this.next || this.d.clock.now() >= this.next) {
      try {
        await this.validate();
      } catch (e) {
        if (!(e instanceof AppError && e.code === 'LICENSE_FORMAT')) throw e;
      }
    }
    const st = this.status();
    if (st.allowsSync) return;
    throw new AppError('LICENSE_REQUIRED', `La synchronisation est impossible. ${st.message} Ouvrez la page Licence pour vérifier la licence ou saisir une nouvelle clé.`, {
      detail: `licence: ${st.state}`,
    });
  }

  /** The state for the UI, computed from the last answer, the last attempt and the clock. */
  status(): LicenceStatus {
    const s = this.cfg();
    const key = normalizeLicenceKey(s.key);
    const now = this.d.clock.now();
    const base = {
      provider: s.provider,
      keyMasked: maskLicenceKey(key),
      clientName: null as string | null,
      expiresAt: null as string | null,
      daysUntilExpiry: null as number | null,
      features: {} as Record<string, unknown>,
      maxMachines: null as number | null,
      lastValidatedAt: null as string | null,
      graceEndsAt: null as string | null,
      graceDaysLeft: null as number | null,
      nextCheckAt: this.next ? this.next.toISOString() : null,
      machineId: this.machine,
      cacheRejected: false,
    };
    const make = (state: LicenceState, allowsSync: boolean, extra: Partial<typeof base> = {}, message?: string): LicenceStatus => {
      const days = state === 'hors_ligne' ? (extra.graceDaysLeft ?? 0) : (extra.daysUntilExpiry ?? null);
      return { ...base, ...extra, state, label: LICENCE_STATE_LABELS[state], message: message ?? licenceStateMessage(state, days), allowsSync };
    };

    if (this.missingBuiltInKey()) return make('non_configuree', false, {}, MISSING_BUILT_IN_KEY_MESSAGE);
    if (key === '' || !isLicenceKeyFormat(key)) {
      return make('non_configuree', false, {}, key === '' ? undefined : LICENCE_KEY_FORMAT_MESSAGE);
    }
    if (this.configProblem) return make('non_configuree', false, {}, this.configProblem);
    const rec = this.record;
    if (!rec || (this.machine && !this.bindingIsOurs(rec, key))) {
      const why = this.cacheRejected
        ? 'Les données de licence enregistrées sur ce poste ont été modifiées ou sont illisibles : elles ont été écartées. Reconnectez ce poste à Internet puis cliquez sur « Vérifier la licence ».'
        : this.outcome === 'none'
          ? 'La licence n’a pas encore été vérifiée. Cliquez sur « Vérifier la licence ».'
          : undefined;
      return make('hors_ligne', false, { graceDaysLeft: 0, cacheRejected: this.cacheRejected }, why);
    }
    const p = rec.payload;
    const exp = p.expires_at ? new Date(p.expires_at) : null;
    const info = {
      clientName: p.client_name,
      expiresAt: p.expires_at,
      daysUntilExpiry: exp ? Math.ceil((exp.getTime() - now.getTime()) / DAY) : null,
      features: p.features,
      maxMachines: p.max_machines,
      lastValidatedAt: p.status === 'valid' ? p.issued_at : null,
    };
    switch (p.status) {
      case 'expired':
        return make('expiree', false, info);
      case 'deactivated':
        return make('desactivee', false, info);
      case 'machine_limit':
        return make('limite_postes', false, info);
      case 'invalid':
        return make('cle_inconnue', false, info);
      case 'valid':
        break;
    }
    // The clock may never go back behind a time this PC has already shown while using this answer
    // (offline grace AND the live answer's window): otherwise moving it back and forth would relive
    // the same days for ever. A recheck is made due at once: a live answer re-anchors the mark.
    const highWater = this.noteClock(now, key);
    const graceEndAt = () => {
      const c = [new Date(p.issued_at).getTime() + s.graceDays * DAY, Date.parse(p.valid_until)];
      if (exp) c.push(exp.getTime());
      return new Date(Math.min(...c)).toISOString();
    };
    if (highWater && now.getTime() < highWater.getTime() - CLOCK_SKEW_MS) {
      if (!this.next || this.next > now) this.next = now;
      return make('hors_ligne', false, { ...info, graceEndsAt: graceEndAt(), graceDaysLeft: 0 }, clockBehindMessage(highWater));
    }
    // A live answer is authoritative (even if this PC's clock disagrees with the server's) for as
    // long as the grace period, counted on the local clock from the moment it was received.
    const soon = info.daysUntilExpiry !== null && info.daysUntilExpiry <= EXPIRING_SOON_DAYS;
    const liveAnswerFresh =
      this.outcome === 'online' && this.onlineAt !== null && now >= this.onlineAt && now.getTime() - this.onlineAt.getTime() < Math.max(s.graceDays * DAY, HOUR);
    // …but not past the expiry date once this PC's clock has reached it.
    if (liveAnswerFresh && !(exp && now >= exp && exp > this.onlineAt!)) {
      return make(soon ? 'expire_bientot' : 'valide', true, { ...info, daysUntilExpiry: info.daysUntilExpiry === null ? null : Math.max(0, info.daysUntilExpiry) });
    }
    // Otherwise (offline, restart without network): the signed issue date and horizon decide.
    if (exp && now >= exp) return make('expiree', false, { ...info, daysUntilExpiry: 0 });
    const issued = new Date(p.issued_at);
    const candidates = [issued.getTime() + s.graceDays * DAY, Date.parse(p.valid_until)];
    if (exp) candidates.push(exp.getTime());
    const graceEnd = new Date(Math.min(...candidates));
    const clockRolledBack = now.getTime() < issued.getTime() - CLOCK_SKEW_MS;
    const graceLeftMs = clockRolledBack ? 0 : graceEnd.getTime() - now.getTime();
    // Whole days left, rounded down (never shows more than remains), at least 1 while some time is left.
    const graceDaysLeft = graceLeftMs > 0 ? Math.max(1, Math.floor(graceLeftMs / DAY)) : 0;
    const grace = { graceEndsAt: graceEnd.toISOString(), graceDaysLeft };
    return make('hors_ligne', graceLeftMs > 0, { ...info, ...grace });
  }

  // ------------------------------------------------------------------------------------------ helpers

  private reset(): void {
    this.record = null;
    this.highWater = null;
    this.persistedHighWater = 0;
    this.loadedBinding = null;
    this.outcome = 'none';
    this.onlineAt = null;
    this.next = null;
  }

  private configurationProblem(s: LicenceSettings): string | null {
    if (s.provider === 'manager') {
      if (!/^https?:\/\//.test(s.serverUrl)) return "L'adresse du service de licences n'est pas configurée. Renseignez-la dans la page Licence (fournie par le Groupe SAGES).";
      if (!parsePublicKey(s.publicKey)) return "La clé publique du service de licences est absente ou illisible : les réponses ne peuvent pas être vérifiées. Renseignez la clé fournie par le Groupe SAGES.";
    } else {
      if (!/^https?:\/\//.test(s.supabaseUrl)) return "L'adresse Supabase du service de licences n'est pas configurée. Renseignez-la dans la page Licence.";
      let url: URL | null;
      try {
        url = new URL(s.supabaseUrl);
      } catch {
        url = null;
      }
      if (!url || (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname)))) return SUPABASE_HTTPS_MESSAGE;
      if (s.supabaseAnonKey.trim() === '') return 'La clé publique (anon) Supabase du service de licences n’est pas configurée. Renseignez-la dans la page Licence.';
    }
    return null;
  }

  private async machineIdOnce(): Promise<string> {
    if (!this.machine) {
      const m = await this.d.machineId();
      const identity = typeof m === 'string' ? { id: m, previous: null } : m;
      this.machine = identity.id.slice(0, 128);
      const previous = identity.previous?.slice(0, 128) ?? null;
      this.previousMachine = previous && previous !== this.machine ? previous : null;
    }
    return this.machine;
  }

  /** The record is bound to this key on this PC, under its id or (right after the id changed) its previous id. */
  private bindingIsOurs(rec: CacheRecord, key: string): boolean {
    if (!this.machine) return false;
    if (rec.binding === this.binding(key, this.machine)) return true;
    return this.previousMachine !== null && rec.binding === this.binding(key, this.previousMachine);
  }

  private clockSeal(key: string, machineId: string, hw: string): string {
    return createHmac('sha256', this.hmacKey(key, machineId)).update(`clock-hw\0${hw}`).digest('base64');
  }

  private sealClock(rec: CacheRecord, key: string, machineId: string, hw: Date): CacheRecord {
    const iso = hw.toISOString();
    return { ...rec, clock_hw: iso, clock_seal: this.clockSeal(key, machineId, iso) };
  }

  /**
   * Raises the high-water mark to `now` and returns it. Written back to the cache (asynchronously,
   * serialised) once it moved CLOCK_HW_PERSIST_MS past the stored value, so that a restart keeps it.
   */
  private noteClock(now: Date, key: string): Date | null {
    const rec = this.record;
    if (!rec) return this.highWater;
    if (!this.highWater || now.getTime() > this.highWater.getTime()) this.highWater = now;
    const hw = this.highWater;
    if (hw.getTime() - this.persistedHighWater >= CLOCK_HW_PERSIST_MS) {
      this.persistedHighWater = hw.getTime();
      const machineId = rec.payload.machine_id;
      this.hwWrite = this.hwWrite
        .then(async () => {
          if (this.record !== rec) return; // replaced by a live answer meanwhile
          this.record = this.sealClock(rec, key, machineId, hw);
          await this.saveCache(this.record);
        })
        .catch(() => undefined);
    }
    return hw;
  }

  private binding(key: string, machineId: string): string {
    return createHash('sha256').update(`licence-cache-v1\0${key}\0${machineId}`).digest('hex');
  }

  private hmacKey(key: string, machineId: string): Buffer {
    return createHash('sha256').update(`licence-cache-hmac-v1\0${key}\0${machineId}`).digest();
  }

  private hmac(key: string, machineId: string, payload: LicencePayload): string {
    return createHmac('sha256', this.hmacKey(key, machineId)).update(canonicalJson(payload)).digest('base64');
  }

  private verifySeal(rec: CacheRecord, key: string, machineId: string, s: LicenceSettings): boolean {
    if (rec.provider !== s.provider) return false;
    if (rec.seal === 'ed25519') {
      if (s.provider !== 'manager') return false;
      const pub = parsePublicKey(s.publicKey);
      if (!pub) return false;
      try {
        return verify(null, Buffer.from(canonicalJson(rec.payload), 'utf8'), pub, Buffer.from(rec.seal_value, 'base64'));
      } catch {
        return false;
      }
    }
    if (s.provider !== 'supabase') return false;
    return this.sameMac(this.hmac(key, machineId, rec.payload), rec.seal_value);
  }

  private sameMac(expectedB64: string, actualB64: string): boolean {
    const expected = Buffer.from(expectedB64, 'base64');
    const actual = Buffer.from(actualB64, 'base64');
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  private async loadCache(key: string, machineId: string, s: LicenceSettings): Promise<void> {
    const binding = this.binding(key, machineId);
    if (this.loadedBinding === binding) return;
    this.record = null;
    this.outcome = 'none';
    this.onlineAt = null;
    this.cacheRejected = false;
    this.highWater = null;
    this.persistedHighWater = 0;
    this.loadedBinding = binding;
    let raw: string | null;
    try {
      raw = await this.d.cache.read();
    } catch (e) {
      this.d.logger.warn('cache de licence illisible', { detail: e instanceof Error ? e.message : String(e) });
      return;
    }
    if (raw === null) return;
    let rec: CacheRecord;
    try {
      rec = cacheRecordSchema.parse(JSON.parse(this.d.cipher.decrypt(raw)));
    } catch {
      await this.rejectCache('déchiffrement ou format invalide');
      return;
    }
    // Bound to this key on this PC (under its id, or its previous id right after the id changed);
    // another key or another PC: not ours, simply ignored.
    const boundTo = rec.binding === binding ? machineId : this.previousMachine && rec.binding === this.binding(key, this.previousMachine) ? this.previousMachine : null;
    if (!boundTo) return;
    if (!this.verifySeal(rec, key, boundTo, s) || rec.payload.machine_id !== boundTo) {
      await this.rejectCache('sceau (signature/HMAC) invalide');
      return;
    }
    if (rec.clock_hw !== undefined || rec.clock_seal !== undefined) {
      if (!rec.clock_hw || !rec.clock_seal || !this.sameMac(this.clockSeal(key, boundTo, rec.clock_hw), rec.clock_seal)) {
        await this.rejectCache('repère d’horloge altéré');
        return;
      }
    }
    this.record = rec;
    // An older cache without the mark starts from the issue date of its answer.
    this.highWater = new Date(rec.clock_hw ?? rec.payload.issued_at);
    this.persistedHighWater = this.highWater.getTime();
  }

  private async rejectCache(why: string): Promise<void> {
    this.cacheRejected = true;
    this.d.logger.warn('cache de licence rejeté (altéré)', { detail: why, code: 'LICENSE_TAMPERED' });
    await this.d.cache.clear().catch(() => undefined);
  }

  private async saveCache(rec: CacheRecord): Promise<void> {
    try {
      await this.d.cache.write(this.d.cipher.encrypt(JSON.stringify(rec)));
    } catch (e) {
      this.d.logger.warn("cache de licence non enregistré (le mode hors ligne ne sera pas disponible)", {
        detail: e instanceof Error ? e.message : String(e),
      });
    }
  }

  /** Runs `attempt` with a timeout, retrying transient failures with backoff + jitter. */
  private async withRetries(
    attempt: (signal: AbortSignal) => Promise<ProviderResult | { kind: 'retry'; detail: string; afterMs: number | null }>,
    signal?: AbortSignal,
  ): Promise<ProviderResult> {
    const retries = this.d.retries ?? 2;
    const sleep = this.d.sleep ?? defaultSleep;
    const maxRetryAfter = this.d.maxRetryAfterMs ?? 30_000;
    let last = 'aucune tentative';
    for (let i = 0; i <= retries; i++) {
      if (signal?.aborted) throw new AppError('CANCELLED', 'Vérification de licence annulée.');
      const timeout = AbortSignal.timeout(this.d.timeoutMs ?? 10_000);
      const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
      let r;
      try {
        r = await attempt(combined);
      } catch (e) {
        if (signal?.aborted) throw new AppError('CANCELLED', 'Vérification de licence annulée.');
        r = { kind: 'retry' as const, detail: e instanceof Error ? `${e.name}: ${e.message}` : String(e), afterMs: null };
      }
      if (r.kind !== 'retry') return r;
      last = r.detail;
      if (i === retries) break;
      if (r.afterMs !== null && r.afterMs > maxRetryAfter) break;
      const backoff = r.afterMs ?? Math.min(8_000, 500 * 2 ** i) * (0.5 + Math.random() / 2);
      await sleep(backoff, signal);
    }
    return { kind: 'offline', detail: last };
  }

  private async askManager(s: LicenceSettings, key: string, machineId: string, signal?: AbortSignal): Promise<ProviderResult> {
    const pub = parsePublicKey(s.publicKey)!;
    const url = `${s.serverUrl.replace(/\/+$/, '')}/api/v1/validate`;
    return this.withRetries(async (sig) => {
      const nonce = randomBytes(16).toString('base64url');
      const res = await this.d.fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          license_key: key,
          machine_id: machineId,
          app_version: this.d.appVersion,
          nonce,
          ...(this.previousMachine ? { previous_machine_id: this.previousMachine } : {}),
        }),
        signal: sig,
      });
      if (res.status === 429 || res.status >= 500) {
        await res.body?.cancel();
        return { kind: 'retry', detail: `HTTP ${res.status}`, afterMs: retryAfterMs(res.headers.get('retry-after')) };
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        return { kind: 'offline', detail: `HTTP ${res.status} inattendu` };
      }
      const parsed = signedLicenceAnswerSchema.safeParse(await res.json().catch(() => null));
      if (!parsed.success) return { kind: 'offline', detail: 'réponse du service de licences illisible' };
      const { payload, signature } = parsed.data;
      let ok: boolean;
      try {
        ok = verify(null, Buffer.from(canonicalJson(payload), 'utf8'), pub, Buffer.from(signature, 'base64'));
      } catch {
        ok = false;
      }
      if (!ok || payload.machine_id !== machineId || payload.nonce !== nonce) {
        this.d.logger.error('réponse de licence rejetée : signature, poste ou nonce invalide', { code: 'LICENSE_TAMPERED' });
        return { kind: 'offline', detail: 'réponse non authentique (signature/nonce)' };
      }
      return { kind: 'answer', payload, seal: 'ed25519', sealValue: signature };
    }, signal);
  }

  private async askSupabase(s: LicenceSettings, key: string, machineId: string, signal?: AbortSignal): Promise<ProviderResult> {
    const client = (this.d.supabase ?? defaultSupabaseFactory)(s.supabaseUrl.replace(/\/+$/, ''), s.supabaseAnonKey.trim(), this.d.fetch);
    const args = { p_key: key, p_machine_id: machineId, p_app_version: this.d.appVersion };
    return this.withRetries(async (sig) => {
      let r = await client
        .rpc('validate_license', this.previousMachine ? { ...args, p_previous_machine_id: this.previousMachine } : args)
        .abortSignal(sig);
      // A Supabase project whose SQL predates the seat move has no 4-argument function (PGRST202).
      if (r.error?.code === 'PGRST202' && this.previousMachine) r = await client.rpc('validate_license', args).abortSignal(sig);
      if (r.error) {
        if (r.status === 0 || r.status === 429 || r.status >= 500) return { kind: 'retry', detail: `Supabase ${r.status}: ${r.error.message}`, afterMs: null };
        return { kind: 'offline', detail: `Supabase a refusé l'appel (HTTP ${r.status}, ${r.error.code ?? ''})` };
      }
      const parsed = licenceRpcResultSchema.safeParse(r.data);
      if (!parsed.success || parsed.data.machine_id !== machineId) return { kind: 'offline', detail: 'réponse Supabase illisible' };
      const now = this.d.clock.now();
      const rpc = parsed.data;
      let validUntil = now.getTime() + s.graceDays * DAY;
      if (rpc.status === 'valid' && rpc.expires_at) validUntil = Math.min(validUntil, Date.parse(rpc.expires_at));
      const payload: LicencePayload = {
        status: rpc.status,
        client_name: rpc.client_name,
        expires_at: rpc.expires_at,
        features: rpc.features ?? {},
        max_machines: rpc.max_machines,
        issued_at: now.toISOString(),
        valid_until: new Date(validUntil).toISOString(),
        machine_id: machineId,
        nonce: null,
      };
      return { kind: 'answer', payload, seal: 'hmac', sealValue: this.hmac(key, machineId, payload) };
    }, signal);
  }
}
