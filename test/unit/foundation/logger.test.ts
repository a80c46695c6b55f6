import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger, redact, redactText } from '../../../src/main/services/logger.js';

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

describe('redactText (secrets inside free text)', () => {
  const cases: [string, string, string][] = [
    // [text, secret that must disappear, what must stay]
    ['connexion postgres://connecteur:Pg-S3cret!@10.0.0.5:5432/tampon refusée', 'Pg-S3cret!', 'postgres://connecteur:[masqué]@10.0.0.5:5432/tampon'],
    ['url=postgresql://u:p%40ss@db.local/x', 'p%40ss', 'postgresql://u:[masqué]@db.local/x'],
    ['proxy http://agent:pa@ss:w0rd@proxy.lan:3128 injoignable', 'w0rd', '@proxy.lan:3128'],
    ['https://user:tok_123@git.example/x.git', 'tok_123', 'https://user:[masqué]@git.example'],
    ['Échec : mot de passe : Tr0ub4dor&3 refusé', 'Tr0ub4dor', 'mot de passe'],
    ['mot de passe\u00a0: Bonj0ur-2026', 'Bonj0ur-2026', 'mot de passe'],
    ['Mot de passe = azerty123', 'azerty123', 'Mot de passe'],
    ['mdp: qwerty-77', 'qwerty-77', 'mdp'],
    ['Server=SRV\\BATI;Database=BTG;User Id=sa;Password=Sa pass 99;Encrypt=false', 'pass 99', 'Encrypt=false'],
    ['Server=SRV;Pwd={a;b}};c};Database=X', 'b}};c', 'Database=X'],
    ['password=hunter2', 'hunter2', 'password='],
    ['{"password":"deux mots","user":"sa"}', 'mots', '"user":"sa"'],
    ['clientSecret=cs-abc-123 refusé', 'cs-abc-123', 'refusé'],
    ['La clé ABCD-EFGH-2345-7KQ3 a été refusée', 'ABCD-EFGH-2345', 'XXXX-XXXX-XXXX-7KQ3'],
    ['clé abcd-efgh-2345-7kq3 saisie', 'abcd-efgh', '-7kq3'],
  ];
  it.each(cases)('masks the secret in %j', (text, secret, kept) => {
    const out = redactText(text);
    expect(out).not.toContain(secret);
    expect(out).toContain(kept);
  });

  it('leaves ordinary text alone (UUIDs, dates, messages that only mention a password, key hints)', () => {
    for (const t of [
      'run 123e4567-e89b-12d3-a456-426614174000 terminé le 2026-03-01',
      'Mot de passe incorrect pour « sa » : vérifiez Réglages › SQL Server',
      'La clé doit avoir la forme XXXX-XXXX-XXXX-XXXX.',
      'clé XXXX-XXXX-XXXX-7KQ3',
      'postgres://connecteur@10.0.0.5/tampon',
    ]) {
      expect(redactText(t)).toBe(t);
    }
  });
});

describe('log folder and files are private', () => {
  it.skipIf(process.platform === 'win32')('creates the folder 0700 and files 0600, and tightens a folder left open by an earlier version', () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-log-'));
    const fresh = path.join(dir, 'a', 'logs');
    createLogger({ dir: fresh }).info('x');
    expect(fs.statSync(fresh).mode & 0o777).toBe(0o700);
    for (const f of fs.readdirSync(fresh)) expect(fs.statSync(path.join(fresh, f)).mode & 0o777).toBe(0o600);
    const old = path.join(dir, 'old-logs');
    fs.mkdirSync(old, { mode: 0o755 });
    fs.chmodSync(old, 0o755);
    createLogger({ dir: old }).info('y');
    expect(fs.statSync(old).mode & 0o777).toBe(0o700);
  });
});
