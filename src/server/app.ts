import { hostname } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { pino, type Logger } from 'pino';
import { LLM_SLOTS, OperatorTokens, type Config } from '../config/index.ts';
import { openHub, pingRedis, redisReady } from '../hub/index.ts';
import { BriefService, pinStoreFor, SharedDownshifts, type PinStore, type Pins } from '../llm/index.ts';
import { createMetrics, type Metrics } from '../metrics/index.ts';
import { ThresholdEvaluator, type HealthCheck } from '../ops/index.ts';
import { FormulaService, QueuedTrainingJobs, seedShippedPolicies, ThreadTrainingJobs, type TrainingJobs } from '../learning/index.ts';
import { ComplianceChecker, SharedStrictMode } from '../regulation/index.ts';
import { openRemediation, type Remediation } from '../remediation/index.ts';
import { readSchedule, shadowEvaluate, ShadowEvaluation, ShadowScheduler } from '../shadow/index.ts';
import { registerCpuSampler, slotServers, startVramSampler, type VramSampler } from '../system/index.ts';
import { answerFrameworkError, installErrorHandling } from './error-mapping.ts';
import { installRequestAccounting } from './request-accounting.ts';
import { requestLoggers } from './request-log.ts';
import { bearerScope } from './bearer-scope.ts';
import { bodyProgressTimeout } from './body-progress.ts';
import { registerApprovalRoute, registerWebhookRoute } from './routes/alerts.ts';
import { registerComplianceOperatorRoutes, registerComplianceRoutes } from './routes/compliance.ts';
import { registerHealthRoutes } from './routes/health.ts';
import { registerFormulaRoutes } from './routes/formulas.ts';
import { registerHubOperatorRoutes, registerHubRoutes } from './routes/hub.ts';
import { registerLlmOperatorRoutes, registerLlmRoutes } from './routes/llm.ts';
import { registerMetricsRoutes } from './routes/metrics.ts';
import { registerTrainingOperatorRoutes, registerTrainingRoutes } from './routes/training.ts';
import { rateLimit } from './rate-limit.ts';
import { installOpenApi } from './openapi.ts';

export interface App {
  readonly server: FastifyInstance;
  /** The service's log (Fastify has none of its own: a request's lines go through `request.log`, request-log.ts). */
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly thresholds: ThresholdEvaluator;
  /** The live shadow evaluation of POST /v1/formulas. */
  readonly shadow: ShadowEvaluation;
  /** With SHADOW_SCHEDULE=on, once listening: the scheduled offline evaluations. */
  readonly shadowScheduler: () => ShadowScheduler | undefined;
  /** Starts listening on the configured host and port; resolves with the address. */
  listen(): Promise<string>;
  /** Re-reads the model pins (the file, or Redis with REDIS_URL); on bad pins the old ones stay, and the error is logged, counted and thrown. */
  reloadPins(): Promise<Pins>;
  /** Stops accepting requests, finishes those in flight, stops samplers and closes connections. */
  close(): Promise<void>;
}

/**
 * The composition root: builds every capability from the configuration and
 * wires them into one Fastify server. Nothing else constructs capabilities.
 */
