// Draws the tray and app icons into resources/ (run: node scripts/make-icons.mjs).
// No image library needed: shapes are rasterised here and written as PNG (zlib) and ICO
// (PNG-compressed entries, supported since Windows Vista).
// Tray icons: macOS template images (black + alpha, the OS tints them) per state, and Windows
// .ico files with 16/20/24/32 px sizes in the state's colour.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

const out = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'resources');
fs.mkdirSync(path.join(out, 'tray'), { recursive: true });

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, pixel) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) {
    raw[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      // 4x4 supersampling for smooth edges.
      let r = 0,
        g = 0,
        b = 0,
        a = 0;
      for (let sy = 0; sy < 4; sy++)
        for (let sx = 0; sx < 4; sx++) {
          const p = pixel((x + (sx + 0.5) / 4) / size, (y + (sy + 0.5) / 4) / size);
          if (p) {
            r += p[0] * p[3];
            g += p[1] * p[3];
            b += p[2] * p[3];
            a += p[3];
          }
        }
      const o = y * (size * 4 + 1) + 1 + x * 4;
      raw[o] = a ? Math.round(r / a) : 0;
      raw[o + 1] = a ? Math.round(g / a) : 0;
      raw[o + 2] = a ? Math.round(b / a) : 0;
      raw[o + 3] = Math.round((a / 16) * 255);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  ihdr[10] = 0;
  ihdr[11] = 0;
  ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
function ico(images) {
  const header = Buffer.alloc(6 + 16 * images.length);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  let offset = header.length;
  images.forEach(({ size, data }, i) => {
    const e = 6 + i * 16;
    header[e] = size >= 256 ? 0 : size;
    header[e + 1] = size >= 256 ? 0 : size;
    header.writeUInt16LE(1, e + 4);
    header.writeUInt16LE(32, e + 6);
    header.writeUInt32LE(data.length, e + 8);
    header.writeUInt32LE(offset, e + 12);
    offset += data.length;
  });
  return Buffer.concat([header, ...images.map((i) => i.data)]);
}

// The mark: a speech bubble (voice tutoring) with a state glyph inside.
const inBubble = (x, y) => {
  const dx = (x - 0.5) / 0.42,
    dy = (y - 0.45) / 0.36;
  const tail = y > 0.7 && y < 0.95 && x > 0.22 && x < 0.42 && x - 0.22 < (0.95 - y) * 0.9;
  return dx * dx + dy * dy <= 1 || tail;
};
const glyphs = {
  serving: (x, y) =>
    Math.abs(x - 0.5) < 0.05 + 0.18 * Math.sin(Math.PI * ((y - 0.28) / 0.34)) &&
    y > 0.28 &&
    y < 0.62 &&
    ((x * 10) | 0) % 2 === 0,
  active: (x, y) => (x - 0.5) ** 2 + (y - 0.45) ** 2 < 0.012,
  cool: (x, y) => Math.abs(y - 0.45) < 0.035 && Math.abs(x - 0.5) < 0.2,
  dormant: (x, y) =>
    (x - 0.5) ** 2 + (y - 0.45) ** 2 < 0.03 && (x - 0.56) ** 2 + (y - 0.41) ** 2 > 0.022,
  error: (x, y) => Math.abs(x - 0.5) < 0.04 && ((y > 0.25 && y < 0.52) || (y > 0.57 && y < 0.64)),
  paused: (x, y) => y > 0.3 && y < 0.6 && (Math.abs(x - 0.42) < 0.04 || Math.abs(x - 0.58) < 0.04),
};
const colours = {
  serving: [26, 127, 55],
  active: [47, 111, 237],
  cool: [90, 140, 200],
  dormant: [110, 118, 129],
  error: [207, 34, 46],
  paused: [154, 103, 0],
};

for (const [state, glyph] of Object.entries(glyphs)) {
  // macOS template: opaque black bubble, glyph cut out (the OS tints for light/dark menu bars).
  const tmpl = (x, y) => (inBubble(x, y) && !glyph(x, y) ? [0, 0, 0, 1] : null);
  fs.writeFileSync(path.join(out, 'tray', `${state}Template.png`), png(16, tmpl));
  fs.writeFileSync(path.join(out, 'tray', `${state}Template@2x.png`), png(32, tmpl));
  const coloured = (x, y) =>
    glyph(x, y) && inBubble(x, y)
      ? [255, 255, 255, 1]
      : inBubble(x, y)
        ? [...colours[state], 1]
        : null;
  fs.writeFileSync(path.join(out, 'tray', `${state}.png`), png(32, coloured));
  fs.writeFileSync(
    path.join(out, 'tray', `${state}.ico`),
    ico([16, 20, 24, 32].map((size) => ({ size, data: png(size, coloured) }))),
  );
}
// App icon (installers): rounded square with the bubble.
const app = (x, y) => {
  const r = 0.2,
    cx = Math.min(Math.max(x, r), 1 - r),
    cy = Math.min(Math.max(y, r), 1 - r);
  if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return null;
  const bx = (x - 0.12) / 0.76,
    by = (y - 0.14) / 0.76;
  return inBubble(bx, by) ? [255, 255, 255, 1] : [47, 111, 237, 1];
};
fs.writeFileSync(path.join(out, 'icon.png'), png(512, app));
fs.writeFileSync(
  path.join(out, 'icon.ico'),
  ico([16, 24, 32, 48, 64, 128, 256].map((size) => ({ size, data: png(size, app) }))),
);
console.log('icons written to', out);
