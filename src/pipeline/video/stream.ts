// The streaming video pipeline, as four steps with the cancellation checked between them:
//   open       probe (unless the task already holds the upload's probe), start decoder and encoder;
//   frame loop decode → detect (every Nth frame; the frames between are held and their boxes placed
//              from both detected ends: stride.ts) → track (look-ahead);
//   frame sink render → encode, plus per-frame metadata, while the next detected frame is detected;
//   finalise   flush the metadata, close the encoder, move the file into place.
// At most detectEvery + OVERLAP_FRAMES + lookahead + 2 frames are alive at once (the frames waiting
// for the next detected frame, the end of the last closed segment, the tracker's window, one being
// rendered/encoded, one read ahead); both pipes apply backpressure, so memory does not grow with video length.

import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { UndecodableFileError, UnsupportedCodecError, withInternal } from '../../errors.ts';
import type { Box, Detection, ProcessParams, RgbImage } from '../../types.ts';
import type { EngineResult } from '../../detect/engine.ts';
import type { DetectOptions } from '../../detect/types.ts';
import { startDecoder, type FrameDecoder } from './decode.ts';
import { audioCanBeCopied } from './encode-args.ts';
import { startEncoder, type FrameEncoder } from './encode.ts';
import { probeMedia, rationalToNumber, requireFfmpeg, type MediaInfo } from './ffmpeg.ts';
import { buildFrameMetadata } from '../../render/index.ts';
import { VideoMetadataWriter } from './metadata.ts';
import { LookaheadTracker, type TrackedFrame, type TrackerOptions } from './tracker.ts';
import { StrideScheduler, type HeldFrame, type Keyframe, type PlacedDetection, type StrideOptions } from './stride.ts';
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
  /** The upload's probe, stored on the task when it was accepted: the file is not probed again. */
  media?: MediaInfo;
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
/** Frames of a closed segment kept back to be rendered and encoded while the next detected frame is detected. */
const OVERLAP_FRAMES = 8;

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException('video processing was aborted', 'AbortError');
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

type Timings = Record<string, number>;

/** What the open step starts, and what the later steps share. */
interface OpenVideo {
  media: MediaInfo;
  fpsValue: number;
  decoder: FrameDecoder;
  encoder: FrameEncoder | null;
  metadata: VideoMetadataWriter;
  partPath: string;
  finalPath: string;
  stop(): void;
}

/** Step 1: probe once (or take the stored probe), create the output folder, start both ffmpeg processes. */
async function openVideo(job: VideoStreamJob, ffmpeg: string, timings: Timings): Promise<OpenVideo> {
  const t = performance.now();
  const media = job.media ?? (await probeMedia(job.inputPath));
  timings.probe = performance.now() - t;
  checkAborted(job.signal);
  const { width, height, fps } = media;
  await mkdir(job.outputDir, { recursive: true });
  checkAborted(job.signal);
  const partPath = join(job.outputDir, `${job.stem}.part.mp4`);
  const decoder = startDecoder(ffmpeg, job.inputPath, width, height, media.variableFrameRate ? fps : undefined);
  const encoder = job.params.method !== 'detect'
    ? startEncoder(ffmpeg, { inputPath: job.inputPath, outputPath: partPath, width, height, fps, quality: job.params.quality, media })
    : null;
  return {
    media,
    fpsValue: rationalToNumber(fps),
    decoder,
    encoder,
    metadata: new VideoMetadataWriter(job.outputDir, job.stem),
    partPath,
    finalPath: join(job.outputDir, `${job.stem}.mp4`),
    stop: () => {
      decoder.process.kill();
      encoder?.process.kill();
    },
  };
}

/** Step 3: renders and encodes finished frames one at a time, each while the next frame is detected. */
class FrameSink {
  framesDone = 0;
  /** Milliseconds of detection per frame index, until the frame is emitted. */
  readonly detectMs = new Map<number, number>();
  private pending: Promise<void> = Promise.resolve();

  constructor(private readonly video: OpenVideo, private readonly job: VideoStreamJob, private readonly timings: Timings) {}

  /** Waits for the previous frame, then starts this one without waiting for it. */
  async add(ready: TrackedFrame<RgbImage>): Promise<void> {
    await this.pending;
    checkAborted(this.job.signal);
    this.pending = this.emit(ready);
    this.pending.catch(() => {}); // awaited (and rethrown) before the next frame or in drain()
  }

  drain(): Promise<void> {
    return this.pending;
  }

