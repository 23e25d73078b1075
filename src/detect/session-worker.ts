// One onnxruntime session in its own worker thread, so that run() does not block the calling thread.
// onnxruntime-node's run() is synchronous in its native binding: on the caller's thread two runs never
// overlap, and neither do a run and the caller's own work (sharp resizes, decoding the outputs). Here the
// session lives in a worker that owns it; inputs and outputs cross as transferred ArrayBuffers (no copies).
import { Worker } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';

/** A tensor as it crosses the thread boundary. */
interface WireTensor {
  type: ort.Tensor.Type;
  dims: readonly number[];
  data: ort.Tensor.DataType;
}

type ToSessionWorker =
  | { type: 'load'; file: string | Uint8Array; options: ort.InferenceSession.SessionOptions }
  | { type: 'run'; id: number; feeds: Record<string, WireTensor> }
  | { type: 'release' };

type FromSessionWorker =
  | { type: 'loaded'; inputNames: string[]; outputNames: string[]; inputMetadata: ort.InferenceSession.ValueMetadata[]; outputMetadata: ort.InferenceSession.ValueMetadata[] }
  | { type: 'load-failed'; message: string }
  | { type: 'result'; id: number; outputs: Record<string, WireTensor> }
  | { type: 'run-failed'; id: number; message: string }
  | { type: 'released' };

/**
 * The worker's code, plain JavaScript (no TypeScript loader in the worker: it starts in a few ms and adds
 * little memory). onnxruntime-node is imported by the URL the main thread resolved, from sources or a build.
 */
const WORKER_SOURCE = (ortUrl: string) => `
const { parentPort } = require('node:worker_threads');
const buffersOf = (tensors) => [...new Set(Object.values(tensors).map((t) => t.data.buffer))];
import(${JSON.stringify(ortUrl)}).then((ort) => {
  ort.env.logLevel = 'fatal';
  let session = null;
  parentPort.on('message', async (m) => {
    if (m.type === 'load') {
      try {
        session = await ort.InferenceSession.create(m.file, m.options);
        parentPort.postMessage({ type: 'loaded', inputNames: [...session.inputNames], outputNames: [...session.outputNames],
          inputMetadata: structuredClone(session.inputMetadata ?? []), outputMetadata: structuredClone(session.outputMetadata ?? []) });
      } catch (err) {
        parentPort.postMessage({ type: 'load-failed', message: String(err && err.message || err) });
      }
    } else if (m.type === 'run') {
      try {
        const feeds = {};
        for (const [name, t] of Object.entries(m.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
        const result = await session.run(feeds);
        const outputs = {};
        for (const [name, t] of Object.entries(result)) outputs[name] = { type: t.type, dims: t.dims, data: t.data };
        parentPort.postMessage({ type: 'result', id: m.id, outputs }, buffersOf(outputs));
      } catch (err) {
        parentPort.postMessage({ type: 'run-failed', id: m.id, message: String(err && err.message || err) });
      }
    } else if (m.type === 'release') {
      try { if (session) await session.release(); } finally { session = null; parentPort.postMessage({ type: 'released' }); }
    }
  });
});
`;

/** A tensor's data, transferable when it owns its whole ArrayBuffer; otherwise a copy that does. */
function ownedData(t: ort.Tensor): ort.Tensor.DataType {
  const d = t.data as ArrayBufferView & ort.Tensor.DataType;
  if (Array.isArray(d)) throw new TypeError('string tensors cannot be sent to a session worker');
  const view = d as unknown as ArrayBufferView;
  if (view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && view.buffer instanceof ArrayBuffer) return d;
  return (d as unknown as { slice(): ort.Tensor.DataType }).slice();
}

export class SessionWorkerError extends Error {
  override readonly name = 'SessionWorkerError';
}

/**
 * An ort.InferenceSession whose model runs in a worker thread. Runs on one session queue in its worker
 * (one at a time, as onnxruntime would run them); runs on different sessions overlap. The feeds' buffers
 * are transferred to the worker: the caller must not use an input tensor's data after run().
 */
