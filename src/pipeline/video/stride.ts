// Detection stride: the detectors run on every Nth frame (`--detect-every N`), and the frames in
// between are held until the next detected frame (a look-ahead of N-1 frames), so that their boxes
// come from both ends:
//  - forward: each box of the earlier detected frame is followed frame by frame by a template
//    search of its patch on a small grey thumbnail (motion.ts), predicted from its last motion;
//  - a box that is found again in the later detected frame is placed, in each frame between, at its
//    forward-tracked position corrected by the tracking error seen at the later frame, in proportion
//    to the time (so it ends exactly on the later detection), with its size interpolated;
//  - a box only in the earlier frame keeps its forward-tracked position; a box only in the later
//    frame (it appeared, or the detector missed it before) is followed backwards by its patch;
//  - every such box grows with its distance (frames) from the nearest detection that placed it.
// A scene cut (the picture changes all at once) or a carried box whose patch can no longer be found
// forces a detection on that frame; the held frames before a cut (and at the end of the video) are
// closed by detecting the last of them.

import type { Box, Detection, RgbImage } from '../../types.ts';
import { cutTemplate, frameChange, greyThumb, matchTemplate, type GreyThumb, type Template } from './motion.ts';
import { iou } from './tracker.ts';

/** Default of --detect-every (chosen from bench/video.ts: see the README's performance table). */
export const DEFAULT_DETECT_EVERY = 3;

export interface StrideOptions {
  /** Run the detectors on every Nth frame (1: every frame, no carrying). */
  detectEvery: number;
  /** Luma-histogram distance (0..1) between consecutive frames from which the frame is a scene cut. */
  cutHistogram: number;
  /** Mean absolute luma difference (0..255) between consecutive frames from which the frame is a scene cut. */
  cutMeanAbsDiff: number;
  /** A carried box whose best template match is worse than this (mean abs luma difference) is lost. */
  lostCost: number;
  /** Search radius around the predicted position, thumbnail pixels. */
  searchRadius: number;
  /** A box tracked from one detection only grows by this fraction of its size per frame from it (both sides together). */
  growthPerFrame: number;
  /** A box placed between two detections grows by this fraction of its size per frame from the nearer of them. */
  betweenGrowthPerFrame: number;
}

export const DEFAULT_STRIDE_OPTIONS: StrideOptions = {
  detectEvery: DEFAULT_DETECT_EVERY,
  cutHistogram: 0.35,
  cutMeanAbsDiff: 45,
  lostCost: 40,
  searchRadius: 4,
  growthPerFrame: 0.06,
  betweenGrowthPerFrame: 0.09,
};

/** Why a frame is detected ('closing': the last held frame before a scene cut or the end), or 'carry'. */
export type StrideDecision = 'first' | 'stride' | 'scene-cut' | 'lost' | 'closing' | 'carry';

interface Carried {
  detection: Detection;
  /** The detected box, and its patch in the detected frame's thumbnail. */
  origin: Box;
  template: Template | null;
  /** Current shift of the box from `origin`, and the last per-frame change of it (full-resolution px). */
  dx: number;
  dy: number;
  vx: number;
  vy: number;
}

function grow(box: Box, fraction: number, margin: number): Box {
  const gx = ((box.x1 - box.x0) * fraction) / 2 + margin;
  const gy = ((box.y1 - box.y0) * fraction) / 2 + margin;
  return { x0: box.x0 - gx, y0: box.y0 - gy, x1: box.x1 + gx, y1: box.y1 + gy };
}

function shifted(box: Box, dx: number, dy: number): Box {
  return { x0: box.x0 + dx, y0: box.y0 + dy, x1: box.x1 + dx, y1: box.y1 + dy };
}

/** A detected frame, as the segment between two of them needs it. */
export interface Keyframe {
  index: number;
  detections: readonly Detection[];
  thumb: GreyThumb | null;
}

/** A frame between two detected ones: its thumbnail and where each box of the earlier detection was tracked to. */
export interface HeldFrame {
  index: number;
  thumb: GreyThumb | null;
  /** Index-aligned with the earlier keyframe's detections: the forward-tracked (not grown) box. */
  forward: Box[];
}

/**
 * Per frame: `plan(frame)` says whether to detect; after it, `forward()` holds where the boxes of the
 * last detected frame were tracked to on this frame. Then `detected(detections)` after running the
 * detectors on a planned frame. Frames must be planned in order. `fill()` places the boxes of the
 * frames held between two detected frames.
 */
