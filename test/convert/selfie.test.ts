/** Converted selfie segmentation against the TFJS build of the same weights (human-models, fetched once when missing). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '../../tools/models/build.ts';
import { validateSelfie } from '../../tools/models/validations.ts';

test('selfie_segmentation.onnx agrees with the TFJS selfie model on a real portrait photo', async () => {
  const r = (await validateSelfie(readFileSync(join(MODELS_DIR, 'selfie_segmentation.onnx')))) as {
    personFraction: number;
    asShipped: { maxAbsDiff: number; maskAgreementAt05: number };
    withExactHardSwish: { maxAbsDiff: number; maskAgreementAt05: number };
  };
  assert.ok(r.personFraction > 0.2 && r.personFraction < 0.8, `person fraction ${r.personFraction}: the photo is partly a person`);
  // Same graph semantics as TFLite: agreement to float precision once the TFJS build's fp16 1/6 is undone.
  assert.ok(r.withExactHardSwish.maskAgreementAt05 >= 0.999, JSON.stringify(r.withExactHardSwish));
  assert.ok(r.withExactHardSwish.maxAbsDiff < 1e-3, JSON.stringify(r.withExactHardSwish));
  // Against the TFJS build as published, only edge pixels differ.
  assert.ok(r.asShipped.maskAgreementAt05 >= 0.99, JSON.stringify(r.asShipped));
});
