import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { ModelsUnavailableError } from '../errors.ts';
import type { ExecutionProviderChoice } from './types.ts';

export type ActiveProvider = 'cpu' | 'cuda' | 'tensorrt';
export type EngineLog = (level: 'info' | 'warn', message: string) => void;

export const DEFAULT_MODELS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../models');

export interface SessionFactoryOptions {
  provider: ExecutionProviderChoice;
  modelsDir?: string;
  /** Folder of downloaded model packs (`anonymiser models fetch`), searched after modelsDir; default: modelsDir. */
  packsDir?: string;
  /** Intra-op threads per session; onnxruntime picks one per core when left out. */
  threads?: number;
  log?: EngineLog;
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

  load(fileName: string): Promise<LoadedSession> {
    let pending = this.cache.get(fileName);
    if (!pending) {
      pending = this.create(fileName);
      this.cache.set(fileName, pending);
      pending.catch(() => this.cache.delete(fileName));
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

  private async create(fileName: string): Promise<LoadedSession> {
    const file = this.modelPath(fileName);
    if (!existsSync(file)) throw new ModelsUnavailableError(`model file not found: ${file}`);
    const wanted = acceleratorFor(this.options.provider);
    if (wanted && !this.acceleratorFailed) {
      try {
        // TensorRT hands the nodes it cannot build to the next provider: CUDA keeps them on the GPU (no copies to the host).
        const session = await ort.InferenceSession.create(file, this.sessionOptions(wanted === 'tensorrt' ? ['tensorrt', 'cuda', 'cpu'] : [wanted, 'cpu']));
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
      const session = await ort.InferenceSession.create(file, this.sessionOptions(['cpu']));
      return { session, provider: 'cpu' };
    } catch (err) {
      throw new ModelsUnavailableError(`cannot load ${fileName}: ${firstLine(err)}`);
    }
  }

  private sessionOptions(providers: string[]): ort.InferenceSession.SessionOptions {
    return {
      executionProviders: providers,
      graphOptimizationLevel: 'all',
      // onnxruntime warns about unused initialisers left by the converters; errors still surface.
      logSeverityLevel: 3,
      ...(this.options.threads ? { intraOpNumThreads: this.options.threads, interOpNumThreads: 1 } : {}),
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
