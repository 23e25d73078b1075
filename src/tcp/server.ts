// Celantur's TCP mode, a dialect of its own beside the REST API. One connection carries one image:
//
// - JPEG: the client sends the JPEG file's bytes and half-closes; the answer is the anonymised JPEG, then close.
// - NumPy: a 4096-byte big-endian length, then a `.npy` payload (uint8 H×W×3, BGR); the answer has the same framing.
//
// There are no per-request options: the image is processed with the container's start-up classes and
// thresholds and the default parameters, like Celantur's TCP server. Every image becomes a task of the
// task service, so it waits in the same queue under the same limits as HTTP uploads (queue full: the
// connection is closed without an answer); the task and its files are deleted once the answer is sent.
// A request that is bad in any way (not a JPEG, not a .npy we take, cut short, longer than announced,
// over --max-upload-mb, silent past --tcp-timeout) closes the connection without a byte written, and one
// warn log line says why. Nothing is ever half-written: the answer is sent in one piece once it is complete.
// Payloads stream to `<input>/.incoming` as they arrive; NumPy arrays are carried through the pipeline as
// lossless PNGs (src/pipeline/image/raw.ts), converted at most --concurrency at a time.
import { randomUUID } from 'node:crypto';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { finished as streamFinished } from 'node:stream/promises';
import PQueue from 'p-queue';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { TcpMode } from '../config.ts';
import { AppError, UnsupportedMediaTypeError } from '../errors.ts';
import { probeUpload } from '../pipeline/probe.ts';
import { bgrToPng, imageFileToBgr } from '../pipeline/image/raw.ts';
import type { TaskService } from '../tasks/service.ts';
import { DEFAULT_PARAMS, type ObjectClass, type ProcessParams } from '../types.ts';
import { FRAME_HEADER_BYTES, NpyFormatError, encodeNpy, frameHeader, parseNpy, readFrameLength } from './npy.ts';

type Protocol = 'jpeg' | 'numpy';

export interface TcpOptions {
  host: string;
  port: number;
  mode: TcpMode;
  service: TaskService;
  classes: readonly ObjectClass[];
  thresholds: Record<ObjectClass, number>;
  /** Largest JPEG or .npy payload, in bytes. */
  maxBytes: number;
  /** Idle time allowed while the request is being read. */
  timeoutMs: number;
  /** Where payloads are written before the task service takes them (the REST API's `.incoming`). */
  incomingDir: string;
  /** Connections open at once; more are dropped at once (and logged). */
  maxConnections: number;
  /** NumPy ↔ PNG conversions at once (the container's --concurrency). */
  conversionConcurrency: number;
  log: Logger;
}

export interface RunningTcpServer {
  port: number;
  /** Stops accepting; resolves once every open connection has ended. */
  close(): Promise<void>;
  /** Closes the connections still open (those waiting for a result get no answer). */
  destroy(): void;
}

/** A reason to close the connection without an answer. */
class RefusedRequest extends Error {}

const JPEG_FIRST_BYTE = 0xff;

/** The parameters of every TCP image: the defaults with the container's classes and thresholds; no masks. */
export function tcpParams(classes: readonly ObjectClass[], thresholds: Record<ObjectClass, number>, protocol: Protocol): ProcessParams {
  return {
    ...structuredClone(DEFAULT_PARAMS),
    classes: [...classes],
    thresholds: { ...thresholds },
    saveMask: 'none',
    // The PNG that carries NumPy pixels back is internal: fast zlib, the pixels are exact anyway.
    ...(protocol === 'numpy' ? { compressLevel: 1 } : {}),
  };
}

