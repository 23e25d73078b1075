// Detection stride: the detectors run on every Nth frame (`--detect-every N`), and the boxes of the
// last detected frame are carried over the frames in between: moved by their motion (constant
// velocity), corrected each frame by a template search of the box's patch on a small grey thumbnail
// (motion.ts), and grown with the frames since the detection to cover what the estimate may miss.
// A scene cut (the picture changes all at once) or a carried box whose patch can no longer be found
// forces a detection on that frame.

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
  /** A carried box grows by this fraction of its size per frame since its detection (both sides together). */
  growthPerFrame: number;
}

export const DEFAULT_STRIDE_OPTIONS: StrideOptions = {
  detectEvery: DEFAULT_DETECT_EVERY,
  cutHistogram: 0.35,
  cutMeanAbsDiff: 45,
  lostCost: 40,
  searchRadius: 4,
  growthPerFrame: 0.06,
};

export type StrideDecision = 'first' | 'stride' | 'scene-cut' | 'lost' | 'carry';

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

/**
 * Per frame: `plan(frame)` says whether to detect; then either `detected(detections)` after running
 * the detectors, or `carry()` for the carried boxes. Frames must be planned in order.
 */
export class StrideScheduler {
  readonly options: StrideOptions;
  private previous: GreyThumb | null = null;
  private current: GreyThumb | null = null;
  private carried: Carried[] = [];
  private sinceDetection = 0;
  private frames = 0;
  /** How many frames were detected, and why (for the bench and the logs). */
  readonly counts: Record<StrideDecision, number> = { first: 0, stride: 0, 'scene-cut': 0, lost: 0, carry: 0 };

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
    return decision;
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
    if (this.sinceDetection + 1 >= o.detectEvery) return 'stride';
    // Move every carried box now; one whose patch is gone (occluded, left, changed) wants a detection.
    for (const c of this.carried) {
      if (!c.template) {
        c.dx += c.vx;
        c.dy += c.vy;
        continue;
      }
      const f = this.current.factor;
      const m = matchTemplate(this.current, c.template, { dx: (c.dx + c.vx) / f, dy: (c.dy + c.vy) / f }, o.searchRadius);
      if (!m || m.cost > o.lostCost) return 'lost';
      c.vx = m.dx - c.dx;
      c.vy = m.dy - c.dy;
      c.dx = m.dx;
      c.dy = m.dy;
    }
    return 'carry';
  }

  /** After detecting a planned frame: its detections become the boxes carried to the next frames. */
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

  /** The carried boxes of a frame planned as 'carry', grown by the uncertainty since the detection. */
  carry(): Detection[] {
    this.sinceDetection++;
    const k = this.sinceDetection;
    const margin = this.current?.factor ?? 1;
    // A mask (persons) is drawn where it was detected, so a carried box goes without it (the box is covered).
    return this.carried.map(({ detection: { mask: _mask, ...d }, origin, dx, dy }) => ({
      ...d,
      box: grow(shifted(origin, dx, dy), this.options.growthPerFrame * k, margin),
    }));
  }
}
