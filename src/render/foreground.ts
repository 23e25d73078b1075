// Background replacement, pixel side (InstaVid360 bg-replace, issue 13): which detections are the
// foreground, their soft mask at full resolution, and the composite original → background → overlay.
//
// Masks: persons come with the selfie-segmentation silhouette (detect/selfie-mask/person-mask.ts); vehicles only with a
// NanoDet box, so each vehicle box is refined here by an iterated colour model seeded by the box (a
// GrabCut-like step without the graph cut): background colours from a ring around the box, foreground
// colours from its centre, a spatial prior that favours the box centre, smoothing, the component that
// holds the box centre, holes filled (windows), then a soft edge.
import sharp from 'sharp';
import type { Box, Detection, RgbImage } from '../types.ts';

const area = (b: Box) => Math.max(0, b.x1 - b.x0) * Math.max(0, b.y1 - b.y0);

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const h = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  return w > 0 && h > 0 ? w * h : 0;
}

/**
 * The foreground of a dealer photo: the largest vehicle or person, other objects of its class at least a
 * third of its size, and (for vehicles) persons standing with the chosen vehicles. (est.)
 */
export function selectForeground(detections: readonly Detection[], width?: number, height?: number): Detection[] {
  const candidates = detections.filter((d) => d.cls === 'vehicle' || d.cls === 'person');
  if (!candidates.length) return [];
  // The subject decides what the photo is of (a vehicle with its people, or a person): the largest object,
  // weighed down by its distance from the image centre (the subject is usually framed in the middle).
  const weight = (d: Detection) => {
    if (!width || !height) return area(d.box);
    const dx = ((d.box.x0 + d.box.x1) / 2 - width / 2) / (width / 2), dy = ((d.box.y0 + d.box.y1) / 2 - height / 2) / (height / 2);
    return area(d.box) * (1 - 0.5 * Math.min(1, Math.hypot(dx, dy) / Math.SQRT2));
  };
  const primary = candidates.reduce((a, b) => (weight(b) > weight(a) ? b : a));
  const persons = candidates.filter((d) => d.cls === 'person');
  const pool = candidates.filter((d) => d.cls === primary.cls);
  const biggest = area(primary.box);
  // Several cars of a dealer line-up stay together; a person photo keeps only people about as large as its subject.
  const share = primary.cls === 'vehicle' ? 1 / 3 : PERSON_SHARE;
  const chosen = pool.filter((d) => d === primary || area(d.box) >= biggest * share);
  if (primary.cls === 'vehicle') {
    for (const p of persons) {
      if (chosen.some((v) => overlap(v.box, p.box) > 0.2 * area(p.box)) && area(p.box) >= biggest / 20) chosen.push(p);
    }
  }
  return chosen;
}

export interface RefineOptions {
  /** Longest side of the working grid (the box plus its ring); the result is scaled back to full resolution. */
  workSize: number;
  /** Ring around the box whose colours are taken as background, as a share of the box size. */
  ring: number;
  iterations: number;
}

export const DEFAULT_REFINE: RefineOptions = { workSize: 360, ring: 0.12, iterations: 4 };

const BINS = 16;
const PRIOR_CENTRE = 0.9;
const PRIOR_EDGE = 0.35;
const PERSON_SHARE = 0.6;
const SMOOTH_LAMBDA = 10;
const SMOOTH_SWEEPS = 40;
const SHIFT = 4; // 256 / 16
const binOf = (r: number, g: number, b: number) => ((r >> SHIFT) * BINS + (g >> SHIFT)) * BINS + (b >> SHIFT);

