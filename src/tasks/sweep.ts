// The restart sweep: what a process killed mid-write leaves behind has no owner once it is gone.
// Runs before the server takes requests, when no task is running.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';

/** Temporary names: image outputs (write.ts: `<name>.partial-<pid>-<time>`), the video encoder's `<stem>.part.mp4`, metadata `<file>.part`. */
const TEMPORARY = /(\.partial-\d+-[0-9a-z]+|\.part\.mp4|\.part)$/;

export interface SweepResult {
  incoming: boolean;
  temporaryFiles: number;
}

export async function sweepLeftovers(inputDir: string, outputDir: string): Promise<SweepResult> {
  // Partial uploads from a process that died mid-request have no task: nothing refers to them.
  await rm(join(inputDir, '.incoming'), { recursive: true, force: true });
  let temporaryFiles = 0;
  const dirs = await readdir(outputDir, { withFileTypes: true }).catch(() => []);
  for (const d of dirs) {
    if (!d.isDirectory()) continue;
    const dir = join(outputDir, d.name);
    const entries = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
    for (const name of entries) {
      if (!TEMPORARY.test(name)) continue;
      await rm(join(dir, name), { force: true, recursive: true });
      temporaryFiles++;
    }
  }
  return { incoming: true, temporaryFiles };
}
