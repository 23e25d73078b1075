// Video anonymisation: the entry point the task runner and the batch CLI call.

import { anonymise } from '../../render/index.ts';
import type { MediaJob } from '../job.ts';
import { runVideoStream, type VideoStreamResult } from './stream.ts';

export { probeMedia, resolveFfmpeg, type MediaInfo, type Rational } from './ffmpeg.ts';
export { readVideoMetadata, readVideoMetadataRange, hasVideoMetadata, FRAMES_PER_METADATA_FILE, type FrameMetadata, type VideoMetadataRange } from './metadata.ts';
export { crfFromQuality } from './encode-args.ts';
export { LookaheadTracker, DEFAULT_TRACKER_OPTIONS, type TrackerOptions, type TrackedDetection } from './tracker.ts';

export interface VideoJob extends MediaJob {
  onProgress?: (framesDone: number, framesTotal: number) => void;
  signal?: AbortSignal;
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
    onProgress: job.onProgress,
    signal: job.signal,
  });
  const { media: _media, ...rest } = result;
  return rest;
}
