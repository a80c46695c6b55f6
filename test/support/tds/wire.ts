/**
 * TDS wire primitives for the SQL Server simulator: packet framing, a growable little-endian
 * writer, a reader, token builders (ENVCHANGE, INFO/ERROR, LOGINACK, DONE, COLMETADATA, ROW,
 * RETURNSTATUS) and the value codecs shared by result sets and RPC parameters.
 * Written from the MS-TDS specification; no code copied from any driver.
 */

export const PKT = {
  SQL_BATCH: 0x01,
  RPC: 0x03,
  REPLY: 0x04,
  ATTENTION: 0x06,
  TRANSACTION_MANAGER: 0x0e,
  LOGIN7: 0x10,
  PRELOGIN: 0x12,
} as const;

export const TOKEN = {
  COLMETADATA: 0x81,
  ERROR: 0xaa,
  INFO: 0xab,
  RETURNVALUE: 0xac,
  LOGINACK: 0xad,
  ROW: 0xd1,
  ENVCHANGE: 0xe3,
  RETURNSTATUS: 0x79,
  DONE: 0xfd,
  DONEPROC: 0xfe,
  DONEINPROC: 0xff,
} as const;

export const DONE_STATUS = { FINAL: 0x00, MORE: 0x01, ERROR: 0x02, INXACT: 0x04, COUNT: 0x10, ATTN: 0x20, SRVERROR: 0x100 } as const;

/** French_CI_AS (LCID 0x040C, ignore case/kana/width, code page 1252). */
export const COLLATION = Buffer.from([0x0c, 0x04, 0xd0, 0x00, 0x00]);

/**
 * The 5-byte TDS collation of a SQL Server collation name: LCID (20 bits) then the flags
 * IgnoreCase (bit 20), IgnoreAccent (21), IgnoreKana (22), IgnoreWidth (23); sort id 0 (Windows collation).
 */
export function collationBytes(name: string): Buffer {
  const lcid = /^French_/i.test(name) ? 0x040c : 0x0409;
  let flags = 0;
  if (/_CI/i.test(name)) flags |= 0x1;
  if (/_AI/i.test(name)) flags |= 0x2;
  if (!/_KS/i.test(name)) flags |= 0x4;
  if (!/_WS/i.test(name)) flags |= 0x8;
  return Buffer.from([lcid & 0xff, (lcid >> 8) & 0xff, ((lcid >> 16) & 0x0f) | (flags << 4), 0x00, 0x00]);
}

export class Writer {
  private buf: Buffer;
  private pos = 0;
  constructor(size = 256) {
    this.buf = Buffer.alloc(size);
  }
  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = Buffer.alloc(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  get length(): number {
    return this.pos;
  }
  u8(v: number): this {
    this.ensure(1);
    this.buf.writeUInt8(v & 0xff, this.pos);
    this.pos += 1;
    return this;
  }
  u16(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16LE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }
  u16be(v: number): this {
    this.ensure(2);
    this.buf.writeUInt16BE(v & 0xffff, this.pos);
    this.pos += 2;
    return this;
  }
  u32(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32LE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }
  u32be(v: number): this {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
    return this;
  }
  i32(v: number): this {
    this.ensure(4);
    this.buf.writeInt32LE(v, this.pos);
    this.pos += 4;
    return this;
  }
  u64(v: bigint | number): this {
    this.ensure(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.pos);
    this.pos += 8;
    return this;
  }
  i64(v: bigint): this {
    this.ensure(8);
    this.buf.writeBigInt64LE(v, this.pos);
    this.pos += 8;
    return this;
  }
  f64(v: number): this {
    this.ensure(8);
    this.buf.writeDoubleLE(v, this.pos);
    this.pos += 8;
    return this;
  }
  f32(v: number): this {
    this.ensure(4);
    this.buf.writeFloatLE(v, this.pos);
    this.pos += 4;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
    return this;
  }
  ucs2(s: string): this {
    const b = Buffer.from(s, 'utf16le');
    return this.bytes(b);
  }
  /** B_VARCHAR: 1-byte character count + UCS-2. */
  bvarchar(s: string): this {
    return this.u8(s.length).ucs2(s);
  }
  /** US_VARCHAR: 2-byte character count + UCS-2. */
  usvarchar(s: string): this {
    return this.u16(s.length).ucs2(s);
  }
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
  peekU16(at: number): number {
    return this.buf.readUInt16LE(at);
  }
  patchU16(at: number, v: number): void {
    this.buf.writeUInt16LE(v & 0xffff, at);
  }
}

export class Reader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new ProtocolError('truncated message');
  }
  u8(): number {
    this.need(1);
    return this.buf.readUInt8(this.pos++);
  }
  u16(): number {
    this.need(2);
    const v = this.buf.readUInt16LE(this.pos);
    this.pos += 2;
    return v;
  }
  u32(): number {
    this.need(4);
    const v = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  i32(): number {
    this.need(4);
    const v = this.buf.readInt32LE(this.pos);
    this.pos += 4;
    return v;
  }
  u64(): bigint {
    this.need(8);
    const v = this.buf.readBigUInt64LE(this.pos);
    this.pos += 8;
    return v;
  }
  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  ucs2(chars: number): string {
    return this.bytes(chars * 2).toString('utf16le');
  }
  bvarchar(): string {
    return this.ucs2(this.u8());
  }
  usvarchar(): string {
    return this.ucs2(this.u16());
  }
  get remaining(): number {
    return this.buf.length - this.pos;
  }
}

