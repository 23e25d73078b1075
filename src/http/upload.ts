// Receives the uploaded file, as a raw body or as multipart/form-data, into a temporary file on disk
// (never whole in memory), enforcing the size limit. The caller owns the temporary file afterwards.
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Request, Response } from 'express';
import multer from 'multer';
import { AppError, BadParameterError, PayloadTooLargeError, UnsupportedMediaTypeError, withInternal } from '../errors.ts';

export const MULTIPART_FIELDS = ['fileobject', 'file', 'image'] as const;

export interface ReceivedFile {
  path: string;
  originalName: string;
  size: number;
}

function nameFromHeaders(req: Request): string {
  const explicit = req.get('x-file-name');
  if (explicit) return explicit;
  const disposition = req.get('content-disposition') ?? '';
  const m = /filename\*?=(?:UTF-8'')?"?([^";]+)"?/i.exec(disposition);
  if (m) {
    try {
      return decodeURIComponent(m[1]!);
    } catch {
      return m[1]!;
    }
  }
  return 'file';
}

async function receiveRaw(req: Request, dir: string, limitBytes: number, limitMb: number): Promise<ReceivedFile> {
  const declared = Number(req.get('content-length'));
  if (Number.isFinite(declared) && declared > limitBytes) throw new PayloadTooLargeError(limitMb);
  const path = join(dir, randomUUID());
  let size = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length;
      if (size > limitBytes) cb(new PayloadTooLargeError(limitMb));
      else cb(null, chunk);
    },
  });
  try {
    await pipeline(req, counter, createWriteStream(path));
  } catch (err) {
    await rm(path, { force: true });
    if (err instanceof AppError) throw err;
    throw withInternal(new AppError(400, 'upload_interrupted', 'the upload did not arrive whole'), err);
  }
  if (size === 0) {
    await rm(path, { force: true });
    throw new BadParameterError('body', 'the request has no file: send the file as the body or as multipart field "fileobject"');
  }
  return { path, originalName: nameFromHeaders(req), size };
}

function receiveMultipart(req: Request, res: Response, dir: string, limitBytes: number, limitMb: number): Promise<ReceivedFile> {
  const upload = multer({
    storage: multer.diskStorage({ destination: dir, filename: (_req, _file, cb) => cb(null, randomUUID()) }),
    limits: { fileSize: limitBytes, files: 1, fields: 20 },
  }).any();
  return new Promise((resolve, reject) => {
    upload(req, res, (err: unknown) => {
      const files = (req.files as Express.Multer.File[] | undefined) ?? [];
      const cleanup = () => Promise.all(files.map((f) => rm(f.path, { force: true })));
      if (err) {
        void cleanup();
        if (err instanceof multer.MulterError) {
          if (err.code === 'LIMIT_FILE_SIZE') return reject(new PayloadTooLargeError(limitMb));
          if (err.code === 'LIMIT_FILE_COUNT') return reject(new BadParameterError(err.field ?? 'fileobject', 'send exactly one file per request'));
          return reject(new BadParameterError(err.field ?? 'body', err.message));
        }
        return reject(withInternal(new AppError(400, 'bad_multipart', 'the multipart body could not be read (malformed or cut short)'), err));
      }
      const file = files.find((f) => (MULTIPART_FIELDS as readonly string[]).includes(f.fieldname.toLowerCase()));
      if (!file) {
        void cleanup();
        // multer drops a file part whose filename is missing, ".", ".." or ends in "/..": say so.
        return reject(
          new BadParameterError('fileobject', 'no file in the multipart body: send it in the field "fileobject" (or "file", "image") with a plain filename such as filename="photo.jpg" (not ".", ".." or a path)'),
        );
      }
      resolve({ path: file.path, originalName: file.originalname || 'file', size: file.size });
    });
  });
}

export async function receiveUpload(req: Request, res: Response, tempDir: string, limitMb: number): Promise<ReceivedFile> {
  await mkdir(tempDir, { recursive: true });
  const limitBytes = limitMb * 1024 * 1024;
  const type = (req.get('content-type') ?? '').toLowerCase();
  if (type.startsWith('multipart/form-data')) return receiveMultipart(req, res, tempDir, limitBytes, limitMb);
  if (type === '' || type.startsWith('image/') || type.startsWith('video/') || type.startsWith('application/octet-stream')) {
    return receiveRaw(req, tempDir, limitBytes, limitMb);
  }
  throw new UnsupportedMediaTypeError(`Content-Type ${type} is not accepted: send the image or video as the body (image/*, video/*, application/octet-stream) or as multipart/form-data`);
}
