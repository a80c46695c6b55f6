import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { contract } from '../../../src/shared/contract.js';
import { AppError } from '../../../src/shared/errors.js';
import { createIpcRouter, type Handlers } from '../../../src/main/ipc/router.js';
import { isAllowedSender } from '../../../src/main/ipc/sender.js';
import { memoryLogger } from '../../support/foundation/memory-logger.js';

describe('IPC router', () => {
  it('rejects invalid input with INVALID_INPUT and a French message, without calling the handler', async () => {
    const run = vi.fn(() => ({ runId: 'r1' }));
    const router = createIpcRouter(contract, { 'sync.run': run } as Partial<Handlers>, { logger: memoryLogger() });
    const r = await router.invoke('sync.run', { flow: 'everything' });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('INVALID_INPUT');
    expect(r.error.message).toMatch(/invalide/i);
    expect(r.error.message).toContain('flow');
    expect(run).not.toHaveBeenCalled();

    const extra = await router.invoke('sync.run', { flow: 'push', drop: 'table' });
    expect(extra.ok).toBe(false);
    expect(run).not.toHaveBeenCalled();

    const good = await router.invoke('sync.run', { flow: 'push' });
    expect(good).toEqual({ ok: true, value: { runId: 'r1' } });
    expect(run).toHaveBeenCalledWith({ flow: 'push' }, { host: 'test' });
  });

  it('refuses an unknown channel, including prototype names', async () => {
    const router = createIpcRouter(contract, {}, { logger: memoryLogger() });
    for (const name of ['nope', '__proto__', 'constructor', 'toString']) {
      const r = await router.invoke(name, {});
      expect(r).toMatchObject({ ok: false, error: { code: 'UNKNOWN_CHANNEL' } });
    }
  });

  it('turns a thrown raw error into INTERNAL with a French message; the raw text only reaches the log', async () => {
    const logger = memoryLogger();
    const router = createIpcRouter(
      contract,
      {
        'sync.status': () => {
          throw new TypeError("Cannot read properties of undefined (reading 'password=hunter2')");
        },
      },
      { logger },
    );
    const r = await router.invoke('sync.status', undefined);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('INTERNAL');
    expect(r.error.message).not.toMatch(/Cannot read|hunter2|undefined/);
    expect(r.error.message).toMatch(/journal/);
    expect(JSON.stringify(logger.records)).toContain('Cannot read properties');
  });

  it('passes an AppError code and French message through', async () => {
    const router = createIpcRouter(
      contract,
      {
        'licence.check': () => {
          throw new AppError('LICENSE_OFFLINE', 'Service de licence injoignable. Vérifiez la connexion Internet.', { detail: 'ECONNREFUSED' });
        },
      },
      { logger: memoryLogger() },
    );
    expect(await router.invoke('licence.check', undefined)).toEqual({
      ok: false,
      error: { code: 'LICENSE_OFFLINE', message: 'Service de licence injoignable. Vérifiez la connexion Internet.' },
    });
  });

  it('validates outputs: a handler leaking a secret in clear in settings.get is stopped', async () => {
    const router = createIpcRouter(
      contract,
      // deliberately wrong handler: returns the resolved settings (password in clear)
      { 'settings.get': (async () => ({ sqlServer: { password: 'secret' } })) as unknown as Handlers['settings.get'] },
      { logger: memoryLogger() },
    );
    const r = await router.invoke('settings.get', undefined);
    expect(r).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(JSON.stringify(r)).not.toContain('secret');
  });
});

describe('sender check', () => {
  it('works with the app:// scheme of the packaged app', () => {
    const p = { allowedWebContentsId: 1, allowedUrlPrefixes: ['app://connecteur/'] };
    expect(isAllowedSender({ webContentsId: 1, frameUrl: 'app://connecteur/index.html', isMainFrame: true }, p)).toBe(true);
    expect(isAllowedSender({ webContentsId: 1, frameUrl: 'app://connecteur/journal/run?id=1', isMainFrame: true }, p)).toBe(true);
    expect(isAllowedSender({ webContentsId: 1, frameUrl: 'app://evil/index.html', isMainFrame: true }, p)).toBe(false);
    expect(isAllowedSender({ webContentsId: 1, frameUrl: 'app://connecteur.evil/index.html', isMainFrame: true }, p)).toBe(false);
    expect(isAllowedSender({ webContentsId: 1, frameUrl: 'https://connecteur/index.html', isMainFrame: true }, p)).toBe(false);
  });

  const rendererUrl = pathToFileURL('/opt/connecteur/resources/app/dist/renderer').href + '/';
  const policy = { allowedWebContentsId: 7, allowedUrlPrefixes: [rendererUrl] };
  const own = { webContentsId: 7, frameUrl: `${rendererUrl}index.html#/journal`, isMainFrame: true };

  it('accepts the app window showing the app page', () => {
    expect(isAllowedSender(own, policy)).toBe(true);
  });
  it('refuses another webContents, an iframe, a remote page, a sibling folder, a traversal and a missing frame', () => {
    expect(isAllowedSender({ ...own, webContentsId: 8 }, policy)).toBe(false);
    expect(isAllowedSender({ ...own, isMainFrame: false }, policy)).toBe(false);
    expect(isAllowedSender({ ...own, frameUrl: 'https://evil.example/index.html' }, policy)).toBe(false);
    expect(isAllowedSender({ ...own, frameUrl: pathToFileURL('/opt/connecteur/resources/app/dist/renderer-evil/x.html').href }, policy)).toBe(false);
    expect(isAllowedSender({ ...own, frameUrl: `${rendererUrl}../../../../tmp/x.html` }, policy)).toBe(false);
    expect(isAllowedSender({ ...own, frameUrl: null }, policy)).toBe(false);
    expect(isAllowedSender(own, { ...policy, allowedWebContentsId: null })).toBe(false);
    expect(isAllowedSender(own, { ...policy, allowedUrlPrefixes: [''] })).toBe(false);
  });
});
