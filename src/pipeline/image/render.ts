// Step 3: anonymised pixels and the masks this task asked for, all from one object plan.
import { anonymise, encodeBinaryMask, encodeInstanceMask, planObjects } from '../../render/index.ts';
import type { Detection, ProcessParams, RgbImage } from '../../types.ts';

export interface RenderStepResult {
  /** Absent for method detect. */
  image?: RgbImage;
  anonymised: boolean[];
  binaryMask?: Buffer;
  instanceMask?: Buffer;
  timings: { render: number; masks: number };
}

export async function renderOutputs(image: RgbImage, detections: Detection[], params: ProcessParams): Promise<RenderStepResult> {
  const t0 = performance.now();
  const plan = planObjects(image.width, image.height, detections, params);
  const wantImage = params.method !== 'detect';
  const result = wantImage ? await anonymise(image, detections, params, plan) : undefined;
  const anonymised = result?.anonymised ?? detections.map(() => false);
  const t1 = performance.now();
  const wantBinary = params.saveMask === 'all' || params.saveMask === 'binary';
  const wantInstance = params.saveMask === 'all' || params.saveMask === 'instance';
  const [binaryMask, instanceMask] = await Promise.all([
    wantBinary ? encodeBinaryMask(plan, params.maskScale) : undefined,
    wantInstance ? encodeInstanceMask(plan, params.maskScale) : undefined,
  ]);
  return { image: result?.image, anonymised, binaryMask, instanceMask, timings: { render: t1 - t0, masks: performance.now() - t1 } };
}
