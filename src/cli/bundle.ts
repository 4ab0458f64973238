import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';

/**
 * `node dist/cli/bundle.js` (make build, after tsc): bundles the compiled CLI with esbuild into
 * dist/cli-bundle/ — one chunk for the program and one per command, loaded when that command runs —
 * with zod, commander, csv-parse and yaml inside. A one-shot command then reads a few files instead
 * of some 150 modules (64 of them zod's locales), and starts in about half the time. bin/fai.js runs
 * it for every command but `serve` and `worker`, which keep running the tsc output.
 *
 * Data files stay where they are (dist/<room>/data/): every `import.meta.url` of a compiled module is
 * rewritten to that module's own place, relative to the bundle, so `new URL('./data/x.csv',
 * import.meta.url)` still finds dist/regulation/data/x.csv, and worker threads still start the
 * compiled file beside it.
 */
const DIST = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = join(DIST, 'cli-bundle');

/**
 * zod re-exports every locale it has (`z.locales`, some 60 modules) from its index; the code here uses
 * none of them (zod sets its English messages itself, from locales/en.js), so the bundle takes that
 * index as English alone: about a fifth of zod's code, parsed and compiled at every start, gone.
 */
const englishOnly: Plugin = {
  name: 'fai-zod-english-only',
  setup(builder) {
    builder.onLoad({ filter: /[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({ contents: 'export { default as en } from "./en.js";', loader: 'js', resolveDir: join(DIST, '..', 'node_modules', 'zod', 'v4', 'locales') }));
  },
};

const ownPlace: Plugin = {
  name: 'fai-import-meta-url',
  setup(builder) {
    builder.onLoad({ filter: /\.js$/ }, async (args) => {
      if (!args.path.startsWith(DIST + sep) || args.path.startsWith(OUT + sep)) return undefined;
      const contents = await readFile(args.path, 'utf8');
      if (!contents.includes('import.meta.url')) return { contents, loader: 'js' };
      const place = relative(OUT, args.path).split(sep).join('/');
      return { contents: contents.replaceAll('import.meta.url', `new URL(${JSON.stringify(place)}, import.meta.url).href`), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(DIST, 'cli', 'main.js')],
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // CommonJS packages (commander) require Node's built-ins: an ES module has no `require` of its own.
  banner: { js: "import { createRequire as __faiCreateRequire } from 'node:module'; const require = __faiCreateRequire(import.meta.url);" },
  plugins: [englishOnly, ownPlace],
  logLevel: 'warning',
  legalComments: 'none',
  // Less to parse and compile at every start (about a fifth of a one-shot command's time); source maps keep the stack traces readable.
  minify: true,
  sourcemap: true,
});
