// What happens on the wire before (or beside) express: Node's own parser errors answered in the API's JSON
// error shape, header/request/keep-alive timeouts, and an idle limit on upload bodies.
import { STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { RequestTimeoutError } from '../errors.ts';

export interface WireLimits {
  headersTimeoutMs: number;
  /** 0: no limit on receiving a whole request. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** An upload body silent for this long is cut with 408. */
  uploadIdleTimeoutMs: number;
}

/** Node's parser error codes → status, our code, a public text (no parser internals). */
function describe(err: NodeJS.ErrnoException): [number, string, string] {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return [431, 'headers_too_large', 'the request line or headers are too large (16 KB at most)'];
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return [408, 'request_timeout', 'the request did not arrive in time'];
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
      return [400, 'bad_request', 'Content-Length and Transfer-Encoding cannot be used together'];
    case 'HPE_INVALID_CHUNK_SIZE':
      return [400, 'bad_request', 'the chunked body is malformed'];
    case 'HPE_INVALID_CONTENT_LENGTH':
      return [400, 'bad_request', 'the Content-Length header is invalid'];
    case 'HPE_INVALID_EOF_STATE':
      return [400, 'bad_request', 'the connection ended before the request was complete'];
    case 'HPE_INVALID_HEADER_TOKEN':
      return [400, 'bad_request', 'a header contains invalid characters'];
    default:
      return [400, 'bad_request', 'the request is not valid HTTP'];
  }
}

function writeJsonError(socket: Duplex, status: number, code: string, message: string, flushed?: () => void): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    flushed,
  );
}

const hasBody = (req: IncomingMessage) =>
  (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0') || req.headers['transfer-encoding'] !== undefined;

export function hardenServer(server: Server, limits: WireLimits, log: Logger): void {
  server.requestTimeout = limits.requestTimeoutMs;
  // Node wants the header limit not above the whole-request limit.
  server.headersTimeout = limits.requestTimeoutMs > 0 ? Math.min(limits.headersTimeoutMs, limits.requestTimeoutMs) : limits.headersTimeoutMs;
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;

  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    // A response already under way on this connection, or a peer that is gone: nothing sensible to write.
    const busy = (socket as Duplex & { _httpMessage?: ServerResponse })._httpMessage;
    if (err.code === 'ECONNRESET' || !socket.writable || busy?.headersSent) {
      socket.destroy();
      return;
    }
    const [status, code, message] = describe(err);
    log.debug({ code: err.code, status }, 'refused by the HTTP parser');
    // When the body of a request being handled broke off, its handler will never see the rest: once the
    // answer is out, that request is destroyed, so its upload unwinds and removes its temporary file.
    const inFlight = (busy as (ServerResponse & { req?: IncomingMessage }) | undefined)?.req;
    writeJsonError(socket, status, code, message, () => {
      inFlight?.destroy();
      if (inFlight) socket.destroy();
    });
  });

  // A body that stops arriving (a trickle, a stalled client) would hold a file in .incoming for ever.
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (!hasBody(req)) return;
    req.setTimeout(limits.uploadIdleTimeoutMs, () => {
      const err = new RequestTimeoutError(`the upload sent nothing for ${limits.uploadIdleTimeoutMs / 1000} s and was cut`);
      if (res.headersSent) {
        req.destroy(err);
        return;
      }
      const body = JSON.stringify({ error: { code: err.code, message: err.message } });
      res.writeHead(408, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
      // The upload's own error path removes its temporary file once the request is destroyed.
      res.end(body, () => req.destroy(err));
    });
    req.once('end', () => req.setTimeout(0));
  });
}
