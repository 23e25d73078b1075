import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ObjectDetector } from '../../src/detect/nanodet/objects.ts';
import { SessionFactory } from '../../src/detect/session.ts';

test('person/vehicle search: close-ups run whole; street photos get tiles on the image upscaled 1.5x; large frames stay bounded', async () => {
  const factory = new SessionFactory({ provider: 'cpu' });
  try {
    const detector = await ObjectDetector.create(factory);
    assert.equal(detector.regions(512, 512).length, 1, 'a 512-px close-up is not tiled');
    const street = detector.regions(640, 480);
    assert.deepEqual(street[0], { x0: 0, y0: 0, x1: 640, y1: 480 });
    const tiles = street.slice(1);
    assert.equal(tiles.length, 6);
    assert.ok(tiles.every((t) => t.x1 - t.x0 === 277 && t.y1 - t.y0 === 277), JSON.stringify(tiles));
    const large = detector.regions(4000, 3000);
    assert.ok(large.length <= 13, `${large.length} runs on 12 MP`);
  } finally {
    await factory.dispose();
  }
});
