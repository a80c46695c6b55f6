/**
 * A PostgREST-compatible RPC endpoint, enough for supabase-js `rpc()`:
 *   POST /rest/v1/rpc/<function>   JSON body = named arguments
 * It checks the `apikey` header and the `Authorization: Bearer <jwt>` (HS256, signed with the
 * project's JWT secret, like Supabase's anon key), then runs the function on the real PostgreSQL
 * AS THE ROLE OF THE TOKEN (`set local role anon`), exactly like PostgREST: grants and RLS apply.
 * As PostgREST does, the request headers are given to SQL as `request.headers` (JSON) and an error
 * with SQLSTATE `PTxyz` is answered with HTTP status xyz.
 * Errors use PostgREST's shape { code, message, details, hint }.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type pg from 'pg';

export function makeSupabaseJwt(secret: string, role: 'anon' | 'authenticated' | 'service_role', ttlSeconds = 10 * 365 * 86_400): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = enc({ alg: 'HS256', typ: 'JWT' });
  const body = enc({ iss: 'supabase', ref: 'test', role, iat: now, exp: now + ttlSeconds });
  const sig = createHmac('sha256', secret).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function verifyJwt(token: string, secret: string): { role: string } | null {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [h, b, s] = parts as [string, string, string];
  const expected = createHmac('sha256', secret).update(`${h}.${b}`).digest();
  const actual = Buffer.from(s, 'base64url');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  try {
    const claims = JSON.parse(Buffer.from(b, 'base64url').toString('utf8')) as { role?: unknown; exp?: unknown };
    if (typeof claims.role !== 'string') return null;
    if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return null;
    return { role: claims.role };
  } catch {
    return null;
  }
}

export interface PostgrestStandIn {
  url: string;
  /** Requests received, for assertions (path, role, args). */
  calls: { path: string; role: string | null; status: number }[];
  close(): Promise<void>;
}

const ALLOWED_ROLES = new Set(['anon', 'authenticated']);

export async function startPostgrestStandIn(opts: { pool: pg.Pool; jwtSecret: string }): Promise<PostgrestStandIn> {
  const calls: PostgrestStandIn['calls'] = [];

  function reply(res: ServerResponse, status: number, body: unknown, record: { path: string; role: string | null }): void {
    calls.push({ ...record, status });
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rec = { path: url.pathname, role: null as string | null };
    const m = /^\/rest\/v1\/rpc\/([a-z_][a-z0-9_]*)$/.exec(url.pathname);
    if (!m) return reply(res, 404, { code: 'PGRST125', message: 'Invalid path specified in request URL', details: null, hint: null }, rec);
    if (req.method !== 'POST') return reply(res, 405, { code: 'PGRST117', message: 'Unsupported HTTP method', details: null, hint: null }, rec);
    const apikey = req.headers.apikey;
    const auth = req.headers.authorization ?? '';
    const bearer = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    const claims = typeof apikey === 'string' && bearer ? verifyJwt(bearer, opts.jwtSecret) : null;
    if (!claims || !verifyJwt(String(apikey), opts.jwtSecret)) {
      return reply(res, 401, { code: 'PGRST301', message: 'JWSError JWSInvalidSignature', details: null, hint: null }, rec);
    }
    rec.role = claims.role;
    if (!ALLOWED_ROLES.has(claims.role)) return reply(res, 401, { code: 'PGRST301', message: 'role not allowed here', details: null, hint: null }, rec);
    const profile = req.headers['content-profile'];
    if (profile && profile !== 'public') return reply(res, 406, { code: 'PGRST106', message: 'The schema must be one of the following: public', details: null, hint: null }, rec);

    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let args: Record<string, unknown>;
    try {
      const parsed: unknown = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('object expected');
      args = parsed as Record<string, unknown>;
    } catch {
      return reply(res, 400, { code: 'PGRST102', message: 'Empty or invalid json', details: null, hint: null }, rec);
    }
    const names = Object.keys(args);
    if (names.some((n) => !/^[a-z_][a-z0-9_]*$/.test(n))) return reply(res, 400, { code: 'PGRST102', message: 'invalid argument name', details: null, hint: null }, rec);
    const fn = m[1]!;
    const client = await opts.pool.connect();
    try {
      await client.query('begin');
      await client.query(`set local role ${claims.role}`);
      // like PostgREST: the request headers are visible to SQL as JSON (lower-case names)
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
      await client.query(`select set_config('request.headers', $1, true)`, [JSON.stringify(headers)]);
      const argSql = names.map((n, i) => `"${n}" := $${i + 1}`).join(', ');
      const r = await client.query<{ result: unknown }>(`select to_jsonb(public."${fn}"(${argSql})) as result`, names.map((n) => args[n]));
      await client.query('commit');
      return reply(res, 200, r.rows[0]?.result ?? null, rec);
    } catch (e) {
      await client.query('rollback').catch(() => undefined);
      const err = e as { code?: string; message?: string };
      if (err.code === '42883') {
        return reply(res, 404, { code: 'PGRST202', message: `Could not find the function public.${fn}(${names.join(', ')}) in the schema cache`, details: null, hint: null }, rec);
      }
      if (err.code === '42501') return reply(res, 401, { code: '42501', message: err.message ?? 'permission denied', details: null, hint: null }, rec);
      // like PostgREST: SQLSTATE PTxyz sets the HTTP status xyz
      if (err.code && /^PT[1-5]\d\d$/.test(err.code)) return reply(res, Number(err.code.slice(2)), { code: err.code, message: err.message ?? '', details: null, hint: null }, rec);
      return reply(res, 400, { code: err.code ?? 'XX000', message: err.message ?? 'error', details: null, hint: null }, rec);
    } finally {
      client.release();
    }
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) reply(res, 500, { code: 'XX000', message: String(e), details: null, hint: null }, { path: req.url ?? '', role: null });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
