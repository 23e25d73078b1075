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
import { randomUUID } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
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
    const chunks: Buffer[] = [];
    let received = 0;
    let protocol: Protocol | null = opts.mode === 'auto' ? null : opts.mode;
    /** NumPy: header + payload bytes, known once the header is in. */
    let expected: number | null = null;
    let state: 'reading' | 'processing' | 'closed' = 'reading';

    const refuse = (reason: string, level: 'warn' | 'info' = 'warn') => {
      if (state === 'closed') return;
      state = 'closed';
      clog[level]({ protocol, received, reason }, 'TCP request refused; connection closed without an answer');
      socket.destroy();
    };

    const begin = () => {
      state = 'processing';
      socket.setTimeout(0);
      const all = Buffer.concat(chunks, received);
      chunks.length = 0;
      const started = performance.now();
      anonymiseOne(protocol!, protocol === 'numpy' ? all.subarray(FRAME_HEADER_BYTES) : all, clog).then(
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
      chunks.push(chunk);
      received += chunk.length;
      if (protocol === null) {
        protocol = chunk[0] === JPEG_FIRST_BYTE ? 'jpeg' : chunk[0] === 0 ? 'numpy' : null;
        if (protocol === null) return refuse(`the first byte (0x${chunk[0]!.toString(16).padStart(2, '0')}) starts neither a JPEG nor a NumPy frame header`);
      }
      const limit = protocol === 'numpy' ? FRAME_HEADER_BYTES + opts.maxBytes : opts.maxBytes;
      if (received > limit) return refuse(`the request is larger than the limit of ${opts.maxBytes} bytes`);
      if (protocol !== 'numpy') return;
      if (expected === null && received >= FRAME_HEADER_BYTES) {
        const head = Buffer.concat(chunks, received).subarray(0, FRAME_HEADER_BYTES);
        const length = readFrameLength(head);
        if (length === null || length > opts.maxBytes) return refuse(`the frame header announces ${length === null ? 'an absurd' : length}-byte payload; the limit is ${opts.maxBytes} bytes`);
        if (length === 0) return refuse('the frame header announces an empty payload');
        expected = FRAME_HEADER_BYTES + length;
      }
      if (expected !== null && received > expected) return refuse(`${received - FRAME_HEADER_BYTES} payload bytes arrived, the header announced ${expected - FRAME_HEADER_BYTES}`);
      if (expected !== null && received === expected) begin();
    });
    socket.on('end', () => {
      if (state !== 'reading') return;
      if (received === 0) return refuse('the client closed without sending anything', 'info');
      if (protocol === 'jpeg') return begin();
      if (expected === null) return refuse(`the client half-closed after ${received} bytes, inside the ${FRAME_HEADER_BYTES}-byte frame header`);
      refuse(`the client half-closed after ${received - FRAME_HEADER_BYTES} of the ${expected - FRAME_HEADER_BYTES} payload bytes the header announced`);
    });
  }

  /** One image through the task service; resolves with the answer's bytes, rejects with a reason to log. */
  async function anonymiseOne(protocol: Protocol, payload: Buffer, clog: Logger): Promise<Buffer> {
    const ext = protocol === 'jpeg' ? 'jpg' : 'png';
    const path = join(opts.incomingDir, `tcp-${randomUUID()}.${ext}`);
    let taskId: string | undefined;
    try {
      if (protocol === 'numpy') {
        const image = parseNpy(payload);
        await writeFile(path, await bgrToPng(image));
      } else {
        await writeFile(path, payload);
      }
      const type = await probeUpload(path);
      if (protocol === 'jpeg' && type.mime !== 'image/jpeg') throw new UnsupportedMediaTypeError(`JPEG mode takes JPEG bytes; this is ${type.mime}`);
      const task = await opts.service.accept({ path, originalName: `tcp.${ext}`, type, params: tcpParams(opts.classes, opts.thresholds, protocol), webhook: null });
      taskId = task.id;
      clog.debug({ task: task.id, protocol }, 'TCP image queued');
      const { task: finished, error } = await opts.service.waitFor(task.id);
      if (finished.status !== 'done' || !finished.outputs.anonymised) {
        throw error instanceof Error ? error : new Error(`processing failed: ${finished.error ?? finished.status}`);
      }
      const output = join(finished.outputDir, finished.outputs.anonymised);
      if (protocol === 'jpeg') return await readFile(output);
      const npy = encodeNpy(await imageFileToBgr(output));
      return Buffer.concat([frameHeader(npy.length), npy]);
    } catch (err) {
      if (err instanceof NpyFormatError || err instanceof RefusedRequest) throw err;
      if (err instanceof AppError) throw new RefusedRequest(`${err.code}: ${err.message}`);
      clog.error({ err }, 'TCP image failed');
      throw new RefusedRequest('processing failed (see the error logged before)');
    } finally {
      await rm(path, { force: true });
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
