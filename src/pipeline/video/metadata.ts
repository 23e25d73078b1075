// Per-frame video metadata in Celantur's batch layout: `${stem}_frames/${stem}-<start>-<end>.json`,
// at most 500 frames per file (end inclusive), written as the video streams through so that a long
// video never holds more than one batch of metadata in memory.

import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadParameterError, NotFoundError } from '../../errors.ts';
import type { ObjectClass } from '../../types.ts';
import type { BoxSource } from './tracker.ts';

export const FRAMES_PER_METADATA_FILE = 500;

export interface FrameDetectionMetadata {
  /** Index of the detection within its frame. */
  id: number;
  track_id: number;
  type_label: ObjectClass;
  score: number;
  bbox: [number, number, number, number];
  is_anonymised: boolean;
  /** How the box was obtained: by the detector, or filled in by the tracker. */
  source: BoxSource;
}

export interface FrameMetadata {
  frame: number;
  /** Presentation time in seconds in the anonymised video. */
  timestamp: number;
  detections: FrameDetectionMetadata[];
}

export interface MetadataBatchFile {
  start: number;
  end: number;
  frames: FrameMetadata[];
}

export function metadataDirOf(outputDir: string, stem: string): string {
  return join(outputDir, `${stem}_frames`);
}

export class VideoMetadataWriter {
  private batch: FrameMetadata[] = [];
  private batchStart = 0;
  readonly dir: string;

  constructor(outputDir: string, private readonly stem: string) {
    this.dir = metadataDirOf(outputDir, stem);
  }

  async open(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async add(frame: FrameMetadata): Promise<void> {
    if (this.batch.length === 0) this.batchStart = frame.frame;
    this.batch.push(frame);
    if (this.batch.length >= FRAMES_PER_METADATA_FILE) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const start = this.batchStart;
    const end = this.batch[this.batch.length - 1]!.frame;
    const body: MetadataBatchFile = { start, end, frames: this.batch };
    const file = join(this.dir, `${this.stem}-${start}-${end}.json`);
    // Readers may list the folder while a video is processed: never show them half a file.
    await writeFile(`${file}.part`, JSON.stringify(body));
    await rename(`${file}.part`, file);
    this.batch = [];
  }
}

interface BatchName {
  file: string;
  start: number;
  end: number;
}

async function listBatches(dir: string, stem: string): Promise<BatchName[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    throw new NotFoundError(`no video metadata for ${stem}`);
  }
  const prefix = `${stem}-`;
  const batches: BatchName[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.json')) continue;
    const match = /^(\d+)-(\d+)\.json$/.exec(name.slice(prefix.length));
    if (match) batches.push({ file: join(dir, name), start: Number(match[1]), end: Number(match[2]) });
  }
  return batches.sort((a, b) => a.start - b.start);
}

export interface VideoMetadataRange {
  start: number;
  end: number;
  total_frames: number;
  /** True when the requested range was cut to the video's length or to 500 frames. */
  clamped: boolean;
  max_frames_per_request: number;
  frames: FrameMetadata[];
}

/**
 * Frames `start`..`end` (both inclusive, 0-based) for GET /v1/file/{id}/video/metadata.
 * The range is cut to the frames that exist and to at most 500 frames; `clamped` says so.
 */
export async function readVideoMetadata(outputDir: string, stem: string, start: number, end: number): Promise<VideoMetadataRange> {
  if (!Number.isInteger(start) || start < 0) throw new BadParameterError('start', 'must be a whole number ≥ 0');
  if (!Number.isInteger(end) || end < start) throw new BadParameterError('end', 'must be a whole number ≥ start');
  const batches = await listBatches(metadataDirOf(outputDir, stem), stem);
  if (batches.length === 0) throw new NotFoundError(`no video metadata for ${stem}`);
  const totalFrames = batches[batches.length - 1]!.end + 1;
  if (start >= totalFrames) throw new BadParameterError('start', `the video has ${totalFrames} frames (0..${totalFrames - 1})`);
  const lastFrame = Math.min(end, totalFrames - 1, start + FRAMES_PER_METADATA_FILE - 1);
  const frames: FrameMetadata[] = [];
  for (const batch of batches) {
    if (batch.end < start || batch.start > lastFrame) continue;
    const body = JSON.parse(await readFile(batch.file, 'utf8')) as MetadataBatchFile;
    for (const f of body.frames) if (f.frame >= start && f.frame <= lastFrame) frames.push(f);
  }
  return {
    start,
    end: lastFrame,
    total_frames: totalFrames,
    clamped: lastFrame !== end,
    max_frames_per_request: FRAMES_PER_METADATA_FILE,
    frames,
  };
}
