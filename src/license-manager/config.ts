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
 *  LM_TRUST_PROXY                    "1" when behind a reverse proxy: client IP from X-Forwarded-For
 *  LM_RATE_IP_PER_MIN / LM_RATE_KEY_PER_MIN   validation requests allowed per minute (default 60 / 20)
 */
import { readFileSync } from 'node:fs';
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
  LM_TRUST_PROXY: z.enum(['0', '1', '']).default('0'),
  LM_RATE_IP_PER_MIN: intFrom(60, 1, 100_000),
  LM_RATE_KEY_PER_MIN: intFrom(20, 1, 100_000),
});

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
  trustProxy: boolean;
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
    trustProxy: e.LM_TRUST_PROXY === '1',
    rateLimits: { perIp: e.LM_RATE_IP_PER_MIN, perKey: e.LM_RATE_KEY_PER_MIN, windowMs: 60_000, loginPerIp: 10 },
    sessionIdleMs: 30 * 60_000,
  };
}
