// The streaming loop: decode → detect → track (look-ahead) → render → encode, plus per-frame metadata.
// At most lookahead + 2 frames are alive at once (the tracker's window, one being rendered/encoded,
// one being detected); both pipes apply backpressure, so memory does not grow with video length.

import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UndecodableFileError, UnsupportedCodecError, withInternal } from '../../errors.ts';
import type { Detection, ProcessParams, RgbImage } from '../../types.ts';
import type { EngineResult } from '../../detect/engine.ts';
import type { DetectOptions } from '../../detect/types.ts';
import { startDecoder } from './decode.ts';
import { audioCanBeCopied } from './encode-args.ts';
import { startEncoder, type FrameEncoder } from './encode.ts';
import { probeMedia, rationalToNumber, requireFfmpeg, type MediaInfo } from './ffmpeg.ts';
import { buildFrameMetadata } from '../../render/index.ts';
import { VideoMetadataWriter } from './metadata.ts';
import { LookaheadTracker, type TrackedFrame, type TrackerOptions } from './tracker.ts';
import { StrideScheduler, type StrideOptions } from './stride.ts';
import { clipBox } from '../../detect/boxes.ts';

export interface FrameDetector {
  detect(image: RgbImage, options: DetectOptions): Promise<EngineResult>;
}

/** Draws the anonymisation of one frame; `anonymised[i]` tells whether detection i was rendered. */
export type FrameRenderer = (image: RgbImage, detections: Detection[], params: ProcessParams) => Promise<{ image: RgbImage; anonymised: boolean[] }>;

export interface VideoStreamJob {
  inputPath: string;
  outputDir: string;
  stem: string;
  params: ProcessParams;
  detector: FrameDetector;
  render: FrameRenderer;
  tracker?: Partial<TrackerOptions>;
  /** Detection stride (`detectEvery`) and its scene-cut and search settings; DEFAULT_STRIDE_OPTIONS when absent. */
  stride?: Partial<StrideOptions>;
  onProgress?: (framesDone: number, framesTotal: number) => void;
  signal?: AbortSignal;
}

export interface VideoStreamResult {
  /** `metadataDir` is the output folder, which holds `metadataFiles` (`<stem>-<start>-<end>.json`). */
  outputs: { anonymised?: string; metadataDir: string; metadataFiles: string[] };
  frames: number;
  fps: number;
  width: number;
  height: number;
  durationSec: number;
  hasAudio: boolean;
  /** What happened to the audio: copied bit for bit, or re-encoded to AAC for codecs MP4 cannot hold. */
  audio: 'copied' | 're-encoded to aac' | 'none';
  media: MediaInfo;
  /** Frames the detectors ran on, by reason, and frames whose boxes were carried ('carry'). */
  detectedFrames: StrideScheduler['counts'];
  /** Milliseconds. Stages overlap (detection of one frame runs while another is rendered and encoded). */
  timings: Record<string, number>;
}

const PROGRESS_EVERY_FRAMES = 5;

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('video processing was aborted', 'AbortError');
}