/** Histogram smoothed over the 3×3×3 neighbouring bins, normalised to a probability. */
function smoothHistogram(counts: Float64Array): Float64Array {
  const out = new Float64Array(counts.length);
  let total = 0;
  for (let r = 0; r < BINS; r++)
    for (let g = 0; g < BINS; g++)
      for (let b = 0; b < BINS; b++) {
        let s = 0;
        for (let dr = -1; dr <= 1; dr++)
          for (let dg = -1; dg <= 1; dg++)
            for (let db = -1; db <= 1; db++) {
              const rr = r + dr, gg = g + dg, bb = b + db;
              if (rr < 0 || gg < 0 || bb < 0 || rr >= BINS || gg >= BINS || bb >= BINS) continue;
              s += counts[(rr * BINS + gg) * BINS + bb]! * (dr === 0 && dg === 0 && db === 0 ? 4 : 1);
            }
        out[(r * BINS + g) * BINS + b] = s;
        total += s;
      }
  for (let i = 0; i < out.length; i++) out[i] = (out[i]! + 1e-3) / (total + 1e-3 * out.length);
  return out;
}

function boxBlur(src: Float32Array, w: number, h: number, radius: number): Float32Array {
  if (radius < 1) return src;
  const tmp = new Float32Array(w * h);
  const out = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    let acc = 0;
    const row = y * w;
    for (let x = -radius; x <= radius; x++) acc += src[row + Math.min(w - 1, Math.max(0, x))]!;
    for (let x = 0; x < w; x++) {
      tmp[row + x] = acc / (2 * radius + 1);
      acc += src[row + Math.min(w - 1, x + radius + 1)]! - src[row + Math.max(0, x - radius)]!;
    }
  }
  for (let x = 0; x < w; x++) {
    let acc = 0;
    for (let y = -radius; y <= radius; y++) acc += tmp[Math.min(h - 1, Math.max(0, y)) * w + x]!;
    for (let y = 0; y < h; y++) {
      out[y * w + x] = acc / (2 * radius + 1);
      acc += tmp[Math.min(h - 1, y + radius + 1) * w + x]! - tmp[Math.max(0, y - radius) * w + x]!;
    }
  }
  return out;
}

/**
 * Edge-aware smoothing of the foreground probability (a random-walker-like quadratic energy):
 * minimises Σ (x_i − u_i)² + λ Σ w_ij (x_i − x_j)² over 4-neighbours, w_ij = exp(−β |c_i − c_j|²), by
 * Gauss-Seidel sweeps. Probabilities spread within regions of similar colour and stop at colour edges, which
 * is what a graph cut's contrast-sensitive smoothness term does.
 */
function edgeAwareSmooth(u: Float32Array, rgb: Buffer, w: number, h: number, lambda: number, sweeps: number): Float32Array {
  const n = w * h;
  const right = new Float32Array(n);
  const down = new Float32Array(n);
  let sum = 0, count = 0;
  const d2 = (i: number, j: number) => {
    const dr = rgb[i * 3]! - rgb[j * 3]!, dg = rgb[i * 3 + 1]! - rgb[j * 3 + 1]!, db = rgb[i * 3 + 2]! - rgb[j * 3 + 2]!;
    return dr * dr + dg * dg + db * db;
  };
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x < w - 1) (sum += d2(i, i + 1)), count++;
      if (y < h - 1) (sum += d2(i, i + w)), count++;
    }
  const beta = 1 / (2 * Math.max(1, sum / Math.max(1, count)));
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (x < w - 1) right[i] = Math.exp(-beta * d2(i, i + 1));
      if (y < h - 1) down[i] = Math.exp(-beta * d2(i, i + w));
    }
  const x = Float32Array.from(u);
  for (let s = 0; s < sweeps; s++) {
    for (let i = 0; i < n; i++) {
      const cx = i % w;
      let num = u[i]!, den = 1;
      if (cx > 0) (num += lambda * right[i - 1]! * x[i - 1]!), (den += lambda * right[i - 1]!);
      if (cx < w - 1) (num += lambda * right[i]! * x[i + 1]!), (den += lambda * right[i]!);
      if (i >= w) (num += lambda * down[i - w]! * x[i - w]!), (den += lambda * down[i - w]!);
      if (i + w < n) (num += lambda * down[i]! * x[i + w]!), (den += lambda * down[i]!);
      x[i] = num / den;
    }
  }
  return x;
}

