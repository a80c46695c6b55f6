/** SecretCipher backed by Electron safeStorage (DPAPI on Windows, Keychain on macOS, libsecret on Linux). */
import { safeStorage } from 'electron';
import { AppError } from '../../shared/errors.js';
import type { SecretCipher } from '../services/ports.js';

export function createSafeStorageCipher(): SecretCipher {
  return {
    get available() {
      return safeStorage.isEncryptionAvailable();
    },
    encrypt(plain) {
      return `ss1:${safeStorage.encryptString(plain).toString('base64')}`;
    },
    decrypt(text) {
      try {
        if (!text.startsWith('ss1:')) throw new Error('unknown format');
        return safeStorage.decryptString(Buffer.from(text.slice(4), 'base64'));
      } catch (e) {
        throw new AppError('SECRET_UNAVAILABLE', 'Un mot de passe enregistré ne peut pas être déchiffré pour cet utilisateur Windows. Ressaisissez-le dans les réglages.', {
          detail: e instanceof Error ? e.message : String(e),
          cause: e,
        });
      }
    },
  };
}
