/**
 * A Saxium-style exports API on loopback (seed 003), for tests, the bench, the demo and the try command:
 *   GET  /api/batigest/exports/pending?limit&agentId   pending exports (id, type, fileName, size, checksum)
 *   GET  /api/batigest/exports/{id}/download           the file
 *   POST /api/batigest/exports/{id}/mark-synced        { agentId }           (idempotent)
 *   POST /api/batigest/exports/{id}/mark-error         { agentId, error }
 *   GET  /api/batigest/status                          { pending, synced, errors, recentErrors }
 * Every request needs the `x-api-key` header. Faults can be injected: down (connections dropped), 401, 429 with
 * Retry-After, 5xx, a download cut half-way, a checksum that does not match the file. Every request is logged.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface SimExport {
  id: string;
  type: string;
  fileName: string;
  content: Buffer;
  status: 'pending' | 'synced' | 'error';
  error: string | null;
  /** Agents' acknowledgements, in order (a second mark-synced shows here). */
  marks: { kind: 'synced' | 'error'; agentId: string; error?: string }[];
  /** Extra listing fields (hostile-input tests), merged over the normal ones. */
  listing?: Record<string, unknown>;
}

export interface ExportsFaults {
  /** Every connection is destroyed without an answer. */
  down: boolean;
  /** The next n requests (any route) answer 401. */
  unauthorized: number;
  /** The next n requests answer 429 with this Retry-After (seconds). */
  rateLimited: { n: number; retryAfterSeconds: number };
  /** The next n requests answer this 5xx status. */
  serverError: { n: number; status: number };
  /** Download of these ids: the next n downloads send half the file then cut the connection. */
  cutDownload: Map<string, number>;
  /** These ids are listed with a checksum that does not match (n listings; Infinity = always). */
  badChecksum: Map<string, number>;
}

export interface RequestLogEntry {
  method: string;
  route: string;
  status: number;
  at: number;
}

export interface ExportsSim {
  readonly url: string;
  readonly apiKey: string;
  readonly exports: Map<string, SimExport>;
  readonly faults: ExportsFaults;
  readonly log: RequestLogEntry[];
  /** Faults that actually fired, by name (tests assert that their fault fired). */
  readonly fired: Record<string, number>;
  add(e: { id: string; fileName: string; content: string | Buffer; type?: string; listing?: Record<string, unknown> }): SimExport;
  /** `n` exports `EXP-0001`… of XML devis (sizes vary a little). */
  seed(n: number, prefix?: string): SimExport[];
  count(method: string, routePrefix: string): number;
  reset(): void;
  close(): Promise<void>;
}

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

export function emptyFaults(): ExportsFaults {
  return { down: false, unauthorized: 0, rateLimited: { n: 0, retryAfterSeconds: 0 }, serverError: { n: 0, status: 503 }, cutDownload: new Map(), badChecksum: new Map() };
}

