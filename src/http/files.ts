// Serves a task's files safely: a file that is gone from disk (removed by hand, or by a DELETE that raced
// the download) is a 404 file_missing without its path, never a 500 or a message with a server path.
import { open, type FileHandle } from 'node:fs/promises';
import type { Response } from 'express';
import { AppError, FileMissingError, withInternal } from '../errors.ts';

const GONE = new Set(['ENOENT', 'ENOTDIR', 'EISDIR']);

async function openTaskFile(path: string, taskId: string, what: string): Promise<FileHandle> {
  try {
    const handle = await open(path, 'r');
    const st = await handle.stat();
    if (!st.isFile()) {
      await handle.close();
      throw withInternal(new FileMissingError(taskId, what), `${path} is not a file`);
    }
    return handle;
  } catch (err) {
    if (err instanceof AppError) throw err;
    if (GONE.has((err as NodeJS.ErrnoException).code ?? '')) throw withInternal(new FileMissingError(taskId, what), err);
    throw err;
  }
}

/**
 * Sends one of a task's files (express's sendFile: Range, conditional GET). A file missing before the answer
 * starts is a FileMissingError; one removed after it started only ends that connection.
 */
export async function sendTaskFile(res: Response, path: string, taskId: string, what: string, type?: string): Promise<void> {
  if (type) res.type(type);
  await new Promise<void>((resolve, reject) =>
    res.sendFile(path, { dotfiles: 'allow' }, (err?: NodeJS.ErrnoException & { status?: number }) => {
      if (!err) return resolve();
      if (GONE.has(err.code ?? '') || err.status === 404) return reject(withInternal(new FileMissingError(taskId, what), err));
      reject(err);
    }),
  );
}

/** Reads one of a task's files whole (small files: masks to rescale, metadata). */
export async function readTaskFile(path: string, taskId: string, what: string): Promise<Buffer> {
  const handle = await openTaskFile(path, taskId, what);
  try {
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

/** Maps a file-system "gone" error from `read` to FileMissingError (e.g. a video's metadata folder). */
export async function whileFilesExist<T>(taskId: string, what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    if (!(err instanceof AppError) && GONE.has((err as NodeJS.ErrnoException).code ?? '')) throw withInternal(new FileMissingError(taskId, what), err);
    throw err;
  }
}
