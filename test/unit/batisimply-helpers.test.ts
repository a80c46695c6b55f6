/** Pure helpers of the BatiSimply client: Retry-After, backoff, token URL, list envelopes, limiter. */
import { describe, expect, it } from 'vitest';
import { backoffDelay, Limiter, mapLimited, parseRetryAfter } from '../../src/main/services/batisimply/retry.js';
import { apiUrl, tokenUrl } from '../../src/main/services/batisimply/paths.js';
import { readList } from '../../src/main/services/batisimply/schemas.js';
import { isoZ } from '../../src/main/services/batisimply/client.js';
import { AppError } from '../../src/shared/errors.js';

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 15, 10, 0, 0);
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('1.5', now)).toBe(1500);
    expect(parseRetryAfter('Thu, 15 Jan 2026 10:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Thu, 15 Jan 2026 09:00:00 GMT', now)).toBe(0);
  });
  it('ignores what it cannot read', () => {
    expect(parseRetryAfter(undefined, now)).toBeNull();
    expect(parseRetryAfter('', now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter('-5', now)).toBeNull();
  });
});

describe('backoffDelay', () => {
  it('doubles per attempt with equal jitter and a cap', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, 500, 30_000, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
  });
});

describe('paths', () => {
  it('builds the token URL from a host, an /auth base or the full URL', () => {
    const full = 'https://sso.staging.batisimply.fr/auth/realms/jhipster/protocol/openid-connect/token';
    expect(tokenUrl('https://sso.staging.batisimply.fr', 'jhipster')).toBe(full);
    expect(tokenUrl('https://sso.staging.batisimply.fr/', 'jhipster')).toBe(full);
    expect(tokenUrl('https://sso.staging.batisimply.fr/auth', 'jhipster')).toBe(full);
    expect(tokenUrl(full, 'ignored')).toBe(full);
    expect(tokenUrl('https://sso.x', 'autre')).toBe('https://sso.x/auth/realms/autre/protocol/openid-connect/token');
  });
  it('joins the API base and encodes the query', () => {
    expect(apiUrl('https://api.x/', '/api/project', { 'projectCode.equals': 'A B', page: 0, size: undefined })).toBe(
      'https://api.x/api/project?projectCode.equals=A+B&page=0',
    );
  });
  it('formats window bounds as UTC without milliseconds', () => {
    expect(isoZ(Date.UTC(2026, 0, 31, 23, 59, 59, 999))).toBe('2026-01-31T23:59:59Z');
  });
});

describe('readList', () => {
  it('accepts arrays and every envelope, with totals from header or body', () => {
    expect(readList([1, 2], '7', 'x')).toEqual({ items: [1, 2], total: 7 });
    expect(readList({ elements: [1], totalElements: 3 }, undefined, 'x')).toEqual({ items: [1], total: 3 });
    expect(readList({ content: [1], totalElements: 4 }, undefined, 'x')).toEqual({ items: [1], total: 4 });
    expect(readList({ items: [1], total: 5 }, undefined, 'x')).toEqual({ items: [1], total: 5 });
    expect(readList({ data: [1], meta: { total: 6 } }, undefined, 'x')).toEqual({ items: [1], total: 6 });
    expect(readList({ data: [] }, undefined, 'x')).toEqual({ items: [], total: null });
  });
  it('anything else is a typed BS_BAD_RESPONSE', () => {
    for (const bad of [null, 'text', 42, { elements: 'no' }, { results: [] }]) {
      let err: unknown;
      try {
        readList(bad, undefined, 'la liste des chantiers');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('BS_BAD_RESPONSE');
    }
  });
});

describe('Limiter and mapLimited', () => {
  it('never runs more than the limit at once and keeps the order of results', async () => {
    let active = 0;
    let peak = 0;
    const lim = new Limiter(3);
    const task = async (i: number) => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setImmediate(r));
      active--;
      return i * 2;
    };
    const out = await Promise.all(Array.from({ length: 20 }, (_, i) => lim.run(() => task(i))));
    expect(out).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(peak).toBe(3);
    peak = 0;
    expect(await mapLimited([1, 2, 3, 4, 5], 2, (x) => task(x))).toEqual([2, 4, 6, 8, 10]);
    expect(peak).toBe(2);
  });
});
