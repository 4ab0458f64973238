import { observability } from '../../ops/index.ts';
import { ExitCodes } from '../exit-codes.ts';

export async function opsGenerate(options: { check?: boolean; root: string }, write: (text: string) => void = (text) => process.stdout.write(text)): Promise<number> {
  const { written, stale } = await observability.generate(options.root, options.check ?? false);
  if (options.check) {
    if (stale.length === 0) {
      write('generated files are up to date\n');
      return ExitCodes.OK;
    }
    write(`stale generated files (run \`make generate\`):\n${stale.map((path) => `  ${path}\n`).join('')}`);
    return ExitCodes.WARNING;
  }
  write(written.length === 0 ? 'generated files were already up to date\n' : `wrote:\n${written.map((path) => `  ${path}\n`).join('')}`);
  return ExitCodes.OK;
}
