// `debug`: box outlines, segmentation outlines and class labels (with scores when `score`) drawn over the result.
import sharp from 'sharp';
import type { Detection, ObjectClass, ObjectMask, RgbImage } from '../types.ts';

export const DEBUG_COLORS: Record<ObjectClass, [number, number, number]> = {
  face: [255, 0, 255],
  'license-plate': [0, 255, 255],
  person: [255, 255, 0],
  vehicle: [0, 255, 0],
};

function hex([r, g, b]: readonly number[]): string {
  return `#${[r, g, b].map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c] as string);
}

/** Marks the pixels on the border of a segmentation (in place), since an SVG path of a raster mask would be huge. */
function outlineMask(image: RgbImage, mask: ObjectMask, color: readonly [number, number, number]): void {
  const inside = (x: number, y: number) =>
    x >= 0 && y >= 0 && x < mask.width && y < mask.height && mask.data[y * mask.width + x] >= 128;
  for (let y = 0; y < mask.height; y++) {
    for (let x = 0; x < mask.width; x++) {
      if (!inside(x, y)) continue;
      if (inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1)) continue;
      const ix = mask.x + x;
      const iy = mask.y + y;
      if (ix < 0 || iy < 0 || ix >= image.width || iy >= image.height) continue;
      const p = (iy * image.width + ix) * 3;
      image.data[p] = color[0];
      image.data[p + 1] = color[1];
      image.data[p + 2] = color[2];
    }
  }
}

/** Returns a new image with the overlay; ignored detections are drawn dashed. */
export async function drawDebug(
  image: RgbImage,
  detections: readonly Detection[],
  anonymised: readonly boolean[],
  showScore: boolean,
): Promise<RgbImage> {
  if (detections.length === 0) return image;
  const stroke = Math.max(2, Math.round(Math.min(image.width, image.height) / 400));
  const fontSize = Math.max(12, stroke * 7);
  const shapes = detections.map((det, i) => {
    const color = hex(DEBUG_COLORS[det.cls]);
    const { x0, y0, x1, y1 } = det.box;
    const label = showScore ? `${det.cls} ${det.score.toFixed(2)}` : det.cls;
    const dash = anonymised[i] ? '' : ` stroke-dasharray="${stroke * 3},${stroke * 2}"`;
    const textY = y0 - stroke > fontSize ? y0 - stroke : y1 + fontSize;
    return (
      `<rect x="${x0}" y="${y0}" width="${x1 - x0}" height="${y1 - y0}" fill="none" stroke="${color}" stroke-width="${stroke}"${dash}/>` +
      `<text x="${x0}" y="${textY}" font-family="sans-serif" font-size="${fontSize}" fill="${color}">${escapeXml(label)}</text>`
    );
  });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${image.width}" height="${image.height}">${shapes.join('')}</svg>`;
  const data = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), left: 0, top: 0 }])
    .removeAlpha()
    .raw()
    .toBuffer();
  const out = { data, width: image.width, height: image.height };
  for (const det of detections) if (det.mask) outlineMask(out, det.mask, DEBUG_COLORS[det.cls]);
  return out;
}
