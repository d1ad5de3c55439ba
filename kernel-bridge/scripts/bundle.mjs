// Packs the compiled bridge for the Python package: one bundled bridge.mjs (and its HDF5 thread) plus the native zeromq
// addon it loads at run time, under executorlab/bridge/ (shipped in the wheel, ignored by git).
import { build } from 'esbuild';
import { cp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const out = resolve(here, '../../executorlab/bridge');
const require = createRequire(import.meta.url);
const zeromqDir = dirname(require.resolve('zeromq/package.json'));
const cmakeTsDir = resolve(dirname(require.resolve('cmake-ts/build/loader', { paths: [zeromqDir] })), '..');

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });
const esm = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // execa's dependencies (and h5wasm's loader) are CommonJS in places; give them a require inside ESM.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning'
};
await build({ ...esm, entryPoints: [resolve(here, '../lib/main.js')], outfile: join(out, 'bridge.mjs'), external: ['zeromq'] });
// The HDF5 worker thread is started from a file next to bridge.mjs (new URL('./hdf5-thread.js', ...)).
await build({ ...esm, entryPoints: [resolve(here, '../lib/cache/hdf5-thread.js')], outfile: join(out, 'hdf5-thread.js') });

const modules = join(out, 'node_modules');
const onlyRuntime = src => !/\.(map|ts|md)$/.test(src) && !/[/\\](src|script|darwin|win32)([/\\]|$)/.test(src);
await cp(zeromqDir, join(modules, 'zeromq'), { recursive: true, filter: onlyRuntime });
await mkdir(join(modules, 'cmake-ts', 'build'), { recursive: true });
await cp(join(cmakeTsDir, 'package.json'), join(modules, 'cmake-ts', 'package.json'));
await cp(join(cmakeTsDir, 'build', 'loader.js'), join(modules, 'cmake-ts', 'build', 'loader.js'));
await writeFile(join(out, 'package.json'), JSON.stringify({ type: 'module', private: true }) + '\n');
console.log(`bridge bundled into ${out}`);