export async function runVideoStream(job: VideoStreamJob): Promise<VideoStreamResult> {
  const { ffmpeg } = requireFfmpeg();
  const started = performance.now();
  const timings: Record<string, number> = { probe: 0, decodeWait: 0, detect: 0, render: 0, encodeWait: 0, finalise: 0, total: 0 };
  job.signal?.throwIfAborted();

  const media = await probeMedia(job.inputPath);
  timings.probe = performance.now() - started;
  const { width, height, fps } = media;
  const fpsValue = rationalToNumber(fps);
  const writesVideo = job.params.method !== 'detect';
  const finalPath = join(job.outputDir, `${job.stem}.mp4`);
  const partPath = join(job.outputDir, `${job.stem}.part.mp4`);
  const metadataDir = job.outputDir;

  await mkdir(job.outputDir, { recursive: true });
  const metadata = new VideoMetadataWriter(metadataDir, job.stem);
  /** Milliseconds of detection per frame index, until the frame is emitted. */
  const detectMs = new Map<number, number>();
  let framesIn = 0;

  const decoder = startDecoder(ffmpeg, job.inputPath, width, height, media.variableFrameRate ? fps : undefined);
  let encoder: FrameEncoder | null = null;
  if (writesVideo) {
    encoder = startEncoder(ffmpeg, { inputPath: job.inputPath, outputPath: partPath, width, height, fps, quality: job.params.quality, media });
  }
  const stopProcesses = () => {
    decoder.process.kill();
    encoder?.process.kill();
  };
  job.signal?.addEventListener('abort', stopProcesses, { once: true });

  const tracker = new LookaheadTracker<RgbImage>({ frameWidth: width, frameHeight: height, ...job.tracker });
  const stride = new StrideScheduler(job.stride);
  const detectOptions: DetectOptions = { classes: job.params.classes, thresholds: job.params.thresholds };
  let framesDone = 0;

  const emit = async (ready: TrackedFrame<RgbImage>) => {
    let anonymised = ready.detections.map(() => false);
    let renderMs = 0;
    if (encoder) {
      let t = performance.now();
      const rendered = ready.detections.length > 0 ? await job.render(ready.payload, ready.detections, job.params) : { image: ready.payload, anonymised };
      anonymised = rendered.anonymised;
      renderMs = performance.now() - t;
      timings.render! += renderMs;
      t = performance.now();
      await encoder.write(rendered.image);
      timings.encodeWait! += performance.now() - t;
    }
    const frameDetectMs = detectMs.get(ready.index) ?? 0;
    detectMs.delete(ready.index);
    await metadata.add(
      buildFrameMetadata({
        frame: ready.index,
        timestamp: media.videoStartOffsetSec + ready.index / fpsValue,
        durationSeconds: (frameDetectMs + renderMs) / 1000,
        width,
        height,
        detections: ready.detections,
        anonymised,
      }),
    );
    framesDone++;
    if (framesDone % PROGRESS_EVERY_FRAMES === 0) job.onProgress?.(framesDone, Math.max(media.frameCount, framesDone));
  };

  // One frame is rendered and encoded while the next one is detected.
  let pendingEmit: Promise<void> = Promise.resolve();
  const queueEmit = async (ready: TrackedFrame<RgbImage>) => {
    await pendingEmit;
    pendingEmit = emit(ready);
    pendingEmit.catch(() => {}); // awaited (and rethrown) before the next frame or at the end
  };

  try {
    const frames = decoder.frames[Symbol.asyncIterator]();
    for (;;) {
      let t = performance.now();
      const next = await frames.next().catch((err: Error) => {
        if (job.signal?.aborted) throw abortError(job.signal);
        // ffmpeg's stderr names paths and binaries: it goes to the log (internal), not to the user.
        if (/decoder .*not found|unknown codec|no decoder|codec not currently supported/i.test(err.message)) {
          throw withInternal(new UnsupportedCodecError(media.codec), err);
        }
        throw withInternal(new UndecodableFileError('the video cannot be decoded (corrupt or truncated data)'), err);
      });
      timings.decodeWait! += performance.now() - t;
      if (job.signal?.aborted) throw abortError(job.signal);
      if (next.done) break;
      t = performance.now();
      const carry = stride.plan(next.value) === 'carry';
      let detections: Detection[];
      if (carry) {
        detections = stride.carry().map((d) => ({ ...d, box: clipBox(d.box, width, height) })).filter((d) => d.box.x1 > d.box.x0 && d.box.y1 > d.box.y0);
      } else {
        detections = (await job.detector.detect(next.value, detectOptions)).detections;
        stride.detected(detections);
      }
      const spent = performance.now() - t;
      timings.detect! += spent;
      detectMs.set(framesIn++, spent);
      for (const ready of tracker.push(next.value, detections, carry)) await queueEmit(ready);
    }
    for (const ready of tracker.flush()) await queueEmit(ready);
    await pendingEmit;
    if (job.signal?.aborted) throw abortError(job.signal);
    if (framesDone === 0) throw new UndecodableFileError('the video has no decodable frames');
    const t = performance.now();
    await metadata.flush();
    if (encoder) {
      await encoder.finish();
      await rename(partPath, finalPath);
    }
    timings.finalise = performance.now() - t;
  } catch (err) {
    stopProcesses();
    await pendingEmit.catch(() => {});
    await rm(partPath, { force: true });
    await metadata.discard();
    if (job.signal?.aborted) throw abortError(job.signal);
    throw err;
  } finally {
    job.signal?.removeEventListener('abort', stopProcesses);
  }

  job.onProgress?.(framesDone, framesDone);
  timings.total = performance.now() - started;
  const audioCopied = media.audio.every((a) => audioCanBeCopied(a.codec));
  return {
    outputs: { anonymised: encoder ? finalPath : undefined, metadataDir, metadataFiles: [...metadata.files] },
    frames: framesDone,
    fps: fpsValue,
    width,
    height,
    durationSec: framesDone / fpsValue,
    hasAudio: media.hasAudio,
    audio: !media.hasAudio || !writesVideo ? 'none' : audioCopied ? 'copied' : 're-encoded to aac',
    media,
    detectedFrames: { ...stride.counts },
    timings,
  };
}
