// Variant A: core extensions and executorlab (from the repository root's lib/) in one bundle.
import { PageConfig } from '@jupyterlab/coreutils';
// eslint-disable-next-line no-undef
__webpack_public_path__ = PageConfig.getOption('fullStaticUrl') + '/';

import { coreExtensions, startLab } from './lab.js';

const styles = import('./build/style.js'); // written by Build.ensureAssets

window.addEventListener('load', async () => {
  await styles;
  const modules = await Promise.all([...coreExtensions(), import('executorlab')]);
  await startLab(modules);
});