/** A small XML devis in Batigest's import spirit (content is opaque to the connector). */
export function sampleDevisXml(id: string, i: number): string {
  const lines = Array.from({ length: 1 + (i % 4) }, (_, k) => `  <Ligne><Designation>Poste ${k + 1} — maçonnerie</Designation><Quantite>${k + 2}</Quantite><PU>${(120 + i + k).toFixed(2)}</PU></Ligne>`);
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Devis code="${id}">\n  <Client>Client ${i} SARL</Client>\n${lines.join('\n')}\n</Devis>\n`;
}

export async function startExportsSim(o: { apiKey?: string } = {}): Promise<ExportsSim> {
  const apiKey = o.apiKey ?? 'cle-api-export-test';
  const exports = new Map<string, SimExport>();
  const faults = emptyFaults();
  const log: RequestLogEntry[] = [];
  const fired: Record<string, number> = {};
  const fire = (name: string): void => {
    fired[name] = (fired[name] ?? 0) + 1;
  };
  const sockets = new Set<Socket>();

  const send = (res: ServerResponse, req: IncomingMessage, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    log.push({ method: req.method ?? '', route: (req.url ?? '').split('?')[0] ?? '', status, at: Date.now() });
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const injected = (req: IncomingMessage, res: ServerResponse): boolean => {
    if (faults.unauthorized > 0) {
      faults.unauthorized--;
      fire('401');
      send(res, req, 401, { error: 'unauthorized' });
      return true;
    }
    if (faults.rateLimited.n > 0) {
      faults.rateLimited.n--;
      fire('429');
      send(res, req, 429, { error: 'too many requests' }, { 'retry-after': String(faults.rateLimited.retryAfterSeconds) });
      return true;
    }
    if (faults.serverError.n > 0) {
      faults.serverError.n--;
      fire('5xx');
      send(res, req, faults.serverError.status, { error: 'server error' });
      return true;
    }
    return false;
  };

  const listing = (e: SimExport) => {
    let checksum = sha256(e.content);
    const bad = faults.badChecksum.get(e.id) ?? 0;
    if (bad > 0) {
      faults.badChecksum.set(e.id, bad - 1);
      fire('checksum');
      checksum = sha256(Buffer.from(`autre contenu ${e.id}`));
    }
    return { id: e.id, type: e.type, fileName: e.fileName, size: e.content.length, checksum: `sha256:${checksum}`, ...(e.listing ?? {}) };
  };

  const download = (req: IncomingMessage, res: ServerResponse, e: SimExport): void => {
    const cut = faults.cutDownload.get(e.id) ?? 0;
    log.push({ method: 'GET', route: `/api/batigest/exports/${e.id}/download`, status: 200, at: Date.now() });
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(e.content.length) });
    if (cut > 0) {
      faults.cutDownload.set(e.id, cut - 1);
      fire('cut');
      res.write(e.content.subarray(0, Math.floor(e.content.length / 2)));
      setTimeout(() => req.socket.destroy(), 5);
      return;
    }
    res.end(e.content);
  };

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (req.headers['x-api-key'] !== apiKey) return send(res, req, 401, { error: 'unauthorized' });
    if (injected(req, res)) return;
    const body = req.method === 'POST' ? await readBody(req) : null;
    const p = url.pathname;
    if (req.method === 'GET' && p === '/api/batigest/exports/pending') {
      const limit = Math.max(1, Math.min(500, Number(url.searchParams.get('limit') ?? 50) || 50));
      if (!url.searchParams.get('agentId')) return send(res, req, 400, { error: 'agentId required' });
      return send(res, req, 200, { exports: [...exports.values()].filter((e) => e.status === 'pending').slice(0, limit).map(listing) });
    }
    if (req.method === 'GET' && p === '/api/batigest/status') {
      const all = [...exports.values()];
      const n = (s: SimExport['status']) => all.filter((e) => e.status === s).length;
      return send(res, req, 200, { pending: n('pending'), synced: n('synced'), errors: n('error'), recentErrors: all.filter((e) => e.status === 'error').slice(-5).map((e) => ({ id: e.id, error: e.error })) });
    }
    const m = /^\/api\/batigest\/exports\/([^/]+)\/(download|mark-synced|mark-error)$/.exec(p);
    const e = m ? exports.get(decodeURIComponent(m[1] ?? '')) : undefined;
    if (!m || !e) return send(res, req, 404, { error: 'not found' });
    if (m[2] === 'download' && req.method === 'GET') return download(req, res, e);
    if (req.method !== 'POST') return send(res, req, 405, { error: 'method' });
    const b = (body ?? {}) as { agentId?: string; error?: string };
    if (m[2] === 'mark-synced') {
      e.status = 'synced';
      e.error = null;
      e.marks.push({ kind: 'synced', agentId: String(b.agentId ?? '') });
    } else {
      e.status = 'error';
      e.error = String(b.error ?? '');
      e.marks.push({ kind: 'error', agentId: String(b.agentId ?? ''), error: e.error });
    }
    return send(res, req, 200, { ok: true, id: e.id, status: e.status });
  };

  const server: Server = createServer((req, res) => {
    if (faults.down) {
      fire('down');
      req.socket.destroy();
      return;
    }
    route(req, res).catch(() => send(res, req, 500, { error: 'sim' }));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;

  const sim: ExportsSim = {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    exports,
    faults,
    log,
    fired,
    add(x) {
      const e: SimExport = { id: x.id, type: x.type ?? 'devis', fileName: x.fileName, content: Buffer.isBuffer(x.content) ? x.content : Buffer.from(x.content, 'utf8'), status: 'pending', error: null, marks: [], ...(x.listing ? { listing: x.listing } : {}) };
      exports.set(e.id, e);
      return e;
    },
    seed(n, prefix = 'EXP') {
      return Array.from({ length: n }, (_, i) => {
        const id = `${prefix}-${String(i + 1).padStart(4, '0')}`;
        return sim.add({ id, fileName: `${i % 3 === 2 ? 'commande' : 'devis'}-${id}.xml`, content: sampleDevisXml(id, i), type: i % 3 === 2 ? 'bon_commande' : 'devis' });
      });
    },
    count: (method, prefix) => log.filter((l) => l.method === method && l.route.startsWith(prefix)).length,
    reset() {
      exports.clear();
      log.length = 0;
      Object.assign(faults, emptyFaults());
      for (const k of Object.keys(fired)) delete fired[k];
    },
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
  return sim;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return text ? (JSON.parse(text) as unknown) : {};
  } catch {
    return {};
  }
}
