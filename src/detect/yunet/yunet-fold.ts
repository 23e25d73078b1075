import { floatInitializer, OnnxWireError, patchFloatInitializer, patchInt, readGraph } from '../onnx-wire.ts';

/**
 * YuNet's 2× pass without the 2× image. The model opens with a 3×3 convolution at stride 2 (pad 1). On an image
 * enlarged 2× by sharp's linear kernel, which samples source coordinate (X − 1) / 2 (odd rows/columns are the
 * source's, even ones the mean of two neighbours; checked in test/detect/yunet-fold.test.ts), output i reads enlarged
 * rows 2i−1, 2i, 2i+1 = source rows i−1, (i−1 + i)/2, i. So the convolution of the enlarged image is a convolution of
 * the source at stride 1 with the 2×2 kernel W'[a][b] = Σ A[a][k]·A[b][l]·W[k][l], A = [[1, ½, 0], [0, ½, 1]],
 * taps at i−1 and i: the same 3×3 kernel with its last row and column zero, same pads. Everything after it sees the
 * same tensors, apart from the first output row and column (the enlarged image's edge is replicated, the source's
 * padding is zero) and sharp's rounding to 8 bits, which the fold does not have.
 *
 * The enlarged image (4× the pixels, 100 MB of float input at 1080p), its resize (~150-200 ms at 1080p) and the first
 * layer's input reads are gone; the model input is the source padded to multiples of 16 (the 2× input's 32).
 */
export const FOLD_ZOOM = 2;

/** The rows of A: tap a of the folded kernel collects these weights of the 3 original taps. */
const A: readonly (readonly number[])[] = [
  [1, 0.5, 0],
  [0, 0.5, 1],
];

/** A copy of the model bytes whose first convolution runs the 2× pass on the source image (see above). */
export function foldUpscaleIntoFirstConv(model: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(model);
  const graph = readGraph(bytes);
  const input = graph.inputs.find((name) => !graph.initializers.has(name));
  const readers = graph.nodes.filter((n) => n.inputs.includes(input ?? ''));
  const conv = readers[0];
  if (!input || readers.length !== 1 || conv!.opType !== 'Conv') throw new OnnxWireError('the input is not read by one convolution only');
  const ints = (name: string) => conv!.ints.get(name)?.map((v) => v.value).join(',');
  if (ints('kernel_shape') !== '3,3' || ints('strides') !== '2,2' || ints('pads') !== '1,1,1,1' || (ints('dilations') ?? '1,1') !== '1,1' || (conv!.int.get('group') ?? 1) !== 1) {
    throw new OnnxWireError('the first convolution is not 3×3, stride 2, pad 1');
  }
  const weight = graph.initializers.get(conv!.inputs[1] ?? '');
  if (!weight || weight.dims.length !== 4 || weight.dims[2] !== 3 || weight.dims[3] !== 3) throw new OnnxWireError('unexpected first convolution weights');
  const w = floatInitializer(bytes, weight);
  const folded = new Float32Array(w.length);
  for (let k = 0; k < w.length; k += 9) {
    for (let a = 0; a < 2; a++) {
      for (let b = 0; b < 2; b++) {
        let sum = 0;
        for (let ky = 0; ky < 3; ky++) for (let kx = 0; kx < 3; kx++) sum += A[a]![ky]! * A[b]![kx]! * w[k + ky * 3 + kx]!;
        folded[k + a * 3 + b] = sum;
      }
    }
  }
  patchFloatInitializer(bytes, weight, folded);
  for (const s of conv!.ints.get('strides')!) patchInt(bytes, s, 1);
  return bytes;
}
