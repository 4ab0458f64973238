import type { Random } from './random.ts';

/**
 * A small multilayer perceptron on Float32Arrays, with tanh hidden layers and a linear output,
 * trained with Adam. Hand-written rather than TensorFlow.js: measured on this machine, tfjs' CPU
 * backend takes ~54 ms per Adam step and 0.38 ms per inference for a net this size, a plain
 * Float32Array forward pass ~0.1 ms; a policy needs thousands of cheap steps. The tests check the
 * backward pass against finite differences.
 *
 * The input may be longer than the first layer (`inputSize`): the first layer reads its first
 * sizes[0] numbers. An optional **action head**: when the input holds one block of per-output features (a block of
 * `outputs` numbers starting at each offset of `actionFeatures`), output o also gets
 * Σₖ head[k] × input[actionFeatures[k] + o] — the same weight for every output, so what the net
 * learns about one material's features holds for every material (a policy over 170 materials
 * learns "pick what fits the brief" once, not 170 times). Zero at initialisation: an untrained
 * net is the plain MLP.
 */
export class Mlp {
  readonly sizes: readonly number[];
  readonly weights: Float32Array[];
  readonly biases: Float32Array[];
  /** Offsets in the input of the per-output feature blocks the action head reads (empty: no head). */
  readonly actionFeatures: readonly number[];
  /** Length of the input vector: the first layer reads its first sizes[0] numbers, the action head its blocks. */
  readonly inputSize: number;
  readonly head: Float32Array;
  /** Adam's moments, allocated by the first step: a net loaded for inference holds none. */
  private moments: { m: Float32Array[]; v: Float32Array[]; mb: Float32Array[]; vb: Float32Array[]; mh: Float32Array; vh: Float32Array } | undefined;
  private step = 0;

  constructor(sizes: readonly number[], random: Random, options: { actionFeatures?: readonly number[]; inputSize?: number } = {}) {
    this.sizes = sizes;
    this.actionFeatures = options.actionFeatures ?? [];
    this.inputSize = options.inputSize ?? sizes[0]!;
    const outputs = sizes.at(-1)!;
    if (!Number.isInteger(this.inputSize) || this.inputSize < sizes[0]!) throw new RangeError(`an input of ${this.inputSize} is shorter than the first layer's ${sizes[0]}`);
    for (const offset of this.actionFeatures) {
      if (!Number.isInteger(offset) || offset < 0 || offset + outputs > this.inputSize) throw new RangeError(`action feature block at ${offset} does not fit an input of ${this.inputSize}`);
    }
    this.head = new Float32Array(this.actionFeatures.length);
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
  }

  /** Forward pass; returns every layer's activations (input first, output last). */
  forward(input: Float32Array): Float32Array[] {
    const activations: Float32Array[] = [input];
    this.pass(input, (l) => {
      const y = new Float32Array(this.sizes[l + 1]!);
      activations.push(y);
      return y;
    });
    return activations;
  }

  /** Per-layer buffers `logits` writes into, allocated on its first call (a net used only in training holds none). */
  private scratch: Float32Array[] | undefined;

  /**
   * The output alone, for inference: the same numbers as `forward(input).at(-1)`, written into
   * buffers this net keeps, so serving a formula allocates nothing per step. The array returned is
   * overwritten by the next call: read it before calling again.
   */
  logits(input: Float32Array): Float32Array {
    const scratch = (this.scratch ??= this.sizes.slice(1).map((size) => new Float32Array(size)));
    return this.pass(input, (l) => scratch[l]!);
  }

  /** The layers, then the action head, each layer's activations written into `bufferOf(layer)`; returns the output. */
  private pass(input: Float32Array, bufferOf: (layer: number) => Float32Array): Float32Array {
    let x = input;
    const last = this.weights.length - 1;
    for (let l = 0; l <= last; l++) {
      const w = this.weights[l]!;
      const b = this.biases[l]!;
      const inSize = this.sizes[l]!;
      const y = bufferOf(l);
      for (let o = 0; o < y.length; o++) {
        let sum = b[o]!;
        const row = o * inSize;
        for (let i = 0; i < inSize; i++) sum += w[row + i]! * x[i]!;
        y[o] = l < last ? Math.tanh(sum) : sum;
      }
      x = y;
    }
    for (let k = 0; k < this.head.length; k++) {
      const h = this.head[k]!;
      if (h === 0) continue;
      const offset = this.actionFeatures[k]!;
      for (let o = 0; o < x.length; o++) x[o]! += h * input[offset + o]!;
    }
    return x;
  }

  /** Zeroed gradient buffers shaped like the parameters. */
  gradients(): Gradients {
    return { w: this.weights.map((w) => new Float32Array(w.length)), b: this.biases.map((b) => new Float32Array(b.length)), h: new Float32Array(this.head.length) };
  }

  /** Adds to `grads` the gradient of a loss whose derivative with respect to the output is `outputGrad`. */
  backward(activations: Float32Array[], outputGrad: Float32Array, grads: Gradients): void {
    const input = activations[0]!;
    for (let k = 0; k < this.head.length; k++) {
      const offset = this.actionFeatures[k]!;
      let sum = 0;
      for (let o = 0; o < outputGrad.length; o++) sum += outputGrad[o]! * input[offset + o]!;
      grads.h[k]! += sum;
    }
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

  /**
   * One Adam step descending `grads` (scaled by 1/batch). `headLearningRate` (default: the same)
   * lets the action head move at its own pace: a wide trunk sums many units into each output, so it
   * needs a smaller step than the head's few shared weights.
   */
  adam(grads: Gradients, learningRate: number, batch = 1, headLearningRate = learningRate, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8): void {
    this.moments ??= {
      m: this.weights.map((w) => new Float32Array(w.length)),
      v: this.weights.map((w) => new Float32Array(w.length)),
      mb: this.biases.map((b) => new Float32Array(b.length)),
      vb: this.biases.map((b) => new Float32Array(b.length)),
      mh: new Float32Array(this.head.length),
      vh: new Float32Array(this.head.length),
    };
    const { m: ms, v: vs, mb, vb, mh, vh } = this.moments;
    this.step++;
    const c1 = 1 - beta1 ** this.step;
    const c2 = 1 - beta2 ** this.step;
    const update = (params: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, rate = learningRate) => {
      for (let i = 0; i < params.length; i++) {
        const gi = g[i]! / batch;
        m[i] = beta1 * m[i]! + (1 - beta1) * gi;
        v[i] = beta2 * v[i]! + (1 - beta2) * gi * gi;
        params[i]! -= (rate * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
      }
    };
    for (let l = 0; l < this.weights.length; l++) {
      update(this.weights[l]!, grads.w[l]!, ms[l]!, vs[l]!);
      update(this.biases[l]!, grads.b[l]!, mb[l]!, vb[l]!);
    }
    update(this.head, grads.h, mh, vh, headLearningRate);
  }
}

export interface Gradients {
  readonly w: Float32Array[];
  readonly b: Float32Array[];
  readonly h: Float32Array;
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
