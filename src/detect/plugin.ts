// What one model folder of src/detect/ declares to the registry (registry.ts) and the engine (engine.ts).
import type { Detection, ObjectClass, RgbImage } from '../types.ts';
import type { FaceSearch } from './face-ensemble/face-ensemble.ts';
import { modelCard, type ModelCard } from './model-cards.ts';
import type { EngineLog, SessionFactory } from './session.ts';
import type { DetectOptions } from './types.ts';

/**
 * - detector: finds the objects of its classes; the engine picks one per class.
 * - member: a model that runs inside another plugin (the face ensemble's members), never picked on its own.
 * - refiner: adds to detections other stages found (the person masker's silhouettes); finds none itself.
 */
export type PluginRole = 'detector' | 'member' | 'refiner';

/** Detections of another stage that a plugin runs on. */
export interface PluginNeed {
  cls: ObjectClass;
  /**
   * Optional: the plugin also runs when no installed plugin provides the class (the input is then
   * absent); required needs make the engine load the provider whenever this plugin runs.
   */
  optional?: boolean;
  /**
   * The provider's detections are handed over from this score on (or from the user's threshold for
   * the class, if lower), so that a stage can use boxes the user does not want anonymised.
   */
  minScore?: number;
  /**
   * The stage starts at once, beside the provider, and gets this need's detections as a promise in
   * `pending` (plates run their whole-frame pass while the vehicles are searched; only the vehicle
   * crops wait for them). Its timing then includes the wait.
   */
  early?: boolean;
}

/** What the engine passes a stage: the detections of each class it needs (absent: no provider ran). */
export type StageInputs = Partial<Record<ObjectClass, Detection[]>>;

/** The detections of a stage's `early` needs, still to come (absent: no provider runs). */
export type PendingInputs = Partial<Record<ObjectClass, Promise<Detection[]>>>;

/** A loaded plugin, as the engine runs it. */
export interface DetectorStage {
  /** The model(s) in use, e.g. "face:yunet" (the engine's `faceDetector`). */
  readonly name: string;
  /**
   * Detections of the classes asked (`options.classes`, a subset of the plugin's). A refiner changes
   * the detections of `inputs` in place and returns none.
   */
  run(image: RgbImage, options: DetectOptions, inputs: StageInputs, pending?: PendingInputs): Promise<Detection[]>;
}

export interface PluginOptions {
  /** Work spent on faces in frames over 1024 px. */
  faceSearch: FaceSearch;
  log?: EngineLog;
}

export interface DetectorPlugin {
  /** Stable name (also `--face-detector <key>` for face detectors). */
  readonly key: string;
  readonly classes: readonly ObjectClass[];
  readonly role: PluginRole;
  /** Name of the stage in `EngineResult.timings` (read by the bench and /v1/status). */
  readonly stage: string;
  /** Model files the plugin may load, first the ones it cannot run without. */
  readonly files: readonly string[];
  /** Plugin keys of the members it composes (face ensemble). */
  readonly members?: readonly string[];
  readonly needs: readonly PluginNeed[];
  /** Cards of `files`, from the converter's manifest or the pack manifest. */
  modelCards(): ModelCard[];
  /** Whether its models are there (a refiner that is not is skipped with `whenMissing` logged). */
  installed(factory: SessionFactory): boolean;
  /** What the product does without it (refiners), logged when it is not installed. */
  readonly whenMissing?: string;
  create(factory: SessionFactory, options: PluginOptions): Promise<DetectorStage>;
}

export type PluginDefinition = Omit<DetectorPlugin, 'modelCards' | 'installed' | 'needs'> & {
  needs?: readonly PluginNeed[];
  /** Default: every file of `files` is there. */
  installed?(factory: SessionFactory): boolean;
};

/** A plugin whose cards come from its files and which is installed when all of its files are. */
export function definePlugin(definition: PluginDefinition): DetectorPlugin {
  const { installed, needs, ...rest } = definition;
  return {
    ...rest,
    needs: needs ?? [],
    modelCards: () => definition.files.map(modelCard),
    installed: installed ?? ((factory) => definition.files.every((f) => factory.has(f))),
  };
}

/** A stage for a plugin whose model needs nothing from other stages. */
export function detectorStage(detector: { readonly name: string; detect(image: RgbImage, options: DetectOptions): Promise<Detection[]> }): DetectorStage {
  return { name: detector.name, run: (image, options) => detector.detect(image, options) };
}
