import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaiError } from '../../src/errors/index.ts';
import { configHash, encodeCheckpoint, FormulationEnv, policyNetwork, Random } from '../../src/learning/index.ts';
import { POLICY_PIN, readPins } from '../../src/llm/index.ts';
import { LocalBackend, parseDeployment, ReleaseHistory, runNamed, type Deployment } from '../../src/runbooks/index.ts';
import { FAI } from '../helpers/cli.ts';
import { freePort } from '../helpers/servers.ts';
import { OPERATOR } from '../helpers/operator.ts';

/** Real processes (`fai serve`) managed by the local backend: restarts, pin reloads, rollback, emergency stop. */
let state: string;
let deployment: Deployment;
let backend: LocalBackend;
/** A policy checkpoint stored in the api process's hub (by the pin-update test), for the rollback test. */
let policyCid: string;

async function serveProcess(name: string, role: 'service' | 'worker', pinsFile: string) {
  const port = await freePort();
  return {
    name,
    role,
    command: [process.execPath, FAI, 'serve'],
    env: { PORT: String(port), WORKER_ID: name, LOG_LEVEL: 'warn', HUB_DIR: join(state, `hub-${name}`), PINS_FILE: pinsFile, NVIDIA_SMI: join(state, 'no-nvidia-smi') },
    healthUrl: `http://127.0.0.1:${port}/health`,
  };
}

before(async () => {
  state = await mkdtemp(join(tmpdir(), 'fai-processes-'));
  const pinsFile = join(state, 'model_pins.json');
  await writeFile(pinsFile, JSON.stringify({ qwen: '2.5.1', mistral: '0.3.1', llama: '3.1.1' }));
  // A stand-in LLM server behind the qwen slot (what HighWorkerVRAM restarts): it answers /health on its port.
  const llmPort = await freePort();
  const llmServer = {
    name: 'qwen-server',
    role: 'llm',
    model: 'qwen',
    command: [process.execPath, '-e', `require('http').createServer((q, r) => r.end('ok')).listen(${llmPort}, '127.0.0.1')`],
    healthUrl: `http://127.0.0.1:${llmPort}/health`,
  };
  deployment = parseDeployment(
    { stateDir: state, pinsFile, processes: [await serveProcess('api', 'service', pinsFile), await serveProcess('worker-1', 'worker', pinsFile), await serveProcess('worker-2', 'worker', pinsFile), llmServer] },
    state,
  );
  backend = new LocalBackend(deployment);
  for (const p of deployment.processes) await backend.start(p.name);
});

after(async () => {
  for (const p of deployment.processes) await backend.stop(p.name);
  await rm(state, { recursive: true, force: true });
});

const pidOf = async (name: string) => (await backend.status()).find((s) => s.name === name)!.pid;
const up = async (url: string) => {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(1_000) })).status === 200;
  } catch {
    return false;
  }
};

