// Runs one task through the image or video pipeline and says which files it produced.
import { relative } from 'node:path';
import type { DetectionEngine } from '../detect/engine.ts';
import { processImage } from '../pipeline/image/index.ts';
import { processVideo } from '../pipeline/video/index.ts';
import { processBackgroundReplace } from '../pipeline/background/index.ts';
import type { MediaJob } from '../pipeline/job.ts';
import type { MediaLimits } from '../pipeline/limits.ts';
import type { Task, TaskOutputs } from './store.ts';

export interface RunOutcome {
  outputs: TaskOutputs;
  /** Objects found in an image; null for videos, whose counts live in the per-frame metadata. */
  detectionCount: number | null;
  /** Milliseconds per pipeline stage (decode, detect.<detector>, render, encode, …), for metrics; images only. */
  timings?: Record<string, number>;
}

export async function runTask(
  task: Task,
  engine: DetectionEngine,
  signal: AbortSignal,
  onProgress: (done: number, total: number) => void,
  limits?: MediaLimits,
): Promise<RunOutcome> {
  const rel = (p: string | undefined) => (p ? relative(task.outputDir, p) : undefined);
  const job: MediaJob = { id: task.id, inputPath: task.inputPath, outputDir: task.outputDir, stem: task.stem, params: task.params, engine, limits };
  if (task.kind === 'video') {
    // The probe taken when the upload was checked: the file is not probed a second time.
    const r = await processVideo({ ...job, onProgress, signal, media: task.probe ?? undefined });
    return { outputs: { anonymised: rel(r.outputs.anonymised), videoMetadataDir: rel(r.outputs.metadataDir) || '.' }, detectionCount: null };
  }
  if (task.params.replaceBackground) {
    // InstaVid360 bg-replace (issue 13): a composite instead of an anonymised copy.
    const b = await processBackgroundReplace({ ...job, signal });
    onProgress(1, 1);
    return { outputs: { anonymised: rel(b.path) }, detectionCount: b.foreground };
  }
  const r = await processImage({ ...job, signal });
  onProgress(1, 1);
  return {
    outputs: {
      anonymised: rel(r.outputs.anonymised),
      binaryMask: rel(r.outputs.binaryMask),
      instanceMask: rel(r.outputs.instanceMask),
      heatmap: rel(r.outputs.heatmap),
      metadata: rel(r.outputs.metadata),
    },
    detectionCount: r.detections.length,
    timings: r.timings,
  };
}
