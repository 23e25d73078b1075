// Per-frame video metadata in Celantur's layout: `<stem>-<start>-<end>.json` in the output folder, each a
// JSON list of at most 500 frames (end inclusive) shaped by src/render/metadata.ts, written as the video
// streams through so that a long video never holds more than one batch of metadata in memory.

import { readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BadParameterError, NotFoundError } from '../../errors.ts';
import type { FrameMetadata } from '../../render/index.ts';

export type { FrameMetadata } from '../../render/index.ts';

export const FRAMES_PER_METADATA_FILE = 500;

export function metadataFileName(stem: string, start: number, end: number): string {
  return `${stem}-${start}-${end}.json`;
}

export class VideoMetadataWriter {
  private batch: FrameMetadata[] = [];
  private batchStart = 0;
  /** Paths of the files written so far. */
  readonly files: string[] = [];

  constructor(readonly dir: string, private readonly stem: string) {}

  async add(frame: FrameMetadata): Promise<void> {
    if (this.batch.length === 0) this.batchStart = frame.id;
    this.batch.push(frame);
    if (this.batch.length >= FRAMES_PER_METADATA_FILE) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    const start = this.batchStart;
    const end = this.batch[this.batch.length - 1]!.id;
    const file = join(this.dir, metadataFileName(this.stem, start, end));
    // Readers may list the folder while a video is processed: never show them half a file.
    await writeFile(`${file}.part`, JSON.stringify(this.batch));
    await rename(`${file}.part`, file);
    this.files.push(file);
    this.batch = [];
  }

  /** Removes what was written (a failed or aborted video leaves no metadata behind). */
  async discard(): Promise<void> {
    this.batch = [];
    await Promise.all(this.files.splice(0).flatMap((f) => [rm(f, { force: true }), rm(`${f}.part`, { force: true })]));
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
    return [];
  }
  const prefix = `${stem}-`;
  const batches: BatchName[] = [];
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith('.json')) continue;
    const match = /^(\d+)-(\d+)\.json$/.exec(name.slice(prefix.length));
    if (match) batches.push({ file: join(dir, name), start: Number(match[1]), end: Number(match[2]) });
  }
  // Batches start at 0 and follow each other: anything else is a different file that happens to share the prefix.
  batches.sort((a, b) => a.start - b.start);
  const chain: BatchName[] = [];
  for (const b of batches) if (b.start === (chain.length ? chain[chain.length - 1]!.end + 1 : 0) && b.end >= b.start) chain.push(b);
  return chain;
}

/** Whether `dir` holds video metadata of `stem` (batch mode skips such videos unless told to overwrite). */
export async function hasVideoMetadata(dir: string, stem: string): Promise<boolean> {
  return (await listBatches(dir, stem)).length > 0;
}

export interface VideoMetadataRange {
  start: number;
  end: number;
  totalFrames: number;
  /** True when the requested range was cut to the video's length or to 500 frames. */
  clamped: boolean;
  frames: FrameMetadata[];
}

/** Files written before the Celantur shape (in `<stem>_frames/`): `{start, end, frames: [{frame, ...}]}`. */
interface LegacyBatch {
  frames?: Array<Omit<FrameMetadata, 'id'> & { frame: number }>;
}

function fromLegacy(body: LegacyBatch): FrameMetadata[] {
  return (body.frames ?? []).map(({ frame, ...rest }) => ({ ...rest, id: frame }));
}

/**
 * Frames `start`..`end` (both inclusive, 0-based) of the metadata in `dir`, cut to the frames that exist
 * and to at most 500 frames (`clamped` says so).
 */
export async function readVideoMetadataRange(dir: string, stem: string, start: number, end: number): Promise<VideoMetadataRange> {
  if (!Number.isInteger(start) || start < 0) throw new BadParameterError('start', 'must be a whole number ≥ 0');
  if (!Number.isInteger(end) || end < start) throw new BadParameterError('end', 'must be a whole number ≥ start');
  const batches = await listBatches(dir, stem);
  if (batches.length === 0) throw new NotFoundError(`no video metadata for ${stem}`);
  const totalFrames = batches[batches.length - 1]!.end + 1;
  if (start >= totalFrames) throw new BadParameterError('start', `the video has ${totalFrames} frames (0..${totalFrames - 1})`);
  const lastFrame = Math.min(end, totalFrames - 1, start + FRAMES_PER_METADATA_FILE - 1);
  const frames: FrameMetadata[] = [];
  for (const batch of batches) {
    if (batch.end < start || batch.start > lastFrame) continue;
    const body = JSON.parse(await readFile(batch.file, 'utf8')) as FrameMetadata[] | LegacyBatch;
    for (const f of Array.isArray(body) ? body : fromLegacy(body)) if (f.id >= start && f.id <= lastFrame) frames.push(f);
  }
  return { start, end: lastFrame, totalFrames, clamped: lastFrame !== end, frames };
}

/** GET /v1/file/{id}/video/metadata: the list of frames `start`..`end`, as Celantur returns it. */
export async function readVideoMetadata(dir: string, stem: string, start: number, end: number): Promise<FrameMetadata[]> {
  return (await readVideoMetadataRange(dir, stem, start, end)).frames;
}
