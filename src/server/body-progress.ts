import { Transform } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { ErrorCodes, FaiError } from '../errors/index.ts';

/** What a body must bring in each window of REQUEST_TIMEOUT_MS, unless it ends first. */
export const MIN_BYTES_PER_WINDOW = 16 * 1024;

/**
 * Request bodies are timed by their progress, not by one total: a 40 MiB checkpoint at 1 MiB/s takes
 * 40 s and is fine; a body that brings less than 16 KiB in a window of REQUEST_TIMEOUT_MS (the client
 * stalled, or drips bytes to hold a connection) is cut with a 408 in our error format. Node's own
 * requestTimeout (one total for the whole request) is off; headers still have REQUEST_TIMEOUT_MS to
 * arrive (headersTimeout). Requests without a body pay nothing.
 */
export function installBodyProgressTimeout(app: FastifyInstance, windowMs: number): void {
  app.addHook('preParsing', (request, reply, payload, done) => {
    const length = request.headers['content-length'];
    const chunked = request.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || length === '0')) return done(null, payload);
    let received = 0;
    let atLastLook = 0;
    const watched: Transform & { receivedEncodedLength?: number } = new Transform({
      transform(chunk: Buffer, _encoding, next) {
        received += chunk.length;
        // Fastify's contract for a stream a preParsing hook returns: the bytes read from the wire so far.
        watched.receivedEncodedLength = received;
        next(null, chunk);
      },
      flush(next) {
        clearInterval(timer);
        next();
      },
    });
    const timer = setInterval(() => {
      if (received - atLastLook >= MIN_BYTES_PER_WINDOW) {
        atLastLook = received;
        return;
      }
      clearInterval(timer);
      const error = new FaiError(ErrorCodes.REQUEST_TIMEOUT, `body: the upload stalled: ${received - atLastLook} bytes in the last ${windowMs} ms, fewer than ${MIN_BYTES_PER_WINDOW} (REQUEST_TIMEOUT_MS); ${received} bytes received in all`, { field: 'body' });
      // The rest of the body will not come: answer, then close the connection (it cannot be reused).
      reply.header('connection', 'close');
      watched.destroy(error);
    }, windowMs);
    timer.unref();
    watched.on('close', () => clearInterval(timer));
    payload.on('error', (error) => watched.destroy(error));
    payload.pipe(watched);
    done(null, watched);
  });
}
