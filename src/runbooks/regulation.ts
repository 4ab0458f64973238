import { operatorHeaders } from '../config/index.ts';
import { ErrorCodes, FaiError } from '../errors/index.ts';
import { servingUrls, type Deployment } from './deployment.ts';
import type { Runbook, Step } from './engine.ts';

type StrictMode = { forced: boolean; strictByDefault: boolean };

async function call(url: string, method: 'GET' | 'PUT' | 'DELETE', actor?: string): Promise<StrictMode> {
  const response = await fetch(`${url}/v1/compliance/strict`, { method, headers: operatorHeaders(process.env, actor), signal: AbortSignal.timeout(5_000) }).catch((error: unknown) => {
    throw new FaiError(ErrorCodes.UNAVAILABLE, `${url}: ${(error as Error).message}`);
  });
  if (!response.ok) throw new FaiError(ErrorCodes.UNAVAILABLE, `${url}/v1/compliance/strict: HTTP ${response.status}`);
  return (await response.json()) as StrictMode;
}

/**
 * Strict regulation mode on every serving instance (after an IFRA violation): every compliance
 * check treats unknown materials, unsourced limits and warnings as failures, whatever the request
 * asks. `--clear` lifts it. Verified by reading each instance's mode back.
 */
export function regulationStrictRunbook(deployment: Deployment): Runbook<{ clear?: boolean }> {
  return {
    name: 'regulation-strict',
    description: 'force strict regulation mode on every serving instance (unknown or unsourced = fail, no request can opt out); --clear lifts it',
    destructive: false,
    plan: async ({ clear }, context) => {
      const wanted = clear !== true;
      const urls = servingUrls(deployment);
      const current = await Promise.all(urls.map(async (url) => ({ url, mode: await call(url, 'GET') })));
      const steps: Step[] = current
        .filter(({ mode }) => mode.forced !== wanted)
        .map(({ url }) => ({
          describe: `${url}: strict mode ${wanted ? 'forced on' : 'lifted'}`,
          apply: async () => void (await call(url, wanted ? 'PUT' : 'DELETE', context.actor)),
          undo: async () => void (await call(url, wanted ? 'DELETE' : 'PUT', context.actor)),
        }));
      return {
        summary: steps.length === 0 ? [`nothing to change: strict mode is already ${wanted ? 'forced on' : 'not forced'} on ${urls.join(', ')}`] : steps.map((s) => s.describe),
        steps,
        verify: async () => {
          const after = await Promise.all(urls.map(async (url) => ({ url, mode: await call(url, 'GET') })));
          const wrong = after.filter(({ mode }) => mode.forced !== wanted);
          if (wrong.length > 0) throw new FaiError(ErrorCodes.VERIFICATION_FAILED, `strict mode is ${wanted ? 'not forced' : 'still forced'} on ${wrong.map((w) => w.url).join(', ')}`);
          return `strict mode ${wanted ? 'forced on' : 'not forced'} on ${urls.length} instance(s): ${urls.join(', ')}`;
        },
      };
    },
  };
}
