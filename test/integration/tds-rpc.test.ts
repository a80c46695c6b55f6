/**
 * RPC procedures of the TDS simulator by MS-TDS procedure id and by name, from a raw TDS client (no driver in the
 * way): sp_prepexec / sp_execute / sp_unprepare with NTEXT statement text as FreeTDS ODBC sends them, prepared
 * handles per connection, server cursors (ids 1–9) and unknown procedures refused with 2812.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPgliteBackend, startTdsSimulator, type AdminBackend, type TdsSimulator } from '../support/tds/index.js';
import { PKT, Reader, Writer, packetize } from '../support/tds/wire.js';

interface Reply {
  errors: number[];
  rows: number[][];
  returnValues: { name: string; value: number | null }[];
  returnStatus: number | null;
}

/** A TDS 7.4 client reduced to what these tests need: login, RPC with int/NTEXT parameters, int result columns. */
class RawClient {
  private socket!: net.Socket;
  private buf = Buffer.alloc(0);
  private waiting: ((b: Buffer) => void) | null = null;

  static async connect(sim: TdsSimulator, database: string): Promise<RawClient> {
    const c = new RawClient();
    c.socket = net.connect(sim.port, sim.host);
    await new Promise<void>((resolve, reject) => c.socket.once('connect', resolve).once('error', reject));
    c.socket.on('data', (d: Buffer) => c.onData(d));
    // PRELOGIN: version, encryption not supported
    const pre = new Writer().u8(0x00).u16be(11).u16be(6).u8(0x01).u16be(17).u16be(1).u8(0xff).bytes(Buffer.from([11, 0, 0, 0, 0, 0])).u8(0x02).toBuffer();
    await c.request(PKT.PRELOGIN, pre);
    await c.request(PKT.LOGIN7, login7('sa', 'Secret#1', database));
    return c;
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    // complete message: packets until one with the EOM status bit
    let off = 0;
    const parts: Buffer[] = [];
    while (off + 8 <= this.buf.length) {
      const len = this.buf.readUInt16BE(off + 2);
      if (off + len > this.buf.length) return;
      parts.push(this.buf.subarray(off + 8, off + len));
      const eom = (this.buf[off + 1]! & 0x01) === 1;
      off += len;
      if (eom) {
        this.buf = this.buf.subarray(off);
        const w = this.waiting;
        this.waiting = null;
        w?.(Buffer.concat(parts));
        return;
      }
    }
  }

  private request(type: number, payload: Buffer): Promise<Buffer> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.socket.write(packetize(type, payload, 4096));
    });
  }

  /** RPC by id (number) or name (string); params: [name, 'int' | 'ntext', value, output?]. */
  async rpc(proc: number | string, params: [string, 'int' | 'ntext', number | string | null, boolean?][]): Promise<Reply> {
    const w = new Writer().u32(22).u32(18).u16(2).bytes(Buffer.alloc(8)).u32(1);
    if (typeof proc === 'number') w.u16(0xffff).u16(proc);
    else w.usvarchar(proc);
    w.u16(0);
    for (const [name, type, value, output] of params) {
      w.bvarchar(name).u8(output ? 0x01 : 0x00);
      if (type === 'int') {
        w.u8(0x26).u8(4);
        if (value === null) w.u8(0);
        else w.u8(4).i32(Number(value));
      } else {
        const b = Buffer.from(String(value ?? ''), 'utf16le');
        w.u8(0x63).u32(0x7ffffffe).bytes(Buffer.from([0x0c, 0x04, 0xd0, 0x00, 0x00]));
        if (value === null) w.u32(0xffffffff);
        else w.u32(b.length).bytes(b);
      }
    }
    return parseReply(await this.request(PKT.RPC, w.toBuffer()));
  }

  close(): void {
    this.socket.destroy();
  }
}

function login7(user: string, password: string, database: string): Buffer {
  const pw = Buffer.from(password, 'utf16le');
  for (let i = 0; i < pw.length; i++) pw[i] = (((pw[i]! << 4) & 0xf0) | (pw[i]! >> 4)) ^ 0xa5;
  const strings: Buffer[] = [Buffer.from('host', 'utf16le'), Buffer.from(user, 'utf16le'), pw, Buffer.from('rawclient', 'utf16le'), Buffer.from('server', 'utf16le'), Buffer.alloc(0), Buffer.from('raw', 'utf16le'), Buffer.alloc(0), Buffer.from(database, 'utf16le')];
  const fixed = 94;
  const w = new Writer();
  let total = fixed;
  for (const s of strings) total += s.length;
  w.u32(total).u32(0x74000004).u32(4096).u32(0).u32(process.pid).u32(0).u8(0xe0).u8(0x03).u8(0).u8(0).i32(0).u32(0x040c);
  let off = fixed;
  for (const s of strings) {
    w.u16(off).u16(s.length / 2);
    off += s.length;
  }
  w.bytes(Buffer.alloc(6)).u16(off).u16(0).u16(off).u16(0).u16(off).u16(0).u32(0);
  for (const s of strings) w.bytes(s);
  return w.toBuffer();
}

