import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, resolveStaticFile } from '../../../src/main/static-files.js';

let root = '';
beforeAll(() => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cbs-static-'));
  root = path.join(dir, 'renderer');
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<html>');
  fs.writeFileSync(path.join(root, 'assets', 'app.js'), '');
  fs.writeFileSync(path.join(dir, 'secret.txt'), 'secret');
});
afterAll(() => fs.rmSync(path.dirname(root), { recursive: true, force: true }));

describe('renderer static files', () => {
  it('serves files of the folder with their type, index.html for app routes', () => {
    expect(resolveStaticFile(root, '/assets/app.js')).toEqual({ file: path.join(root, 'assets', 'app.js'), type: 'text/javascript; charset=utf-8' });
    expect(resolveStaticFile(root, '/journal/42')?.file).toBe(path.join(root, 'index.html'));
    expect(resolveStaticFile(root, '/')?.file).toBe(path.join(root, 'index.html'));
  });
  it('never serves a file outside the folder', () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/..\\secret.txt', '/%2e%2e%5csecret.txt']) {
      const r = resolveStaticFile(root, p);
      expect(r === null || r.file.startsWith(root + path.sep), p).toBe(true);
      expect(r?.file).not.toBe(path.join(path.dirname(root), 'secret.txt'));
    }
    expect(resolveStaticFile(root, '/%E0%A4%A')).toBeNull();
    expect(resolveStaticFile(root, '/a%00b')).toBeNull();
  });
  it('CSP allows only the app itself', () => {
    expect(CONTENT_SECURITY_POLICY).toContain("default-src 'self'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    expect(CONTENT_SECURITY_POLICY).not.toMatch(/unsafe-eval|\*|https?:/);
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  });
});
