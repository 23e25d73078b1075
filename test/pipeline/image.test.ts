import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { UndecodableFileError } from '../../src/errors.ts';
import { processImage, type ImageJob } from '../../src/pipeline/image/index.ts';
import type { ProcessParams } from '../../src/types.ts';
import { det, params, texturedImage } from '../render/helpers.ts';
import { fixedEngine } from './fake-engine.ts';

const W = 320;
const H = 240;
const face = det('face', { x0: 100, y0: 60, x1: 160, y1: 140 });
const faceOuter = { x0: 82, y0: 36, x1: 178, y1: 164 };

async function inputFile(format: 'jpeg' | 'png', alpha = false): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'imgpipe-'));
  const img = texturedImage(W, H);
  let s = sharp(img.data, { raw: { width: W, height: H, channels: 3 } });
  if (alpha) {
    const a = Buffer.alloc(W * H);
    for (let i = 0; i < a.length; i++) a[i] = (i % W) % 256;
    s = s.joinChannel(a, { raw: { width: W, height: H, channels: 1 } });
  }
  const path = join(dir, `in.${format === 'png' ? 'png' : 'jpg'}`);
  await writeFile(path, format === 'png' ? await s.png().toBuffer() : await s.jpeg({ quality: 95 }).toBuffer());
  return { dir, path };
}

function job(path: string, outputDir: string, p: Partial<ProcessParams> = {}, detections = [face]): ImageJob {
  return { id: 'task-42', inputPath: path, outputDir, stem: 'result', params: params(p), engine: fixedEngine(detections) };
}

test('PNG in, PNG out: alpha kept exactly, pixels outside the outer box bit-exact, inside changed', async () => {
  const { dir, path } = await inputFile('png', true);
  const r = await processImage(job(path, join(dir, 'out')));
  assert.equal(r.format, 'png');
  assert.deepEqual(Object.keys(r.outputs).filter((k) => r.outputs[k as keyof typeof r.outputs]).sort(), ['anonymised', 'binaryMask', 'instanceMask', 'metadata']);
  assert.ok(r.outputs.anonymised!.endsWith('out/result.png'));
  const input = await sharp(path).raw().toBuffer();
  const output = await sharp(r.outputs.anonymised!).raw().toBuffer({ resolveWithObject: true });
  assert.equal(output.info.channels, 4);
  let changedInside = 0;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = (y * W + x) * 4;
      assert.equal(output.data[p + 3], input[p + 3], 'alpha unchanged');
      const same = input.readUInt32BE(p) === output.data.readUInt32BE(p);
      const inOuter = x >= faceOuter.x0 && x < faceOuter.x1 && y >= faceOuter.y0 && y < faceOuter.y1;
      if (!inOuter) assert.ok(same, `pixel ${x},${y} outside changed: ${[...input.subarray(p, p + 4)]} → ${[...output.data.subarray(p, p + 4)]}`);
      else if (x >= face.box.x0 && x < face.box.x1 && y >= face.box.y0 && y < face.box.y1 && !same) changedInside++;
    }
  }
  assert.ok(changedInside > 0.9 * 60 * 80);
  const meta = JSON.parse(await readFile(r.outputs.metadata, 'utf8'));
  assert.equal(meta.id, 'in.png', "Celantur's id is the file name");
  assert.equal(meta.task_id, 'task-42');
  assert.equal(meta.filename, 'in.png');
  assert.equal(meta.folder, null);
  assert.equal(meta.detections[0].id, 0);
  const ins = await sharp(r.outputs.instanceMask!).raw().toBuffer({ resolveWithObject: true });
  const centre = (130 + 100 * W) * ins.info.channels;
  assert.equal(ins.data[centre + 1], meta.detections[0].id + 1, 'the instance mask G value is the metadata id + 1');
  assert.deepEqual(meta.size, [W, H]);
  assert.equal(meta.detections[0].parent_image, 'result.png');
  assert.equal(meta.detections[0].is_anonymised, true);
  assert.ok(meta.timings.decode > 0 && meta.timings.encode > 0 && 'detect.fixed' in meta.timings, JSON.stringify(meta.timings));
  assert.ok(r.timings.encode > 0);
});

