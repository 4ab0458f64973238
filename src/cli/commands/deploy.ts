import { backendFor, loadDeployment } from '../../runbooks/index.ts';
import { ExitCodes } from '../exit-codes.ts';
import { table } from '../table.ts';

type Write = (text: string) => void;
const stdout: Write = (text) => process.stdout.write(text);

/** Starts (up) or stops (down) every process of the deployment through its backend, or shows them (status). */
export async function deployCommand(action: 'up' | 'down' | 'status', options: { json?: boolean }, write: Write = stdout): Promise<number> {
  const deployment = await loadDeployment();
  const backend = backendFor(deployment);
  if (action === 'up') for (const process of deployment.processes) await backend.start(process.name);
  if (action === 'down') for (const process of [...deployment.processes].reverse()) await backend.stop(process.name);
  const status = await backend.status();
  write(options.json ? `${JSON.stringify(status, null, 2)}\n` : `${table([['PROCESS', 'ROLE', 'RUNNING', 'PID'], ...status.map((s) => [s.name, s.role, s.running ? 'yes' : 'no', s.pid === null ? '' : String(s.pid)])])}\n`);
  return ExitCodes.OK;
}
