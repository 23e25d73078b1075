// Composition root of `anonymiser serve`: store, detection engine, task service, HTTP server, signals.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DEFAULT_MASKIT_RESULT_TTL_MS, type ServeConfig } from './config.ts';
import { createDetectionEngine, type DetectionEngine } from './detect/engine.ts';
import { createApp } from './http/app.ts';
import { celanturDialect } from './http/celantur/index.ts';
import { maskitDialect } from './http/maskit/index.ts';
import { pekatDialect } from './http/pekat/index.ts';
import type { Dialect } from './http/dialect.ts';
import { sqliteBackend } from './tasks/store.ts';
import { postgresBackend } from './tasks/pg/store.ts';
import type { TaskBackend } from './tasks/ports.ts';
import { TaskService } from './tasks/service.ts';
import { VERSION } from './version.ts';
import { startTcpServer, type RunningTcpServer } from './tcp/server.ts';
import { hardenServer } from './http/wire.ts';
import { sweepLeftovers } from './tasks/sweep.ts';
import { WebhookGuard } from './net/webhook-guard.ts';
import { startPipelineWorker, type PipelineRunner } from './tasks/worker-runner.ts';
import { Metrics } from './metrics.ts';
import { SqliteAccountStore } from './accounts/sqlite.ts';
import { SqliteImageStore } from './tasks/image-store.ts';
import { instavidDialect } from './http/instavid/index.ts';

export interface RunningServer {
  url: string;
  port: number;
  service: TaskService;
  engine: DetectionEngine | null;
  /** Port of Celantur's TCP mode, when --tcp-port was given. */
  tcpPort?: number;
  /** Graceful stop: no new requests, running tasks finish (or go back to the queue), then everything closes. */
  close(graceMs?: number): Promise<void>;
}

export interface ServerOptions {
  /** The API dialects to mount, given the base URL for links and the configuration; default: Celantur's, Maskit's, PEKAT's. */
  dialects?: (baseUrl: () => string, config: ServeConfig) => Dialect[];
}

/** Every API the server speaks; each task remembers which one it came through. */
export function defaultDialects(
  baseUrl: () => string,
  config: Pick<ServeConfig, 'maskitResultTtlMs' | 'maskitWebhookUrl' | 'maskitWebhookSecret' | 'keepPekatResults'> = {
    maskitResultTtlMs: DEFAULT_MASKIT_RESULT_TTL_MS,
    keepPekatResults: false,
  },
): Dialect[] {
  return [
    celanturDialect({ baseUrl }),
    maskitDialect({ resultTtlMs: config.maskitResultTtlMs, webhookUrl: config.maskitWebhookUrl, webhookSecret: config.maskitWebhookSecret }),
    pekatDialect({ keepResults: config.keepPekatResults }),
    instavidDialect({ baseUrl }),
  ];
}

