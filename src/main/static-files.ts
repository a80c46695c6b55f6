/** Maps a URL path onto a file of the renderer folder, never outside it (shared by the shell and the web bridge). */
import fs from 'node:fs';
import path from 'node:path';

/** The Content-Security-Policy of the renderer (app:// in Electron, the web bridge in a browser). */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const MIME_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.map': 'application/json; charset=utf-8',
};

/**
 * @returns the file to serve: the requested one when it exists inside `root`, `index.html` for any
 *   other path (client-side routes), or null when the path is malformed or escapes `root`.
 */
export function resolveStaticFile(root: string, urlPathname: string): { file: string; type: string } | null {
  const base = path.resolve(root);
  let rel: string;
  try {
    rel = decodeURIComponent(urlPathname);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  const file = path.resolve(base, '.' + path.posix.normalize('/' + rel.replace(/\\/g, '/')));
  if (file !== base && !file.startsWith(base + path.sep)) return null;
  const chosen = fs.existsSync(file) && fs.statSync(file).isFile() ? file : path.join(base, 'index.html');
  return { file: chosen, type: MIME_TYPES[path.extname(chosen)] ?? 'application/octet-stream' };
}
