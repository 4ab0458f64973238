import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { ErrorCodes, FaiError } from '../../errors/index.ts';
import { alertmanagerConfig } from './alertmanager.ts';
import { prometheusConfig } from './generate.ts';

/**
 * Prometheus and Alertmanager from the Debian packages, watching a local service with the
 * generated rules — the stack without Docker. Both bind to loopback; Alertmanager opens no
 * cluster port.
 */
export interface MonitorOptions {
  /** host:port of the service to scrape. */
  service: string;
  prometheusPort: number;
  alertmanagerPort: number;
  /** Configs and data go here. */
  directory: string;
  /** The generated rule file. */
  rules: string;
  /** Scrape and rule evaluation interval (default 5s). */
  scrapeInterval?: string;
  /** ALERT_WEBHOOK_TOKEN of the service: written to a 0600 file Alertmanager sends as the webhook's bearer token. */
  webhookToken?: string;
  /** Notification timings of the automation route (tests shorten them). */
  automation?: { groupWait: string; groupInterval: string; repeatInterval: string };
  prometheusBinary?: string;
  alertmanagerBinary?: string;
  log?: (line: string) => void;
}

export interface Monitor {
  readonly prometheusUrl: string;
  readonly alertmanagerUrl: string;
  /** Resolves when either process exits (with its name and exit code). */
  readonly exited: Promise<{ name: string; code: number | null }>;
  stop(): Promise<void>;
}

async function ready(url: string, child: ChildProcess, name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new FaiError(ErrorCodes.UNAVAILABLE, `${name} exited with code ${child.exitCode} before it was ready (is the port free?)`);
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new FaiError(ErrorCodes.TIMEOUT, `${name} was not ready at ${url} within ${timeoutMs} ms`);
}

export async function startMonitor(options: MonitorOptions): Promise<Monitor> {
  const dir = resolve(options.directory);
  await mkdir(join(dir, 'prometheus-data'), { recursive: true });
  await mkdir(join(dir, 'alertmanager-data'), { recursive: true });
  const prometheusFile = join(dir, 'prometheus.yml');
  const alertmanagerFile = join(dir, 'alertmanager.yml');
  await writeFile(
    prometheusFile,
    stringify(prometheusConfig({ targets: [options.service], alertmanager: `127.0.0.1:${options.alertmanagerPort}`, ruleFiles: [resolve(options.rules)], scrapeInterval: options.scrapeInterval ?? '5s' })),
  );
  const webhookTokenFile = join(dir, 'webhook-token');
  await writeFile(webhookTokenFile, options.webhookToken ?? '', { mode: 0o600 });
  await writeFile(
    alertmanagerFile,
    stringify(alertmanagerConfig({ serviceUrl: `http://${options.service}`, webhookTokenFile, ...(options.automation === undefined ? {} : { automation: options.automation }) })),
  );
  const log = options.log ?? (() => undefined);
  const children: Array<{ name: string; child: ChildProcess }> = [];
  const launch = (name: string, binary: string, args: string[]) => {
    const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child.on('error', (error) => log(`${name}: ${error.message}`));
    child.stderr?.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (/level=(error|warn)/.test(line)) log(`${name}: ${line}`);
    });
    children.push({ name, child });
    return child;
  };
  const prometheus = launch('prometheus', options.prometheusBinary ?? 'prometheus', [
    `--config.file=${prometheusFile}`,
    `--storage.tsdb.path=${join(dir, 'prometheus-data')}`,
    `--web.listen-address=127.0.0.1:${options.prometheusPort}`,
  ]);
  const alertmanager = launch('alertmanager', options.alertmanagerBinary ?? 'prometheus-alertmanager', [
    `--config.file=${alertmanagerFile}`,
    `--storage.path=${join(dir, 'alertmanager-data')}`,
    `--web.listen-address=127.0.0.1:${options.alertmanagerPort}`,
    '--cluster.listen-address=',
  ]);
  const stop = async () => {
    await Promise.all(
      children.map(
        ({ child }) =>
          new Promise<void>((done) => {
            if (child.exitCode !== null || child.signalCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      ),
    );
  };
  const prometheusUrl = `http://127.0.0.1:${options.prometheusPort}`;
  const alertmanagerUrl = `http://127.0.0.1:${options.alertmanagerPort}`;
  try {
    await Promise.all([ready(`${prometheusUrl}/-/ready`, prometheus, 'prometheus'), ready(`${alertmanagerUrl}/-/ready`, alertmanager, 'alertmanager')]);
  } catch (error) {
    await stop();
    throw error;
  }
  const exited = new Promise<{ name: string; code: number | null }>((done) => {
    for (const { name, child } of children) child.once('exit', (code) => done({ name, code }));
  });
  return { prometheusUrl, alertmanagerUrl, exited, stop };
}
