// A DetectionEngine for pipeline tests that isolates rendering from the models: it returns fixed
// boxes, or finds saturated red squares in the pixels it is given (which proves it got the upright image).
import type { DetectionEngine, EngineResult } from '../../src/detect/engine.ts';
import type { Detection, ObjectClass, RgbImage } from '../../src/types.ts';

export function fixedEngine(detections: Detection[], classes: ObjectClass[] = ['face', 'license-plate', 'person', 'vehicle']): DetectionEngine & { calls: RgbImage[] } {
  const calls: RgbImage[] = [];
  return {
    provider: 'cpu',
    classes,
    calls,
    async detect(image: RgbImage): Promise<EngineResult> {
      calls.push(image);
      return { detections: detections.map((d) => ({ ...d, box: { ...d.box } })), timings: { fixed: 0.1 } };
    },
    async dispose() {},
  } as DetectionEngine & { calls: RgbImage[] };
}

/** Reports the bounding box of all clearly red pixels as one face. */
export function redSquareEngine(): DetectionEngine {
  return {
    provider: 'cpu',
    classes: ['face'],
    async detect(image: RgbImage): Promise<EngineResult> {
      let x0 = Infinity, y0 = Infinity, x1 = -1, y1 = -1;
      for (let y = 0; y < image.height; y++) {
        for (let x = 0; x < image.width; x++) {
          const p = (y * image.width + x) * 3;
          if (image.data[p] > 170 && image.data[p + 1] < 90 && image.data[p + 2] < 90) {
            x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x + 1); y1 = Math.max(y1, y + 1);
          }
        }
      }
      const detections: Detection[] = x1 < 0 ? [] : [{ cls: 'face', score: 0.99, box: { x0, y0, x1, y1 } }];
      return { detections, timings: { red: 0 } };
    },
    async dispose() {},
  } as unknown as DetectionEngine;
}
