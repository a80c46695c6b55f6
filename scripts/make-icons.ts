/**
 * Draws the application icon (no image tool needed): a blue rounded square with a white
 * two-arrow "synchronisation" ring, rendered with 4×4 supersampling at each size, written as
 * build/icon.png (512×512) and build/icon.ico (16…256, PNG-compressed entries).
 *
 *   npx tsx scripts/make-icons.ts
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

type RGBA = [number, number, number, number];

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = (CRC_TABLE[(c ^ b) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}
function png(size: number, pixel: (x: number, y: number) => RGBA): Buffer {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const [r, g, b, a] = pixel(x, y);
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = r;
      raw[o + 1] = g;
      raw[o + 2] = b;
      raw[o + 3] = a;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // RGBA
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Coverage of the shape at a point of the unit square [0,1]²: 'bg' | 'fg' | null. */
function sample(u: number, v: number): 'bg' | 'fg' | null {
  const r = 0.2; // corner radius
  const dx = Math.max(r - u, 0, u - (1 - r));
  const dy = Math.max(r - v, 0, v - (1 - r));
  if (dx * dx + dy * dy > r * r) return null;
  const cx = u - 0.5;
  const cy = v - 0.5;
  const d = Math.hypot(cx, cy);
  let ang = Math.atan2(cy, cx); // -π..π
  if (ang < 0) ang += 2 * Math.PI;
  // ring made of two arcs with gaps at 0 and π (right and left)
  const inRing = d > 0.22 && d < 0.31;
  const gap = 0.35;
  const inArc = (ang > gap && ang < Math.PI - 0.05) || (ang > Math.PI + gap && ang < 2 * Math.PI - 0.05);
  if (inRing && inArc) return 'fg';
  // arrow heads at the end of each arc (pointing clockwise)
  for (const [ax, ay, dir] of [
    [0.5 - 0.265, 0.5 - 0.02, -1],
    [0.5 + 0.265, 0.5 + 0.02, 1],
  ] as const) {
    const lx = u - ax;
    const ly = (v - ay) * dir;
    if (ly <= 0 && ly > -0.14 && Math.abs(lx) < (ly + 0.14) * 0.85) return 'fg';
  }
  return 'bg';
}

function render(size: number): Buffer {
  const ss = 4;
  return png(size, (x, y) => {
    let r = 0;
    let g = 0;
    let b = 0;
    let a = 0;
    for (let i = 0; i < ss; i++)
      for (let j = 0; j < ss; j++) {
        const u = (x + (i + 0.5) / ss) / size;
        const v = (y + (j + 0.5) / ss) / size;
        const s = sample(u, v);
        if (!s) continue;
        const c: RGBA = s === 'fg' ? [255, 255, 255, 255] : [Math.round(22 + 20 * v), Math.round(96 + 30 * (1 - v)), Math.round(200 + 30 * (1 - v)), 255];
        r += c[0];
        g += c[1];
        b += c[2];
        a += 255;
      }
    const n = ss * ss;
    if (a === 0) return [0, 0, 0, 0];
    const cov = a / 255;
    return [Math.round(r / cov), Math.round(g / cov), Math.round(b / cov), Math.round(a / n)];
  });
}

function ico(images: { size: number; data: Buffer }[]): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2); // icon
  header.writeUInt16LE(images.length, 4);
  const dir = Buffer.alloc(16 * images.length);
  let offset = 6 + dir.length;
  images.forEach((img, i) => {
    const o = i * 16;
    dir[o] = img.size >= 256 ? 0 : img.size;
    dir[o + 1] = img.size >= 256 ? 0 : img.size;
    dir[o + 2] = 0;
    dir[o + 3] = 0;
    dir.writeUInt16LE(1, o + 4); // planes
    dir.writeUInt16LE(32, o + 6); // bpp
    dir.writeUInt32LE(img.data.length, o + 8);
    dir.writeUInt32LE(offset, o + 12);
    offset += img.data.length;
  });
  return Buffer.concat([header, dir, ...images.map((i) => i.data)]);
}

const out = path.resolve(process.argv[2] ?? 'build');
fs.mkdirSync(out, { recursive: true });
fs.writeFileSync(path.join(out, 'icon.png'), render(512));
fs.writeFileSync(path.join(out, 'icon.ico'), ico([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, data: render(size) }))));
process.stdout.write(`icons written to ${out}\n`);
