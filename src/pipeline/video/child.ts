// A spawned ffmpeg whose exit can be awaited and whose stderr tail explains a failure.

import { spawn, type ChildProcess } from 'node:child_process';

const STDERR_TAIL_BYTES = 4000;

export interface FfmpegProcess {
  child: ChildProcess;
  /** Resolves on exit code 0, rejects with the stderr tail otherwise (or when killed). */
  exited: Promise<void>;
  kill(): void;
}

export function spawnFfmpeg(binary: string, args: string[], stdio: ['pipe' | 'ignore', 'pipe' | 'ignore', 'pipe']): FfmpegProcess {
  const child = spawn(binary, args, { stdio });
  let stderrTail = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderrTail = (stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES);
  });
  let killed = false;
  const exited = new Promise<void>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, sig) => {
      if (code === 0 && !killed) resolve();
      else reject(new Error(`ffmpeg ${killed ? 'was stopped' : `exited with ${code ?? sig}`}: ${stderrTail.trim()}`));
    });
  });
  // Callers that never await (after a kill) must not produce an unhandled rejection.
  exited.catch(() => {});
  return {
    child,
    exited,
    kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killed = true;
      child.kill('SIGKILL');
    },
  };
}
