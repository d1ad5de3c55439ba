// jupyterlab_server serves every <dir>/<name>/ of labextensions_path; the prebuilt
// extension lives in the Python package (executorlab/labextension), so point at it.
const fs = require('fs');
const path = require('path');

const target = path.resolve(__dirname, '..', '..', 'executorlab', 'labextension');
const dir = path.join(__dirname, 'labextensions');
const link = path.join(dir, 'executorlab');

if (!fs.existsSync(path.join(target, 'package.json'))) {
  console.error(`no prebuilt labextension in ${target}: run "npm run build:labextension" first`);
  process.exit(1);
}
fs.mkdirSync(dir, { recursive: true });
fs.rmSync(link, { force: true, recursive: true });
fs.symlinkSync(path.relative(dir, target), link, 'dir');
console.log(`${path.relative(process.cwd(), link)} -> ${path.relative(dir, target)}`);
