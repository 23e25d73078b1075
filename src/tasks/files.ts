// File storage for the task service: the input and output folders on a local disk or on a volume that every
// replica mounts (NFS, a Kubernetes ReadWriteMany volume). Renames stay inside one file system.
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { FileStorage } from './ports.ts';

export class FolderStorage implements FileStorage {
  constructor(readonly inputDir: string, readonly outputDir: string) {}

  async intake(tempPath: string, id: string, fileName: string): Promise<string> {
    const dir = join(this.inputDir, id);
    const path = join(dir, fileName);
    await mkdir(dir, { recursive: true });
    try {
      await rename(tempPath, path).catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'EXDEV') throw err;
        // Another file system: copy under a temporary name, then rename, so a reader never sees half a file.
        await copyFile(tempPath, `${path}.part`);
        await rename(`${path}.part`, path);
        await rm(tempPath, { force: true });
      });
      return path;
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async removeTask(id: string, outputDir: string): Promise<void> {
    await rm(join(this.inputDir, id), { recursive: true, force: true });
    await rm(outputDir, { recursive: true, force: true });
  }

  async removeOutputs(outputDir: string): Promise<void> {
    await rm(outputDir, { recursive: true, force: true });
  }
}
