import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_EPISODES, DEFAULT_SEED } from '../learning/default-training.ts';
import { STAGES } from '../shadow/log.ts';
import { ExitCodes, reportError } from './exit-codes.ts';

/**
 * Each command's module, loaded when the command runs: checking a file loads the regulation code and
 * nothing else (not Fastify, BullMQ or the learning code), so `fai check-formula` starts fast.
 */
const commands = {
  brief: () => import('./commands/brief.ts'),
  train: () => import('./commands/train.ts'),
  checkFormula: () => import('./commands/check-formula.ts'),
  ifraCertificate: () => import('./commands/ifra-certificate.ts'),
  formulate: () => import('./commands/formulate.ts'),
  trainDefault: () => import('./commands/train-default.ts'),
  health: () => import('./commands/health.ts'),
  hub: () => import('./commands/hub.ts'),
  ops: () => import('./commands/ops.ts'),
  runbook: () => import('./commands/runbook.ts'),
  deploy: () => import('./commands/deploy.ts'),
  serve: () => import('./commands/serve.ts'),
  worker: () => import('./commands/worker.ts'),
  shadow: () => import('./commands/shadow.ts'),
  canary: () => import('./commands/canary.ts'),
  remediation: () => import('./commands/remediation.ts'),
};

const DEFAULT_URL = process.env.FAI_URL ?? 'http://127.0.0.1:8000';

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

  const positive = (flag: string) => (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError(`${flag} must be a whole number ≥ 1`);
    return Number(value);
  };
  const port = (flag: string) => (value: string) => {
    if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new InvalidArgumentError(`${flag} must be a port number 0–65535`);
    return Number(value);
  };
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

  const hub = program.command('hub').description('store and fetch recipes, feedback and checkpoints in the Cloud Hub of a running service');
  const withService = (command: Command) =>
    command
      .addOption(new Option('--url <url>', 'service base URL (env FAI_URL)').default(DEFAULT_URL))
      .option('--timeout <ms>', 'give up after this many milliseconds', '30000')
      .option('--json', 'print JSON');
  withService(hub.command('put').description('store an object; prints its CID').argument('<TYPE>', 'recipe, feedback or checkpoint').argument('<FILE>', 'JSON for recipe and feedback, any bytes for checkpoint'))
    .option('--tags <list>', 'comma-separated tags')
    .action(async (type: string, file: string, options) => {
      process.exitCode = await (await commands.hub()).hubPut(type, file, options);
    });
  withService(hub.command('get').description('fetch an object by CID, verified against it').argument('<CID>'))
    .option('--out <file>', 'write to this file (required for a checkpoint)')
    .action(async (cid: string, options) => {
      process.exitCode = await (await commands.hub()).hubGet(cid, options);
    });
  withService(hub.command('pin').description('keep an object from expiring and from gc').argument('<CID>')).action(async (cid: string, options) => {
    process.exitCode = await (await commands.hub()).hubPin(cid, true, options);
  });
  withService(hub.command('unpin').description('let a pinned object expire again').argument('<CID>')).action(async (cid: string, options) => {
    process.exitCode = await (await commands.hub()).hubPin(cid, false, options);
  });
  withService(hub.command('ls').description('list objects of a type, newest first'))
    .addOption(new Option('--type <type>', 'recipe, feedback, checkpoint or shadow').choices(['recipe', 'feedback', 'checkpoint', 'shadow']).makeOptionMandatory())
    .option('--limit <n>', 'at most this many', '100')
    .action(async (options) => {
      process.exitCode = await (await commands.hub()).hubList(options);
    });
  withService(hub.command('gc').description('remove blocks that no live object reaches')).action(async (options) => {
    process.exitCode = await (await commands.hub()).hubGc(options);
  });

  const ops = program.command('ops').description('observability as code: Prometheus rules, Alertmanager routes, Grafana dashboards');
  ops
    .command('generate')
    .description('write deploy/prometheus, deploy/alertmanager and deploy/grafana from the metric catalogue and the thresholds table')
    .option('--check', 'write nothing; exit 1 listing the files that differ from a fresh generation')
    .option('--root <dir>', 'repository root to write under', '.')
    .action(async (options: { check?: boolean; root: string }) => {
      process.exitCode = await (await commands.ops()).opsGenerate(options);
    });
  ops
    .command('monitor')
    .description('run Prometheus and Alertmanager (Debian packages) against a local service with the generated rules, until Ctrl-C')
    .option('--service <host:port>', 'the service to scrape', '127.0.0.1:8000')
    .option('--prometheus-port <port>', 'Prometheus web port', '9090')
    .option('--alertmanager-port <port>', 'Alertmanager web port', '9093')
    .option('--dir <dir>', 'where configs and data go', 'data/monitor')
    .option('--rules <file>', 'the rule file', 'deploy/prometheus/rules.yml')
    .action(async (options: { service: string; prometheusPort: string; alertmanagerPort: string; dir: string; rules: string }) => {
      process.exitCode = await (await commands.ops()).opsMonitor(options);
    });

  const runbook = program
    .command('runbook')
    .enablePositionalOptions()
    .description('operations runbooks: plan → apply → verify → undo, locked and audited (deployment: configs/deployment.json or FAI_DEPLOYMENT)');
  runbook
    .command('list')
    .description('each runbook, what it does, whether it is destructive')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      process.exitCode = await (await commands.runbook()).runbookList(options);
    });
  runbook
    .command('audit')
    .description('the audit log of runbook runs')
    .option('--verify', 'check the HMAC chain (AUDIT_KEY) and the recorded head; exit 2 naming the first bad entry')
    .option('--head <seq:hash>', 'with --verify: the head the service logged ("audit head #SEQ HASH"), when there is no Redis', (value: string) => {
      const match = /^#?(\d+):([0-9a-f]{64})$/.exec(value.trim());
      if (match === null) throw new InvalidArgumentError('--head must be SEQ:HASH (the sequence and the 64-hex hash of an "audit head" log line)');
      return { seq: Number(match[1]), hash: match[2]! };
    })
    .option('--cluster [count]', "every host's runs, from the audit stream in the deployment's Redis (the last COUNT, default 100)", (value: string) => {
      const count = Number(value);
      if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new InvalidArgumentError('--cluster takes a whole number of entries from 1 to 100000');
      return count;
    })
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean; verify?: boolean; head?: { seq: number; hash: string }; cluster?: number | true }) => {
      process.exitCode = await (await commands.runbook()).runbookAudit({ ...options, cluster: options.cluster === true ? 100 : options.cluster });
    });
  const common = (command: Command) => command.option('--dry-run', 'print the plan and change nothing').option('--yes', 'confirm a destructive runbook').option('--json', 'print the result as JSON');
  const integer = (flag: string) => (value: string) => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a whole number`);
    return Number(value);
  };
  common(runbook.command('downshift').description('move traffic between stable and canary: render the nginx upstream, nginx -t, reload, verify the split'))
    .option('--canary <pct>', '% of traffic to the canary', integer('--canary'), 50)
    .option('--samples <n>', 'requests sent through nginx to verify the split', integer('--samples'), 200)
    .option('--mode <mode>', 'instead: force the brief layer to downshift this mode (creative or balanced) on every serving instance')
    .option('--ttl <seconds>', 'with --mode: the forced downshift lapses after this long unless forced again (default: until --clear)', integer('--ttl'))
    .option('--clear', 'with --mode: lift the forced downshift')
    .action(async (options) => {
      if (options.ttl !== undefined && options.mode === undefined) throw new InvalidArgumentError('--ttl needs --mode');
      const mode = options.mode === undefined ? {} : { mode: options.mode, clear: options.clear ?? false, ...(options.ttl === undefined ? {} : { ttl: options.ttl }) };
      process.exitCode = await (await commands.runbook()).runbookRun('downshift', { canary: options.canary, samples: options.samples, ...mode }, options);
    });
  common(runbook.command('canary-promote').description('check the canary, send it 100% of traffic, mark the old stable down, record the release'))
    .option('--samples <n>', 'requests sent through nginx to verify', integer('--samples'), 200)
    .option('--release <label>', 'version label recorded in the release history (default canary-<time>)')
    .option('--window <seconds>', 'the canary analysis looks this far back (needs deployment.prometheus)', integer('--window'), 600)
    .action(async (options) => {
      process.exitCode = await (await commands.runbook()).runbookRun('canary-promote', { samples: options.samples, window: options.window, ...(options.release === undefined ? {} : { release: options.release }) }, options);
    });
  common(runbook.command('pin-update').description('set a model pin in configs/model_pins.json, validated and written atomically'))
    .option('--model <name>', 'qwen, mistral, llama, formulation-policy, …')
    .option('--version <version>', 'e.g. 2.5.2')
    .option('--cid <cid>', 'formulation-policy only: the Cloud Hub CID of that version\'s checkpoint')
    .option('--list', 'show the pins')
    .action(async (options) => {
      process.exitCode = await (await commands.runbook()).runbookRun('pin-update', { model: options.model, version: options.version, ...(options.cid === undefined ? {} : { cid: options.cid }), list: options.list ?? false }, options);
    });
  common(runbook.command('shadow-eval').description('offline shadow evaluation: production, teacher and student on a brief set; both reports'))
    .option('--stage <stage>', 'development, staging, production or incident', 'staging')
    .option('--samples <n>', 'comparisons', integer('--samples'), 50)
    .option('--train-episodes <n>', 'teacher episodes when teacher and student are not pinned', integer('--train-episodes'), 4000)
    .option('--out <dir>', 'where both reports go (default: SHADOW_DIR/reports)')
    .action(async (options) => {
      process.exitCode = await (await commands.runbook()).runbookRun('shadow-eval', { stage: options.stage, samples: options.samples, trainEpisodes: options.trainEpisodes, ...(options.out === undefined ? {} : { out: options.out }) }, options);
    });
  common(runbook.command('regulation-strict').description('force strict regulation mode on every serving instance; --clear lifts it'))
    .option('--clear', 'lift the forced strict mode')
    .action(async (options) => {
      process.exitCode = await (await commands.runbook()).runbookRun('regulation-strict', { clear: options.clear ?? false }, options);
    });
  common(runbook.command('restart-workers').description('restart the workers one at a time, each healthy before the next (destructive: --yes)'))
    .addOption(new Option('--model <slot>', 'instead: the LLM servers of this slot (deployment processes with role llm), as HighWorkerVRAM asks').choices(['qwen', 'mistral', 'llama']))
    .action(async (options) => {
      process.exitCode = await (await commands.runbook()).runbookRun('restart-workers', options.model === undefined ? {} : { model: options.model }, options);
    });
  for (const name of ['clear-cache', 'health-check', 'metrics-check', 'rollback', 'emergency-stop'] as const) {
    common(runbook.command(name).description(`the ${name} runbook (see fai runbook list)`)).action(async (options) => {
      process.exitCode = await (await commands.runbook()).runbookRun(name, {}, options);
    });
  }

  const shadow = program.command('shadow').description('shadow evaluation: production, the PPO teacher and the distilled student on the same briefs (docs/shadow.md)');
  shadow
    .command('run')
    .description('replay a brief set through production, teacher and student; write shadow_evaluation_results.json and the HTML report')
    .option('--stage <stage>', `stage the comparisons are recorded under (${STAGES.join(', ')})`, 'staging')
    .option('--samples <n>', 'comparisons to run (the brief set is cycled)', positive('--samples'), 50)
    .option('--briefs <file>', 'brief set {"texts": [...]}', 'examples/heldout-briefs.json')
    .option('--out <dir>', 'where both reports go (default: SHADOW_DIR/reports)')
    .option('--train-episodes <n>', 'when teacher and student are not pinned: PPO episodes of the teacher trained for the run', positive('--train-episodes'), 4000)
    .option('--no-train', 'fail instead of training when teacher and student are not pinned')
    .option('--margin <share>', 'non-inferiority margin on the retention (default 0.92)')
    .option('--json', 'print the summary as JSON')
    .action(async (options) => {
      process.exitCode = await (await commands.shadow()).shadowRun(options);
    });
  shadow
    .command('report')
    .description('write both reports from the comparisons the service recorded; the comparisons go to the hub too (the report\'s inputs.cid)')
    .option('--dir <dir>', 'the comparison log (default: SHADOW_DIR)')
    .option('--out <dir>', 'where both reports go (default: <dir>/reports)')
    .option('--stage <stage>', 'only this stage\'s comparisons')
    .option('--margin <share>', 'non-inferiority margin on the retention (default 0.92)')
    .option('--from-hub <CID>', 'rebuild from the comparisons an earlier report stored in the hub (its inputs.cid) instead of the log')
    .option('--json', 'print the summary as JSON')
    .action(async (options) => {
      process.exitCode = await (await commands.shadow()).shadowReport(options);
    });

  shadow
    .command('schedule')
    .description('print the stage schedule (configs/shadow-schedule.json) as crontab lines and systemd timers')
    .option('--file <file>', 'the schedule (default: SHADOW_SCHEDULE_FILE)')
    .option('--root <dir>', 'the repository the jobs run in', '.')
    .option('--json', 'print JSON')
    .action(async (options) => {
      process.exitCode = await (await commands.shadow()).shadowSchedule(options);
    });

  const remediation = program
    .command('remediation')
    .description('the closed loop: what the service did about Alertmanager\'s alerts (configs/remediation.yml, docs/operations.md); state in REDIS_URL or the deployment\'s state directory');
  remediation
    .command('ls')
    .description('every action: alert, runbook, mode, what happened or why it was refused; and whether automation is paused')
    .option('--limit <n>', 'the newest n actions', positive('--limit'), 50)
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean; limit: number }) => {
      process.exitCode = await (await commands.remediation()).remediationList(options);
    });
  remediation
    .command('pause')
    .description('kill switch: stop all automated actions (alerts are still recorded, as refused) until resume')
    .option('--reason <text>', 'why, shown by ls and in every refusal')
    .action(async (options: { reason?: string }) => {
      process.exitCode = await (await commands.remediation()).remediationPause(options);
    });
  remediation
    .command('resume')
    .description('lift the kill switch')
    .action(async () => {
      process.exitCode = await (await commands.remediation()).remediationResume({});
    });
  remediation
    .command('approve')
    .description('approve a destructive action waiting for it: the service runs it now and this prints how it ended (needs ALERT_WEBHOOK_TOKEN)')
    .argument('<ID>', 'the action id (fai remediation ls)')
    .addOption(new Option('--url <url>', 'service base URL (env FAI_URL)').default(DEFAULT_URL))
    .option('--timeout <ms>', 'give up waiting for the run after this many milliseconds', '600000')
    .option('--json', 'print the action as JSON')
    .addHelpText('after', '\nExit codes: 0 the run verified, 2 it failed or was undone or refused, 64 not awaiting approval or unknown id, 69 service unreachable.')
    .action(async (id: string, options: { url: string; timeout: string; json?: boolean }) => {
      process.exitCode = await (await commands.remediation()).remediationApprove(id, options);
    });

  const canary = program
    .command('canary')
    .description('automated canary analysis: canary against stable from Prometheus (docs/operations.md); deployment: configs/deployment.json or FAI_DEPLOYMENT');
  const criteriaOptions = (command: Command) =>
    command
      .option('--alpha <rate>', 'false-promotion rate over the whole run (one-sided)', '0.05')
      .option('--error-margin <share>', 'error-ratio difference a promotion must rule out (0.02 = 2 points)', '0.02')
      .option('--latency-margin <auc>', 'latency AUC above 0.5 a promotion must rule out (0.1: canary slower in 60 % of pairs)', '0.1')
      .option('--min-samples <n>', 'requests each instance must have answered before a promotion', '200')
      .option('--json', 'print JSON');
  criteriaOptions(
    canary
      .command('analyze')
      .description('compare canary and stable over a window: errors (Fisher exact, Newcombe interval) and latency (Mann-Whitney U on the histograms); promote, continue or rollback with the evidence')
      .option('--window <duration>', 'how far back to look (30s, 10m, 1h)', '10m')
      .option('--looks <n>', 'analyses the decision is part of (Bonferroni: alpha / looks per analysis)', '1'),
  )
    .addHelpText('after', '\nExit codes: 0 promote, 1 continue (not enough evidence yet), 2 rollback, 69 Prometheus unreachable, 78 no prometheus or instances in the deployment.')
    .action(async (options) => {
      process.exitCode = await (await commands.canary()).canaryAnalyze(options);
    });
  criteriaOptions(
    canary
      .command('run')
      .description('step nginx weights 10 → 25 → 50 → 100 % with an analysis between steps (each move a verified, audited downshift); roll back on failure')
      .option('--steps <list>', 'canary weights before 100 %', '10,25,50')
      .option('--step-timeout <duration>', 'roll back a step that has shown neither promote nor rollback by then', '10m')
      .option('--max-looks <n>', 'analyses the whole run may make (the false-promotion rate is split over them)', '6')
      .option('--release <label>', 'version label recorded in the release history on promotion'),
  )
    .addHelpText('after', '\nExit codes: 0 promoted to 100 %, 2 rolled back to stable, 69 Prometheus or nginx unreachable.')
    .action(async (options) => {
      process.exitCode = await (await commands.canary()).canaryRun(options);
    });

  const deploy = program.command('deploy').description('the processes of the deployment (configs/deployment.json), through its backend (local or compose)');
  for (const action of ['up', 'down', 'status'] as const) {
    deploy
      .command(action)
      .description(action === 'up' ? 'start every process and wait until each is healthy' : action === 'down' ? 'stop every process' : 'show each process')
      .option('--json', 'print JSON')
      .action(async (options: { json?: boolean }) => {
        process.exitCode = await (await commands.deploy()).deployCommand(action, options);
      });
  }

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
