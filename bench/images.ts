// Benchmark inputs with real content, made from the committed public-domain/CC0 test photo
// test/fixtures/faces.jpg (see test/fixtures/SOURCES.md): tiled and upscaled, never synthetic noise.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';

export const SOURCE_PHOTO = fileURLToPath(new URL('../test/fixtures/faces.jpg', import.meta.url));

export interface BenchImage {
  label: string;
  path: string;
  width: number;
  height: number;
}

/** 4000×3000 (12 MP): the photo scaled to 2000 px wide and tiled 2 across × 3 down (cropped), q92. */
async function twelveMegapixel(dir: string): Promise<BenchImage> {
  const tile = await sharp(SOURCE_PHOTO).resize(2000, 1167, { fit: 'fill' }).toBuffer();
  const composite = [0, 1].flatMap((col) => [0, 1, 2].map((row) => ({ input: tile, left: col * 2000, top: row * 1167 })));
  const path = join(dir, 'bench-12mp.jpg');
  const tiled = await sharp({ create: { width: 4000, height: 3501, channels: 3, background: '#000' } })
    .composite(composite)
    .raw()
    .toBuffer({ resolveWithObject: true });
  await sharp(tiled.data, { raw: { width: tiled.info.width, height: tiled.info.height, channels: tiled.info.channels } })
    .extract({ left: 0, top: 0, width: 4000, height: 3000 })
    .removeAlpha()
    .jpeg({ quality: 92 })
    .toFile(path);
  return { label: '12 MP JPEG 4000×3000', path, width: 4000, height: 3000 };
}

/** 1920×1080: the photo scaled to cover the frame and centre-cropped, q92. */
async function fullHd(dir: string): Promise<BenchImage> {
  const path = join(dir, 'bench-1080p.jpg');
  await sharp(SOURCE_PHOTO).resize(1920, 1080, { fit: 'cover' }).jpeg({ quality: 92 }).toFile(path);
  return { label: '1080p JPEG 1920×1080', path, width: 1920, height: 1080 };
}

export async function makeBenchImages(dir: string): Promise<BenchImage[]> {
  await mkdir(dir, { recursive: true });
  return [await twelveMegapixel(dir), await fullHd(dir)];
}
