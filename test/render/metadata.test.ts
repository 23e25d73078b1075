import { test } from 'node:test';
import assert from 'node:assert/strict';
import { anonymise, buildFrameMetadata, buildMetadata } from '../../src/render/index.ts';
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
  const meta = buildMetadata({ taskId: 'task-1', filename: 'street.jpg', parentImage: 'street.jpg', width: 200, height: 100, detections, anonymised, params: p, timings: { decode: 12.34, render: 3.2 } });
  // Celantur's top level: id and filename are the file name, folder null for an upload; our task id under its own name.
  assert.deepEqual(Object.keys(meta), ['id', 'detections', 'size', 'duration', 'filename', 'folder', 'task_id', 'parameters', 'timings']);
  assert.equal(meta.id, 'street.jpg');
  assert.equal(meta.filename, 'street.jpg');
  assert.equal(meta.folder, null);
  assert.equal(meta.task_id, 'task-1');
  assert.deepEqual(meta.size, [200, 100]);
  assert.equal(meta.duration, 0.016);
  assert.deepEqual(meta.detections.map((d) => d.id), [0, 1, 2], 'detection ids from 0, as in Celantur\'s example');
  assert.deepEqual(meta.detections[0], {
    id: 0, parent_image: 'street.jpg', offset: [10, 20], bbox: [10, 20, 41, 61], type: 103, score: 0.9877,
    is_anonymised: false, type_label: 'face', color: null,
  });
  assert.deepEqual(meta.detections[1].bbox, [180, 80, 200, 100]);
  assert.equal(meta.detections[1].track_id, 7);
  assert.equal(meta.detections[1].is_anonymised, true);
  assert.equal(meta.detections[2].type_label, 'vehicle');
  assert.equal(meta.detections[2].is_anonymised, false, 'the vehicle lies inside the ignore region');
  assert.deepEqual(meta.parameters.ignores, p.ignores);
  assert.deepEqual(JSON.parse(JSON.stringify(meta)), meta, 'JSON-ready');
});

test('image and video-frame metadata share one detection builder: same rounding, ids and type codes', async () => {
  const detections = [det('face', { x0: 10.4, y0: 20.6, x1: 40.2, y1: 60.9 }, { score: 0.98765 }), det('vehicle', { x0: -5, y0: 0, x1: 50, y1: 500 })];
  const anonymised = [true, true];
  const image = buildMetadata({ taskId: 't', filename: 'a.jpg', folder: 'sub/dir', parentImage: 'a.jpg', width: 200, height: 100, detections, anonymised, params: params(), timings: {} });
  const frame = buildFrameMetadata({ frame: 12, timestamp: 0.48, durationSeconds: 0.0456, width: 200, height: 100, detections, anonymised });
  assert.equal(image.folder, 'sub/dir');
  assert.deepEqual(Object.keys(frame), ['id', 'size', 'duration', 'timestamp', 'detections']);
  assert.equal(frame.id, 12);
  assert.equal(frame.duration, 0.046);
  for (const [i, d] of frame.detections.entries()) {
    const { parent_image, ...rest } = d;
    const { parent_image: imageParent, ...imageRest } = image.detections[i]!;
    assert.deepEqual(rest, imageRest);
    assert.equal(parent_image, 12, 'a frame detection names its frame');
    assert.equal(imageParent, 'a.jpg');
  }
  assert.deepEqual(frame.detections[1]!.bbox, [0, 0, 50, 100]);
});
