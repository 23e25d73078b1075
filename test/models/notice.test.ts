// models/NOTICE attributes the bundled models and the model packs from the same facts (specs.ts, packs.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from '../../tools/models/build.ts';
import { noticeText } from '../../tools/models/notice.ts';
import { MODEL_SPECS } from '../../tools/models/specs.ts';
import { modelPacks } from '../../src/detect/packs.ts';

test('models/NOTICE is what the converter writes, model packs included', () => {
  const notice = readFileSync(join(MODELS_DIR, 'NOTICE'), 'utf8');
  assert.equal(notice, noticeText(MODEL_SPECS, modelPacks()));
  assert.match(notice, /yunet_n_dynamic\.onnx \(pack yunet\)\n  Source: +https:\/\/raw\.githubusercontent\.com\/ShiqiYu\/libfacedetection\.train\/0047ac24/);
});
