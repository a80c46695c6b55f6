/**
 * There is no development bypass of the licence: no environment variable, flag or magic key.
 * The licence client reads nothing from the environment, and nothing in src/ mentions a bypass.
 * Also checks the pure helpers of src/shared/licence.ts and the key generator.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLicenceKey } from '../../src/license-manager/security.js';
import { LicenceService } from '../../src/main/services/licence/licence-service.js';
import { canonicalJson, isLicenceKeyFormat, LICENCE_KEY_ALPHABET, LICENCE_STATES, LICENCE_STATE_LABELS, licenceStateMessage, maskLicenceKey, normalizeLicenceKey } from '../../src/shared/licence.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : /\.(ts|tsx|js|mjs|cjs)$/.test(n) ? [p] : [];
  });
}

describe('no licence bypass', () => {
  it('the licence client and the shared contract read no environment variable and no build flag', () => {
    const own = [...files('src/main/services/licence'), 'src/shared/licence.ts'];
    expect(own.length).toBeGreaterThan(3);
    for (const f of own) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/process\.env|import\.meta\.env|NODE_ENV|isDev|isPackaged|--dev\b|argv/);
    }
  });

  it('nothing in src/ looks like a way to skip the licence', () => {
    const suspicious =
      /(licen[cs]e?|licence)[\w.-]{0,20}(bypass|skip|disable|override|ignore|dev[_-]?mode)|(bypass|skip|disable|ignore)[\w.-]{0,20}licen[cs]e?|DEV_LICEN|LICEN[CS]E_DEV|FAKE_LICEN|allowAnyLicen/i;
    const offenders = files('src').filter((f) => suspicious.test(readFileSync(f, 'utf8')));
    expect(offenders).toEqual([]);
  });

  it('assertSyncAllowed takes no argument (no way to ask it to look away)', () => {
    expect(LicenceService.prototype.assertSyncAllowed.length).toBe(0);
  });
});

describe('shared licence helpers', () => {
  it('normalises, checks and masks keys', () => {
    expect(normalizeLicenceKey(' abcd-efgh-jkmn-pq23 ')).toBe('ABCD-EFGH-JKMN-PQ23');
    expect(isLicenceKeyFormat('abcd-efgh-jkmn-pq23')).toBe(true);
    expect(isLicenceKeyFormat('ABCD-EFGH-JKMN')).toBe(false);
    expect(isLicenceKeyFormat('ABCD-EFGH-JKMN-PQ2*')).toBe(false);
    expect(maskLicenceKey('ABCD-EFGH-JKMN-PQ23')).toBe('XXXX-XXXX-XXXX-PQ23');
    expect(maskLicenceKey('secret-mal-formé')).toBe('••••');
  });

  it('canonical JSON sorts keys at every level and ignores undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: null }], c: 'é' }, u: undefined })).toBe('{"a":{"c":"é","d":[1,{"y":null,"z":1}]},"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
  });

  it('every state has a French label and message', () => {
    for (const s of LICENCE_STATES) {
      expect(LICENCE_STATE_LABELS[s].length).toBeGreaterThan(5);
      expect(licenceStateMessage(s, 3).length).toBeGreaterThan(20);
    }
    expect(licenceStateMessage('hors_ligne', 1)).toMatch(/encore 1 jour ;/);
    expect(licenceStateMessage('hors_ligne', 0)).toMatch(/délai de grâce est écoulé/);
  });

  it('generated keys use only the unambiguous alphabet and all of it', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const k = generateLicenceKey();
      expect(k).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
      expect(k).not.toMatch(/[01OIL]/);
      for (const c of k.replace(/-/g, '')) seen.add(c);
    }
    expect([...seen].sort().join('')).toBe([...LICENCE_KEY_ALPHABET].sort().join(''));
  });
});
