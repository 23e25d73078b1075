// Step 2: run the detection engine for the classes and thresholds of this task.
import type { DetectionEngine } from '../../detect/engine.ts';
import type { Detection, ProcessParams, RgbImage } from '../../types.ts';

export interface DetectStepResult {
  detections: Detection[];
  /** Per detector, prefixed "detect." so they sit beside the pipeline's own stages. */
  timings: Record<string, number>;
}

export async function detectObjects(engine: DetectionEngine, image: RgbImage, params: ProcessParams): Promise<DetectStepResult> {
  const classes = params.classes.filter((c) => engine.classes.includes(c));
  if (classes.length === 0) return { detections: [], timings: {} };
  const { detections, timings } = await engine.detect(image, { classes, thresholds: params.thresholds });
  return { detections, timings: Object.fromEntries(Object.entries(timings).map(([k, v]) => [`detect.${k}`, v])) };
}