export async function startServer(config: ServeConfig, log: Logger, options: ServerOptions = {}): Promise<RunningServer> {
  await mkdir(config.inputDir, { recursive: true });
  await mkdir(config.outputDir, { recursive: true });
  // Tasks and queue: SQLite on one host, or PostgreSQL shared by every replica (--database-url).
  const backend: TaskBackend = config.databaseUrl ? await postgresBackend(config.databaseUrl) : sqliteBackend(config.dbPath);
  // Partial uploads and half-written outputs from a process that died mid-write have no owner. On a shared
  // store the folders are shared too, and other replicas may be writing them: no sweep then.
  if (!backend.shared) {
    const swept = await sweepLeftovers(config.inputDir, config.outputDir);
    if (swept.temporaryFiles) log.info({ files: swept.temporaryFiles }, 'removed temporary files left by the previous run');
  }
  const webhookGuard = new WebhookGuard({ allow: config.webhookAllow, deny: config.webhookDeny });

  let engine: DetectionEngine | null = null;
  let engineError: string | null = null;
  // Tasks run on the pipeline thread (worker-runner.ts) unless --no-pipeline-thread: inference and pixel
  // loops are synchronous and would otherwise stall every other request while a large file is processed.
  let runner: PipelineRunner | null = null;
  const engineOptions = {
    classes: config.classes,
    provider: config.provider,
    modelsDir: config.modelsDir,
    faceSearch: config.faceSearch,
    packsDir: config.packsDir,
    faceDetector: config.faceDetector,
    threads: config.threads || undefined,
    detectEvery: config.detectEvery,
  };
  try {
    if (config.pipelineThread) {
      runner = await startPipelineWorker(engineOptions, log);
      log.info({ provider: runner.provider, classes: runner.classes, thread: 'pipeline' }, 'detection models loaded');
    } else {
      engine = await createDetectionEngine({ ...engineOptions, log: (level, message) => log[level](message) });
      log.info({ provider: engine.provider, classes: engine.classes }, 'detection models loaded');
    }
  } catch (err) {
    engineError = (err as Error).message;
    log.error({ err }, 'the detection models could not be loaded; /v1/status answers 500');
  }

  // Accounts, tokens, quotas and rate limits (issue 13) and InstaVid360's uploaded images live in the SQLite
  // file at --db, also when tasks are in PostgreSQL (no PostgreSQL AccountStore yet).
  const accounts = new SqliteAccountStore(config.dbPath);
  const images = new SqliteImageStore(config.dbPath);
  let baseUrl = config.apiEndpoint ?? `http://localhost:${config.port}`;
  const dialects = (options.dialects ?? defaultDialects)(() => baseUrl, config);
  let listenUrl = baseUrl;
  const metrics = new Metrics();
  const service = new TaskService(
    backend,
    engine,
    engineError,
    {
      inputDir: config.inputDir,
      outputDir: config.outputDir,
      concurrency: config.concurrency,
      queueLimit: config.queueLimit,
      webhook: { retries: config.webhookRetries, timeoutMs: config.webhookTimeoutMs, backoffMs: 1000 },
      notifiers: new Map(dialects.map((d) => [d.name, d.notifier])),
      maxPixels: config.maxPixels,
      taskTimeoutMs: config.taskTimeoutS * 1000,
      webhookGuard,
      accounts,
      run: runner ? (task, signal, onProgress, limits) => runner.run(task, signal, onProgress, limits) : undefined,
      leaseMs: config.leaseS * 1000,
      observe: metrics,
    },
    log,
  );
  metrics.bind(service, runner?.provider ?? engine?.provider ?? null);
  const app = createApp(
    {
      service,
      classes: config.classes,
      thresholds: config.thresholds,
      provider: runner?.provider ?? engine?.provider ?? null,
      faceDetector: runner?.faceDetector ?? engine?.faceDetector ?? null,
      engineError,
      version: VERSION,
      inputDir: config.inputDir,
      maxUploadMb: config.maxUploadMb,
      apiEndpoint: config.apiEndpoint,
      lenientParams: config.lenientParams,
      log,
      publicHosts: config.publicHosts,
      listenUrl: () => listenUrl,
      images,
      instavidMaxUploadMb: config.instavidMaxUploadMb,
    },
    dialects,
    { apiKey: config.apiKey, accounts, log, metrics: () => metrics.render() },
  );

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  // requestTimeout covers receiving the request only: sync requests that wait for processing are not cut.
  hardenServer(server, config, log);
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${port}`;
  listenUrl = url;
  // Webhook bodies: --api-endpoint, else the first --public-host, else the listening address.
  if (!config.apiEndpoint) baseUrl = config.publicHosts[0] ? `http://${config.publicHosts[0]}` : url;
  let tcp: RunningTcpServer | undefined;
  if (config.tcpPort !== undefined) {
    try {
      tcp = await startTcpServer({
        host: config.host,
        port: config.tcpPort,
        mode: config.tcpMode,
        service,
        classes: config.classes,
        thresholds: config.thresholds,
        maxBytes: config.maxUploadMb * 1024 * 1024,
        timeoutMs: config.tcpTimeoutMs,
        incomingDir: join(config.inputDir, '.incoming'),
        maxConnections: config.queueLimit + config.concurrency,
        conversionConcurrency: config.concurrency,
        log,
      });
    } catch (err) {
      server.close();
      await backend.close();
      await accounts.close();
      await images.close();
      await engine?.dispose();
      await runner?.dispose();
      throw new Error(`--tcp-port ${config.tcpPort}: ${(err as Error).message}`);
    }
  }
  if (engine || runner) await service.recover();
  log.info({ url, input: config.inputDir, output: config.outputDir, db: config.databaseUrl ? 'postgres' : config.dbPath, replica: service.replicaId }, 'listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    service,
    engine,
    tcpPort: tcp?.port,
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        const tcpClosed = tcp?.close();
        await service.shutdown(graceMs);
        tcp?.destroy();
        await tcpClosed;
        server.closeAllConnections();
        await closed;
        await backend.close();
        await accounts.close();
        await images.close();
        await engine?.dispose();
        await runner?.dispose();
      })();
      return closing;
    },
  };
}
