// Builds the assembled JupyterLab frontend.
//   rspack                   -> build/            variant A: executorlab bundled in from ../../lib
//   JLAB_FEDERATED=1 rspack  -> build-federated/  variant B: module-federation host; executorlab
//                                                 comes from the prebuilt executorlab/labextension
const fs = require('fs');
const path = require('path');
const rspack = require('@rspack/core');
const { Build } = require('@jupyter/builder');
const miniSVGDataURI = require('mini-svg-data-uri');
const coreExtensions = require('./core-extensions');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const FEDERATED = !!process.env.JLAB_FEDERATED;
const OUTPUT = path.resolve(__dirname, FEDERATED ? 'build-federated' : 'build');

const labSource = fs.readFileSync(path.join(__dirname, 'lab.js'), 'utf8');
const missing = coreExtensions.filter(name => !labSource.includes(`import('${name}')`));
if (missing.length) {
  throw new Error(`lab.js does not import ${missing.join(', ')} (listed in core-extensions.js)`);
}

// Each build starts from an empty output dir so no stale chunks or schemas are served.
fs.rmSync(OUTPUT, { recursive: true, force: true });

// Copies schemas to <out>/schemas/<pkg>/, builds themes to <out>/themes/<pkg>/, and writes
// <out>/style.js importing every extension's CSS. The repository root is the executorlab
// package; only variant A bundles it (variant B gets schemas and CSS from the labextension).
const assetConfigs = Build.ensureAssets({
  packageNames: coreExtensions,
  packagePaths: FEDERATED ? [] : [REPO_ROOT],
  output: OUTPUT
});

// Same share scope as JupyterLab's dev_mode: the core.package.json resolutions that are
// installed here, singletons marked, so prebuilt extensions get the host's single copies.
function sharedPackages() {
  const core = require('@jupyterlab/core-meta/core.package.json');
  const shared = {};
  for (const [pkg, requiredVersion] of Object.entries(core.resolutions)) {
    let version;
    try {
      version = require(`${pkg}/package.json`).version;
    } catch {
      continue;
    }
    shared[pkg] = { requiredVersion, version };
  }
  for (const pkg of core.jupyterlab.singletonPackages) {
    if (shared[pkg]) {
      shared[pkg].singleton = true;
    }
  }
  return shared;
}

const rules = [
  { test: /\.css$/, use: ['style-loader', 'css-loader'], type: 'javascript/auto' },
  { test: /\.raw\.css$/, type: 'asset/source' },
  { test: /\.html$/, type: 'asset/resource' },
  { test: /\.md$/, type: 'asset/source' },
  { test: /\.(jpg|png|gif)$/, type: 'asset/resource' },
  { test: /\.js\.map$/, type: 'asset/resource' },
  { test: /\.(woff2?|ttf)(\?v=\d+\.\d+\.\d+)?$/, type: 'asset' },
  { test: /\.eot(\?v=\d+\.\d+\.\d+)?$/, type: 'asset/resource' },
  {
    test: /\.svg(\?v=\d+\.\d+\.\d+)?$/,
    issuer: /\.css$/,
    type: 'asset/inline',
    generator: {
      dataUrl: {
        content: c => miniSVGDataURI(c.content.toString()),
        mimetype: 'image/svg+xml'
      }
    }
  },
  { test: /\.svg(\?v=\d+\.\d+\.\d+)?$/, issuer: /\.js$/, type: 'asset/source' }
];

module.exports = (env, argv) => {
  const production = argv.mode === 'production';
  return [
    {
      mode: production ? 'production' : 'development',
      entry: [FEDERATED ? './bootstrap-federated.js' : './index.js'],
      output: {
        path: OUTPUT,
        filename: 'bundle.js',
        chunkFilename: '[name].[contenthash].js'
      },
      devtool: production ? false : 'source-map',
      bail: true,
      module: { rules },
      resolve: {
        // The extension under test is the repository root package; it is not in node_modules.
        alias: FEDERATED ? {} : { executorlab: REPO_ROOT },
        fallback: { path: false, fs: false }
      },
      plugins: [
        new rspack.DefinePlugin({ process: { cwd: () => '/', env: {} } }),
        ...(FEDERATED
          ? [
              new rspack.container.ModuleFederationPlugin({
                name: 'CORE_FEDERATION',
                library: { type: 'var', name: ['_JUPYTERLAB', 'CORE_LIBRARY_FEDERATION'] },
                shared: sharedPackages()
              })
            ]
          : [])
      ]
    },
    ...assetConfigs
  ];
};
