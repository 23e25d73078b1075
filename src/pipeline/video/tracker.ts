// Links detections across frames into tracks and fills the frames a detector missed, so that a face
// does not flash through unanonymised for a frame or two.
//
// Association: greedy IoU between each detection and each live track's constant-velocity prediction.
// The tracker holds `lookahead` frames before handing them out. By the time a frame leaves, the
// detections of the next `lookahead` frames are known, which allows three kinds of filled box:
//  - interpolated: the track was lost and found again within the window (linear between the two);
//  - predicted:    the track was lost and not (yet) found again (constant-velocity extrapolation,
//                  for at most `maxCoast` frames);
//  - backfilled:   the track first appears in a later frame (extrapolated backwards, `preRoll` frames).

import type { Box, Detection } from '../../types.ts';

/** 'tracked': placed by the detection stride (stride.ts) between two detected frames (or tracked from one), not detected on this frame. */
export type BoxSource = 'detected' | 'tracked' | 'interpolated' | 'predicted' | 'backfilled';

export interface TrackedDetection extends Detection {
  trackId: number;
  source: BoxSource;
}

export interface TrackedFrame<T> {
  index: number;
  payload: T;
  detections: TrackedDetection[];
}

export interface TrackerOptions {
  /** Frames held before a frame is handed out (bounds memory: this many frames are in flight). */
  lookahead: number;
  /** Frames a lost track keeps being anonymised at its predicted position. */
  maxCoast: number;
  /** Frames before a track's first detection that are anonymised too (at most `lookahead`). */
  preRoll: number;
  /** Minimum IoU between a detection and a track's prediction to continue that track. */
  iouThreshold: number;
  /** Extrapolated boxes grow by this fraction of their size per frame away from a real detection. */
  growthPerFrame: number;
  /** Frame size, to clip filled boxes; unclipped when absent. */
  frameWidth?: number;
  frameHeight?: number;
}

export const DEFAULT_TRACKER_OPTIONS: TrackerOptions = {
  lookahead: 6,
  maxCoast: 6,
  preRoll: 6,
  iouThreshold: 0.25,
  growthPerFrame: 0.04,
};

interface Observation {
  frame: number;
  box: Box;
  score: number;
}

interface Track {
  id: number;
  cls: Detection['cls'];
  /** Detected boxes in frame order; pruned to what emission still needs. */
  observations: Observation[];
  firstFrame: number;
  lastFrame: number;
  /** Per-frame change of x0, y0, x1, y1, smoothed. */
  velocity: Box;
}

interface BufferedFrame<T> {
  index: number;
  payload: T;
  detections: TrackedDetection[];
}

const ZERO: Box = { x0: 0, y0: 0, x1: 0, y1: 0 };

export function iou(a: Box, b: Box): number {
  const ix = Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0);
  const iy = Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0);
  if (ix <= 0 || iy <= 0) return 0;
  const inter = ix * iy;
  const union = (a.x1 - a.x0) * (a.y1 - a.y0) + (b.x1 - b.x0) * (b.y1 - b.y0) - inter;
  return union > 0 ? inter / union : 0;
}

function moved(box: Box, velocity: Box, frames: number): Box {
  return {
    x0: box.x0 + velocity.x0 * frames,
    y0: box.y0 + velocity.y0 * frames,
    x1: box.x1 + velocity.x1 * frames,
    y1: box.y1 + velocity.y1 * frames,
  };
}

function lerp(a: Box, b: Box, t: number): Box {
  return {
    x0: a.x0 + (b.x0 - a.x0) * t,
    y0: a.y0 + (b.y0 - a.y0) * t,
    x1: a.x1 + (b.x1 - a.x1) * t,
    y1: a.y1 + (b.y1 - a.y1) * t,
  };
}

function grown(box: Box, fraction: number): Box {
  const dx = ((box.x1 - box.x0) * fraction) / 2;
  const dy = ((box.y1 - box.y0) * fraction) / 2;
  return { x0: box.x0 - dx, y0: box.y0 - dy, x1: box.x1 + dx, y1: box.y1 + dy };
}

export class LookaheadTracker<T> {
  private readonly options: TrackerOptions;
  private readonly tracks = new Map<number, Track>();
  private readonly buffer: BufferedFrame<T>[] = [];
  private nextFrame = 0;
  private nextTrackId = 1;

  constructor(options: Partial<TrackerOptions> = {}) {
    this.options = { ...DEFAULT_TRACKER_OPTIONS, ...options };
    if (this.options.lookahead < 0 || this.options.preRoll > this.options.lookahead) {
      throw new RangeError('preRoll must be between 0 and lookahead');
    }
  }

  /** Frames currently held (never more than lookahead + 1). */
  get pending(): number {
    return this.buffer.length;
  }

  /**
   * Adds the next frame's detections; returns the frames that became final (zero or one).
   * `carried`: the boxes were carried from an earlier frame (detection stride), not detected on this one.
   */
  push(payload: T, detections: readonly Detection[], carried = false): TrackedFrame<T>[] {
    const frame = this.nextFrame++;
    const tracked = this.associate(frame, detections, carried ? 'tracked' : 'detected');
    this.buffer.push({ index: frame, payload, detections: tracked });
    return this.buffer.length > this.options.lookahead ? [this.emitOldest()] : [];
  }

  /** Hands out every held frame (end of video). */
  flush(): TrackedFrame<T>[] {
    const out: TrackedFrame<T>[] = [];
    while (this.buffer.length > 0) out.push(this.emitOldest());
    return out;
  }