test('JPEG quality and PNG compress-level take effect', async () => {
  const jpg = await inputFile('jpeg');
  const low = await processImage(job(jpg.path, join(jpg.dir, 'q30'), { quality: 30 }));
  const high = await processImage(job(jpg.path, join(jpg.dir, 'q95'), { quality: 95 }));
  assert.equal(low.format, 'jpeg');
  assert.ok(low.outputs.anonymised!.endsWith('result.jpg'));
  const [lowSize, highSize] = await Promise.all([stat(low.outputs.anonymised!), stat(high.outputs.anonymised!)]).then((s) => s.map((x) => x.size));
  assert.ok(lowSize < highSize * 0.6, `q30 ${lowSize} B vs q95 ${highSize} B`);
  const png = await inputFile('png');
  const fast = await processImage(job(png.path, join(png.dir, 'l0'), { compressLevel: 0 }));
  const small = await processImage(job(png.path, join(png.dir, 'l9'), { compressLevel: 9 }));
  const [fastSize, smallSize] = await Promise.all([stat(fast.outputs.anonymised!), stat(small.outputs.anonymised!)]).then((s) => s.map((x) => x.size));
  assert.ok(smallSize < fastSize * 0.95, `level 9 ${smallSize} B vs level 0 ${fastSize} B`);
  assert.ok((await sharp(fast.outputs.anonymised!).raw().toBuffer()).equals(await sharp(small.outputs.anonymised!).raw().toBuffer()), 'same pixels');
});

test('method detect writes masks and metadata but no image; save-mask and mask-scale choose the masks', async () => {
  const { dir, path } = await inputFile('jpeg');
  const detect = await processImage(job(path, join(dir, 'detect'), { method: 'detect' }));
  assert.deepEqual((await readdir(join(dir, 'detect'))).sort(), ['result.json', 'result_bin_mask.png', 'result_ins_mask.png']);
  assert.equal(detect.outputs.anonymised, undefined);
  assert.deepEqual(detect.anonymised, [false]);
  const bin = await sharp(detect.outputs.binaryMask!).toColourspace('b-w').raw().toBuffer();
  assert.equal(bin[100 * W + 130], 255, 'the mask still marks the face');

  const binaryOnly = await processImage(job(path, join(dir, 'bin'), { saveMask: 'binary', maskScale: 50 }));
  assert.deepEqual((await readdir(join(dir, 'bin'))).sort(), ['result.jpg', 'result.json', 'result_bin_mask.png']);
  const m = await sharp(binaryOnly.outputs.binaryMask!).metadata();
  assert.deepEqual([m.width, m.height, m.channels], [160, 120, 1]);
  await processImage(job(path, join(dir, 'ins'), { saveMask: 'instance' }));
  assert.deepEqual((await readdir(join(dir, 'ins'))).sort(), ['result.jpg', 'result.json', 'result_ins_mask.png']);
  await processImage(job(path, join(dir, 'none'), { saveMask: 'none' }));
  assert.deepEqual((await readdir(join(dir, 'none'))).sort(), ['result.jpg', 'result.json']);
});

test('undecodable or truncated input throws UndecodableFileError and leaves no files', async () => {
  const { dir, path } = await inputFile('jpeg');
  const garbage = join(dir, 'garbage.jpg');
  await writeFile(garbage, Buffer.from('this is not an image at all, only text pretending'));
  await assert.rejects(processImage(job(garbage, join(dir, 'out1'))), UndecodableFileError);
  const truncated = join(dir, 'truncated.jpg');
  const bytes = await readFile(path);
  await writeFile(truncated, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(processImage(job(truncated, join(dir, 'out2'))), UndecodableFileError);
  await assert.rejects(processImage(job(join(dir, 'missing.jpg'), join(dir, 'out3'))), UndecodableFileError);
  for (const out of ['out1', 'out2', 'out3']) {
    const files = await readdir(join(dir, out)).catch(() => []);
    assert.deepEqual(files, [], `${out} is empty`);
  }
});

test('the engine gets only the classes it runs and the task asked for', async () => {
  const { dir, path } = await inputFile('jpeg');
  const engine = fixedEngine([face], ['face']);
  const calls: unknown[] = [];
  const original = engine.detect.bind(engine);
  engine.detect = async (image, options) => {
    calls.push(options.classes);
    return original(image, options);
  };
  await processImage({ ...job(path, dir), engine, params: params({ classes: ['face', 'license-plate'] }) });
  assert.deepEqual(calls, [['face']]);
  assert.equal(engine.calls[0].width, W);
});
