import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import exifReader from 'exif-reader';
import { processImage } from '../../src/pipeline/image/index.ts';
import { DEFAULT_PARAMS } from '../../src/types.ts';
import { redSquareEngine } from './fake-engine.ts';
import { buildPhoneExif, insertExif } from './phone-exif.ts';

/** As the viewer sees it: 240×160 grey noise with a red square at x 150..190, y 40..80. */
function uprightScene(): Buffer {
  const w = 240, h = 160;
  const data = Buffer.alloc(w * h * 3);
  let s = 7;
  for (let i = 0; i < w * h; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    const v = 100 + ((s >>> 16) % 56);
    data.fill(v, i * 3, i * 3 + 3);
  }
  for (let y = 40; y < 80; y++) for (let x = 150; x < 190; x++) data.set([255, 0, 0], (y * w + x) * 3);
  return data;
}

/**
 * A phone-style JPEG: pixels stored rotated (EXIF orientation 6 turns them upright), a Display P3
 * profile, an XMP packet with a face region, and EXIF with GPS, maker note, serial number and an
 * IFD1 thumbnail of the unredacted photo.
 */
async function phoneJpeg(): Promise<{ bytes: Buffer; thumbnail: Buffer; icc: Buffer }> {
  const raw = { raw: { width: 240, height: 160, channels: 3 as const } };
  const thumbnail = await sharp(uprightScene(), raw).resize(120, 80).jpeg({ quality: 70 }).toBuffer();
  const xmp = '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/" mwg-rs:Name="Jane Private"/></rdf:RDF></x:xmpmeta>';
  const stored = await sharp(uprightScene(), raw).rotate(270).withIccProfile('p3').withXmp(xmp).jpeg({ quality: 95 }).toBuffer();
  const bytes = insertExif(stored, buildPhoneExif({ orientation: 6, thumbnail }));
  const icc = (await sharp(bytes).metadata()).icc!;
  return { bytes, thumbnail, icc };
}

test('a rotated phone photo is anonymised where the face really is and leaks no GPS, thumbnail or maker note', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'exif-'));
  const { bytes, thumbnail, icc } = await phoneJpeg();
  const input = join(dir, 'phone.jpg');
  await writeFile(input, bytes);
  const inMeta = await sharp(bytes).metadata();
  assert.deepEqual([inMeta.width, inMeta.height, inMeta.orientation], [160, 240, 6], 'stored sideways');
  assert.ok(bytes.indexOf(thumbnail.subarray(0, 256)) > 0, 'the input carries the thumbnail');
  assert.ok(inMeta.xmp && exifReader(inMeta.exif!).GPSInfo && exifReader(inMeta.exif!).Thumbnail, 'the fixture has what must be stripped');

  const params = { ...structuredClone(DEFAULT_PARAMS), method: 'blacken' as const, bbox: true, classes: ['face' as const] };
  const result = await processImage({ id: 't1', inputPath: input, outputDir: join(dir, 'out'), stem: 'phone', params, engine: redSquareEngine() });
  assert.deepEqual([result.width, result.height], [240, 160], 'coordinates are those of the upright image');
  assert.equal(result.detections.length, 1);
  const b = result.detections[0].box;
  assert.ok(Math.abs(b.x0 - 150) <= 2 && Math.abs(b.y0 - 40) <= 2 && Math.abs(b.x1 - 190) <= 2 && Math.abs(b.y1 - 80) <= 2, JSON.stringify(b));

  const out = await readFile(result.outputs.anonymised!);
  const meta = await sharp(out).metadata();
  assert.deepEqual([meta.width, meta.height, meta.orientation ?? 1], [240, 160, 1]);
  const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  const at = (x: number, y: number) => Array.from(data.subarray((y * 240 + x) * 3, (y * 240 + x) * 3 + 3));
  assert.ok(at(170, 60).every((v) => v < 20), `the square is blackened: ${at(170, 60)}`);
  assert.ok(at(20, 20).every((v) => v > 80), 'elsewhere stays grey');

  const exif = exifReader(meta.exif!);
  assert.equal(exif.Image?.Make, 'PhoneMaker');
  assert.equal(exif.Image?.Model, 'Phone 12 Pro');
  assert.equal(exif.Image?.Orientation, 1);
  assert.equal(exif.Photo?.DateTimeOriginal?.toISOString(), '2024-05-06T07:08:09.000Z');
  assert.equal(exif.Photo?.ExposureTime, 1 / 120);
  assert.equal(exif.Photo?.FNumber, 1.8);
  assert.equal(exif.GPSInfo, undefined, 'no GPS');
  assert.equal(exif.Thumbnail, undefined, 'no IFD1 thumbnail');
  assert.equal(exif.Photo?.MakerNote, undefined, 'no maker note');
  assert.equal(exif.Photo?.BodySerialNumber, undefined, 'no serial number');
  assert.equal(exif.Image?.Artist, undefined, 'no personal name');
  assert.equal(out.indexOf(thumbnail.subarray(0, 256)), -1, 'the thumbnail bytes appear nowhere in the file');
  for (const secret of ['MAKERNOTE-SECRET', 'SN-0042', 'Jane Private']) assert.equal(out.indexOf(secret), -1, secret);
  assert.equal(meta.xmp, undefined, 'no XMP face regions');
  assert.ok(meta.icc?.equals(icc), 'the Display P3 profile is kept byte for byte');

  const json = JSON.parse(await readFile(result.outputs.metadata, 'utf8'));
  assert.deepEqual(json.size, [240, 160]);
  assert.deepEqual(json.detections[0].bbox.map((v: number) => Math.round(v / 10) * 10), [150, 40, 190, 80]);
});

test('a PNG with an ICC profile keeps it; pixels are not colour-converted', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'icc-'));
  const raw = { raw: { width: 240, height: 160, channels: 3 as const } };
  const png = await sharp(uprightScene(), raw).withIccProfile('p3').png().toBuffer();
  const input = join(dir, 'p3.png');
  await writeFile(input, png);
  const params = { ...structuredClone(DEFAULT_PARAMS), classes: ['face' as const] };
  const result = await processImage({ id: 't2', inputPath: input, outputDir: dir, stem: 'p3-out', params, engine: redSquareEngine() });
  const out = await readFile(result.outputs.anonymised!);
  const [inMeta, outMeta] = await Promise.all([sharp(png).metadata(), sharp(out).metadata()]);
  assert.ok(outMeta.icc?.equals(inMeta.icc!));
  const stored = await sharp(png).keepIccProfile().raw().toBuffer();
  const written = await sharp(out).keepIccProfile().raw().toBuffer();
  assert.ok(stored.subarray(0, 240 * 3 * 10).equals(written.subarray(0, 240 * 3 * 10)), 'rows far from the face are bit-exact');
});
