import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { FaiError } from '../../src/errors/index.ts';
import { clusterAudit, parseDeployment, runNamed, stateFiles, type Deployment } from '../../src/runbooks/index.ts';
import { runFai } from '../helpers/cli.ts';
import { startRedis, type RedisServer } from '../helpers/servers.ts';

let redis: RedisServer;
let client: Redis;
let state: string;
let deployment: Deployment;

before(async () => {
  redis = await startRedis();
  client = new Redis(redis.url);
  state = await mkdtemp(join(tmpdir(), 'fai-clear-cache-'));
  deployment = parseDeployment({ stateDir: state, service: 'http://127.0.0.1:9', prometheus: null, redisUrl: redis.url, cachePrefix: 'fai:cache:', pinsFile: join(state, 'pins.json'), nginx: null, instances: null }, state);
  const pipeline = client.pipeline();
  for (let i = 0; i < 2500; i++) pipeline.set(`fai:cache:brief:${i}`, 'x');
  for (let i = 0; i < 40; i++) pipeline.hset(`fai:hub:object:cid${i}`, 'cid', `cid${i}`);
  pipeline.set('fai:cachex:not-the-cache', 'keep');
  pipeline.set('unrelated', 'keep');
  await pipeline.exec();
});
after(async () => {
  client.disconnect();
  await redis.stop();
  await rm(state, { recursive: true, force: true });
});

