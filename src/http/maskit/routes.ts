// Maskit's masking API (../shared/DIALECTS.md §2): process-image → image-status → one image-download, or
// the signed webhook. Handlers parse, call the task service and present; files and SQL stay below.
import { rm } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { Request, Response } from 'express';
import { AppError, BadParameterError, NotFoundError } from '../../errors.ts';
import type { Task } from '../../tasks/store.ts';
import { safeStem, type QueueSlot } from '../../tasks/service.ts';
import { probeUpload } from '../../pipeline/probe.ts';
import { type DialectContext, type Handler, type Route } from '../dialect.ts';
import { receiveUpload } from '../upload.ts';
import { MASKIT_IMAGE_FIELD, parseMaskitFields } from './params.ts';

/** Stored with every task this API accepts. */
export const DIALECT_NAME = 'maskit';
export const BASE_PATH = '/api/v1/masking';

export const MASKIT_STATUSES = ['Pending', 'InProgress', 'ReadyToDownload', 'Succeeded', 'Failed'] as const;
export type MaskitStatus = (typeof MASKIT_STATUSES)[number];

/** What became of a finished result (Task.dialectState.outcome). */
export type MaskitOutcome = 'downloaded' | 'delivered' | 'expired';

export interface MaskitRouteOptions {
  /** --maskit-webhook-url: where useWebhook=true results go; without it useWebhook=true is a 400. */
  webhookUrl?: string;
}

export function maskitStatus(task: Task): MaskitStatus {
  switch (task.status) {
    case 'queued':
      return 'Pending';
    case 'processing':
      return 'InProgress';
    case 'done': {
      // A download in progress (or one whose file removal is still under way) has already taken the result.
      const outcome = task.dialectState.outcome as MaskitOutcome | null | undefined;
      if (outcome === 'expired') return 'Failed'; // its files are being deleted
      return outcome === 'downloaded' || outcome === 'delivered' ? 'Succeeded' : 'ReadyToDownload';
    }
    case 'failed':
      return 'Failed';
    case 'deleted': {
      const outcome = task.dialectState.outcome as MaskitOutcome | undefined;
      // Downloaded or delivered: "post processing succeeded". Expired unseen, or deleted by an operator: the
      // result is lost, which we report as Failed (est.: Maskit documents no state for it).
      return outcome === 'downloaded' || outcome === 'delivered' ? 'Succeeded' : 'Failed';
    }
  }
}

