// The encoder's command line: raw RGB frames from stdin + the original file for audio and tags.

import type { MediaInfo, Rational } from './ffmpeg.ts';

/**
 * `quality` 1..100 → x264 CRF, linearly: CRF = round(51 − 0.39 × quality).
 * 100 → 12, 90 (default) → 16, 75 → 22, 50 → 32, 1 → 51. The default sits in x264's "visually
 * lossless" band on purpose: the output is a second generation, and anonymised regions are the only
 * change a user wants to see.
 */
export function crfFromQuality(quality: number): number {
  const q = Math.min(100, Math.max(1, Math.round(quality)));
  return Math.min(51, Math.max(0, Math.round(51 - 0.39 * q)));
}

/** Speed/size trade-off for libx264; detection dominates on CPU, so the encoder must stay cheap. */
export const X264_PRESET = 'veryfast';

// GPS positions live under several names: QuickTime's ©xyz ("location", "location-eng"),
// Apple's mdta "com.apple.quicktime.location.ISO6709", Android's "location", and vendor GPS keys.
const LOCATION_TAG = /location|gps|iso6709|xyz/i;
// Written by the muxer itself; copying the source's values would misdescribe our file.
const MUXER_TAGS = new Set(['major_brand', 'minor_version', 'compatible_brands', 'encoder']);

export function keptContainerTags(tags: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [key, value] of Object.entries(tags)) {
    if (LOCATION_TAG.test(key) || MUXER_TAGS.has(key.toLowerCase())) continue;
    kept[key] = value;
  }
  return kept;
}

// Audio codecs the MP4 muxer of our ffmpeg takes without "-strict experimental".
const MP4_AUDIO_CODECS = new Set(['aac', 'mp3', 'ac3', 'eac3', 'alac', 'mp2']);

export function audioCanBeCopied(codec: string): boolean {
  return MP4_AUDIO_CODECS.has(codec);
}

// Only names both ffprobe and the bundled ffmpeg 4.1 agree on; anything else stays untagged.
const COLOUR_SPACES = new Set(['bt709', 'bt470bg', 'smpte170m', 'smpte240m', 'bt2020nc', 'bt2020c', 'fcc', 'ycgco']);
const COLOUR_TRANSFERS = new Set(['bt709', 'gamma22', 'gamma28', 'smpte170m', 'smpte240m', 'linear', 'iec61966-2-1', 'bt2020-10', 'bt2020-12', 'smpte2084', 'arib-std-b67']);
const COLOUR_PRIMARIES = new Set(['bt709', 'bt470m', 'bt470bg', 'smpte170m', 'smpte240m', 'film', 'bt2020']);

function colourArgs(colour: MediaInfo['colour']): string[] {
  // Decoder and encoder both convert with swscale's default matrix, so the YUV values come back
  // close to the source's and the source's tags still describe them.
  const args = ['-color_range', 'tv'];
  if (colour.space && COLOUR_SPACES.has(colour.space)) args.push('-colorspace', colour.space);
  if (colour.transfer && COLOUR_TRANSFERS.has(colour.transfer)) args.push('-color_trc', colour.transfer);
  if (colour.primaries && COLOUR_PRIMARIES.has(colour.primaries)) args.push('-color_primaries', colour.primaries);
  return args;
}

export interface EncoderSettings {
  inputPath: string;
  outputPath: string;
  width: number;
  height: number;
  fps: Rational;
  quality: number;
  media: MediaInfo;
}

export function encoderArgs(s: EncoderSettings): string[] {
  const args = ['-hide_banner', '-nostdin', '-loglevel', 'error', '-y'];
  // Keeps A/V sync when the source's video starts after its audio.
  if (s.media.videoStartOffsetSec > 0.0005) args.push('-itsoffset', s.media.videoStartOffsetSec.toFixed(6));
  args.push(
    '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${s.width}x${s.height}`,
    '-framerate', `${s.fps.num}/${s.fps.den}`,
    '-i', 'pipe:0',
    '-i', s.inputPath,
    '-map', '0:v:0', '-map', '1:a?',
    '-c:v', 'libx264', '-preset', X264_PRESET, '-crf', String(crfFromQuality(s.quality)), '-pix_fmt', 'yuv420p',
    ...colourArgs(s.media.colour),
  );
  // 4:2:0 needs even sides and H.264 can only crop in steps of 2 there, so an odd-sized source comes
  // out one row/column larger, the extra edge repeating its neighbour (not black, not 4:4:4, which
  // many players cannot show).
  if (s.width % 2 || s.height % 2) {
    args.push('-vf', `pad=ceil(iw/2)*2:ceil(ih/2)*2:0:0,fillborders=right=${s.width % 2}:bottom=${s.height % 2}:mode=smear`);
  }
  // Tags are re-set one by one (not -map_metadata 1) so that GPS keys in any spelling are dropped.
  args.push('-map_metadata', '-1', '-map_metadata:s:v:0', '1:s:v:0', '-metadata:s:v:0', 'rotate=0');
  s.media.audio.forEach((a, i) => {
    args.push(`-c:a:${i}`, ...(audioCanBeCopied(a.codec) ? ['copy'] : ['aac', `-b:a:${i}`, '192k']));
    args.push(`-map_metadata:s:a:${i}`, `1:s:a:${i}`);
  });
  for (const [key, value] of Object.entries(keptContainerTags(s.media.tags))) args.push('-metadata', `${key}=${value}`);
  args.push('-movflags', '+faststart+use_metadata_tags', '-f', 'mp4', s.outputPath);
  return args;
}
