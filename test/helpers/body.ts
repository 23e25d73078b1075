/** fetch() wants ArrayBuffer-backed views; Node's Buffers may sit on a shared pool. */
export const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => new Uint8Array(b);
