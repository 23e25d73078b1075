// Builds the EXIF block of a phone photo by hand (TIFF, little-endian): IFD0 with orientation, an Exif
// IFD with a maker note and a serial number, a GPS IFD and an IFD1 carrying a JPEG thumbnail — the
// parts sharp cannot write but real phones do, so the privacy filter can be tested against them.

type Entry = { tag: number; type: 2 | 3 | 4 | 5 | 7; value: string | number[] | Buffer };

const TYPE_SIZE = { 2: 1, 3: 2, 4: 4, 5: 8, 7: 1 } as const;

function count(e: Entry): number {
  if (e.type === 2) return Buffer.byteLength(e.value as string, 'latin1') + 1;
  if (e.type === 7) return (e.value as Buffer).length;
  if (e.type === 5) return (e.value as number[]).length / 2;
  return (e.value as number[]).length;
}

function valueBytes(e: Entry): Buffer {
  const n = count(e);
  const b = Buffer.alloc(n * TYPE_SIZE[e.type]);
  if (e.type === 2) b.write(e.value as string, 'latin1');
  else if (e.type === 7) (e.value as Buffer).copy(b);
  else (e.value as number[]).forEach((v, i) => (e.type === 3 ? b.writeUInt16LE(v, i * 2) : b.writeUInt32LE(v, i * 4)));
  return b;
}

function ifdSize(entries: Entry[]): number {
  const data = entries.reduce((s, e) => s + (valueBytes(e).length > 4 ? valueBytes(e).length + (valueBytes(e).length & 1) : 0), 0);
  return 2 + entries.length * 12 + 4 + data;
}

function writeIfd(out: Buffer, offset: number, entries: Entry[], next: number): void {
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  out.writeUInt16LE(sorted.length, offset);
  let data = offset + 2 + sorted.length * 12 + 4;
  sorted.forEach((e, i) => {
    const p = offset + 2 + i * 12;
    const bytes = valueBytes(e);
    out.writeUInt16LE(e.tag, p);
    out.writeUInt16LE(e.type, p + 2);
    out.writeUInt32LE(count(e), p + 4);
    if (bytes.length <= 4) bytes.copy(out, p + 8);
    else {
      out.writeUInt32LE(data, p + 8);
      bytes.copy(out, data);
      data += bytes.length + (bytes.length & 1);
    }
  });
  out.writeUInt32LE(next, offset + 2 + sorted.length * 12);
}

export interface PhoneExif {
  orientation: number;
  thumbnail: Buffer;
}

/** The APP1 payload ("Exif\0\0" + TIFF). */
export function buildPhoneExif({ orientation, thumbnail }: PhoneExif): Buffer {
  const ifd0: Entry[] = [
    { tag: 0x010f, type: 2, value: 'PhoneMaker' },
    { tag: 0x0110, type: 2, value: 'Phone 12 Pro' },
    { tag: 0x0112, type: 3, value: [orientation] },
    { tag: 0x0132, type: 2, value: '2024:05:06 07:08:09' },
    { tag: 0x013b, type: 2, value: 'Jane Private' }, // Artist: a name, dropped
    { tag: 0x8769, type: 4, value: [0] },
    { tag: 0x8825, type: 4, value: [0] },
  ];
  const exif: Entry[] = [
    { tag: 0x829a, type: 5, value: [1, 120] },
    { tag: 0x829d, type: 5, value: [18, 10] },
    { tag: 0x8827, type: 3, value: [200] },
    { tag: 0x9003, type: 2, value: '2024:05:06 07:08:09' },
    { tag: 0x920a, type: 5, value: [42, 10] },
    { tag: 0x927c, type: 7, value: Buffer.from('Apple iOS\0MAKERNOTE-SECRET-FACE-IDS') },
    { tag: 0xa431, type: 2, value: 'SN-0042-PRIVATE' },
  ];
  const gps: Entry[] = [
    { tag: 0x0001, type: 2, value: 'N' },
    { tag: 0x0002, type: 5, value: [48, 1, 8, 1, 3012, 100] },
    { tag: 0x0003, type: 2, value: 'E' },
    { tag: 0x0004, type: 5, value: [11, 1, 34, 1, 4410, 100] },
  ];
  const ifd1: Entry[] = [
    { tag: 0x0103, type: 3, value: [6] },
    { tag: 0x0201, type: 4, value: [0] },
    { tag: 0x0202, type: 4, value: [thumbnail.length] },
  ];
  const o0 = 8;
  const oExif = o0 + ifdSize(ifd0);
  const oGps = oExif + ifdSize(exif);
  const o1 = oGps + ifdSize(gps);
  const oThumb = o1 + ifdSize(ifd1);
  ifd0[5].value = [oExif];
  ifd0[6].value = [oGps];
  ifd1[1].value = [oThumb];
  const tiff = Buffer.alloc(oThumb + thumbnail.length);
  tiff.write('II', 0, 'latin1');
  tiff.writeUInt16LE(42, 2);
  tiff.writeUInt32LE(o0, 4);
  writeIfd(tiff, o0, ifd0, o1);
  writeIfd(tiff, oExif, exif, 0);
  writeIfd(tiff, oGps, gps, 0);
  writeIfd(tiff, o1, ifd1, 0);
  thumbnail.copy(tiff, oThumb);
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

/** Puts an APP1 EXIF segment right after the JPEG's SOI marker. */
export function insertExif(jpeg: Buffer, app1Payload: Buffer): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16BE(0xffe1, 0);
  header.writeUInt16BE(app1Payload.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), header, app1Payload, jpeg.subarray(2)]);
}
