/**
 * Cryptography of the licence manager, all from node:crypto:
 *  - Ed25519 signing of the canonical payload;
 *  - scrypt password hashes (`scrypt$N$r$p$salt$hash`, base64) with constant-time comparison;
 *  - licence keys XXXX-XXXX-XXXX-XXXX drawn with rejection sampling from an unambiguous alphabet;
 *  - random tokens for sessions and CSRF.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  randomInt,
  scrypt as scryptCb,
  sign,
  timingSafeEqual,
  verify,
  type KeyObject,
  type ScryptOptions,
} from 'node:crypto';
import { canonicalJson, LICENCE_KEY_ALPHABET } from '../shared/licence.js';

function scrypt(password: string, salt: Buffer, keylen: number, opts: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scryptCb(password, salt, keylen, opts, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

// ---------------------------------------------------------------- signing

export interface SigningKeys {
  privateKey: KeyObject;
  publicKey: KeyObject;
  /** SPKI PEM of the public key: what the connector is configured with. */
  publicKeyPem: string;
}

export function loadSigningKeys(privatePem: string, publicPem?: string): SigningKeys {
  const privateKey = createPrivateKey(privatePem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('La clé de signature doit être une clé Ed25519.');
  const publicKey = publicPem ? createPublicKey(publicPem) : createPublicKey(privateKey);
  const derived = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  if (!derived.equals(publicKey.export({ type: 'spki', format: 'der' }))) {
    throw new Error('La clé publique ne correspond pas à la clé privée de signature.');
  }
  return { privateKey, publicKey, publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString() };
}

export function generateSigningKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

export function signPayload(keys: SigningKeys, payload: unknown): string {
  return sign(null, Buffer.from(canonicalJson(payload), 'utf8'), keys.privateKey).toString('base64');
}

export function verifyPayload(publicKey: KeyObject, payload: unknown, signatureB64: string): boolean {
  try {
    return verify(null, Buffer.from(canonicalJson(payload), 'utf8'), publicKey, Buffer.from(signatureB64, 'base64'));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------- passwords

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 32 } as const;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, SCRYPT.keylen, { N: SCRYPT.N, r: SCRYPT.r, p: SCRYPT.p, maxmem: 64 * 1024 * 1024 });
  return `scrypt$${SCRYPT.N}$${SCRYPT.r}$${SCRYPT.p}$${salt.toString('base64')}$${hash.toString('base64')}`;
}

export function isPasswordHash(s: string): boolean {
  return /^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/.test(s);
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, saltB64, hashB64] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(hashB64, 'base64');
  const N = Number(n);
  if (!Number.isInteger(N) || N < 1024 || N > 1 << 20 || expected.length < 16) return false;
  const actual = await scrypt(password, Buffer.from(saltB64, 'base64'), expected.length, {
    N,
    r: Number(r),
    p: Number(p),
    maxmem: 256 * 1024 * 1024,
  });
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

// ---------------------------------------------------------------- keys and tokens

/** A new licence key, 4 groups of 4 characters drawn uniformly (crypto.randomInt) from the alphabet. */
export function generateLicenceKey(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let s = '';
    for (let i = 0; i < 4; i++) s += LICENCE_KEY_ALPHABET[randomInt(LICENCE_KEY_ALPHABET.length)];
    groups.push(s);
  }
  return groups.join('-');
}

export function randomToken(bytes = 32): string {
  return randomBytes(bytes).toString('base64url');
}

export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}
