/**
 * Keycloak token manager: one token request at a time (single flight), refresh before expiry (skew), the
 * refresh_token grant first then the configured grant (password or client_credentials), invalidation on 401.
 * Never logs a token, a password or a client secret.
 */
import type { Dispatcher } from 'undici';
import { AppError } from '../../../shared/errors.js';
import type { BatisimplySettings } from '../../../shared/settings.js';
import type { Clock, Logger } from '../ports.js';
import { tokenUrl } from './paths.js';
import { backoffDelay, parseRetryAfter } from './retry.js';
import { badResponse, keycloakErrorSchema, summarizeIssues, tokenResponseSchema } from './schemas.js';
import { exchange, header, TransportError, type HttpExchange } from './transport.js';

export interface TokenManagerDeps {
  dispatcher: Dispatcher;
  clock: Clock;
  logger: Logger;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Refresh this long before expiry at most (default 30 s; never more than a fifth of the lifetime). */
  skewMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  onTokenRequest?: (grant: string) => void;
}

interface TokenState {
  accessToken: string;
  expiresAt: number;
  refreshAt: number;
  refreshToken: string | null;
  refreshExpiresAt: number | null;
}

export class TokenManager {
  private current: TokenState | null = null;
  private inflight: Promise<TokenState> | null = null;

  constructor(
    private readonly settings: BatisimplySettings,
    private readonly deps: TokenManagerDeps,
  ) {}

  /** A valid access token, requesting or refreshing one when needed (shared by concurrent callers). */
  async getToken(): Promise<string> {
    const now = this.deps.clock.now().getTime();
    if (this.current && now < this.current.refreshAt) return this.current.accessToken;
    if (!this.inflight) {
      this.inflight = this.obtain().finally(() => {
        this.inflight = null;
      });
    }
    return (await this.inflight).accessToken;
  }

  /** Forgets the access token if it is still `token` (the API refused it); the refresh token is kept. */
  invalidate(token: string): void {
    if (this.current?.accessToken === token) {
      this.current = { ...this.current, refreshAt: 0, expiresAt: 0 };
    }
  }

  /** Forgets everything (settings changed, or a connection test). */
  reset(): void {
    this.current = null;
  }

  private async obtain(): Promise<TokenState> {
    const prev = this.current;
    const now = this.deps.clock.now().getTime();
    if (prev?.refreshToken && (prev.refreshExpiresAt === null || now < prev.refreshExpiresAt - 1000)) {
      try {
        return await this.request('refresh_token', { refresh_token: prev.refreshToken });
      } catch (e) {
        // Only a refused refresh token (session ended, revoked) falls back to a full authentication; a disabled
        // account, a wrong client secret or an unreachable SSO would fail the same way again.
        if (!(e instanceof AppError) || e.code !== 'BS_AUTH_FAILED') throw e;
        this.deps.logger.info('BatiSimply : jeton de rafraîchissement refusé, nouvelle authentification', { grant: this.settings.grantType });
      }
    }
    const s = this.settings;
    return s.grantType === 'client_credentials'
      ? this.request('client_credentials', {})
      : this.request('password', { username: s.username, password: s.password });
  }

  private async request(grant: string, fields: Record<string, string>): Promise<TokenState> {
    const s = this.settings;
    const form = new URLSearchParams({ grant_type: grant, client_id: s.clientId, ...fields });
    if (s.clientSecret) form.set('client_secret', s.clientSecret);
    if (s.scope && grant !== 'refresh_token') form.set('scope', s.scope);
    const url = tokenUrl(s.ssoUrl, s.realm);
    const body = form.toString();
    let attempt = 0;
    for (;;) {
      const startedAt = this.deps.clock.now().getTime();
      this.deps.onTokenRequest?.(grant);
      let res: HttpExchange;
      try {
        res = await exchange(this.deps.dispatcher, {
          url,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
          body,
          timeoutMs: s.timeoutMs,
        });
      } catch (e) {
        const te = e as TransportError;
        if (te.kind !== 'tls' && attempt < s.maxRetries) {
          await this.pause(attempt++, null, `token ${te.kind} ${te.code}`);
          continue;
        }
        throw ssoTransportError(te, url);
      }
      if ((res.status === 429 || res.status >= 500) && attempt < s.maxRetries) {
        const ra = parseRetryAfter(header(res.headers, 'retry-after'), this.deps.clock.now().getTime());
        if (ra === null || ra <= this.deps.maxDelayMs) {
          await this.pause(attempt++, ra, `token HTTP ${res.status}`);
          continue;
        }
      }
      if (res.status !== 200) throw tokenHttpError(res, grant);
      let json: unknown;
      try {
        json = JSON.parse(res.text);
      } catch (e) {
        throw badResponse('la demande de jeton (SSO)', 'token answer is not JSON', e);
      }
      const parsed = tokenResponseSchema.safeParse(json);
      if (!parsed.success) throw badResponse('la demande de jeton (SSO)', summarizeIssues(parsed.error));
      const t = parsed.data;
      const lifetimeMs = t.expires_in * 1000;
      const skew = Math.min(this.deps.skewMs, lifetimeMs / 5);
      const state: TokenState = {
        accessToken: t.access_token,
        expiresAt: startedAt + lifetimeMs,
        refreshAt: startedAt + lifetimeMs - skew,
        refreshToken: t.refresh_token ?? null,
        refreshExpiresAt: t.refresh_expires_in ? startedAt + t.refresh_expires_in * 1000 : null,
      };
      this.current = state;
      this.deps.logger.debug('BatiSimply : jeton obtenu', { grant, expiresInSeconds: t.expires_in, refreshable: state.refreshToken !== null });
      return state;
    }
  }