/** `masked_<name>.<ext>` in the upload's format; the name's own extension is kept when it fits that format. */
export function downloadName(task: Task): string {
  const own = extname(task.name).slice(1).toLowerCase();
  const fits = task.mime === 'image/png' ? ['png'] : ['jpg', 'jpeg', 'jfif'];
  const ext = fits.includes(own) ? own : fits[0];
  return `masked_${safeStem(task.name)}.${ext}`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** `jobid` in any case (jobId, JobId, …), a UUID; 400 when missing or malformed, 404 when not a Maskit job. */
async function jobOf(ctx: Parameters<Handler>[0], req: Request): Promise<Task> {
  const entries = Object.entries(req.query as Record<string, unknown>).filter(([k]) => k.toLowerCase() === 'jobid');
  if (entries.length === 0 || entries[0]![1] === '') throw new BadParameterError('jobid', 'missing job id: add ?jobid=<id from process-image>');
  const value = entries[0]![1];
  if (entries.length > 1 || typeof value !== 'string') throw new BadParameterError('jobid', 'give one job id');
  if (!UUID.test(value.trim())) throw new BadParameterError('jobid', 'invalid job id: it is the UUID process-image answered');
  const id = value.trim().toLowerCase();
  let task: Task;
  try {
    task = await ctx.service.get(id);
  } catch {
    throw new NotFoundError(`job ${id} not found`);
  }
  if (task.dialect !== DIALECT_NAME) throw new NotFoundError(`job ${id} not found`);
  return task;
}

/** Maskit documents 400 for every bad input: a file we cannot take is one too. */
function asMaskitStatus(err: unknown): unknown {
  if (err instanceof BadParameterError && err.parameter === 'fileobject') {
    return new BadParameterError(MASKIT_IMAGE_FIELD, 'no image in the multipart body: send the JPEG or PNG in field "image" (one file)');
  }
  if (err instanceof AppError && (err.status === 415 || err.status === 422)) return new AppError(400, err.code, err.message, err.details);
  return err;
}

const processImage =
  (opts: MaskitRouteOptions): Handler =>
  async (ctx, req, res) => {
    if (!(req.get('content-type') ?? '').toLowerCase().startsWith('multipart/form-data')) {
      throw new BadParameterError(MASKIT_IMAGE_FIELD, 'send multipart/form-data with the image in field "image"');
    }
    // The queue slot is taken before the body arrives: open uploads count against --queue-limit.
    let slot: QueueSlot;
    try {
      slot = ctx.service.reserve();
    } catch (err) {
      throw asMaskitStatus(err);
    }
    try {
      await acceptUpload(ctx, req, res, opts, slot);
    } finally {
      slot.release();
    }
  };

async function acceptUpload(ctx: DialectContext, req: Request, res: Response, opts: MaskitRouteOptions, slot: QueueSlot): Promise<void> {
  const received = await receiveUpload(req, res, join(ctx.inputDir, '.incoming'), ctx.maxUploadMb).catch((err: unknown) => {
    throw asMaskitStatus(err);
  });
  try {
    const fields = { ...((req.body as Record<string, unknown> | undefined) ?? {}) };
    const parsed = parseMaskitFields(fields, ctx.classes, ctx.thresholds);
    if (parsed.useWebhook && !opts.webhookUrl) {
      throw new BadParameterError('useWebhook', 'this container has no webhook URL configured (start it with --maskit-webhook-url)');
    }
    const type = await probeUpload(received.path, ctx.service.limits);
    if (type.kind !== 'image') throw new BadParameterError(MASKIT_IMAGE_FIELD, 'must be a JPEG or PNG image');
    const task = await ctx.service.accept({
      dialect: DIALECT_NAME,
      path: received.path,
      originalName: received.originalName,
      type,
      params: parsed.params,
      webhook: parsed.useWebhook ? { url: opts.webhookUrl! } : null,
      dialectState: { metadata: parsed.metadata, useWebhook: parsed.useWebhook },
    }, slot);
    res.status(200).json({ jobid: task.id });
  } catch (err) {
    await rm(received.path, { force: true });
    throw asMaskitStatus(err);
  }
}

const imageStatus: Handler = async (ctx, req, res) => {
  const task = await jobOf(ctx, req);
  res.json({ jobid: task.id, status: maskitStatus(task) });
};

const imageDownload: Handler = async (ctx, req, res) => {
  const task = await jobOf(ctx, req);
  const status = maskitStatus(task);
  if (status !== 'ReadyToDownload' || !task.outputs.anonymised) {
    throw new AppError(400, 'not_ready', `image is not ready: job ${task.id} is ${status}${status === 'Succeeded' ? ' (downloaded or delivered once; its files are deleted)' : ''}`, {
      status,
    });
  }
  // Downloadable once: the download takes the result at once (a second request is refused), gives it back if
  // the file does not go out whole, and deletes it once it has.
  await ctx.service.updateDialectState(task.id, { outcome: 'downloaded' });
  res.type(task.mime);
  res.set('Content-Disposition', `attachment; filename="${downloadName(task)}"`);
  try {
    await new Promise<void>((resolve, reject) =>
      res.sendFile(join(task.outputDir, task.outputs.anonymised!), { dotfiles: 'allow' }, (err) => (err ? reject(err) : resolve())),
    );
  } catch (err) {
    await ctx.service.updateDialectState(task.id, { outcome: null });
    throw err;
  }
  await ctx.service.delete(task.id, { records: false, files: true });
};

export function maskitRoutes(opts: MaskitRouteOptions, openapi: Handler): Route[] {
  return [
    { method: 'post', path: `${BASE_PATH}/process-image`, handler: processImage(opts) },
    { method: 'get', path: `${BASE_PATH}/image-status`, handler: imageStatus },
    { method: 'get', path: `${BASE_PATH}/image-download`, handler: imageDownload },
    { method: 'get', path: `${BASE_PATH}/openapi.json`, handler: openapi },
  ];
}
