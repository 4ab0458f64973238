import { ErrorCodes, FaiError } from '../errors/index.ts';
import { PIN_VERSION, readPins, writePins } from '../llm/index.ts';
import { backendFor } from './backend.ts';
import type { Deployment } from './deployment.ts';
import type { Runbook } from './engine.ts';

export interface PinUpdateArgs extends Record<string, unknown> {
  model?: string;
  version?: string;
  list?: boolean;
}

export function pinUpdateRunbook(deployment: Deployment): Runbook<PinUpdateArgs> {
  return {
    name: 'pin-update',
    description: 'set one model pin in configs/model_pins.json (--model --version), validated and written atomically; --list shows the pins',
    destructive: false,
    plan: async ({ model, version, list }) => {
      const before = await readPins(deployment.pinsFile);
      if (list) {
        return { summary: Object.entries(before).map(([m, v]) => `${m} ${v}`), steps: [], verify: async () => 'pins listed, nothing changed' };
      }
      if (model === undefined || version === undefined) throw new FaiError(ErrorCodes.VALIDATION, '--model and --version are both required (or --list)', { field: model === undefined ? '--model' : '--version' });
      if (!(model in before)) throw new FaiError(ErrorCodes.NOT_FOUND, `--model: "${model}" is not pinned (pinned: ${Object.keys(before).join(', ')})`, { field: '--model' });
      if (!PIN_VERSION.test(version)) throw new FaiError(ErrorCodes.VALIDATION, `--version: "${version}" is not a version like 2.5.1`, { field: '--version' });
      const after = { ...before, [model]: version };
      if (before[model] === version) return { summary: [`nothing to change: ${model} is already ${version}`], steps: [], verify: async () => `${model} ${version}` };
      const serving = deployment.processes.filter((p) => p.role !== 'worker');
      const backend = backendFor(deployment);
      // SIGHUP makes a running service re-read its pins without a restart: no request is dropped.
      const reload = async () => {
        for (const process of serving) if ((await backend.status()).find((s) => s.name === process.name)?.running) await backend.signal(process.name, 'SIGHUP');
      };
      return {
        summary: [
          `${deployment.pinsFile}: ${model} ${before[model]} → ${version}`,
          serving.length === 0 ? 'no managed service process: the service picks the pins up on its next SIGHUP or start' : `reload pins in ${serving.map((p) => p.name).join(', ')} (SIGHUP)`,
        ],
        steps: [
          { describe: `pin ${model} to ${version}`, apply: () => writePins(deployment.pinsFile, after), undo: () => writePins(deployment.pinsFile, before) },
          ...(serving.length === 0 ? [] : [{ describe: 'SIGHUP the serving processes', apply: reload, undo: reload }]),
        ],
        verify: async () => {
          const now = await readPins(deployment.pinsFile);
          if (now[model] !== version) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `pins file says ${model} ${now[model]}`);
          // From outside: each serving process reports the new pin on /health/llm.
          for (const process of serving) {
            if (process.healthUrl === undefined) continue;
            const url = new URL(`/health/llm?model=${encodeURIComponent(model)}`, process.healthUrl);
            const deadline = Date.now() + 5_000;
            for (;;) {
              const body = (await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).json().catch(() => ({}))) as { pinnedVersion?: string };
              if (body.pinnedVersion === version) break;
              if (Date.now() > deadline) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `${process.name} still serves ${model} ${body.pinnedVersion ?? '(none)'}`);
              await new Promise((resolve) => setTimeout(resolve, 100));
            }
          }
          return `${deployment.pinsFile} reads ${model} ${version}${serving.length > 0 ? `; ${serving.map((p) => p.name).join(', ')} serve it` : ''}`;
        },
      };
    },
  };
}
