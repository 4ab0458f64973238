import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { observability, type ThresholdRow } from '../../src/ops/index.ts';

/**
 * A real Prometheus and Alertmanager (`make monitor-local`'s) evaluating only the generated rules of
 * `rows` (a test shortens their windows and `for` first), scraping every second and notifying the
 * webhook within seconds: a closed-loop test takes seconds, not minutes.
 */
export async function startQuickMonitor(options: { service: string; directory: string; rows: readonly ThresholdRow[]; prometheusPort: number; alertmanagerPort: number; webhookToken: string }): Promise<observability.Monitor> {
  const rules = join(options.directory, 'rules.yml');
  await writeFile(rules, stringify({ groups: observability.ruleGroups(options.rows) }));
  return observability.startMonitor({
    service: options.service,
    prometheusPort: options.prometheusPort,
    alertmanagerPort: options.alertmanagerPort,
    directory: join(options.directory, 'monitor'),
    rules,
    scrapeInterval: '1s',
    webhookToken: options.webhookToken,
    automation: { groupWait: '1s', groupInterval: '1s', repeatInterval: '2s' },
  });
}