export class StrideScheduler {
  readonly options: StrideOptions;
  private previous: GreyThumb | null = null;
  private current: GreyThumb | null = null;
  private carried: Carried[] = [];
  private sinceDetection = 0;
  private frames = 0;
  /** How many frames were detected, and why (for the bench and the logs). */
  readonly counts: Record<StrideDecision, number> = { first: 0, stride: 0, 'scene-cut': 0, lost: 0, closing: 0, carry: 0 };

  constructor(options: Partial<StrideOptions> = {}) {
    this.options = { ...DEFAULT_STRIDE_OPTIONS, ...options };
    if (!Number.isInteger(this.options.detectEvery) || this.options.detectEvery < 1) {
      throw new RangeError('detectEvery must be a positive integer');
    }
  }

  plan(frame: RgbImage): StrideDecision {
    const decision = this.decide(frame);
    this.counts[decision]++;
    this.frames++;
    if (decision === 'carry') this.sinceDetection++;
    return decision;
  }

  /** A frame planned 'carry' and held is detected after all, to close the held frames before a cut or the end. */
  closing(): void {
    this.counts.carry--;
    this.counts.closing++;
  }

  /** The thumbnail of the frame planned last (null at stride 1, where none is made). */
  get thumb(): GreyThumb | null {
    return this.current;
  }

  /** Where the boxes of the last detected frame are on the frame planned last (index-aligned with its detections). */
  forward(): Box[] {
    return this.carried.map((c) => shifted(c.origin, c.dx, c.dy));
  }

  private decide(frame: RgbImage): StrideDecision {
    const o = this.options;
    if (o.detectEvery === 1) return this.frames === 0 ? 'first' : 'stride';
    this.previous = this.current;
    this.current = greyThumb(frame);
    if (!this.previous) return 'first';
    const change = frameChange(this.previous, this.current);
    if (change.histogram >= o.cutHistogram || change.meanAbsDiff >= o.cutMeanAbsDiff) {
      this.carried = []; // nothing carries over a cut
      return 'scene-cut';
    }
    // Move every carried box now (also on a frame detected by stride: the later end of a segment is
    // matched with where the boxes were tracked to); one whose patch is gone wants a detection.
    let lost = false;
    for (const c of this.carried) {
      if (!c.template) {
        c.dx += c.vx;
        c.dy += c.vy;
        continue;
      }
      const f = this.current.factor;
      const m = matchTemplate(this.current, c.template, { dx: (c.dx + c.vx) / f, dy: (c.dy + c.vy) / f }, o.searchRadius);
      if (!m || m.cost > o.lostCost) {
        lost = true;
        c.dx += c.vx;
        c.dy += c.vy;
        continue;
      }
      c.vx = m.dx - c.dx;
      c.vy = m.dy - c.dy;
      c.dx = m.dx;
      c.dy = m.dy;
    }
    if (this.sinceDetection + 1 >= o.detectEvery) return 'stride';
    return lost ? 'lost' : 'carry';
  }

  /** After detecting the frame planned last: its detections become the boxes carried to the next frames. */
  detected(detections: readonly Detection[]): void {
    this.sinceDetection = 0;
    if (this.options.detectEvery === 1) return;
    const thumb = this.current!;
    const before = this.carried;
    this.carried = detections.map((d) => {
      // A box that continues a carried one keeps its velocity (the carried position is where it was expected).
      let vx = 0;
      let vy = 0;
      let bestOverlap = 0.3;
      for (const c of before) {
        if (c.detection.cls !== d.cls) continue;
        const overlap = iou(shifted(c.origin, c.dx, c.dy), d.box);
        if (overlap > bestOverlap) {
          bestOverlap = overlap;
          vx = c.vx;
          vy = c.vy;
        }
      }
      return { detection: d, origin: d.box, template: cutTemplate(thumb, d.box), dx: 0, dy: 0, vx, vy };
    });
  }

  /**
   * The boxes of the frames held between two detected frames `start` and `end` (`endForward`: where
   * the boxes of `start` were tracked to on `end`), one list per held frame, in order.
   */
  fill(start: Keyframe, held: readonly HeldFrame[], end: Keyframe, endForward: readonly Box[]): PlacedDetection[][] {
    return fillSegment(start, held, end, endForward, this.options);
  }
}

const centre = (b: Box) => ({ x: (b.x0 + b.x1) / 2, y: (b.y0 + b.y1) / 2 });

function boxAt(cx: number, cy: number, w: number, h: number): Box {
  return { x0: cx - w / 2, y0: cy - h / 2, x1: cx + w / 2, y1: cy + h / 2 };
}

