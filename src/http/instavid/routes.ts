// Routes of the InstaVid360 Image API (seed 000, ../shared/DIALECTS.md §4): imagekey uploads, LPA and
// background-replacement tasks, the status query and the result download. Handlers stay thin: parse,
// check the token's scope, call the task service, present in the envelope.
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import express, { type Request, type Response } from 'express';
import sharp from 'sharp';
import { z } from 'zod';
import { AppError, NotFoundError, UnsupportedMediaTypeError } from '../../errors.ts';
import { DEFAULT_PARAMS, type ObjectClass, type ProcessParams } from '../../types.ts';
import { currentOwner } from '../../accounts/context.ts';
import { probeUpload } from '../../pipeline/probe.ts';
import type { QuotaService } from '../../accounts/types.ts';
import { newKey, type ImageStore, type StoredImage } from '../../tasks/image-store.ts';
import { baseUrlOf, type DialectContext, type Handler, type Route } from '../dialect.ts';
import { receiveUpload } from '../upload.ts';
import { requireScope } from '../auth.ts';
import { sendTaskFile } from '../files.ts';
import { ok } from './envelope.ts';
import { presentStatus, TASK_TYPES } from './present.ts';

export const DIALECT_NAME = 'instavid';
export const IMAGE_TYPES = ['original', 'background', 'overlay'] as const;
const DEFAULT_MAX_UPLOAD_MB = 2;

/** 422 with every reason in data.messages. */
export class ValidationError extends AppError {
  constructor(messages: string[]) {
    super(422, 'validation_failed', messages.length === 1 ? messages[0]! : `${messages.length} problems: ${messages.join('; ')}`, { messages });
  }
}

function imagesOf(ctx: DialectContext): ImageStore {
  if (!ctx.images) throw new AppError(500, 'not_configured', 'the image store is not configured');
  return ctx.images;
}

/** An image the current token may use: its own (any for the --api-key); others' keys do not exist for it. */
async function ownImage(ctx: DialectContext, key: unknown, field: string): Promise<StoredImage> {
  const image = typeof key === 'string' && /^[A-Za-z0-9]{1,64}$/.test(key) ? await imagesOf(ctx).getImage(key) : undefined;
  const owner = currentOwner();
  if (!image || (owner !== undefined && image.owner !== owner)) throw new ValidationError([`${field}: no image with imagekey ${String(key)}`]);
  return image;
}