export async function startTcpServer(opts: TcpOptions): Promise<RunningTcpServer> {
  const log = opts.log.child({ dialect: 'tcp' });
  const sockets = new Set<Socket>();
  /** NumPy ↔ PNG conversions hold whole images in memory: no more of them at once than images are processed. */
  const conversions = new PQueue({ concurrency: Math.max(1, opts.conversionConcurrency) });
  let nextConnection = 1;
  await mkdir(opts.incomingDir, { recursive: true });

  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handleConnection(socket, nextConnection++);
  });
  server.maxConnections = opts.maxConnections;
  server.on('drop', (info) => log.warn({ remote: info?.remoteAddress, limit: opts.maxConnections }, 'TCP connection dropped: too many open connections'));

  function handleConnection(socket: Socket, connection: number): void {
    const clog = log.child({ connection, remote: `${socket.remoteAddress}:${socket.remotePort}` });
    let received = 0;
    let protocol: Protocol | null = opts.mode === 'auto' ? null : opts.mode;
    /** NumPy: the frame header while it comes in, then header + payload bytes expected in all. */
    const header: Buffer[] = [];
    let headerBytes = 0;
    let expected: number | null = null;
    let state: 'reading' | 'processing' | 'closed' = 'reading';
    // The payload goes to disk as it arrives (as HTTP uploads do), so a slow or large request holds no memory.
    const payloadPath = join(opts.incomingDir, `tcp-${randomUUID()}.part`);
    let file: WriteStream | null = null;

    const refuse = (reason: string, level: 'warn' | 'info' | 'error' = 'warn') => {
      if (state === 'closed') return;
      state = 'closed';
      clog[level]({ protocol, received, reason }, 'TCP request refused; connection closed without an answer');
      socket.destroy();
      file?.destroy();
      void rm(payloadPath, { force: true });
    };

    const store = (chunk: Buffer) => {
      if (chunk.length === 0) return;
      if (!file) {
        file = createWriteStream(payloadPath);
        file.on('error', (err) => refuse(`the payload could not be stored: ${err.message}`, 'error'));
      }
      if (!file.write(chunk)) {
        socket.pause();
        file.once('drain', () => socket.resume());
      }
    };

    const begin = () => {
      state = 'processing';
      socket.setTimeout(0);
      const started = performance.now();
      const stored = file ? (file.end(), streamFinished(file)) : Promise.resolve();
      stored
        .then(() => anonymiseOne(protocol!, payloadPath, clog))
        .then(
          (answer) => {
            if (state === 'closed' || socket.destroyed) {
              clog.info({ protocol }, 'TCP client went away before the answer was ready');
              return;
            }
            state = 'closed';
            socket.end(answer);
            clog.info({ protocol, bytesIn: received, bytesOut: answer.length, ms: Math.round(performance.now() - started) }, 'TCP image anonymised');
          },
          (err: unknown) => refuse(err instanceof Error ? err.message : String(err)),
        );
    };

    socket.setTimeout(opts.timeoutMs);
    socket.on('timeout', () => refuse(`nothing received for ${opts.timeoutMs / 1000} s before the request was complete`));
    socket.on('error', (err) => {
      if (state !== 'closed') refuse(`socket error: ${err.message}`, 'info');
    });
    socket.on('data', (chunk: Buffer) => {
      if (state === 'processing') return refuse('more bytes arrived after the announced length');
      if (state !== 'reading') return;
      received += chunk.length;
      if (protocol === null) {
        protocol = chunk[0] === JPEG_FIRST_BYTE ? 'jpeg' : chunk[0] === 0 ? 'numpy' : null;
        if (protocol === null) return refuse(`the first byte (0x${chunk[0]!.toString(16).padStart(2, '0')}) starts neither a JPEG nor a NumPy frame header`);
      }
      const limit = protocol === 'numpy' ? FRAME_HEADER_BYTES + opts.maxBytes : opts.maxBytes;
      if (received > limit) return refuse(`the request is larger than the limit of ${opts.maxBytes} bytes`);
      if (protocol === 'jpeg') return store(chunk);
      let rest = chunk;
      if (expected === null) {
        const part = rest.subarray(0, FRAME_HEADER_BYTES - headerBytes);
        header.push(part);
        headerBytes += part.length;
        rest = rest.subarray(part.length);
        if (headerBytes < FRAME_HEADER_BYTES) return;
        const length = readFrameLength(Buffer.concat(header));
        if (length === null || length > opts.maxBytes) return refuse(`the frame header announces ${length === null ? 'an absurd' : length}-byte payload; the limit is ${opts.maxBytes} bytes`);
        if (length === 0) return refuse('the frame header announces an empty payload');
        expected = FRAME_HEADER_BYTES + length;
      }
      if (received > expected) return refuse(`${received - FRAME_HEADER_BYTES} payload bytes arrived, the header announced ${expected - FRAME_HEADER_BYTES}`);
      store(rest);
      if (received === expected) begin();
    });
    socket.on('end', () => {
      if (state !== 'reading') return;
      if (received === 0) return refuse('the client closed without sending anything', 'info');
      if (protocol === 'jpeg') return begin();
      if (expected === null) return refuse(`the client half-closed after ${received} bytes, inside the ${FRAME_HEADER_BYTES}-byte frame header`);
      refuse(`the client half-closed after ${received - FRAME_HEADER_BYTES} of the ${expected - FRAME_HEADER_BYTES} payload bytes the header announced`);
    });
  }

  /** One image (its payload stored at `payloadPath`) through the task service; resolves with the answer, rejects with a reason to log. */
  async function anonymiseOne(protocol: Protocol, payloadPath: string, clog: Logger): Promise<Buffer> {
    const ext = protocol === 'jpeg' ? 'jpg' : 'png';
    const path = join(opts.incomingDir, `tcp-${randomUUID()}.${ext}`);
    let taskId: string | undefined;
    try {
      if (protocol === 'numpy') {
        await conversions.add(async () => writeFile(path, await bgrToPng(parseNpy(await readFile(payloadPath)))));
      } else {
        await rename(payloadPath, path);
      }
      const type = await probeUpload(path, opts.service.limits);
      if (protocol === 'jpeg' && type.mime !== 'image/jpeg') throw new UnsupportedMediaTypeError(`JPEG mode takes JPEG bytes; this is ${type.mime}`);
      const task = await opts.service.accept({ path, originalName: `tcp.${ext}`, type, params: tcpParams(opts.classes, opts.thresholds, protocol), webhook: null, dialect: 'celantur-tcp' });
      taskId = task.id;
      clog.debug({ task: task.id, protocol }, 'TCP image queued');
      const { task: finished, error } = await opts.service.waitFor(task.id);
      if (finished.status !== 'done' || !finished.outputs.anonymised) {
        throw error instanceof Error ? error : new Error(`processing failed: ${finished.error ?? finished.status}`);
      }
      const output = join(finished.outputDir, finished.outputs.anonymised);
      if (protocol === 'jpeg') return await readFile(output);
      return await conversions.add(async () => {
        const npy = encodeNpy(await imageFileToBgr(output));
        return Buffer.concat([frameHeader(npy.length), npy]);
      });
    } catch (err) {
      if (err instanceof NpyFormatError || err instanceof RefusedRequest) throw err;
      if (err instanceof AppError) throw new RefusedRequest(`${err.code}: ${err.message}`);
      clog.error({ err }, 'TCP image failed');
      throw new RefusedRequest('processing failed (see the error logged before)');
    } finally {
      await Promise.all([rm(path, { force: true }), rm(payloadPath, { force: true })]);
      if (taskId) await opts.service.delete(taskId, { records: true, files: true }).catch(() => {});
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  log.info({ host: opts.host, port, mode: opts.mode }, 'TCP mode listening');
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    destroy: () => {
      for (const s of sockets) s.destroy();
    },
  };
}
