import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { executorsIcon } from './icons';

/**
 * Id of the left sidebar panel; tests and the layout restorer find it by this.
 */
export const EXECUTORS_SIDEBAR_ID = 'executorlab-task-monitor';

/**
 * The "Executors" left sidebar. Each view (tasks now; resources, cache, executors
 * later) is one collapsible section added with `addWidget`.
 */
export class ExecutorsSidebar extends SidePanel {
  constructor(options: { translator?: ITranslator } = {}) {
    const translator = options.translator ?? nullTranslator;
    super({ translator });
    const trans = translator.load('executorlab');
    this.id = EXECUTORS_SIDEBAR_ID;
    this.addClass('jp-executorlab-Sidebar');
    this.title.icon = executorsIcon;
    this.title.caption = trans.__('Executors');

    const heading = document.createElement('h2');
    heading.textContent = trans.__('Executors');
    this.header.addWidget(new Widget({ node: heading }));
  }
}
