// Checks, before a task is accepted, that an upload can really be decoded, so that a broken file is a
// 422 at once instead of a task that fails later.
import sharp from 'sharp';
import { UnsupportedMediaTypeError } from '../errors.ts';
import { sniffFile, ACCEPTED_TYPES, type SniffedType } from './sniff.ts';
import { probeMedia, type MediaInfo } from './video/ffmpeg.ts';
import { checkImageSize, readStrictly } from './image/decode.ts';
import { checkPixels, DEFAULT_LIMITS, type MediaLimits } from './limits.ts';

/** What the check found: the type, and for a video its probe (stored on the task, so that the pipeline does not probe again). */
export interface ProbedUpload extends SniffedType {
  media?: MediaInfo;
}

/**
 * 415 when the bytes are not a type we take, 422 (undecodable_file, too_many_pixels, unsupported_codec) when
 * they cannot be processed. Messages carry no path or tool output.
 */
export async function probeUpload(path: string, limits: MediaLimits = DEFAULT_LIMITS): Promise<ProbedUpload> {
  const type = await sniffFile(path);
  if (!type) throw new UnsupportedMediaTypeError(`the file is not an image or video we take (${ACCEPTED_TYPES})`);
  if (type.kind === 'image') {
    // The header's size first: a bomb is refused before a single pixel is decoded.
    await checkImageSize(path, type.mime, limits);
    // Decoding the smallest shrink-on-load version catches truncated and corrupt data cheaply.
    await readStrictly(type.mime, (options) => sharp(path, options).resize(64, 64, { fit: 'inside' }).raw().toBuffer(), limits);
  } else {
    const media = await probeMedia(path);
    checkPixels(media.codedWidth, media.codedHeight, limits);
    return { ...type, media };
  }
  return type;
}
