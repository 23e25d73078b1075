// Locates the ffmpeg/ffprobe binaries and describes a media file with ffprobe.
// ffprobe is spawned directly (not through fluent-ffmpeg) because we want its raw JSON and exact
// stderr for error messages, and fluent-ffmpeg's ffprobe wrapper would add nothing but a callback.

import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, join } from 'node:path';
import { UndecodableFileError, withInternal } from '../../errors.ts';

export interface FfmpegBinaries {
  ffmpeg: string;
  ffprobe: string;
}

export interface Rational {
  num: number;
  den: number;
}

export interface AudioStreamInfo {
  index: number;
  codec: string;
  channels: number;
  sampleRate: number;
}

export interface MediaInfo {
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  container: string;
  /** Frame size as displayed, i.e. after applying `rotation` (what ffmpeg's decoder hands out). */
  width: number;
  height: number;
  /** Frame size as stored in the bitstream. */
  codedWidth: number;
  codedHeight: number;
  /** Clockwise degrees a player rotates the stored frames by: 0, 90, 180 or 270. */
  rotation: number;
  /** The output rate: ffprobe's r_frame_rate, or for variable-rate video with an implausible r_frame_rate, the average rate. */
  fps: Rational;
  avgFps: Rational;
  variableFrameRate: boolean;
  frameCount: number;
  /** Frames the pipeline will produce. False when estimated from duration × fps (no count in the container, or variable rate). */
  frameCountExact: boolean;
  durationSec: number;
  /** Seconds by which the video stream starts after the file's earliest stream (keeps A/V sync on re-encode). */
  videoStartOffsetSec: number;
  codec: string;
  pixelFormat: string;
  colour: { range?: string; space?: string; transfer?: string; primaries?: string };
  hasAudio: boolean;
  audio: AudioStreamInfo[];
  /** Container-level tags (title, creation_time, location, …) exactly as ffprobe reports them. */
  tags: Record<string, string>;
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findOnPath(name: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return null;
}

function fromInstallerPackage(pkg: string): string | null {
  try {
    const require = createRequire(import.meta.url);
    const path = (require(pkg) as { path?: unknown }).path;
    return typeof path === 'string' && isExecutable(path) ? path : null;
  } catch {
    // The installer packages are optional dependencies; absent or unsupported platform both mean "not here".
    return null;
  }
}

function resolveOne(envVar: string, name: string, pkg: string): string | null {
  const fromEnv = process.env[envVar];
  if (fromEnv && isExecutable(fromEnv)) return fromEnv;
  return findOnPath(name) ?? fromInstallerPackage(pkg);
}

let cached: FfmpegBinaries | null | undefined;

/** FFMPEG_PATH/FFPROBE_PATH, then PATH, then the optional @ffmpeg-installer/@ffprobe-installer packages. */
export function resolveFfmpeg(): FfmpegBinaries | null {
  if (cached !== undefined) return cached;
  const ffmpeg = resolveOne('FFMPEG_PATH', 'ffmpeg', '@ffmpeg-installer/ffmpeg');
  const ffprobe = resolveOne('FFPROBE_PATH', 'ffprobe', '@ffprobe-installer/ffprobe');
  cached = ffmpeg && ffprobe ? { ffmpeg, ffprobe } : null;
  return cached;
}

export function requireFfmpeg(): FfmpegBinaries {
  const binaries = resolveFfmpeg();
  if (!binaries) {
    throw new Error(
      'ffmpeg/ffprobe not found: set FFMPEG_PATH and FFPROBE_PATH, put them on PATH, or install @ffmpeg-installer/ffmpeg and @ffprobe-installer/ffprobe',
    );
  }
  return binaries;
}

/** Runs a binary to completion and returns stdout; rejects with the tail of stderr on a non-zero exit. */
export function runToCompletion(binary: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(Buffer.concat(out).toString('utf8'));
      else reject(new Error(`${binary} exited with ${code}: ${Buffer.concat(err).toString('utf8').trim().slice(-2000)}`));
    });
  });
}

export function parseRational(text: string | undefined): Rational | null {
  if (!text) return null;
  const [n, d = '1'] = text.split('/');
  const num = Number(n);
  const den = Number(d);
  if (!Number.isFinite(num) || !Number.isFinite(den) || num <= 0 || den <= 0) return null;
  return { num, den };
}

export function rationalToNumber(r: Rational): number {
  return r.num / r.den;
}

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  channels?: number;
  sample_rate?: string;
  color_range?: string;
  color_space?: string;
  color_transfer?: string;
  color_primaries?: string;
  tags?: Record<string, string>;
  side_data_list?: Array<{ side_data_type?: string; rotation?: number }>;
  disposition?: { attached_pic?: number };
}

interface ProbeOutput {
  streams?: ProbeStream[];
  format?: { format_name?: string; duration?: string; start_time?: string; tags?: Record<string, string> };
}

