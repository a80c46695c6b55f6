/**
 * Updates: the decision logic (decideUpdate, UpdateService) and the Node backend against a local feed server
 * serving latest.yml and the installer, as electron-builder's « generic » provider lays them out.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateStatus } from '../../src/shared/contract.js';
import type { Timers } from '../../src/main/services/scheduler/scheduler.js';
import { NodeUpdateBackend } from '../../src/main/services/updates/node-backend.js';
import { DAY_MS, UpdateService, decideUpdate, type UpdateBackend } from '../../src/main/services/updates/service.js';
import { memoryLogger } from '../support/foundation/memory-logger.js';

/** A local feed: /feed/latest.yml and /feed/<installer>. */
interface Feed {
  url: string;
  requests: string[];
  publish(version: string, opts?: { sha512?: string; body?: Buffer }): void;
  fail(status: number | null): void;
  close(): Promise<void>;
}

async function startFeed(): Promise<Feed> {
  let latest = '';
  let file: Buffer = Buffer.alloc(0);
  let fileName = '';
  let failWith: number | null = null;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    if (failWith) {
      res.writeHead(failWith).end();
      return;
    }
    if (req.url === '/feed/latest.yml' && latest) {
      res.writeHead(200, { 'content-type': 'text/yaml' }).end(latest);
      return;
    }
    if (req.url === `/feed/${encodeURIComponent(fileName)}`) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length }).end(file);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/feed`,
    requests,
    publish(version, o = {}) {
      file = o.body ?? Buffer.from(`installateur ${version} `.repeat(5000));
      fileName = `connecteur-batisimply-${version}-setup-x64.exe`;
      const sha512 = o.sha512 ?? createHash('sha512').update(file).digest('base64');
      // What electron-builder writes for the NSIS target.
      latest = [
        `version: ${version}`,
        'files:',
        `  - url: ${fileName}`,
        `    sha512: ${sha512}`,
        `    size: ${file.length}`,
        `path: ${fileName}`,
        `sha512: ${sha512}`,
        "releaseDate: '2026-03-09T08:00:00.000Z'",
        '',
      ].join('\n');
    },
    fail(status) {
      failWith = status;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

function fakeTimers() {
  let now = Date.parse('2026-03-10T09:00:00Z');
  let q: { at: number; fn: () => void; id: number }[] = [];
  let id = 0;
  const timers: Timers = {
    setTimeout: (fn, ms) => {
      q.push({ at: now + ms, fn, id: ++id });
      return id;
    },
    clearTimeout: (h) => {
      q = q.filter((x) => x.id !== h);
    },
  };
  return {
    timers,
    clock: { now: () => new Date(now) },
    advance(ms: number) {
      now += ms;
    },
    next: () => [...q].sort((a, b) => a.at - b.at)[0]?.at ?? null,
    /** Fires the next timer (advancing the clock) and waits for what it started. */
    async fire(until: () => boolean) {
      q.sort((a, b) => a.at - b.at);
      const t = q.shift();
      if (!t) throw new Error('no timer');
      now = Math.max(now, t.at);
      t.fn();
      await expect.poll(until).toBe(true);
    },
  };
}

let feed: Feed;
let dir: string;
beforeAll(async () => {
  feed = await startFeed();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-updates-'));
});
afterAll(async () => {
  await feed?.close();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('decideUpdate (pure)', () => {
  const base = { feedUrl: 'https://maj.exemple.fr/connecteur', phase: 'idle' as const, busy: false, now: 1000, nextCheckAt: null };
  it('off without a feed address; a check when due; downloads only when no run is in progress; nothing once ready', () => {
    expect(decideUpdate({ ...base, feedUrl: ' ' })).toBe('none');
    expect(decideUpdate(base)).toBe('check');
    expect(decideUpdate({ ...base, busy: true })).toBe('check'); // reading latest.yml during a run is harmless
    expect(decideUpdate({ ...base, nextCheckAt: 2000 })).toBe('none');
    expect(decideUpdate({ ...base, phase: 'up_to_date', nextCheckAt: 1000 })).toBe('check');
    expect(decideUpdate({ ...base, phase: 'available' })).toBe('download');
    expect(decideUpdate({ ...base, phase: 'available', busy: true })).toBe('defer');
    expect(decideUpdate({ ...base, phase: 'deferred', busy: false })).toBe('download');
    expect(decideUpdate({ ...base, phase: 'ready' })).toBe('none');
    expect(decideUpdate({ ...base, phase: 'downloading' })).toBe('none');
    expect(decideUpdate({ ...base, phase: 'unsupported' })).toBe('none');
  });
});

describe('UpdateService on the Node backend, against a local feed', () => {
  function service(o: { feedUrl?: () => string; busy?: () => boolean; backend?: UpdateBackend; version?: string } = {}) {
    const ft = fakeTimers();
    const statuses: UpdateStatus[] = [];
    const backend = o.backend ?? new NodeUpdateBackend({ downloadDir: fs.mkdtempSync(path.join(dir, 'dl-')) });
    const svc = new UpdateService({
      backend,
      feedUrl: o.feedUrl ?? (() => feed.url),
      currentVersion: o.version ?? '0.1.0',
      clock: ft.clock,
      timers: ft.timers,
      logger: memoryLogger(),
      isBusy: o.busy ?? (() => false),
      onStatus: (s) => statuses.push(s),
      firstCheckDelayMs: 30_000,
    });
    return { svc, ft, statuses, backend };
  }

  it('with no feed address: disabled, and not one request is made', async () => {
    feed.requests.length = 0;
    const { svc, ft } = service({ feedUrl: () => '' });
    svc.start();
    await ft.fire(() => true);
    expect(svc.status()).toMatchObject({ state: 'disabled', nextCheckAt: null });
    expect(svc.status().message).toMatch(/désactivées/);
    expect((await svc.checkNow()).state).toBe('disabled');
    expect(feed.requests).toEqual([]);
    svc.stop();
  });

  it('checks at start, then every day; up to date says so', async () => {
    feed.fail(null);
    feed.publish('0.1.0');
    const { svc, ft } = service();
    svc.start();
    expect(ft.next()).toBe(ft.clock.now().getTime() + 30_000);
    await ft.fire(() => svc.status().state === 'up_to_date');
    expect(svc.status().message).toMatch(/^Le connecteur est à jour \(version 0\.1\.0\)\. Prochaine vérification/);
    expect(Date.parse(svc.status().nextCheckAt!) - Date.parse(svc.status().lastCheckAt!)).toBe(DAY_MS);
    expect(ft.next()).toBe(Date.parse(svc.status().nextCheckAt!));
    svc.stop();
  });

  it('a newer version is downloaded in the background, verified, then « Mise à jour prête — installée au prochain redémarrage »', async () => {
    feed.fail(null);
    feed.publish('0.2.0');
    const { svc, ft, statuses, backend } = service();
    svc.start();
    await ft.fire(() => svc.status().state === 'ready');
    expect(statuses.map((s) => s.state)).toEqual(['idle', 'checking', 'available', 'downloading', 'ready']);
    expect(svc.status()).toMatchObject({ availableVersion: '0.2.0', message: 'Mise à jour prête — installée au prochain redémarrage (version 0.2.0).' });
    const file = (backend as NodeUpdateBackend).downloadedFile!;
    expect(path.basename(file)).toBe('connecteur-batisimply-0.2.0-setup-x64.exe');
    expect(fs.readFileSync(file).toString()).toContain('installateur 0.2.0');
    // Ready: no more checks until the restart installs it.
    expect(ft.next()).not.toBeNull();
    const n = feed.requests.length;
    await svc.checkNow();
    expect(feed.requests.length).toBe(n);
    svc.stop();
  });

  it('never downloads during a run: the download waits for its end', async () => {
    feed.fail(null);
    feed.publish('0.3.0');
    feed.requests.length = 0;
    let busy = true;
    const { svc, ft } = service({ busy: () => busy });
    svc.start();
    await ft.fire(() => svc.status().state === 'deferred');
    expect(svc.status().message).toBe('Version 0.3.0 disponible : elle sera téléchargée à la fin de la synchronisation en cours.');
    expect(feed.requests.some((r) => r.endsWith('.exe'))).toBe(false);
    busy = false;
    svc.poke();
    await expect.poll(() => svc.status().state).toBe('ready');
    svc.stop();
  });

  it('a file that does not match its sha512 is refused and removed; an unreachable feed is retried an hour later', async () => {
    feed.fail(null);
    feed.publish('0.4.0', { sha512: createHash('sha512').update('autre chose').digest('base64') });
    const dl = fs.mkdtempSync(path.join(dir, 'bad-'));
    const { svc, ft } = service({ backend: new NodeUpdateBackend({ downloadDir: dl }) });
    svc.start();
    await ft.fire(() => svc.status().state === 'error');
    expect(svc.status().message).toMatch(/ne correspond pas à celui annoncé \(somme de contrôle\)/);
    expect(fs.readdirSync(dl)).toEqual([]);
    expect(Date.parse(svc.status().nextCheckAt!) - Date.parse(svc.status().lastCheckAt!)).toBe(3_600_000);

    feed.fail(503);
    await ft.fire(() => svc.status().state === 'error' && /erreur 503/.test(svc.status().message));
    expect(svc.status().message).toMatch(/^Le serveur de mises à jour \(127\.0\.0\.1:\d+\) répond par une erreur 503\. Nouvel essai le /);
    feed.fail(null);
    feed.publish('0.4.0');
    await ft.fire(() => svc.status().state === 'ready');
    svc.stop();
  });

  it('an unreadable latest.yml, or a file on another host, is refused', async () => {
    const be = new NodeUpdateBackend({ downloadDir: dir, fetch: async () => ({ ok: true, status: 200, text: async () => 'version: [', body: null }) });
    await expect(be.check('https://maj.exemple.fr/c', '0.1.0')).rejects.toMatchObject({ code: 'UPDATE_FAILED', message: expect.stringMatching(/latest\.yml .* illisible/) });
    const other = new NodeUpdateBackend({
      downloadDir: dir,
      fetch: async () => ({ ok: true, status: 200, text: async () => 'version: 9.0.0\nfiles:\n  - url: https://ailleurs.example/x.exe\n    sha512: abc\n', body: null }),
    });
    await expect(other.check('https://maj.exemple.fr/c', '0.1.0')).rejects.toMatchObject({ code: 'UPDATE_FAILED' });
    await expect(new NodeUpdateBackend({ downloadDir: dir }).check('ftp://maj.exemple.fr', '0.1.0')).rejects.toMatchObject({ message: expect.stringMatching(/https:\/\//) });
  });

  it('the feed address changed: the new feed is checked at once', async () => {
    let url = '';
    feed.fail(null);
    feed.publish('0.5.0');
    const { svc } = service({ feedUrl: () => url });
    svc.start();
    expect(svc.status().state).toBe('disabled');
    url = feed.url;
    svc.reconfigure();
    await expect.poll(() => svc.status().state).toBe('ready');
    svc.stop();
  });
});
