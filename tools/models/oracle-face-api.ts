/**
 * Runs face-api's own SSD MobileNetV1 (its ESM no-bundle build, from the pinned npm tarball) on
 * @tensorflow/tfjs's CPU backend, as the reference for the converted ONNX model.
 */
import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CACHE_DIR, packageFiles, tarballFileName } from './npm-source.ts';
import { PACKAGES } from './sources.ts';

export const FACE_API_BUILD = 'package/dist/face-api.esm-nobundle.js';
export const SSD_MANIFEST = 'package/model/ssd_mobilenetv1_model-weights_manifest.json';
export const SSD_WEIGHTS = 'package/model/ssd_mobilenetv1_model.bin';

/**
 * The no-bundle build imports tfjs's ESM entry and the WebGL/WASM backends; the WASM backend is not
 * installed and the ESM entries do not resolve under Node's ESM rules, so they are pointed at the
 * installed CommonJS tfjs and at empty modules (only the CPU backend is used).
 */
const HOOKS = `
export async function resolve(spec, ctx, next) {
  if (spec.startsWith('@tensorflow/tfjs-backend-wasm')) return { url: 'data:text/javascript,export const setWasmPaths=()=>{};export const version_wasm="none";', shortCircuit: true };
  if (spec.startsWith('@tensorflow/tfjs-backend-webgl')) return { url: 'data:text/javascript,export const version_webgl="none";', shortCircuit: true };
  if (spec === '@tensorflow/tfjs/dist/index.js') return next('@tensorflow/tfjs', ctx);
  return next(spec, ctx);
}`;

let hooksRegistered = false;

export interface SsdReference {
  /** [5118, 4] (ymin, xmin, ymax, xmax) in 0..1 of the 512² input, decoded by face-api. */
  boxes: Float32Array;
  /** [5118] face probability. */
  scores: Float32Array;
}

/** `rgb512` is a [512, 512, 3] float image with 0..255 values (face-api normalises it itself). */
export async function runFaceApiSsd(rgb512: Float32Array): Promise<SsdReference> {
  const files = packageFiles(PACKAGES.faceApi, [FACE_API_BUILD, SSD_MANIFEST, SSD_WEIGHTS]);
  if (!hooksRegistered) {
    register(`data:text/javascript,${encodeURIComponent(HOOKS)}`);
    hooksRegistered = true;
  }
  const dir = join(DEFAULT_CACHE_DIR, 'extracted', tarballFileName(PACKAGES.faceApi).replace(/\.tgz$/, ''));
  const faceapi = await import(pathToFileURL(join(dir, FACE_API_BUILD)).href);
  await tf.setBackend('cpu');
  await tf.ready();
  const manifest = JSON.parse(new TextDecoder().decode(files.get(SSD_MANIFEST)!)) as { weights: tf.io.WeightsManifestEntry[] }[];
  const bin = files.get(SSD_WEIGHTS)!;
  const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength) as ArrayBuffer, manifest.flatMap((g) => g.weights));
  const net = new faceapi.SsdMobilenetv1();
  net.loadFromWeightMap(weightMap);
  const input = tf.tensor4d(rgb512, [1, 512, 512, 3]);
  const { boxes, scores } = (await net.forward(input)) as { boxes: tf.Tensor[]; scores: tf.Tensor[] };
  const result = { boxes: (await boxes[0]!.data()) as Float32Array, scores: (await scores[0]!.data()) as Float32Array };
  tf.dispose([input, ...boxes, ...scores]);
  net.dispose();
  return result;
}