function rotationOf(stream: ProbeStream): number {
  // Older muxers write a "rotate" tag (clockwise); newer ffprobe reports a display matrix whose
  // rotation is counter-clockwise. Both mean the same thing to a player.
  const tag = stream.tags?.rotate;
  let degrees = tag !== undefined ? Number(tag) : 0;
  if (tag === undefined) {
    const matrix = stream.side_data_list?.find((s) => s.side_data_type === 'Display Matrix');
    if (matrix?.rotation !== undefined) degrees = -matrix.rotation;
  }
  const normalised = ((Math.round(degrees / 90) * 90) % 360 + 360) % 360;
  return Number.isFinite(normalised) ? normalised : 0;
}

async function countVideoPackets(ffprobe: string, path: string): Promise<number | null> {
  try {
    const text = await runToCompletion(ffprobe, [
      '-v', 'error', '-select_streams', 'v:0', '-count_packets',
      '-show_entries', 'stream=nb_read_packets', '-of', 'json', path,
    ]);
    const n = Number((JSON.parse(text) as { streams?: Array<{ nb_read_packets?: string }> }).streams?.[0]?.nb_read_packets);
    return Number.isFinite(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}

/** Describes the first video stream and the audio streams of a file; UndecodableFileError if there is no video. */
export async function probeMedia(path: string): Promise<MediaInfo> {
  const { ffprobe } = requireFfmpeg();
  let probe: ProbeOutput;
  try {
    const text = await runToCompletion(ffprobe, ['-v', 'error', '-show_format', '-show_streams', '-of', 'json', path]);
    probe = JSON.parse(text) as ProbeOutput;
  } catch (err) {
    // ffprobe's stderr names the server's paths and binary: log-only detail.
    throw withInternal(new UndecodableFileError('the file cannot be read as a video (corrupt or truncated data, or not a video)'), err);
  }
  const streams = probe.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  if (!video || !video.width || !video.height) throw new UndecodableFileError('the file has no video stream');

  const rFps = parseRational(video.r_frame_rate);
  const avgFps = parseRational(video.avg_frame_rate) ?? rFps;
  if (!rFps || !avgFps) throw new UndecodableFileError('the video stream has no frame rate');
  const variableFrameRate = Math.abs(rationalToNumber(rFps) - rationalToNumber(avgFps)) / rationalToNumber(rFps) > 0.001;
  // ffprobe's r_frame_rate of a variable-rate file is the rate that represents all its timestamps,
  // sometimes absurdly high (1000/1 in some WebM); then the average rate is the better grid.
  const fps = variableFrameRate && rationalToNumber(rFps) > 2 * rationalToNumber(avgFps) ? avgFps : rFps;

  const durationSec = Number(video.duration ?? probe.format?.duration ?? NaN);
  let frameCount = Number(video.nb_frames ?? NaN);
  let frameCountExact = Number.isFinite(frameCount) && frameCount > 0;
  if (variableFrameRate && Number.isFinite(durationSec)) {
    // Decoded onto a constant grid (see decode.ts), so the output count follows from the duration.
    frameCount = Math.round(durationSec * rationalToNumber(fps));
    frameCountExact = false;
  } else if (!frameCountExact) {
    const counted = await countVideoPackets(ffprobe, path);
    if (counted) {
      frameCount = counted;
      frameCountExact = true;
    } else {
      frameCount = Number.isFinite(durationSec) ? Math.round(durationSec * rationalToNumber(fps)) : 0;
    }
  }

  const rotation = rotationOf(video);
  const swapped = rotation === 90 || rotation === 270;
  const audio = streams
    .filter((s) => s.codec_type === 'audio')
    .map((s) => ({ index: s.index, codec: s.codec_name ?? 'unknown', channels: s.channels ?? 0, sampleRate: Number(s.sample_rate ?? 0) }));
  const fileStart = Number(probe.format?.start_time ?? 0) || 0;
  const videoStart = Number(video.start_time ?? fileStart) || 0;

  return {
    container: probe.format?.format_name ?? 'unknown',
    width: swapped ? video.height : video.width,
    height: swapped ? video.width : video.height,
    codedWidth: video.width,
    codedHeight: video.height,
    rotation,
    fps,
    avgFps,
    variableFrameRate,
    frameCount,
    frameCountExact,
    durationSec: Number.isFinite(durationSec) ? durationSec : frameCount / rationalToNumber(fps),
    videoStartOffsetSec: Math.max(0, videoStart - fileStart),
    codec: video.codec_name ?? 'unknown',
    pixelFormat: video.pix_fmt ?? 'unknown',
    colour: {
      range: video.color_range,
      space: video.color_space,
      transfer: video.color_transfer,
      primaries: video.color_primaries,
    },
    hasAudio: audio.length > 0,
    audio,
    tags: { ...(probe.format?.tags ?? {}) },
  };
}
