// PEKAT VISION's Image Analyze API (../shared/DIALECTS.md §3): synchronous analyze requests that go through
// the same queue as every task, answered as a context JSON or a PNG with the context beside it.
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Response } from 'express';
import { AppError, BadParameterError, NotFoundError, UnsupportedMediaTypeError } from '../../errors.ts';
import type { Task } from '../../tasks/store.ts';
import { probeUpload } from '../../pipeline/probe.ts';
import { convertRawUpload } from '../../pipeline/image/raw.ts';
import type { Handler, Route, DialectContext } from '../dialect.ts';
import type { QueueSlot } from '../../tasks/service.ts';
import { receiveUpload } from '../upload.ts';
import { buildContext, type ContextDetection, type PekatContext } from './context.ts';
import { contextHeaders, contextInBody } from './framing.ts';
import { parsePekatQuery, pekatParams, type PekatRequest } from './params.ts';

/** Stored with every task this API accepts. */
export const DIALECT_NAME = 'pekat';
export const PEKAT_PATHS = {
  analyzeImage: '/analyze_image',
  analyzeRaw: '/analyze_raw_image',
  ping: '/ping',
  version: '/version',
  lastImage: '/last_image',
  openapi: '/openapi-pekat.json',
} as const;

export interface PekatRouteOptions {
  /** --keep-pekat-results: leave each request's task and files in place. */
  keepResults: boolean;
}

/** The last anonymised image this server answered (never an original), kept in memory only. */
interface LastImage {
  png: Buffer | null;
}

async function receive(ctx: DialectContext, req: Parameters<Handler>[1], res: Response, request: PekatRequest): Promise<Task> {
  // PEKAT reads the body as bytes whatever it is labelled (curl --data-binary says form-urlencoded); what
  // the bytes are is decided from the bytes.
  if (!(req.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) req.headers['content-type'] = 'application/octet-stream';
  // The queue slot is taken before the body arrives: open uploads count against --queue-limit.
  const slot = ctx.service.reserve();
  try {
    return await receiveReserved(ctx, req, res, request, slot);
  } finally {
    slot.release();
  }
}

async function receiveReserved(ctx: DialectContext, req: Parameters<Handler>[1], res: Response, request: PekatRequest, slot: QueueSlot): Promise<Task> {
  const received = await receiveUpload(req, res, join(ctx.inputDir, '.incoming'), ctx.maxUploadMb).catch((err: unknown) => {
    if (err instanceof BadParameterError && (err.parameter === 'body' || err.parameter === 'fileobject')) {
      throw new BadParameterError('body', 'the request has no image: send its bytes as the body (Content-Type: application/octet-stream)');
    }
    throw err;
  });
  try {
    if (request.frame) await convertRawUpload(received.path, request.frame);
    const type = await probeUpload(received.path, ctx.service.limits);
    if (type.kind !== 'image') {
      throw new UnsupportedMediaTypeError('send a JPEG or PNG to /analyze_image, or raw BGR, grey or BayerRG8 pixels to /analyze_raw_image');
    }
    return await ctx.service.accept({
      dialect: DIALECT_NAME,
      path: received.path,
      originalName: request.frame ? 'frame.png' : received.originalName,
      type,
      params: pekatParams(request, ctx.classes, ctx.thresholds),
      webhook: null,
    }, slot);
  } catch (err) {
    await rm(received.path, { force: true });
    throw err;
  }
}

interface StoredMetadata {
  size: [number, number];
  duration: number;
  detections: ContextDetection[];
}

const analyze =
  (raw: boolean, opts: PekatRouteOptions, last: LastImage): Handler =>
  async (ctx, req, res) => {
    const started = performance.now();
    const request = parsePekatQuery(req.query as Record<string, unknown>, raw);
    const task = await receive(ctx, req, res, request);
    let send: () => void;
    try {
      const { task: finished, error } = await ctx.service.waitFor(task.id);
      if (finished.status !== 'done' || error) {
        if (error instanceof AppError) throw error;
        throw new AppError(500, finished.errorCode ?? 'processing_failed', finished.error ?? 'processing failed');
      }
      const file = (name: string | undefined) => {
        if (!name) throw new AppError(500, 'missing_output', 'the pipeline produced no such output');
        return readFile(join(finished.outputDir, name));
      };
      const metadata = JSON.parse((await file(finished.outputs.metadata)).toString('utf8')) as StoredMetadata;
      const image = await file(finished.outputs.anonymised);
      const png = request.responseType === 'heatmap' ? await file(finished.outputs.heatmap) : image;
      last.png = image;
      const context: PekatContext = buildContext({
        width: metadata.size[0],
        height: metadata.size[1],
        detections: metadata.detections,
        processingSeconds: metadata.duration,
        completeSeconds: (performance.now() - started) / 1000,
        data: request.data,
      });
      send = () => {
        if (request.responseType === 'context') {
          res.json(context);
        } else if (request.contextInBody) {
          const framed = contextInBody(png, context);
          res.set(framed.headers).type('application/octet-stream').send(framed.body);
        } else {
          res.set(contextHeaders(context)).type('image/png').send(png);
        }
      };
    } finally {
      // Everything the answer needs is in memory: the files go before it is sent.
      if (!opts.keepResults) await ctx.service.delete(task.id, { records: true, files: true }).catch(() => undefined);
    }
    send();
  };

const lastImage =
  (last: LastImage): Handler =>
  (_ctx, _req, res) => {
    if (!last.png) throw new NotFoundError('no image has been analysed since the server started');
    res.type('image/png').send(last.png);
  };

export function pekatRoutes(opts: PekatRouteOptions, openapi: Handler): Route[] {
  const last: LastImage = { png: null };
  return [
    { method: 'post', path: PEKAT_PATHS.analyzeImage, handler: analyze(false, opts, last) },
    { method: 'post', path: PEKAT_PATHS.analyzeRaw, handler: analyze(true, opts, last) },
    { method: 'get', path: PEKAT_PATHS.ping, handler: (_ctx, _req, res) => void res.type('text/plain').send('pong') },
    { method: 'get', path: PEKAT_PATHS.version, handler: (ctx, _req, res) => void res.type('text/plain').send(ctx.version) },
    { method: 'get', path: PEKAT_PATHS.lastImage, handler: lastImage(last) },
    { method: 'get', path: PEKAT_PATHS.openapi, handler: openapi },
  ];
}
