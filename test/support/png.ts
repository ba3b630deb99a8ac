import { inflateSync } from 'node:zlib';
import { expect } from 'vitest';

/** Screenshots read back in tests (statements, capacity reports): decoding and counting drawn pixels. */

export interface Png {
  width: number;
  height: number;
  /** RGBA, row after row. */
  rgba: Uint8Array;
}

/** The PNGs Chromium writes: 8-bit RGB or RGBA, non-interlaced; scanline filters undone. */
export function decodePng(data: Buffer): Png {
  expect(data.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  for (let at = 8; at < data.length; ) {
    const length = data.readUInt32BE(at);
    const type = data.toString('latin1', at + 4, at + 8);
    const body = data.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, color, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      expect([depth, interlace]).toEqual([8, 0]);
      channels = color === 6 ? 4 : color === 2 ? 3 : 0;
      expect(channels, `PNG colour type ${color}`).toBeGreaterThan(0);
    } else if (type === 'IDAT') idat.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const left = x >= channels ? (pixels[y * stride + x - channels] as number) : 0;
      const up = y > 0 ? (pixels[(y - 1) * stride + x] as number) : 0;
      const upLeft = y > 0 && x >= channels ? (pixels[(y - 1) * stride + x - channels] as number) : 0;
      const paeth = () => {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        return pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      };
      const predictor = [0, left, up, (left + up) >> 1, paeth()][filter] as number;
      pixels[y * stride + x] = ((line[x] as number) + predictor) & 0xff;
    }
  }
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * channels, i * channels + 3), i * 4);
    rgba[i * 4 + 3] = channels === 4 ? (pixels[i * channels + 3] as number) : 255;
  }
  return { width, height, rgba };
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Pixels in the box that are not the white page, and those that are clearly the chart's blue (#2f6fb3). */
export function inkIn(png: Png, box: Box): { ink: number; blue: number; total: number } {
  let ink = 0;
  let blue = 0;
  let total = 0;
  for (let y = Math.floor(box.y); y < Math.min(png.height, Math.ceil(box.y + box.height)); y++) {
    for (let x = Math.floor(box.x); x < Math.min(png.width, Math.ceil(box.x + box.width)); x++) {
      const i = (y * png.width + x) * 4;
      const [r, g, b] = [png.rgba[i] as number, png.rgba[i + 1] as number, png.rgba[i + 2] as number];
      total++;
      if (r < 245 || g < 245 || b < 245) ink++;
      if (b > 140 && b - r > 60 && b - g > 20) blue++;
    }
  }
  return { ink, blue, total };
}

