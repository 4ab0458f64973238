import { hostname } from 'node:os';
import Fastify, { LogController, type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../../config/index.ts';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { openHub } from '../../hub/index.ts';
import { startTrainingWorker, TRAINING_QUEUE } from '../../learning/index.ts';
import { createMetrics } from '../../metrics/index.ts';
import { installErrorHandling, installZodCompilers, registerMetricsRoutes } from '../../server/index.ts';
import { registerCpuSampler } from '../../system/index.ts';

/**
 * `fai worker`: takes training jobs from the BullMQ queue on REDIS_URL until SIGINT/SIGTERM. On the
 * first signal it finishes the job in hand and exits; on a second it exits at once (BullMQ hands the
 * unfinished job to another worker once its lock lapses).
 *
 * It exposes its own metrics on `--metrics-port` (HOST, 127.0.0.1 by default): the same route as the
 * service's, over this process's registry — `worker_cpu_percent{worker_id}` from its own CPU
 * accounting (it does no GPU work: the policy networks train on the CPU, so it reports no
 * `worker_vram_bytes`), and
 * `system_rps{service="worker"}` from the jobs it ended (a failed one also in system_errors_total).
 * Its id is WORKER_ID, or `worker-<host>-<pid>`.
 */
export async function workerCommand(options: { progressMs: number; metricsPort: number }): Promise<void> {
  const config = loadConfig();
  if (config.redisUrl === undefined) {
    throw new FaiError(ErrorCodes.CONFIG, `REDIS_URL is not set: fai worker takes jobs from the BullMQ queue "${TRAINING_QUEUE}" in Redis; without Redis the service trains on its own worker thread`, { field: 'REDIS_URL' });
  }
  const logger = pino({ level: config.logLevel });
  const workerId = process.env.WORKER_ID?.trim() || `worker-${hostname()}-${process.pid}`;
  const metrics = createMetrics();
  registerCpuSampler(metrics, { workerId });
  // With the shared block store, this worker stores its checkpoints there itself (its own HUB_DIR stays empty).
  const shared = config.hubBlockstore.kind === 's3' ? openHub(config, { metrics, logger }) : undefined;
  const worker = startTrainingWorker({ redisUrl: config.redisUrl, progressEveryMs: options.progressMs, log: logger, ...(shared === undefined ? {} : { hub: shared.hub }) });
  const ended = (failed: boolean) => {
    metrics.systemRequestsTotal.inc({ service: 'worker' });
    metrics.systemOperationsTotal.inc({ component: 'learning' });
    if (failed) metrics.systemErrorsTotal.inc({ component: 'learning', error_type: 'server_error' });
  };
  worker.on('completed', () => ended(false));
  worker.on('failed', () => ended(true));
  const exposition = Fastify({ loggerInstance: logger as FastifyBaseLogger, logController: new LogController({ disableRequestLogging: true }) });
  installErrorHandling(exposition);
  installZodCompilers(exposition);
  registerMetricsRoutes(exposition, metrics);
  let metricsAddress: string | undefined;
  if (options.metricsPort !== 0) {
    metricsAddress = await exposition.listen({ port: options.metricsPort, host: config.host }).catch(async (error: unknown) => {
      // Nothing may keep the process alive once it cannot start: the queue connection and the sampler are closed.
      await worker.close().catch(() => undefined);
      await shared?.close().catch(() => undefined);
      throw new FaiError(ErrorCodes.CONFIG, `--metrics-port ${options.metricsPort}: cannot listen on ${config.host} (${(error as Error).message}); pass another port, or 0 for none`, { field: '--metrics-port' });
    });
  }
  await worker.waitUntilReady();
  logger.info({ queue: TRAINING_QUEUE, redis: new URL(config.redisUrl).host, pid: process.pid, workerId, checkpoints: shared === undefined ? 'through Redis to the service' : 'the shared block store', metrics: metricsAddress === undefined ? 'off' : `${metricsAddress}/metrics` }, 'training worker waiting for jobs');
  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) {
      logger.warn({ signal }, 'second signal: exiting without finishing the job in hand');
      process.exit(1);
    }
    closing = true;
    logger.info({ signal }, 'finishing the job in hand, then exiting');
    Promise.all([worker.close(), exposition.close()])
      .then(() => shared?.close())
      .then(
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
