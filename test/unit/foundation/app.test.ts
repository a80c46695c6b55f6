import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../../src/main/app.js';
import { createNodeApp } from '../../../src/main/composition/node-app.js';
import { memoryLogger } from '../../support/foundation/memory-logger.js';

let dir = '';
let app: App | null = null;
afterEach(async () => {
  await app?.dispose();
  app = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

async function make(features: Parameters<typeof createApp>[0]['features'] = []) {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-app-'));
  const data = path.join(dir, 'data');
  fs.mkdirSync(data);
  fs.writeFileSync(path.join(data, 'settings.json'), 'pas du json');
  app = await createNodeApp({
    dataDir: data,
    logger: memoryLogger(),
    host: 'headless',
    features,
  });
  return app;
}

describe('createApp', () => {
  it('refuses to start when two features handle the same channel, naming both', async () => {
    const twice = (name: string) => () => ({ name, handlers: { 'sync.status': () => ({ running: null, lastRuns: [], nextRunAt: null, scheduleEnabled: false, syncAllowed: false }) } });
    await expect(make([twice('premier'), twice('second')])).rejects.toMatchObject({
      code: 'INTERNAL',
      message: expect.stringMatching(/« sync\.status » est traitée deux fois \(modules « premier » et « second »\)/),
    });
    app = null;
  });

  it('refuses a second handler of a channel the app already serves (settings.get)', async () => {
    await expect(make([() => ({ name: 'intrus', handlers: { 'settings.get': () => { throw new Error('never'); } } })])).rejects.toMatchObject({
      message: expect.stringMatching(/« settings\.get » est traitée deux fois \(modules « réglages » et « intrus »\)/),
    });
    app = null;
  });

  it('serves app.info and settings for real, and reports the corrupt file as a notice', async () => {
    const a = await make();
    const info = await a.router.invoke('app.info', undefined);
    expect(info).toMatchObject({ ok: true, value: { softwareLabel: 'Sage Batigest', host: 'headless', version: expect.stringMatching(/^\d+\.\d+\.\d+/) } });
    const notices = await a.router.invoke('settings.notices', undefined);
    expect(notices).toMatchObject({ ok: true, value: [{ code: 'SETTINGS_CORRUPT' }] });
    await a.router.invoke('settings.update', { software: 'codial' });
    expect(await a.router.invoke('app.info', undefined)).toMatchObject({ ok: true, value: { softwareLabel: 'Codial' } });
    // schedule.* belong to the sync feature only (no second definition in the foundation): absent here.
    const sched = await a.router.invoke('schedule.set', { enabled: true, intervalSeconds: 600 });
    expect(sched).toMatchObject({ ok: false, error: { code: 'NOT_CONFIGURED' } });
  });

  it('answers NOT_CONFIGURED for channels no feature implements, and lets a feature implement them', async () => {
    const a = await make([
      (ctx) => ({
        handlers: {
          'sync.run': ({ flow }) => {
            ctx.emit('sync:progress', {
              runId: 'r1',
              flow: flow === 'hours' ? 'hours' : 'push',
              phase: 'read',
              label: 'Lecture',
              done: 0,
              total: null,
              current: null,
              counts: { created: 0, updated: 0, unchanged: 0, skipped: 0, failed: 0 },
            });
            return { runId: 'r1' };
          },
        },
      }),
    ]);
    expect(await a.router.invoke('journal.list', undefined)).toMatchObject({ ok: false, error: { code: 'NOT_CONFIGURED' } });
    const seen: string[] = [];
    a.onEvent((e) => seen.push(e));
    expect(await a.router.invoke('sync.run', { flow: 'all' })).toEqual({ ok: true, value: { runId: 'r1' } });
    expect(seen).toEqual(['sync:progress']);
  });

  it('does not emit an event whose payload breaks the contract', async () => {
    const a = await make();
    const seen: string[] = [];
    a.onEvent((e) => seen.push(e));
    a.context.emit('app:navigate', { page: 'nowhere' } as never);
    a.context.emit('app:navigate', { page: 'journal' });
    expect(seen).toEqual(['app:navigate']);
  });
});