const upload: Handler = async (ctx, req, res) => {
  requireScope('image:upload');
  const kind = String(req.params.type);
  if (!(IMAGE_TYPES as readonly string[]).includes(kind)) throw new ValidationError([`image_type must be one of ${IMAGE_TYPES.join(', ')}, got "${kind}"`]);
  const incoming = join(ctx.inputDir, '.incoming');
  const received = await receiveUpload(req, res, incoming, ctx.instavidMaxUploadMb ?? DEFAULT_MAX_UPLOAD_MB);
  try {
    const type = await probeUpload(received.path, ctx.service.limits);
    if (type.mime !== 'image/jpeg' && type.mime !== 'image/png') throw new UnsupportedMediaTypeError('the image must be a JPEG or PNG');
    const meta = await sharp(received.path).metadata();
    // Width × height as the image is shown (EXIF orientation 5-8 swaps them).
    const turned = (meta.orientation ?? 1) >= 5;
    const key = newKey();
    const dir = join(ctx.inputDir, 'instavid');
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${key}.${type.ext}`);
    await rename(received.path, path);
    await imagesOf(ctx).addImage({
      key,
      owner: currentOwner() ?? null,
      kind,
      path,
      mime: type.mime,
      width: (turned ? meta.height : meta.width) ?? 0,
      height: (turned ? meta.width : meta.height) ?? 0,
      taskId: null,
    });
    res.json(ok({ imagekey: key }));
  } finally {
    await rm(received.path, { force: true });
  }
};

const options = z.record(z.string(), z.unknown()).or(z.array(z.unknown())).nullish();
const common = {
  reference: z.string({ error: 'reference is required (a string)' }).min(1, 'reference must not be empty').max(500),
  original: z.string({ error: 'original is required (an imagekey)' }),
  meta: z.unknown().optional(),
  callback_url: z.string({ error: 'callback_url must be a URL' }).nullish(),
};
const lpaBody = z.object({ ...common, options });
const bgBody = z.object({
  ...common,
  background: z.string({ error: 'background is required (an imagekey)' }),
  overlay: z.string({ error: 'overlay must be an imagekey or null' }).nullish(),
  options: z.object({ shadow: z.union([z.boolean(), z.enum(['true', 'false'])], { error: 'options.shadow must be true or false' }).optional() }).nullish(),
});

const jsonParser = express.json({ limit: '256kb' });

/** The JSON body, read after the guard so that refused requests are not read at all. */
async function parseBody<T>(schema: z.ZodType<T>, req: Request, res: Response): Promise<T> {
  await new Promise<void>((resolve, reject) => jsonParser(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
  const parsed = schema.safeParse(req.body ?? {});
  if (!parsed.success) throw new ValidationError(parsed.error.issues.map((i) => (i.path.length && !i.message.startsWith(String(i.path[0])) ? `${i.path.join('.')}: ${i.message}` : i.message)));
  return parsed.data;
}

function classesFor(ctx: DialectContext, wanted: ObjectClass[], taskType: string): ObjectClass[] {
  const missing = wanted.filter((c) => !ctx.classes.includes(c));
  if (missing.length) throw new AppError(422, 'class_not_enabled', `${taskType} tasks need the ${missing.join(', ')} detector: start the container with ${missing.map((c) => `-a ${c}`).join(' ')}`);
  return wanted;
}

async function createTask(
  ctx: DialectContext,
  req: Request,
  input: { original: StoredImage; params: ProcessParams; quota: QuotaService; state: Record<string, unknown>; callback: string | null | undefined },
): Promise<string> {
  const webhook = input.callback ? { url: input.callback } : null;
  ctx.service.checkWebhook(webhook);
  // The task gets its own copy of the original: the imagekey's file stays usable for other tasks.
  const temp = join(ctx.inputDir, '.incoming', randomUUID());
  await mkdir(join(ctx.inputDir, '.incoming'), { recursive: true });
  await copyFile(input.original.path, temp);
  const key = newKey();
  try {
    const ext = input.original.mime === 'image/png' ? 'png' : 'jpg';
    const task = await ctx.service.accept({
      dialect: DIALECT_NAME,
      path: temp,
      originalName: `${input.original.key}.${ext}`,
      type: { kind: 'image', mime: input.original.mime, ext },
      params: input.params,
      webhook,
      quota: input.quota,
    });
    await imagesOf(ctx).addTask({ key, taskId: task.id, dialect: DIALECT_NAME, state: { ...input.state, callback_url: input.callback ?? null } });
  } finally {
    await rm(temp, { force: true });
  }
  return key;
}

const lpaTask: Handler = async (ctx, req, res) => {
  requireScope('task:lpa');
  const body = await parseBody(lpaBody, req, res);
  const original = await ownImage(ctx, body.original, 'original');
  const params: ProcessParams = { ...DEFAULT_PARAMS, classes: classesFor(ctx, ['license-plate'], 'LPA'), thresholds: { ...ctx.thresholds }, saveMask: 'none' };
  const key = await createTask(ctx, req, {
    original,
    params,
    quota: 'lpa',
    callback: body.callback_url,
    state: { reference: body.reference, task_type: TASK_TYPES.lpa, options: body.options ?? {}, meta: body.meta ?? null },
  });
  res.json(ok({ task: key }));
};

const bgTask: Handler = async (ctx, req, res) => {
  requireScope('task:bg-replace');
  const body = await parseBody(bgBody, req, res);
  const original = await ownImage(ctx, body.original, 'original');
  const background = await ownImage(ctx, body.background, 'background');
  const overlay = body.overlay ? await ownImage(ctx, body.overlay, 'overlay') : null;
  const shadow = body.options?.shadow === true || body.options?.shadow === 'true';
  const params: ProcessParams = {
    ...DEFAULT_PARAMS,
    // The foreground is vehicles and persons; a container started with only one of them uses that one.
    classes: ctx.classes.includes('vehicle') || ctx.classes.includes('person') ? (['vehicle', 'person'] as const).filter((c) => ctx.classes.includes(c)) : classesFor(ctx, ['vehicle'], 'Background Replace'),
    thresholds: { ...ctx.thresholds },
    saveMask: 'none',
    replaceBackground: { background: background.path, overlay: overlay?.path ?? null, shadow },
  };
  const key = await createTask(ctx, req, {
    original,
    params,
    quota: 'bg-replace',
    callback: body.callback_url,
    state: { reference: body.reference, task_type: TASK_TYPES.bg, options: { shadow }, meta: body.meta ?? null, background: background.key, overlay: overlay?.key ?? null },
  });
  res.json(ok({ task: key }));
};

const taskStatus: Handler = async (ctx, req, res) => {
  requireScope('task:read');
  const keyed = await imagesOf(ctx).taskByKey(String(req.params.task));
  if (!keyed || keyed.dialect !== DIALECT_NAME) throw new NotFoundError(`no task ${String(req.params.task)}`);
  // The service hides tasks of other tokens (404 as for an unknown key).
  const task = await ctx.service.get(keyed.taskId);
  res.json(ok(await presentStatus(imagesOf(ctx), task, keyed, baseUrlOf(ctx, req))));
};

const downloadImage: Handler = async (ctx, req, res) => {
  requireScope('task:read');
  const key = String(req.params.imagekey);
  const image = await imagesOf(ctx).getImage(key);
  const owner = currentOwner();
  if (!image || (owner !== undefined && image.owner !== owner)) throw new NotFoundError(`no image ${key}`);
  await sendTaskFile(res, image.path, image.taskId ?? key, 'image', image.mime);
};

/** Order matters: the upload and task paths before the /api/image/{imagekey} download. */
export const ROUTES: Route[] = [
  { method: 'post', path: '/api/v1/image/upload/:type', handler: upload },
  { method: 'post', path: '/api/image/upload/:type', handler: upload },
  { method: 'post', path: '/api/image/task/lpa', handler: lpaTask },
  { method: 'post', path: '/api/image/task/bg-replace', handler: bgTask },
  { method: 'post', path: '/api/image/task/:task', handler: taskStatus },
  { method: 'get', path: '/api/image/task/:task', handler: taskStatus },
  { method: 'get', path: '/api/image/:imagekey', handler: downloadImage },
  { method: 'post', path: '/api/image/:imagekey', handler: downloadImage },
];
