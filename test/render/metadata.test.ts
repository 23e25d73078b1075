import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymise, buildMetadata } from '../../src/render/index.ts';
import { det, params, texturedImage } from './helpers.ts';

test('metadata uses Celantur field names with integer boxes clipped to the image', async () => {
  const img = texturedImage(200, 100);
  const detections = [
    det('face', { x0: 10.4, y0: 20.6, x1: 40.2, y1: 60.9 }, { score: 0.98765 }),
    det('license-plate', { x0: 180.5, y0: 80, x1: 230, y1: 110 }, { trackId: 7 }),
    det('vehicle', { x0: 0, y0: 0, x1: 50, y1: 50 }),
  ];
  const p = params({ ignores: [{ topLeftX: 0, topLeftY: 0, width: 60, height: 60 }] });
  const { anonymised } = await anonymise(img, detections, p);
  const meta = buildMetadata({ id: 'task-1', filename: 'street.jpg', parentImage: 'street.jpg', width: 200, height: 100, detections, anonymised, params: p, timings: { decode: 12.34, render: 3.2 } });
  assert.equal(meta.id, 'task-1');
  assert.deepEqual(meta.size, [200, 100]);
  assert.equal(meta.duration, 0.016);
  assert.deepEqual(meta.detections[0], {
    id: 1, type_label: 'face', type: 103, score: 0.9877, bbox: [10, 20, 41, 61], offset: [10, 20],
    is_anonymised: false, parent_image: 'street.jpg', color: null,
  });
  assert.deepEqual(meta.detections[1].bbox, [180, 80, 200, 100]);
  assert.equal(meta.detections[1].track_id, 7);
  assert.equal(meta.detections[1].is_anonymised, true);
  assert.equal(meta.detections[2].type_label, 'vehicle');
  assert.equal(meta.detections[2].is_anonymised, false, 'the vehicle lies inside the ignore region');
  assert.deepEqual(meta.parameters.ignores, p.ignores);
  assert.deepEqual(JSON.parse(JSON.stringify(meta)), meta, 'JSON-ready');
});
