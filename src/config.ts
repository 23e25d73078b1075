// The one place where command-line flags and environment variables become a typed configuration.
import { resolve, join } from 'node:path';
import { Command, Option } from 'commander';
import { OBJECT_CLASSES, DEFAULT_THRESHOLDS, type ObjectClass } from './types.ts';
import type { ExecutionProviderChoice } from './detect/types.ts';
import { FACE_DETECTOR_CHOICES, type FaceDetectorChoice } from './detect/types.ts';
import { FACE_SEARCH_LEVELS, type FaceSearch } from './detect/face-ensemble/face-ensemble.ts';
import { DEFAULT_MAX_PIXELS } from './pipeline/limits.ts';
import { DEFAULT_MODELS_DIR } from './detect/session.ts';
import { DEFAULT_DETECT_EVERY } from './pipeline/video/stride.ts';

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
  /** --detect-every: video frames are detected every Nth frame, boxes carried between. */
  detectEvery: number;
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
  /** Unknown query parameters become task warnings instead of a 400. */
  lenientParams: boolean;
  webhookTimeoutMs: number;
  shutdownGraceMs: number;
  logLevel: string;
  /** Celantur's TCP mode: a listener beside the REST API (undefined: off). */
  tcpPort?: number;
  tcpMode: TcpMode;
  /** A TCP connection that sends nothing for this long before its request is complete is closed. */
  tcpTimeoutMs: number;
  // ---- hardening (issue 11) ----
  /** Largest image (or video frame) in pixels; more is a 422 too_many_pixels. */
  maxPixels: number;
  /** Per-task processing limit in seconds (0: none); a task over it fails with task_timeout. */
  taskTimeoutS: number;
  /** --webhook-allow: when not empty, webhooks may only reach these ranges and hosts. */
  webhookAllow: string[];
  /** --webhook-deny: refused in addition to link-local, metadata and unspecified addresses. */
  webhookDeny: string[];
  /** --public-host: Host header values trusted for links when --api-endpoint is not set. */
  publicHosts: string[];
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** An upload body that sends nothing for this long is cut (408) and its temporary file removed. */
  uploadIdleTimeoutMs: number;
  /** Run tasks on a separate thread so that the HTTP thread always answers (default true). */
  pipelineThread: boolean;
  // ---- scale-out (issue 15) ----
  /** postgres://… : tasks and queue in PostgreSQL, shared by every replica (undefined: SQLite at dbPath). */
  databaseUrl?: string;
  /** Seconds a claimed task stays a replica's without its heartbeat; then another replica runs it. */
  leaseS: number;
  /** Maskit dialect: results not downloaded are deleted this long after they are ready. */
  maskitResultTtlMs: number;
  /** Maskit dialect: where useWebhook=true results are POSTed, and the HMAC secret of their X-Signature. */
  maskitWebhookUrl?: string;
  maskitWebhookSecret?: string;
  /** PEKAT dialect: keep each request's task and files instead of deleting them once answered. */
  keepPekatResults: boolean;
  /** Largest InstaVid360 image upload in MB (its documented 2 MB). */
  instavidMaxUploadMb: number;
}

const list = (value: unknown): string[] =>
  String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

/** What the TCP listener takes: JPEG bytes, NumPy frames, or either (told apart by the first byte). */
export const TCP_MODES = ['auto', 'jpeg', 'numpy'] as const;
export type TcpMode = (typeof TCP_MODES)[number];

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

