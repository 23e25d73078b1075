// Step 5: all outputs appear together or not at all: each is written to a temporary name first and
// renamed only once every file is on disk, so a failure never leaves a half-written result behind.
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface OutputFile {
  name: string;
  data: Buffer | string;
}

export async function writeOutputs(outputDir: string, files: OutputFile[]): Promise<string[]> {
  await mkdir(outputDir, { recursive: true });
  const suffix = `.partial-${process.pid}-${Date.now().toString(36)}`;
  const temps = files.map((f) => join(outputDir, f.name + suffix));
  const finals = files.map((f) => join(outputDir, f.name));
  try {
    await Promise.all(files.map((f, i) => writeFile(temps[i], f.data)));
    for (let i = 0; i < files.length; i++) await rename(temps[i], finals[i]);
    return finals;
  } catch (err) {
    await Promise.all([...temps, ...finals].map((p) => rm(p, { force: true })));
    throw err;
  }
}