describe('runbooks on real local processes', () => {
  it('restart-workers restarts each worker, one at a time: some worker answers throughout', async () => {
    const before = [await pidOf('worker-1'), await pidOf('worker-2')];
    const workers = deployment.processes.filter((p) => p.role === 'worker');
    let probes = 0;
    let zeroCapacity = 0;
    let done = false;
    const watcher = (async () => {
      while (!done) {
        const answers = await Promise.all(workers.map((w) => up(w.healthUrl!)));
        probes++;
        if (!answers.some(Boolean)) zeroCapacity++;
        await new Promise((r) => setTimeout(r, 25));
      }
    })();
    // Destructive: without --yes (an approval) it stops after the plan and restarts nothing.
    await assert.rejects(runNamed(deployment, 'restart-workers', {}, {}), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_CONFIRMATION_REQUIRED');
    assert.deepEqual([await pidOf('worker-1'), await pidOf('worker-2')], before, 'nothing restarted');
    const result = await runNamed(deployment, 'restart-workers', {}, { yes: true });
    done = true;
    await watcher;
    assert.equal(result.outcome, 'verified');
    const after = [await pidOf('worker-1'), await pidOf('worker-2')];
    assert.ok(after[0] !== before[0] && after[1] !== before[1], 'both workers are new processes');
    assert.ok(probes > 10, `probed ${probes} times`);
    assert.equal(zeroCapacity, 0, 'capacity never reached zero');
  });

  it('restart-workers --model qwen restarts the LLM server behind the qwen slot (HighWorkerVRAM), and no worker', async () => {
    const workers = [await pidOf('worker-1'), await pidOf('worker-2')];
    const server = await pidOf('qwen-server');
    const plan = await runNamed(deployment, 'restart-workers', { model: 'qwen' }, { dryRun: true });
    assert.deepEqual(plan.plan, ['restart qwen-server one at a time', 'only one LLM server of qwen: its capacity is zero while it restarts']);
    const result = await runNamed(deployment, 'restart-workers', { model: 'qwen' }, { yes: true });
    assert.equal(result.outcome, 'verified');
    assert.equal(result.detail, '1 LLM server of qwen(s) restarted and healthy');
    assert.notEqual(await pidOf('qwen-server'), server, 'a new server process');
    assert.deepEqual([await pidOf('worker-1'), await pidOf('worker-2')], workers, 'the workers untouched');
    assert.match((await runNamed(deployment, 'restart-workers', { model: 'llama' }, { yes: true })).plan[0]!, /nothing to restart: no LLM server of llama/);
  });

  it('pin-update reloads the pins in the running service (SIGHUP, same process) and verifies it from outside', async () => {
    const pid = await pidOf('api');
    const result = await runNamed(deployment, 'pin-update', { model: 'qwen', version: '2.5.2' }, {});
    assert.equal(result.outcome, 'verified');
    assert.match(result.detail, /api serve it/);
    const api = deployment.processes.find((p) => p.name === 'api')!;
    const body = (await (await fetch(new URL('/health/llm?model=qwen', api.healthUrl))).json()) as { pinnedVersion: string };
    assert.equal(body.pinnedVersion, '2.5.2');
    assert.equal(await pidOf('api'), pid, 'not restarted');
  });

  it('pin-update pins the production policy by version → CID: the service loads it from its hub and serves it; a CID it cannot load is undone', async () => {
    const api = deployment.processes.find((p) => p.name === 'api')!;
    const env = new FormulationEnv();
    const store = async (seed: number) => {
      const net = policyNetwork(env, 8, new Random(seed));
      const bytes = encodeCheckpoint(net, { algorithm: 'ppo', configHash: configHash({ seed }), evaluationReturn: seed, world: env.world });
      const response = await fetch(new URL('/v1/hub/checkpoints', api.healthUrl), { method: 'POST', headers: { ...OPERATOR, 'content-type': 'application/octet-stream' }, body: bytes });
      assert.equal(response.status, 201);
      return ((await response.json()) as { cid: string }).cid;
    };
    const first = await store(1);
    policyCid = first;
    const pid = await pidOf('api');
    const result = await runNamed(deployment, 'pin-update', { model: POLICY_PIN, version: '1.0.0', cid: first }, {});
    assert.equal(result.outcome, 'verified', result.detail);
    const health = (await (await fetch(new URL('/health/policy', api.healthUrl))).json()) as { status: string; version: string; cid: string };
    assert.deepEqual([health.status, health.version, health.cid], ['loaded', '1.0.0', first]);
    assert.equal(await pidOf('api'), pid, 'not restarted');
    // Without --cid, and with a CID of nothing in the service's hub: refused, and undone after a failed verification.
    await assert.rejects(runNamed(deployment, 'pin-update', { model: POLICY_PIN, version: '1.1.0' }, {}), /--cid is required/);
    const absent = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
    await assert.rejects(runNamed(deployment, 'pin-update', { model: POLICY_PIN, version: '1.1.0', cid: absent }, {}), /undone/);
    assert.deepEqual((await readPins(deployment.pinsFile))[POLICY_PIN], { version: '1.0.0', cid: first });
    const again = (await (await fetch(new URL('/health/policy', api.healthUrl))).json()) as { status: string; version: string };
    assert.deepEqual([again.status, again.version], ['loaded', '1.0.0']);
    // Restore the LLM-only pins the next test starts from.
    const pins = await readPins(deployment.pinsFile);
    delete pins[POLICY_PIN];
    await writeFile(deployment.pinsFile, JSON.stringify(pins));
  });

  it('rollback returns to the previous release: its pins, a restart, a health check', async () => {
    const history = new ReleaseHistory(deployment);
    await history.write([
      { version: 'v1', pins: { qwen: '2.5.1', mistral: '0.3.1', llama: '3.1.1', [POLICY_PIN]: { version: '1.0.0', cid: policyCid } }, at: '2026-11-01T00:00:00Z', by: 'test' },
      { version: 'v2', pins: { qwen: '2.5.2', mistral: '0.3.1', llama: '3.1.1' }, at: '2026-11-20T00:00:00Z', by: 'test' },
    ]);
    await assert.rejects(runNamed(deployment, 'rollback', {}, {}), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_CONFIRMATION_REQUIRED');
    const pid = await pidOf('api');
    const result = await runNamed(deployment, 'rollback', {}, { yes: true });
    assert.equal(result.outcome, 'verified');
    assert.deepEqual(result.plan.slice(0, 2), ['release v2 → v1', `pins: qwen 2.5.2 → 2.5.1, ${POLICY_PIN} — → 1.0.0 (${policyCid})`]);
    assert.deepEqual(JSON.parse(await readFile(deployment.pinsFile, 'utf8')), { qwen: '2.5.1', mistral: '0.3.1', llama: '3.1.1', [POLICY_PIN]: { version: '1.0.0', cid: policyCid } });
    // The runbook's verification saw the restarted service load v1's policy from its hub.
    const api = deployment.processes.find((p) => p.name === 'api')!;
    assert.equal(((await (await fetch(new URL('/health/policy', api.healthUrl))).json()) as { status: string }).status, 'loaded');
    assert.notEqual(await pidOf('api'), pid, 'the service was restarted');
    assert.equal((await history.all()).at(-1)?.version, 'v1');
  });

  it('emergency-stop needs --yes, then stops every process', async () => {
    await assert.rejects(runNamed(deployment, 'emergency-stop', {}, {}), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_CONFIRMATION_REQUIRED');
    assert.ok((await backend.status()).every((s) => s.running));
    const result = await runNamed(deployment, 'emergency-stop', {}, { yes: true });
    assert.equal(result.outcome, 'verified');
    assert.ok((await backend.status()).every((s) => !s.running));
    for (const p of deployment.processes) assert.equal(await up(p.healthUrl!), false, `${p.name} answers no more`);
  });
});

describe('the Docker Compose backend', () => {
  it('restarts workers with `docker compose restart`, one at a time', async () => {
    // No Docker engine here: a stand-in `docker` records what it is asked and answers like Compose.
    const log = join(state, 'docker.log');
    const docker = join(state, 'docker');
    await writeFile(
      docker,
      `#!/bin/sh\necho "$@" >> ${log}\ncase "$*" in\n  *" ps "*) echo '{"Service":"worker-a","State":"running"}'; echo '{"Service":"worker-b","State":"running"}' ;;\nesac\n`,
    );
    await chmod(docker, 0o755);
    const compose = parseDeployment(
      { stateDir: join(state, 'compose'), backend: 'compose', dockerBinary: docker, composeFile: '/srv/deploy/docker-compose.yml', processes: [{ name: 'worker-a', role: 'worker' }, { name: 'worker-b', role: 'worker' }] },
      state,
    );
    const result = await runNamed(compose, 'restart-workers', {}, { yes: true });
    assert.equal(result.outcome, 'verified');
    const calls = (await readFile(log, 'utf8')).trim().split('\n');
    assert.deepEqual(calls.filter((c) => c.includes('restart')), ['compose -f /srv/deploy/docker-compose.yml restart worker-a', 'compose -f /srv/deploy/docker-compose.yml restart worker-b']);
  });
});
