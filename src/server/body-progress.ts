import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/** What a body must bring in each window of REQUEST_TIMEOUT_MS, unless it ends first. */
export const MIN_BYTES_PER_WINDOW = 16 * 1024;

/** A body being received (its request is the key it is held under): its connection's bytes read when it started and at the last look. */
interface Upload {
  readonly reply: FastifyReply;
  readonly startBytes: number;
  lookedAt: number;
  bytesAtLook: number;
}

/**
 * Request bodies are timed by their progress, not by one total: a 40 MiB checkpoint at 1 MiB/s takes
 * 40 s and is fine; a body that brings less than 16 KiB in a window of REQUEST_TIMEOUT_MS (the client
 * stalled, or drips bytes to hold a connection) is cut with a 408 in our error format. Node's own
 * requestTimeout (one total for the whole request) is off; headers still have REQUEST_TIMEOUT_MS to
 * arrive (headersTimeout).
 *
 * Returns what the root onRequest hook (app.ts) calls for each request. A request without a body
 * costs nothing. One with a body joins the uploads until its body ends (one shared `end` listener);
 * one timer looks at them every half window: the bytes its connection read since the last look (the
 * socket's count — no stream put between the request and its reader, no timer per request: those
 * cost a POST several microseconds, make bench-http). A stalled body's reader (Fastify's parser, or a
 * route streaming it) hears the error as from a broken upload, and the error handler answers 408.
 */
export function bodyProgressTimeout(app: FastifyInstance, windowMs: number): (request: FastifyRequest, reply: FastifyReply) => void {
  const uploads = new Map<IncomingMessage, Upload>();
  // One function for every request (no closure each): `this` is the request whose body ended.
  function forget(this: IncomingMessage): void {
    uploads.delete(this);
  }
  let timer: NodeJS.Timeout | undefined;
  const look = () => {
    const now = Date.now();
    for (const [raw, upload] of uploads) {
      if (raw.complete || raw.destroyed) {
        uploads.delete(raw);
        continue;
      }
      if (now - upload.lookedAt < windowMs) continue;
      const bytes = raw.socket.bytesRead;
      if (bytes - upload.bytesAtLook >= MIN_BYTES_PER_WINDOW) {
        upload.lookedAt = now;
        upload.bytesAtLook = bytes;
        continue;
      }
      uploads.delete(raw);
      stalled(raw, upload, bytes, windowMs);
    }
    if (uploads.size === 0) {
      clearInterval(timer);
      timer = undefined;
    }
  };
  app.addHook('onClose', (_instance, done) => {
    clearInterval(timer);
    uploads.clear();
    done();
  });
  // Called from the root onRequest hook (app.ts): the body is not read yet, its headers are.
  return (request, reply) => {
    // No body: nothing to time. A request without a socket's count (an injected one, its body in memory) cannot stall.
    const headers = request.headers;
    const length = headers['content-length'];
    if (headers['transfer-encoding'] === undefined && (length === undefined || length === '0')) return;
    const raw = request.raw;
    if (typeof raw.socket?.bytesRead !== 'number') return;
    const bytes = raw.socket.bytesRead;
    uploads.set(raw, { reply, startBytes: bytes, lookedAt: Date.now(), bytesAtLook: bytes });
    // Let go as soon as the body has been read: a finished request held until the next look survives the young
    // generation's collections, and at thousands of posts a second that cost more than the rest of the watch.
    raw.once('end', forget);
    timer ??= setInterval(look, Math.max(10, Math.floor(windowMs / 2))).unref();
  };
}

/** Answers a stalled upload 408 and closes its connection (the rest of the body will not come; the connection cannot be reused). */
function stalled(raw: IncomingMessage, upload: Upload, bytes: number, windowMs: number): void {
  const error = new FaiError(
    ErrorCodes.REQUEST_TIMEOUT,
    `body: the upload stalled: ${bytes - upload.bytesAtLook} bytes in the last ${windowMs} ms, fewer than ${MIN_BYTES_PER_WINDOW} (REQUEST_TIMEOUT_MS); ${bytes - upload.startBytes} bytes received after the headers`,
    { field: 'body' },
  );
  upload.reply.header('connection', 'close');
  // The reader listens for the body's errors while it reads; with none listening, there is no one to answer.
  if (raw.listenerCount('error') > 0) raw.emit('error', error);
  else raw.destroy(error);
}