/** Keeps the 4-connected component of `on` that contains (cx, cy) (or the largest), and fills its holes. */
function mainComponentFilled(on: Uint8Array, w: number, h: number, cx: number, cy: number): Uint8Array {
  const label = new Int32Array(w * h);
  const queue = new Int32Array(w * h);
  let best = 0, bestSize = 0, next = 0, centreLabel = 0;
  for (let i = 0; i < on.length; i++) {
    if (!on[i] || label[i]) continue;
    next++;
    let head = 0, tail = 0, size = 0;
    queue[tail++] = i;
    label[i] = next;
    while (head < tail) {
      const p = queue[head++]!;
      size++;
      const x = p % w, y = (p - x) / w;
      if (x > 0 && on[p - 1] && !label[p - 1]) (label[p - 1] = next), (queue[tail++] = p - 1);
      if (x < w - 1 && on[p + 1] && !label[p + 1]) (label[p + 1] = next), (queue[tail++] = p + 1);
      if (y > 0 && on[p - w] && !label[p - w]) (label[p - w] = next), (queue[tail++] = p - w);
      if (y < h - 1 && on[p + w] && !label[p + w]) (label[p + w] = next), (queue[tail++] = p + w);
    }
    if (size > bestSize) (bestSize = size), (best = next);
  }
  centreLabel = label[cy * w + cx] ?? 0;
  const keep = centreLabel || best;
  const out = new Uint8Array(w * h);
  // Holes: background not reachable from the grid's border.
  const outside = new Uint8Array(w * h);
  let head = 0, tail = 0;
  for (let x = 0; x < w; x++) for (const y of [0, h - 1]) { const p = y * w + x; if (label[p] !== keep && !outside[p]) (outside[p] = 1), (queue[tail++] = p); }
  for (let y = 0; y < h; y++) for (const x of [0, w - 1]) { const p = y * w + x; if (label[p] !== keep && !outside[p]) (outside[p] = 1), (queue[tail++] = p); }
  while (head < tail) {
    const p = queue[head++]!;
    const x = p % w, y = (p - x) / w;
    const visit = (q: number) => { if (!outside[q] && label[q] !== keep) (outside[q] = 1), (queue[tail++] = q); };
    if (x > 0) visit(p - 1);
    if (x < w - 1) visit(p + 1);
    if (y > 0) visit(p - w);
    if (y < h - 1) visit(p + w);
  }
  for (let i = 0; i < out.length; i++) out[i] = outside[i] ? 0 : 1;
  return out;
}

/**
 * Soft mask (0..255) of the object in `box`, over the region returned (the box plus its ring), at full resolution.
 */
