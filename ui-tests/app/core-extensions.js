// JupyterLab core extensions assembled into the test/demo app. lab.js imports the same
// packages (bundlers need literal import() calls); rspack.config.js checks both lists agree.
module.exports = [
  '@jupyterlab/application-extension',
  '@jupyterlab/apputils-extension',
  '@jupyterlab/codemirror-extension',
  '@jupyterlab/completer-extension',
  '@jupyterlab/docmanager-extension',
  '@jupyterlab/documentsearch-extension',
  '@jupyterlab/filebrowser-extension',
  '@jupyterlab/launcher-extension',
  '@jupyterlab/mainmenu-extension',
  '@jupyterlab/markedparser-extension',
  '@jupyterlab/mathjax-extension',
  '@jupyterlab/notebook-extension',
  '@jupyterlab/rendermime-extension',
  '@jupyterlab/running-extension',
  '@jupyterlab/settingeditor-extension',
  '@jupyterlab/shortcuts-extension',
  '@jupyterlab/statusbar-extension',
  '@jupyterlab/theme-dark-extension',
  '@jupyterlab/theme-light-extension',
  '@jupyterlab/translation-extension',
  '@jupyterlab/ui-components-extension'
];
