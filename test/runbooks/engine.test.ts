import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FaiError } from '../../src/errors/index.ts';
import { AuditLog, parseDeployment, parseWeights, readPins, renderUpstream, FileLock, runNamed, runRunbook, type AuditEntry, type AuditHead, type Runbook } from '../../src/runbooks/index.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'fai-engine-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

let n = 0;
const deps = () => {
  const here = join(dir, `run-${n++}`);
  return { lock: new FileLock(join(here, 'lock')), audit: new AuditLog(join(here, 'audit.jsonl')) };
};

/** A runbook over an in-memory value, to watch the engine's order of apply, verify and undo. */
function counterRunbook(state: { value: number; log: string[] }, options: { failVerify?: boolean; failSecondStep?: boolean; destructive?: boolean; slowMs?: number } = {}): Runbook {
  return {
    name: 'counter',
    description: 'test',
    destructive: options.destructive ?? false,
    plan: async () => ({
      summary: [`value ${state.value} → ${state.value + 2}`],
      steps: [
        { describe: 'add 1', apply: async () => void (state.value++, state.log.push('apply 1')), undo: async () => void (state.value--, state.log.push('undo 1')) },
        {
          describe: 'add 1 more',
          apply: async () => {
            if (options.slowMs) await new Promise((r) => setTimeout(r, options.slowMs));
            if (options.failSecondStep) throw new Error('step 2 broke');
            state.value++;
            state.log.push('apply 2');
          },
          undo: async () => void (state.value--, state.log.push('undo 2')),
        },
      ],
      verify: async () => {
        if (options.failVerify) throw new Error('the effect is not visible');
        return `value is ${state.value}`;
      },
    }),
  };
}

