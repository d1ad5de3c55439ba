// Variant B main, imported behind the async boundary of bootstrap-federated.js.
import { PageConfig } from '@jupyterlab/coreutils';
import { coreExtensions, startLab } from './lab.js';

async function getFederatedModule(scope, module) {
  const factory = await window._JUPYTERLAB[scope].get(module);
  return factory();
}

export async function main() {
  await import('./build-federated/style.js');
  const extensions = JSON.parse(PageConfig.getOption('federated_extensions') || '[]');
  const pending = [];
  for (const ext of extensions) {
    if (PageConfig.Extension.isDisabled(ext.name)) {
      continue;
    }
    if (ext.style) {
      await getFederatedModule(ext.name, ext.style).catch(console.error);
    }
    if (ext.extension) {
      pending.push(getFederatedModule(ext.name, ext.extension));
    }
  }
  const federated = [];
  for (const result of await Promise.allSettled(pending)) {
    if (result.status === 'fulfilled') {
      federated.push(result.value);
    } else {
      console.error(result.reason);
    }
  }
  await startLab([...(await Promise.all(coreExtensions())), ...federated]);
}