/** Walks the tokens the simulator sends for int results, procedures and errors. */
function parseReply(data: Buffer): Reply {
  const r = new Reader(data);
  const out: Reply = { errors: [], rows: [], returnValues: [], returnStatus: null };
  let cols = 0;
  while (r.remaining > 0) {
    const token = r.u8();
    switch (token) {
      case 0x81: {
        cols = r.u16();
        for (let i = 0; i < cols; i++) {
          r.u32();
          r.u16();
          const type = r.u8();
          if (type !== 0x26) throw new Error(`raw client: column type 0x${type.toString(16)} not handled`);
          r.u8();
          r.bvarchar();
        }
        break;
      }
      case 0xd1: {
        const row: number[] = [];
        for (let i = 0; i < cols; i++) {
          const n = r.u8();
          row.push(n === 0 ? NaN : r.bytes(n).readInt32LE(0));
        }
        out.rows.push(row);
        break;
      }
      case 0xfd:
      case 0xfe:
      case 0xff:
        r.bytes(12);
        break;
      case 0x79:
        out.returnStatus = r.i32();
        break;
      case 0xac: {
        r.u16();
        const name = r.bvarchar();
        r.u8();
        r.u32();
        r.u16();
        const type = r.u8();
        if (type !== 0x26) throw new Error('raw client: return value type not handled');
        r.u8();
        const n = r.u8();
        out.returnValues.push({ name, value: n === 0 ? null : r.bytes(n).readInt32LE(0) });
        break;
      }
      case 0xaa: {
        const len = r.u16();
        const body = r.bytes(len);
        out.errors.push(body.readInt32LE(0));
        break;
      }
      case 0xab:
      case 0xe3:
      case 0xad: {
        r.bytes(r.u16());
        break;
      }
      default:
        throw new Error(`raw client: token 0x${token.toString(16)}`);
    }
  }
  return out;
}

let backend!: AdminBackend;
let sim!: TdsSimulator;
const clients: RawClient[] = [];
const client = async (): Promise<RawClient> => {
  const c = await RawClient.connect(sim, 'BTG_RPC');
  clients.push(c);
  return c;
};

beforeAll(async () => {
  backend = await createPgliteBackend();
  await backend.adminExec('BTG_RPC', `CREATE TABLE "Heures" ("Id" integer PRIMARY KEY, "Nb" integer); INSERT INTO "Heures" VALUES (1, 7), (2, 8), (3, 9)`);
  sim = await startTdsSimulator({ backend, logins: { sa: 'Secret#1' } });
});
afterAll(async () => {
  for (const c of clients) c.close();
  await sim?.close();
  await backend?.close();
});

describe('RPC by procedure id and by name', () => {
  it('sp_prepexec (13) prepares and runs NTEXT text, sp_execute (12) reruns the handle, sp_unprepare (15) frees it', async () => {
    const c = await client();
    const first = await c.rpc(13, [['@handle', 'int', null, true], ['@params', 'ntext', '@P1 int'], ['@stmt', 'ntext', 'SELECT Nb + 0 AS nb FROM Heures WHERE Id = @P1'], ['@P1', 'int', 2]]);
    expect(first).toMatchObject({ errors: [], rows: [[8]], returnStatus: 0 });
    const handle = first.returnValues[0]?.value;
    expect(handle).toEqual(expect.any(Number));
    expect((await c.rpc(12, [['@handle', 'int', handle!], ['@P1', 'int', 3]])).rows).toEqual([[9]]);
    expect((await c.rpc('sp_execute', [['@handle', 'int', handle!], ['@P1', 'int', 1]])).rows).toEqual([[7]]);
    // the handle belongs to this connection
    const other = await client();
    expect((await other.rpc(12, [['@handle', 'int', handle!], ['@P1', 'int', 1]])).errors).toEqual([8179]);
    expect((await c.rpc(15, [['@handle', 'int', handle!]])).errors).toEqual([]);
    expect((await c.rpc(12, [['@handle', 'int', handle!], ['@P1', 'int', 1]])).errors).toEqual([8179]);
  });

  it('sp_executesql by id (10) and by any spelling of its name', async () => {
    const c = await client();
    const args: [string, 'int' | 'ntext', number | string][] = [['@stmt', 'ntext', 'SELECT COUNT(*) AS n FROM Heures WHERE Nb > @min'], ['@params', 'ntext', '@min int'], ['@min', 'int', 7]];
    for (const proc of [10, 'sp_executesql', 'sys.sp_executesql', '[sys].[SP_EXECUTESQL]']) {
      expect(await c.rpc(proc, args), String(proc)).toMatchObject({ errors: [], rows: [[2]], returnStatus: 0 });
    }
    // a declared parameter without a value: 8178, as SQL Server
    expect((await c.rpc(10, [['@stmt', 'ntext', 'SELECT @min + 0 AS n'], ['@params', 'ntext', '@min int']])).errors).toEqual([8178]);
  });

  it('refuses server cursors (ids 1–9, and by name) and unknown procedures with 2812; the connection stays usable', async () => {
    const c = await client();
    for (let id = 1; id <= 9; id++) expect((await c.rpc(id, [['@p', 'int', 1]])).errors, `proc id ${id}`).toEqual([2812]);
    expect((await c.rpc(14, [])).errors).toEqual([2812]);
    expect((await c.rpc('sp_cursoropen', [['@p', 'int', 1]])).errors).toEqual([2812]);
    expect((await c.rpc('dbo.sp_nexiste_pas', [])).errors).toEqual([2812]);
    expect((await c.rpc(99, [])).errors).toEqual([2812]);
    expect((await c.rpc(10, [['@stmt', 'ntext', 'SELECT 1 AS one']])).rows).toEqual([[1]]);
  });
});
