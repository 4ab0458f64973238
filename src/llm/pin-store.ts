import type { Redis } from 'ioredis';
import { ErrorCodes, FaiError, parseOrThrow } from '../errors/index.ts';
import { PinsSchema, readPins, writePins, type Pins } from './pins.ts';

/**
 * Where the model pins live. Without Redis: the pins file (PINS_FILE, the embedded default), which a
 * service re-reads on SIGHUP. With Redis: one JSON value every instance reads, seeded once from the
 * file; a change is published, and every instance watching takes it within moments — no signal, no
 * restart, no request dropped (a request in flight finishes on the pins it started with).
 */
export interface PinStore {
  /** For messages and the audit: the file, or the Redis key. */
  readonly where: string;
  read(): Promise<Pins>;
  write(pins: Pins): Promise<void>;
  /**
   * Calls `onChange` with the pins each time they change anywhere, and after each reconnection (a
   * change missed while away is caught up). Resolves with the function that stops watching. The file
   * store does not watch (SIGHUP reloads it).
   */
  watch?(onChange: (pins: Pins) => void, onError: (error: unknown) => void): Promise<() => Promise<void>>;
}

/** The pins a configuration describes: in Redis when there is one (seeded from the file), else the file. */
export function pinStoreFor(pinsFile: string, redis: Redis | undefined): PinStore {
  return redis === undefined ? new FilePinStore(pinsFile) : new RedisPinStore(redis, pinsFile);
}

export class FilePinStore implements PinStore {
  constructor(readonly file: string) {}

  get where(): string {
    return this.file;
  }

  read(): Promise<Pins> {
    return readPins(this.file);
  }

  write(pins: Pins): Promise<void> {
    return writePins(this.file, pins);
  }
}

export const PINS_KEY = 'fai:pins';
/** Every write publishes the new pins here. */
export const PINS_CHANNEL = 'fai:pins:changed';

const parse = (text: string, where: string): Pins => {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new FaiError(ErrorCodes.CONFIG, `${where}: the pins in Redis are not JSON`, { cause: error });
  }
  return parseOrThrow(PinsSchema, json, where, ErrorCodes.CONFIG);
};

const unavailable = (what: string, error: unknown) =>
  error instanceof FaiError ? error : new FaiError(ErrorCodes.UNAVAILABLE, `${what}: Redis did not answer (${(error as Error).message})`, { cause: error });

/** The pins in Redis (`fai:pins`), seeded from the pins file the first time they are read and absent. */
export class RedisPinStore implements PinStore {
  readonly where: string;

  constructor(
    private readonly redis: Redis,
    private readonly seedFile: string,
    private readonly key = PINS_KEY,
    private readonly channel = PINS_CHANNEL,
  ) {
    this.where = `Redis ${key}`;
  }

  async read(): Promise<Pins> {
    let text: string | null;
    try {
      text = await this.redis.get(this.key);
    } catch (error) {
      throw unavailable('reading the pins', error);
    }
    if (text !== null) return parse(text, this.where);
    // Never set: the file seeds them, once (SET NX: two instances starting together seed one value).
    const seed = await readPins(this.seedFile);
    try {
      await this.redis.set(this.key, JSON.stringify(seed), 'NX');
      return parse((await this.redis.get(this.key)) ?? JSON.stringify(seed), this.where);
    } catch (error) {
      throw unavailable('seeding the pins', error);
    }
  }

  async write(pins: Pins): Promise<void> {
    const text = JSON.stringify(parseOrThrow(PinsSchema, pins, 'pins', ErrorCodes.VALIDATION));
    try {
      // One transaction: no instance sees the new value without its announcement following.
      await this.redis.multi().set(this.key, text).publish(this.channel, text).exec();
    } catch (error) {
      throw unavailable('writing the pins', error);
    }
  }

  async watch(onChange: (pins: Pins) => void, onError: (error: unknown) => void): Promise<() => Promise<void>> {
    // A subscribed connection takes no other command: a connection of its own, which queues its SUBSCRIBE until it is up.
    const subscriber = this.redis.duplicate({ enableOfflineQueue: true, lazyConnect: true, commandTimeout: undefined });
    subscriber.on('error', () => undefined);
    subscriber.on('message', (channel: string, text: string) => {
      if (channel !== this.channel) return;
      try {
        onChange(parse(text, this.where));
      } catch (error) {
        onError(error);
      }
    });
    // On every (re)connection, the first included: what changed while the connection was down is read once.
    subscriber.on('ready', () => void this.read().then(onChange, onError));
    // Queued until the connection is up (ioredis subscribes again after each reconnection): a Redis down at start delays nothing.
    subscriber.subscribe(this.channel).catch(onError);
    void subscriber.connect().catch(() => undefined);
    return async () => {
      subscriber.disconnect();
    };
  }
}