export class ProtocolError extends Error {}

/** Splits a message into TDS packets of at most `packetSize` bytes. */
export function packetize(type: number, payload: Buffer, packetSize: number, spid = 0): Buffer {
  const max = packetSize - 8;
  const parts: Buffer[] = [];
  let id = 1;
  let off = 0;
  do {
    const chunk = payload.subarray(off, off + max);
    off += chunk.length;
    const last = off >= payload.length;
    const h = Buffer.alloc(8);
    h.writeUInt8(type, 0);
    h.writeUInt8(last ? 0x01 : 0x00, 1);
    h.writeUInt16BE(chunk.length + 8, 2);
    h.writeUInt16BE(spid, 4);
    h.writeUInt8(id & 0xff, 6);
    h.writeUInt8(0, 7);
    parts.push(h, chunk);
    id++;
  } while (off < payload.length);
  return Buffer.concat(parts);
}

export interface TdsMessage {
  type: number;
  /** status byte of the first packet (RESETCONNECTION = 0x08) */
  status: number;
  data: Buffer;
}

/** Reassembles TDS packets from a byte stream into messages. */
export class PacketAssembler {
  private pending: Buffer = Buffer.alloc(0);
  private parts: Buffer[] = [];
  private firstStatus = 0;
  private curType = -1;
  constructor(private readonly onMessage: (m: TdsMessage) => void) {}

