import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { ModelsUnavailableError } from '../errors.ts';
import { WorkerSession } from './session-worker.ts';
import type { ExecutionProviderChoice } from './types.ts';

export type ActiveProvider = 'cpu' | 'cuda' | 'tensorrt';
export type EngineLog = (level: 'info' | 'warn', message: string) => void;

export const DEFAULT_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

export interface SessionFactoryOptions {
  provider: ExecutionProviderChoice;
  modelsDir?: string;
  /** Folder of downloaded model packs (`anonymiser models fetch`), searched after modelsDir; default: modelsDir. */
  packsDir?: string;
  /** Intra-op threads per session, for every model; left out: MODEL_THREADS, else one per core (onnxruntime's choice). */
  threads?: number;
  /**
   * Each session in its own worker thread (default), so that runs of different models overlap with each other
   * and with the caller's work; false keeps onnxruntime on the calling thread (run() then blocks it).
   */
  sessionWorkers?: boolean;
  log?: EngineLog;
}

/**
 * Intra-op threads per model file when the sessions run in workers (on CPU) and `threads` is not given.
 * Two stages run at the same time on a 2-core machine (faces beside persons+vehicles), so a session that
 * shares the cores with another gets one thread: more threads than cores make onnxruntime's pools wait on
 * each other. Models not listed get onnxruntime's default (one per core). From bench/session-threads.ts: 12 MP,
 * all four classes, CPU per image 5.9 s in-thread, 5.6 s in workers at 2 threads each, 4.1 s at 1 thread each,
 * 3.8 s with this table (the machine was loaded 6-10×, so only the CPU times compare). PP-OCR had two threads while
 * it ran after both; since its whole-frame pass runs beside them it has one: 1080p faces + plates, whole process
 * 0.88× the CPU of two threads (median of 4 paired runs, bench/session-threads.ts, machine loaded 3-6×).
 */
export const MODEL_THREADS: Record<string, number> = {
  // Beside each other: faces (YuNet) ‖ persons+vehicles (NanoDet, then the selfie masks) ‖ plates' whole-frame pass
  // (PP-OCR; its vehicle crops follow NanoDet).
  'yunet_n_dynamic.onnx': 1,
  'nanodet_coco.onnx': 1,
  'selfie_segmentation.onnx': 1,
  'ppocr_v4_det.onnx': 1,
};

/**
 * Models whose input size follows the frame (up to 2048² for YuNet's tiles, 1152 px for PP-OCR's whole-frame
 * pass): onnxruntime's CPU arena keeps their largest run's activations for good. Without it they are freed after
 * each run: 12 MP all four classes peak RSS 1245 -> 935 MiB, CPU per image 3.82 -> 3.92 s (noise on this machine).
 */
const NO_ARENA = new Set(['yunet_n_dynamic.onnx', 'ppocr_v4_det.onnx']);

/** A model file's path, or the bytes of a model derived from it. */
export type ModelSource = string | Uint8Array;

/** A model made from a model file's bytes when it is loaded (see SessionFactory.load). */
export interface DerivedModel {
  /** Names the derivation (the cache key beside the file name). */
  name: string;
  make(fileBytes: Uint8Array): Uint8Array;
}

export interface LoadedSession {
  session: ort.InferenceSession;
  provider: ActiveProvider;
}

/**
 * Creates onnxruntime sessions, each model file once, on the best provider that really loads.
 * onnxruntime-node does not fall back by itself: a provider whose shared libraries are missing
 * makes session creation throw even when 'cpu' is listed after it, so the fallback is done here.
 */
export class SessionFactory {
  readonly modelsDir: string;
  readonly packsDir: string;
  private readonly cache = new Map<string, Promise<LoadedSession>>();
  private acceleratorFailed = false;

  constructor(private readonly options: SessionFactoryOptions) {
    this.modelsDir = options.modelsDir ?? DEFAULT_MODELS_DIR;
    this.packsDir = options.packsDir ?? this.modelsDir;
    // A failed accelerator attempt makes onnxruntime print its own multi-line error before throwing;
    // the failure is reported once through `log` instead. onnxruntime reads this when its process-wide
    // environment starts (the first session of any factory), hence set regardless of the choice here.
    ort.env.logLevel = 'fatal';
  }

  modelPath(fileName: string): string {
    const bundled = path.join(this.modelsDir, fileName);
    if (this.packsDir === this.modelsDir || existsSync(bundled)) return bundled;
    return path.join(this.packsDir, fileName);
  }

