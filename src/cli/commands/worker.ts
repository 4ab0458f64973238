import { pino } from 'pino';
import { loadConfig } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { startTrainingWorker, TRAINING_QUEUE } from '../../learning/index.ts';

/**
 * `fai worker`: takes training jobs from the BullMQ queue on REDIS_URL until SIGINT/SIGTERM. On the
 * first signal it finishes the job in hand and exits; on a second it exits at once (BullMQ hands the
 * unfinished job to another worker once its lock lapses).
 */
export async function workerCommand(options: { progressMs: number }): Promise<void> {
  const config = loadConfig();
  if (config.redisUrl === undefined) {
    throw new FaiError(ErrorCodes.CONFIG, `REDIS_URL is not set: fai worker takes jobs from the BullMQ queue "${TRAINING_QUEUE}" in Redis; without Redis the service trains on its own worker thread`, { field: 'REDIS_URL' });
  }
  const logger = pino({ level: config.logLevel });
  const worker = startTrainingWorker({ redisUrl: config.redisUrl, progressEveryMs: options.progressMs, log: logger });
  await worker.waitUntilReady();
  logger.info({ queue: TRAINING_QUEUE, redis: new URL(config.redisUrl).host, pid: process.pid }, 'training worker waiting for jobs');
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting without finishing the job in hand');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'finishing the job in hand, then exiting');
    worker.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'worker did not close cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}
