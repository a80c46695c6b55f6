/**
 * Development / test web bridge: exposes the IPC contract to the renderer running in an ordinary
 * browser (Chromium for the end-to-end tests, or any browser on a machine where Electron cannot run).
 *
 *  - listens on 127.0.0.1 only, and refuses any request whose Host header is not a loopback name
 *    (DNS-rebinding protection) or whose peer is not loopback;
 *  - requires a random token generated at each start: open `http://127.0.0.1:<port>/?token=<token>`
 *    once, the bridge sets an HttpOnly SameSite=Strict cookie and redirects to `/`; scripts may send
 *    `x-connecteur-token: <token>` instead;
 *  - `POST /api/invoke/<channel>` (JSON body = input) → the contract router's `Result`;
 *    `GET /api/events` → Server-Sent Events (`event: <name>`, `data: <json>`);
 *  - serves the built renderer (dist/renderer) or, with `vite`, Vite's dev middleware.
 *
 * It is never started by the packaged app (only by `npm run bridge` and the tests).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { EventName, EventPayload } from '../shared/contract.js';
import type { IpcRouter } from './ipc/router.js';
import { CONTENT_SECURITY_POLICY, resolveStaticFile } from './static-files.js';
import type { Logger } from './services/ports.js';

export const BRIDGE_COOKIE = 'connecteur_bridge';
export const BRIDGE_HEADER = 'x-connecteur-token';
const MAX_BODY = 1024 * 1024;

export { CONTENT_SECURITY_POLICY };

const DEV_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
  "connect-src 'self'",
  "connect-src 'self' ws://127.0.0.1:* ws://localhost:*",
);

export interface BridgeOptions {
  router: IpcRouter;
  onEvent: (listener: <E extends EventName>(event: E, payload: EventPayload<E>) => void) => () => void;
  logger: Logger;
  port?: number;
  /** Folder of the built renderer (index.html + assets). */
  staticDir?: string;
  /** Connect-style middleware (Vite dev server in middleware mode). */
  devMiddleware?: (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;
  /** Fixed token (tests); default: 32 random bytes. */
  token?: string;
}

export interface RunningBridge {
  readonly port: number;
  readonly origin: string;
  readonly token: string;
  /** The one URL to open in the browser. */
  readonly loginUrl: string;
  close(): Promise<void>;
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

function hostAllowed(hostHeader: string | undefined, port: number): boolean {
  if (!hostHeader) return false;
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostHeader.trim().toLowerCase());
  if (!m) return false;
  return LOOPBACK_HOSTS.has(m[1] as string) && (m[2] === undefined ? port === 80 : Number(m[2]) === port);
}

function isLoopbackPeer(addr: string | undefined): boolean {
  return addr === '127.0.0.1' || addr === '::1' || addr === '::ffff:127.0.0.1';
}

function sameToken(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const ha = crypto.createHash('sha256').update(a).digest();
  const hb = crypto.createHash('sha256').update(b).digest();
  return crypto.timingSafeEqual(ha, hb);
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}


