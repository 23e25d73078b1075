// Route table of the Celantur REST API v1. Handlers stay thin: parse, call the task service, present.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Request, Response } from 'express';
import { AppError, BadParameterError, NotFoundError, NotReadyError, UndecodableFileError } from '../../errors.ts';
import type { Task, TaskStatus } from '../../tasks/store.ts';
import { probeUpload } from '../../pipeline/probe.ts';
import { sniffFile } from '../../pipeline/sniff.ts';
import { scaleMaskPng } from '../../render/index.ts';
import { readVideoMetadata } from '../../pipeline/video/index.ts';
import { baseUrlOf, type Handler, type Route } from '../dialect.ts';
import { receiveUpload } from '../upload.ts';
import { sendError } from '../errors.ts';
import { parseAsyncHeader, parseBoolParam, parseFileQuery, parseFrameRange, parseMaskScale, parsePaging } from './params.ts';
import { presentTask } from './presenters.ts';
import { buildOpenApi } from './openapi.ts';

/** Stored with every task this API accepts. */
export const DIALECT_NAME = 'celantur';
import { readTaskFile, sendTaskFile, whileFilesExist } from '../files.ts';

const idOf = (req: Request) => String(req.params.id);

function requireDone(task: Task): void {
  if (task.status === 'done') return;
  if (task.status === 'failed') throw new NotReadyError(`task ${task.id} failed: ${task.error}`, task.status);
  if (task.status === 'deleted') throw new NotFoundError(`the files of task ${task.id} were deleted`);
  throw new NotReadyError(`task ${task.id} is not done yet (status: ${task.status})`, task.status);
}

function outputPath(task: Task, file: string | undefined, what: string): string {
  requireDone(task);
  if (!file) throw new NotFoundError(`task ${task.id} has no ${what} (method ${task.params.method}, save-mask ${task.params.saveMask}, ${task.kind})`);
  return join(task.outputDir, file);
}


const postFile: Handler = async (ctx, req, res) => {
  const query = req.query as Record<string, unknown>;
  const isAsync = parseAsyncHeader(req.get('x-is-async'));
  const { params, webhook, warnings } = parseFileQuery(query, ctx.classes, { thresholds: ctx.thresholds }, { lenient: ctx.lenientParams });
  ctx.service.checkWebhook(webhook);
  // The queue slot is taken before the body arrives: open uploads count against --queue-limit.
  const slot = ctx.service.reserve();
  let task: Task;
  try {
    const received = await receiveUpload(req, res, join(ctx.inputDir, '.incoming'), ctx.maxUploadMb);
    const upload = { dialect: DIALECT_NAME, path: received.path, originalName: received.originalName, params, webhook, warnings };
    try {
      try {
        const type = await probeUpload(received.path, ctx.service.limits);
        task = await ctx.service.accept({ ...upload, type }, slot);
      } catch (err) {
        // An asynchronous client gets a task id and learns of the failure as of any other: a failed task.
        const type = err instanceof UndecodableFileError && isAsync ? await sniffFile(received.path) : null;
        if (!type) throw err;
        ctx.log.info({ err, name: received.originalName }, 'accepted an undecodable upload as a failed task');
        task = await ctx.service.acceptFailed({ ...upload, type }, { code: (err as UndecodableFileError).code, message: `the file cannot be decoded as ${type.mime}` });
      }
    } catch (err) {
      await rm(received.path, { force: true });
      throw err;
    }
  } finally {
    slot.release();
  }
  const base = baseUrlOf(ctx, req);
  if (isAsync) {
    res.status(202).json(presentTask(task, base));
    return;
  }
  const { task: finished, error } = await ctx.service.waitFor(task.id);
  if (finished.status !== 'done' || error) {
    const appErr = error instanceof AppError ? error : new AppError(500, 'processing_failed', `processing failed: ${finished.error}`);
    sendError(res, new AppError(appErr.status, appErr.code, appErr.message, { ...appErr.details, task_id: task.id }));
    return;
  }
  res.status(200).json(presentTask(finished, base));
};

const download =
  (pick: (t: Task) => string | undefined, what: string, type?: string): Handler =>
  async (ctx, req, res) => {
    const task = await ctx.service.get(idOf(req));
    await sendTaskFile(res, outputPath(task, pick(task), what), task.id, what, type);
  };

const maskDownload =
  (kind: 'binary' | 'instance'): Handler =>
  async (ctx, req, res) => {
    const task = await ctx.service.get(idOf(req));
    const scale = parseMaskScale(req.query as Record<string, unknown>);
    const path = outputPath(task, kind === 'binary' ? task.outputs.binaryMask : task.outputs.instanceMask, `${kind} mask`);
    // ?mask-scale= is relative to the image, like the upload's mask-scale that sized the stored mask.
    const relativeToStored = scale === undefined ? 100 : (scale / task.params.maskScale) * 100;
    if (relativeToStored >= 100) return sendTaskFile(res, path, task.id, `${kind} mask`, 'image/png');
    res.type('image/png').send(await scaleMaskPng(await readTaskFile(path, task.id, `${kind} mask`), relativeToStored, kind));
  };