  push(chunk: Buffer): void {
    this.pending = this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk;
    for (;;) {
      if (this.pending.length < 8) return;
      const len = this.pending.readUInt16BE(2);
      if (len < 8) throw new ProtocolError('bad packet length');
      if (this.pending.length < len) return;
      const type = this.pending[0]!;
      const status = this.pending[1]!;
      const body = this.pending.subarray(8, len);
      this.pending = this.pending.subarray(len);
      if (type === PKT.ATTENTION) {
        this.onMessage({ type, status, data: Buffer.from(body) });
        continue;
      }
      if (this.parts.length === 0) {
        this.firstStatus = status;
        this.curType = type;
      }
      this.parts.push(Buffer.from(body));
      if (status & 0x01) {
        const data = Buffer.concat(this.parts);
        this.parts = [];
        this.onMessage({ type: this.curType, status: this.firstStatus, data });
      }
    }
  }
  /** Bytes received but not yet framed (used when switching transports). */
  takePending(): Buffer {
    const p = this.pending;
    this.pending = Buffer.alloc(0);
    return p;
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

export function envChange(w: Writer, type: number, newValue: string, oldValue: string): void {
  const body = new Writer().u8(type).bvarchar(newValue).bvarchar(oldValue).toBuffer();
  w.u8(TOKEN.ENVCHANGE).u16(body.length).bytes(body);
}

export function envChangeBytes(w: Writer, type: number, newValue: Buffer, oldValue: Buffer): void {
  const body = new Writer().u8(type).u8(newValue.length).bytes(newValue).u8(oldValue.length).bytes(oldValue).toBuffer();
  w.u8(TOKEN.ENVCHANGE).u16(body.length).bytes(body);
}

export interface SqlMessage {
  number: number;
  state: number;
  class: number;
  message: string;
  line?: number;
  procName?: string;
}

export function infoOrError(w: Writer, token: number, m: SqlMessage, serverName: string): void {
  const body = new Writer()
    .i32(m.number)
    .u8(m.state)
    .u8(m.class)
    .usvarchar(m.message)
    .bvarchar(serverName)
    .bvarchar(m.procName ?? '')
    .i32(m.line ?? 1)
    .toBuffer();
  w.u8(token).u16(body.length).bytes(body);
}

export function loginAck(w: Writer, tdsVersion: number, progName: string, version: number[]): void {
  const body = new Writer().u8(1).u32be(tdsVersion).bvarchar(progName);
  body.u8(version[0] ?? 15).u8(version[1] ?? 0);
  const build = version[2] ?? 2000;
  body.u8((build >> 8) & 0xff).u8(build & 0xff);
  const b = body.toBuffer();
  w.u8(TOKEN.LOGINACK).u16(b.length).bytes(b);
}

export function done(w: Writer, token: number, status: number, curCmd: number, rowCount: number): void {
  w.u8(token).u16(status).u16(curCmd).u64(rowCount);
}

export function returnStatus(w: Writer, value: number): void {
  w.u8(TOKEN.RETURNSTATUS).i32(value);
}

// ---------------------------------------------------------------------------------------------
// Column types (server → client)

export type ColType =
  | { t: 'int'; size: 1 | 2 | 4 | 8 }
  | { t: 'bit' }
  | { t: 'float'; size: 4 | 8 }
  | { t: 'decimal'; precision: number; scale: number }
  | { t: 'money'; size: 4 | 8 }
  | { t: 'nvarchar'; maxChars: number | 'max' }
  | { t: 'varchar'; maxChars: number | 'max' }
  | { t: 'nchar'; chars: number }
  | { t: 'char'; chars: number }
  | { t: 'ntext' }
  | { t: 'text' }
  | { t: 'image' }
  | { t: 'date' }
  | { t: 'datetime'; size: 4 | 8 }
  | { t: 'datetime2'; scale: number }
  | { t: 'datetimeoffset'; scale: number }
  | { t: 'time'; scale: number }
  | { t: 'guid' }
  | { t: 'varbinary'; max: number | 'max' }
  | { t: 'binary'; size: number }
  | { t: 'variant' };

export interface Column {
  name: string;
  type: ColType;
}

/** The SQL Server name of a column type, as INFORMATION_SCHEMA and sp_describe would spell it. */
export function sqlTypeName(t: ColType): string {
  switch (t.t) {
    case 'int':
      return t.size === 1 ? 'tinyint' : t.size === 2 ? 'smallint' : t.size === 4 ? 'int' : 'bigint';
    case 'bit':
      return 'bit';
    case 'float':
      return t.size === 4 ? 'real' : 'float';
    case 'decimal':
      return `decimal(${t.precision},${t.scale})`;
    case 'money':
      return t.size === 4 ? 'smallmoney' : 'money';
    case 'nvarchar':
    case 'varchar':
      return `${t.t}(${t.maxChars})`;
    case 'nchar':
    case 'char':
      return `${t.t}(${t.chars})`;
    case 'ntext':
    case 'text':
    case 'image':
    case 'date':
      return t.t;
    case 'datetime':
      return t.size === 4 ? 'smalldatetime' : 'datetime';
    case 'datetime2':
    case 'datetimeoffset':
    case 'time':
      return `${t.t}(${t.scale})`;
    case 'guid':
      return 'uniqueidentifier';
    case 'varbinary':
      return `varbinary(${t.max})`;
    case 'binary':
      return `binary(${t.size})`;
    case 'variant':
      return 'sql_variant';
  }
}

function decimalSize(precision: number): number {
  if (precision <= 9) return 5;
  if (precision <= 19) return 9;
  if (precision <= 28) return 13;
  return 17;
}

export function colMetadata(w: Writer, cols: Column[], collation: Buffer = COLLATION): void {
  w.u8(TOKEN.COLMETADATA).u16(cols.length);
  for (const c of cols) {
    w.u32(0).u16(0x0001 /* nullable */);
    writeTypeInfo(w, c.type, collation);
    // TEXT, NTEXT and IMAGE columns carry the (here empty) name of their table
    if (c.type.t === 'ntext' || c.type.t === 'text' || c.type.t === 'image') w.u8(0);
    w.bvarchar(c.name.slice(0, 128));
  }
}

export function writeTypeInfo(w: Writer, t: ColType, collation: Buffer = COLLATION): void {
  switch (t.t) {
    case 'int':
      w.u8(0x26).u8(t.size);
      break;
    case 'bit':
      w.u8(0x68).u8(1);
      break;
    case 'float':
      w.u8(0x6d).u8(t.size);
      break;
    case 'decimal':
      w.u8(0x6a).u8(decimalSize(t.precision)).u8(t.precision).u8(t.scale);
      break;
    case 'money':
      w.u8(0x6e).u8(t.size);
      break;
    case 'nvarchar':
      w.u8(0xe7).u16(t.maxChars === 'max' ? 0xffff : t.maxChars * 2).bytes(collation);
      break;
    case 'varchar':
      w.u8(0xa7).u16(t.maxChars === 'max' ? 0xffff : t.maxChars).bytes(collation);
      break;
    case 'nchar':
      w.u8(0xef).u16(t.chars * 2).bytes(collation);
      break;
    case 'char':
      w.u8(0xaf).u16(t.chars).bytes(collation);
      break;
    case 'ntext':
      w.u8(0x63).u32(0x7ffffffe).bytes(collation);
      break;
    case 'text':
      w.u8(0x23).u32(0x7fffffff).bytes(collation);
      break;
    case 'image':
      w.u8(0x22).u32(0x7fffffff);
      break;
    case 'date':
      w.u8(0x28);
      break;
    case 'datetime':
      w.u8(0x6f).u8(t.size);
      break;
    case 'datetimeoffset':
      w.u8(0x2b).u8(t.scale);
      break;
    case 'binary':
      w.u8(0xad).u16(t.size);
      break;
    case 'variant':
      w.u8(0x62).u32(8016);
      break;
    case 'datetime2':
      w.u8(0x2a).u8(t.scale);
      break;
    case 'time':
      w.u8(0x29).u8(t.scale);
      break;
    case 'guid':
      w.u8(0x24).u8(16);
      break;
    case 'varbinary':
      w.u8(0xa5).u16(t.max === 'max' ? 0xffff : t.max);
      break;
  }
}

const DAYS_0001_TO_1970 = 719162;

/** Days since 0001-01-01 for a Y-M-D triple (proleptic Gregorian). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const dt = new Date(0);
  dt.setUTCFullYear(y, m - 1, d);
  dt.setUTCHours(0, 0, 0, 0);
  return Math.round(dt.getTime() / 86400000) + DAYS_0001_TO_1970;
}

export function civilFromDays(days: number): { y: number; m: number; d: number } {
  const dt = new Date((days - DAYS_0001_TO_1970) * 86400000);
  return { y: dt.getUTCFullYear(), m: dt.getUTCMonth() + 1, d: dt.getUTCDate() };
}

interface ParsedDateTime {
  days: number;
  /** 100-nanosecond units since midnight */
  ticks: bigint;
}

const DT_RE = /^(-?\d{1,4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?/;

export function parseDateTimeText(s: string): ParsedDateTime | null {
  const m = DT_RE.exec(s.trim());
  if (!m) return null;
  const days = daysFromCivil(Number(m[1]), Number(m[2]), Number(m[3]));
  const h = Number(m[4] ?? 0);
  const mi = Number(m[5] ?? 0);
  const sec = Number(m[6] ?? 0);
  const frac = (m[7] ?? '').padEnd(7, '0').slice(0, 7);
  const ticks = BigInt(((h * 60 + mi) * 60 + sec)) * 10_000_000n + BigInt(frac || '0');
  return { days, ticks };
}

const CP1252_HIGH = '€\u0081‚ƒ„…†‡ˆ‰Š‹Œ\u008dŽ\u008f\u0090‘’“”•–—˜™š›œ\u009džŸ';

/** Windows-1252 (the code page of the French collations); characters outside it become '?', as SQL Server does. */
export function encodeCp1252(s: string): Buffer {
  const out = Buffer.alloc(s.length);
  let n = 0;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (c < 0x80 || (c >= 0xa0 && c <= 0xff)) out[n++] = c;
    else {
      const i = CP1252_HIGH.indexOf(ch);
      out[n++] = i >= 0 ? 0x80 + i : 0x3f;
    }
  }
  return out.subarray(0, n);
}

/** A PostgreSQL timestamptz text ('2024-01-02 10:00:00.5+01', '…+05:30') as UTC days/ticks and its offset. */
export function parseOffsetDateTime(s: string): (ParsedDateTime & { offsetMinutes: number }) | null {
  const m = /([+-])(\d{2})(?::?(\d{2}))?(?::?(\d{2}))?$/.exec(s.trim());
  const local = parseDateTimeText(m ? s.trim().slice(0, m.index) : s);
  if (!local) return null;
  const offsetMinutes = m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] ?? 0)) : 0;
  // to UTC
  const dayTicks = 864_000_000_000n;
  let ticks = local.ticks - BigInt(offsetMinutes) * 600_000_000n;
  let days = local.days;
  while (ticks < 0n) {
    ticks += dayTicks;
    days--;
  }
  while (ticks >= dayTicks) {
    ticks -= dayTicks;
    days++;
  }
  return { days, ticks, offsetMinutes };
}