  private associate(frame: number, detections: readonly Detection[], source: 'detected' | 'tracked'): TrackedDetection[] {
    const { iouThreshold, maxCoast } = this.options;
    const pairs: Array<{ iou: number; det: number; track: Track }> = [];
    for (const track of this.tracks.values()) {
      const gap = frame - track.lastFrame;
      if (gap > maxCoast + 1) continue;
      const predicted = moved(track.observations[track.observations.length - 1]!.box, track.velocity, gap);
      detections.forEach((d, i) => {
        if (d.cls !== track.cls) return;
        const overlap = iou(d.box, predicted);
        if (overlap >= iouThreshold) pairs.push({ iou: overlap, det: i, track });
      });
    }
    pairs.sort((a, b) => b.iou - a.iou);
    const trackOf = new Map<number, Track>();
    const usedTracks = new Set<number>();
    for (const p of pairs) {
      if (trackOf.has(p.det) || usedTracks.has(p.track.id)) continue;
      trackOf.set(p.det, p.track);
      usedTracks.add(p.track.id);
    }

    return detections.map((d, i) => {
      let track = trackOf.get(i);
      if (track) {
        const last = track.observations[track.observations.length - 1]!;
        const dt = frame - last.frame;
        const step: Box = {
          x0: (d.box.x0 - last.box.x0) / dt,
          y0: (d.box.y0 - last.box.y0) / dt,
          x1: (d.box.x1 - last.box.x1) / dt,
          y1: (d.box.y1 - last.box.y1) / dt,
        };
        track.velocity = track.observations.length === 1 ? step : lerp(track.velocity, step, 0.5);
        track.lastFrame = frame;
      } else {
        track = { id: this.nextTrackId++, cls: d.cls, observations: [], firstFrame: frame, lastFrame: frame, velocity: ZERO };
        this.tracks.set(track.id, track);
      }
      track.observations.push({ frame, box: d.box, score: d.score });
      return { ...d, trackId: track.id, source };
    });
  }

  private emitOldest(): TrackedFrame<T> {
    const entry = this.buffer.shift()!;
    const e = entry.index;
    const present = new Set(entry.detections.map((d) => d.trackId));
    const filled: TrackedDetection[] = [];
    for (const track of this.tracks.values()) {
      if (present.has(track.id)) continue;
      const fill = this.fillFor(track, e);
      if (fill) filled.push(fill);
    }
    for (const track of [...this.tracks.values()]) {
      if (e > track.lastFrame + this.options.maxCoast) this.tracks.delete(track.id);
      else this.prune(track, e);
    }
    return { index: e, payload: entry.payload, detections: [...entry.detections, ...filled] };
  }

  private fillFor(track: Track, e: number): TrackedDetection | null {
    const { preRoll, maxCoast, growthPerFrame } = this.options;
    const obs = track.observations;
    let box: Box;
    let score: number;
    let source: BoxSource;
    if (e < track.firstFrame) {
      const ahead = track.firstFrame - e;
      if (ahead > preRoll) return null;
      const first = obs[0]!;
      const second = obs[1];
      const velocity = second ? moved(ZERO, { x0: second.box.x0 - first.box.x0, y0: second.box.y0 - first.box.y0, x1: second.box.x1 - first.box.x1, y1: second.box.y1 - first.box.y1 }, 1 / (second.frame - first.frame)) : ZERO;
      box = grown(moved(first.box, velocity, -ahead), growthPerFrame * ahead);
      score = first.score;
      source = 'backfilled';
    } else {
      let prevIdx = -1;
      for (let i = 0; i < obs.length && obs[i]!.frame < e; i++) prevIdx = i;
      if (prevIdx < 0) return null;
      const prev = obs[prevIdx]!;
      const next = obs[prevIdx + 1];
      if (next) {
        box = lerp(prev.box, next.box, (e - prev.frame) / (next.frame - prev.frame));
        score = Math.min(prev.score, next.score);
        source = 'interpolated';
      } else {
        const behind = e - prev.frame;
        if (behind > maxCoast) return null;
        box = grown(moved(prev.box, track.velocity, behind), growthPerFrame * behind);
        score = prev.score;
        source = 'predicted';
      }
    }
    const clipped = this.clip(box);
    if (!clipped) return null;
    return { cls: track.cls, score, box: clipped, trackId: track.id, source };
  }

  private clip(box: Box): Box | null {
    const w = this.options.frameWidth ?? Infinity;
    const h = this.options.frameHeight ?? Infinity;
    const out = {
      x0: Math.max(0, Math.round(box.x0)),
      y0: Math.max(0, Math.round(box.y0)),
      x1: Math.min(w, Math.round(box.x1)),
      y1: Math.min(h, Math.round(box.y1)),
    };
    return out.x1 - out.x0 >= 1 && out.y1 - out.y0 >= 1 ? out : null;
  }

  /** Drops observations no later frame can need: all but the last one before the next frame to leave. */
  private prune(track: Track, emitted: number): void {
    const obs = track.observations;
    let keepFrom = 0;
    for (let i = 0; i < obs.length && obs[i]!.frame <= emitted; i++) keepFrom = i;
    // The first two observations stay while backfilling may still need them.
    if (track.firstFrame > emitted) return;
    if (keepFrom > 0) obs.splice(0, keepFrom);
  }
}
