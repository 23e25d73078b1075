// Checks, before a task is accepted, that an upload can really be decoded, so that a broken file is a
// 422 at once instead of a task that fails later.
import sharp from 'sharp';
import { UndecodableFileError, UnsupportedMediaTypeError } from '../errors.ts';
import { sniffFile, ACCEPTED_TYPES, type SniffedType } from './sniff.ts';
import { probeMedia } from './video/ffmpeg.ts';
import { DECODE_OPTIONS } from './image/decode.ts';


export async function probeUpload(path: string): Promise<SniffedType> {
  const type = await sniffFile(path);
  if (!type) throw new UnsupportedMediaTypeError(`the file is not an image or video we take (${ACCEPTED_TYPES})`);
  if (type.kind === 'image') {
    try {
      const meta = await sharp(path, DECODE_OPTIONS).metadata();
      if (!meta.width || !meta.height) throw new Error('no image size');
      // Decoding the smallest shrink-on-load version catches truncated and corrupt data cheaply.
      await sharp(path, DECODE_OPTIONS).resize(64, 64, { fit: 'inside' }).raw().toBuffer();
    } catch (err) {
      throw new UndecodableFileError(`the ${type.mime} file cannot be decoded: ${(err as Error).message}`);
    }
  } else {
    await probeMedia(path);
  }
  return type;
}
