// Composition root of `anonymiser serve`: store, detection engine, task service, HTTP server, signals.
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ServeConfig } from './config.ts';
import { createDetectionEngine, type DetectionEngine } from './detect/engine.ts';
import { createApp } from './http/app.ts';
import { TaskStore } from './tasks/store.ts';
import { TaskService } from './tasks/service.ts';
import { VERSION } from './version.ts';

export interface RunningServer {
  url: string;
  port: number;
  service: TaskService;
  engine: DetectionEngine | null;
  /** Graceful stop: no new requests, running tasks finish (or go back to the queue), then everything closes. */
  close(graceMs?: number): Promise<void>;
}

export async function startServer(config: ServeConfig, log: Logger): Promise<RunningServer> {
  await mkdir(config.inputDir, { recursive: true });
  await mkdir(config.outputDir, { recursive: true });
  // Partial uploads from a process that died mid-request have no task: nothing refers to them.
  await rm(join(config.inputDir, '.incoming'), { recursive: true, force: true });

  let engine: DetectionEngine | null = null;
  let engineError: string | null = null;
  try {
    engine = await createDetectionEngine({
      classes: config.classes,
      provider: config.provider,
      modelsDir: config.modelsDir,
      faceSearch: config.faceSearch,
      packsDir: config.packsDir,
      faceDetector: config.faceDetector,
      threads: config.threads || undefined,
      log: (level, message) => log[level](message),
    });
    log.info({ provider: engine.provider, classes: engine.classes }, 'detection models loaded');
  } catch (err) {
    engineError = (err as Error).message;
    log.error({ err }, 'the detection models could not be loaded; /v1/status answers 500');
  }

  const store = new TaskStore(config.dbPath);
  let baseUrl = config.apiEndpoint ?? `http://localhost:${config.port}`;
  const service = new TaskService(
    store,
    engine,
    engineError,
    {
      inputDir: config.inputDir,
      outputDir: config.outputDir,
      concurrency: config.concurrency,
      queueLimit: config.queueLimit,
      webhook: { retries: config.webhookRetries, timeoutMs: config.webhookTimeoutMs, backoffMs: 1000 },
      baseUrl: () => baseUrl,
    },
    log,
  );
  const app = createApp(
    {
      service,
      classes: config.classes,
      thresholds: config.thresholds,
      provider: engine?.provider ?? null,
      faceDetector: engine?.faceDetector ?? null,
      engineError,
      version: VERSION,
      inputDir: config.inputDir,
      maxUploadMb: config.maxUploadMb,
      apiEndpoint: config.apiEndpoint,
    },
    { apiKey: config.apiKey, log },
  );

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(config.port, config.host, () => resolve(s));
    s.once('error', reject);
  });
  // Sync requests wait for processing; long videos must not hit Node's default request timeout.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;
  const port = (server.address() as AddressInfo).port;
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
  const url = `http://${host}:${port}`;
  if (!config.apiEndpoint) baseUrl = url;
  if (engine) service.recover();
  log.info({ url, input: config.inputDir, output: config.outputDir, db: config.dbPath }, 'listening');

  let closing: Promise<void> | null = null;
  return {
    url,
    port,
    service,
    engine,
    close(graceMs = config.shutdownGraceMs) {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await service.shutdown(graceMs);
        server.closeAllConnections();
        await closed;
        store.close();
        await engine?.dispose();
      })();
      return closing;
    },
  };
}
