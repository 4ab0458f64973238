import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { observability } from '../../ops/index.ts';
import { ExitCodes } from '../exit-codes.ts';

/**
 * `fai ops generate`: the operations files (rules, dashboards, the stack's configs, schemas) and the
 * HTTP API's description (docs/openapi.json, from the routes' zod schemas). Composed here, above both:
 * the operations layer does not import the server.
 */
export async function opsGenerate(options: { check?: boolean; root: string }, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const { openApiDocument } = await import('../../server/index.ts');
  const api = new Map([['docs/openapi.json', `${JSON.stringify(await openApiDocument(), null, 2)}\n`]]);
  const { written, stale } = await observability.generate(options.root, options.check ?? false, api);
  if (options.check) {
    if (stale.length === 0) {
      write('generated files are up to date\n');
      return ExitCodes.OK;
    }
    write(`stale generated files (run \`make generate\`):\n${stale.map((path) => `  ${path}\n`).join('')}`);
    return ExitCodes.WARNING;
  }
  write(written.length === 0 ? 'generated files were already up to date\n' : `wrote:\n${written.map((path) => `  ${path}\n`).join('')}`);
  return ExitCodes.OK;
}

export interface MonitorCommandOptions {
  service: string;
  prometheusPort: string;
  alertmanagerPort: string;
  dir: string;
  rules: string;
}

function port(text: string, flag: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1 || value > 65_535) throw new FaiError(ErrorCodes.VALIDATION, `${flag}: "${text}" is not a port`, { field: flag });
  return value;
}

/** Runs Prometheus and Alertmanager against a local service until SIGINT/SIGTERM. */
export async function opsMonitor(options: MonitorCommandOptions, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const monitor = await observability.startMonitor({
    service: options.service,
    prometheusPort: port(options.prometheusPort, '--prometheus-port'),
    alertmanagerPort: port(options.alertmanagerPort, '--alertmanager-port'),
    directory: options.dir,
    rules: options.rules,
    ...(process.env.ALERT_WEBHOOK_TOKEN ? { webhookToken: process.env.ALERT_WEBHOOK_TOKEN } : {}),
    log: (line) => process.stderr.write(`${line}\n`),
  });
  write(`Prometheus   ${monitor.prometheusUrl}  (scraping ${options.service}, rules ${options.rules})\nAlertmanager ${monitor.alertmanagerUrl}\nCtrl-C stops both.\n`);
  const stopping = new Promise<number>((done) => {
    const stop = () => void monitor.stop().then(() => done(ExitCodes.OK));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  const died = monitor.exited.then(async ({ name, code }) => {
    process.stderr.write(`fai: ${name} exited (code ${code}); stopping the other\n`);
    await monitor.stop();
    return ExitCodes.UNAVAILABLE;
  });
  return Promise.race([stopping, died]);
}