  private async pause(attempt: number, retryAfterMs: number | null, why: string): Promise<void> {
    const delay = retryAfterMs ?? backoffDelay(attempt, this.deps.baseDelayMs, this.deps.maxDelayMs, this.deps.random);
    this.deps.logger.warn('BatiSimply : nouvel essai de la demande de jeton', { attempt: attempt + 1, delayMs: delay, reason: why });
    await this.deps.sleep(delay);
  }
}

function ssoTransportError(te: TransportError, url: string): AppError {
  const host = safeHost(url);
  if (te.kind === 'tls') {
    return new AppError(
      'BS_TLS_ERROR',
      `Le certificat de sécurité du serveur d'authentification ${host} est refusé (${te.code}). Vérifiez l'adresse du SSO ou le proxy d'entreprise qui intercepte les connexions HTTPS.`,
      { detail: `SSO TLS ${te.code}: ${te.message}`, cause: te },
    );
  }
  if (te.kind === 'timeout') {
    return new AppError(
      'BS_SSO_UNREACHABLE',
      `Le serveur d'authentification BatiSimply (${host}) ne répond pas dans le délai. Vérifiez la connexion Internet, puis réessayez.`,
      { detail: `SSO timeout ${te.code}`, cause: te, retryable: true },
    );
  }
  return new AppError(
    'BS_SSO_UNREACHABLE',
    `Le serveur d'authentification BatiSimply (${host}) est injoignable. Vérifiez l'adresse du SSO et la connexion Internet, puis réessayez.`,
    { detail: `SSO ${te.kind} ${te.code}: ${te.message}`, cause: te, retryable: true },
  );
}

function tokenHttpError(res: HttpExchange, grant: string): AppError {
  let err: { error: string; error_description?: string } | null = null;
  try {
    const r = keycloakErrorSchema.safeParse(JSON.parse(res.text));
    if (r.success) err = r.data;
  } catch {
    // not JSON: handled below
  }
  const detail = `token ${grant}: HTTP ${res.status}${err ? ` ${err.error}: ${err.error_description ?? ''}` : ''}`;
  const desc = (err?.error_description ?? '').toLowerCase();
  if (err && (err.error === 'invalid_client' || err.error === 'unauthorized_client')) {
    return new AppError(
      'BS_CLIENT_SECRET_INVALID',
      "L'identifiant client ou le secret client BatiSimply est refusé. Vérifiez « Identifiant client » et « Secret client » dans Réglages › Compte BatiSimply.",
      { detail },
    );
  }
  if (err && (desc.includes('disabled') || desc.includes('désactivé') || desc.includes('not fully set up'))) {
    return new AppError(
      'BS_ACCOUNT_DISABLED',
      "Le compte BatiSimply est désactivé. Demandez à l'administrateur BatiSimply de le réactiver.",
      { detail },
    );
  }
  if (err && err.error === 'invalid_grant') {
    return new AppError(
      'BS_AUTH_FAILED',
      "L'identifiant ou le mot de passe BatiSimply est incorrect. Vérifiez « Utilisateur BatiSimply » et « Mot de passe BatiSimply » dans Réglages › Compte BatiSimply.",
      { detail },
    );
  }
  if (res.status === 429 || res.status >= 500) {
    return new AppError(
      'BS_SERVER_ERROR',
      "Le serveur d'authentification BatiSimply est momentanément indisponible. Réessayez dans quelques minutes.",
      { detail, retryable: true },
    );
  }
  if (res.status === 404) {
    return new AppError(
      'BS_SSO_UNREACHABLE',
      "L'adresse du serveur d'authentification BatiSimply ne correspond pas à un SSO Keycloak (page introuvable). Vérifiez l'adresse du SSO et le realm.",
      { detail },
    );
  }
  return new AppError(
    'BS_AUTH_FAILED',
    "L'authentification BatiSimply a échoué. Vérifiez le type d’accès et les identifiants dans Réglages › Compte BatiSimply.",
    { detail },
  );
}

export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url.slice(0, 60);
  }
}
