import type { CreativeBrief } from '../llm/index.ts';
import type { BriefContext } from './composer.ts';
import type { FormulationEnv } from './environment.ts';

/** Briefs with their contexts, each prepared on first use and kept (a trainer draws the same brief many times). */
export class PreparedBriefs {
  private readonly contexts: Array<BriefContext | undefined>;

  constructor(
    private readonly env: FormulationEnv,
    readonly briefs: readonly CreativeBrief[],
  ) {
    this.contexts = new Array(briefs.length);
  }

  get length(): number {
    return this.briefs.length;
  }

  get(index: number): BriefContext {
    return (this.contexts[index] ??= this.env.prepare(this.briefs[index]!));
  }

  /** The first `count` briefs (sharing the contexts already prepared). */
  slice(count: number): PreparedBriefs {
    const out = new PreparedBriefs(this.env, this.briefs.slice(0, count));
    for (let i = 0; i < Math.min(count, this.contexts.length); i++) out.contexts[i] = this.contexts[i];
    return out;
  }

  *[Symbol.iterator](): IterableIterator<BriefContext> {
    for (let i = 0; i < this.briefs.length; i++) yield this.get(i);
  }
}

/** Briefs as a trainer takes them: prepared, or plain (prepared here, each on first use). */
export type BriefPool = PreparedBriefs | readonly CreativeBrief[];

export function asPrepared(env: FormulationEnv, briefs: BriefPool): PreparedBriefs {
  return briefs instanceof PreparedBriefs ? briefs : new PreparedBriefs(env, briefs);
}
