import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDeployment, runNamed, type Deployment } from '../../src/runbooks/index.ts';
import { createApp, type App } from '../../src/server/index.ts';
import { testConfig } from '../helpers/config.ts';

let app: App;
let other: App;
let base: string;
let otherBase: string;
let state: string;
let deployment: Deployment;
before(async () => {
  app = createApp(testConfig({ PORT: '0' }));
  other = createApp(testConfig({ PORT: '0', WORKER_ID: 'canary' }));
  base = await app.listen();
  otherBase = await other.listen();
  state = await mkdtemp(join(tmpdir(), 'fai-mode-downshift-'));
  // Two serving instances: the service (also stable) and a canary. Each routes its own requests.
  deployment = parseDeployment({ stateDir: state, service: base, instances: { stable: new URL(base).host, canary: new URL(otherBase).host } }, state);
});
after(async () => {
  await app.close();
  await other.close();
  await rm(state, { recursive: true, force: true });
});

const briefMode = async (mode: string, at = base) =>
  ((await (await fetch(`${at}/v1/briefs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ text: 'warm amber', mode }) })).json()) as { mode: string }).mode;
const creativeOn = async (at: string) =>
  ((await (await fetch(`${at}/v1/llm/downshift`)).json()) as { modes: Array<{ mode: string; forced: boolean; forcedBy: string | null; expiresAt: string | null }> }).modes.find((m) => m.mode === 'creative')!;

describe('downshift --mode: the brief layer, forced and cleared through the running service', () => {
  it('forces creative down to balanced, verified from outside, then clears it', async () => {
    const forced = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative' }, {});
    assert.equal(forced.outcome, 'verified');
    assert.equal(forced.detail, 'creative requests go to balanced on 2 instance(s)');
    assert.deepEqual([await briefMode('creative'), await briefMode('creative', otherBase)], ['balanced', 'balanced'], 'on every serving instance');
    const again = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative' }, {});
    assert.match(again.plan[0]!, /nothing to change/);
    const cleared = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative', clear: true }, {});
    assert.equal(cleared.outcome, 'verified');
    assert.deepEqual([await briefMode('creative'), await briefMode('creative', otherBase)], ['creative', 'creative']);
  });

  it('forces with a TTL, renews it when forced again, and a lift scoped to who forced it leaves another\'s downshift', async () => {
    const forced = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative', ttl: 600 }, { actor: 'alertmanager (rule HighLLMLatency)' });
    assert.match(forced.detail, /for 600 s unless renewed/);
    const first = Date.parse((await creativeOn(otherBase)).expiresAt!);
    assert.ok(Math.abs(first - Date.now() - 600_000) < 10_000);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const renewed = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative', ttl: 600 }, { actor: 'alertmanager (rule HighLLMLatency)' });
    assert.match(renewed.plan[0]!, /renew the forced downshift of creative for 600 s/);
    assert.ok(Date.parse((await creativeOn(otherBase)).expiresAt!) > first, 'renewed');
    // An operator forces it again on the canary by hand meanwhile (it is now hers): the alert's lift leaves that one.
    await runNamed(parseDeployment({ stateDir: state, service: otherBase }, state), 'downshift', { canary: 50, samples: 10, mode: 'creative', ttl: 60 }, { actor: 'ops-anna' });
    const lifted = await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative', clear: true, forcedBy: 'alertmanager (rule HighLLMLatency)' }, {});
    assert.equal(lifted.outcome, 'verified');
    assert.match(lifted.plan.join('\n'), /forced by ops-anna, not by alertmanager \(rule HighLLMLatency\): left/);
    assert.deepEqual([(await creativeOn(base)).forced, (await creativeOn(otherBase)).forcedBy], [false, 'ops-anna']);
    await runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'creative', clear: true }, {});
  });

  it('refuses a mode that cannot downshift, naming it', async () => {
    await assert.rejects(runNamed(deployment, 'downshift', { canary: 50, samples: 10, mode: 'turbo' }, {}), /--mode: "turbo"/);
  });
});
