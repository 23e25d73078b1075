// Video anonymisation: the entry point the task runner and the batch CLI call.

import type { DetectionEngine } from '../../detect/engine.ts';
import { anonymise } from '../../render/index.ts';
import type { ProcessParams } from '../../types.ts';
import { runVideoStream } from './stream.ts';

export { probeMedia, resolveFfmpeg, type MediaInfo, type Rational } from './ffmpeg.ts';
export { readVideoMetadata, FRAMES_PER_METADATA_FILE, type FrameMetadata, type VideoMetadataRange } from './metadata.ts';
export { crfFromQuality } from './encode-args.ts';
export { LookaheadTracker, DEFAULT_TRACKER_OPTIONS, type TrackerOptions, type TrackedDetection } from './tracker.ts';

export interface VideoJob {
  id: string;
  inputPath: string;
  outputDir: string;
  stem: string;
  params: ProcessParams;
  engine: DetectionEngine;
  onProgress?: (framesDone: number, framesTotal: number) => void;
  signal?: AbortSignal;
}

export interface VideoResult {
  /** `anonymised` is `${stem}.mp4`, absent for method "detect"; `metadataDir` is `${stem}_frames`. */
  outputs: { anonymised?: string; metadataDir: string };
  frames: number;
  fps: number;
  width: number;
  height: number;
  durationSec: number;
  hasAudio: boolean;
  audio: 'copied' | 're-encoded to aac' | 'none';
  /** Milliseconds per stage; stages overlap, `total` is wall time. */
  timings: Record<string, number>;
}

export async function processVideo(job: VideoJob): Promise<VideoResult> {
  const result = await runVideoStream({
    inputPath: job.inputPath,
    outputDir: job.outputDir,
    stem: job.stem,
    params: job.params,
    detector: job.engine,
    render: anonymise,
    onProgress: job.onProgress,
    signal: job.signal,
  });
  const { media: _media, ...rest } = result;
  return rest;
}
