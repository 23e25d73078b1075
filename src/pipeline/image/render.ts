// Step 3: anonymised pixels and the masks this task asked for, all from one object plan.
import { anonymise, encodeBinaryMask, encodeHeatmap, encodeInstanceMask, planObjects, type ObjectPlan } from '../../render/index.ts';
import type { Detection, ProcessParams, RgbImage } from '../../types.ts';

export interface RenderStepResult {
  /** Absent for method detect. */
  image?: RgbImage;
  anonymised: boolean[];
  plan: ObjectPlan;
}

/** Anonymises in place: the decoded pixels are not needed afterwards, so no full-frame copy is made. */
export async function renderImage(image: RgbImage, detections: Detection[], params: ProcessParams): Promise<RenderStepResult> {
  const plan = planObjects(image.width, image.height, detections, params);
  if (params.method === 'detect') return { anonymised: detections.map(() => false), plan };
  const result = await anonymise(image, detections, params, { plan, inPlace: true });
  return { image: result.image, anonymised: result.anonymised, plan };
}

export interface MaskFiles {
  binaryMask?: Buffer;
  instanceMask?: Buffer;
  heatmap?: Buffer;
}

export async function renderMasks(plan: ObjectPlan, params: ProcessParams): Promise<MaskFiles> {
  const wantBinary = params.saveMask === 'all' || params.saveMask === 'binary';
  const wantInstance = params.saveMask === 'all' || params.saveMask === 'instance';
  const [binaryMask, instanceMask, heatmap] = await Promise.all([
    wantBinary ? encodeBinaryMask(plan, params.maskScale) : undefined,
    wantInstance ? encodeInstanceMask(plan, params.maskScale) : undefined,
    params.heatmap ? encodeHeatmap(plan) : undefined,
  ]);
  return { binaryMask, instanceMask, heatmap };
}