function toText(v: unknown): string {
  if (v instanceof Date) return v.toISOString().replace('T', ' ').replace('Z', '');
  return String(v);
}

function writeUInt24(w: Writer, v: number): void {
  w.u8(v & 0xff).u8((v >> 8) & 0xff).u8((v >> 16) & 0xff);
}

function writeUIntN(w: Writer, v: bigint, n: number): void {
  for (let i = 0; i < n; i++) {
    w.u8(Number(v & 0xffn));
    v >>= 8n;
  }
}

export function guidToBytes(s: string): Buffer {
  const hex = s.replace(/[{}-]/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`invalid uniqueidentifier '${s}'`);
  const b = Buffer.from(hex, 'hex');
  const out = Buffer.alloc(16);
  out[0] = b[3]!;
  out[1] = b[2]!;
  out[2] = b[1]!;
  out[3] = b[0]!;
  out[4] = b[5]!;
  out[5] = b[4]!;
  out[6] = b[7]!;
  out[7] = b[6]!;
  b.copy(out, 8, 8, 16);
  return out;
}

export function bytesToGuid(b: Buffer): string {
  const h = (i: number): string => b[i]!.toString(16).padStart(2, '0');
  return (
    h(3) + h(2) + h(1) + h(0) + '-' + h(5) + h(4) + '-' + h(7) + h(6) + '-' + h(8) + h(9) + '-' +
    h(10) + h(11) + h(12) + h(13) + h(14) + h(15)
  ).toUpperCase();
}

