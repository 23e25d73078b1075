/**
 * The three MTCNN ONNX stages against face-api's own stage functions (tfjs-cpu) on the same pixels: seeded
 * noise and crops of the faces photo. Figures are max abs differences per output.
 */
import sharp from 'sharp';
import type { Sharp } from 'sharp';
import type { MtcnnStage } from './mtcnn-onnx.ts';
import { MTCNN_INPUT_SIZE } from './mtcnn-onnx.ts';
import { runFaceApiMtcnnStage } from './oracle-face-api-mtcnn.ts';
import type { MtcnnOutputs } from './oracle-face-api-mtcnn.ts';
import { maxAbsDiff } from './oracle-tfjs.ts';
import { PACKAGES, packageId } from './sources.ts';
import { FACES_PHOTO, fixture, round2, runOnnx } from './validations.ts';

type Tensor = { dims: number[]; data: Float32Array };

/**
 * Squares in test/fixtures/faces.jpg (1200×700), measured by eye: the 512 px astronaut's face (brow to chin,
 * ear to ear), the 256 px copy's face, and coffee with no face.
 */
export const MTCNN_CROPS = {
  largeFace: { left: 207, top: 151, width: 120, height: 120 },
  mediumFace: { left: 723, top: 89, width: 60, height: 60 },
  noFace: { left: 820, top: 420, width: 120, height: 120 },
} as const;

/** Deterministic 0..255 noise (mulberry32), so the recorded figures are reproducible. */
export function seededNoise(dims: number[], seed: number): Tensor {
  let s = seed >>> 0;
  const data = new Float32Array(dims.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    data[i] = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 255;
  }
  return { dims, data };
}

async function rawRgb(pipeline: Sharp, width: number, height: number): Promise<Float32Array> {
  const data = await pipeline.resize(width, height, { fit: 'fill' }).removeAlpha().raw().toBuffer();
  return Float32Array.from(data);
}

/** The crops resized to size² RGB 0..255, stacked as one NHWC batch in MTCNN_CROPS order. */
export async function cropBatch(size: number, channels: 'RGB' | 'BGR' = 'RGB'): Promise<Tensor> {
  const photo = fixture(FACES_PHOTO);
  const crops = Object.values(MTCNN_CROPS);
  const data = new Float32Array(crops.length * size * size * 3);
  for (let i = 0; i < crops.length; i++) {
    const rgb = await rawRgb(sharp(photo).extract(crops[i]!), size, size);
    if (channels === 'BGR') for (let p = 0; p < rgb.length; p += 3) [rgb[p], rgb[p + 2]] = [rgb[p + 2]!, rgb[p]!];
    data.set(rgb, i * size * size * 3);
  }
  return { dims: [crops.length, size, size, 3], data };
}

/** The whole photo at 1/5 size (240×140): the large face is then about 22 px, the medium one about 11 px. */
export async function pnetPhotoInput(): Promise<Tensor> {
  return { dims: [1, 140, 240, 3], data: await rawRgb(sharp(fixture(FACES_PHOTO)), 240, 140) };
}

/** Channel 1 (face) of an [N, 2] softmax. */
export function faceChannel(prob: Float32Array): Float32Array {
  return prob.filter((_, i) => i % 2 === 1);
}

export interface StageComparison {
  input: string;
  /** Max abs difference per output; R-Net/O-Net `prob` compares the face channel, the only one face-api returns. */
  maxAbsDiff: Record<string, number>;
}

export async function compareMtcnnStage(stage: MtcnnStage, onnxBytes: Uint8Array, input: Tensor, label: string): Promise<StageComparison> {
  const ours = await runOnnx(onnxBytes, { input });
  const ref: MtcnnOutputs = await runFaceApiMtcnnStage(stage, input);
  const diffs: Record<string, number> = {};
  if (stage === 'pnet') {
    diffs['prob'] = maxAbsDiff(ours['prob']!.data, ref['prob']!.data);
    if (ours['prob']!.dims.join() !== ref['prob']!.dims.join()) throw new Error(`pnet prob dims ${ours['prob']!.dims} vs ${ref['prob']!.dims}`);
  } else {
    diffs['prob'] = maxAbsDiff(faceChannel(ours['prob']!.data), ref['face']!.data);
  }
  diffs['regression'] = maxAbsDiff(ours['regression']!.data, ref['regression']!.data);
  if (stage === 'onet') diffs['landmarks'] = maxAbsDiff(ours['landmarks']!.data, ref['landmarks']!.data);
  return { input: label, maxAbsDiff: diffs };
}

/** The inputs each stage is checked on: noise with unequal sides (catches x/y mix-ups) and real pixels. */
export async function mtcnnValidationInputs(stage: MtcnnStage): Promise<{ label: string; tensor: Tensor }[]> {
  if (stage === 'pnet') {
    return [
      { label: 'seeded noise 1x37x53x3', tensor: seededNoise([1, 37, 53, 3], 12) },
      { label: `${FACES_PHOTO} stretched to 240x140`, tensor: await pnetPhotoInput() },
    ];
  }
  const size = MTCNN_INPUT_SIZE[stage];
  return [
    { label: `seeded noise 4x${size}x${size}x3`, tensor: seededNoise([4, size, size, 3], size) },
    { label: `${FACES_PHOTO} crops (${Object.keys(MTCNN_CROPS).join(', ')}) at ${size}x${size}`, tensor: await cropBatch(size) },
  ];
}

/** Face probability (ONNX) on the crops fed as RGB and as BGR (face-api feeds BGR, the original code RGB). */
async function channelOrderCheck(stage: Exclude<MtcnnStage, 'pnet'>, onnxBytes: Uint8Array): Promise<Record<string, Record<string, number>>> {
  const size = MTCNN_INPUT_SIZE[stage];
  const result: Record<string, Record<string, number>> = {};
  for (const channels of ['RGB', 'BGR'] as const) {
    const face = faceChannel((await runOnnx(onnxBytes, { input: await cropBatch(size, channels) }))['prob']!.data);
    result[channels] = Object.fromEntries(Object.keys(MTCNN_CROPS).map((k, i) => [k, Number(face[i]!.toFixed(3))]));
  }
  return result;
}

export async function validateMtcnn(stage: MtcnnStage, onnxBytes: Uint8Array): Promise<Record<string, unknown>> {
  const results: StageComparison[] = [];
  for (const { label, tensor } of await mtcnnValidationInputs(stage)) {
    const c = await compareMtcnnStage(stage, onnxBytes, tensor, label);
    results.push({ ...c, maxAbsDiff: Object.fromEntries(Object.entries(c.maxAbsDiff).map(([k, v]) => [k, round2(v)])) });
  }
  return {
    reference: `${packageId(PACKAGES.modernFaceApi)} ${stage === 'pnet' ? 'PNet' : stage === 'rnet' ? 'RNet' : 'ONet'} (build/commonjs/mtcnn) on @tensorflow/tfjs cpu, fed as face-api's stage code feeds it: (v - 127.5) * 0.0078125, then x/y transposed`,
    results,
    ...(stage === 'pnet'
      ? {}
      : {
          faceProbabilityOnCrops: await channelOrderCheck(stage, onnxBytes),
          channelOrderNote: "face-api's pipeline feeds BGR (Mtcnn.js reverses fromPixels' RGB, extractImagePatches.js writes BGR); the original MATLAB demo feeds imread's RGB. both orders score the face crops >= 0.99; the graphs are documented as RGB, as the original is fed",
        }),
  };
}