const anonymised = download((t) => t.outputs.anonymised, 'anonymised file');
const videoAnonymised = download((t) => (t.kind === 'video' ? t.outputs.anonymised : undefined), 'anonymised video', 'video/mp4');

const original: Handler = async (ctx, req, res) => {
  const task = await ctx.service.get(idOf(req));
  if (task.status === 'deleted') throw new NotFoundError(`the files of task ${task.id} were deleted`);
  await sendTaskFile(res, task.inputPath, task.id, 'original file', task.mime);
};

const videoMetadata: Handler = async (ctx, req, res) => {
  const task = await ctx.service.get(idOf(req));
  const { start, end } = parseFrameRange(req.query as Record<string, unknown>);
  if (task.kind !== 'video') throw new NotFoundError(`task ${task.id} is an image: use /v1/file/${task.id}/metadata`);
  const dir = outputPath(task, task.outputs.videoMetadataDir, 'video metadata');
  res.json(await whileFilesExist(task.id, 'video metadata', () => readVideoMetadata(dir, task.stem, start, end)));
};

const status: Handler = async (ctx, _req, res) => {
  const [tasks, cluster] = await Promise.all([ctx.service.countByStatus(), ctx.service.clusterStatus()]);
  const body = {
    status: ctx.provider ? 'ok' : 'down',
    version: ctx.version,
    provider: ctx.provider,
    faceDetector: ctx.faceDetector ?? null,
    classes: ctx.classes,
    queue: ctx.service.queueStats,
    tasks,
    // Issue 15: this replica, and every replica seen by heartbeat on the same store.
    replica: cluster.replica,
    cluster: { backend: cluster.backend, queue_depth: cluster.queueDepth, replicas: cluster.replicas },
    ...(ctx.engineError ? { error: ctx.engineError } : {}),
  };
  res.status(ctx.provider ? 200 : 500).json(body);
};

const TASK_STATUSES: TaskStatus[] = ['queued', 'processing', 'done', 'failed', 'deleted'];

const listTasks: Handler = async (ctx, req, res) => {
  const q = req.query as Record<string, unknown>;
  const { page, limit } = parsePaging(q);
  const statusFilter = q.status as TaskStatus | undefined;
  if (statusFilter !== undefined && !TASK_STATUSES.includes(statusFilter)) {
    throw new BadParameterError('status', `must be one of ${TASK_STATUSES.join(', ')}`);
  }
  const { total, items } = await ctx.service.list(page, limit, statusFilter);
  const base = baseUrlOf(ctx, req);
  res.json({ total_item_count: total, total_page_count: Math.ceil(total / limit), page, limit, items: items.map((t) => presentTask(t, base)) });
};

function deleteChoice(req: Request) {
  const q = req.query as Record<string, unknown>;
  const choice = { records: parseBoolParam(q, 'records', true), files: parseBoolParam(q, 'files', true) };
  if (!choice.records && !choice.files) throw new BadParameterError('records', 'records and files cannot both be false');
  return choice;
}

const deleteAll: Handler = async (ctx, req, res) => {
  const deleted = await ctx.service.deleteAll(deleteChoice(req));
  res.json({ deleted });
};

const getTask: Handler = async (ctx, req, res) => {
  res.json(presentTask(await ctx.service.get(idOf(req)), baseUrlOf(ctx, req)));
};

const deleteTask: Handler = async (ctx, req, res) => {
  const choice = deleteChoice(req);
  const id = idOf(req);
  await ctx.service.delete(id, choice);
  res.json({ id, status: 'deleted', records_deleted: choice.records, files_deleted: choice.files });
};

const openapi: Handler = (ctx, req, res) => {
  res.json(buildOpenApi(ctx, baseUrlOf(ctx, req)));
};

/** Order matters where paths overlap: /v1/task/list before /v1/task/:id. */
export const ROUTES: Route[] = [
  { method: 'post', path: '/v1/file', handler: postFile },
  { method: 'get', path: '/v1/file/:id/anonymised', handler: anonymised },
  { method: 'get', path: '/v1/file/:id/anonymized', handler: anonymised },
  { method: 'get', path: '/v1/file/:id/binary-mask', handler: maskDownload('binary') },
  { method: 'get', path: '/v1/file/:id/instance-mask', handler: maskDownload('instance') },
  { method: 'get', path: '/v1/file/:id/metadata', handler: download((t) => t.outputs.metadata, 'metadata (videos: /video/metadata)', 'application/json') },
  { method: 'get', path: '/v1/file/:id/original', handler: original },
  { method: 'get', path: '/v1/file/:id/video/anonymised', handler: videoAnonymised },
  { method: 'get', path: '/v1/file/:id/video/anonymized', handler: videoAnonymised },
  { method: 'get', path: '/v1/file/:id/video/metadata', handler: videoMetadata },
  { method: 'get', path: '/v1/status', handler: status },
  { method: 'get', path: '/v1/task/list', handler: listTasks },
  { method: 'delete', path: '/v1/task/list', handler: deleteAll },
  { method: 'get', path: '/v1/task/:id', handler: getTask },
  { method: 'delete', path: '/v1/task/:id', handler: deleteTask },
  { method: 'get', path: '/v1/openapi.json', handler: openapi },
];
