import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

/**
 * A request's logger: the pino child (its id bound) made when the request first writes a line at a
 * level the logger keeps. pino builds a child at once, serialising its bindings, and most requests
 * write nothing (errors and operator actions log). A line it writes is the child's, request id
 * included. pino has no lazy child, hence this class.
 */
class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly requestId: string,
  ) {}

  private get logger(): FastifyBaseLogger {
    // The bindings object too is made only then: this object is made for every request.
    return (this.made ??= this.parent.child({ reqId: this.requestId }) as unknown as FastifyBaseLogger);
  }

  get level(): string {
    return this.made?.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger.level = level;
  }

  // A level the parent does not keep writes nothing and makes no child (pino's own method for it does nothing).
  // Methods on the prototype, not a closure per level: this object is made for every request.
  private write(level: Level, args: unknown[]): void {
    if (this.made !== undefined || this.parent.isLevelEnabled(level)) (this.logger[level] as (...line: unknown[]) => void)(...args);
  }

  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }

  error(...args: unknown[]): void {
    this.write('error', args);
  }

  warn(...args: unknown[]): void {
    this.write('warn', args);
  }

  info(...args: unknown[]): void {
    this.write('info', args);
  }

  debug(...args: unknown[]): void {
    this.write('debug', args);
  }

  trace(...args: unknown[]): void {
    this.write('trace', args);
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger.child(bindings, options);
  }
}

/**
 * Gives each request, and its reply, its lazy logger: `request.log` writes the service's lines with
 * the request's id (`reqId`). Called from the root onRequest hook (app.ts), the first thing a request
 * runs.
 *
 * Fastify itself runs without a logger (app.ts): with one, it makes every request a child logger and
 * listens for the end of every response ('finish' and 'error', added and removed), though its own
 * request lines are off here; about 0.8 µs of every request over HTTP (make bench-http's profile).
 * Its per-request lines (incoming, completed) are not wanted; the service's own lines (errors,
 * operator actions) are written through this logger.
 */
export function requestLoggers(logger: Logger): (request: FastifyRequest, reply: FastifyReply) => void {
  return (request, reply) => {
    // Its methods take what pino's take and hand it on: the overloads of pino's LogFn are pino's to check.
    request.log = reply.log = new LazyRequestLogger(logger, request.id) as unknown as FastifyBaseLogger;
  };
}
