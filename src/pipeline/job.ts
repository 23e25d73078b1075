import type { DetectionEngine } from '../detect/engine.ts';
import type { ProcessParams } from '../types.ts';
import type { MediaLimits } from './limits.ts';

/** What every pipeline needs to process one file. */
export interface MediaJob {
  /** Task id (batch mode: the file's stem), written into the metadata. */
  id: string;
  inputPath: string;
  /** Created if missing. */
  outputDir: string;
  /** Base name of the output files. */
  stem: string;
  params: ProcessParams;
  /** Folder of the input relative to the batch's input root, written into the image metadata (null: API upload). */
  folder?: string | null;
  engine: DetectionEngine;
  /** --max-pixels and friends; DEFAULT_LIMITS when absent. */
  limits?: MediaLimits;
}
