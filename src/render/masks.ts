// Binary and instance segmentation masks as PNG (Celantur's encodings), and their downscaling.
import sharp from 'sharp';
import type { ObjectClass, ObjectMask } from '../types.ts';
import { MASK_THRESHOLD, type Coverage } from './coverage.ts';
import type { ObjectPlan } from './plan.ts';

/** Celantur v26.02.1+ instance mask: B carries these bits, OR-combined where objects overlap. */
export const INSTANCE_TYPE_BITS: Record<ObjectClass, number> = { person: 128, 'license-plate': 64, face: 32, vehicle: 16 };

/** Instance id written in G (and in the metadata's `id`): detection order from 1, wrapping after 255. */
export function instanceId(detectionIndex: number): number {
  return (detectionIndex % 255) + 1;
}

/**
 * Masks are mostly flat: without row filters zlib-ng's level 6 runs through long zero runs fastest
 * (12 MP: ~10 ms binary, ~25 ms instance; filtering costs 10× that for no gain).
 */
const MASK_PNG = { compressionLevel: 6, adaptiveFiltering: false } as const;

export function scaledSize(width: number, height: number, maskScale: number): { width: number; height: number } {
  const s = Math.min(100, Math.max(1, maskScale)) / 100;
  return { width: Math.max(1, Math.round(width * s)), height: Math.max(1, Math.round(height * s)) };
}

async function encodeRaw(data: Uint8Array, width: number, height: number, channels: 1 | 3, maskScale: number): Promise<Buffer> {
  let img = sharp(data, { raw: { width, height, channels } });
  if (maskScale < 100) {
    const size = scaledSize(width, height, maskScale);
    img = sharp(await img.resize(size.width, size.height, { kernel: 'nearest', fit: 'fill' }).raw().toBuffer(), {
      raw: { width: size.width, height: size.height, channels },
    });
  }
  if (channels === 1) img = img.toColourspace('b-w');
  return img.png(MASK_PNG).toBuffer();
}

// The two fills below are the masks' only per-pixel work (12 MP with persons: ~9 M alpha pixels). Every field is
// read into a local before the loops, so that V8 keeps the typed arrays and bounds in registers: the same loops
// reading alpha.data and alpha.width inside cost 3-4x more CPU.

/** 255 in `bin` (a frame-wide plane `frameWidth` px wide) where the object's alpha reaches MASK_THRESHOLD. */
function markBinary(bin: Uint8Array, frameWidth: number, alpha: ObjectMask): void {
  const data = alpha.data;
  const w = alpha.width;
  const h = alpha.height;
  for (let row = 0; row < h; row++) {
    let a = row * w;
    const end = a + w;
    let p = (alpha.y + row) * frameWidth + alpha.x;
    for (; a < end; a++, p++) if (data[a]! >= MASK_THRESHOLD) bin[p] = 255;
  }
}

/** G = id and B |= bit in packed RGB `rgb` where the object's alpha reaches MASK_THRESHOLD. */
function markInstance(rgb: Uint8Array, frameWidth: number, alpha: ObjectMask, id: number, bit: number): void {
  const data = alpha.data;
  const w = alpha.width;
  const h = alpha.height;
  for (let row = 0; row < h; row++) {
    let a = row * w;
    const end = a + w;
    let p = ((alpha.y + row) * frameWidth + alpha.x) * 3;
    for (; a < end; a++, p += 3) {
      if (data[a]! < MASK_THRESHOLD) continue;
      rgb[p + 1] = id;
      rgb[p + 2] |= bit;
    }
  }
}

/** 1-channel PNG: 255 where a pixel is anonymised (at least half effect), 0 elsewhere, ignores included. */
export async function encodeBinaryMask(source: ObjectPlan | Coverage, maskScale = 100): Promise<Buffer> {
  if (!('objects' in source)) {
    const bin = new Uint8Array(source.data.length);
    for (let i = 0; i < bin.length; i++) bin[i] = source.data[i] >= MASK_THRESHOLD ? 255 : 0;
    return encodeRaw(bin, source.width, source.height, 1, maskScale);
  }
  // Straight from the objects' regions: no pass over the whole frame.
  const bin = new Uint8Array(source.width * source.height);
  for (const { alpha } of source.objects) markBinary(bin, source.width, alpha);
  return encodeRaw(bin, source.width, source.height, 1, maskScale);
}

/**
 * RGB PNG: R = 0, G = instance id, B = OR of the type bits of every object covering the pixel.
 * Where objects overlap, G names the smaller one (a face on a person stays identifiable).
 */
export async function encodeInstanceMask(plan: ObjectPlan, maskScale = 100): Promise<Buffer> {
  const { width, height } = plan;
  const rgb = new Uint8Array(width * height * 3);
  const byAreaDescending = [...plan.objects].sort((a, b) => b.alpha.width * b.alpha.height - a.alpha.width * a.alpha.height);
  for (const { index, alpha } of byAreaDescending) markInstance(rgb, width, alpha, instanceId(index), INSTANCE_TYPE_BITS[plan.detections[index].cls]);
  return encodeRaw(rgb, width, height, 3, maskScale);
}

/** Downscales a stored mask PNG to `maskScale` % with nearest neighbour, so ids and bits never blend. */
export async function scaleMaskPng(png: Buffer, maskScale: number, kind: 'binary' | 'instance'): Promise<Buffer> {
  if (maskScale >= 100) return png;
  const channels = kind === 'binary' ? 1 : 3;
  const { data, info } = await sharp(png)
    .toColourspace(kind === 'binary' ? 'b-w' : 'srgb')
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== channels) throw new Error(`expected a ${channels}-channel ${kind} mask, got ${info.channels} channels`);
  return encodeRaw(data, info.width, info.height, channels, maskScale);
}