/** Greedy pairs (start index → end index) of the same class whose tracked and detected boxes overlap. */
function matchEnds(start: Keyframe, end: Keyframe, endForward: readonly Box[]): Map<number, number> {
  const pairs: { i: number; j: number; overlap: number }[] = [];
  start.detections.forEach((a, i) => {
    end.detections.forEach((b, j) => {
      if (a.cls !== b.cls) return;
      const overlap = iou(endForward[i] ?? a.box, b.box);
      if (overlap >= 0.2) pairs.push({ i, j, overlap });
    });
  });
  pairs.sort((p, q) => q.overlap - p.overlap);
  const out = new Map<number, number>();
  const used = new Set<number>();
  for (const p of pairs) {
    if (out.has(p.i) || used.has(p.j)) continue;
    out.set(p.i, p.j);
    used.add(p.j);
  }
  return out;
}

function withoutMask({ mask: _mask, ...d }: Detection): Detection {
  // A mask (persons) is drawn where it was detected, so a box placed on another frame goes without it (the box is covered).
  return d;
}

/**
 * A box placed by the stride: `box` is the estimate (what the tracker links and extrapolates from),
 * `shown` the estimate grown by its uncertainty (what is anonymised and reported).
 */
export type PlacedDetection = Detection & { shown?: Box };

function placed(d: Detection, box: Box, fraction: number, margin: number): PlacedDetection {
  return { ...d, box, shown: grow(box, fraction, margin) };
}

export function fillSegment(start: Keyframe, held: readonly HeldFrame[], end: Keyframe, endForward: readonly Box[], o: StrideOptions): PlacedDetection[][] {
  const out: PlacedDetection[][] = held.map(() => []);
  if (held.length === 0) return out;
  const span = end.index - start.index;
  const margin = held[0]!.thumb?.factor ?? 1;
  const pairs = matchEnds(start, end, endForward);
  const matchedEnd = new Set(pairs.values());

  start.detections.forEach((a, i) => {
    const j = pairs.get(i);
    const d = withoutMask(a);
    if (j === undefined) {
      // Only in the earlier frame: where it was tracked to, grown with the frames since.
      held.forEach((h, k) => out[k]!.push(placed(d, h.forward[i] ?? a.box, o.growthPerFrame * (h.index - start.index), margin)));
      return;
    }
    const b = end.detections[j]!;
    const tracked = endForward[i] ?? a.box;
    const err = { x: centre(b.box).x - centre(tracked).x, y: centre(b.box).y - centre(tracked).y };
    held.forEach((h, k) => {
      const t = (h.index - start.index) / span;
      const f = centre(h.forward[i] ?? a.box);
      const w = a.box.x1 - a.box.x0 + (b.box.x1 - b.box.x0 - (a.box.x1 - a.box.x0)) * t;
      const hh = a.box.y1 - a.box.y0 + (b.box.y1 - b.box.y0 - (a.box.y1 - a.box.y0)) * t;
      const near = Math.min(h.index - start.index, end.index - h.index);
      out[k]!.push(placed({ ...d, score: Math.min(a.score, b.score) }, boxAt(f.x + err.x * t, f.y + err.y * t, w, hh), o.betweenGrowthPerFrame * near, margin));
    });
  });

  end.detections.forEach((b, j) => {
    if (matchedEnd.has(j)) return;
    // Only in the later frame (it appeared, or was missed before): followed backwards by its patch.
    const d = withoutMask(b);
    const template = end.thumb ? cutTemplate(end.thumb, b.box) : null;
    let dx = 0;
    let dy = 0;
    let vx = 0;
    let vy = 0;
    for (let k = held.length - 1; k >= 0; k--) {
      const h = held[k]!;
      if (template && h.thumb) {
        const f = h.thumb.factor;
        // Its motion is not known before the first step: that step searches twice as far.
        const radius = k === held.length - 1 ? 2 * o.searchRadius : o.searchRadius;
        const m = matchTemplate(h.thumb, template, { dx: (dx + vx) / f, dy: (dy + vy) / f }, radius);
        if (m && m.cost > o.lostCost) break;
        if (m) {
          vx = m.dx - dx;
          vy = m.dy - dy;
          dx = m.dx;
          dy = m.dy;
        } else {
          // Mostly outside the frame (it came in at an edge): on along its motion.
          dx += vx;
          dy += vy;
        }
      }
      out[k]!.push(placed(d, shifted(b.box, dx, dy), o.growthPerFrame * (end.index - h.index), margin));
    }
  });
  return out;
}
