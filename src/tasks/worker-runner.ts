// Main-thread side of the pipeline thread (pipeline-worker.ts): the task service hands it tasks and gets
// outcomes, progress and typed errors back, as if runTask ran here. A worker that dies fails its running
// tasks and is started again for the next one.
import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { CreateEngineOptions } from '../detect/engine.ts';
import { AppError, withInternal } from '../errors.ts';
import type { MediaLimits } from '../pipeline/limits.ts';
import type { RunOutcome } from './runner.ts';
import type { Task } from './store.ts';
import type { FromWorker, SerializedError, ToWorker } from './pipeline-worker.ts';

export interface PipelineRunner {
  readonly provider: string;
  readonly classes: readonly string[];
  /** The face detector the engine chose (e.g. face:yunet), null without faces. */
  readonly faceDetector: string | null;
  run(task: Task, signal: AbortSignal, onProgress: (done: number, total: number) => void, limits?: MediaLimits): Promise<RunOutcome>;
  dispose(): Promise<void>;
}

function spawnWorker(options: Omit<CreateEngineOptions, 'log'>): Worker {
  const self = import.meta.url;
  if (self.endsWith('.ts')) {
    // Running from the TypeScript sources (tests, `bin/anonymiser` without a build): the worker registers tsx first.
    const api = import.meta.resolve('tsx/esm/api');
    const target = new URL('./pipeline-worker.ts', self).href;
    const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(target)}); });`;
    return new Worker(code, { eval: true, workerData: options, execArgv: [] });
  }
  return new Worker(new URL('./pipeline-worker.js', self), { workerData: options });
}

function revive(e: SerializedError): Error {
  if (e.app) {
    const err = new AppError(e.status ?? 500, e.code ?? 'processing_failed', e.message, e.details);
    return e.internal ? withInternal(err, e.internal) : err;
  }
  const err = new Error(e.message);
  if (e.stack) err.stack = e.stack;
  return err;
}

interface Pending {
  resolve(o: RunOutcome): void;
  reject(e: unknown): void;
  onProgress(done: number, total: number): void;
}

/** Starts the pipeline thread and waits until its models are loaded; rejects with the loading error. */
export async function startPipelineWorker(options: Omit<CreateEngineOptions, 'log'>, log: Logger): Promise<PipelineRunner> {
  let nextId = 1;
  const pending = new Map<number, Pending>();
  let disposed = false;
  let info = { provider: 'cpu', classes: [] as string[], faceDetector: null as string | null };
  let current: Worker | null = null;

  const start = () =>
    new Promise<Worker>((resolve, reject) => {
      const worker = spawnWorker(options);
      let ready = false;
      worker.on('message', (m: FromWorker) => {
        if (m.type === 'ready') {
          ready = true;
          info = { provider: m.provider, classes: m.classes, faceDetector: m.faceDetector };
          resolve(worker);
        } else if (m.type === 'init-error') {
          reject(new Error(m.message));
          void worker.terminate();
        } else if (m.type === 'log') {
          log[m.level](m.message);
        } else if (m.type === 'progress') {
          pending.get(m.id)?.onProgress(m.done, m.total);
        } else if (m.type === 'done' || m.type === 'failed') {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (m.type === 'done') p?.resolve(m.outcome);
          else p?.reject(revive(m.error));
        }
      });
      worker.on('error', (err) => {
        log.error({ err }, 'the pipeline thread failed');
        if (!ready) reject(err);
      });
      worker.on('exit', (code) => {
        if (!ready) reject(new Error(`the pipeline thread exited with ${code} while loading`));
        if (current === started) current = null;
        for (const [id, p] of pending) {
          pending.delete(id);
          p.reject(new Error(`the pipeline thread stopped (exit ${code})`));
        }
        if (!disposed && ready) log.warn({ code }, 'the pipeline thread stopped; it is started again for the next task');
      });
      const started = worker;
    });

  current = await start();
  let starting: Promise<Worker> | null = null;
  const get = async (): Promise<Worker> => {
    if (current) return current;
    starting ??= start().finally(() => (starting = null));
    current = await starting;
    return current;
  };

  return {
    get provider() {
      return info.provider;
    },
    get classes() {
      return info.classes;
    },
    get faceDetector() {
      return info.faceDetector;
    },
    async run(task, signal, onProgress, limits) {
      const worker = await get();
      const id = nextId++;
      return new Promise<RunOutcome>((resolve, reject) => {
        const onAbort = () => worker.postMessage({ type: 'abort', id } satisfies ToWorker);
        const settle = () => signal.removeEventListener('abort', onAbort);
        pending.set(id, {
          resolve: (o) => (settle(), resolve(o)),
          reject: (e) => (settle(), reject(e)),
          onProgress,
        });
        signal.addEventListener('abort', onAbort, { once: true });
        worker.postMessage({ type: 'run', id, task, limits } satisfies ToWorker);
      });
    },
    async dispose() {
      disposed = true;
      const w = current;
      current = null;
      if (!w) return;
      const exited = new Promise<void>((r) => w.once('exit', () => r()));
      w.postMessage({ type: 'dispose' } satisfies ToWorker);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000).unref())]);
      await w.terminate();
    },
  };
}