describe('runbook engine', () => {
  it('applies the steps in order and verifies', async () => {
    const state = { value: 0, log: [] as string[] };
    const result = await runRunbook(counterRunbook(state), {}, deps());
    assert.deepEqual([result.outcome, state.value, state.log], ['verified', 2, ['apply 1', 'apply 2']]);
  });

  it('undoes completed steps in reverse order when verification fails', async () => {
    const state = { value: 0, log: [] as string[] };
    const d = deps();
    await assert.rejects(runRunbook(counterRunbook(state, { failVerify: true }), {}, d), /undone/);
    assert.deepEqual([state.value, state.log], [0, ['apply 1', 'apply 2', 'undo 2', 'undo 1']]);
    assert.deepEqual((await d.audit.entries()).map((e) => e.outcome), ['started', 'undone']);
  });

  it('undoes only what was applied when a step fails', async () => {
    const state = { value: 0, log: [] as string[] };
    await assert.rejects(runRunbook(counterRunbook(state, { failSecondStep: true }), {}, deps()), /step 2 broke/);
    assert.deepEqual([state.value, state.log], [0, ['apply 1', 'undo 1']]);
  });

  it('changes nothing on a dry run, and stops a destructive runbook after the plan without --yes', async () => {
    const state = { value: 0, log: [] as string[] };
    const d = deps();
    assert.equal((await runRunbook(counterRunbook(state), {}, d, { dryRun: true })).outcome, 'planned');
    await assert.rejects(runRunbook(counterRunbook(state, { destructive: true }), {}, d), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_CONFIRMATION_REQUIRED');
    assert.equal(state.value, 0);
    assert.equal((await runRunbook(counterRunbook(state, { destructive: true }), {}, d, { yes: true })).outcome, 'verified');
    assert.deepEqual((await d.audit.entries()).map((e) => e.outcome), ['planned', 'refused', 'started', 'verified']);
  });

  it('refuses a second concurrent run fast, naming the holder, and audits the refusal', async () => {
    const state = { value: 0, log: [] as string[] };
    const d = deps();
    const first = runRunbook(counterRunbook(state, { slowMs: 300 }), {}, d);
    await new Promise((r) => setTimeout(r, 50));
    const started = performance.now();
    await assert.rejects(runRunbook(counterRunbook(state), {}, d), (e: unknown) => e instanceof FaiError && e.code === 'FAI_ERR_RUNBOOK_LOCKED' && /counter \(pid \d+/.test(e.message));
    assert.ok(performance.now() - started < 200, 'fails fast');
    assert.equal((await first).outcome, 'verified');
    assert.deepEqual((await d.audit.entries()).map((e) => e.outcome).sort(), ['refused', 'started', 'verified']);
    assert.equal(await d.audit.verify(), null, 'concurrent appends keep the chain');
  });

  it('recovers a lock left by a killed run', async () => {
    const d = deps();
    // A process takes the lock and is killed before it can release it.
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']);
    await new Promise((r) => setTimeout(r, 100));
    await mkdir(dirname(d.lock.path), { recursive: true });
    await writeFile(d.lock.path, JSON.stringify({ pid: child.pid, host: hostname(), runbook: 'downshift', startedAt: new Date().toISOString() }));
    const state = { value: 0, log: [] as string[] };
    await assert.rejects(runRunbook(counterRunbook(state), {}, d), /holds/, 'held while the holder lives');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const result = await runRunbook(counterRunbook(state), {}, d);
    assert.deepEqual([result.outcome, result.recoveredLock], ['verified', true]);
    // The recovery is in the audit log, naming whose lock it was.
    const recovered = (await d.audit.entries()).find((e) => e.outcome === 'recovered');
    assert.match(recovered?.detail ?? '', new RegExp(`lock left by downshift \\(pid ${child.pid} on `));
  });

  it('writes its intent before the first step acts: a run killed mid-way leaves a started entry', async () => {
    const d = deps();
    let seenAtApply: string[] = [];
    const runbook: Runbook = {
      name: 'clear-cache',
      description: 'test',
      destructive: false,
      plan: async () => ({
        summary: ['delete 3 keys'],
        steps: [{ describe: 'delete', apply: async () => void (seenAtApply = (await d.audit.entries()).map((e) => `${e.outcome}: ${e.plan.join()}`)) }],
        verify: async () => 'deleted',
      }),
    };
    await runRunbook(runbook, {}, d);
    assert.deepEqual(seenAtApply, ['started: delete 3 keys']);
  });

  it('leaves a verified change in place when its audit entry cannot be written, and says so', async () => {
    const d = deps();
    const state = { value: 0, log: [] as string[] };
    const failing = Object.create(d.audit) as AuditLog;
    failing.append = async (entry) => {
      if (entry.outcome === 'verified') throw new Error('ENOSPC: no space left on device');
      return d.audit.append(entry);
    };
    await assert.rejects(runRunbook(counterRunbook(state), {}, { lock: d.lock, audit: failing }), (e: unknown) => {
      assert.ok(e instanceof FaiError && e.code === 'FAI_ERR_STORAGE', String(e));
      assert.match(e.message, /verified \(.*\) and left in place, but its audit entry could not be written \(ENOSPC/);
      return true;
    });
    assert.deepEqual(state.log, ['apply 1', 'apply 2'], 'nothing undone');
    assert.equal(state.value, 2);
    assert.deepEqual((await d.audit.entries()).map((e) => e.outcome), ['started']);
    assert.equal(await d.lock.holder(), null, 'the lock is released');
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('audit log', () => {
  it('detects an edited, a removed and a reordered entry', async () => {
    const audit = new AuditLog(join(dir, 'tamper.jsonl'));
    for (const outcome of ['verified', 'undone', 'planned', 'verified'] as const) await audit.append({ actor: 'test', runbook: 'downshift', args: {}, plan: ['x'], outcome, detail: outcome });
    assert.equal(await audit.verify(), null);
    const lines = (await readFile(audit.path, 'utf8')).trim().split('\n');
    await writeFile(audit.path, `${[lines[0], lines[1]!.replace('"undone"', '"verified"'), lines[2], lines[3]].join('\n')}\n`);
    assert.deepEqual(await audit.verify(), { line: 2, seq: 2, reason: 'its content does not match its HMAC (edited, or written with another AUDIT_KEY)' });
    await writeFile(audit.path, `${[lines[0], lines[2], lines[3]].join('\n')}\n`);
    assert.equal((await audit.verify())?.line, 2, 'a removed entry breaks the chain');
    await writeFile(audit.path, `${[lines[0], lines[2], lines[1], lines[3]].join('\n')}\n`);
    assert.equal((await audit.verify())?.line, 2, 'a reordered entry breaks the chain');
  });

  it('is tamper-evident: an entry rewritten with its hashes recomputed (no key, or another key) is reported at that entry', async () => {
    const audit = new AuditLog(join(dir, 'rewritten.jsonl'), { key: Buffer.from('k'.repeat(40)) });
    for (const actor of ['alice', 'bob', 'carol']) await audit.append({ actor, runbook: 'rollback', args: {}, plan: ['x'], outcome: 'verified', detail: `by ${actor}` });
    assert.equal(await audit.verify(), null);
    const entries = (await readFile(audit.path, 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as AuditEntry);
    // The attack: change who acted and what was done, then recompute every hash after it.
    const rechain = (hashOf: (body: object) => string, withAlg: boolean) => {
      let prev = '';
      return entries.map((entry, i) => {
        const { hash: _hash, alg: _alg, ...rest } = entry;
        const body = { ...rest, ...(i === 1 ? { actor: 'mallory', detail: 'by mallory' } : {}), prev, ...(withAlg ? { alg: 'hmac-sha256' } : {}) };
        const hash = hashOf(body);
        prev = hash;
        return JSON.stringify({ ...body, hash });
      });
    };
    await writeFile(audit.path, `${rechain((body) => createHash('sha256').update(JSON.stringify(body)).digest('hex'), false).join('\n')}\n`);
    assert.deepEqual(await audit.verify(), { line: 1, seq: 1, reason: 'not keyed: a plain hash anyone can recompute (rewritten without the audit key)' }, 'a plain sha-256 chain is not the keyed one');
    await writeFile(audit.path, `${rechain((body) => createHmac('sha256', 'another key that is long enough!!').update(JSON.stringify(body)).digest('hex'), true).join('\n')}\n`);
    assert.deepEqual((await audit.verify())?.seq, 1, 'an HMAC with another key is reported from the first entry');
    // Only entry 2 edited, its HMAC guessed from the content (no key): reported at entry 2.
    const original = await (async () => {
      const fresh = new AuditLog(join(dir, 'rewritten-2.jsonl'), { key: Buffer.from('k'.repeat(40)) });
      for (const actor of ['alice', 'bob', 'carol']) await fresh.append({ actor, runbook: 'rollback', args: {}, plan: ['x'], outcome: 'verified', detail: `by ${actor}` });
      return fresh;
    })();
    const lines = (await readFile(original.path, 'utf8')).trim().split('\n');
    await writeFile(original.path, `${[lines[0], lines[1]!.replace('"actor":"bob"', '"actor":"mallory"'), lines[2]].join('\n')}\n`);
    assert.deepEqual(await original.verify(), { line: 2, seq: 2, reason: 'its content does not match its HMAC (edited, or written with another AUDIT_KEY)' });
  });

  it('reports the last entry deleted: against the head recorded outside the file (a head store, or the head the service logged)', async () => {
    const heads: AuditHead[] = [];
    const store = { record: async (head: AuditHead) => void heads.push(head), read: async () => heads.at(-1) ?? null };
    const logged: string[] = [];
    const audit = new AuditLog(join(dir, 'truncated.jsonl'), { key: Buffer.from('k'.repeat(40)), head: store, onHead: (head) => logged.push(`audit head #${head.seq} ${head.hash}`) });
    for (const outcome of ['started', 'verified', 'started'] as const) await audit.append({ actor: 'ops', runbook: 'rollback', args: {}, plan: [], outcome, detail: outcome });
    assert.equal(await audit.verify(), null);
    assert.equal(logged.length, 3);
    const text = await readFile(audit.path, 'utf8');
    const lines = text.trim().split('\n');
    await writeFile(audit.path, `${lines.slice(0, 2).join('\n')}\n`);
    assert.deepEqual(await audit.verify(), { line: 3, seq: 3, reason: 'the log ends at entry 2, but its head was recorded at entry 3: entries were removed from its end' });
    // With no head store: the head from the service's log line.
    const bare = new AuditLog(audit.path, { key: Buffer.from('k'.repeat(40)) });
    assert.equal(await bare.verify(), null, 'without a head, a removed tail cannot be seen');
    const [, seq, hash] = /#(\d+) ([0-9a-f]{64})/.exec(logged.at(-1)!)!;
    assert.match((await bare.verify({ head: { seq: Number(seq), hash: hash! } }))?.reason ?? '', /removed from its end/);
  });

  it('leaves chains that all verify after 30 appenders are killed mid-append beside live ones', async () => {
    const script = "import { AuditLog } from './src/runbooks/audit.ts'; const log = new AuditLog(process.argv[1]); for (let i = 0; ; i++) { await log.append({ actor: 'doomed', runbook: 'downshift', args: {}, plan: ['a', 'b'], outcome: 'started', detail: 'entry ' + i }); await new Promise((r) => setTimeout(r, 1)); }";
    const trial = async (t: number) => {
      const path = join(dir, `killed-${t}`, 'audit.jsonl');
      await mkdir(dirname(path), { recursive: true });
      const audit = new AuditLog(path);
      await audit.append({ actor: 'live', runbook: 'downshift', args: {}, plan: [], outcome: 'planned', detail: 'before' });
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, path], { stdio: 'ignore' });
      // Kill it once it has appended a few times, while live appenders run beside it.
      for (let waited = 0; (await audit.entries()).length < 3 + (t % 4) && waited < 20_000; waited += 20) await sleep(20);
      const live = Promise.all([0, 1, 2, 3].map(async (k) => {
        for (let i = 0; i < 3; i++) await audit.append({ actor: `live-${k}`, runbook: 'downshift', args: {}, plan: [], outcome: 'verified', detail: `live ${i}` });
      }));
      await sleep(t % 5);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      await live;
      await audit.append({ actor: 'live', runbook: 'downshift', args: {}, plan: [], outcome: 'planned', detail: 'after' });
      return audit.verify();
    };
    const results: Array<Awaited<ReturnType<typeof trial>>> = [];
    // Three trials at a time: every append fsyncs twice, and six tight appenders at once saturate a small disk.
    for (let batch = 0; batch < 30; batch += 3) results.push(...(await Promise.all(Array.from({ length: 3 }, (_, i) => trial(batch + i)))));
    assert.deepEqual(results.filter((r) => r !== null), [], 'every chain verifies');
  });

  it('archives a log written before it was keyed on its first keyed append, naming it; the new log verifies', async () => {
    const path = join(dir, 'legacy', 'audit.jsonl');
    await mkdir(dirname(path), { recursive: true });
    const body = { seq: 1, time: '2026-11-01T00:00:00Z', actor: 'ops', runbook: 'downshift', args: {}, plan: [], outcome: 'verified', detail: 'old', prev: '' };
    await writeFile(path, `${JSON.stringify({ ...body, hash: createHash('sha256').update(JSON.stringify(body)).digest('hex') })}\n`);
    const audit = new AuditLog(path);
    assert.match((await audit.verify())?.reason ?? '', /^not keyed/);
    await audit.append({ actor: 'ops', runbook: 'downshift', args: {}, plan: [], outcome: 'planned', detail: 'new' });
    const entries = await audit.entries();
    assert.deepEqual(entries.map((e) => e.outcome), ['recovered', 'planned']);
    assert.match(entries[0]!.detail, /the unkeyed log before this one \(1 entries, last hash [0-9a-f]{64}\) was archived as audit\.jsonl\.unkeyed-\d+/);
    assert.equal(await audit.verify(), null);
  });

  it('tolerates a torn last line: reads past it, reports it as torn, and the next append cuts it off and records that', async () => {
    const audit = new AuditLog(join(dir, 'torn.jsonl'));
    for (const outcome of ['started', 'verified'] as const) await audit.append({ actor: 'test', runbook: 'clear-cache', args: {}, plan: ['x'], outcome, detail: outcome });
    const whole = await readFile(audit.path, 'utf8');
    await writeFile(audit.path, `${whole}{"seq":3,"time":"2026-12-03T00:00:00Z","actor":"te`);
    assert.deepEqual((await audit.entries()).map((e) => e.seq), [1, 2]);
    assert.match((await audit.verify())?.reason ?? '', /^torn/);
    const next = await audit.append({ actor: 'test', runbook: 'clear-cache', args: {}, plan: ['y'], outcome: 'started', detail: 'next run' });
    assert.equal(await audit.verify(), null, 'the chain holds again');
    const entries = await audit.entries();
    assert.deepEqual(entries.map((e) => e.outcome), ['started', 'verified', 'recovered', 'started']);
    assert.match(entries[2]!.detail, /a torn last line \(\d+ bytes/);
    assert.equal(next.seq, 4);
  });

  it('takes over a lock whose holder dies while it waits its turn, however long it waited', async () => {
    const lock = new FileLock(join(dir, 'waited.lock'));
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 600)']);
    await writeFile(lock.path, JSON.stringify({ pid: child.pid, host: hostname(), runbook: 'audit: clear-cache', startedAt: new Date().toISOString() }));
    const held = await lock.acquire('audit: downshift', { waitMs: 5_000 });
    assert.equal(held.recovered?.pid, child.pid, 'recovered once the holder was gone');
    await held.release();
  });

  it("recovers the append lock a killed appender left, and records the recovery", async () => {
    const audit = new AuditLog(join(dir, 'stale-lock.jsonl'));
    const child = spawn(process.execPath, ['-e', '0']);
    await new Promise((r) => child.once('exit', r));
    await writeFile(`${audit.path}.lock`, JSON.stringify({ pid: child.pid, host: hostname(), runbook: 'audit: clear-cache', startedAt: '2026-12-03T00:00:00Z' }));
    const started = Date.now();
    await audit.append({ actor: 'test', runbook: 'downshift', args: {}, plan: [], outcome: 'planned', detail: 'after a crash' });
    assert.ok(Date.now() - started < 2_000, 'no wait for a holder that is gone');
    const entries = await audit.entries();
    assert.deepEqual(entries.map((e) => e.outcome), ['recovered', 'planned']);
    assert.match(entries[0]!.detail, new RegExp(`audit lock left by pid ${child.pid} on `));
    assert.equal(await audit.verify(), null);
  });
});

describe('nginx upstream rendering', () => {
  const instances = { stable: '127.0.0.1:8001', canary: '127.0.0.1:8002' };
  const template = 'upstream fragrance_ai {\n{{servers}}\n}\n';
  it('writes weights, and weight 0 as down (nginx rejects weight=0)', () => {
    const text = renderUpstream(template, instances, { stable: 100, canary: 0 });
    assert.match(text, /server 127\.0\.0\.1:8001 weight=100;/);
    assert.match(text, /server 127\.0\.0\.1:8002 down;/);
    assert.doesNotMatch(text, /weight=0/);
    assert.deepEqual(parseWeights(text, instances), { stable: 100, canary: 0 });
    assert.deepEqual(parseWeights(renderUpstream(template, instances, { stable: 50, canary: 50 }), instances), { stable: 50, canary: 50 });
  });
  it('refuses a template without the placeholder', () => {
    assert.throws(() => renderUpstream('upstream x {}', instances, { stable: 1, canary: 1 }), /\{\{servers\}\}/);
  });
});

describe('model pins', () => {
  it('reads the flat pins file and refuses a malformed one, naming the problem', async () => {
    const file = join(dir, 'pins.json');
    await writeFile(file, JSON.stringify({ qwen: '2.5.1', mistral: '0.3.1', llama: '3.1.1' }));
    assert.deepEqual(await readPins(file), { qwen: '2.5.1', mistral: '0.3.1', llama: '3.1.1' });
    await writeFile(file, JSON.stringify({ qwen: 'latest' }));
    await assert.rejects(readPins(file), /pins\.qwen: must be a version/);
    await writeFile(file, '{"qwen": ');
    await assert.rejects(readPins(file), /not JSON/);
  });

  it('holds the production policy as version → CID, and refuses a policy without a CID or an LLM with one', async () => {
    const file = join(dir, 'pins-policy.json');
    const cid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
    await writeFile(file, JSON.stringify({ qwen: '2.5.1', 'formulation-policy': { version: '1.0.0', cid } }));
    assert.deepEqual((await readPins(file))['formulation-policy'], { version: '1.0.0', cid });
    await writeFile(file, JSON.stringify({ 'formulation-policy': '1.0.0' }));
    await assert.rejects(readPins(file), /formulation-policy.*version alone/);
    await writeFile(file, JSON.stringify({ qwen: { version: '2.5.1', cid } }));
    await assert.rejects(readPins(file), /are pinned to a CID; a model.s pin is its version/);
    await writeFile(file, JSON.stringify({ 'formulation-policy': { version: '1.0.0', cid: 'not-a-cid' } }));
    await assert.rejects(readPins(file), /must be the CID/);
  });

  it('pin-update sets the policy pin (no serving process: the file only) and refuses bad flags naming them', async () => {
    const here = join(dir, 'pin-update-policy');
    await mkdir(here, { recursive: true });
    const pinsFile = join(here, 'model_pins.json');
    await writeFile(pinsFile, JSON.stringify({ qwen: '2.5.1' }));
    const deployment = parseDeployment({ stateDir: here, pinsFile, processes: [] }, here);
    const cid = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
    const result = await runNamed(deployment, 'pin-update', { model: 'formulation-policy', version: '1.2.0', cid }, {});
    assert.equal(result.outcome, 'verified');
    assert.deepEqual(JSON.parse(await readFile(pinsFile, 'utf8')), { qwen: '2.5.1', 'formulation-policy': { version: '1.2.0', cid } });
    await assert.rejects(runNamed(deployment, 'pin-update', { model: 'formulation-policy', version: '1.3.0', cid: 'nope' }, {}), (e: unknown) => e instanceof FaiError && e.field === '--cid');
    await assert.rejects(runNamed(deployment, 'pin-update', { model: 'qwen', version: '2.5.2', cid }, {}), (e: unknown) => e instanceof FaiError && e.field === '--cid');
    await assert.rejects(runNamed(deployment, 'pin-update', { model: 'gemma', version: '1.0.0' }, {}), (e: unknown) => e instanceof FaiError && e.field === '--model');
    const listed = await runNamed(deployment, 'pin-update', { list: true }, {});
    assert.ok(listed.plan.includes(`formulation-policy 1.2.0 (${cid})`), listed.plan.join('\n'));
  });
});
