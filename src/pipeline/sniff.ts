// Tells what a file really is from its first bytes, whatever the client's Content-Type says.
import { open } from 'node:fs/promises';

export type MediaKind = 'image' | 'video';

export interface SniffedType {
  kind: MediaKind;
  mime: string;
  /** Extension used for stored files. */
  ext: string;
}

const HEAD_BYTES = 64;

export function sniffBytes(head: Uint8Array): SniffedType | null {
  const b = head;
  const ascii = (start: number, end: number) => String.fromCharCode(...b.subarray(start, end));
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return { kind: 'image', mime: 'image/jpeg', ext: 'jpg' };
  if (b.length >= 8 && b[0] === 0x89 && ascii(1, 4) === 'PNG' && b[4] === 0x0d && b[5] === 0x0a) {
    return { kind: 'image', mime: 'image/png', ext: 'png' };
  }
  if (b.length >= 12 && ascii(4, 8) === 'ftyp') {
    const brand = ascii(8, 12);
    if (brand === 'qt  ') return { kind: 'video', mime: 'video/quicktime', ext: 'mov' };
    // HEIF/AVIF stills share the ISO-BMFF container but are not videos we take.
    if (/^(heic|heix|hevc|heim|heis|mif1|msf1|avif|avis)$/.test(brand)) return null;
    return { kind: 'video', mime: 'video/mp4', ext: 'mp4' };
  }
  if (b.length >= 4 && b[0] === 0x1a && b[1] === 0x45 && b[2] === 0xdf && b[3] === 0xa3) {
    const isWebm = Buffer.from(b).includes('webm');
    return isWebm ? { kind: 'video', mime: 'video/webm', ext: 'webm' } : { kind: 'video', mime: 'video/x-matroska', ext: 'mkv' };
  }
  if (b.length >= 12 && ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'AVI ') return { kind: 'video', mime: 'video/x-msvideo', ext: 'avi' };
  return null;
}

export async function sniffFile(path: string): Promise<SniffedType | null> {
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEAD_BYTES);
    const { bytesRead } = await handle.read(buf, 0, HEAD_BYTES, 0);
    return sniffBytes(buf.subarray(0, bytesRead));
  } finally {
    await handle.close();
  }
}

export const ACCEPTED_TYPES = 'JPEG or PNG images; MP4, MOV, MKV, WebM or AVI videos';
