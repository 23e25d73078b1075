// `anonymiser eval-masks`: foreground-mask quality of background replacement on a dataset laid out as
// ../shared/eval-masks (annotations.json, images/, masks/): mean mask IoU and boundary F-score at 3 px
// (DAVIS-style) per label, and milliseconds per image. The masks come from the same code bg-replace uses:
// detection → selectForeground → foregroundMask.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { createDetectionEngine } from '../detect/engine.ts';
import type { ExecutionProviderChoice } from '../detect/types.ts';
import { foregroundMask, selectForeground } from '../render/foreground.ts';
import { DEFAULT_THRESHOLDS, type RgbImage } from '../types.ts';

export interface MaskImageScore {
  file: string;
  label: string;
  dataset: string;
  iou: number;
  boundaryF: number;
  ms: number;
}

export interface MaskEvalReport {
  dataset: string;
  provider: string;
  images: MaskImageScore[];
  byLabel: { label: string; images: number; iou: number; boundaryF: number }[];
  all: { images: number; iou: number; boundaryF: number };
  msPerImage: number;
}

/** Foreground pixels with a 4-neighbour inside the image that is background. */
function boundary(mask: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (!mask[i]) continue;
      if ((x > 0 && !mask[i - 1]) || (x < w - 1 && !mask[i + 1]) || (y > 0 && !mask[i - w]) || (y < h - 1 && !mask[i + w])) out[i] = 1;
    }
  return out;
}

/** Pixels within `r` px (Euclidean) of a set pixel. */
function dilate(src: Uint8Array, w: number, h: number, r: number): Uint8Array {
  const offsets: [number, number][] = [];
  for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) if (dx * dx + dy * dy <= r * r) offsets.push([dx, dy]);
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      if (!src[y * w + x]) continue;
      for (const [dx, dy] of offsets) {
        const xx = x + dx, yy = y + dy;
        if (xx >= 0 && yy >= 0 && xx < w && yy < h) out[yy * w + xx] = 1;
      }
    }
  return out;
}

export function maskIou(p: Uint8Array, g: Uint8Array): number {
  let inter = 0, union = 0;
  for (let i = 0; i < p.length; i++) {
    if (p[i] && g[i]) inter++;
    if (p[i] || g[i]) union++;
  }
  return union === 0 ? 1 : inter / union;
}

export function boundaryF(p: Uint8Array, g: Uint8Array, w: number, h: number, tolerance = 3): number {
  const bp = boundary(p, w, h), bg = boundary(g, w, h);
  const nearG = dilate(bg, w, h, tolerance), nearP = dilate(bp, w, h, tolerance);
  let np = 0, hitP = 0, ng = 0, hitG = 0;
  for (let i = 0; i < bp.length; i++) {
    if (bp[i]) (np++, nearG[i] && hitP++);
    if (bg[i]) (ng++, nearP[i] && hitG++);
  }
  const precision = np ? hitP / np : 0, recall = ng ? hitG / ng : 0;
  return precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
}

interface Entry {
  file: string;
  mask: string;
  label: string;
  dataset?: string;
}

export async function runMaskEvaluation(opts: { dataset: string; provider?: ExecutionProviderChoice; modelsDir?: string; threads?: number; limit?: number; log?: (m: string) => void }): Promise<MaskEvalReport> {
  const ann = JSON.parse(await readFile(join(opts.dataset, 'annotations.json'), 'utf8')) as { images: Entry[] };
  const entries = ann.images.slice(0, opts.limit ?? ann.images.length);
  const engine = await createDetectionEngine({ classes: ['person', 'vehicle'], provider: opts.provider ?? 'auto', modelsDir: opts.modelsDir, threads: opts.threads, log: () => {} });
  const scores: MaskImageScore[] = [];
  try {
    for (const e of entries) {
      // Pixels as stored: the masks are in the stored grid (no EXIF rotation is involved).
      const { data, info } = await sharp(join(opts.dataset, e.file)).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      const image: RgbImage = { data, width: info.width, height: info.height };
      const gt = await sharp(join(opts.dataset, e.mask)).extractChannel(0).raw().toBuffer();
      const start = performance.now();
      const { detections } = await engine.detect(image, { classes: ['person', 'vehicle'], thresholds: { ...DEFAULT_THRESHOLDS } });
      const alpha = await foregroundMask(image, selectForeground(detections, image.width, image.height));
      const ms = performance.now() - start;
      const p = new Uint8Array(alpha.length), g = new Uint8Array(alpha.length);
      for (let i = 0; i < alpha.length; i++) (p[i] = alpha[i]! >= 128 ? 1 : 0), (g[i] = gt[i]! >= 128 ? 1 : 0);
      const s = { file: e.file, label: e.label, dataset: e.dataset ? e.dataset.split(/[ (]/)[0]! : 'COCO', iou: maskIou(p, g), boundaryF: boundaryF(p, g, image.width, image.height), ms };
      scores.push(s);
      opts.log?.(`${e.file}\t${s.label}\t${s.dataset}\tIoU ${s.iou.toFixed(3)}\tF@3px ${s.boundaryF.toFixed(3)}\t${Math.round(ms)} ms`);
    }
  } finally {
    await engine.dispose();
  }
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : Number.NaN);
  const group = (list: MaskImageScore[]) => ({ images: list.length, iou: mean(list.map((s) => s.iou)), boundaryF: mean(list.map((s) => s.boundaryF)) });
  const labels = [...new Set(scores.map((s) => s.label))];
  return {
    dataset: opts.dataset,
    provider: engine.provider,
    images: scores,
    byLabel: labels.map((label) => ({ label, ...group(scores.filter((s) => s.label === label)) })),
    all: group(scores),
    msPerImage: mean(scores.map((s) => s.ms)),
  };
}

/** Floors of issue 13 (mean IoU per label). */
export const MASK_FLOORS: Record<string, number> = { vehicle: 0.85, person: 0.85 };

export function formatMaskTable(r: MaskEvalReport): string {
  const rows = [`label      images  IoU    F@3px  floor`];
  for (const l of r.byLabel) {
    const floor = MASK_FLOORS[l.label];
    rows.push(`${l.label.padEnd(10)} ${String(l.images).padStart(6)}  ${l.iou.toFixed(3)}  ${l.boundaryF.toFixed(3)}  ${floor === undefined ? '' : `${floor} ${l.iou >= floor ? 'met' : 'NOT met'}`}`);
  }
  rows.push(`${'all'.padEnd(10)} ${String(r.all.images).padStart(6)}  ${r.all.iou.toFixed(3)}  ${r.all.boundaryF.toFixed(3)}`);
  const sources = [...new Set(r.images.filter((s) => s.label === 'vehicle').map((s) => s.dataset))];
  for (const src of sources) {
    const list = r.images.filter((s) => s.label === 'vehicle' && s.dataset === src);
    const m = (k: 'iou' | 'boundaryF') => list.reduce((a, s) => a + s[k], 0) / list.length;
    rows.push(`  vehicle/${src.padEnd(8)} ${String(list.length).padStart(3)}  ${m('iou').toFixed(3)}  ${m('boundaryF').toFixed(3)}`);
  }
  const worst = [...r.images].sort((a, b) => a.iou - b.iou).slice(0, 5);
  rows.push(`worst: ${worst.map((s) => `${s.file.replace(/^images\//, '')} ${s.iou.toFixed(2)}`).join(', ')}`);
  rows.push(`${r.msPerImage.toFixed(0)} ms per image (detection + mask, ${r.provider})`);
  return rows.join('\n');
}
