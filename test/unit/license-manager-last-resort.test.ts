/**
 * Last-resort handlers of the licence manager process (issue 16, item 1): an escaped error is logged
 * and the process goes on; a storm of them ends the process so that its supervisor restarts it.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installLastResortHandlers, LAST_RESORT_EXIT_CODE } from '../../src/license-manager/last-resort.js';
import { BoundedSessionStore } from '../../src/license-manager/session-store.js';
import { describeError, HttpError } from '../../src/license-manager/server.js';
import type { Session } from 'fastify';

function harness(max = 3) {
  const target = new EventEmitter();
  const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
  const exits: number[] = [];
  let t = 0;
  const uninstall = installLastResortHandlers({
    logger: { error: (msg, fields) => logs.push({ msg, ...(fields ? { fields } : {}) }) },
    target,
    exit: (c) => exits.push(c),
    now: () => t,
    maxPerWindow: max,
    windowMs: 1000,
  });
  return { target, logs, exits, uninstall, advance: (ms: number) => (t += ms) };
}

describe('last-resort handlers', () => {
  it('log an uncaught exception and an unhandled rejection, and keep the process', () => {
    const h = harness();
    h.target.emit('uncaughtException', new URIError('URI malformed'));
    h.target.emit('unhandledRejection', 'raison');
    expect(h.logs.map((l) => l.msg)).toEqual(['erreur non rattrapée : le service continue', 'erreur non rattrapée : le service continue']);
    expect(h.logs[0]!.fields).toMatchObject({ kind: 'exception', err: 'URIError: URI malformed' });
    expect(h.logs[1]!.fields).toMatchObject({ kind: 'rejection', err: 'raison' });
    expect(h.exits).toEqual([]);
  });

  it('exit once with code 70 past the budget within the window, not when spread out', () => {
    const spread = harness(3);
    for (let i = 0; i < 10; i++) {
      spread.target.emit('uncaughtException', new Error(`e${i}`));
      spread.advance(600);
    }
    expect(spread.exits).toEqual([]);
    const storm = harness(3);
    for (let i = 0; i < 6; i++) storm.target.emit('uncaughtException', new Error(`e${i}`));
    expect(storm.exits).toEqual([LAST_RESORT_EXIT_CODE]);
  });

  it('a logger that throws does not make the handler throw', () => {
    const target = new EventEmitter();
    installLastResortHandlers({ logger: { error: () => { throw new Error('disque plein'); } }, target, exit: () => undefined });
    expect(() => target.emit('uncaughtException', new Error('x'))).not.toThrow();
  });

  it('uninstall removes the listeners', () => {
    const h = harness();
    h.uninstall();
    expect(h.target.listenerCount('uncaughtException')).toBe(0);
    expect(h.target.listenerCount('unhandledRejection')).toBe(0);
  });
});

describe('error description of the licence manager', () => {
  it('is total: odd values, plugin errors and body-size errors map to French answers', () => {
    expect(describeError(null)).toMatchObject({ status: 500, internal: true });
    expect(describeError('texte')).toMatchObject({ status: 500, internal: true });
    expect(describeError({ statusCode: 'x' })).toMatchObject({ status: 500 });
    expect(describeError({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' })).toMatchObject({ status: 413, code: 'payload_too_large', message: expect.stringMatching(/16 Kio/) });
    expect(describeError({ statusCode: 403, code: 'FST_CSRF_INVALID_TOKEN' })).toMatchObject({ status: 403, code: 'csrf', message: expect.stringMatching(/CSRF/) });
    expect(describeError({ statusCode: 400, code: 'FST_ERR_BAD_URL' })).toMatchObject({ status: 400, message: 'Requête invalide.' });
    expect(describeError(new HttpError(429, 'Trop.', { 'Retry-After': '7' }))).toEqual({ status: 429, code: 'too_many_requests', message: 'Trop.', headers: { 'Retry-After': '7' }, internal: false });
    const hostile = { get statusCode(): number { throw new Error('piège'); } };
    expect(describeError(hostile)).toMatchObject({ status: 500, internal: true });
  });
});

describe('bounded session store', () => {
  const session = (user?: string) => ({ ...(user ? { user } : {}) }) as unknown as Session;
  const get = (s: BoundedSessionStore, id: string) => {
    let out: unknown = 'unset';
    s.get(id, (_e, v) => (out = v));
    return out;
  };

  it('forgets a session idle for longer than the limit', () => {
    let t = 0;
    const s = new BoundedSessionStore({ max: 10, idleMs: 1000, now: () => t });
    s.set('a', session('admin'), () => undefined);
    t = 999;
    expect(get(s, 'a')).not.toBeNull();
    s.set('a', session('admin'), () => undefined); // a request renews it
    t = 1998;
    expect(get(s, 'a')).not.toBeNull();
    t = 3000;
    expect(get(s, 'a')).toBeNull();
    expect(s.size).toBe(0);
  });

  it('when full, drops anonymous sessions first and keeps the logged-in ones', () => {
    const s = new BoundedSessionStore({ max: 10, idleMs: 60_000, now: () => 0 });
    s.set('admin-1', session('admin'), () => undefined);
    for (let i = 0; i < 30; i++) s.set(`anon-${i}`, session(), () => undefined);
    expect(s.size).toBeLessThanOrEqual(10);
    expect(get(s, 'admin-1')).not.toBeNull();
    expect(get(s, 'anon-29')).not.toBeNull();
    expect(get(s, 'anon-0')).toBeNull();
  });
});