export class WorkerSession implements ort.InferenceSession {
  private nextId = 0;
  private readonly pending = new Map<number, { resolve(o: ort.InferenceSession.ReturnType): void; reject(e: Error): void }>();
  private exited: Error | null = null;
  private names: { inputNames: string[]; outputNames: string[]; inputMetadata: ort.InferenceSession.ValueMetadata[]; outputMetadata: ort.InferenceSession.ValueMetadata[] } | null = null;
  private waiting: { resolve(m: FromSessionWorker): void } | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: FromSessionWorker) => this.onMessage(m));
    worker.on('error', (err) => this.fail(err instanceof Error ? err : new Error(String(err))));
    worker.on('exit', (code) => this.fail(new SessionWorkerError(`session worker exited (code ${code})`)));
    // An idle worker does not keep the process alive; one with runs in flight does (see run()).
    worker.unref();
  }

  static start(): WorkerSession {
    const ortUrl = import.meta.resolve('onnxruntime-node');
    // A CommonJS eval worker: require() for worker_threads, import() for onnxruntime-node by its resolved URL.
    return new WorkerSession(new Worker(WORKER_SOURCE(ortUrl), { eval: true, execArgv: [] }));
  }

  /** Creates the session in the worker; throws (and the worker stays usable for another attempt) on failure. */
  async load(file: string | Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<void> {
    const reply = await this.request({ type: 'load', file, options });
    if (reply.type === 'load-failed') throw new SessionWorkerError(reply.message);
    if (reply.type !== 'loaded') throw new SessionWorkerError(`unexpected reply ${reply.type}`);
    this.names = { inputNames: reply.inputNames, outputNames: reply.outputNames, inputMetadata: reply.inputMetadata, outputMetadata: reply.outputMetadata };
  }

  get inputNames(): readonly string[] {
    return this.loaded().inputNames;
  }
  get outputNames(): readonly string[] {
    return this.loaded().outputNames;
  }
  get inputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.loaded().inputMetadata;
  }
  get outputMetadata(): readonly ort.InferenceSession.ValueMetadata[] {
    return this.loaded().outputMetadata;
  }

  run(feeds: ort.InferenceSession.FeedsType): Promise<ort.InferenceSession.ReturnType> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    const wire: Record<string, WireTensor> = {};
    const transfer = new Set<ArrayBuffer>();
    for (const [name, tensor] of Object.entries(feeds)) {
      const data = ownedData(tensor);
      wire[name] = { type: tensor.type, dims: tensor.dims, data };
      transfer.add((data as unknown as ArrayBufferView).buffer as ArrayBuffer);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ type: 'run', id, feeds: wire } satisfies ToSessionWorker, [...transfer]);
    });
  }

  async release(): Promise<void> {
    if (this.exited) return;
    try {
      await this.request({ type: 'release' });
    } finally {
      await this.worker.terminate();
    }
  }

  startProfiling(): void {}
  endProfiling(): void {}

  private loaded() {
    if (!this.names) throw new SessionWorkerError('session not loaded');
    return this.names;
  }

  /** load and release: one at a time, answered in order. */
  private request(m: ToSessionWorker): Promise<FromSessionWorker> {
    if (this.exited) return Promise.reject(this.exited);
    return new Promise((resolve) => {
      this.waiting = { resolve };
      this.worker.ref();
      this.worker.postMessage(m);
    });
  }

  private onMessage(m: FromSessionWorker): void {
    if (m.type === 'result' || m.type === 'run-failed') {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0 && !this.waiting) this.worker.unref();
      if (m.type === 'run-failed') return p.reject(new SessionWorkerError(m.message));
      const outputs: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(m.outputs)) outputs[name] = new ort.Tensor(t.type, t.data as Float32Array, t.dims);
      return p.resolve(outputs);
    }
    const w = this.waiting;
    this.waiting = null;
    if (this.pending.size === 0) this.worker.unref();
    w?.resolve(m);
  }

  private fail(err: Error): void {
    if (this.exited) return;
    this.exited = err;
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    const w = this.waiting;
    this.waiting = null;
    // A worker gone while loading or releasing: the load reports it, a release is done.
    w?.resolve(w && this.names ? { type: 'released' } : { type: 'load-failed', message: err.message });
  }
}