export async function refineBoxMask(image: RgbImage, box: Box, options: RefineOptions = DEFAULT_REFINE): Promise<{ x: number; y: number; width: number; height: number; data: Uint8Array }> {
  const bw = box.x1 - box.x0, bh = box.y1 - box.y0;
  const rx0 = Math.max(0, Math.floor(box.x0 - bw * options.ring)), ry0 = Math.max(0, Math.floor(box.y0 - bh * options.ring));
  const rx1 = Math.min(image.width, Math.ceil(box.x1 + bw * options.ring)), ry1 = Math.min(image.height, Math.ceil(box.y1 + bh * options.ring));
  const W = rx1 - rx0, H = ry1 - ry0;
  const scale = Math.min(1, options.workSize / Math.max(W, H));
  const w = Math.max(8, Math.round(W * scale)), h = Math.max(8, Math.round(H * scale));
  const small = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 } })
    .extract({ left: rx0, top: ry0, width: W, height: H })
    .resize(w, h, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  // Box in grid coordinates.
  const gx0 = ((box.x0 - rx0) / W) * w, gy0 = ((box.y0 - ry0) / H) * h, gx1 = ((box.x1 - rx0) / W) * w, gy1 = ((box.y1 - ry0) / H) * h;
  const inBox = (x: number, y: number) => x >= gx0 && x < gx1 && y >= gy0 && y < gy1;
  const bins = new Int32Array(w * h);
  for (let i = 0; i < w * h; i++) bins[i] = binOf(small[i * 3]!, small[i * 3 + 1]!, small[i * 3 + 2]!);
  // Spatial prior: likely foreground near the box centre, less so at its edges, none outside it.
  const prior = new Float32Array(w * h);
  const cxg = (gx0 + gx1) / 2, cyg = (gy0 + gy1) / 2, hw = (gx1 - gx0) / 2, hh = (gy1 - gy0) / 2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!inBox(x + 0.5, y + 0.5)) continue;
      const d = Math.max(Math.abs(x + 0.5 - cxg) / hw, Math.abs(y + 0.5 - cyg) / hh);
      prior[y * w + x] = PRIOR_CENTRE - (PRIOR_CENTRE - PRIOR_EDGE) * d * d;
    }
  const ringExists = W > bw + 2 || H > bh + 2;
  let fgWeight = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) fgWeight[i] = prior[i]! > 0.7 ? 1 : 0;
  let prob: Float32Array = new Float32Array(w * h);
  for (let it = 0; it < options.iterations; it++) {
    const fgCounts = new Float64Array(BINS ** 3);
    const bgCounts = new Float64Array(BINS ** 3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const i = y * w + x;
        if (!inBox(x + 0.5, y + 0.5)) bgCounts[bins[i]!] += 2;
        else {
          fgCounts[bins[i]!] += fgWeight[i]!;
          if (it > 0 || !ringExists) bgCounts[bins[i]!] += (1 - fgWeight[i]!) * 0.5;
        }
      }
    const pf = smoothHistogram(fgCounts), pb = smoothHistogram(bgCounts);
    for (let i = 0; i < w * h; i++) {
      const p = prior[i]!;
      if (p <= 0) { prob[i] = 0; continue; }
      const lf = pf[bins[i]!]! * p, lb = pb[bins[i]!]! * (1 - p);
      prob[i] = lf / (lf + lb);
    }
    prob = boxBlur(prob, w, h, Math.max(1, Math.round(Math.min(w, h) / 120)));
    fgWeight = new Float32Array(w * h);
    for (let i = 0; i < w * h; i++) fgWeight[i] = prob[i]! > 0.5 ? 1 : 0;
  }
  if (SMOOTH_LAMBDA > 0) prob = edgeAwareSmooth(prob, small, w, h, SMOOTH_LAMBDA, SMOOTH_SWEEPS);
  const on = new Uint8Array(w * h);
  for (let i = 0; i < on.length; i++) on[i] = prob[i]! > 0.5 ? 1 : 0;
  const solid = mainComponentFilled(on, w, h, Math.min(w - 1, Math.floor(cxg)), Math.min(h - 1, Math.floor(cyg)));
  const grid = Buffer.alloc(w * h);
  for (let i = 0; i < grid.length; i++) grid[i] = solid[i] ? 255 : 0;
  // Back to full resolution; the linear upscale and a small blur give the soft edge.
  const full = await sharp(grid, { raw: { width: w, height: h, channels: 1 } })
    .resize(W, H, { fit: 'fill', kernel: 'linear' })
    .blur(Math.max(0.8, 0.6 / scale))
    .extractChannel(0)
    .raw()
    .toBuffer();
  return { x: rx0, y: ry0, width: W, height: H, data: new Uint8Array(full.buffer, full.byteOffset, full.length) };
}

/**
 * The detector often splits one car seen side-on into two boxes (front, rear) with a gap between them: vehicle
 * boxes that share most of their height are refined as one box, their hull.
 */
export function mergeVehicleBoxes(chosen: readonly Detection[]): Detection[] {
  const out: Detection[] = chosen.filter((d) => d.cls !== 'vehicle');
  const vehicles = chosen.filter((d) => d.cls === 'vehicle').map((d) => ({ ...d, box: { ...d.box } }));
  let merged = true;
  while (merged) {
    merged = false;
    for (let i = 0; i < vehicles.length && !merged; i++)
      for (let j = i + 1; j < vehicles.length && !merged; j++) {
        const a = vehicles[i]!.box, b = vehicles[j]!.box;
        const shared = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
        if (shared > 0.6 * Math.min(a.y1 - a.y0, b.y1 - b.y0)) {
          vehicles[i]!.box = { x0: Math.min(a.x0, b.x0), y0: Math.min(a.y0, b.y0), x1: Math.max(a.x1, b.x1), y1: Math.max(a.y1, b.y1) };
          vehicles.splice(j, 1);
          merged = true;
        }
      }
  }
  return [...vehicles, ...out];
}

