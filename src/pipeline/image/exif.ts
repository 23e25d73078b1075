// EXIF privacy: only harmless tags survive into the outputs. Everything not listed here is dropped,
// in particular GPS, the IFD1 thumbnail (an unredacted copy of the photo), maker notes, serial numbers,
// owner names and free-text descriptions. Orientation is not copied: the pixels are already upright
// and the encoder writes orientation 1.
import exifReader from 'exif-reader';

type Kind = 'ascii' | 'int' | 'rational' | 'date';

const KEEP_IFD0: Record<string, Kind> = {
  Make: 'ascii',
  Model: 'ascii',
  Software: 'ascii',
  DateTime: 'date',
  Copyright: 'ascii',
};

const KEEP_EXIF: Record<string, Kind> = {
  DateTimeOriginal: 'date',
  DateTimeDigitized: 'date',
  OffsetTime: 'ascii',
  OffsetTimeOriginal: 'ascii',
  OffsetTimeDigitized: 'ascii',
  ExposureTime: 'rational',
  FNumber: 'rational',
  ExposureProgram: 'int',
  ISOSpeedRatings: 'int',
  ExposureBiasValue: 'rational',
  MeteringMode: 'int',
  Flash: 'int',
  FocalLength: 'rational',
  FocalLengthIn35mmFilm: 'int',
  WhiteBalance: 'int',
  LensMake: 'ascii',
  LensModel: 'ascii',
};

/** sharp's withExif input: IFD name → tag name → value as a string. */
export type ExifStrings = Record<string, Record<string, string>>;

/** exif-reader turns EXIF dates into UTC Date objects; EXIF wants "YYYY:MM:DD HH:MM:SS". */
function exifDate(d: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}:${p(d.getUTCMonth() + 1)}:${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

/** Nearest fraction with a denominator up to 10000 (EXIF stores rationals; exif-reader hands floats). */
export function toRational(x: number): string {
  if (Number.isInteger(x)) return `${x}/1`;
  if (Math.abs(x) < 1) {
    const inv = 1 / Math.abs(x);
    if (Math.abs(inv - Math.round(inv)) < 1e-6) return `${x < 0 ? -1 : 1}/${Math.round(inv)}`;
  }
  for (const den of [10, 100, 1000, 10000]) {
    const num = Math.round(x * den);
    if (Math.abs(num / den - x) < 1e-9 || den === 10000) return `${num}/${den}`;
  }
  return `${Math.round(x * 10000)}/10000`;
}

function stringify(value: unknown, kind: Kind): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined || first === null) return undefined;
  switch (kind) {
    case 'date':
      return first instanceof Date && !Number.isNaN(first.getTime()) ? exifDate(first) : undefined;
    case 'rational':
      return typeof first === 'number' && Number.isFinite(first) ? toRational(first) : undefined;
    case 'int':
      return typeof first === 'number' && Number.isInteger(first) ? String(first) : undefined;
    case 'ascii':
      return typeof first === 'string' ? first.replace(/\0+$/, '') : undefined;
  }
}

function pick(tags: Record<string, unknown> | undefined, keep: Record<string, Kind>): Record<string, string> {
  const out: Record<string, string> = {};
  if (!tags) return out;
  for (const [name, kind] of Object.entries(keep)) {
    const v = stringify(tags[name], kind);
    if (v !== undefined && v !== '') out[name] = v;
  }
  return out;
}

/** The harmless subset of an input's EXIF block, ready for sharp's withExif; empty when unreadable. */
export function harmlessExif(exif: Buffer | undefined): ExifStrings {
  if (!exif || exif.length < 8) return {};
  let parsed: ReturnType<typeof exifReader>;
  try {
    parsed = exifReader(exif);
  } catch {
    return {};
  }
  const ifd0 = pick(parsed.Image as Record<string, unknown> | undefined, KEEP_IFD0);
  const ifd2 = pick(parsed.Photo as Record<string, unknown> | undefined, KEEP_EXIF);
  const out: ExifStrings = {};
  if (Object.keys(ifd0).length) out.IFD0 = ifd0;
  if (Object.keys(ifd2).length) out.IFD2 = ifd2;
  return out;
}
