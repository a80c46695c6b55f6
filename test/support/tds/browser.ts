/**
 * A SQL Server Browser for tests (MC-SQLR over UDP): answers CLNT_BCAST_EX (0x02) and CLNT_UCAST_EX (0x03) with
 * every instance of the "host", and CLNT_UCAST_INST (0x04 + name) with that instance only, as the Windows
 * service does on UDP 1434. Each instance points at the TCP port of a TDS simulator (or any port: a listed
 * instance need not answer). Bound to loopback on a free port unless told otherwise.
 */
import dgram from 'node:dgram';

export interface BrowserInstance {
  /** INSTANCE of SERVEUR\INSTANCE; 'MSSQLSERVER' is the default instance. */
  name: string;
  tcpPort: number;
  version?: string;
  clustered?: boolean;
}

export interface SqlBrowser {
  host: string;
  port: number;
  /** Requests answered, by kind (0x02, 0x03, 0x04). */
  requests: { kind: number; from: string }[];
  close(): Promise<void>;
}

function record(serverName: string, i: BrowserInstance): string {
  return `ServerName;${serverName};InstanceName;${i.name};IsClustered;${i.clustered ? 'Yes' : 'No'};Version;${i.version ?? '16.0.1000.6'};tcp;${i.tcpPort};;`;
}

export async function startSqlBrowser(o: { instances: BrowserInstance[]; serverName?: string; host?: string; port?: number }): Promise<SqlBrowser> {
  const host = o.host ?? '127.0.0.1';
  const serverName = o.serverName ?? 'SIMULATOR';
  const sock = dgram.createSocket('udp4');
  const requests: SqlBrowser['requests'] = [];
  sock.on('message', (msg, rinfo) => {
    const kind = msg[0] ?? 0;
    let chosen: BrowserInstance[];
    if (kind === 0x02 || kind === 0x03) chosen = o.instances;
    else if (kind === 0x04) {
      const asked = msg.subarray(1).toString('latin1').replace(/\0.*$/s, '').toUpperCase();
      chosen = o.instances.filter((i) => i.name.toUpperCase() === asked);
    } else return;
    requests.push({ kind, from: `${rinfo.address}:${rinfo.port}` });
    if (chosen.length === 0) return;
    const body = Buffer.from(chosen.map((i) => record(serverName, i)).join(''), 'latin1');
    const head = Buffer.alloc(3);
    head[0] = 0x05;
    head.writeUInt16LE(body.length, 1);
    sock.send(Buffer.concat([head, body]), rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(o.port ?? 0, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
  return {
    host,
    port: sock.address().port,
    requests,
    close: () => new Promise<void>((resolve) => sock.close(() => resolve())),
  };
}
