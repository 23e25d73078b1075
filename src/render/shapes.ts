// Per-object alpha: how strongly each pixel near one detection is anonymised (0..255).
// Faces are ellipses, plates/vehicles padded boxes, persons their segmentation when the model gives one.
import type { Box, Detection, Gradient, ObjectMask, ProcessParams } from '../types.ts';

/** Extra margin around classes whose detectors box tightly (plate boxes often cut off the last characters). */
function paddedBox(det: Detection): Box {
  const { x0, y0, x1, y1 } = det.box;
  const w = x1 - x0;
  const h = y1 - y0;
  let px = 0;
  let py = 0;
  if (det.cls === 'license-plate') {
    px = py = 0.1 * Math.min(w, h);
  } else if (det.cls === 'vehicle') {
    px = 0.02 * w;
    py = 0.02 * h;
  }
  return { x0: x0 - px, y0: y0 - py, x1: x1 + px, y1: y1 + py };
}

/** Celantur's gradient boxes: each side moves out by `factor` × the box's width (x) or height (y); negative shrinks. */
export function growBox(box: Box, factor: number): Box {
  const dx = factor * (box.x1 - box.x0);
  const dy = factor * (box.y1 - box.y0);
  const grown = { x0: box.x0 - dx, y0: box.y0 - dy, x1: box.x1 + dx, y1: box.y1 + dy };
  // A shrink past the centre keeps a one-pixel core so the object still gets full effect somewhere.
  if (grown.x1 - grown.x0 < 1) grown.x0 = grown.x1 = (box.x0 + box.x1) / 2;
  if (grown.y1 - grown.y0 < 1) grown.y0 = grown.y1 = (box.y0 + box.y1) / 2;
  return grown;
}

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

function pixelRect(box: Box, imageWidth: number, imageHeight: number): Rect | null {
  const x0 = Math.max(0, Math.floor(box.x0));
  const y0 = Math.max(0, Math.floor(box.y0));
  const x1 = Math.min(imageWidth, Math.ceil(box.x1));
  const y1 = Math.min(imageHeight, Math.ceil(box.y1));
  if (x1 <= x0 || y1 <= y0) return null;
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

function unionBox(a: Box, b: Box): Box {
  return { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
}

/**
 * Ramp between a full-effect shape (inside `inner`) and a no-effect shape (at `outer`), linear along
 * every ray from the centre. With normalised radii rIn/rOut (1 on the respective shape) the distance
 * along a ray is r = rIn·a = rOut·b, so alpha = (b − r)/(b − a) = (1/rOut − 1)/(1/rOut − 1/rIn).
 * Ellipses: the full-effect ellipse circumscribes the inner box (so the whole box is covered) and the
 * no-effect ellipse is inscribed in the outer box (so nothing beyond it changes).
 */
function rampAlpha(inner: Box, outer: Box, ellipse: boolean, rect: Rect): ObjectMask {
  const cx = (inner.x0 + inner.x1) / 2;
  const cy = (inner.y0 + inner.y1) / 2;
  const inScale = ellipse ? Math.SQRT2 : 1;
  const invInX = 1 / Math.max(1e-6, ((inner.x1 - inner.x0) / 2) * inScale);
  const invInY = 1 / Math.max(1e-6, ((inner.y1 - inner.y0) / 2) * inScale);
  const invOutX = 1 / Math.max(1e-6, (outer.x1 - outer.x0) / 2);
  const invOutY = 1 / Math.max(1e-6, (outer.y1 - outer.y0) / 2);
  const data = new Uint8Array(rect.width * rect.height);
  for (let row = 0; row < rect.height; row++) {
    const dy = Math.abs(rect.y + row + 0.5 - cy);
    const uyIn = dy * invInY;
    const uyOut = dy * invOutY;
    const base = row * rect.width;
    for (let col = 0; col < rect.width; col++) {
      const dx = Math.abs(rect.x + col + 0.5 - cx);
      const uxIn = dx * invInX;
      const uxOut = dx * invOutX;
      const rIn = ellipse ? Math.sqrt(uxIn * uxIn + uyIn * uyIn) : Math.max(uxIn, uyIn);
      if (rIn <= 1) {
        data[base + col] = 255;
        continue;
      }
      const rOut = ellipse ? Math.sqrt(uxOut * uxOut + uyOut * uyOut) : Math.max(uxOut, uyOut);
      if (rOut >= 1) continue;
      const a = (1 / rOut - 1) / (1 / rOut - 1 / rIn);
      if (a > 0) data[base + col] = Math.round(Math.min(1, a) * 255);
    }
  }
  return { ...rect, data };
}

/** A detector's soft mask, clipped to the image. */
function clipMask(mask: ObjectMask, imageWidth: number, imageHeight: number): ObjectMask | null {
  const rect = pixelRect(
    { x0: mask.x, y0: mask.y, x1: mask.x + mask.width, y1: mask.y + mask.height },
    imageWidth,
    imageHeight,
  );
  if (!rect) return null;
  if (rect.x === mask.x && rect.y === mask.y && rect.width === mask.width && rect.height === mask.height) return { ...mask };
  const data = new Uint8Array(rect.width * rect.height);
  for (let row = 0; row < rect.height; row++) {
    const src = (rect.y - mask.y + row) * mask.width + (rect.x - mask.x);
    data.set(mask.data.subarray(src, src + rect.width), row * rect.width);
  }
  return { ...rect, data };
}

const NO_GRADIENT: Gradient = { start: 0, stop: 0 };

/** The alpha of one detection over the pixels it may touch, or null when it lies outside the image. */
export function objectAlpha(det: Detection, params: ProcessParams, imageWidth: number, imageHeight: number): ObjectMask | null {
  if (det.mask && !params.bbox) return clipMask(det.mask, imageWidth, imageHeight);
  const base = paddedBox(det);
  const hasGradient = det.cls === 'face' || det.cls === 'license-plate';
  const gradient = hasGradient ? params.gradient[det.cls as 'face' | 'license-plate'] : NO_GRADIENT;
  const ellipse = det.cls === 'face' && !params.bbox;
  const inner = growBox(base, gradient.stop);
  const outer = growBox(base, Math.max(gradient.start, gradient.stop));
  const fullExtent = ellipse ? growBox(inner, (Math.SQRT2 - 1) / 2) : inner;
  const rect = pixelRect(unionBox(outer, fullExtent), imageWidth, imageHeight);
  if (!rect) return null;
  return rampAlpha(inner, outer, ellipse, rect);
}
