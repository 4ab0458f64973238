// The command modules and the default service URL, shared by the program's two halves (main.ts, operations-commands.ts).
/**
 * Each command's module, loaded when the command runs: checking a file loads the regulation code and
 * nothing else (not Fastify, BullMQ or the learning code), so `fai check-formula` starts fast.
 */
export const commands = {
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

export const DEFAULT_URL = process.env.FAI_URL ?? 'http://127.0.0.1:8000';
