// Video anonymisation: the entry point the task runner and the batch CLI call.

import { anonymise } from '../../render/index.ts';
import type { MediaJob } from '../job.ts';
import { runVideoStream, type VideoStreamResult } from './stream.ts';
import type { MediaInfo } from './ffmpeg.ts';
import { DEFAULT_DETECT_EVERY } from './stride.ts';

export { probeMedia, resolveFfmpeg, type MediaInfo, type Rational } from './ffmpeg.ts';
export { readVideoMetadata, readVideoMetadataRange, hasVideoMetadata, FRAMES_PER_METADATA_FILE, type FrameMetadata, type VideoMetadataRange } from './metadata.ts';
export { crfFromQuality } from './encode-args.ts';
export { DEFAULT_DETECT_EVERY, StrideScheduler, type StrideOptions } from './stride.ts';
export { LookaheadTracker, DEFAULT_TRACKER_OPTIONS, type TrackerOptions, type TrackedDetection } from './tracker.ts';

export interface VideoJob extends MediaJob {
  onProgress?: (framesDone: number, framesTotal: number) => void;
  signal?: AbortSignal;
  /** Run the detectors on every Nth frame and carry the boxes between (default: the engine's --detect-every). */
  detectEvery?: number;
  /** The upload's probe (stored on the task); probed here when absent. */
  media?: MediaInfo;
}

/** `outputs.anonymised` is `${stem}.mp4`, absent for method "detect"; `outputs.metadataFiles` are `${stem}-<start>-<end>.json` beside it. */
export type VideoResult = Omit<VideoStreamResult, 'media'>;

export async function processVideo(job: VideoJob): Promise<VideoResult> {
  const result = await runVideoStream({
    inputPath: job.inputPath,
    outputDir: job.outputDir,
    stem: job.stem,
    params: job.params,
    detector: job.engine,
    render: anonymise,
    stride: { detectEvery: job.detectEvery ?? job.engine.detectEvery ?? DEFAULT_DETECT_EVERY },
    onProgress: job.onProgress,
    signal: job.signal,
    media: job.media,
  });
  const { media: _media, ...rest } = result;
  return rest;
}
