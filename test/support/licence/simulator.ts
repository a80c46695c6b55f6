/**
 * A licence service on the loopback with no database: the public API of the licence manager
 * (`POST /api/v1/validate`, `POST /api/v1/heartbeat` → Ed25519-signed answers, `GET /api/v1/public-key`), for
 * `npm run try` and the tests that need a working licence without PostgreSQL. Same request and answer schemas
 * (src/shared/licence.ts) and the same signing code (src/license-manager/security.ts) as the real service; the
 * licences live in memory, with the same rules: unknown key → invalid, deactivated, expired, seats per machine
 * (max_machines), answers valid for `validityDays` and never past the expiry.
 *
 * The signing key pair is generated at each start: the connector is given `publicKeyPem` in its settings, which
 * only a development host accepts (web bridge, tests: licencePinned {}); a packaged app only trusts the vendor key.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateSigningKeyPair, loadSigningKeys, signPayload } from '../../../src/license-manager/security.js';
import {
  licenceValidateRequestSchema,
  normalizeLicenceKey,
  type LicencePayload,
  type LicenceServerStatus,
  type SignedLicenceAnswer,
} from '../../../src/shared/licence.js';

export interface SimLicence {
  key: string;
  clientName: string;
  expiresInDays: number;
  maxMachines?: number;
  active?: boolean;
  features?: Record<string, unknown>;
}

export interface LicenceSimulator {
  url: string;
  publicKeyPem: string;
  /** Requests answered (path, key hint, status). */
  calls: { path: string; status: LicenceServerStatus }[];
  /** Deactivates (or reactivates) a licence, as the vendor's admin pages do. */
  setActive(key: string, active: boolean): void;
  close(): Promise<void>;
}

const DAY = 86_400_000;
const MAX_BODY = 16 * 1024;

export async function startLicenceSimulator(opts: {
  licences: SimLicence[];
  validityDays?: number;
  now?: () => Date;
  host?: string;
  port?: number;
}): Promise<LicenceSimulator> {
  const now = opts.now ?? (() => new Date());
  const pair = generateSigningKeyPair();
  const keys = loadSigningKeys(pair.privateKeyPem, pair.publicKeyPem);
  const started = now().getTime();
  const licences = new Map(
    opts.licences.map((l) => [
      normalizeLicenceKey(l.key),
      { ...l, expiresAt: new Date(started + l.expiresInDays * DAY), machines: new Set<string>() },
    ]),
  );
  const calls: LicenceSimulator['calls'] = [];

  function answer(body: unknown): SignedLicenceAnswer {
    const parsed = licenceValidateRequestSchema.safeParse(body);
    const key = parsed.success ? normalizeLicenceKey(parsed.data.license_key) : '';
    const machine = parsed.success ? parsed.data.machine_id.slice(0, 128) : '';
    const lic = machine ? licences.get(key) : undefined;
    const issued = now();
    let status: LicenceServerStatus;
    if (!lic) status = 'invalid';
    else if (lic.active === false) status = 'deactivated';
    else if (lic.expiresAt <= issued) status = 'expired';
    else if (!lic.machines.has(machine) && lic.machines.size >= (lic.maxMachines ?? 1)) status = 'machine_limit';
    else {
      status = 'valid';
      lic.machines.add(machine);
    }
    let validUntil = new Date(issued.getTime() + (opts.validityDays ?? 7) * DAY);
    if (lic && status === 'valid' && lic.expiresAt < validUntil) validUntil = lic.expiresAt;
    const payload: LicencePayload = {
      status,
      client_name: lic ? lic.clientName : null,
      expires_at: lic ? lic.expiresAt.toISOString() : null,
      features: lic ? (lic.features ?? { chantiers: true, heures: true }) : {},
      max_machines: lic ? (lic.maxMachines ?? 1) : null,
      issued_at: issued.toISOString(),
      valid_until: validUntil.toISOString(),
      machine_id: machine,
      nonce: parsed.success ? (parsed.data.nonce ?? null) : null,
    };
    return { payload, signature: signPayload(keys, payload), alg: 'Ed25519' };
  }

  const server = http.createServer((req, res) => {
    const send = (status: number, body: string, type = 'application/json; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
      res.end(body);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/api/v1/public-key') return send(200, keys.publicKeyPem, 'application/x-pem-file');
    if (req.method !== 'POST' || (path !== '/api/v1/validate' && path !== '/api/v1/heartbeat')) return send(404, JSON.stringify({ error: 'not_found' }));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        send(413, JSON.stringify({ error: 'too_large' }));
        req.destroy();
      } else chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = null;
      }
      const a = answer(body);
      calls.push({ path, status: a.payload.status });
      send(200, JSON.stringify(a));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const addr = server.address() as AddressInfo;
  return {
    url: `http://${opts.host ?? '127.0.0.1'}:${addr.port}`,
    publicKeyPem: keys.publicKeyPem,
    calls,
    setActive(key, active) {
      const lic = licences.get(normalizeLicenceKey(key));
      if (!lic) throw new Error(`licence simulator: no licence ${key}`);
      lic.active = active;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
