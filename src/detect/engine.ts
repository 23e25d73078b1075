import type { Detection, ObjectClass, RgbImage } from '../types.ts';
import { clipBox } from './boxes.ts';
import type { FaceSearch } from './face-ensemble/face-ensemble.ts';
import type { DetectorPlugin, DetectorStage, PendingInputs, StageInputs } from './plugin.ts';
import { detectorFor, REGISTRY, type Registry } from './registry.ts';
import { SessionFactory, type ActiveProvider, type EngineLog } from './session.ts';
import type { DetectOptions, ExecutionProviderChoice, FaceDetectorChoice } from './types.ts';

export interface EngineResult {
  detections: Detection[];
  /** Milliseconds per detector stage. */
  timings: Record<string, number>;
}

export interface DetectionEngine {
  /** The execution provider really in use. */
  readonly provider: ActiveProvider;
  /** Classes this engine can detect. */
  readonly classes: readonly ObjectClass[];
  /** The face detector in use (e.g. "face:yunet", "face:ensemble(full-range,ssd-mobilenet,mtcnn)"); null without the face class. */
  readonly faceDetector?: string | null;
  /** Keys of the registry's plugins it loaded (registry.ts), in result order. */
  readonly plugins?: readonly string[];
  /** --detect-every: the video pipeline runs this engine on every Nth frame (absent: the pipeline's default). */
  readonly detectEvery?: number;
  detect(image: RgbImage, options: DetectOptions): Promise<EngineResult>;
  dispose(): Promise<void>;
}

export interface CreateEngineOptions {
  classes: readonly ObjectClass[];
  provider: ExecutionProviderChoice;
  /** Default: <repo>/models. */
  modelsDir?: string;
  /** Downloaded model packs (default: modelsDir). */
  packsDir?: string;
  /** Default auto: YuNet when the `yunet` pack is installed. */
  faceDetector?: FaceDetectorChoice;
  threads?: number;
  /** Sessions in worker threads (default true); false runs onnxruntime on the calling thread. */
  sessionWorkers?: boolean;
  /** Work spent on faces in frames over 1024 px (default balanced). */
  faceSearch?: FaceSearch;
  /** --detect-every, handed to the video pipeline with the engine. */
  detectEvery?: number;
  log?: EngineLog;
  /** The plugins to compose from (default: src/detect/registry.ts). */
  registry?: Registry;
}

/** Classes in the order their detectors are loaded (the first missing model is the one reported). */
const LOAD_ORDER: readonly ObjectClass[] = ['face', 'license-plate', 'person', 'vehicle'];

interface Loaded {
  plugin: DetectorPlugin;
  stage: DetectorStage;
}

/**
 * Loads the models the classes need (each once): for each class the registry's detector (the face
 * detector by `faceDetector`), the detectors their needs name (vehicles for plates, when installed),
 * and the installed refiners of the classes (person masks). Stages then run per image as soon as what
 * they need is there.
 */
export async function createDetectionEngine(options: CreateEngineOptions): Promise<DetectionEngine> {
  const factory = new SessionFactory(options);
  const wants = (c: ObjectClass) => options.classes.includes(c);
  const registry = options.registry ?? REGISTRY;
  try {
    const chosen: DetectorPlugin[] = [];
    const add = (p: DetectorPlugin) => {
      if (!chosen.includes(p)) chosen.push(p);
    };
    for (const cls of LOAD_ORDER.filter(wants)) add(detectorFor(cls, factory, cls === 'face' ? (options.faceDetector ?? 'auto') : 'auto', registry));
    for (const cls of LOAD_ORDER.filter(wants)) {
      for (const refiner of registry.refiners[cls] ?? []) {
        if (refiner.installed(factory)) add(refiner);
        else options.log?.('warn', `${refiner.files.filter((f) => !factory.has(f)).join(', ')} not found; ${refiner.whenMissing ?? `${refiner.key} skipped`}`);
      }
    }
    // What the chosen plugins need (appended, so that their needs are resolved in turn).
    for (let i = 0; i < chosen.length; i++) {
      for (const need of chosen[i]!.needs) {
        if (chosen.some((p) => p.role === 'detector' && p.classes.includes(need.cls))) continue;
        const provider = detectorFor(need.cls, factory, 'auto', registry);
        if (need.optional && !provider.installed(factory)) continue;
        add(provider);
      }
    }
    const loaded: Loaded[] = [];
    const pluginOptions = { faceSearch: options.faceSearch ?? 'balanced', ...(options.log ? { log: options.log } : {}) } as const;
    for (const plugin of chosen) loaded.push({ plugin, stage: await plugin.create(factory, pluginOptions) });
    // Results in the registry's order, whatever the load order.
    loaded.sort((a, b) => registry.plugins.indexOf(a.plugin) - registry.plugins.indexOf(b.plugin));
    const provider = await factory.activeProvider();
    return new Engine(factory, provider, [...options.classes], loaded, options.detectEvery);
  } catch (err) {
    await factory.dispose();
    throw err;
  }
}