  private async emit(ready: TrackedFrame<RgbImage>): Promise<void> {
    const { encoder, media, metadata, fpsValue } = this.video;
    const { job, timings } = this;
    // A box placed by the stride is anonymised and reported grown by its uncertainty (the tracker had the estimate).
    const detections = ready.detections.map(({ shown, ...d }: TrackedFrame<RgbImage>['detections'][number] & { shown?: Box }) => (shown ? { ...d, box: shown } : d));
    let anonymised = detections.map(() => false);
    let renderMs = 0;
    if (encoder) {
      let t = performance.now();
      const rendered = detections.length > 0 ? await job.render(ready.payload, detections, job.params) : { image: ready.payload, anonymised };
      anonymised = rendered.anonymised;
      renderMs = performance.now() - t;
      timings.render! += renderMs;
      t = performance.now();
      await encoder.write(rendered.image);
      timings.encodeWait! += performance.now() - t;
    }
    const frameDetectMs = this.detectMs.get(ready.index) ?? 0;
    this.detectMs.delete(ready.index);
    await metadata.add(
      buildFrameMetadata({
        frame: ready.index,
        timestamp: media.videoStartOffsetSec + ready.index / fpsValue,
        durationSeconds: (frameDetectMs + renderMs) / 1000,
        width: media.width,
        height: media.height,
        detections,
        anonymised,
      }),
    );
    this.framesDone++;
    if (this.framesDone % PROGRESS_EVERY_FRAMES === 0) job.onProgress?.(this.framesDone, Math.max(media.frameCount, this.framesDone));
  }
}

/** A decoded frame waiting for the detection that closes its segment (look-ahead), or ready for the tracker. */
interface Held {
  index: number;
  frame: RgbImage;
  thumb: HeldFrame['thumb'];
  forward: HeldFrame['forward'];
  detections?: Detection[];
  carried?: boolean;
}

/**
 * Step 2: decode → plan → detect every Nth frame → fill the frames between from both ends (look-ahead)
 * → track, handing finished frames to the sink. The frames of the last closed segment are rendered while
 * the next detected frame is detected (the detection is started first, the sink fed while it runs).
 */
async function frameLoop(video: OpenVideo, job: VideoStreamJob, sink: FrameSink, stride: StrideScheduler, timings: Timings): Promise<void> {
  const { media } = video;
  const { width, height } = media;
  const tracker = new LookaheadTracker<RgbImage>({ frameWidth: width, frameHeight: height, ...job.tracker });
  const detectOptions: DetectOptions = { classes: job.params.classes, thresholds: job.params.thresholds };
  const frames = video.decoder.frames[Symbol.asyncIterator]();
  // Read-ahead of one frame: the next frame comes through the pipe while this one is detected
  // (between the detector's awaits), instead of after it.
  const read = () => {
    const p = frames.next();
    p.catch(() => {}); // rethrown where it is awaited
    return p;
  };
  const clip = (ds: PlacedDetection[]) =>
    ds.map((d) => ({ ...d, box: clipBox(d.box, width, height), ...(d.shown && { shown: clipBox(d.shown, width, height) }) })).filter((d) => d.box.x1 > d.box.x0 && d.box.y1 > d.box.y0);
  /** Frames since the last detected frame, waiting for the next one. */
  let waiting: Held[] = [];
  /** Frames whose boxes are known, for the tracker and the sink. */
  let ready: Held[] = [];
  let start: Keyframe | null = null;

  /** Hands frames with known boxes to the tracker, and what it finishes to the sink. */
  const track = async (frames: Held[]) => {
    for (const h of frames) for (const done of tracker.push(h.frame, h.detections!, h.carried)) await sink.add(done);
  };
  const feed = async () => {
    const out = ready;
    ready = [];
    await track(out);
  };

  /** Detects `key` (the frame planned last, or the last waiting one when `closing`) and fills the frames waiting before it. */
  const detectKey = async (key: Held, learn: boolean) => {
    let t = performance.now();
    const detecting = job.detector.detect(key.frame, detectOptions);
    detecting.catch(() => {}); // awaited below
    let spent = performance.now() - t;
    await feed(); // renders and encodes the previous segment while the detection runs (once it runs off the JS thread)
    t = performance.now();
    const detections = (await detecting).detections;
    spent += performance.now() - t;
    timings.detect! += spent;
    sink.detectMs.set(key.index, spent);
    const end: Keyframe = { index: key.index, detections, thumb: key.thumb };
    if (start && waiting.length > 0) {
      const boxes = stride.fill(start, waiting, end, key.forward);
      waiting.forEach((h, k) => ready.push({ ...h, detections: clip(boxes[k]!), carried: true }));
    } else {
      ready.push(...waiting.map((h) => ({ ...h, detections: [], carried: true })));
    }
    waiting = [];
    ready.push({ ...key, detections, carried: false });
    // Only the last few wait to be rendered during the next detection: memory stays bounded at large strides.
    if (ready.length > OVERLAP_FRAMES) {
      await track(ready.splice(0, ready.length - OVERLAP_FRAMES));
    }
    if (learn) stride.detected(detections);
    start = end;
  };

  /** The frames waiting without a later detected frame (before a cut, at the end): the last of them is detected. */
  const close = async () => {
    const last = waiting.pop();
    if (!last) return;
    stride.closing();
    await detectKey(last, false);
  };

  let ahead = read();
  for (let index = 0; ; index++) {
    let t = performance.now();
    const current = ahead;
    const next = await current.catch((err: Error) => {
      checkAborted(job.signal);
      // ffmpeg's stderr names paths and binaries: it goes to the log (internal), not to the user.
      if (/decoder .*not found|unknown codec|no decoder|codec not currently supported/i.test(err.message)) {
        throw withInternal(new UnsupportedCodecError(media.codec), err);
      }
      throw withInternal(new UndecodableFileError('the video cannot be decoded (corrupt or truncated data)'), err);
    });
    timings.decodeWait! += performance.now() - t;
    checkAborted(job.signal);
    if (next.done) break;
    ahead = read();
    t = performance.now();
    const decision = stride.plan(next.value);
    const held: Held = { index, frame: next.value, thumb: stride.thumb, forward: stride.forward() };
    const planMs = performance.now() - t;
    timings.detect! += planMs;
    if (decision === 'carry') {
      sink.detectMs.set(index, planMs);
      waiting.push(held);
      continue;
    }
    if (decision === 'scene-cut') await close();
    await detectKey(held, true);
  }
  await close();
  await feed();
  for (const done of tracker.flush()) await sink.add(done);
  await sink.drain();
}

