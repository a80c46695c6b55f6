import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, redact } from '../../../src/main/services/logger.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('logger', () => {
  it('writes JSON lines and masks secret fields at any depth and secrets inside strings', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'debug', sink: (l) => lines.push(l) }).child({ component: 'test', token: 'tok-123' });
    log.info('connexion', {
      server: 'SRV',
      password: 'pw-1',
      config: { batisimply: { clientSecret: 'cs-2', apiKey: 'ak-3' }, headers: { Authorization: 'Bearer eyJabc.def' } },
      list: [{ refresh_token: 'rt-4' }],
      detail: 'Login failed: password=pw-5; url https://x/?api_key=ak-6',
      err: new Error('token=tk-7 refused'),
      keyHint: '••••-7K2Q',
      passwordSet: true,
    });
    expect(lines).toHaveLength(1);
    const text = lines[0] as string;
    const rec = JSON.parse(text);
    for (const s of ['tok-123', 'pw-1', 'cs-2', 'ak-3', 'eyJabc', 'rt-4', 'pw-5', 'ak-6', 'tk-7']) expect(text).not.toContain(s);
    expect(rec).toMatchObject({ level: 'info', msg: 'connexion', component: 'test', server: 'SRV', keyHint: '••••-7K2Q', passwordSet: true });
    expect(rec.config.batisimply.clientSecret).toBe('[masqué]');
    expect(typeof rec.ts).toBe('string');
  });

  it('drops records below the level and survives cycles', () => {
    const lines: string[] = [];
    const log = createLogger({ level: 'warn', sink: (l) => lines.push(l) });
    log.info('ignored');
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    log.warn('cycle', { a });
    expect(lines).toHaveLength(1);
    expect(redact(a)).toEqual({ name: 'a', self: '[cycle]' });
  });

  it('rotates daily files and removes the ones older than retainDays', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-log-'));
    let now = new Date(2026, 0, 10, 12, 0, 0);
    fs.writeFileSync(path.join(dir, 'connecteur-2025-12-01.log'), 'old\n');
    const log = createLogger({ dir, retainDays: 14, clock: { now: () => now } });
    log.info('jour 1', { password: 'zz-secret' });
    now = new Date(2026, 0, 11, 9, 0, 0);
    log.info('jour 2');
    const files = fs.readdirSync(dir).sort();
    expect(files).toEqual(['connecteur-2026-01-10.log', 'connecteur-2026-01-11.log']);
    const day1 = fs.readFileSync(path.join(dir, 'connecteur-2026-01-10.log'), 'utf8');
    expect(day1).toContain('jour 1');
    expect(day1).not.toContain('zz-secret');
  });
});