  has(fileName: string): boolean {
    return existsSync(this.modelPath(fileName));
  }

  /**
   * The session of a model file, created once. With `derive`, a session of a model derived from the file's bytes
   * at load time (one per derive.name), with the file's session options: e.g. YuNet with its 2× pass folded in.
   */
  load(fileName: string, derive?: DerivedModel): Promise<LoadedSession> {
    const key = derive ? `${fileName}#${derive.name}` : fileName;
    let pending = this.cache.get(key);
    if (!pending) {
      pending = this.create(fileName, derive);
      this.cache.set(key, pending);
      pending.catch(() => this.cache.delete(key));
    }
    return pending;
  }

  /** The provider the loaded sessions run on ('cpu' before any model is loaded). */
  async activeProvider(): Promise<ActiveProvider> {
    const loaded = await Promise.allSettled([...this.cache.values()]);
    for (const s of loaded) if (s.status === 'fulfilled' && s.value.provider !== 'cpu') return s.value.provider;
    return 'cpu';
  }

  async dispose(): Promise<void> {
    const sessions = await Promise.allSettled([...this.cache.values()]);
    this.cache.clear();
    for (const s of sessions) if (s.status === 'fulfilled') await s.value.session.release();
  }

  private async create(fileName: string, derive?: DerivedModel): Promise<LoadedSession> {
    const onDisk = this.modelPath(fileName);
    if (!existsSync(onDisk)) throw new ModelsUnavailableError(`model file not found: ${onDisk}`);
    const file = derive ? derive.make(new Uint8Array(await readFile(onDisk))) : onDisk;
    const worker = this.options.sessionWorkers === false ? undefined : WorkerSession.start();
    try {
      return await this.createOn(worker, fileName, file);
    } catch (err) {
      await worker?.release();
      throw err;
    }
  }

  /** Session options are made per attempt: the thread count depends on the provider (GPU runs need few CPU threads). */
  private async open(worker: WorkerSession | undefined, file: ModelSource, fileName: string, providers: string[]): Promise<ort.InferenceSession> {
    const options = this.sessionOptions(providers, fileName, worker !== undefined);
    if (!worker) return typeof file === 'string' ? ort.InferenceSession.create(file, options) : ort.InferenceSession.create(file, options);
    await worker.load(file, options);
    return worker;
  }

  private async createOn(worker: WorkerSession | undefined, fileName: string, file: ModelSource): Promise<LoadedSession> {
    const wanted = acceleratorFor(this.options.provider);
    if (wanted && !this.acceleratorFailed) {
      try {
        // TensorRT hands the nodes it cannot build to the next provider: CUDA keeps them on the GPU (no copies to the host).
        const session = await this.open(worker, file, fileName, wanted === 'tensorrt' ? ['tensorrt', 'cuda', 'cpu'] : [wanted, 'cpu']);
        return { session, provider: wanted };
      } catch (err) {
        // Remember the failure so that the next model does not pay for (and log) the same attempt.
        this.acceleratorFailed = true;
        const reason = firstLine(err);
        const level = this.options.provider === 'auto' ? 'info' : 'warn';
        this.options.log?.(level, `${wanted} execution provider unavailable (${reason}); running on CPU`);
      }
    }
    try {
      const session = await this.open(worker, file, fileName, ['cpu']);
      return { session, provider: 'cpu' };
    } catch (err) {
      throw new ModelsUnavailableError(`cannot load ${fileName}: ${firstLine(err)}`);
    }
  }

  private sessionOptions(providers: string[], fileName: string, inWorker: boolean): ort.InferenceSession.SessionOptions {
    const threads = this.options.threads || (inWorker && providers[0] === 'cpu' ? MODEL_THREADS[fileName] : undefined);
    return {
      executionProviders: providers,
      graphOptimizationLevel: 'all',
      // onnxruntime warns about unused initialisers left by the converters; errors still surface.
      logSeverityLevel: 3,
      ...(NO_ARENA.has(fileName) ? { enableCpuMemArena: false } : {}),
      ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    };
  }
}

function acceleratorFor(choice: ExecutionProviderChoice): 'cuda' | 'tensorrt' | undefined {
  if (choice === 'auto' || choice === 'cuda') return 'cuda';
  if (choice === 'tensorrt') return 'tensorrt';
  return undefined;
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]!.slice(0, 200);
}
