// The one place where command-line flags and environment variables become a typed configuration.
import { resolve, join } from 'node:path';
import { Command, Option } from 'commander';
import { OBJECT_CLASSES, DEFAULT_THRESHOLDS, type ObjectClass } from './types.ts';
import type { ExecutionProviderChoice } from './detect/types.ts';
import { FACE_DETECTOR_CHOICES, type FaceDetectorChoice } from './detect/types.ts';
import { FACE_SEARCH_LEVELS, type FaceSearch } from './detect/face-ensemble.ts';
import { DEFAULT_MODELS_DIR } from './detect/session.ts';

export interface EngineConfig {
  classes: ObjectClass[];
  provider: ExecutionProviderChoice;
  /** onnxruntime intra-op threads; 0 lets onnxruntime decide. */
  threads: number;
  thresholds: Record<ObjectClass, number>;
  modelsDir?: string;
  faceSearch: FaceSearch;
  /** Downloaded model packs (default: the models folder). */
  packsDir?: string;
  faceDetector: FaceDetectorChoice;
}

export interface ServeConfig extends EngineConfig {
  inputDir: string;
  outputDir: string;
  dbPath: string;
  host: string;
  port: number;
  concurrency: number;
  queueLimit: number;
  apiKey?: string;
  maxUploadMb: number;
  apiEndpoint?: string;
  webhookRetries: number;
  webhookTimeoutMs: number;
  shutdownGraceMs: number;
  logLevel: string;
}

export const PROVIDERS: readonly ExecutionProviderChoice[] = ['auto', 'cpu', 'cuda', 'tensorrt'];

function parseIntStrict(name: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new Error(`${name} must be an integer from ${min} to ${max}, got "${value}"`);
    }
    return n;
  };
}

function parseUnit(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new Error(`${name} must be a number from 0 to 1, got "${value}"`);
    return n;
  };
}

/** `-a face -a license-plate`, or the environment's comma-separated `ANONYMISER_ANONYMIZE=face,license-plate`. */
function collectClass(value: string, previous: ObjectClass[] | undefined): ObjectClass[] {
  const list = previous && previous !== DEFAULT_CLASSES ? [...previous] : [];
  for (const part of value.split(',').map((s) => s.trim()).filter(Boolean)) {
    const cls = part === 'licence-plate' ? 'license-plate' : part;
    if (!(OBJECT_CLASSES as readonly string[]).includes(cls)) {
      throw new Error(`unknown class "${part}" (choose from ${OBJECT_CLASSES.join(', ')})`);
    }
    if (!list.includes(cls as ObjectClass)) list.push(cls as ObjectClass);
  }
  return list;
}
const DEFAULT_CLASSES: ObjectClass[] = [...OBJECT_CLASSES];

/** Options shared by every command that runs the detectors. */
export function addEngineOptions(cmd: Command): Command {
  cmd
    .addOption(
      new Option('-a, --anonymize <class>', `class to detect and anonymise, repeatable (${OBJECT_CLASSES.join(', ')})`)
        .argParser(collectClass)
        .default(DEFAULT_CLASSES, 'all four')
        .env('ANONYMISER_ANONYMIZE'),
    )
    .addOption(
      new Option('--provider <provider>', 'onnxruntime execution provider; auto tries CUDA and falls back to CPU')
        .choices(PROVIDERS as string[])
        .default('auto')
        .env('ANONYMISER_PROVIDER'),
    )
    .addOption(
      new Option('--threads <n>', 'onnxruntime intra-op threads per model (0: onnxruntime decides)')
        .argParser(parseIntStrict('--threads', 0, 256))
        .default(0)
        .env('ANONYMISER_THREADS'),
    )
    .addOption(new Option('--models-dir <dir>', 'folder with the ONNX models (default: the bundled models/)').env('ANONYMISER_MODELS_DIR'))
    .addOption(
      new Option('--face-search <level>', 'work spent on small faces in frames over 1024 px: fast (~0.35 s at 1080p on 2 cores), balanced (~0.7 s), thorough (~2.2 s, most recall)')
        .choices(FACE_SEARCH_LEVELS as string[])
        .default('balanced')
        .env('ANONYMISER_FACE_SEARCH'),
    )
    .addOption(packsDirOption())
    .addOption(
      new Option('--face-detector <name>', 'faces from: auto (the yunet model pack when installed, else the bundled ensemble), yunet (required), ensemble')
        .choices(FACE_DETECTOR_CHOICES as string[])
        .default('auto')
        .env('ANONYMISER_FACE_DETECTOR'),
    );
  for (const cls of OBJECT_CLASSES) {
    const env = `ANONYMISER_${cls.toUpperCase().replace('-', '_')}_THRESHOLD`;
    cmd.addOption(
      new Option(`--${cls}-threshold <score>`, `minimum detection score for ${cls}`)
        .argParser(parseUnit(`--${cls}-threshold`))
        .default(DEFAULT_THRESHOLDS[cls])
        .env(env),
    );
  }
  return cmd;
}

function packsDirOption(): Option {
  return new Option('--packs-dir <dir>', 'folder of downloaded model packs (default: the models folder)').env('ANONYMISER_PACKS_DIR');
}

function modelMirrorOption(): Option {
  return new Option('--model-mirror <url|dir>', "fetch model packs from an operator's mirror (base URL or folder, files by name) instead of their upstream URLs").env('ANONYMISER_MODEL_MIRROR');
}

