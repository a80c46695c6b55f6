/**
 * Draws the application icon (no image tool needed): a blue rounded square with a white
 * two-arrow "synchronisation" ring, rendered with 4×4 supersampling at each size, written as
 * build/icon.png (512×512) and build/icon.ico (16…256, PNG-compressed entries).
 *
 * And one tray icon per state of the connector (src/shared/connector-state.ts): the same icon with a
 * badge in its lower right corner — ok: green check; running: blue with three dots; attention: orange « ! »;
 * error: red « × »; paused: grey bars on a greyed icon; licence: purple padlock on a greyed icon —
 * written as build/tray/<state>.png (16 px), <state>@2x.png (32 px) and <state>.ico (16…48 px).
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

type Shade = (u: number, v: number) => RGBA | null;

/** The application icon's colour at a point (null = transparent). */
const appShade: Shade = (u, v) => {
  const s = sample(u, v);
  if (!s) return null;
  return s === 'fg' ? [255, 255, 255, 255] : [Math.round(22 + 20 * v), Math.round(96 + 30 * (1 - v)), Math.round(200 + 30 * (1 - v)), 255];
};

function render(size: number, shade: Shade = appShade): Buffer {
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
        const c = shade(u, v);
        if (!c) continue;
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

// ---- tray icons: one per state ----------------------------------------------------------------

type TrayState = 'ok' | 'running' | 'attention' | 'error' | 'paused' | 'licence';
export const TRAY_STATES: readonly TrayState[] = ['ok', 'running', 'attention', 'error', 'paused', 'licence'];

const BADGE: Record<TrayState, RGBA> = {
  ok: [22, 150, 72, 255],
  running: [14, 116, 220, 255],
  attention: [234, 140, 0, 255],
  error: [208, 32, 32, 255],
  paused: [96, 104, 116, 255],
  licence: [120, 60, 200, 255],
};
const WHITE: RGBA = [255, 255, 255, 255];
/** Badge centre and radius (unit square), with a white outline so it reads on any taskbar. */
const BX = 0.7;
const BY = 0.7;
const BR = 0.3;

function grey(c: RGBA): RGBA {
  const l = Math.round(0.3 * c[0] + 0.59 * c[1] + 0.11 * c[2]);
  return [Math.round(l * 0.8 + 40), Math.round(l * 0.8 + 40), Math.round(l * 0.8 + 40), c[3]];
}

/** The glyph of each badge, in the badge's own coordinates (x, y in [-1, 1]). */
function glyph(state: TrayState, x: number, y: number): boolean {
  const segment = (ax: number, ay: number, bx: number, by: number, w: number) => {
    const dx = bx - ax;
    const dy = by - ay;
    const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)));
    return Math.hypot(x - (ax + t * dx), y - (ay + t * dy)) < w;
  };
  switch (state) {
    case 'ok':
      return segment(-0.5, 0.02, -0.12, 0.42, 0.17) || segment(-0.12, 0.42, 0.52, -0.38, 0.17);
    case 'running':
      return [-0.45, 0, 0.45].some((cx) => Math.hypot(x - cx, y) < 0.17);
    case 'attention':
      return segment(0, -0.55, 0, 0.12, 0.16) || Math.hypot(x, y - 0.45) < 0.15;
    case 'error':
      return segment(-0.4, -0.4, 0.4, 0.4, 0.16) || segment(-0.4, 0.4, 0.4, -0.4, 0.16);
    case 'paused':
      return (Math.abs(x + 0.25) < 0.13 || Math.abs(x - 0.25) < 0.13) && Math.abs(y) < 0.48;
    case 'licence': {
      const body = Math.abs(x) < 0.45 && y > -0.05 && y < 0.55;
      const d = Math.hypot(x, y + 0.05);
      const shackle = y < -0.05 && d > 0.2 && d < 0.38;
      return body || shackle;
    }
  }
}

function trayShade(state: TrayState): Shade {
  const dim = state === 'paused' || state === 'licence';
  return (u, v) => {
    const d = Math.hypot(u - BX, v - BY);
    if (d < BR) return glyph(state, (u - BX) / (BR * 0.82), (v - BY) / (BR * 0.82)) ? WHITE : BADGE[state];
    if (d < BR + 0.06) return WHITE;
    const c = appShade(u, v);
    return c && dim ? grey(c) : c;
  };
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
fs.mkdirSync(path.join(out, 'tray'), { recursive: true });
fs.writeFileSync(path.join(out, 'icon.png'), render(512));
fs.writeFileSync(path.join(out, 'icon.ico'), ico([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, data: render(size) }))));
for (const state of TRAY_STATES) {
  const shade = trayShade(state);
  fs.writeFileSync(path.join(out, 'tray', `${state}.png`), render(16, shade));
  fs.writeFileSync(path.join(out, 'tray', `${state}@2x.png`), render(32, shade));
  fs.writeFileSync(path.join(out, 'tray', `${state}.ico`), ico([16, 20, 24, 32, 40, 48].map((size) => ({ size, data: render(size, shade) }))));
  // ICON_PREVIEW_DIR=folder: large copies to look at (never shipped).
  const preview = process.env.ICON_PREVIEW_DIR;
  if (preview) {
    fs.mkdirSync(preview, { recursive: true });
    fs.writeFileSync(path.join(preview, `${state}-128.png`), render(128, shade));
    fs.writeFileSync(path.join(preview, `${state}-32.png`), render(32, shade));
  }
}
process.stdout.write(`icons written to ${out}\n`);
