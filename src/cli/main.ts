import { Command, CommanderError, Option } from 'commander';
import { DEFAULT_EPISODES, DEFAULT_SEED } from '../learning/default-training.ts';
import { commands, DEFAULT_URL } from './command-modules.ts';
import { port, positive } from './option-parsers.ts';
import { ExitCodes, reportError } from './exit-codes.ts';
import { addOperationsCommands } from './operations-commands.ts';


export function buildProgram(): Command {
  const program = new Command('fai')
    .description('Fragrance AI: customer text to compliant perfume formula, and the operations layer around it.')
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    // Options after a verb belong to that verb: `fai runbook pin-update --version 2.5.2` is the pin, not fai's version.
    .enablePositionalOptions()
    .exitOverride();

  program
    .command('serve')
    .description('run the HTTP service (metrics on /metrics, health on /health) on its embedded defaults')
    .option('-p, --port <port>', 'port to listen on (env PORT, default 8000)')
    .option('--host <host>', 'address to bind (env HOST, default 127.0.0.1)')
    .action(async (options: { port?: string; host?: string }) => {
      await (await commands.serve()).serve(options);
    });

  program
    .command('health')
    .description('ask a running service for its component health and the thresholds-table verdicts')
    .addOption(new Option('--url <url>', 'service base URL (env FAI_URL)').default(DEFAULT_URL))
    .option('--timeout <ms>', 'give up after this many milliseconds', '5000')
    .option('--json', 'print the two reports as JSON')
    .addHelpText('after', '\nExit codes: 0 OK, 1 WARNING or degraded, 2 CRITICAL or unhealthy, 69 service unreachable, 75 timeout.')
    .action(async (options: { url: string; timeout: string; json?: boolean }) => {
      process.exitCode = await (await commands.health()).health(options);
    });

  program
    .command('brief')
    .description('turn a description of a scent into a CreativeBrief (LLM slots from LLM_*_URL; the local model without them)')
    .argument('<TEXT>', 'what the customer wants, in Korean or English')
    .addOption(new Option('--mode <mode>', 'fast, balanced or creative (default: the routing rule picks)').choices(['fast', 'balanced', 'creative']))
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nExamples:\n  fai brief "여름 바다 느낌, 상큼하고 가벼운 향. 바닐라는 싫어요"\n  fai brief "a warm amber for winter evenings, no musk" --json')
    .action(async (text: string, options: { mode?: string; json?: boolean }) => {
      process.exitCode = await (await commands.brief()).briefCommand(text, options);
    });

  /** Local training writes --out; --submit has the service train instead, off its request path. */
  const trainingOptions = (command: Command, out: string, submit: string) =>
    command
      .option('--json', 'print the summary as JSON')
      .option('--hidden <n>', 'hidden units of the policy (of the teacher, with distill); default that of the shipped teacher', positive('--hidden'))
      .option('--out <file>', out)
      .option('--submit', submit)
      .option('--detach', 'with --submit: print the job id once queued instead of following it')
      .option('--url <url>', 'with --submit: the service (env FAI_URL)', DEFAULT_URL)
      .option('--timeout <ms>', 'with --submit: give up on a service call after this many milliseconds', '10000');
  trainingOptions(
    program
      .command('train')
      .description('train a formulation policy on the shipped training briefs: PPO, REINFORCE, or the hybrid loop (PPO + evolutionary search)')
      .addOption(new Option('--algo <algo>', 'learning algorithm').choices(['reinforce', 'ppo', 'hybrid']).default('reinforce'))
      .option('--episodes <n>', 'episodes to train', positive('--episodes'), 4000)
      .option('--seed <n>', 'seed: same seed, same result', positive('--seed'), 7)
      .option('--from-feedback', 'replay the customer feedback stored in the hub as a reward term (HUB_DIR / REDIS_URL; with --submit, the service\'s hub)'),
    'write the trained policy to this file as a checkpoint (then: fai hub put checkpoint FILE)',
    'have the service train it off its request path (its worker thread, or a fai worker when it has REDIS_URL); prints the checkpoint CID',
  ).action(async (options) => {
    process.exitCode = await (await commands.train()).trainCommand(options);
  });

  program
    .command('worker')
    .description('take training jobs from the BullMQ queue on REDIS_URL (jobs come from POST /v1/training/jobs or fai train --submit)')
    .option('--progress-ms <ms>', 'least time between two progress reports (with their metric updates)', positive('--progress-ms'), 500)
    .option('--metrics-port <port>', "port of this worker's own /metrics (on HOST); 0: none", port('--metrics-port'), 9464)
    .action(async (options: { progressMs: number; metricsPort: number }) => {
      await (await commands.worker()).workerCommand(options);
    });

  program
    .command('eval')
    .description('mean return of a checkpointed policy on the training briefs, with a 95 % confidence interval over fixed seeds')
    .requiredOption('--checkpoint <file>', 'a checkpoint written by fai train --out (or fetched with fai hub get --out)')
    .option('--seeds <n>', 'seeds 1..n, 40 episodes each', positive('--seeds'), 10)
    .option('--json', 'print the result as JSON')
    .action(async (options: { checkpoint: string; seeds: number; json?: boolean }) => {
      process.exitCode = await (await commands.train()).evalCommand(options);
    });

  trainingOptions(
    program
      .command('distill')
      .description('train a PPO teacher, distil a smaller student, report KL(teacher ‖ student), reward retention and speed-up')
      .option('--episodes <n>', 'teacher training episodes', positive('--episodes'), 4000)
      .option('--seed <n>', 'seed', positive('--seed'), 7),
    'write the student to this file as a checkpoint',
    'have the service do it off its request path; prints the student and teacher checkpoint CIDs',
  ).action(async (options) => {
    process.exitCode = await (await commands.train()).distillCommand(options);
  });

  program
    .command('check-formula')
    .description('check a formula against IFRA Standards and EU allergen rules (JSON or CSV file; no service needed)')
    .argument('<FILE>', 'JSON {formula: [{material, concentrationPct}], category, dosagePct, exposure?} or CSV with material,concentration_pct')
    .option('--category <id>', 'IFRA product category, e.g. 4 (fine fragrance) or 5A (required for CSV)')
    .option('--dosage <pct>', '% of the concentrate in the finished product, e.g. 15 for an EDP (required for CSV)')
    .addOption(new Option('--exposure <kind>', 'allergen labelling threshold to apply (default from the category)').choices(['leave-on', 'rinse-off']))
    .option('--strict', 'fail on unknown materials, unsourced limits and warnings (> 80% of a limit)')
    .option('--json', 'print the full result as JSON')
    .addHelpText('after', '\nExit codes: 0 PASS, 1 WARNING or UNKNOWN, 2 FAIL, 64 bad input.\nExample: fai check-formula examples/edp-fresh-citrus.json')
    .action(async (file: string, options: { category?: string; dosage?: string; exposure?: string; strict?: boolean; json?: boolean }) => {
      process.exitCode = await (await commands.checkFormula()).checkFormulaFile(file, options);
    });

  program
    .command('formulate')
    .description('the customer\'s words → a formula sheet from the pinned production policy (the same path as POST /v1/formulas, in this process)')
    .argument('<TEXT>', 'what the customer wants, in Korean or English')
    .option('--html <file>', 'also write the formula sheet page (with the pyramid) to this file')
    .option('--dosage <pct>', "the concentrate's % of the finished product (default: the product's usual dosage, product-dosage.csv)")
    .option('--json', 'print everything POST /v1/formulas answers, as JSON')
    .addHelpText('after', '\nExamples:\n  fai formulate "a fresh green tea scent for summer, no musk"\n  fai formulate "장미와 일랑일랑, 로맨틱한 여성 향수" --html sheet.html\n  fai formulate "a lavender body lotion" --dosage 0.5')
    .action(async (text: string, options: { json?: boolean; html?: string; dosage?: string }) => {
      process.exitCode = await (await commands.formulate()).formulateCommand(text, options);
    });

  program
    .command('train-default')
    .description('reproduce the shipped teacher and student (models/) from their seed and pin them (make train-default)')
    .option('--episodes <n>', 'PPO episodes of the teacher', positive('--episodes'), DEFAULT_EPISODES)
    .option('--seed <n>', 'seed', positive('--seed'), DEFAULT_SEED)
    .option('--dir <dir>', 'where the checkpoints go', 'models')
    .option('--no-pin', 'leave configs/model_pins.json as it is')
    .option('--json', 'print the result as JSON')
    .action(async (options: { episodes: number; seed: number; dir: string; pin: boolean; json?: boolean }) => {
      process.exitCode = await (await commands.trainDefault()).trainDefaultCommand(options);
    });

  program
    .command('ifra-certificate')
    .description('the IFRA Certificate of Conformity of a concentrate: its maximum dosage in each of the 18 IFRA categories (no service needed)')
    .argument('<FILE>', 'the same file as check-formula: JSON {formula: [{material, concentrationPct}], name?} or CSV with material,concentration_pct')
    .option('--name <name>', 'the formula\'s name printed on the certificate (or "name" in the JSON file)')
    .option('--html <file>', 'also write the printable A4 page to this file')
    .option('--json', 'print the certificate as JSON')
    .addHelpText('after', '\nExit codes: 0 certificate written, 64 bad input.\nExample: fai ifra-certificate examples/edp-fresh-citrus.json --html certificate.html')
    .action(async (file: string, options: { name?: string; html?: string; json?: boolean }) => {
      process.exitCode = await (await commands.ifraCertificate()).certificateFile(file, options);
    });

  addOperationsCommands(program);

  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, with exit code 0; commander has printed its message.
      process.exitCode = error.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
      return;
    }
    process.exitCode = reportError(error);
  }
}

await main(process.argv);
