import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

/**
 * A request's logger, made when the request first writes a line at a level the logger keeps.
 * Fastify makes a child logger per request (its id bound), and pino builds the child at once,
 * serialising its bindings: about 0.8 µs of every request over HTTP (make bench-http's profile),
 * though most requests write nothing (request logging is off; errors and operator actions log).
 * A line it writes is the child's, request id included. pino has no lazy child, hence this class.
 */
class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly bindings: Bindings,
  ) {}

  private get logger(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings) as unknown as FastifyBaseLogger);
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
 * The service's pino logger as Fastify's logger instance: the same logger (its methods and level
 * are the logger's, through the prototype, as pino's own children are made), whose children are
 * lazy. Fastify makes each request's logger with `child(bindings, options)`; a route that sets its
 * own log level or serializers (none does today) gets pino's own child, whose children are lazy in
 * turn. Given as the instance, not
 * as Fastify's `childLoggerFactory`: Fastify checks every logger a custom factory returns, on every
 * request (a list and a closure: about 0.4 µs).
 */
export function withLazyRequestLoggers(logger: Logger): FastifyBaseLogger {
  const instance = Object.create(logger) as { child(bindings: Bindings, options?: ChildLoggerOptions): unknown };
  instance.child = (bindings, options) =>
    options?.level !== undefined || options?.serializers !== undefined
      ? // Fastify makes its own logger so, once, from the instance it is given (`child({}, { serializers })`), and
        // each request's logger from that one: it is lazy in turn, or every request would get pino's child.
        withLazyRequestLoggers(logger.child(bindings, options))
      : // Its methods take what pino's take and hand it on: the overloads of pino's LogFn are pino's to check.
        new LazyRequestLogger(logger, bindings);
  return instance as unknown as FastifyBaseLogger;
}
