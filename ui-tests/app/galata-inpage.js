// Stand-in for the `@jupyterlab/galata-extension` federated extension, which ships only in
// the Python `jupyterlab` wheel: registers galata's in-page helpers from its npm package.
// galata's font plugin is left out (it needs @jupyterlab/terminal); the fonts that
// galata.DEFAULT_SETTINGS names ("DejaVu Mono", "DejaVu Sans") are bundled instead.
import '@fontsource/dejavu-sans';
import '@fontsource/dejavu-mono';
import { Dialog, Notification } from '@jupyterlab/apputils';
import { GalataInpage } from '@jupyterlab/galata/lib/extension/global';
import { IGalataHelpers, PLUGIN_ID_GALATA_HELPERS } from '@jupyterlab/galata/lib/extension/tokens';

window.galata = new GalataInpage();
window.galataip = window.galata;

export default [
  {
    id: PLUGIN_ID_GALATA_HELPERS,
    description: 'Galata in-page helpers (bundled into the test app).',
    autoStart: true,
    provides: IGalataHelpers,
    activate: () => Object.freeze({ notifications: Notification.manager, dialogs: Dialog.tracker })
  }
];
