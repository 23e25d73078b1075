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
  engine: DetectionEngine;
  /** --max-pixels and friends; DEFAULT_LIMITS when absent. */
  limits?: MediaLimits;
}
