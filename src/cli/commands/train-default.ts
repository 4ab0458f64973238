import { resolve } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { DEFAULT_EPISODES, DEFAULT_SEED, trainDefaultModels } from '../../learning/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { progressBar } from '../progress.ts';

/** `fai train-default`: reproduces the shipped teacher and student (models/) from their seed, and pins them. */
export async function trainDefaultCommand(options: { episodes: number; seed: number; dir: string; pin: boolean; json?: boolean }, write: (text: string) => void = (t) => process.stdout.write(t)): Promise<number> {
  const config = loadConfig();
  const bar = progressBar(options.episodes, 'episodes');
  const result = await trainDefaultModels({
    dir: resolve(options.dir),
    episodes: options.episodes,
    seed: options.seed,
    ...(options.pin ? { pinsFile: config.pinsFile } : {}),
    onProgress: (p) => bar(Math.min(p.episodes, options.episodes), `MA100 ${p.ma100.toFixed(2)}`),
  });
  if (options.json) write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const e = result.summary.evaluation;
    const d = result.summary.distillation!;
    write(
      [
        `teacher ${result.teacher.cid} (${result.teacher.bytes} bytes) → ${result.teacher.file}`,
        `student ${result.student.cid} (${result.student.bytes} bytes) → ${result.student.file}`,
        `held-out mean return: teacher ${e.heldOut.mean} ± ${e.heldOut.ci95}, student ${e.student?.heldOut.mean} ± ${e.student?.heldOut.ci95} (composer alone ${e.composerAlone.mean} ± ${e.composerAlone.ci95}); training ${e.training.mean} ± ${e.training.ci95}`,
        `distillation: retention ${d.retention}, KL on held-out ${d.klHeldOut}, inference ×${d.speedup}`,
        options.pin ? `pinned in ${config.pinsFile}` : 'not pinned (--no-pin)',
        '',
      ].join('\n'),
    );
  }
  return ExitCodes.OK;
}

export { DEFAULT_EPISODES, DEFAULT_SEED };
