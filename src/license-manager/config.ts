/**
 * Configuration of the licence manager, read from the environment and validated with zod.
 *
 *  DATABASE_URL                      PostgreSQL (or Supabase "direct connection") URL — required
 *  LM_SIGNING_PRIVATE_KEY            Ed25519 private key, PKCS#8 PEM (value)   ┐ one of the two
 *  LM_SIGNING_PRIVATE_KEY_FILE       … or path of the PEM file                 ┘ required
 *  LM_SIGNING_PUBLIC_KEY[_FILE]      optional; checked against the private key
 *  LM_ADMIN_PASSWORD_HASH            scrypt hash (npm run license-manager -- hash-password) — required
 *  LM_ADMIN_USER                     admin login name (default "admin")
 *  LM_HOST / LM_PORT                 listen address (default 127.0.0.1:8787)
 *  LM_VALIDITY_DAYS                  validity horizon of signed answers (default 7)
 *  LM_TRUST_PROXY                    behind a reverse proxy: the number of trusted proxy hops (1 = the
 *                                    proxy connecting to us), or a comma-separated list of the proxies'
 *                                    addresses / CIDRs. The client address is the one the trusted hops
 *                                    added to X-Forwarded-For (read from the right), never the left-most.
 *  LM_RATE_IP_PER_MIN / LM_RATE_KEY_PER_MIN   validation requests allowed per minute (default 60 / 20)
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import { isPasswordHash, loadSigningKeys, type SigningKeys } from './security.js';

const intFrom = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s === '' ? def : Number(s)))
    .pipe(z.number().int().min(min).max(max));

const envSchema = z.object({
  DATABASE_URL: z.string().min(1, 'DATABASE_URL est obligatoire'),
  LM_SIGNING_PRIVATE_KEY: z.string().optional(),
  LM_SIGNING_PRIVATE_KEY_FILE: z.string().optional(),
  LM_SIGNING_PUBLIC_KEY: z.string().optional(),
  LM_SIGNING_PUBLIC_KEY_FILE: z.string().optional(),
  LM_ADMIN_PASSWORD_HASH: z.string().refine(isPasswordHash, 'LM_ADMIN_PASSWORD_HASH doit être un hash scrypt$…'),
  LM_ADMIN_USER: z.string().min(1).max(64).default('admin'),
  LM_HOST: z.string().min(1).default('127.0.0.1'),
  LM_PORT: intFrom(8787, 0, 65535),
  LM_VALIDITY_DAYS: intFrom(7, 1, 60),
  LM_TRUST_PROXY: z
    .string()
    .default('')
    .transform((raw, ctx): TrustProxy => {
      const parsed = parseTrustProxy(raw);
      if (parsed === null) {
        ctx.addIssue({ code: 'custom', message: TRUST_PROXY_HELP });
        return z.NEVER;
      }
      return parsed;
    }),
  LM_RATE_IP_PER_MIN: intFrom(60, 1, 100_000),
  LM_RATE_KEY_PER_MIN: intFrom(20, 1, 100_000),
});

/**
 * Which proxies are believed: none, the N hops nearest to us, or the listed addresses. Handed to
 * fastify's `trustProxy` (proxy-addr): the client address is the first untrusted one walking
 * X-Forwarded-For from the right.
 */
export type TrustProxy = false | { hops: number } | { addresses: string[] };

const TRUST_PROXY_HELP =
  "nombre de proxys de confiance (1 à 10), ou liste de leurs adresses / plages CIDR séparées par des virgules (ex. « 127.0.0.1, 10.0.0.0/8 »), ou 0 sans proxy";

/** Names proxy-addr knows for address ranges. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(s: string): boolean {
  if (RANGE_NAMES.has(s)) return true;
  const [addr, prefix, ...rest] = s.split('/');
  if (rest.length > 0 || !addr) return false;
  const family = isIP(addr);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** null when the value is neither a hop count nor a list of addresses. */
export function parseTrustProxy(raw: string): TrustProxy | null {
  const v = raw.trim();
  if (v === '' || v === '0') return false;
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    return n >= 1 && n <= 10 ? { hops: n } : null;
  }
  const parts = v.split(',').map((x) => x.trim().toLowerCase());
  if (parts.some((x) => !isAddressOrCidr(x))) return null;
  return { addresses: parts };
}

export interface RateLimits {
  perIp: number;
  perKey: number;
  windowMs: number;
  /** Login attempts per IP per window. */
  loginPerIp: number;
}

export interface LicenseManagerConfig {
  databaseUrl: string;
  signing: SigningKeys;
  adminUser: string;
  adminPasswordHash: string;
  host: string;
  port: number;
  validityDays: number;
  trustProxy: TrustProxy;
  rateLimits: RateLimits;
  /** Admin session lifetime (idle). */
  sessionIdleMs: number;
}

function pemFrom(value: string | undefined, file: string | undefined): string | undefined {
  if (value && value.trim() !== '') return value.replace(/\\n/g, '\n');
  if (file && file.trim() !== '') return readFileSync(file, 'utf8');
  return undefined;
}

export function loadConfig(env: NodeJS.ProcessEnv): LicenseManagerConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const msg = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`Configuration du gestionnaire de licences invalide : ${msg}`);
  }
  const e = parsed.data;
  const privatePem = pemFrom(e.LM_SIGNING_PRIVATE_KEY, e.LM_SIGNING_PRIVATE_KEY_FILE);
  if (!privatePem) throw new Error('LM_SIGNING_PRIVATE_KEY ou LM_SIGNING_PRIVATE_KEY_FILE est obligatoire.');
  const signing = loadSigningKeys(privatePem, pemFrom(e.LM_SIGNING_PUBLIC_KEY, e.LM_SIGNING_PUBLIC_KEY_FILE));
  return {
    databaseUrl: e.DATABASE_URL,
    signing,
    adminUser: e.LM_ADMIN_USER,
    adminPasswordHash: e.LM_ADMIN_PASSWORD_HASH,
    host: e.LM_HOST,
    port: e.LM_PORT,
    validityDays: e.LM_VALIDITY_DAYS,
    trustProxy: e.LM_TRUST_PROXY,
    rateLimits: { perIp: e.LM_RATE_IP_PER_MIN, perKey: e.LM_RATE_KEY_PER_MIN, windowMs: 60_000, loginPerIp: 10 },
    sessionIdleMs: 30 * 60_000,
  };
}
