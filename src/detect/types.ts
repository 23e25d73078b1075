import type { Detection, ObjectClass, RgbImage } from '../types.ts';

/** One model wrapped as a detector: an RGB image in, detections in image coordinates out. */
export interface Detector {
  readonly name: string;
  readonly classes: readonly ObjectClass[];
  detect(image: RgbImage, options: DetectOptions): Promise<Detection[]>;
  dispose(): Promise<void>;
}

export interface DetectOptions {
  /** Classes wanted for this call (subset of `classes`). */
  classes: readonly ObjectClass[];
  /** Minimum score per class. */
  thresholds: Record<ObjectClass, number>;
}

export type ExecutionProviderChoice = 'auto' | 'cpu' | 'cuda' | 'tensorrt';

/** Which face detector runs: auto = YuNet when its model pack is installed, else the bundled ensemble. */
export type FaceDetectorChoice = 'auto' | 'yunet' | 'ensemble';
export const FACE_DETECTOR_CHOICES: readonly FaceDetectorChoice[] = ['auto', 'yunet', 'ensemble'];
