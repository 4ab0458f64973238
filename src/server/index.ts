export { createApp, type App } from './app.ts';
export { installErrorHandling, statusForCode } from './error-mapping.ts';
export { installZodCompilers } from './openapi.ts';
// The pieces a training worker's own /metrics server is built from (cli/commands/worker.ts).
export { registerMetricsRoutes } from './routes/metrics.ts';
export { openApiDocument } from './openapi-document.ts';
