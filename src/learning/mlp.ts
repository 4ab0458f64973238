import type { Random } from './random.ts';

/**
 * A small multilayer perceptron on Float32Arrays, with tanh hidden layers and a linear output,
 * trained with Adam. Hand-written rather than TensorFlow.js: measured on this machine, tfjs' CPU
 * backend takes ~54 ms per Adam step and 0.38 ms per inference for a net this size, a plain
 * Float32Array forward pass ~0.1 ms; a policy needs thousands of cheap steps. The tests check the
 * backward pass against finite differences.
 */
export class Mlp {
  readonly sizes: readonly number[];
  readonly weights: Float32Array[];
  readonly biases: Float32Array[];
  private readonly m: Float32Array[];
  private readonly v: Float32Array[];
  private readonly mb: Float32Array[];
  private readonly vb: Float32Array[];
  private step = 0;

  constructor(sizes: readonly number[], random: Random) {
    this.sizes = sizes;
    this.weights = [];
    this.biases = [];
    for (let l = 0; l < sizes.length - 1; l++) {
      const fanIn = sizes[l]!;
      const fanOut = sizes[l + 1]!;
      const w = new Float32Array(fanIn * fanOut);
      const scale = Math.sqrt(1 / fanIn);
      for (let i = 0; i < w.length; i++) w[i] = random.normal() * scale;
      this.weights.push(w);
      this.biases.push(new Float32Array(fanOut));
    }
    this.m = this.weights.map((w) => new Float32Array(w.length));
    this.v = this.weights.map((w) => new Float32Array(w.length));
    this.mb = this.biases.map((b) => new Float32Array(b.length));
    this.vb = this.biases.map((b) => new Float32Array(b.length));
  }

  /** Forward pass; returns every layer's activations (input first, output last). */
  forward(input: Float32Array): Float32Array[] {
    const activations: Float32Array[] = [input];
    let x = input;
    for (let l = 0; l < this.weights.length; l++) {
      const w = this.weights[l]!;
      const b = this.biases[l]!;
      const inSize = this.sizes[l]!;
      const outSize = this.sizes[l + 1]!;
      const y = new Float32Array(outSize);
      for (let o = 0; o < outSize; o++) {
        let sum = b[o]!;
        const row = o * inSize;
        for (let i = 0; i < inSize; i++) sum += w[row + i]! * x[i]!;
        y[o] = l < this.weights.length - 1 ? Math.tanh(sum) : sum;
      }
      activations.push(y);
      x = y;
    }
    return activations;
  }

  /** Zeroed gradient buffers shaped like the parameters. */
  gradients(): { w: Float32Array[]; b: Float32Array[] } {
    return { w: this.weights.map((w) => new Float32Array(w.length)), b: this.biases.map((b) => new Float32Array(b.length)) };
  }

  /** Adds to `grads` the gradient of a loss whose derivative with respect to the output is `outputGrad`. */
  backward(activations: Float32Array[], outputGrad: Float32Array, grads: { w: Float32Array[]; b: Float32Array[] }): void {
    let delta = outputGrad;
    for (let l = this.weights.length - 1; l >= 0; l--) {
      const inSize = this.sizes[l]!;
      const outSize = this.sizes[l + 1]!;
      const x = activations[l]!;
      const w = this.weights[l]!;
      const gw = grads.w[l]!;
      const gb = grads.b[l]!;
      const previous = l > 0 ? new Float32Array(inSize) : null;
      for (let o = 0; o < outSize; o++) {
        const d = delta[o]!;
        if (d === 0) continue;
        gb[o]! += d;
        const row = o * inSize;
        for (let i = 0; i < inSize; i++) {
          gw[row + i]! += d * x[i]!;
          if (previous !== null) previous[i]! += d * w[row + i]!;
        }
      }
      if (previous !== null) {
        // Through tanh: d tanh(z)/dz = 1 - tanh(z)^2, and x holds tanh(z).
        for (let i = 0; i < inSize; i++) previous[i]! *= 1 - x[i]! * x[i]!;
        delta = previous;
      }
    }
  }

  /** One Adam step descending `grads` (scaled by 1/batch). */
  adam(grads: { w: Float32Array[]; b: Float32Array[] }, learningRate: number, batch = 1, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): void {
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    const update = (params: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array) => {
      for (let i = 0; i < params.length; i++) {
        const gi = g[i]! / batch;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
        params[i]! -= (learningRate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
      }
    };
    for (let l = 0; l < this.weights.length; l++) {
      update(this.weights[l]!, grads.w[l]!, this.m[l]!, this.v[l]!);
      update(this.biases[l]!, grads.b[l]!, this.mb[l]!, this.vb[l]!);
    }
  }
}

/** Softmax of logits, numerically stable. */
export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const x of logits) if (x > max) max = x;
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}