/** Full-resolution soft foreground mask (0..255, width × height) of the chosen detections. */
export async function foregroundMask(image: RgbImage, chosen: readonly Detection[], options: RefineOptions = DEFAULT_REFINE): Promise<Uint8Array> {
  const alpha = new Uint8Array(image.width * image.height);
  const paste = (m: { x: number; y: number; width: number; height: number; data: Uint8Array }) => {
    for (let y = 0; y < m.height; y++) {
      const iy = y + m.y;
      if (iy < 0 || iy >= image.height) continue;
      for (let x = 0; x < m.width; x++) {
        const ix = x + m.x;
        if (ix < 0 || ix >= image.width) continue;
        const v = m.data[y * m.width + x]!;
        const j = iy * image.width + ix;
        if (v > alpha[j]!) alpha[j] = v;
      }
    }
  };
  for (const d of mergeVehicleBoxes(chosen)) {
    if (d.mask) paste(d.mask);
    else if (d.cls === 'vehicle' && options.iterations > 0) paste(await refineBoxMask(image, d.box, options));
    else {
      const x0 = Math.max(0, Math.round(d.box.x0)), y0 = Math.max(0, Math.round(d.box.y0));
      const x1 = Math.min(image.width, Math.round(d.box.x1)), y1 = Math.min(image.height, Math.round(d.box.y1));
      paste({ x: x0, y: y0, width: x1 - x0, height: y1 - y0, data: new Uint8Array((x1 - x0) * (y1 - y0)).fill(255) });
    }
  }
  return alpha;
}

/**
 * Soft contact shadow (shadow: true, est.): under each vehicle, an elliptical shadow on the new background,
 * centred just above the box's bottom edge, 0.9 × the box width and 0.16 × its height across, darkening the
 * background by up to 50 % with a Gaussian fall-off. It shows only where the background shows.
 */
export function contactShadow(width: number, height: number, vehicles: readonly Box[]): Float32Array {
  const shade = new Float32Array(width * height);
  for (const b of vehicles) {
    const cx = (b.x0 + b.x1) / 2, cy = b.y1 - 0.03 * (b.y1 - b.y0);
    const rx = 0.45 * (b.x1 - b.x0), ry = 0.08 * (b.y1 - b.y0);
    const y0 = Math.max(0, Math.floor(cy - 2 * ry)), y1 = Math.min(height, Math.ceil(cy + 2 * ry));
    const x0 = Math.max(0, Math.floor(cx - 1.5 * rx)), x1 = Math.min(width, Math.ceil(cx + 1.5 * rx));
    for (let y = y0; y < y1; y++)
      for (let x = x0; x < x1; x++) {
        const dx = (x + 0.5 - cx) / rx, dy = (y + 0.5 - cy) / ry;
        const s = 0.5 * Math.exp(-1.5 * (dx * dx + dy * dy));
        const i = y * width + x;
        if (s > shade[i]!) shade[i] = s;
      }
  }
  return shade;
}

/** original over background by `alpha` (with the optional shadow darkening the background), then the RGBA overlay. */
export function composite(original: RgbImage, background: Buffer, alpha: Uint8Array, overlay: Buffer | null, shadow: Float32Array | null): Buffer {
  const n = original.width * original.height;
  const out = Buffer.allocUnsafe(n * 3);
  for (let i = 0; i < n; i++) {
    const a = alpha[i]! / 255;
    const dark = shadow ? 1 - shadow[i]! : 1;
    for (let c = 0; c < 3; c++) {
      const k = i * 3 + c;
      let v = a * original.data[k]! + (1 - a) * background[k]! * dark;
      if (overlay) {
        const oa = overlay[i * 4 + 3]! / 255;
        v = oa * overlay[i * 4 + c]! + (1 - oa) * v;
      }
      out[k] = Math.round(v);
    }
  }
  return out;
}