export function createApp(config: Config): App {
  const logger = pino({ level: config.logLevel });
  const server = Fastify({
    // No logger of Fastify's own: with one it makes each request a child logger and listens for the end of every
    // response, for request lines that are off here (one per request would drown the log in scrapes). Each request
    // gets the service's logger, lazily, from the root onRequest hook (request-log.ts); errors are logged by the
    // error handler through it.
    logger: false,
    bodyLimit: config.bodyLimitBytes,
    // A partial request must not hold a connection forever: its headers have REQUEST_TIMEOUT_MS
    // (headersTimeout, below), its body must keep making progress (body-progress.ts) — not one total
    // for the whole request, which cut a large upload at a fair rate. Node checks headers every
    // connectionsCheckingInterval: often enough for the limit to mean what it says.
    requestTimeout: 0,
    http: { connectionsCheckingInterval: Math.min(30_000, Math.max(100, Math.floor(config.requestTimeoutMs / 3))) },
    // A client's x-request-id is the request's id (logs, shadow sampling: a retry with the same id is sampled alike).
    requestIdHeader: 'x-request-id',
    // A URL Fastify cannot route (one that does not decode) is answered in our error format, with the instance
    // header, and counted as the server's: Fastify runs no hook for it.
    frameworkErrors: (error, request, reply) => {
      markInstance(reply);
      answerFrameworkError(error, reply);
      accounting.unrouted(request, reply);
    },
  });
  // Headers still have REQUEST_TIMEOUT_MS to arrive.
  server.server.headersTimeout = Math.min(server.server.headersTimeout, config.requestTimeoutMs);
  const metrics = createMetrics();
  const thresholds = new ThresholdEvaluator(metrics);
  const compliance = new ComplianceChecker({ metrics, strict: config.regulationStrict });
  const pins: { current: Pins } = { current: {} };
  const briefs = new BriefService({ slots: config.llmSlots, metrics });
  registerCpuSampler(metrics, { workerId: config.workerId });
  let vram: VramSampler | undefined;
  let seeding: NodeJS.Timeout | undefined;
  const opened = openHub(config, { metrics, logger });
  const { hub, redis } = opened;
  // With Redis the pins are the cluster's: seeded once from PINS_FILE, a change published to every instance.
  const pinStore: PinStore = pinStoreFor(config.pinsFile, redis);
  let stopWatchingPins: (() => Promise<void>) | undefined;

  const checks: HealthCheck[] = [
    {
      name: 'metrics',
      required: true,
      // The registry answers when it holds the catalogue's families; rendering every series on each
      // probe (~6k samples at the label bounds) would make /health as costly as a scrape.
      check: async () => {
        const families = metrics.registry.getMetricsAsArray().length;
        if (families === 0) throw new Error('the metric registry holds no metrics');
        return { status: 'up', detail: `${families} metric families registered` };
      },
    },
    {
      name: 'redis',
      required: redis !== undefined,
      check: async () => {
        if (redis === undefined) return { status: 'not_configured', detail: 'REDIS_URL is not set: metadata uses the embedded store' };
        const ms = await pingRedis(redis);
        return { status: 'up', detail: `PING ${ms.toFixed(2)} ms` };
      },
    },
    {
      name: 'hub',
      required: true,
      check: async () => {
        await hub.ping();
        const where = `blocks in ${hub.blockstore}, metadata in ${hub.backend === 'redis' ? 'Redis' : 'HUB_DIR/meta'}`;
        const problems = hub.problems();
        if (problems.length > 0) return { status: 'degraded', detail: `${where}; ${problems.length} file(s) skipped, not records: ${problems.slice(0, 5).join('; ')}` };
        return { status: 'up', detail: where };
      },
    },
    ...LLM_SLOTS.map(
      (model): HealthCheck => ({
        name: `llm_${model}`,
        required: false,
        check: async () => {
          const slot = briefs.slots.get(model);
          if (slot === undefined) return { status: 'not_configured', detail: 'the local model answers instead' };
          const probe = await slot.probe();
          return { status: probe.status, detail: `${probe.detail}; breaker ${slot.breaker.state}` };
        },
      }),
    ),
  ];

  installErrorHandling(server);
  const accounting = installRequestAccounting(server, metrics);
  const giveLoggers = requestLoggers(logger);
  const limited = rateLimit(server, config.rateLimitPerMinute, metrics.now);
  const watchBody = bodyProgressTimeout(server, config.requestTimeoutMs);
  // Which instance answered: nginx splits traffic between instances, and the runbooks verify the split by this header.
  const markInstance = (reply: FastifyReply) => reply.header('x-fai-instance', config.workerId);
  // One root onRequest hook, synchronous (an async one costs its promise on every request; each hook Fastify runs
  // costs its turn): the request's clock and logger, which instance answered, then the rate limit, then the watch
  // of a body still arriving.
  server.addHook('onRequest', (request, reply, done) => {
    const now = accounting.start(request);
    giveLoggers(request, reply);
    markInstance(reply);
    const refused = limited?.(request, reply, now);
    if (refused !== undefined) return done(refused);
    watchBody(request, reply);
    done();
  });
  installOpenApi(server);
  const formulas = new FormulaService({ hub, compliance, pins: () => pins.current, metrics });
  const shadow = new ShadowEvaluation({ settings: config.shadow, formulas, pins: () => pins.current, metrics, onError: (error) => logger.error({ err: error }, 'shadow comparison failed') });
  formulas.observe = (answer) => shadow.consider(answer);
  let scheduler: ShadowScheduler | undefined;
  // Built on first use: a service nobody asks to train opens no queue connections.
  let training: TrainingJobs | undefined;
  const trainingJobs = (): TrainingJobs =>
    (training ??=
      config.redisUrl === undefined
        ? new ThreadTrainingJobs({ hub, metrics, log: logger, maxPending: config.trainingMaxPending })
        : new QueuedTrainingJobs({ hub, metrics, log: logger, redisUrl: config.redisUrl, maxPending: config.trainingMaxPending }));
  // Opened on first use, or at listen when the webhook token is set (a bad policy then stops the start).
  let remediation: Promise<Remediation> | undefined;
  const openedRemediation = (): Promise<Remediation> => {
    remediation ??= openRemediation({
      deploymentFile: config.remediation.deploymentFile,
      policyFile: config.remediation.policyFile,
      redisUrl: config.redisUrl,
      instance: `${hostname()}/${config.workerId}`,
      metrics,
      log: (line, fields) => logger.info(fields ?? {}, line),
    });
    // A failed open is not remembered: the next request tries again (the file may have been fixed).
    remediation.catch(() => (remediation = undefined));
    return remediation;
  };
  // With Redis, forced downshifts are every instance's (and survive a restart); the automatic ones stay each instance's own.
  const sharedDownshifts = redis === undefined ? undefined : new SharedDownshifts(redis);
  // A forced downshift whose TTL ran out is lifted by the controller itself: logged, and audited beside
  // the runs that force them — once, by the instance that removes it from the shared state.
  briefs.downshift.onLapse = (lapse) => {
    const detail = `the forced downshift of ${lapse.mode} (by ${lapse.forcedBy ?? 'unknown'}) lapsed: its TTL ran out without a renewal`;
    const audit = async () => {
      const mine = sharedDownshifts === undefined || (await sharedDownshifts.removeLapsed(lapse.mode, lapse.expiresAt));
      if (!mine) return;
      logger.warn({ mode: lapse.mode, forcedBy: lapse.forcedBy }, detail);
      if (config.remediation.webhookToken === undefined) return;
      const { remediator } = await openedRemediation();
      await remediator.note({ actor: 'downshift controller (TTL)', runbook: 'downshift', args: { mode: lapse.mode, clear: true }, detail });
    };
    audit().catch((error: unknown) => logger.error({ err: error, mode: lapse.mode }, 'the lapse of a forced downshift was not audited'));
  };
  // The public routes (reading, checks, briefs, formulas): declared in a plugin so they load after the rate limit.
  server.register(async (pub) => {
    registerMetricsRoutes(pub, metrics);
    registerHealthRoutes(pub, { config, checks, thresholds, pins: () => pins.current, briefs, policy: (name) => formulas.status(name) });
    registerLlmRoutes(pub, briefs);
    registerComplianceRoutes(pub, compliance);
    registerHubRoutes(pub, hub);
    registerFormulaRoutes(pub, { formulas, briefs });
    registerTrainingRoutes(pub, trainingJobs);
  });
  // Named operators (FAI_OPERATOR_TOKENS_FILE): read before the first request; a bad file stops the start.
  const operatorTokens = config.operatorTokensFile === undefined ? undefined : new OperatorTokens(config.operatorTokensFile);
  if (operatorTokens !== undefined) server.addHook('onReady', () => operatorTokens.load());
  // Every route that changes state, in one scope behind the operator token (DESIGN.md, principle 9).
  server.register(async (operator) => {
    await bearerScope(operator, { token: config.adminToken, variable: 'FAI_ADMIN_TOKEN', principal: 'operator', metrics, ...(operatorTokens === undefined ? {} : { named: operatorTokens }) });
    registerHubOperatorRoutes(operator, { hub, maxCheckpointBytes: config.hubMaxCheckpointBytes });
    registerLlmOperatorRoutes(operator, briefs);
    registerComplianceOperatorRoutes(operator, compliance);
    registerTrainingOperatorRoutes(operator, trainingJobs);
    registerApprovalRoute(operator, openedRemediation);
  });
  // Alertmanager's webhook, behind its own token.
  server.register(async (webhook) => {
    await bearerScope(webhook, { token: config.remediation.webhookToken, variable: 'ALERT_WEBHOOK_TOKEN', principal: 'alertmanager', metrics });
    registerWebhookRoute(webhook, openedRemediation);
  });

  return {
    server,
    logger,
    metrics,
    thresholds,
    shadow,
    shadowScheduler: () => scheduler,
    async reloadPins() {
      try {
        pins.current = await pinStore.read();
        logger.info({ pins: pins.current, from: pinStore.where }, 'model pins loaded');
        shadow.pinsChanged();
      } catch (error) {
        metrics.systemOperationsTotal.inc({ component: 'llm' });
        metrics.systemErrorsTotal.inc({ component: 'llm', error_type: 'server_error' });
        logger.error({ err: error, from: pinStore.where }, 'model pins not reloaded; the previous pins stay');
        throw error;
      }
      return pins.current;
    },
    async listen() {
      // Pins are read before the first request (from Redis once it answers); without pins the service runs and says so.
      if (redis !== undefined) await redisReady(redis, 5_000).catch(() => undefined);
      await this.reloadPins().catch(() => undefined);
      // A pin changed through any instance (pin-update, rollback) is taken here as it is published: no SIGHUP, no restart.
      stopWatchingPins = await pinStore.watch?.(
        (next) => {
          if (JSON.stringify(next) === JSON.stringify(pins.current)) return;
          logger.info({ before: pins.current, after: next, from: pinStore.where }, 'model pins changed');
          pins.current = next;
          shadow.pinsChanged();
        },
        (error) => logger.error({ err: error, from: pinStore.where }, 'model pins not taken; the previous pins stay'),
      );
      // The shipped teacher and student (models/) go into the hub when their pins name them and it lacks them.
      // With Redis, once it answers: a command sent before the connection is up fails at once (no offline
      // queue), and a start that raced it would leave the service without its policy until a restart.
      const seed = async (): Promise<boolean> => {
        try {
          if (redis !== undefined) await redisReady(redis, 5_000);
          for (const seeded of await seedShippedPolicies(hub, pins.current)) {
            if (seeded.status === 'stored') logger.info({ pin: seeded.pin, cid: seeded.cid }, 'shipped policy stored in the hub');
            else if (seeded.status !== 'present') logger.error({ pin: seeded.pin, cid: seeded.cid, detail: seeded.detail }, 'pinned policy not in the hub and not shipped');
          }
          return true;
        } catch (error) {
          logger.error({ err: error }, 'shipped policies not stored yet; trying again every 5 s');
          return false;
        }
      };
      if (!(await seed())) {
        seeding = setInterval(() => {
          void seed().then((done) => {
            if (done) clearInterval(seeding);
          });
        }, 5_000);
        seeding.unref();
      }
      if (config.shadow.schedule) {
        // A schedule that does not read stops the start: SHADOW_SCHEDULE=on promised runs.
        const schedule = await readSchedule(config.shadow.scheduleFile);
        scheduler = new ShadowScheduler(
          schedule,
          async (entry) => {
            const outDir = join(config.shadow.dir, 'reports', entry.stage);
            const result = await shadowEvaluate({ config, stage: entry.stage, samples: entry.samples, briefsFile: config.shadow.briefsFile, outDir, metrics });
            logger.info({ stage: entry.stage, reports: result.files, retention: result.report.summary.reward.retention_rate }, 'scheduled shadow evaluation done');
          },
          (stage, error) => logger.error({ stage, err: error }, 'scheduled shadow evaluation failed'),
        );
        scheduler.start();
        logger.info({ planned: scheduler.planned() }, 'shadow evaluation schedule armed');
      }
      if (config.remediation.webhookToken !== undefined) {
        const { remediator, store } = await openedRemediation();
        logger.info({ rules: remediator.policy.rules.length, state: store.kind, policy: config.remediation.policyFile }, 'closed-loop remediation on');
      }
      if (config.adminToken === undefined && config.operatorTokensFile === undefined) {
        logger.warn('FAI_ADMIN_TOKEN is not set: every operator route (hub writes, gc and pins, training, modes, strict mode, approvals) answers 401');
      }
      if (redis !== undefined) {
        // Forced strict regulation mode is every instance's too (the regulation-strict runbook acts once, through any of them).
        await compliance.share(new SharedStrictMode(redis), { onError: (error) => logger.error({ err: error }, 'shared strict mode not read; this instance keeps the state it had') });
      }
      if (sharedDownshifts !== undefined) {
        await briefs.downshift.share(sharedDownshifts, { onError: (error) => logger.error({ err: error }, 'shared downshift state not read; this instance keeps the modes it had') });
      }
      const address = await server.listen({ port: config.port, host: config.host });
      thresholds.start();
      // The GPU memory of the LLM servers behind the slots (the service itself does no GPU work).
      const { servers, remote } = slotServers(config.llmSlots);
      if (remote.length > 0) logger.info({ slots: remote }, 'LLM slots on other hosts: their GPU memory is not measured here (read their servers\' own metrics)');
      vram = startVramSampler(metrics, { servers, command: config.nvidiaSmi, intervalMs: config.gpuPollSeconds * 1000, logger });
      return address;
    },
    async close() {
      clearInterval(seeding);
      await stopWatchingPins?.();
      briefs.downshift.stopSharing();
      compliance.stopSharing();
      thresholds.stop();
      vram?.stop();
      scheduler?.stop();
      await server.close();
      await training?.close();
      await shadow.close();
      await (await remediation?.catch(() => undefined))?.close();
      await opened.close();
    },
  };
}
