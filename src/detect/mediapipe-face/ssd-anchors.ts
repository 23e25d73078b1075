/**
 * Anchor centres of MediaPipe's SSD face detectors (SsdAnchorsCalculator with fixed_anchor_size):
 * every feature-map cell of each stride gets `perCell` anchors at its centre, in [0,1] units of the
 * input; anchor width and height are 1, so regressors are plain pixel offsets at input scale.
 */
export interface AnchorLayer {
  stride: number;
  perCell: number;
}

/** Interleaved (cx, cy) pairs, in the order the model's outputs list them. */
export function ssdAnchorCentres(inputSize: number, layers: readonly AnchorLayer[]): Float32Array {
  let total = 0;
  for (const l of layers) total += Math.ceil(inputSize / l.stride) ** 2 * l.perCell;
  const out = new Float32Array(total * 2);
  let k = 0;
  for (const { stride, perCell } of layers) {
    const cells = Math.ceil(inputSize / stride);
    for (let y = 0; y < cells; y++) {
      for (let x = 0; x < cells; x++) {
        for (let a = 0; a < perCell; a++) {
          out[k++] = (x + 0.5) / cells;
          out[k++] = (y + 0.5) / cells;
        }
      }
    }
  }
  return out;
}