export function decimalToUnscaled(v: unknown, scale: number): bigint {
  let s = typeof v === 'number' ? v.toFixed(scale) : String(v).trim();
  let neg = false;
  if (s.startsWith('-')) {
    neg = true;
    s = s.slice(1);
  }
  const [ip = '0', fp = ''] = s.split('.');
  const frac = fp.padEnd(scale, '0').slice(0, scale);
  const u = BigInt((ip || '0') + frac);
  return neg ? -u : u;
}

export function decimalScaleOf(v: unknown): number {
  const s = String(v);
  const i = s.indexOf('.');
  return i < 0 ? 0 : s.length - i - 1;
}

/** Appends one ROW token. */
export function row(w: Writer, cols: Column[], values: unknown[]): void {
  w.u8(TOKEN.ROW);
  for (let i = 0; i < cols.length; i++) writeValue(w, cols[i]!.type, values[i]);
}

export function writeValue(w: Writer, t: ColType, v: unknown): void {
  const isNull = v === null || v === undefined;
  switch (t.t) {
    case 'int': {
      if (isNull) return void w.u8(0);
      w.u8(t.size);
      const n = BigInt(typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'bigint' ? v : String(v).split('.')[0]!);
      if (t.size === 8) w.i64(n);
      else if (t.size === 4) w.i32(Number(n));
      else if (t.size === 2) w.u16(Number(n) & 0xffff);
      else w.u8(Number(n));
      return;
    }
    case 'bit':
      if (isNull) return void w.u8(0);
      w.u8(1).u8(v === true || v === 't' || v === 1 || v === '1' || v === 'true' ? 1 : 0);
      return;
    case 'float':
      if (isNull) return void w.u8(0);
      if (t.size === 8) w.u8(8).f64(Number(v));
      else w.u8(4).f32(Number(v));
      return;
    case 'decimal': {
      if (isNull) return void w.u8(0);
      const size = decimalSize(t.precision);
      const u = decimalToUnscaled(v, t.scale);
      w.u8(size).u8(u < 0n ? 0 : 1);
      writeUIntN(w, u < 0n ? -u : u, size - 1);
      return;
    }
    case 'nvarchar': {
      if (t.maxChars === 'max') {
        if (isNull) return void w.u64(0xffffffffffffffffn);
        const b = Buffer.from(toText(v), 'utf16le');
        w.u64(b.length);
        if (b.length) w.u32(b.length).bytes(b);
        w.u32(0);
        return;
      }
      if (isNull) return void w.u16(0xffff);
      const b = Buffer.from(toText(v), 'utf16le');
      w.u16(b.length).bytes(b);
      return;
    }
    case 'money': {
      if (isNull) return void w.u8(0);
      const u = decimalToUnscaled(v, 4);
      if (t.size === 4) return void w.u8(4).i32(Number(u));
      w.u8(8).i32(Number(BigInt.asIntN(32, u >> 32n))).u32(Number(BigInt.asUintN(32, u)));
      return;
    }
    case 'varchar': {
      const b = isNull ? null : encodeCp1252(toText(v));
      if (t.maxChars === 'max') {
        if (!b) return void w.u64(0xffffffffffffffffn);
        w.u64(b.length);
        if (b.length) w.u32(b.length).bytes(b);
        w.u32(0);
        return;
      }
      if (!b) return void w.u16(0xffff);
      w.u16(b.length).bytes(b);
      return;
    }
    case 'nchar':
    case 'char': {
      if (isNull) return void w.u16(0xffff);
      const s = toText(v).padEnd(t.chars, ' ');
      const b = t.t === 'nchar' ? Buffer.from(s, 'utf16le') : encodeCp1252(s);
      w.u16(b.length).bytes(b);
      return;
    }
    case 'ntext':
    case 'text':
    case 'image': {
      if (isNull) return void w.u8(0);
      const b =
        t.t === 'ntext' ? Buffer.from(toText(v), 'utf16le') : t.t === 'text' ? encodeCp1252(toText(v)) : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v));
      // TEXTPTR (16 bytes, opaque to clients) and an 8-byte timestamp, then the data
      w.u8(16).bytes(Buffer.alloc(16, 0xee)).bytes(Buffer.alloc(8)).u32(b.length).bytes(b);
      return;
    }
    case 'datetime': {
      if (isNull) return void w.u8(0);
      const p = parseDateTimeText(toText(v));
      if (!p) return void w.u8(0);
      let days = p.days - daysFromCivil(1900, 1, 1);
      if (t.size === 4) {
        let minutes = Number((p.ticks + 300_000_000n) / 600_000_000n);
        if (minutes >= 1440) {
          minutes -= 1440;
          days++;
        }
        w.u8(4).u16(days).u16(minutes);
        return;
      }
      let t300 = Number((p.ticks * 300n + 5_000_000n) / 10_000_000n);
      if (t300 >= 300 * 86400) {
        t300 -= 300 * 86400;
        days++;
      }
      w.u8(8).i32(days).u32(t300);
      return;
    }
    case 'datetimeoffset': {
      if (isNull) return void w.u8(0);
      const p = parseOffsetDateTime(toText(v));
      if (!p) return void w.u8(0);
      const tb = t.scale <= 2 ? 3 : t.scale <= 4 ? 4 : 5;
      w.u8(tb + 5);
      writeUIntN(w, p.ticks / 10n ** BigInt(7 - t.scale), tb);
      writeUInt24(w, p.days);
      w.u16(p.offsetMinutes & 0xffff);
      return;
    }
    case 'variant': {
      // sql_variant: base type, its properties, the value (int for digits only, else nvarchar)
      if (isNull) return void w.u32(0);
      const text = toText(v);
      if (/^-?\d{1,9}$/.test(text)) return void w.u32(6).u8(0x38).u8(0).i32(Number(text));
      const b = Buffer.from(text, 'utf16le');
      w.u32(2 + 7 + b.length).u8(0xe7).u8(7).bytes(COLLATION).u16(8000).bytes(b);
      return;
    }
    case 'binary': {
      if (isNull) return void w.u16(0xffff);
      const raw = Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v));
      const b = Buffer.alloc(t.size);
      raw.copy(b, 0, 0, t.size);
      w.u16(b.length).bytes(b);
      return;
    }
    case 'varbinary': {
      const b = isNull ? null : Buffer.isBuffer(v) ? v : v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v));
      if (t.max === 'max') {
        if (!b) return void w.u64(0xffffffffffffffffn);
        w.u64(b.length);
        if (b.length) w.u32(b.length).bytes(b);
        w.u32(0);
        return;
      }
      if (!b) return void w.u16(0xffff);
      w.u16(b.length).bytes(b);
      return;
    }
    case 'date': {
      if (isNull) return void w.u8(0);
      const p = parseDateTimeText(toText(v));
      if (!p) return void w.u8(0);
      w.u8(3);
      writeUInt24(w, p.days);
      return;
    }
    case 'datetime2': {
      if (isNull) return void w.u8(0);
      const p = parseDateTimeText(toText(v));
      if (!p) return void w.u8(0);
      const tb = t.scale <= 2 ? 3 : t.scale <= 4 ? 4 : 5;
      const units = p.ticks / 10n ** BigInt(7 - t.scale);
      w.u8(tb + 3);
      writeUIntN(w, units, tb);
      writeUInt24(w, p.days);
      return;
    }
    case 'time': {
      if (isNull) return void w.u8(0);
      const p = parseDateTimeText('0001-01-01 ' + toText(v));
      if (!p) return void w.u8(0);
      const tb = t.scale <= 2 ? 3 : t.scale <= 4 ? 4 : 5;
      w.u8(tb);
      writeUIntN(w, p.ticks / 10n ** BigInt(7 - t.scale), tb);
      return;
    }
    case 'guid':
      if (isNull) return void w.u8(0);
      w.u8(16).bytes(guidToBytes(String(v)));
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// Parameter decoding (client → server)

