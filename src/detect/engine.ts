import type { Box, Detection, ObjectClass, RgbImage } from '../types.ts';
import { ModelsUnavailableError } from '../errors.ts';
import { clipBox } from './boxes.ts';
import { FACE_MODELS, FaceDetector } from './mediapipe-face/face.ts';
import { FaceEnsemble, MEDIAPIPE_ENSEMBLE, mtcnnVote, ssdEnsemble, type FaceSearch } from './face-ensemble/face-ensemble.ts';
import { MTCNN_FILES } from './mtcnn/mtcnn.ts';
import { NANODET_MODEL_FILE, ObjectDetector } from './nanodet/objects.ts';
import { PersonMasker, SELFIE_MODEL_FILE } from './selfie-mask/person-mask.ts';
import { PlateDetector } from './ppocr-plate/plate.ts';
import { SessionFactory, type ActiveProvider, type EngineLog } from './session.ts';
import type { DetectOptions, Detector, ExecutionProviderChoice } from './types.ts';
import { YUNET_MODEL_FILE, YunetFaceDetector } from './yunet/yunet.ts';
import type { FaceDetectorChoice } from './types.ts';

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
  /** Work spent on faces in frames over 1024 px (default balanced). */
  faceSearch?: FaceSearch;
  /** --detect-every, handed to the video pipeline with the engine. */
  detectEvery?: number;
  log?: EngineLog;
}

/** Vehicle score from which a vehicle box counts as context for plates (one plate per vehicle). */
const PLATE_CONTEXT_VEHICLE_SCORE = 0.3;

/** Loads the models the classes need (each once) and runs them per image. */
export async function createDetectionEngine(options: CreateEngineOptions): Promise<DetectionEngine> {
  const factory = new SessionFactory(options);
  const wants = (c: ObjectClass) => options.classes.includes(c);
  try {
    let face: Detector | undefined;
    const faceChoice = options.faceDetector ?? 'auto';
    if (wants('face') && (faceChoice === 'yunet' || (faceChoice === 'auto' && factory.has(YUNET_MODEL_FILE)))) {
      if (!factory.has(YUNET_MODEL_FILE)) throw new ModelsUnavailableError(`face detector yunet asked for, but ${YUNET_MODEL_FILE} is not installed: run "anonymiser models fetch yunet"`);
      face = await YunetFaceDetector.create(factory, options.faceSearch ?? 'balanced');
    } else if (wants('face')) {
      const hasFull = factory.has(FACE_MODELS['full-range'].file);
      const hasBack = factory.has(FACE_MODELS['back-256'].file);
      const hasSsd = factory.has(FACE_MODELS['ssd-mobilenet'].file);
      const hasMtcnn = Object.values(MTCNN_FILES).every((f) => factory.has(f));
      const search = options.faceSearch ?? 'balanced';
      if (hasFull && hasSsd) face = await FaceEnsemble.create(factory, ssdEnsemble(search), hasMtcnn ? mtcnnVote(search) : undefined);
      else if (hasFull && hasBack) face = await FaceEnsemble.create(factory, MEDIAPIPE_ENSEMBLE);
      else {
        // Either model alone still works, with less recall at the same false-positive rate.
        const model = hasFull ? 'full-range' : 'back-256';
        options.log?.('warn', `face model ${FACE_MODELS[hasFull ? 'back-256' : 'full-range'].file} not found; detecting faces with ${FACE_MODELS[model].file} alone`);
        face = await FaceDetector.create(factory, { model });
      }
    }
    const plate = wants('license-plate') ? await PlateDetector.create(factory) : undefined;
    // Plates need vehicle boxes (close-up search, one plate per vehicle), so the vehicle model is loaded for them too.
    const needsObjects = wants('person') || wants('vehicle') || (wants('license-plate') && factory.has(NANODET_MODEL_FILE));
    const objects = needsObjects ? await ObjectDetector.create(factory) : undefined;
    let masker: PersonMasker | undefined;
    if (wants('person')) {
      if (factory.has(SELFIE_MODEL_FILE)) masker = await PersonMasker.create(factory);
      else options.log?.('warn', `${SELFIE_MODEL_FILE} not found; persons are covered by their boxes`);
    }
    const provider = await factory.activeProvider();
    return new Engine(factory, provider, [...options.classes], { face, plate, objects, masker }, options.detectEvery);
  } catch (err) {
    await factory.dispose();
    throw err;
  }
}

class Engine implements DetectionEngine {
  constructor(
    private readonly factory: SessionFactory,
    readonly provider: ActiveProvider,
    readonly classes: readonly ObjectClass[],
    private readonly detectors: { face?: Detector; plate?: PlateDetector; objects?: ObjectDetector; masker?: PersonMasker },
    readonly detectEvery?: number,
  ) {
    this.faceDetector = detectors.face?.name ?? null;
  }

  readonly faceDetector: string | null;

  async detect(image: RgbImage, options: DetectOptions): Promise<EngineResult> {
    const wanted = options.classes.filter((c) => this.classes.includes(c));
    const call: DetectOptions = { classes: wanted, thresholds: options.thresholds };
    const timings: Record<string, number> = {};
    const detections: Detection[] = [];
    const timed = async <T>(stage: string, run: () => Promise<T>): Promise<T> => {
      const start = performance.now();
      try {
        return await run();
      } finally {
        timings[stage] = (timings[stage] ?? 0) + (performance.now() - start);
      }
    };
    const { face, plate, objects, masker } = this.detectors;
    let vehicleBoxes: Box[] | undefined;
    const objectClasses = wanted.filter((c) => c === 'person' || c === 'vehicle');
    // Vehicles are also searched when only plates are wanted, so that plates get their close-up pass.
    if (objects && (objectClasses.length > 0 || (plate && wanted.includes('license-plate')))) {
      const asked: ObjectClass[] = [...new Set<ObjectClass>([...objectClasses, ...(plate && wanted.includes('license-plate') ? ['vehicle' as const] : [])])];
      // The plate search wants every likely vehicle, whatever threshold the user set for blurring vehicles.
      const thresholds = { ...options.thresholds, vehicle: Math.min(options.thresholds.vehicle, PLATE_CONTEXT_VEHICLE_SCORE) };
      const found = await timed('person+vehicle', () => objects.detect(image, { classes: asked, thresholds }));
      vehicleBoxes = found.filter((d) => d.cls === 'vehicle').map((d) => d.box);
      const kept = found.filter((d) => wanted.includes(d.cls) && d.score >= options.thresholds[d.cls]);
      if (masker && wanted.includes('person')) await timed('person-mask', () => masker.addMasks(image, kept));
      detections.push(...kept);
    }
    if (face && wanted.includes('face')) detections.push(...(await timed('face', () => face.detect(image, call))));
    if (plate && wanted.includes('license-plate')) {
      detections.push(...(await timed('license-plate', () => plate.detect(image, call, vehicleBoxes))));
    }
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