function send(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json; charset=utf-8');
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new Error('body too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The request target as a URL of this bridge. Appended to the origin (never resolved against it), so a
 * target such as `//evil.example/x` stays a path of the bridge instead of naming another host.
 */
export function requestUrl(target: string | undefined, port: number): URL {
  const t = target && target.startsWith('/') ? target : `/${target ?? ''}`;
  return new URL(`http://127.0.0.1:${port}${t}`);
}

/**
 * Where the login redirect goes: the same path and query on the bridge, always a same-origin path.
 * Leading slashes and backslashes (`//host`, `/\\host`, dot segments that end as `//host`) are folded into
 * one, so a browser can never read the Location as another host (open redirect).
 */
export function sameOriginLocation(url: URL): string {
  const location = `/${url.pathname.replace(/^[/\\]+/, '')}${url.search}`;
  const probe = new URL(location, 'http://bridge.invalid');
  return probe.origin === 'http://bridge.invalid' ? location : '/';
}

export async function startWebBridge(opts: BridgeOptions): Promise<RunningBridge> {
  const token = opts.token ?? crypto.randomBytes(32).toString('base64url');
  const log = opts.logger.child({ component: 'web-bridge' });
  const sseClients = new Set<http.ServerResponse>();
  let port = 0;

  const unsubscribe = opts.onEvent((event, payload) => {
    const frame = `event: ${event}\ndata: ${JSON.stringify(payload)}\n\n`;
    for (const res of sseClients) res.write(frame);
  });

  const server = http.createServer((req, res) => {
    void handle(req, res).catch((e: unknown) => {
      log.error('bridge request failed', { detail: e instanceof Error ? e.message : String(e) });
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: { code: 'INTERNAL', message: 'Erreur interne du pont web.' } });
      else res.end();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    if (!isLoopbackPeer(req.socket.remoteAddress) || !hostAllowed(req.headers.host, port)) {
      log.warn('bridge: request refused (host)', { host: req.headers.host ?? null, peer: req.socket.remoteAddress ?? null });
      return send(res, 403, 'Accès refusé : le pont web ne répond qu’aux adresses locales.');
    }
    const url = requestUrl(req.url, port);

    // one-time login URL: /?token=…  → cookie, then redirect without the token
    const queryToken = url.searchParams.get('token');
    if (req.method === 'GET' && queryToken !== null) {
      if (!sameToken(queryToken, token)) return send(res, 401, 'Jeton invalide : utilisez l’adresse affichée au démarrage du pont.');
      url.searchParams.delete('token');
      res.writeHead(302, {
        'set-cookie': `${BRIDGE_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
        location: sameOriginLocation(url),
        'cache-control': 'no-store',
      });
      return void res.end();
    }

    const presented = (req.headers[BRIDGE_HEADER] as string | undefined) ?? cookieValue(req.headers.cookie, BRIDGE_COOKIE);
    if (!sameToken(presented, token)) {
      const api = url.pathname.startsWith('/api/');
      if (api) return sendJson(res, 401, { ok: false, error: { code: 'FORBIDDEN_SENDER', message: 'Jeton du pont web manquant ou invalide.' } });
      return send(res, 401, 'Jeton manquant : ouvrez l’adresse complète (avec ?token=…) affichée au démarrage du pont.');
    }

    if (url.pathname.startsWith('/api/invoke/')) {
      if (req.method !== 'POST') return send(res, 405, 'POST attendu.');
      const origin = req.headers.origin;
      if (origin !== undefined && origin !== `http://${req.headers.host}`) {
        return sendJson(res, 403, { ok: false, error: { code: 'FORBIDDEN_SENDER', message: 'Origine refusée.' } });
      }
      const channel = decodeURIComponent(url.pathname.slice('/api/invoke/'.length));
      let input: unknown;
      try {
        const body = await readBody(req);
        input = body.trim() === '' ? undefined : JSON.parse(body);
      } catch {
        return sendJson(res, 400, { ok: false, error: { code: 'INVALID_INPUT', message: 'Requête illisible (JSON attendu).' } });
      }
      if (input === null) input = undefined;
      const result = await opts.router.invoke(channel, input, { host: 'bridge' });
      return sendJson(res, 200, result);
    }

    if (url.pathname === '/api/events') {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive' });
      res.write(': connecté\n\n');
      sseClients.add(res);
      const ping = setInterval(() => res.write(': ping\n\n'), 25_000);
      ping.unref();
      req.on('close', () => {
        clearInterval(ping);
        sseClients.delete(res);
      });
      return;
    }

    if (url.pathname.startsWith('/api/')) return sendJson(res, 404, { ok: false, error: { code: 'UNKNOWN_CHANNEL', message: 'Adresse inconnue.' } });

    if (opts.devMiddleware) {
      // Vite dev injects inline scripts and a websocket for hot reload: development only
      res.setHeader('content-security-policy', DEV_CONTENT_SECURITY_POLICY);
      return opts.devMiddleware(req, res, () => send(res, 404, 'Introuvable.'));
    }
    res.setHeader('content-security-policy', CONTENT_SECURITY_POLICY);
    return serveStatic(url.pathname, res);
  }

  function serveStatic(pathname: string, res: http.ServerResponse): void {
    if (!opts.staticDir || !fs.existsSync(path.join(opts.staticDir, 'index.html'))) {
      return send(res, 503, 'Interface non construite : lancez « npm run build:renderer » ou démarrez le pont avec --dev.');
    }
    const found = resolveStaticFile(opts.staticDir, pathname);
    if (!found) return send(res, 403, 'Accès refusé.');
    res.writeHead(200, { 'content-type': found.type, 'cache-control': 'no-cache' });
    fs.createReadStream(found.file).pipe(res);
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://127.0.0.1:${port}`;
  log.info('web bridge listening', { origin });

  return {
    port,
    origin,
    token,
    loginUrl: `${origin}/?token=${token}`,
    async close() {
      unsubscribe();
      for (const res of sseClients) res.end();
      sseClients.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
