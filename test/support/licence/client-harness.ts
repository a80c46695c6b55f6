/**
 * Small pieces for tests of the licence client: an AES-GCM cipher, a clock the test moves, a logger
 * that keeps its lines.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Clock, Logger, LogFields, SecretCipher } from '../../../src/main/services/ports.js';

export const DAY = 86_400_000;

export function testCipher(): SecretCipher {
  const key = randomBytes(32);
  return {
    available: true,
    encrypt(plain) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', key, iv);
      const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
    },
    decrypt(text) {
      const buf = Buffer.from(text, 'base64');
      const d = createDecipheriv('aes-256-gcm', key, buf.subarray(0, 12));
      d.setAuthTag(buf.subarray(12, 28));
      return Buffer.concat([d.update(buf.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

export class TestClock implements Clock {
  t = Date.now();
  now = () => new Date(this.t);
  advance(ms: number): void {
    this.t += ms;
  }
}

export function captureLogger(lines: string[], bindings: LogFields = {}): Logger {
  const log = (level: string) => (msg: string, fields?: LogFields) => lines.push(JSON.stringify({ level, msg, ...bindings, ...fields }));
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: (b) => captureLogger(lines, { ...bindings, ...b }) };
}
