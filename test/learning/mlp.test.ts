import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Mlp, Random, softmax } from '../../src/learning/index.ts';

/** Loss for the check: −log softmax(output)[target] — what the policy gradient differentiates. */
function loss(net: Mlp, x: Float32Array, target: number): number {
  return -Math.log(softmax(net.forward(x).at(-1)!)[target]!);
}

describe('Mlp (hand-written: backward pass checked against finite differences)', () => {
  it('matches central differences for every weight and bias of a small net', () => {
    const random = new Random(3);
    const net = new Mlp([5, 4, 3], random);
    const x = Float32Array.from({ length: 5 }, () => random.normal());
    const target = 2;
    const grads = net.gradients();
    const activations = net.forward(x);
    const p = softmax(activations.at(-1)!);
    const outputGrad = Float32Array.from(p, (v, i) => v - (i === target ? 1 : 0));
    net.backward(activations, outputGrad, grads);
    const h = 1e-2;
    let worst = 0;
    const params = [...net.weights, ...net.biases];
    const analytic = [...grads.w, ...grads.b];
    params.forEach((param, k) => {
      for (let i = 0; i < param.length; i++) {
        const saved = param[i]!;
        param[i] = saved + h;
        const up = loss(net, x, target);
        param[i] = saved - h;
        const down = loss(net, x, target);
        param[i] = saved;
        const numeric = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(numeric - analytic[k]![i]!) / Math.max(1e-3, Math.abs(numeric) + Math.abs(analytic[k]![i]!)));
      }
    });
    assert.ok(worst < 0.02, `worst relative error ${worst}`);
  });

  it('descends: Adam steps on a fixed target lower the loss', () => {
    const random = new Random(9);
    const net = new Mlp([6, 8, 4], random);
    const x = Float32Array.from({ length: 6 }, () => random.normal());
    const before = loss(net, x, 1);
    for (let step = 0; step < 50; step++) {
      const grads = net.gradients();
      const activations = net.forward(x);
      const p = softmax(activations.at(-1)!);
      net.backward(activations, Float32Array.from(p, (v, i) => v - (i === 1 ? 1 : 0)), grads);
      net.adam(grads, 0.05);
    }
    assert.ok(loss(net, x, 1) < before / 4, `${before} → ${loss(net, x, 1)}`);
  });

  it('infers with logits the same output as forward, into a buffer it reuses (an action head included)', () => {
    const random = new Random(5);
    const net = new Mlp([4, 6, 3], random, { inputSize: 10, actionFeatures: [4, 7] });
    net.head.set([0.5, -1.25]);
    const inputs = [0, 1, 2].map(() => Float32Array.from({ length: 10 }, () => random.normal()));
    let previous: Float32Array | undefined;
    for (const x of inputs) {
      const logits = net.logits(x);
      assert.deepEqual([...logits], [...net.forward(x).at(-1)!]);
      if (previous !== undefined) assert.equal(logits, previous, 'the same buffer each call');
      previous = logits;
    }
  });

  it('is deterministic given a seed', () => {
    const a = new Mlp([3, 3, 2], new Random(1));
    const b = new Mlp([3, 3, 2], new Random(1));
    assert.deepEqual(a.weights, b.weights);
  });
});
