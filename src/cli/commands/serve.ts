import { loadConfig } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { createApp } from '../../server/index.ts';

export interface ServeOptions {
  port?: string;
  host?: string;
}

/** Runs the service until SIGINT/SIGTERM, then drains requests and exits 0. */
export async function serve(options: ServeOptions): Promise<void> {
  // Flags override the environment and go through the same validation.
  const config = loadConfig({
    ...process.env,
    ...(options.port === undefined ? {} : { PORT: options.port }),
    ...(options.host === undefined ? {} : { HOST: options.host }),
  });
  const app = createApp(config);
  let address: string;
  try {
    address = await app.listen();
  } catch (error) {
    await app.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      const why = code === 'EADDRINUSE' ? 'is already in use' : code === 'EACCES' ? 'needs privileges this user lacks' : 'is not an address of this machine';
      throw new FaiError(ErrorCodes.CONFIG, `${config.host}:${config.port} ${why}; choose another with PORT/--port or HOST/--host`, {
        field: 'PORT',
        cause: error,
      });
    }
    throw error;
  }
  app.logger.info({ address, metrics: `${address}/metrics`, health: `${address}/health` }, 'fragrance-ai service listening');
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      app.logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    closing = true;
    app.logger.info({ signal }, 'shutting down');
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  // SIGHUP re-reads the model pins without a restart: no request is dropped.
  process.on('SIGHUP', () => {
    app.reloadPins().then(
      (pins) => app.logger.info({ pins }, 'model pins reloaded on SIGHUP'),
      () => undefined,
    );
  });
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
