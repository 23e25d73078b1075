// The pipeline thread: runs tasks (detection, rendering, encoding) off the HTTP thread.
// onnxruntime-node's session.run() is synchronous on its calling thread (100-400 ms per model call on a
// large image), and the renderers' pixel loops are too: here they cannot stall /v1/status or downloads.
// Messages: see worker-runner.ts, the only module that talks to this one.
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { createDetectionEngine, type CreateEngineOptions, type DetectionEngine } from '../detect/engine.ts';
import { AppError } from '../errors.ts';
import { runTask } from './runner.ts';
import type { Task } from './store.ts';
import type { MediaLimits } from '../pipeline/limits.ts';

export type ToWorker =
  | { type: 'run'; id: number; task: Task; limits?: MediaLimits }
  | { type: 'abort'; id: number }
  | { type: 'dispose' };

export interface SerializedError {
  app: boolean;
  status?: number;
  code?: string;
  message: string;
  details?: Record<string, unknown>;
  internal?: string;
  stack?: string;
}

export type FromWorker =
  | { type: 'ready'; provider: string; classes: string[]; faceDetector: string | null }
  | { type: 'init-error'; message: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error' | 'debug'; message: string }
  | { type: 'progress'; id: number; done: number; total: number }
  | { type: 'done'; id: number; outcome: Awaited<ReturnType<typeof runTask>> }
  | { type: 'failed'; id: number; error: SerializedError };

function serialize(err: unknown): SerializedError {
  if (err instanceof AppError) {
    return { app: true, status: err.status, code: err.code, message: err.message, details: err.details, internal: err.internal };
  }
  return { app: false, message: err instanceof Error ? err.message : String(err), stack: err instanceof Error ? err.stack : undefined };
}

/** Nice value of the pipeline thread (0 normal, 19 lowest). */
const PIPELINE_NICE = 10;

const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);
const running = new Map<number, AbortController>();
let engine: DetectionEngine | null = null;

async function main(): Promise<void> {
  const options = workerData as Omit<CreateEngineOptions, 'log'>;
  // On Linux this lowers the priority of this thread only, and of the inference threads onnxruntime starts
  // from it: when the cores are busy, the HTTP thread still gets them first. Elsewhere it may not apply.
  try {
    setPriority(PIPELINE_NICE);
  } catch {
    // not permitted here: run at normal priority
  }
  try {
    engine = await createDetectionEngine({ ...options, log: (level, message) => post({ type: 'log', level, message }) });
  } catch (err) {
    post({ type: 'init-error', message: (err as Error).message });
    return;
  }
  post({ type: 'ready', provider: engine.provider, classes: [...engine.classes], faceDetector: engine.faceDetector ?? null });
}

port.on('message', (m: ToWorker) => {
  if (m.type === 'abort') {
    running.get(m.id)?.abort(new Error('stopped'));
    return;
  }
  if (m.type === 'dispose') {
    for (const c of running.values()) c.abort(new Error('stopped'));
    void (engine?.dispose() ?? Promise.resolve()).finally(() => port.close());
    return;
  }
  const controller = new AbortController();
  running.set(m.id, controller);
  runTask(m.task, engine!, controller.signal, (done, total) => post({ type: 'progress', id: m.id, done, total }), m.limits).then(
    (outcome) => post({ type: 'done', id: m.id, outcome }),
    (err) => post({ type: 'failed', id: m.id, error: serialize(err) }),
  ).finally(() => running.delete(m.id));
});

void main();
