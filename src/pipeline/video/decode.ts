// Decodes the first video stream to packed RGB24 frames, one at a time, over a pipe.
// The async iterator pulls from ffmpeg's stdout only when the consumer asks for the next frame, so
// a slow detector pauses the decoder (pipe backpressure) instead of letting frames pile up in memory.

import type { RgbImage } from '../../types.ts';
import { spawnFfmpeg, type FfmpegProcess } from './child.ts';
import type { Rational } from './ffmpeg.ts';

export interface FrameDecoder {
  frames: AsyncIterable<RgbImage>;
  process: FfmpegProcess;
}

/**
 * Constant-rate sources: one output frame per decoded frame (passthrough), so frame count and
 * timestamps match the source exactly. Variable-rate sources: the raw pipe cannot carry timestamps,
 * so frames are placed on a constant `cfrRate` grid (ffmpeg duplicates or drops frames to do so),
 * which keeps every frame within one frame period of its original time and the audio in sync.
 */
export function decoderArgs(inputPath: string, cfrRate?: Rational): string[] {
  return [
    '-hide_banner', '-nostdin', '-loglevel', 'error',
    '-i', inputPath,
    '-map', '0:v:0',
    ...(cfrRate ? ['-vsync', 'cfr', '-r', `${cfrRate.num}/${cfrRate.den}`] : ['-vsync', 'passthrough']),
    '-f', 'rawvideo', '-pix_fmt', 'rgb24',
    'pipe:1',
  ];
}

export function startDecoder(ffmpeg: string, inputPath: string, width: number, height: number, cfrRate?: Rational): FrameDecoder {
  const process = spawnFfmpeg(ffmpeg, decoderArgs(inputPath, cfrRate), ['ignore', 'pipe', 'pipe']);
  const frameBytes = width * height * 3;

  async function* frames(): AsyncGenerator<RgbImage> {
    const stdout = process.child.stdout!;
    let frame = Buffer.allocUnsafe(frameBytes);
    let filled = 0;
    for await (const chunk of stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        chunk.copy(frame, filled, offset, offset + take);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          yield { data: frame, width, height };
          frame = Buffer.allocUnsafe(frameBytes);
          filled = 0;
        }
      }
    }
    await process.exited;
    if (filled !== 0) throw new Error(`decoder ended inside a frame (${filled} of ${frameBytes} bytes)`);
  }

  return { frames: frames(), process };
}
