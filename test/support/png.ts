// PNG checks for the summary charts: decode with pngjs, then look at the pixels, as a person
// would glance at the picture (is it the right size, is anything drawn, and where).
import { PNG } from "pngjs";

export interface Picture {
  readonly width: number;
  readonly height: number;
  /** RGBA, four bytes a pixel, row by row. */
  readonly data: Buffer;
}

/** Decodes a PNG; throws if the bytes are not one. */
export function decodePng(bytes: Buffer | Uint8Array): Picture {
  const png = PNG.sync.read(Buffer.from(bytes));
  return { width: png.width, height: png.height, data: png.data };
}

const colourAt = (p: Picture, x: number, y: number) => p.data.readUInt32BE((y * p.width + x) * 4);

/** How many distinct colours the picture (or a region of it) has. */
export function distinctColours(p: Picture, region: Region = whole(p)): number {
  const seen = new Set<number>();
  for (let y = region.y; y < region.y + region.h; y++) for (let x = region.x; x < region.x + region.w; x++) seen.add(colourAt(p, x, y));
  return seen.size;
}

export interface Region {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
}

const whole = (p: Picture): Region => ({ x: 0, y: 0, w: p.width, h: p.height });

/** Pixels of a region that differ from the picture's top-left (background) pixel. */
export function inkIn(p: Picture, region: Region): number {
  const background = colourAt(p, 0, 0);
  let n = 0;
  for (let y = region.y; y < region.y + region.h; y++) for (let x = region.x; x < region.x + region.w; x++) if (colourAt(p, x, y) !== background) n++;
  return n;
}

/** Pixels of a region close to an RGB colour (within `tolerance` on each channel). */
export function pixelsOf(p: Picture, rgb: string, region: Region = whole(p), tolerance = 8): number {
  const [r, g, b] = [1, 3, 5].map((i) => parseInt(rgb.slice(i, i + 2), 16)) as [number, number, number];
  let n = 0;
  for (let y = region.y; y < region.y + region.h; y++) {
    for (let x = region.x; x < region.x + region.w; x++) {
      const o = (y * p.width + x) * 4;
      if (Math.abs(p.data[o]! - r) <= tolerance && Math.abs(p.data[o + 1]! - g) <= tolerance && Math.abs(p.data[o + 2]! - b) <= tolerance) n++;
    }
  }
  return n;
}
