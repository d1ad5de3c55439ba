// Variant B entry: a module-federation host, like JupyterLab's own, that loads the prebuilt
// labextensions jupyterlab_server lists in page_config.federated_extensions.
function getOption(name) {
  const el = document.getElementById('jupyter-config-data');
  return (el ? JSON.parse(el.textContent || '{}') : {})[name] || '';
}
// eslint-disable-next-line no-undef
__webpack_public_path__ = getOption('fullStaticUrl') + '/';

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.onerror = reject;
    script.onload = resolve;
    script.async = true;
    script.src = url;
    document.head.appendChild(script);
  });
}

async function initRemote(base, ext) {
  await loadScript(`${base}/${ext.name}/${ext.load}`);
  // eslint-disable-next-line no-undef
  await __webpack_init_sharing__('default');
  // eslint-disable-next-line no-undef
  await window._JUPYTERLAB[ext.name].init(__webpack_share_scopes__.default);
}

(async function bootstrap() {
  const extensions = getOption('federated_extensions') || [];
  const base = getOption('fullLabextensionsUrl');
  const results = await Promise.allSettled(extensions.map(ext => initRemote(base, ext)));
  results.filter(r => r.status === 'rejected').forEach(r => console.error(r.reason));
  // Everything that imports shared packages sits behind this async boundary.
  const { main } = await import('./index-federated.js');
  if (document.readyState === 'complete') {
    void main();
  } else {
    window.addEventListener('load', main);
  }
})();
