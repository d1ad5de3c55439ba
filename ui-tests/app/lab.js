// Start-up shared by both app variants (extension bundled / loaded as a prebuilt labextension).
import { JupyterLab } from '@jupyterlab/application';
import { PageConfig } from '@jupyterlab/coreutils';

// Plugins whose required tokens come from extensions this app does not ship
// (lsp, toc, metadataform); they would fail activation and log errors.
const SKIPPED_PLUGINS = [
  ':language-server',
  '@jupyterlab/notebook-extension:toc',
  '@jupyterlab/notebook-extension:update-raw-mimetype'
];

// Keep in sync with core-extensions.js.
export const coreExtensions = () => [
  import('@jupyterlab/application-extension'),
  import('@jupyterlab/apputils-extension'),
  import('@jupyterlab/codemirror-extension'),
  import('@jupyterlab/completer-extension'),
  import('@jupyterlab/docmanager-extension'),
  import('@jupyterlab/documentsearch-extension'),
  import('@jupyterlab/filebrowser-extension'),
  import('@jupyterlab/launcher-extension'),
  import('@jupyterlab/mainmenu-extension'),
  import('@jupyterlab/markedparser-extension'),
  import('@jupyterlab/mathjax-extension'),
  import('@jupyterlab/notebook-extension'),
  import('@jupyterlab/rendermime-extension'),
  import('@jupyterlab/running-extension'),
  import('@jupyterlab/settingeditor-extension'),
  import('@jupyterlab/shortcuts-extension'),
  import('@jupyterlab/statusbar-extension'),
  import('@jupyterlab/theme-dark-extension'),
  import('@jupyterlab/theme-light-extension'),
  import('@jupyterlab/translation-extension'),
  import('@jupyterlab/ui-components-extension'),
  // galata's in-page helpers (window.galata) for the Playwright tests; inert otherwise
  import('./galata-inpage.js')
];

function pluginsOf(mod) {
  const exported = mod && 'default' in mod ? mod.default : mod;
  return (Array.isArray(exported) ? exported : [exported]).filter(
    plugin =>
      !SKIPPED_PLUGINS.some(skip => plugin.id.includes(skip)) &&
      !PageConfig.Extension.isDisabled(plugin.id)
  );
}

export async function startLab(modules) {
  const lab = new JupyterLab({ mimeExtensions: [] });
  for (const mod of modules) {
    lab.registerPlugins(pluginsOf(mod));
  }
  // galata and the tests drive the app through window.jupyterapp, as dev_mode's index.js does.
  if ((PageConfig.getOption('exposeAppInBrowser') || '').toLowerCase() === 'true') {
    window.jupyterapp = lab;
  }
  await lab.start();
  await lab.restored;
  return lab;
}
