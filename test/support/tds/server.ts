/**
 * TDS server of the SQL Server simulator: PRELOGIN with encryption negotiation, TLS wrapped in
 * PRELOGIN packets (login-only or full encryption), LOGIN7 with SQL authentication, SQL batches,
 * RPC sp_executesql, Transaction Manager requests, attention, fault injection, and the SQL
 * Browser (UDP) answer for host\INSTANCE.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { BackendSession, SqlBackend } from './backend.js';
import { selfSignedCertificate } from './cert.js';
import { CancelledError, DroppedError, Executor, PROC_IDS, type FaultKind, type RpcParam } from './exec.js';
import type { Catalog, CatalogTable } from './tsql.js';
import {
  DONE_STATUS,
  collationBytes,
  PKT,
  PacketAssembler,
  ProtocolError,
  Reader,
  TOKEN,
  type TdsMessage,
  UnsupportedParamError,
  Writer,
  done,
  envChange,
  envChangeBytes,
  infoOrError,
  loginAck,
  packetize,
  readParam,
} from './wire.js';

export interface TdsSimulatorOptions {
  backend: SqlBackend;
  host?: string;
  port?: number;
  logins: Record<string, string>;
  /** Databases each login may open (login → names); a login not listed opens every database. */
  access?: Record<string, string[]>;
  tls?: { mode: 'off' | 'on'; cert?: string; key?: string };
  instanceName?: string;
  /** UDP port of the SQL Browser answer (default 1434, the port drivers use) */
  browserPort?: number;
  serverVersion?: string;
  /** server name reported in messages (default 'SIMULATOR') */
  serverName?: string;
}

/** One SQL text a client sent (batch, or the statement of sp_executesql / sp_prepare / sp_prepexec), for capture. */
export interface CapturedStatement {
  kind: 'batch' | 'rpc';
  database: string;
  sql: string;
  params: { name: string; sqlType: string; value: string | null }[];
}

export interface TdsSimulator {
  host: string;
  port: number;
  browserPort?: number;
  close(): Promise<void>;
  /** `fired(kind?)`: how many statements a fault acted on since the start (or the last clear), for fault tests to assert. */
  faults: { failNext(kind: FaultKind, match?: RegExp, times?: number): void; clear(): void; fired(kind?: FaultKind): number };
  /** Records every SQL text clients send from start() until stop() (the conformance corpus is captured this way). */
  capture: { start(): void; stop(): CapturedStatement[] };
  stats: {
    connections: number;
    batches: number;
    rpcs: number;
    statements: number;
    /** completed TLS handshakes (full or login-only encryption) */
    tlsHandshakes: number;
    reset(): void;
  };
}

interface Fault {
  kind: FaultKind;
  match?: RegExp;
  remaining: number;
}

function parseVersion(v: string): number[] {
  const parts = v.split('.').map((x) => Number(x) || 0);
  return [parts[0] ?? 15, parts[1] ?? 0, parts[2] ?? 2000, parts[3] ?? 0];
}