/** A switch that also takes a value, so that ANONYMISER_X=false means false. */
function parseOnOff(name: string) {
  return (value: string): boolean => {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes', 'on'].includes(v)) return true;
    if (['false', '0', 'no', 'off', ''].includes(v)) return false;
    throw new Error(`${name} must be true or false, got "${value}"`);
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
    )
    .addOption(
      new Option('--detect-every <n>', 'video: run the detectors on every Nth frame and carry the boxes between (template search, grown by the uncertainty); scene cuts are always detected; 1: every frame')
        .argParser(parseIntStrict('--detect-every', 1, 30))
        .default(DEFAULT_DETECT_EVERY)
        .env('ANONYMISER_DETECT_EVERY'),
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
    .addOption(
      new Option('--lenient-params [on]', 'accept unknown query parameters of POST /v1/file and list them in the task\'s warnings (default: 400 unknown parameter); true/false, 1/0, yes/no')
        .preset('true')
        .argParser(parseOnOff('--lenient-params'))
        .default(false)
        .env('ANONYMISER_LENIENT_PARAMS'),
    )
    .addOption(new Option('--log-level <level>', 'log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'silent']).default('info').env('ANONYMISER_LOG_LEVEL'))
    .addOption(
      new Option('--tcp-port <port>', "also listen for Celantur's TCP mode (JPEG bytes or NumPy frames) on this port; Celantur's default is 9999")
        .argParser(parseIntStrict('--tcp-port', 0, 65535))
        .env('ANONYMISER_TCP_PORT'),
    )
    .addOption(
      new Option('--tcp-mode <mode>', 'what the TCP port takes: jpeg, numpy, or auto (either, told apart by the first byte)')
        .choices(TCP_MODES as unknown as string[])
        .default('auto')
        .env('ANONYMISER_TCP_MODE'),
    )
    .addOption(
      new Option('--tcp-timeout <seconds>', 'close a TCP connection that sends nothing for this long before its image is complete')
        .argParser(parseIntStrict('--tcp-timeout', 1, 3600))
        .default(30)
        .env('ANONYMISER_TCP_TIMEOUT'),
    )
    // ---- hardening (issue 11) ----
    .addOption(
      new Option('--max-pixels <n>', 'largest image or video frame in pixels (default 75.5 Mpx: a 12288×6144 panorama fits)')
        .argParser(parseIntStrict('--max-pixels', 1, 268_402_689))
        .default(DEFAULT_MAX_PIXELS)
        .env('ANONYMISER_MAX_PIXELS'),
    )
    .addOption(
      new Option('--task-timeout <s>', 'seconds one task may process before it fails with task_timeout (0: no limit)')
        .argParser(parseIntStrict('--task-timeout', 0, 7 * 86_400))
        .default(3600)
        .env('ANONYMISER_TASK_TIMEOUT'),
    )
    .addOption(new Option('--webhook-allow <list>', 'comma-separated CIDRs and host names (*.example.com) webhooks may reach; default: any but link-local/metadata').env('ANONYMISER_WEBHOOK_ALLOW'))
    .addOption(new Option('--webhook-deny <list>', 'comma-separated CIDRs and host names webhooks may not reach, besides link-local/metadata/unspecified').env('ANONYMISER_WEBHOOK_DENY'))
    .addOption(new Option('--public-host <list>', 'Host header values trusted for links without --api-endpoint (default: links use the listening address)').env('ANONYMISER_PUBLIC_HOST'))
    .addOption(
      new Option('--headers-timeout <s>', 'seconds a client has to send the request headers')
        .argParser(parseIntStrict('--headers-timeout', 1, 3600))
        .default(60)
        .env('ANONYMISER_HEADERS_TIMEOUT'),
    )
    .addOption(
      new Option('--request-timeout <s>', 'seconds a client has to send a whole request, upload included (0: no limit)')
        .argParser(parseIntStrict('--request-timeout', 0, 86_400))
        .default(3600)
        .env('ANONYMISER_REQUEST_TIMEOUT'),
    )
    .addOption(
      new Option('--upload-idle-timeout <s>', 'an upload that sends nothing for this many seconds is cut (408)')
        .argParser(parseIntStrict('--upload-idle-timeout', 1, 3600))
        .default(60)
        .env('ANONYMISER_UPLOAD_IDLE_TIMEOUT'),
    )
    .addOption(
      new Option('--keep-alive-timeout <s>', 'seconds an idle keep-alive connection stays open')
        .argParser(parseIntStrict('--keep-alive-timeout', 1, 3600))
        .default(5)
        .env('ANONYMISER_KEEP_ALIVE_TIMEOUT'),
    )
    .addOption(
      new Option('--instavid-max-upload-mb <mb>', 'largest image upload of the InstaVid360 API in MB (its documented limit is 2)')
        .argParser(parseIntStrict('--instavid-max-upload-mb', 1, 100_000))
        .default(2)
        .env('ANONYMISER_INSTAVID_MAX_UPLOAD_MB'),
    )
    .addOption(new Option('--no-pipeline-thread', 'run tasks on the HTTP thread (slower answers while a large file is processed)').env('ANONYMISER_NO_PIPELINE_THREAD'))
    // ---- scale-out (issue 15) ----
    .addOption(new Option('--database-url <url>', 'postgres://user:password@host/db: keep tasks and the queue in PostgreSQL, shared by several replicas (default: SQLite, --db)').env('ANONYMISER_DATABASE_URL'))
    .addOption(
      new Option('--lease-s <s>', 'seconds a running task stays this replica\'s without a heartbeat; then another replica runs it again')
        .argParser(parseIntStrict('--lease-s', 1, 3600))
        .default(30)
        .env('ANONYMISER_LEASE_S'),
    );
}

/** "90", "90s", "15m", "1h", "500ms" → milliseconds (a bare number is seconds). */
export function parseDuration(name: string) {
  return (value: string): number => {
    const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(value.trim());
    const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[(m?.[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h'];
    const ms = m ? Number(m[1]) * unit : NaN;
    if (!Number.isFinite(ms) || ms <= 0) throw new Error(`${name} must be a duration such as 90s, 15m or 1h, got "${value}"`);
    return Math.round(ms);
  };
}

/** Maskit's documented expiry of results nobody downloaded (one hour; its security page says two). */
export const DEFAULT_MASKIT_RESULT_TTL_MS = 3_600_000;

/** Options of the Maskit and PEKAT dialects (src/http/maskit/, src/http/pekat/). */
export function addDialectOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--maskit-result-ttl <duration>', 'Maskit API: results not downloaded are deleted after this (e.g. 90s, 15m, 1h)')
        .argParser(parseDuration('--maskit-result-ttl'))
        .default(DEFAULT_MASKIT_RESULT_TTL_MS, '1h')
        .env('ANONYMISER_MASKIT_RESULT_TTL'),
    )
    .addOption(new Option('--maskit-webhook-url <url>', 'Maskit API: URL that receives useWebhook=true results (multipart POST)').env('ANONYMISER_MASKIT_WEBHOOK_URL'))
    .addOption(new Option('--maskit-webhook-secret <secret>', 'Maskit API: shared secret of the X-Signature HMAC-SHA256 on webhook calls').env('ANONYMISER_MASKIT_WEBHOOK_SECRET'))
    .addOption(
      new Option('--keep-pekat-results [on]', 'PEKAT API: keep each request\'s task and files instead of deleting them once answered; true/false, 1/0, yes/no')
        .preset('true')
        .argParser(parseOnOff('--keep-pekat-results'))
        .default(false)
        .env('ANONYMISER_KEEP_PEKAT_RESULTS'),
    );
}

function maskitWebhookUrlFrom(value: unknown): string | undefined {
  if (value === undefined || value === '') return undefined;
  const url = String(value);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`--maskit-webhook-url must be an absolute http(s) URL, got "${url}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error(`--maskit-webhook-url must be an http(s) URL, got "${url}"`);
  return url;
}

function maskitSecretFrom(opts: Record<string, unknown>): string | undefined {
  const secret = opts.maskitWebhookSecret ? String(opts.maskitWebhookSecret) : undefined;
  if (opts.maskitWebhookUrl && !secret) throw new Error('--maskit-webhook-url needs --maskit-webhook-secret (the key of the X-Signature HMAC)');
  return secret;
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
    detectEvery: (opts.detectEvery as number) ?? DEFAULT_DETECT_EVERY,
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
    lenientParams: Boolean(opts.lenientParams),
    webhookTimeoutMs: 10_000,
    shutdownGraceMs: 30_000,
    logLevel: String(opts.logLevel ?? 'info'),
    tcpPort: typeof opts.tcpPort === 'number' ? opts.tcpPort : undefined,
    tcpMode: (opts.tcpMode as TcpMode) ?? 'auto',
    tcpTimeoutMs: ((opts.tcpTimeout as number) ?? 30) * 1000,
    maxPixels: (opts.maxPixels as number) ?? DEFAULT_MAX_PIXELS,
    taskTimeoutS: (opts.taskTimeout as number) ?? 3600,
    webhookAllow: Array.isArray(opts.webhookAllow) ? (opts.webhookAllow as string[]) : list(opts.webhookAllow),
    webhookDeny: Array.isArray(opts.webhookDeny) ? (opts.webhookDeny as string[]) : list(opts.webhookDeny),
    publicHosts: (Array.isArray(opts.publicHost) ? (opts.publicHost as string[]) : list(opts.publicHost)).map((h) => h.toLowerCase()),
    headersTimeoutMs: ((opts.headersTimeout as number) ?? 60) * 1000,
    requestTimeoutMs: ((opts.requestTimeout as number) ?? 3600) * 1000,
    keepAliveTimeoutMs: ((opts.keepAliveTimeout as number) ?? 5) * 1000,
    uploadIdleTimeoutMs: ((opts.uploadIdleTimeout as number) ?? 60) * 1000,
    pipelineThread: opts.pipelineThread !== false,
    databaseUrl: databaseUrlFrom(opts.databaseUrl),
    leaseS: (opts.leaseS as number) ?? 30,
    maskitResultTtlMs: typeof opts.maskitResultTtl === 'number' ? opts.maskitResultTtl : opts.maskitResultTtl !== undefined ? parseDuration('--maskit-result-ttl')(String(opts.maskitResultTtl)) : DEFAULT_MASKIT_RESULT_TTL_MS,
    maskitWebhookUrl: maskitWebhookUrlFrom(opts.maskitWebhookUrl),
    maskitWebhookSecret: maskitSecretFrom(opts),
    keepPekatResults: Boolean(opts.keepPekatResults),
    instavidMaxUploadMb: (opts.instavidMaxUploadMb as number) ?? 2,
  };
}

function databaseUrlFrom(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const url = String(value);
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new Error('--database-url must be a URL such as postgres://user:password@host:5432/anonymiser');
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') throw new Error(`--database-url must start with postgres:// (got ${protocol}//)`);
  return url;
}

// ---- accounts and tokens (issue 13) ----

/** --db and --output as `serve` takes them, for the commands that work on its database (accounts, tokens). */
export function addDatabaseOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--output <dir>', 'the output folder of serve (its database is <output>/tasks.sqlite)').default('./data/output').env('ANONYMISER_OUTPUT'))
    .addOption(new Option('--db <file>', 'SQLite task database of serve (default: <output>/tasks.sqlite)').env('ANONYMISER_DB'));
}

/** The database file that `serve` with the same --db/--output uses. */
export function databasePathFrom(opts: RawOptions): string {
  return opts.db ? resolve(String(opts.db)) : join(resolve(String(opts.output ?? './data/output')), 'tasks.sqlite');
}

/** --rate-limit: requests per minute per account; 0 or "none": no limit. */
export function parseRateLimit(value: string): number | null {
  if (value === 'none' || value === '0') return null;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 1_000_000) throw Object.assign(new Error(`--rate-limit must be an integer from 1 to 1000000 or none, got "${value}"`), { name: 'AccountError' });
  return n;
}
