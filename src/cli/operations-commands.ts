import { Command, InvalidArgumentError, Option } from 'commander';
import { STAGES } from '../config/index.ts';
import { commands, DEFAULT_URL } from './command-modules.ts';
import { between, integer, positive } from './option-parsers.ts';

/**
 * The operations half of `fai`: the Cloud Hub of a running service, observability as code, the
 * runbooks, shadow evaluation, the remediation loop, the canary and the deployment's processes.
 * main.ts builds the program and its formulation commands, then adds these.
 */
export function addOperationsCommands(program: Command): void {
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
    .option('--hidden <n>', 'hidden units of that teacher (4 to 1024; default that of the shipped teacher)', between('--hidden', 4, 1024))
    .option('--out <dir>', 'where both reports go (default: SHADOW_DIR/reports)')
    .action(async (options) => {
      process.exitCode = await (await commands.runbook()).runbookRun('shadow-eval', { stage: options.stage, samples: options.samples, trainEpisodes: options.trainEpisodes, ...(options.hidden === undefined ? {} : { teacherHidden: options.hidden }), ...(options.out === undefined ? {} : { out: options.out }) }, options);
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
    .option('--hidden <n>', 'hidden units of that teacher (4 to 1024; default that of the shipped teacher)', between('--hidden', 4, 1024))
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
}
