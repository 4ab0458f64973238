import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

// No Docker engine runs on these machines, so the Compose file is checked for what it must hold.
const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const compose = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, { ports?: string[]; volumes?: string[]; environment?: Record<string, string>; command?: string[]; build?: { context: string; dockerfile: string } }>;
};
// The worker takes the service's environment through a YAML merge key (<<: *fai-env).
const merged = parse(readFileSync(join(DEPLOY, 'docker-compose.yml'), 'utf8'), { merge: true }) as typeof compose;

describe('deploy/docker-compose.yml', () => {
  it('has the service, Redis, Prometheus, Alertmanager, Grafana and nginx on the known ports', () => {
    const ports = Object.fromEntries(Object.entries(compose.services).map(([name, s]) => [name, s.ports ?? []]));
    assert.deepEqual(Object.keys(compose.services).sort(), ['alertmanager', 'fai-worker', 'fragrance-ai', 'grafana', 'nginx', 'ollama', 'prometheus', 'redis', 's3', 's3-bucket']);
    // Only the edge is published beyond the host: the service, Prometheus, Alertmanager and Grafana on its loopback.
    assert.deepEqual(
      [ports['fragrance-ai'], ports.prometheus, ports.alertmanager, ports.grafana, ports.nginx],
      [['127.0.0.1:8000:8000'], ['127.0.0.1:9090:9090'], ['127.0.0.1:9093:9093'], ['127.0.0.1:3000:3000'], ['8080:80']],
    );
  });

  it('mounts files that exist, and builds from the Dockerfile', () => {
    for (const [name, service] of Object.entries(compose.services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (source.startsWith('.')) assert.ok(existsSync(join(DEPLOY, source)), `${name}: ${source} exists`);
      }
    }
    const build = compose.services['fragrance-ai']!.build!;
    assert.ok(existsSync(join(DEPLOY, build.context, build.dockerfile)));
  });

  it('wires the generated configs to the Compose service names', () => {
    const prometheus = readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8');
    assert.match(prometheus, /fragrance-ai:8000/);
    assert.match(prometheus, /alertmanager:9093/);
    assert.match(readFileSync(join(DEPLOY, 'alertmanager/alertmanager.yml'), 'utf8'), /http:\/\/fragrance-ai:8000\/v1\/alerts\/webhook/);
    assert.match(readFileSync(join(DEPLOY, 'grafana/provisioning/datasources/prometheus.yml'), 'utf8'), /http:\/\/prometheus:9090/);
    assert.equal(compose.services['fragrance-ai']!.environment?.REDIS_URL, 'redis://redis:6379');
    assert.ok(compose.services.alertmanager!.command?.includes('--cluster.listen-address='));
  });

  it('shares the blocks: the service and the worker keep them in the S3-compatible service, and Prometheus scrapes the worker too', () => {
    for (const name of ['fragrance-ai', 'fai-worker']) {
      const env = merged.services[name]!.environment!;
      assert.deepEqual([env.HUB_BLOCKSTORE, env.HUB_S3_ENDPOINT, env.REDIS_URL], ['s3', 'http://s3:8333', 'redis://redis:6379'], name);
    }
    assert.deepEqual(merged.services['fai-worker']!.command, ['node', 'bin/fai.js', 'worker', '--metrics-port', '9464']);
    assert.equal(merged.services['fai-worker']!.environment!.HOST, '0.0.0.0', 'its metrics reachable from Prometheus');
    const prometheus = parse(readFileSync(join(DEPLOY, 'prometheus/prometheus.yml'), 'utf8')) as { scrape_configs: Array<{ job_name: string; static_configs: Array<{ targets: string[] }> }> };
    assert.deepEqual(prometheus.scrape_configs.map((job) => [job.job_name, job.static_configs[0]!.targets]), [['fragrance-ai', ['fragrance-ai:8000']], ['fai-worker', ['fai-worker:9464']]]);
  });
});