export interface ParamValue {
  /** SQL Server type name as it would be declared, e.g. 'int', 'nvarchar', 'decimal(10,2)' */
  sqlType: string;
  /** PostgreSQL cast to apply, or null to let PostgreSQL infer it */
  pgCast: string | null;
  /** text value for PostgreSQL (or null) */
  value: string | null;
}

const cp1252 = new TextDecoder('windows-1252');

function readPlp(r: Reader): Buffer | null {
  const total = r.u64();
  if (total === 0xffffffffffffffffn) return null;
  const parts: Buffer[] = [];
  for (;;) {
    const n = r.u32();
    if (n === 0) break;
    parts.push(r.bytes(n));
  }
  return Buffer.concat(parts);
}

function readUIntN(b: Buffer): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function pad(n: number | bigint, w: number): string {
  return String(n).padStart(w, '0');
}

function formatDays(days: number): string {
  const { y, m, d } = civilFromDays(days);
  return `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function formatTicks(ticks: bigint): string {
  const totalSec = ticks / 10_000_000n;
  const frac = ticks % 10_000_000n;
  const h = totalSec / 3600n;
  const mi = (totalSec % 3600n) / 60n;
  const s = totalSec % 60n;
  return `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}.${pad(frac, 7).slice(0, 6)}`;
}

function unscaledToText(u: bigint, scale: number, negative: boolean): string {
  let s = u.toString().padStart(scale + 1, '0');
  if (scale > 0) s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
  return (negative && u !== 0n ? '-' : '') + s;
}

/** Reads TYPE_INFO + value of one RPC parameter. */
export function readParam(r: Reader): ParamValue {
  const type = r.u8();
  switch (type) {
    case 0x1f:
      return { sqlType: 'null', pgCast: null, value: null };
    case 0x30:
    case 0x34:
    case 0x38:
    case 0x7f: {
      const size = type === 0x30 ? 1 : type === 0x34 ? 2 : type === 0x38 ? 4 : 8;
      return intParam(size, r.bytes(size));
    }
    case 0x26: {
      r.u8();
      const n = r.u8();
      if (n === 0) return { ...intParam(4, null) };
      return intParam(n, r.bytes(n));
    }
    case 0x32:
      return { sqlType: 'bit', pgCast: 'boolean', value: r.u8() ? 'true' : 'false' };
    case 0x68: {
      r.u8();
      const n = r.u8();
      return { sqlType: 'bit', pgCast: 'boolean', value: n === 0 ? null : r.u8() ? 'true' : 'false' };
    }
    case 0x3e:
      return { sqlType: 'float', pgCast: 'float8', value: String(r.bytes(8).readDoubleLE(0)) };
    case 0x3b:
      return { sqlType: 'real', pgCast: 'float4', value: String(r.bytes(4).readFloatLE(0)) };
    case 0x6d: {
      r.u8();
      const n = r.u8();
      if (n === 0) return { sqlType: 'float', pgCast: 'float8', value: null };
      const b = r.bytes(n);
      return n === 8
        ? { sqlType: 'float', pgCast: 'float8', value: String(b.readDoubleLE(0)) }
        : { sqlType: 'real', pgCast: 'float4', value: String(b.readFloatLE(0)) };
    }
    case 0x6a:
    case 0x6c:
    case 0x37:
    case 0x3f: {
      r.u8();
      const precision = r.u8();
      const scale = r.u8();
      const n = r.u8();
      const sqlType = `decimal(${precision},${scale})`;
      if (n === 0) return { sqlType, pgCast: 'numeric', value: null };
      const sign = r.u8();
      const u = readUIntN(r.bytes(n - 1));
      return { sqlType, pgCast: 'numeric', value: unscaledToText(u, scale, sign === 0) };
    }
    case 0x6e:
    case 0x3c:
    case 0x7a: {
      const n = type === 0x6e ? (r.u8(), r.u8()) : type === 0x3c ? 8 : 4;
      if (n === 0) return { sqlType: 'money', pgCast: 'numeric', value: null };
      const b = r.bytes(n);
      const v = n === 8 ? (BigInt(b.readInt32LE(0)) << 32n) | BigInt(b.readUInt32LE(4)) : BigInt(b.readInt32LE(0));
      return { sqlType: 'money', pgCast: 'numeric', value: unscaledToText(v < 0n ? -v : v, 4, v < 0n) };
    }
    case 0x6f:
    case 0x3d:
    case 0x3a: {
      const n = type === 0x6f ? (r.u8(), r.u8()) : type === 0x3d ? 8 : 4;
      if (n === 0) return { sqlType: 'datetime', pgCast: 'timestamp', value: null };
      const b = r.bytes(n);
      let days: number;
      let ticks: bigint;
      if (n === 8) {
        days = b.readInt32LE(0) + daysFromCivil(1900, 1, 1);
        const t300 = b.readUInt32LE(4);
        ticks = (BigInt(t300) * 10_000_000n + 150n) / 300n;
        ticks = (ticks / 10_000n) * 10_000n;
      } else {
        days = b.readUInt16LE(0) + daysFromCivil(1900, 1, 1);
        ticks = BigInt(b.readUInt16LE(2)) * 60n * 10_000_000n;
      }
      return { sqlType: 'datetime', pgCast: 'timestamp', value: `${formatDays(days)} ${formatTicks(ticks)}` };
    }
    case 0x28: {
      const n = r.u8();
      if (n === 0) return { sqlType: 'date', pgCast: 'date', value: null };
      return { sqlType: 'date', pgCast: 'date', value: formatDays(Number(readUIntN(r.bytes(3)))) };
    }
    case 0x29:
    case 0x2a:
    case 0x2b: {
      const scale = r.u8();
      const n = r.u8();
      const name = type === 0x29 ? 'time' : type === 0x2a ? 'datetime2' : 'datetimeoffset';
      const pgCast = type === 0x29 ? 'time' : type === 0x2a ? 'timestamp' : 'timestamptz';
      if (n === 0) return { sqlType: name, pgCast, value: null };
      const tb = scale <= 2 ? 3 : scale <= 4 ? 4 : 5;
      const ticks = readUIntN(r.bytes(tb)) * 10n ** BigInt(7 - scale);
      if (type === 0x29) return { sqlType: name, pgCast, value: formatTicks(ticks) };
      const days = Number(readUIntN(r.bytes(3)));
      let text = `${formatDays(days)} ${formatTicks(ticks)}`;
      if (type === 0x2b) {
        r.bytes(2); // offset in minutes; the stored value is UTC
        text += '+00';
      }
      return { sqlType: name, pgCast, value: text };
    }
    case 0x24: {
      r.u8();
      const n = r.u8();
      if (n === 0) return { sqlType: 'uniqueidentifier', pgCast: 'uuid', value: null };
      return { sqlType: 'uniqueidentifier', pgCast: 'uuid', value: bytesToGuid(r.bytes(16)).toLowerCase() };
    }
    case 0xe7:
    case 0xef:
    case 0xa7:
    case 0xaf: {
      const max = r.u16();
      r.bytes(5);
      const unicode = type === 0xe7 || type === 0xef;
      const name = (unicode ? 'n' : '') + (type === 0xe7 || type === 0xa7 ? 'varchar' : 'char');
      let b: Buffer | null;
      if (max === 0xffff) b = readPlp(r);
      else {
        const n = r.u16();
        b = n === 0xffff ? null : r.bytes(n);
      }
      const value = b === null ? null : unicode ? b.toString('utf16le') : cp1252.decode(b);
      return { sqlType: `${name}(${max === 0xffff ? 'max' : unicode ? max / 2 : max})`, pgCast: null, value };
    }
    case 0x63:
    case 0x23:
    case 0x22: {
      // NTEXT / TEXT / IMAGE: 4-byte maximum length, collation (text types), 4-byte value length
      r.u32();
      if (type !== 0x22) r.bytes(5);
      const n = r.u32();
      const b = n === 0xffffffff ? null : r.bytes(n);
      if (type === 0x22) return { sqlType: 'image', pgCast: 'bytea', value: b === null ? null : '\\x' + b.toString('hex') };
      const value = b === null ? null : type === 0x63 ? b.toString('utf16le') : cp1252.decode(b);
      return { sqlType: type === 0x63 ? 'ntext' : 'text', pgCast: null, value };
    }
    case 0x27:
    case 0x2f: {
      // legacy VARCHAR / CHAR: 1-byte lengths, collation since TDS 7.1
      const max = r.u8();
      r.bytes(5);
      const n = r.u8();
      const value = n === 0xff ? null : cp1252.decode(r.bytes(n));
      return { sqlType: `${type === 0x27 ? 'varchar' : 'char'}(${max})`, pgCast: null, value };
    }
    case 0x25:
    case 0x2d: {
      r.u8();
      const n = r.u8();
      const b = n === 0xff ? null : r.bytes(n);
      return { sqlType: 'varbinary', pgCast: 'bytea', value: b === null ? null : '\\x' + b.toString('hex') };
    }
    case 0xa5:
    case 0xad: {
      const max = r.u16();
      let b: Buffer | null;
      if (max === 0xffff) b = readPlp(r);
      else {
        const n = r.u16();
        b = n === 0xffff ? null : r.bytes(n);
      }
      return { sqlType: 'varbinary', pgCast: 'bytea', value: b === null ? null : '\\x' + b.toString('hex') };
    }
    default:
      throw new UnsupportedParamError(type);
  }
}

export class UnsupportedParamError extends Error {
  constructor(readonly typeId: number) {
    super(`unsupported parameter type 0x${typeId.toString(16)}`);
  }
}

function intParam(size: number, b: Buffer | null): ParamValue {
  const sqlType = size === 1 ? 'tinyint' : size === 2 ? 'smallint' : size === 4 ? 'int' : 'bigint';
  const pgCast = size === 8 ? 'int8' : size === 4 ? 'int4' : 'int2';
  if (!b) return { sqlType, pgCast, value: null };
  const value = size === 1 ? b.readUInt8(0) : size === 2 ? b.readInt16LE(0) : size === 4 ? b.readInt32LE(0) : b.readBigInt64LE(0);
  return { sqlType, pgCast, value: String(value) };
}