/** Step 4: the metadata files and the finished video, moved into place only when complete. */
async function finaliseVideo(video: OpenVideo, sink: FrameSink, signal: AbortSignal | undefined): Promise<void> {
  checkAborted(signal);
  if (sink.framesDone === 0) throw new UndecodableFileError('the video has no decodable frames');
  await video.metadata.flush();
  checkAborted(signal);
  if (video.encoder) {
    await video.encoder.finish();
    checkAborted(signal);
    await rename(video.partPath, video.finalPath);
  }
}

export async function runVideoStream(job: VideoStreamJob): Promise<VideoStreamResult> {
  const { ffmpeg } = requireFfmpeg();
  const started = performance.now();
  const timings: Timings = { probe: 0, decodeWait: 0, detect: 0, render: 0, encodeWait: 0, finalise: 0, total: 0 };
  checkAborted(job.signal);

  const video = await openVideo(job, ffmpeg, timings);
  const stride = new StrideScheduler(job.stride);
  const sink = new FrameSink(video, job, timings);
  job.signal?.addEventListener('abort', video.stop, { once: true });
  try {
    checkAborted(job.signal);
    await frameLoop(video, job, sink, stride, timings);
    const t = performance.now();
    await finaliseVideo(video, sink, job.signal);
    timings.finalise = performance.now() - t;
  } catch (err) {
    video.stop();
    await sink.drain().catch(() => {});
    await rm(video.partPath, { force: true });
    await video.metadata.discard();
    checkAborted(job.signal);
    throw err;
  } finally {
    job.signal?.removeEventListener('abort', video.stop);
  }

  const { media, fpsValue, encoder, metadata } = video;
  const framesDone = sink.framesDone;
  job.onProgress?.(framesDone, framesDone);
  timings.total = performance.now() - started;
  const writesVideo = encoder !== null;
  const audioCopied = media.audio.every((a) => audioCanBeCopied(a.codec));
  return {
    outputs: { anonymised: encoder ? video.finalPath : undefined, metadataDir: job.outputDir, metadataFiles: [...metadata.files] },
    frames: framesDone,
    fps: fpsValue,
    width: media.width,
    height: media.height,
    durationSec: framesDone / fpsValue,
    hasAudio: media.hasAudio,
    audio: !media.hasAudio || !writesVideo ? 'none' : audioCopied ? 'copied' : 're-encoded to aac',
    media,
    detectedFrames: { ...stride.counts },
    timings,
  };
}
