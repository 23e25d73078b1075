// Feeds rendered RGB frames to an ffmpeg encoder over stdin, waiting for the pipe to drain so that
// a slow encoder stalls the pipeline rather than buffering frames in Node.

import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { RgbImage } from '../../types.ts';
import { spawnFfmpeg, type FfmpegProcess } from './child.ts';
import { encoderArgs, type EncoderSettings } from './encode-args.ts';

export interface FrameEncoder {
  write(frame: RgbImage): Promise<void>;
  /** Closes stdin and waits for the file to be finalised. */
  finish(): Promise<void>;
  process: FfmpegProcess;
}

export function startEncoder(ffmpeg: string, settings: EncoderSettings): FrameEncoder {
  const process = spawnFfmpeg(ffmpeg, encoderArgs(settings), ['pipe', 'ignore', 'pipe']);
  const stdin = process.child.stdin as Writable;
  const frameBytes = settings.width * settings.height * 3;
  // An EPIPE when ffmpeg dies is reported through `exited` with ffmpeg's own message instead.
  stdin.on('error', () => {});

  return {
    process,
    async write(frame) {
      if (frame.data.length !== frameBytes) {
        throw new Error(`frame has ${frame.data.length} bytes, the encoder expects ${frameBytes}`);
      }
      if (!stdin.write(frame.data)) {
        await Promise.race([once(stdin, 'drain'), process.exited]);
      }
    },
    async finish() {
      stdin.end();
      await process.exited;
    },
  };
}
