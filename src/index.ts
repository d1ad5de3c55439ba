import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { BridgeConnection } from './bridge/connection';
import { DEFAULT_TASK_FILTER, ITaskFilter } from './tasks/filter';
import { EXECUTORS_SIDEBAR_ID, ExecutorsSidebar } from './sidebar';
import { TaskMonitorModel } from './tasks/model';
import { TaskMonitorWidget } from './tasks/widget';
import { IBridgeConnection, ITaskMonitorModel } from './tokens';

export * from './tokens';

namespace CommandIDs {
  export const showTaskMonitor = 'executorlab:show-task-monitor';
}

const connectionPlugin: JupyterFrontEndPlugin<IBridgeConnection> = {
  id: 'executorlab:connection',
  description: 'Opens the events socket to the executorlab bridge.',
  autoStart: true,
  provides: IBridgeConnection,
  activate: (app: JupyterFrontEnd): IBridgeConnection =>
    new BridgeConnection({ serverSettings: app.serviceManager.serverSettings })
};

const taskMonitorPlugin: JupyterFrontEndPlugin<ITaskMonitorModel> = {
  id: 'executorlab:task-monitor',
  description: 'Left sidebar panel listing executorlab futures with their live state.',
  autoStart: true,
  requires: [IBridgeConnection],
  optional: [ITranslator, ILayoutRestorer, ISettingRegistry, ICommandPalette],
  provides: ITaskMonitorModel,
  activate: (
    app: JupyterFrontEnd,
    connection: IBridgeConnection,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null
  ): ITaskMonitorModel => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('executorlab');
    const model = new TaskMonitorModel(connection);
    const tasks = new TaskMonitorWidget({ model, translator });
    const sidebar = new ExecutorsSidebar({ translator });
    sidebar.addWidget(tasks);

    app.shell.add(sidebar, 'left', { rank: 700 });
    restorer?.add(sidebar, EXECUTORS_SIDEBAR_ID);

    app.commands.addCommand(CommandIDs.showTaskMonitor, {
      label: trans.__('Show Executors Task Monitor'),
      execute: () => app.shell.activateById(sidebar.id)
    });
    palette?.addItem({
      command: CommandIDs.showTaskMonitor,
      category: trans.__('Executors')
    });

    if (settingRegistry) {
      settingRegistry
        .load(taskMonitorPlugin.id)
        .then(settings => {
          const apply = () => {
            tasks.filter = readFilter(settings);
          };
          apply();
          settings.changed.connect(apply);
        })
        .catch(reason => {
          console.error('executorlab: failed to load the task monitor settings', reason);
        });
    }
    return model;
  }
};

function readFilter(settings: ISettingRegistry.ISettings): ITaskFilter {
  const composite = settings.composite as Partial<ITaskFilter>;
  return {
    showFinishedTasks:
      composite.showFinishedTasks ?? DEFAULT_TASK_FILTER.showFinishedTasks,
    maxFinishedTasks:
      composite.maxFinishedTasks ?? DEFAULT_TASK_FILTER.maxFinishedTasks
  };
}

const plugins: JupyterFrontEndPlugin<any>[] = [connectionPlugin, taskMonitorPlugin];

export default plugins;