export async function startTdsSimulator(o: TdsSimulatorOptions): Promise<TdsSimulator> {
  const host = o.host ?? '127.0.0.1';
  const serverVersion = o.serverVersion ?? '15.0.2000';
  const serverName = o.serverName ?? 'SIMULATOR';
  const ver = parseVersion(serverVersion);
  const versionString =
    `Microsoft SQL Server ${ver[0] === 16 ? '2022' : ver[0] === 14 ? '2017' : ver[0] === 13 ? '2016' : ver[0] === 12 ? '2014' : '2019'} (RTM) - ${serverVersion}.${ver[3]} (X64) \n` +
    `\tCopyright (C) Microsoft Corporation\n\tExpress Edition (64-bit) on Linux (TDS simulator) <X64>`;
  let secureContext: tls.SecureContext | null = null;
  if (o.tls?.mode === 'on') {
    const material = o.tls.cert && o.tls.key ? { cert: o.tls.cert, key: o.tls.key } : selfSignedCertificate();
    secureContext = tls.createSecureContext({ ...material, minVersion: 'TLSv1.2', maxVersion: 'TLSv1.2' });
  }
  const logins = new Map(Object.entries(o.logins).map(([k, v]) => [k.toLowerCase(), v]));
  const faults: Fault[] = [];
  const firedFaults: FaultKind[] = [];
  let captured: CapturedStatement[] | null = null;
  const stats = {
    connections: 0,
    batches: 0,
    rpcs: 0,
    statements: 0,
    tlsHandshakes: 0,
    reset(): void {
      stats.connections = 0;
      stats.batches = 0;
      stats.rpcs = 0;
      stats.statements = 0;
      stats.tlsHandshakes = 0;
    },
  };
  // case-preserving catalog per database, reloaded when the schema may have changed
  const catalogs = new Map<string, { key: string; catalog: Promise<Catalog> }>();
  let localDdl = 0;
  const loadCatalog = async (db: string, session: BackendSession): Promise<Catalog> => {
    const version = o.backend.catalogVersion ? o.backend.catalogVersion(db) : Math.random();
    const key = `${version}:${localDdl}`;
    const cached = catalogs.get(db.toLowerCase());
    if (cached && cached.key === key) return cached.catalog;
    const p = (async () => {
      const r = await session.query(
        `SELECT table_name::text, column_name::text, data_type::text, is_nullable::text, domain_name::text, character_maximum_length::int,
           numeric_precision::int, numeric_scale::int
         FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position`,
      );
      const tables = new Map<string, CatalogTable>();
      for (const [t, c, ty, nullable, domain, charLen, prec, scale] of r.rows as [string, string, string, string, string | null, number | null, number | null, number | null][]) {
        let tab = tables.get(t.toLowerCase());
        if (!tab) {
          tab = { name: t, columns: new Map() };
          tables.set(t.toLowerCase(), tab);
        }
        tab.columns.set(c.toLowerCase(), { name: c, pgType: ty, notNull: nullable === 'NO', sqlType: catalogSqlType(ty, domain, charLen, prec, scale) ?? undefined });
      }
      return { tables };
    })();
    catalogs.set(db.toLowerCase(), { key, catalog: p });
    p.catch(() => catalogs.delete(db.toLowerCase()));
    return p;
  };
  const takeFault = (text: string): FaultKind | null => {
    const i = faults.findIndex((f) => !f.match || f.match.test(text));
    if (i < 0) return null;
    const f = faults[i]!;
    f.remaining--;
    if (f.remaining <= 0) faults.splice(i, 1);
    firedFaults.push(f.kind);
    return f.kind;
  };

  const sockets = new Set<net.Socket>();
  let spidSeq = 51;
  const server = net.createServer((socket) => {
    stats.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket, spidSeq++);
  });

  class Connection {
    private assembler: PacketAssembler;
    private packetSize = 4096;
    private state: 'prelogin' | 'login' | 'ready' | 'closed' = 'prelogin';
    private encryption: 'none' | 'login' | 'full' = 'none';
    private tlsSocket: tls.TLSSocket | null = null;
    private tlsIn: Duplex | null = null;
    private tlsHandshakeDone = false;
    private tlsDiscard = false;
    private inMode: 'clear' | 'tls' = 'clear';
    private outMode: 'clear' | 'tls' = 'clear';
    private pendingHandshake: Buffer[] = [];
    private flushScheduled = false;
    private queue: Promise<void> = Promise.resolve();
    private executor: Executor | null = null;
    private session: BackendSession | null = null;
    private database = '';
    private busy = false;
    private attentionWaiters: (() => void)[] = [];
    private attentionPending = false;

    constructor(
      private readonly socket: net.Socket,
      private readonly spid: number,
    ) {
      this.assembler = new PacketAssembler((m) => this.onMessage(m));
      socket.setNoDelay(true);
      socket.on('data', (chunk) => this.onRaw(chunk));
      socket.on('error', () => undefined);
      socket.on('close', () => this.cleanup());
    }

    private onRaw(chunk: Buffer): void {
      try {
        if (this.inMode === 'tls') {
          this.tlsIn!.push(chunk);
          return;
        }
        if (this.state === 'prelogin' && chunk.length > 0 && chunk[0] !== PKT.PRELOGIN) {
          // not a TDS 7.x client (e.g. TDS 8 'strict' TLS first): refuse instead of waiting forever
          this.socket.destroy();
          return;
        }
        if (this.tlsSocket && !this.tlsDiscard && chunk.length > 0 && chunk[0]! >= 0x14 && chunk[0]! <= 0x17) {
          // raw TLS records after the handshake
          this.inMode = 'tls';
          this.tlsIn!.push(chunk);
          return;
        }
        this.assembler.push(chunk);
      } catch {
        this.socket.destroy();
      }
    }

    private cleanup(): void {
      this.state = 'closed';
      for (const w of this.attentionWaiters.splice(0)) w();
      const s = this.session;
      this.session = null;
      if (s) {
        void this.queue.then(async () => {
          if (this.executor && this.executor.trancount > 0) await s.rollback().catch(() => undefined);
          await s.close().catch(() => undefined);
        });
      }
      this.tlsSocket?.destroy();
    }

    private sendRaw(buf: Buffer): void {
      if (this.state === 'closed') return;
      if (this.outMode === 'tls' && this.tlsSocket) this.tlsSocket.write(buf);
      else this.socket.write(buf);
    }

    private send(type: number, payload: Buffer): void {
      this.sendRaw(packetize(type, payload, this.packetSize, this.spid));
    }

    private onMessage(m: TdsMessage): void {
      if (this.state === 'closed') return;
      if (m.type === PKT.ATTENTION) {
        this.onAttention();
        return;
      }
      if (this.state === 'prelogin' && m.type === PKT.PRELOGIN) {
        this.onPrelogin(m.data);
        return;
      }
      if (this.state === 'login' && m.type === PKT.PRELOGIN && secureContext && this.encryption !== 'none') {
        this.onTlsHandshakeData(m.data);
        return;
      }
      if (this.state === 'login' && m.type === PKT.LOGIN7) {
        this.queue = this.queue.then(() => this.onLogin(m.data)).catch(() => {
          this.socket.destroy();
        });
        return;
      }
      if (this.state === 'ready' && (m.type === PKT.SQL_BATCH || m.type === PKT.RPC || m.type === PKT.TRANSACTION_MANAGER)) {
        // busy from reception on, so an attention racing the start of the request cancels it
        this.busy = true;
        this.attentionPending = false;
        if (this.executor) this.executor.cancelled = false;
        this.queue = this.queue.then(() => this.onRequest(m)).catch(() => {
          this.socket.destroy();
        });
        return;
      }
      this.socket.destroy();
    }

    private onAttention(): void {
      if (this.busy) {
        this.attentionPending = true;
        if (this.executor) this.executor.cancelled = true;
        for (const w of this.attentionWaiters.splice(0)) w();
        return;
      }
      const w = new Writer();
      done(w, TOKEN.DONE, DONE_STATUS.ATTN, 0, 0);
      this.send(PKT.REPLY, w.toBuffer());
    }

    // ----- PRELOGIN / TLS -----

    private onPrelogin(data: Buffer): void {
      let clientEnc = 2;
      const r = new Reader(data);
      for (;;) {
        const token = r.u8();
        if (token === 0xff) break;
        const off = r.buf.readUInt16BE(r.pos);
        const len = r.buf.readUInt16BE(r.pos + 2);
        r.pos += 4;
        if (token === 0x01 && len >= 1) clientEnc = data[off]!;
      }
      let serverEnc: number;
      if (!secureContext) serverEnc = 2;
      else if (clientEnc === 0) serverEnc = 0;
      else if (clientEnc === 1 || clientEnc === 3) serverEnc = 1;
      else serverEnc = 2;
      this.encryption = serverEnc === 1 ? 'full' : serverEnc === 0 ? 'login' : 'none';
      const opts: [number, Buffer][] = [
        [0x00, Buffer.from([ver[0]!, ver[1]!, (ver[2]! >> 8) & 0xff, ver[2]! & 0xff, 0, 0])],
        [0x01, Buffer.from([serverEnc])],
        [0x02, Buffer.from([0])],
        [0x03, Buffer.alloc(0)],
        [0x04, Buffer.from([0])],
      ];
      const headerLen = opts.length * 5 + 1;
      const w = new Writer();
      let off = headerLen;
      for (const [t, b] of opts) {
        w.u8(t).u16be(off).u16be(b.length);
        off += b.length;
      }
      w.u8(0xff);
      for (const [, b] of opts) w.bytes(b);
      this.state = 'login';
      this.send(PKT.REPLY, w.toBuffer());
    }

    private onTlsHandshakeData(data: Buffer): void {
      if (!this.tlsSocket) this.startTls();
      this.tlsIn!.push(data);
    }

    private startTls(): void {
      const onTlsOut = (chunk: Buffer): void => {
        if (this.tlsDiscard || this.state === 'closed') return;
        if (this.tlsHandshakeDone || chunk[0] === 0x17) {
          this.flushHandshake();
          this.socket.write(chunk);
          return;
        }
        this.pendingHandshake.push(chunk);
        if (!this.flushScheduled) {
          this.flushScheduled = true;
          setImmediate(() => this.flushHandshake());
        }
      };
      const duplex = new Duplex({
        read() {},
        write(chunk: Buffer, _enc, cb) {
          onTlsOut(chunk);
          cb();
        },
      });
      this.tlsIn = duplex;
      const sock = new tls.TLSSocket(duplex, { isServer: true, secureContext: secureContext!, requestCert: false });
      this.tlsSocket = sock;
      sock.on('secure', () => {
        stats.tlsHandshakes++;
        // let the final handshake flight go out wrapped before switching to raw records
        setImmediate(() => {
          this.flushHandshake();
          this.tlsHandshakeDone = true;
          this.inMode = 'tls';
          const pending = this.assembler.takePending();
          if (pending.length) duplex.push(pending);
          if (this.encryption === 'full') this.outMode = 'tls';
        });
      });
      sock.on('data', (clear: Buffer) => {
        try {
          this.assembler.push(clear);
        } catch {
          this.socket.destroy();
        }
      });
      sock.on('error', () => this.socket.destroy());
    }

    private flushHandshake(): void {
      this.flushScheduled = false;
      if (this.pendingHandshake.length === 0) return;
      const payload = Buffer.concat(this.pendingHandshake);
      this.pendingHandshake = [];
      this.socket.write(packetize(PKT.PRELOGIN, payload, this.packetSize, 0));
    }

    // ----- LOGIN7 -----

    private async onLogin(data: Buffer): Promise<void> {
      if (this.encryption === 'full' && this.inMode !== 'tls') throw new ProtocolError('LOGIN7 before TLS');
      if (this.inMode === 'tls' && this.encryption === 'login') {
        // login-only encryption: back to clear text after LOGIN7
        this.tlsDiscard = true;
        this.inMode = 'clear';
        this.outMode = 'clear';
      }
      const r = new Reader(data);
      r.u32();
      const tdsVersion = r.u32();
      const packetSize = r.u32();
      const str = (at: number): string => {
        const off = data.readUInt16LE(at);
        const len = data.readUInt16LE(at + 2);
        return data.subarray(off, off + len * 2).toString('utf16le');
      };
      const user = str(40);
      const pwOff = data.readUInt16LE(44);
      const pwLen = data.readUInt16LE(46);
      const pw = Buffer.from(data.subarray(pwOff, pwOff + pwLen * 2));
      for (let i = 0; i < pw.length; i++) {
        const b = pw[i]! ^ 0xa5;
        pw[i] = ((b & 0x0f) << 4) | (b >> 4);
      }
      const password = pw.toString('utf16le');
      let database = str(68);
      if (packetSize >= 512 && packetSize <= 32767) this.packetSize = packetSize;
      const w = new Writer();
      const fail = (number: number, cls: number, message: string): void => {
        infoOrError(w, TOKEN.ERROR, { number, state: 1, class: cls, message }, serverName);
        done(w, TOKEN.DONE, DONE_STATUS.ERROR, 0, 0);
        this.send(PKT.REPLY, w.toBuffer());
        this.state = 'closed';
        this.socket.end();
      };
      const expected = logins.get(user.toLowerCase());
      if (expected === undefined || expected !== password) {
        fail(18456, 14, `Login failed for user '${user}'.`);
        return;
      }
      if (!database) database = (await o.backend.databases())[0] ?? 'master';
      const dbs = await o.backend.databases();
      const allowed = (name: string): boolean => {
        const list = o.access?.[user.toLowerCase()] ?? o.access?.[user];
        return !list || list.some((x) => x.toLowerCase() === name.toLowerCase());
      };
      // No master database here: a login to master lands in the first database it may open (its default one).
      if (database.toLowerCase() === 'master' && !dbs.some((d) => d.toLowerCase() === 'master')) database = dbs.find(allowed) ?? database;
      const actual = dbs.find((d) => d.toLowerCase() === database.toLowerCase());
      if (!actual || !allowed(actual)) {
        fail(4060, 11, `Cannot open database "${database}" requested by the login. The login failed.`);
        return;
      }
      try {
        this.session = await o.backend.openSession(actual);
      } catch {
        fail(4060, 11, `Cannot open database "${database}" requested by the login. The login failed.`);
        return;
      }
      this.database = actual;
      const collation = (await o.backend.collation?.(actual)) ?? 'French_CI_AS';
      const collBytes = collationBytes(collation);
      this.executor = new Executor({
        session: this.session,
        database: actual,
        collation,
        collationBytes: collBytes,
        databases: async () => (await o.backend.databases()).map((name) => ({ name, access: allowed(name) })),
        onStatementText: (kind, sql, params) => {
          captured?.push({ kind, database: actual, sql, params });
        },
        serverName,
        serverVersion,
        versionString,
        spid: this.spid,
        catalog: () => loadCatalog(actual, this.session!),
        invalidateCatalog: () => {
          localDdl++;
        },
        fault: takeFault,
        waitForAttention: () =>
          new Promise<void>((resolve) => {
            if (this.attentionPending || this.state === 'closed') resolve();
            else this.attentionWaiters.push(resolve);
          }),
        drop: () => {
          this.state = 'closed';
          // TCP reset (as when a server or a network device kills the connection)
          this.socket.resetAndDestroy();
        },
        countStatement: () => {
          stats.statements++;
        },
      });
      const tdsOut = tdsVersion >= 0x74000004 ? 0x74000004 : tdsVersion;
      envChange(w, 1, actual, 'master');
      infoOrError(w, TOKEN.INFO, { number: 5701, state: 2, class: 0, message: `Changed database context to '${actual}'.` }, serverName);
      envChangeBytes(w, 7, collBytes, Buffer.alloc(0));
      envChange(w, 2, 'us_english', '');
      infoOrError(w, TOKEN.INFO, { number: 5703, state: 1, class: 0, message: 'Changed language setting to us_english.' }, serverName);
      loginAck(w, tdsOut, 'Microsoft SQL Server', ver);
      envChange(w, 4, String(this.packetSize), String(packetSize || 4096));
      done(w, TOKEN.DONE, 0, 0, 0);
      this.state = 'ready';
      this.send(PKT.REPLY, w.toBuffer());
    }

    // ----- requests -----

    private async onRequest(m: TdsMessage): Promise<void> {
      if (this.state !== 'ready' || !this.executor) return;
      this.busy = true;
      const w = new Writer(1024);
      try {
        if (m.status & 0x08) await this.executor.reset(w);
        const r = new Reader(m.data);
        // ALL_HEADERS
        if (m.data.length >= 4) {
          const total = m.data.readUInt32LE(0);
          if (total >= 4 && total <= m.data.length && m.data.length >= 8 && m.data.readUInt32LE(4) <= total) r.pos = total;
        }
        if (m.type === PKT.SQL_BATCH) {
          stats.batches++;
          const sql = m.data.subarray(r.pos).toString('utf16le');
          captured?.push({ kind: 'batch', database: this.database, sql, params: [] });
          await this.executor.batch(sql, null, false, w);
        } else if (m.type === PKT.RPC) {
          stats.rpcs++;
          await this.rpc(r, w);
        } else {
          const type = r.u16();
          let beginAfter = false;
          if (type === 7 || type === 8) {
            r.bvarchar();
            if (r.remaining > 0) beginAfter = (r.u8() & 0x01) === 1;
          }
          await this.executor.transactionManager(type, beginAfter, w);
        }
        if (this.attentionPending) {
          const a = new Writer();
          done(a, TOKEN.DONE, DONE_STATUS.ATTN, 0, 0);
          this.send(PKT.REPLY, a.toBuffer());
        } else {
          this.send(PKT.REPLY, w.toBuffer());
        }
      } catch (e) {
        if (e instanceof DroppedError || (this.state as string) === 'closed') return;
        if (e instanceof CancelledError) {
          const a = new Writer();
          done(a, TOKEN.DONE, DONE_STATUS.ATTN, 0, 0);
          this.send(PKT.REPLY, a.toBuffer());
          return;
        }
        const msg = e instanceof UnsupportedParamError ? `TDS simulator: ${e.message}` : `TDS simulator internal error: ${(e as Error).message}`;
        const x = new Writer();
        infoOrError(x, TOKEN.ERROR, { number: 50000, state: 1, class: 16, message: msg }, serverName);
        done(x, m.type === PKT.RPC ? TOKEN.DONEPROC : TOKEN.DONE, DONE_STATUS.ERROR, 0, 0);
        this.send(PKT.REPLY, x.toBuffer());
      } finally {
        this.busy = false;
        this.attentionPending = false;
      }
    }

    /** One RPC message: one or several requests (batched with 0x80 / 0xFF separators), run in order. */
    private async rpc(r: Reader, w: Writer): Promise<void> {
      for (;;) {
        const nameLen = r.u16();
        let proc: string;
        if (nameLen === 0xffff) {
          const id = r.u16();
          proc = PROC_IDS[id] ?? `#${id}`;
        } else proc = r.ucs2(nameLen);
        r.u16(); // option flags (WithRecomp, NoMetaData, ReuseMetaData)
        const params: RpcParam[] = [];
        while (r.remaining > 0) {
          const b = r.buf[r.pos]!;
          if (b === 0xff || b === 0x80) break;
          const name = r.bvarchar();
          const status = r.u8();
          params.push({ name, output: (status & 0x01) === 1, value: readParam(r) });
        }
        await this.executor!.rpc(proc, params, w);
        if (r.remaining === 0) return;
        r.u8(); // batch separator
        if (r.remaining === 0) return;
      }
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;

  let browser: dgram.Socket | null = null;
  let browserPort: number | undefined;
  if (o.instanceName) {
    const sock = dgram.createSocket('udp4');
    browser = sock;
    const instance = o.instanceName;
    sock.on('message', (msg, rinfo) => {
      const kind = msg[0];
      if (kind === 0x04) {
        const asked = msg.subarray(1).toString('latin1').replace(/\0.*$/, '');
        if (asked.toUpperCase() !== instance.toUpperCase()) return;
      } else if (kind !== 0x02 && kind !== 0x03) return;
      const text = `ServerName;${serverName};InstanceName;${instance};IsClustered;No;Version;${serverVersion}.0;tcp;${port};;`;
      const body = Buffer.from(text, 'latin1');
      const head = Buffer.alloc(3);
      head[0] = 0x05;
      head.writeUInt16LE(body.length, 1);
      sock.send(Buffer.concat([head, body]), rinfo.port, rinfo.address);
    });
    await new Promise<void>((resolve, reject) => {
      sock.once('error', reject);
      sock.bind(o.browserPort ?? 1434, host, () => {
        sock.off('error', reject);
        resolve();
      });
    });
    browserPort = sock.address().port;
  }

  return {
    host,
    port,
    browserPort,
    faults: {
      failNext(kind, match, times = 1) {
        faults.push({ kind, match, remaining: times });
      },
      clear() {
        faults.length = 0;
        firedFaults.length = 0;
      },
      fired(kind) {
        return kind ? firedFaults.filter((k) => k === kind).length : firedFaults.length;
      },
    },
    stats,
    capture: {
      start() {
        captured = [];
      },
      stop() {
        const out = captured ?? [];
        captured = null;
        return out;
      },
    },
    async close() {
      browser?.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** SQL Server type of a PostgreSQL column as INFORMATION_SCHEMA.COLUMNS would report it with its length/precision. */
export function catalogSqlType(dataType: string, domain: string | null, charLen: number | null, precision: number | null, scale: number | null): string | null {
  if (domain && domain.startsWith('t_')) {
    const base = domain.slice(2);
    return base === 'datetime2' ? 'datetime2(7)' : base;
  }
  switch (dataType) {
    case 'character varying':
      return charLen ? `nvarchar(${charLen <= 4000 ? charLen : 'max'})` : 'nvarchar(max)';
    case 'character':
      return `nchar(${charLen ?? 1})`;
    case 'text':
      return 'nvarchar(max)';
    case 'integer':
      return 'int';
    case 'smallint':
      return 'smallint';
    case 'bigint':
      return 'bigint';
    case 'boolean':
      return 'bit';
    case 'numeric':
      return precision ? `decimal(${precision},${scale ?? 0})` : null;
    case 'real':
      return 'real';
    case 'double precision':
      return 'float';
    case 'date':
      return 'date';
    case 'timestamp without time zone':
      return 'datetime';
    case 'timestamp with time zone':
      return 'datetimeoffset(7)';
    case 'time without time zone':
      return 'time(7)';
    case 'uuid':
      return 'uniqueidentifier';
    case 'bytea':
      return 'varbinary(max)';
    default:
      return null;
  }
}
