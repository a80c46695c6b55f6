/**
 * SQL Server discovery, as Microsoft's tools do it: the SQL Server Browser service answers on UDP 1434 with the
 * instances of its host (MC-SQLR: CLNT_UCAST_EX 0x03 to one host, CLNT_BCAST_EX 0x02 to the local network; the
 * answer is SVR_RESP 0x05, a length, then `ServerName;…;InstanceName;…;IsClustered;…;Version;…;tcp;1433;;` per
 * instance). The integrator picks an instance instead of typing SERVEUR\INSTANCE by heart.
 *
 * Answers come from the network: each is parsed strictly (bounded size, known keys, port 1–65535); a bad one is
 * dropped and the others kept.
 */
import dgram from 'node:dgram';
import { z } from 'zod';

export const SQL_BROWSER_PORT = 1434;

export interface DiscoveredInstance {
  /** What goes in « Serveur SQL Server »: HOST\INSTANCE, or HOST for the default instance. */
  server: string;
  host: string;
  /** null for the default instance (MSSQLSERVER). */
  instance: string | null;
  tcpPort: number | null;
  version: string | null;
  /** The address that answered. */
  answeredBy: string;
}

const nameRe = /^[\p{L}\p{N}_$#.-]{1,128}$/u;
const recordSchema = z.object({
  ServerName: z.string().regex(nameRe),
  InstanceName: z.string().regex(nameRe),
  Version: z.string().max(32).regex(/^[\d.]*$/).optional(),
  tcp: z.coerce.number().int().min(1).max(65_535).optional(),
});

/** The instances of one SVR_RESP datagram (none when it is not one). */
export function parseBrowserResponse(msg: Buffer, answeredBy: string, askedHost: string | null): DiscoveredInstance[] {
  if (msg.length < 3 || msg[0] !== 0x05) return [];
  const size = msg.readUInt16LE(1);
  const text = msg.subarray(3, 3 + Math.min(size, msg.length - 3, 65_535)).toString('latin1');
  const out: DiscoveredInstance[] = [];
  for (const chunk of text.split(';;')) {
    const parts = chunk.split(';');
    if (parts.length < 2) continue;
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < parts.length; i += 2) fields[parts[i] ?? ''] = parts[i + 1] ?? '';
    const r = recordSchema.safeParse(fields);
    if (!r.success) continue;
    // The host as the integrator reached it (an address typed) or, on a broadcast, the name the server gives.
    const host = askedHost ?? r.data.ServerName;
    const instance = r.data.InstanceName.toUpperCase() === 'MSSQLSERVER' ? null : r.data.InstanceName;
    out.push({ server: instance ? `${host}\\${instance}` : host, host, instance, tcpPort: r.data.tcp ?? null, version: r.data.Version ?? null, answeredBy });
  }
  return out;
}

export interface DiscoverOptions {
  /** A host name or address; '' asks the whole local network (broadcast). */
  host: string;
  port?: number;
  /** How long to wait for answers. */
  timeoutMs?: number;
}

/** Asks the SQL Browser of `host` (or of every host of the network) for its instances. */
export function discoverInstances(o: DiscoverOptions): Promise<DiscoveredInstance[]> {
  const host = o.host.trim();
  const broadcast = host === '';
  const found = new Map<string, DiscoveredInstance>();
  return new Promise((resolve) => {
    const sock = dgram.createSocket('udp4');
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.close();
      resolve([...found.values()].sort((a, b) => a.server.localeCompare(b.server, 'fr')));
    };
    const timer = setTimeout(finish, o.timeoutMs ?? 1500);
    sock.on('error', finish);
    sock.on('message', (msg, rinfo) => {
      for (const i of parseBrowserResponse(msg, rinfo.address, broadcast ? null : host)) found.set(i.server.toUpperCase(), i);
      // One host answers once: no need to wait for more.
      if (!broadcast) finish();
    });
    sock.bind(0, () => {
      if (broadcast) sock.setBroadcast(true);
      sock.send(Buffer.from([broadcast ? 0x02 : 0x03]), o.port ?? SQL_BROWSER_PORT, broadcast ? '255.255.255.255' : host, (e) => {
        if (e) finish();
      });
    });
  });
}
