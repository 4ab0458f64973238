import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/** What a body must bring in each window of REQUEST_TIMEOUT_MS, unless it ends first. */
export const MIN_BYTES_PER_WINDOW = 16 * 1024;

/**
 * A connection's upload: the body its current request is sending, its connection's bytes read when
 * it started and at the last look. One per connection, made once and reused by each of its requests.
 */
interface Upload {
  raw: IncomingMessage | undefined;
  reply: FastifyReply | undefined;
  startBytes: number;
  lookedAt: number;
  bytesAtLook: number;
}

const UPLOAD = Symbol('fai.upload');
type UploadSocket = Socket & { [UPLOAD]?: Upload };

/**
 * Request bodies are timed by their progress, not by one total: a 40 MiB checkpoint at 1 MiB/s takes
 * 40 s and is fine; a body that brings less than 16 KiB in a window of REQUEST_TIMEOUT_MS (the client
 * stalled, or drips bytes to hold a connection) is cut with a 408 in our error format. Node's own
 * requestTimeout (one total for the whole request) is off; headers still have REQUEST_TIMEOUT_MS to
 * arrive (headersTimeout).
 *
 * Returns what the root onRequest hook (app.ts) calls for each request. A request without a body
 * costs nothing. One with a body is written into its connection's upload (kept on the socket), and
 * the connection joins the watched set (once: a keep-alive connection stays in it while it sends
 * bodies); one timer looks at them every half window: the bytes the connection read since the last
 * look (the socket's count). Nothing is made per request: a Map entry and an `end` listener per POST,
 * as this watch had before, cost the compliance check about 5 % of its requests/s (make bench-http,
 * pinned): each request held in a long-lived table survives young collections. A connection whose
 * body has ended (or that closed) leaves the set at the next look. A stalled body's reader (Fastify's
 * parser, or a route streaming it) hears the error as from a broken upload, and the error handler
 * answers 408.
 */
export function bodyProgressTimeout(app: FastifyInstance, windowMs: number): (request: FastifyRequest, reply: FastifyReply) => void {
  const watched = new Set<UploadSocket>();
  let timer: NodeJS.Timeout | undefined;
  const look = () => {
    const now = Date.now();
    for (const socket of watched) {
      const upload = socket[UPLOAD]!;
      const raw = upload.raw;
      if (raw === undefined || raw.complete || raw.destroyed || socket.destroyed) {
        // Its body has ended: the request is let go, and the connection leaves the set until its next body.
        upload.raw = upload.reply = undefined;
        watched.delete(socket);
        continue;
      }
      if (now - upload.lookedAt < windowMs) continue;
      const bytes = socket.bytesRead;
      if (bytes - upload.bytesAtLook >= MIN_BYTES_PER_WINDOW) {
        upload.lookedAt = now;
        upload.bytesAtLook = bytes;
        continue;
      }
      watched.delete(socket);
      stalled(raw, upload.reply!, upload, bytes, windowMs);
      upload.raw = upload.reply = undefined;
    }
    if (watched.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    watched.clear();
    done();
  });
  // Called from the root onRequest hook (app.ts): the body is not read yet, its headers are.
  return (request, reply) => {
    // No body: nothing to time. A request without a socket's count (an injected one, its body in memory) cannot stall.
    const headers = request.headers;
    const length = headers['content-length'];
    if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
    const raw = request.raw;
    const socket = raw.socket as UploadSocket | undefined;
    if (typeof socket?.bytesRead !== 'number') return;
    const bytes = socket.bytesRead;
    const upload = (socket[UPLOAD] ??= { raw: undefined, reply: undefined, startBytes: 0, lookedAt: 0, bytesAtLook: 0 });
    upload.raw = raw;
    upload.reply = reply;
    upload.startBytes = upload.bytesAtLook = bytes;
    upload.lookedAt = Date.now();
    watched.add(socket);
    timer ??= setInterval(look, Math.max(10, Math.floor(windowMs / 2))).unref();
  };
}

/** Answers a stalled upload 408 and closes its connection (the rest of the body will not come; the connection cannot be reused). */
function stalled(raw: IncomingMessage, reply: FastifyReply, upload: Upload, bytes: number, windowMs: number): void {
  const error = new FaiError(
    ErrorCodes.REQUEST_TIMEOUT,
    `body: the upload stalled: ${bytes - upload.bytesAtLook} bytes in the last ${windowMs} ms, fewer than ${MIN_BYTES_PER_WINDOW} (REQUEST_TIMEOUT_MS); ${bytes - upload.startBytes} bytes received after the headers`,
    { field: 'body' },
  );
  reply.header('connection', 'close');
  // The reader listens for the body's errors while it reads; with none listening, there is no one to answer.
  if (raw.listenerCount('error') > 0) raw.emit('error', error);
  else raw.destroy(error);
}
