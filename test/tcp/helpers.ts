// A raw TCP client for Celantur's TCP mode, as its example clients talk: send, half-close, read to the end.
import { connect } from 'node:net';

export interface Exchange {
  /** Every byte the server sent. */
  data: Buffer;
  /** The server reset the connection (or it errored) instead of ending it cleanly. */
  reset: boolean;
  ms: number;
}

export interface ExchangeOptions {
  /** Half-close after the last chunk (Celantur's clients do). */
  halfClose?: boolean;
  /** Pause between chunks. */
  gapMs?: number;
  /** Give up (and fail the test) after this long. */
  timeoutMs?: number;
}

export function exchange(port: number, chunks: Buffer[], opts: ExchangeOptions = {}): Promise<Exchange> {
  const { halfClose = true, gapMs = 0, timeoutMs = 120_000 } = opts;
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const received: Buffer[] = [];
    let reset = false;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close from the server after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('data', (b: Buffer) => received.push(b));
    socket.on('error', () => {
      reset = true;
    });
    socket.on('end', () => socket.end());
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(received), reset, ms: performance.now() - started });
    });
    socket.on('connect', async () => {
      for (const [i, chunk] of chunks.entries()) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs && i < chunks.length - 1) await new Promise((r) => setTimeout(r, gapMs));
      }
      if (halfClose && !socket.destroyed) socket.end();
    });
  });
}

/** Celantur's NumPy framing: the length as a 4096-byte big-endian integer, then the payload. */
export function numpyFrame(payload: Buffer, announced = payload.length): Buffer {
  const header = Buffer.alloc(4096);
  header.writeUIntBE(announced, 4096 - 6, 6);
  return Buffer.concat([header, payload]);
}

/** A `.npy` file written byte for byte as NumPy 1.x/2.x's np.save does for a C-order uint8 array. */
export function npyFile(shape: number[], data: Buffer, descr = '|u1', fortran = false): Buffer {
  const dict = `{'descr': '${descr}', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  const padded = dict.padEnd(Math.ceil((10 + dict.length + 1) / 64) * 64 - 11, ' ') + '\n';
  const head = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
  head.writeUInt16LE(padded.length, 8);
  return Buffer.concat([head, Buffer.from(padded, 'latin1'), data]);
}