describe('clear-cache against a real Redis', () => {
  it('plans the deletion and stops there without --yes', async () => {
    await assert.rejects(runNamed(deployment, 'clear-cache', {}, {}), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_CONFIRMATION_REQUIRED');
    // Every key but the audit log's head, which the refusal's audit entry recorded in this Redis.
    assert.equal((await client.keys('*')).filter((key) => !key.startsWith('fai:audit:')).length, 2542, 'nothing deleted');
    assert.equal((await client.keys('fai:audit:head:*')).length, 1, 'the audit head is recorded in the deployment\'s Redis');
    const dry = await runNamed(deployment, 'clear-cache', {}, { dryRun: true });
    assert.deepEqual(dry.plan, ['delete 2500 key(s) matching fai:cache:*; keep the other 45']); // 42 seeded, the audit head and stream, and the deployment lock this run holds
  });

  it('deletes the cache keyspace with --yes and keeps metadata and every other key', async () => {
    const result = await runNamed(deployment, 'clear-cache', {}, { yes: true });
    assert.equal(result.outcome, 'verified');
    assert.equal((await client.keys('fai:cache:*')).length, 0);
    assert.equal((await client.keys('fai:hub:object:*')).length, 40, 'hub metadata kept');
    assert.equal(await client.get('fai:cachex:not-the-cache'), 'keep', 'a look-alike prefix kept');
    assert.equal(await client.get('unrelated'), 'keep');
  });
});

describe('the audit head in a real Redis', () => {
  it('reports the last entry deleted from the log, naming the entry, and the CLI exits 2', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-audit-head-'));
    try {
      const here = parseDeployment({ stateDir: dir, service: 'http://127.0.0.1:9', prometheus: null, redisUrl: redis.url, pinsFile: join(dir, 'pins.json'), nginx: null, instances: null }, dir);
      const { audit } = stateFiles(here);
      for (const outcome of ['started', 'verified', 'started'] as const) await audit.append({ actor: 'ops', runbook: 'rollback', args: {}, plan: [], outcome, detail: outcome });
      assert.equal(await audit.verify(), null);
      assert.equal((await audit.recordedHead())?.seq, 3);
      const lines = (await readFile(audit.path, 'utf8')).trim().split('\n');
      await writeFile(audit.path, `${lines.slice(0, 2).join('\n')}\n`);
      const broken = await audit.verify();
      assert.equal(broken?.seq, 3);
      assert.match(broken?.reason ?? '', /the log ends at entry 2, but its head was recorded at entry 3/);
      // A re-append cannot lower the recorded head: the gap stays visible.
      await stateFiles(here).audit.append({ actor: 'mallory', runbook: 'rollback', args: {}, plan: [], outcome: 'verified', detail: 'cover-up' });
      assert.equal((await audit.recordedHead())?.seq, 3);
      assert.match((await audit.verify())?.reason ?? '', /not the entry recorded as the head/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the deployment lock in Redis', () => {
  it('is every host\'s: a run on one host refuses while another host\'s run holds it (naming it), and goes once it is released', async () => {
    const hosts = await Promise.all(['one', 'two'].map((name) => mkdtemp(join(tmpdir(), `fai-lock-${name}-`))));
    try {
      const [one, two] = hosts.map((dir) => parseDeployment({ stateDir: dir, service: 'http://127.0.0.1:9', prometheus: null, redisUrl: redis.url, pinsFile: join(dir, 'pins.json'), nginx: null, instances: null }, dir));
      await writeFile(join(hosts[1]!, 'pins.json'), JSON.stringify({ qwen: '2.5.1' }));
      const held = await stateFiles(one!).lock.acquire('rollback');
      try {
        assert.match(String(await client.get('fai:runbooks:lock')), /"runbook":"rollback"/);
        await assert.rejects(runNamed(two!, 'pin-update', { list: true }, {}), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_RUNBOOK_LOCKED' && /runbook rollback \(pid \d+ on .*\) holds the deployment lock fai:runbooks:lock in Redis/.test(e.message));
      } finally {
        await held.release();
      }
      assert.equal(await client.get('fai:runbooks:lock'), null, 'released');
      assert.equal((await runNamed(two!, 'pin-update', { list: true }, {})).outcome, 'verified');
      await writeFile(join(hosts[0]!, 'pins.json'), JSON.stringify({ qwen: '2.5.1' }));
      assert.equal((await runNamed(one!, 'pin-update', { list: true }, {})).outcome, 'verified');
      // Every host's runs in one place: the cluster's audit stream, each entry naming its host and log file.
      const cluster = await clusterAudit(one!, 100);
      const fromLogs = new Set(cluster.filter((row) => row.entry.runbook === 'pin-update').map((row) => row.log));
      assert.deepEqual([...fromLogs].sort(), hosts.map((dir) => join(dir, 'audit.jsonl')).sort());
      assert.ok(cluster.some((row) => row.entry.outcome === 'refused' && /holds the deployment lock/.test(row.entry.detail)), 'the refusal is in it too');
      const file = join(hosts[0]!, 'deployment.json');
      await writeFile(file, JSON.stringify({ stateDir: hosts[0], service: 'http://127.0.0.1:9', redisUrl: redis.url, pinsFile: join(hosts[0]!, 'pins.json') }));
      const printed = await runFai(['runbook', 'audit', '--cluster', '3'], { FAI_DEPLOYMENT: file });
      assert.equal(printed.code, 0, printed.stderr);
      assert.match(printed.stdout, /^ *HOST +# +TIME +ACTOR +RUNBOOK +OUTCOME/m);
      assert.equal(printed.stdout.trim().split('\n').length, 4, 'a header and the last 3 entries');
      const refused = await runFai(['runbook', 'audit', '--cluster', 'many'], { FAI_DEPLOYMENT: file });
      assert.equal(refused.code, 64, refused.stderr);
      assert.match(refused.stderr, /--cluster takes a whole number/);
    } finally {
      for (const dir of hosts) await rm(dir, { recursive: true, force: true });
    }
  });

  it('falls back to the host\'s lock file when Redis does not answer: an emergency runbook still runs', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fai-lock-down-'));
    try {
      const down = parseDeployment({ stateDir: dir, service: 'http://127.0.0.1:9', prometheus: null, redisUrl: 'redis://127.0.0.1:9', pinsFile: join(dir, 'pins.json'), nginx: null, instances: null }, dir);
      const { lock } = stateFiles(down);
      const held = await lock.acquire('emergency-stop');
      try {
        assert.match(await readFile(join(dir, 'runbook.lock'), 'utf8'), /"runbook":"emergency-stop"/);
        await assert.rejects(stateFiles(down).lock.acquire('rollback'), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_RUNBOOK_LOCKED');
      } finally {
        await held.release();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
