/**
 * The TFLite converter on MediaPipe's short-range face model against keijiro's independent ONNX conversion
 * of the same model (tarballs: 5.2 MB + 0.6 MB, fetched into .cache/npm when missing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { buildFaceShortRange } from '../../tools/models/specs.ts';
import { compareShortRangeWithKeijiro, runOnnx, FACE_RECIPE_128 } from '../../tools/models/validations.ts';
import { imageToTensor } from '../../tools/models/preprocess.ts';

/** A drawn face-like scene: skin-coloured ellipse with eyes and mouth on a textured background. */
async function drawnFace(): Promise<Uint8Array> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256">
    <rect width="256" height="256" fill="#4a6a8a"/><rect x="0" y="180" width="256" height="76" fill="#2b3b2b"/>
    <ellipse cx="128" cy="120" rx="58" ry="74" fill="#e0b090"/>
    <ellipse cx="106" cy="104" rx="9" ry="6" fill="#222"/><ellipse cx="150" cy="104" rx="9" ry="6" fill="#222"/>
    <path d="M128 112 L120 140 L136 140 Z" fill="#c89070"/><rect x="108" y="156" width="40" height="8" rx="4" fill="#a03030"/></svg>`;
  return sharp(Buffer.from(svg)).png().toBuffer();
}

test('short-range face model converted here is bit-identical to keijiro ONNX', async () => {
  const converted = buildFaceShortRange().bytes;
  const input = await imageToTensor(await drawnFace(), FACE_RECIPE_128);
  const diffs = await compareShortRangeWithKeijiro(converted, input);
  assert.deepEqual(diffs, { regressors: 0, classificators: 0 });

  // The comparison is not vacuous: a small change of input moves the outputs well beyond float noise.
  const nudged = { dims: input.dims, data: input.data.map((v, i) => v + (i % 7 === 0 ? 0.02 : 0)) };
  const a = await runOnnx(converted, { input });
  const b = await runOnnx(converted, { input: nudged });
  let moved = 0;
  for (let i = 0; i < a['regressors']!.data.length; i++) moved = Math.max(moved, Math.abs(a['regressors']!.data[i]! - b['regressors']!.data[i]!));
  assert.ok(moved > 1e-3, `outputs moved only ${moved}`);
});