/** Options of `anonymiser models fetch`. */
export function addModelFetchOptions(cmd: Command): Command {
  return cmd.addOption(packsDirOption()).addOption(modelMirrorOption());
}

/** The mirror option alone, for commands that take engine options already (eval). */
export function addModelMirrorOption(cmd: Command): Command {
  return cmd.addOption(modelMirrorOption());
}

export interface ModelFetchConfig {
  packsDir: string;
  mirror?: string;
}

export function modelFetchConfigFrom(opts: RawOptions): ModelFetchConfig {
  const mirror = opts.modelMirror ? String(opts.modelMirror) : undefined;
  return {
    packsDir: resolve(String(opts.packsDir ?? opts.modelsDir ?? DEFAULT_MODELS_DIR)),
    mirror: mirror && !/^https?:\/\//i.test(mirror) ? resolve(mirror) : mirror,
  };
}

export function addServeOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--input <dir>', 'folder for uploaded originals').default('./data/input').env('ANONYMISER_INPUT'))
    .addOption(new Option('--output <dir>', 'folder for results').default('./data/output').env('ANONYMISER_OUTPUT'))
    .addOption(new Option('--db <file>', 'SQLite task database (default: <output>/tasks.sqlite)').env('ANONYMISER_DB'))
    .addOption(new Option('--host <host>', 'address to listen on').default('0.0.0.0').env('ANONYMISER_HOST'))
    .addOption(
      new Option('--port <port>', 'port to listen on (0: any free port)')
        .argParser(parseIntStrict('--port', 0, 65535))
        .default(8080)
        .env('ANONYMISER_PORT'),
    )
    .addOption(
      new Option('--concurrency <n>', 'files processed at the same time')
        .argParser(parseIntStrict('--concurrency', 1, 64))
        .default(1)
        .env('ANONYMISER_CONCURRENCY'),
    )
    .addOption(
      new Option('--queue-limit <n>', 'tasks allowed to wait; beyond it POST /v1/file answers 503')
        .argParser(parseIntStrict('--queue-limit', 1, 1_000_000))
        .default(100)
        .env('ANONYMISER_QUEUE_LIMIT'),
    )
    .addOption(new Option('--api-key <key>', 'require "Authorization: Bearer <key>" or "x-api-key: <key>" on every request').env('ANONYMISER_API_KEY'))
    .addOption(
      new Option('--max-upload-mb <mb>', 'largest accepted upload in MB')
        .argParser(parseIntStrict('--max-upload-mb', 1, 100_000))
        .default(500)
        .env('ANONYMISER_MAX_UPLOAD_MB'),
    )
    .addOption(new Option('--api-endpoint <url>', 'base URL used in download links (default: from the request)').env('ANONYMISER_API_ENDPOINT'))
    .addOption(
      new Option('--webhook-retries <n>', 'retries of a failed webhook call (exponential backoff)')
        .argParser(parseIntStrict('--webhook-retries', 0, 20))
        .default(4)
        .env('ANONYMISER_WEBHOOK_RETRIES'),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info').env('ANONYMISER_LOG_LEVEL'));
}

type RawOptions = Record<string, unknown>;

export function engineConfigFrom(opts: RawOptions): EngineConfig {
  const thresholds = { ...DEFAULT_THRESHOLDS };
  for (const cls of OBJECT_CLASSES) {
    const key = `${cls.replace(/-(.)/g, (_, c: string) => c.toUpperCase())}Threshold`;
    if (typeof opts[key] === 'number') thresholds[cls] = opts[key] as number;
  }
  return {
    classes: [...((opts.anonymize as ObjectClass[]) ?? DEFAULT_CLASSES)],
    provider: (opts.provider as ExecutionProviderChoice) ?? 'auto',
    threads: (opts.threads as number) ?? 0,
    thresholds,
    modelsDir: opts.modelsDir ? resolve(String(opts.modelsDir)) : undefined,
    faceSearch: (opts.faceSearch as FaceSearch) ?? 'balanced',
    packsDir: opts.packsDir ? resolve(String(opts.packsDir)) : undefined,
    faceDetector: (opts.faceDetector as FaceDetectorChoice) ?? 'auto',
  };
}

export function serveConfigFrom(opts: RawOptions): ServeConfig {
  const outputDir = resolve(String(opts.output ?? './data/output'));
  let apiEndpoint = opts.apiEndpoint ? String(opts.apiEndpoint) : undefined;
  if (apiEndpoint) {
    try {
      new URL(apiEndpoint);
    } catch {
      throw new Error(`--api-endpoint must be an absolute URL, got "${apiEndpoint}"`);
    }
    apiEndpoint = apiEndpoint.replace(/\/+$/, '');
  }
  return {
    ...engineConfigFrom(opts),
    inputDir: resolve(String(opts.input ?? './data/input')),
    outputDir,
    dbPath: opts.db ? resolve(String(opts.db)) : join(outputDir, 'tasks.sqlite'),
    host: String(opts.host ?? '0.0.0.0'),
    port: (opts.port as number) ?? 8080,
    concurrency: (opts.concurrency as number) ?? 1,
    queueLimit: (opts.queueLimit as number) ?? 100,
    apiKey: opts.apiKey ? String(opts.apiKey) : undefined,
    maxUploadMb: (opts.maxUploadMb as number) ?? 500,
    apiEndpoint,
    webhookRetries: (opts.webhookRetries as number) ?? 4,
    webhookTimeoutMs: 10_000,
    shutdownGraceMs: 30_000,
    logLevel: String(opts.logLevel ?? 'info'),
  };
}