class Engine implements DetectionEngine {
  readonly faceDetector: string | null;

  constructor(
    private readonly factory: SessionFactory,
    readonly provider: ActiveProvider,
    readonly classes: readonly ObjectClass[],
    private readonly loaded: readonly Loaded[],
    readonly detectEvery?: number,
  ) {
    this.faceDetector = this.providerOf('face')?.stage.name ?? null;
    this.plugins = loaded.map((l) => l.plugin.key);
  }

  readonly plugins: readonly string[];


  private providerOf(cls: ObjectClass): Loaded | undefined {
    return this.loaded.find((l) => l.plugin.role === 'detector' && l.plugin.classes.includes(cls));
  }

  async detect(image: RgbImage, options: DetectOptions): Promise<EngineResult> {
    const wanted = options.classes.filter((c) => this.classes.includes(c));
    const timings: Record<string, number> = {};
    // The stages of this call: those of the wanted classes, then (transitively) the providers of their needs.
    const active = this.loaded.filter((l) => l.plugin.role !== 'member' && l.plugin.classes.some((c) => wanted.includes(c)));
    for (let i = 0; i < active.length; i++) {
      for (const need of active[i]!.plugin.needs) {
        const p = this.providerOf(need.cls);
        if (p && !active.includes(p)) active.push(p);
      }
    }
    const consumers = (l: Loaded) => active.flatMap((c) => c.plugin.needs.filter((n) => l.plugin.classes.includes(n.cls) && this.providerOf(n.cls) === l));
    // A need's detections are handed over from its minScore on, when that is below the user's threshold.
    const handOver = (cls: ObjectClass, minScore?: number) => Math.min(options.thresholds[cls], minScore ?? options.thresholds[cls]);
    const running = new Map<Loaded, Promise<Detection[]>>();
    const run = (l: Loaded): Promise<Detection[]> => {
      let pending = running.get(l);
      if (pending) return pending;
      pending = (async () => {
        const inputs: StageInputs = {};
        const pending: PendingInputs = {};
        for (const need of l.plugin.needs) {
          const p = this.providerOf(need.cls);
          if (!p || !active.includes(p)) continue;
          const floor = handOver(need.cls, need.minScore);
          const given = run(p).then((found) => found.filter((d) => d.cls === need.cls && d.score >= floor));
          if (need.early) {
            // The stage may fail before it awaits this; the provider's own failure still rejects the call.
            given.catch(() => {});
            pending[need.cls] = given;
          } else inputs[need.cls] = await given;
        }
        const needed = consumers(l);
        const asked = l.plugin.classes.filter((c) => wanted.includes(c) || needed.some((n) => n.cls === c));
        const thresholds = { ...options.thresholds };
        for (const n of needed) thresholds[n.cls] = Math.min(thresholds[n.cls], handOver(n.cls, n.minScore));
        const start = performance.now();
        try {
          return await l.stage.run(image, { classes: asked, thresholds }, inputs, pending);
        } finally {
          timings[l.plugin.stage] = (timings[l.plugin.stage] ?? 0) + (performance.now() - start);
        }
      })();
      running.set(l, pending);
      return pending;
    };
    // Stages whose needs are met run concurrently (faces beside persons and vehicles; person masks once those are found;
    // plates at once, their vehicle crops once the vehicles are found).
    const found = await Promise.all(active.map(run));
    const byStage = new Map(active.map((l, i) => [l, found[i]!]));
    const detections = this.loaded.flatMap((l) => byStage.get(l) ?? []).filter((d) => wanted.includes(d.cls));
    const clipped = detections
      .filter((d) => d.score >= options.thresholds[d.cls])
      .map((d) => ({ ...d, box: clipBox(d.box, image.width, image.height) }))
      .filter((d) => d.box.x1 > d.box.x0 && d.box.y1 > d.box.y0);
    return { detections: clipped, timings };
  }

  async dispose(): Promise<void> {
    await this.factory.dispose();
  }
}
