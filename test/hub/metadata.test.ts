import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BlockStore, CloudHub, EmbeddedMetadataStore } from '../../src/hub/index.ts';
import { createApp } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';

let root: string;
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'fai-meta-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

let n = 0;
/** Two hubs on one HUB_DIR: the service and `fai shadow run` (or the scheduled evaluation), each with its own process's store. */
function twoProcesses() {
  const dir = join(root, `hub-${n++}`);
  const open = () => new CloudHub({ blocks: new BlockStore(join(dir, 'blocks')), metadata: new EmbeddedMetadataStore(join(dir, 'meta')), gcGraceMs: 0 });
  return { dir, service: open(), cli: open() };
}

describe('the embedded metadata store: one source of truth on disk for every process', () => {
  it("sees what another process stored: get at once, list within the rescan interval, and gc keeps it", async () => {
    const { service, cli } = twoProcesses();
    // The service opens its index first, as a running service has.
    assert.deepEqual(await service.list('shadow'), []);
    const stored = await cli.storeBytes(new TextEncoder().encode('{"comparisons": 3}\n'), ['shadow-report-inputs'], 'shadow');
    assert.equal((await service.get(stored.cid)).cid, stored.cid, 'a lookup reads the file the other process wrote');
    await new Promise((resolve) => setTimeout(resolve, 150));
    assert.deepEqual((await service.list('shadow')).map((r) => r.cid), [stored.cid]);
    // Pinning it through the service verifies it; a gc in the service keeps its blocks.
    assert.equal((await service.pin(stored.cid)).pinned, true);
    const { removed } = await service.gc();
    assert.equal(removed, 0);
    assert.equal(new TextDecoder().decode((await cli.retrieve(stored.cid)).bytes), '{"comparisons": 3}\n');
    await service.close();
    await cli.close();
  });

  it("sees a record another process removed as gone, and a pin it wrote when collecting", async () => {
    const { service, cli } = twoProcesses();
    const recipe = await service.storeJson('recipe', { name: 'shared' });
    await cli.get(recipe.cid);
    await cli.pin(recipe.cid);
    // The service's gc re-reads every record file: the pin the CLI wrote keeps it.
    assert.equal((await service.gc()).removed, 0);
    assert.equal((await service.get(recipe.cid)).pinned, true);
    await service.close();
    await cli.close();
  });
});

describe('a metadata file that is not a record', () => {
  it('is skipped and named, while every other record is served (the hub does not go down with it)', async () => {
    const dir = join(root, `hub-${n++}`);
    const hubDir = dir;
    const first = new CloudHub({ blocks: new BlockStore(join(hubDir, 'blocks')), metadata: new EmbeddedMetadataStore(join(hubDir, 'meta')) });
    const good = await first.storeJson('recipe', { name: 'fine' });
    const torn = await first.storeJson('recipe', { name: 'torn by a full disk' });
    await first.close();
    // A crash (or a full disk) left one record file cut short; another holds something else entirely.
    await writeFile(join(hubDir, 'meta', `${torn.cid}.json`), '{"record":{"cid":"');
    await writeFile(join(hubDir, 'meta', 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e.json'), '{"hello": "world"}');
    const restarted = new CloudHub({ blocks: new BlockStore(join(hubDir, 'blocks')), metadata: new EmbeddedMetadataStore(join(hubDir, 'meta')) });
    assert.deepEqual((await restarted.retrieve(good.cid)).value, { name: 'fine' });
    assert.deepEqual((await restarted.list('recipe')).map((r) => r.cid), [good.cid]);
    const problems = restarted.problems();
    assert.equal(problems.length, 2);
    assert.ok(problems.some((p) => p.includes(`${torn.cid}.json`) && /not JSON .*truncated/.test(p)), problems.join('\n'));
    assert.ok(problems.some((p) => /not a record: record/.test(p)), problems.join('\n'));
    await restarted.close();

    // The service starts on it, answers, and /health names the file (degraded, not down).
    const app = createApp(testConfig({ HUB_DIR: hubDir }));
    await app.server.ready();
    try {
      const read = await app.server.inject({ method: 'GET', url: `/v1/hub/objects/${good.cid}` });
      assert.equal(read.statusCode, 200, read.body);
      const health = await app.server.inject({ method: 'GET', url: '/health' });
      assert.equal(health.statusCode, 200);
      assert.equal(health.json().status, 'degraded');
      assert.equal(health.json().services.hub.status, 'degraded');
      assert.match(health.json().services.hub.detail, new RegExp(`${torn.cid}\\.json: not JSON`));
      assert.doesNotMatch(health.body, new RegExp(tmpdir().replaceAll('/', '\\/')), 'the public /health names no directory of ours');
    } finally {
      await app.close();
    }
  });
});
