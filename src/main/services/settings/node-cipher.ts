/**
 * SecretCipher for plain Node (CLI, web bridge, tests): AES-256-GCM with a random 256-bit key kept
 * in a file of the OS user's data folder (mode 0600). The Electron app uses safeStorage instead
 * (src/main/shell/safe-storage-cipher.ts).
 *
 * Cipher text: `v1:` + base64(iv[12] | tag[16] | data).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { AppError } from '../../../shared/errors.js';
import type { SecretCipher } from '../ports.js';
import { ensurePrivateDir, ensurePrivateFile, PRIVATE_FILE_MODE } from '../private-fs.js';

/** The per-user data folder of the connector (Windows %APPDATA%, macOS Application Support, XDG elsewhere). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const name = 'connecteur-batisimply';
  if (platform === 'win32') return path.join(env.APPDATA ?? path.join(os.homedir(), 'AppData', 'Roaming'), name);
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Application Support', name);
  return path.join(env.XDG_DATA_HOME ?? path.join(os.homedir(), '.local', 'share'), name);
}

function readOrCreateKey(file: string): Buffer {
  ensurePrivateDir(path.dirname(file));
  try {
    const fd = fs.openSync(file, 'wx', PRIVATE_FILE_MODE);
    try {
      fs.writeSync(fd, crypto.randomBytes(32).toString('base64'));
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    ensurePrivateFile(file);
  }
  const key = Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) {
    throw new AppError('SECRET_UNAVAILABLE', 'La clé de chiffrement des mots de passe est illisible. Ressaisissez les mots de passe dans les réglages.', {
      detail: `key file ${file} has ${key.length} bytes`,
    });
  }
  return key;
}

export function createNodeCipher(opts: { keyFile?: string } = {}): SecretCipher & { readonly keyFile: string } {
  const keyFile = opts.keyFile ?? path.join(userDataDir(), 'secret.key');
  let key: Buffer | null = null;
  const getKey = () => (key ??= readOrCreateKey(keyFile));
  return {
    keyFile,
    available: true,
    encrypt(plain) {
      const iv = crypto.randomBytes(12);
      const c = crypto.createCipheriv('aes-256-gcm', getKey(), iv);
      const data = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return `v1:${Buffer.concat([iv, c.getAuthTag(), data]).toString('base64')}`;
    },
    decrypt(text) {
      try {
        if (!text.startsWith('v1:')) throw new Error('unknown format');
        const raw = Buffer.from(text.slice(3), 'base64');
        const d = crypto.createDecipheriv('aes-256-gcm', getKey(), raw.subarray(0, 12));
        d.setAuthTag(raw.subarray(12, 28));
        return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
      } catch (e) {
        if (e instanceof AppError) throw e;
        throw new AppError('SECRET_UNAVAILABLE', 'Un mot de passe enregistré ne peut pas être déchiffré sur ce poste. Ressaisissez-le dans les réglages.', {
          detail: e instanceof Error ? e.message : String(e),
          cause: e,
        });
      }
    },
  };
}
