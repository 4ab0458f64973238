import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDeployment, runNamed, type Deployment } from '../../src/runbooks/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';

let app: App;
let base: string;
let state: string;
let deployment: Deployment;
before(async () => {
  app = createApp(testConfig({ PORT: '0' }));
  base = await app.listen();
  state = await mkdtemp(join(tmpdir(), 'fai-mode-downshift-'));
  deployment = parseDeployment({ stateDir: state, service: base }, state);
});
after(async () => {
  await app.close();
  await rm(state, { recursive: true, force: true });
});

const briefMode = async (mode: string) =>
  ((await (await fetch(`${base}/v1/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'warm amber', mode }) })).json()) as { mode: string }).mode;

describe('downshift --mode: the brief layer, forced and cleared through the running service', () => {
  it('forces creative down to balanced, verified from outside, then clears it', async () => {
    const forced = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative' }, {});
    assert.equal(forced.outcome, 'verified');
    assert.equal(forced.detail, 'creative requests go to balanced');
    assert.equal(await briefMode('creative'), 'balanced');
    const again = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative' }, {});
    assert.match(again.plan[0]!, /nothing to change/);
    const cleared = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative', clear: true }, {});
    assert.equal(cleared.outcome, 'verified');
    assert.equal(await briefMode('creative'), 'creative');
  });

  it('refuses a mode that cannot downshift, naming it', async () => {
    await assert.rejects(runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'turbo' }, {}), /--mode: "turbo"/);
  });
});
