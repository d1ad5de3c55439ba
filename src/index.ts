import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { BridgeConnection } from './bridge/connection';
import { cacheIcon } from './cache/icons';
import { CacheBrowserModel } from './cache/model';
import { CacheBrowserWidget } from './cache/widget';
import { DependencyGraphWidget } from './graph/widget';
import { addMainAreaView } from './mainArea';
import {
  CELL_OUTPUT_RANK,
  createFutureRendererFactory,
  createGraphRendererFactory
} from './outputs/factories';
import { UsageModel } from './usage/model';
import { ResourceUsageWidget } from './usage/widget';
import { DEFAULT_TASK_FILTER, ITaskFilter } from './tasks/filter';
import { EXECUTORS_SIDEBAR_ID, ExecutorsSidebar } from './sidebar';
import { TaskMonitorModel } from './tasks/model';
import { TaskMonitorWidget } from './tasks/widget';
import { IBridgeConnection, ITaskMonitorModel, SHOW_TASK_COMMAND } from './tokens';

export * from './tokens';

namespace CommandIDs {
  export const showTaskMonitor = 'executorlab:show-task-monitor';
  export const openCacheBrowser = 'executorlab:open-cache-browser';
  export const openDependencyGraph = 'executorlab:open-dependency-graph';
  export const openResourceUsage = 'executorlab:open-resource-usage';
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
    const tasks = new TaskMonitorWidget({
      model,
      translator,
      serverSettings: app.serviceManager.serverSettings,
      onShowInGraph: () => void app.commands.execute(CommandIDs.openDependencyGraph)
    });
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

    followSettings(settingRegistry, taskMonitorPlugin.id, settings => {
      tasks.filter = readFilter(settings);
      model.updatesPerSecond = Number(settings.composite.updatesPerSecond ?? 10);
    });
    return model;
  }
};

/** Apply a plugin's settings now and whenever they change; a registry that fails is logged. */
function followSettings(
  registry: ISettingRegistry | null,
  pluginId: string,
  apply: (settings: ISettingRegistry.ISettings) => void
): void {
  registry
    ?.load(pluginId)
    .then(settings => {
      apply(settings);
      settings.changed.connect(() => apply(settings));
    })
    .catch(reason => console.error(`executorlab: failed to load the settings of ${pluginId}`, reason));
}

function readFilter(settings: ISettingRegistry.ISettings): ITaskFilter {
  const composite = settings.composite as Partial<ITaskFilter>;
  return {
    showFinishedTasks:
      composite.showFinishedTasks ?? DEFAULT_TASK_FILTER.showFinishedTasks,
    maxFinishedTasks:
      composite.maxFinishedTasks ?? DEFAULT_TASK_FILTER.maxFinishedTasks
  };
}

const cacheBrowserPlugin: JupyterFrontEndPlugin<void> = {
  id: 'executorlab:cache-browser',
  description: 'Main-area browser of a cache directory, with delete and Clean cache.',
  autoStart: true,
  // The View menu item is declared in schema/plugins/cache-browser.json.
  optional: [ITranslator, ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('executorlab');
    let confirm = true;
    let defaultDirectory = '';
    const current = addMainAreaView(app, {
      command: CommandIDs.openCacheBrowser,
      label: trans.__('Open Executor Cache Browser'),
      caption: trans.__('Browse and clean an executorlab cache directory'),
      icon: cacheIcon,
      namespace: 'executorlab-cache',
      create: () =>
        new CacheBrowserWidget({
          model: new CacheBrowserModel({ serverSettings: app.serviceManager.serverSettings, directory: defaultDirectory }),
          translator: translator!,
          confirm
        }),
      palette,
      restorer,
      trans
    });
    followSettings(settingRegistry, cacheBrowserPlugin.id, settings => {
      confirm = settings.composite.confirmCleanup !== false;
      defaultDirectory = String(settings.composite.defaultDirectory ?? '');
      const widget = current();
      if (widget) {
        widget.confirm = confirm;
      }
    });
  }
};

const dependencyGraphPlugin: JupyterFrontEndPlugin<void> = {
  id: 'executorlab:dependency-graph',
  description: 'Main-area graph of the futures and their dependencies, live, selection shared with the task table.',
  autoStart: true,
  requires: [ITaskMonitorModel],
  // The View menu item is declared in schema/plugins/dependency-graph.json.
  optional: [ITranslator, ICommandPalette, ILayoutRestorer, ISettingRegistry],
  activate: (
    app: JupyterFrontEnd,
    model: ITaskMonitorModel,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null,
    settingRegistry: ISettingRegistry | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('executorlab');
    let nodeLimit = 500;
    const current = addMainAreaView(app, {
      command: CommandIDs.openDependencyGraph,
      label: trans.__('Open Dependency Graph'),
      caption: trans.__('The futures and their dependencies, live'),
      namespace: 'executorlab-graph',
      create: () => {
        const graph = new DependencyGraphWidget({ model, translator: translator!, nodeLimit });
        // One selection for the table and the graph (a group stands for its tasks).
        graph.graph.selectionChanged.connect((_, id) => {
          if (id === null || graph.graph.nodeIdOf(id) === id) {
            model.select(id);
          }
        });
        const follow = (_: unknown, id: string | null) => {
          graph.graph.select(id === null ? null : (graph.graph.nodeIdOf(id) ?? null));
        };
        model.selectionChanged.connect(follow);
        follow(null, model.selectedTaskId);
        graph.disposed.connect(() => model.selectionChanged.disconnect(follow));
        return graph;
      },
      palette,
      restorer,
      trans
    });
    followSettings(settingRegistry, dependencyGraphPlugin.id, settings => {
      nodeLimit = Number(settings.composite.nodeLimit ?? 500);
      const widget = current();
      if (widget) {
        widget.graph.nodeLimit = nodeLimit;
      }
    });
  }
};

const resourceUsagePlugin: JupyterFrontEndPlugin<void> = {
  id: 'executorlab:resource-usage',
  description: 'Main-area charts of cores, GPUs and calls over time, and the workers with their CPU and memory.',
  autoStart: true,
  requires: [IBridgeConnection],
  // The View menu item is declared in schema/plugins/resource-usage.json.
  optional: [ITaskMonitorModel, ITranslator, ICommandPalette, ILayoutRestorer],
  activate: (
    app: JupyterFrontEnd,
    connection: IBridgeConnection,
    monitor: ITaskMonitorModel | null,
    translator: ITranslator | null,
    palette: ICommandPalette | null,
    restorer: ILayoutRestorer | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('executorlab');
    addMainAreaView(app, {
      command: CommandIDs.openResourceUsage,
      label: trans.__('Open Resource Usage'),
      caption: trans.__('Cores, GPUs, calls and workers of the executors, live'),
      namespace: 'executorlab-usage',
      create: () => {
        const model = new UsageModel({ connection, serverSettings: app.serviceManager.serverSettings });
        const widget = new ResourceUsageWidget({ model, monitor, translator: translator! });
        widget.disposed.connect(() => model.dispose());
        return widget;
      },
      palette,
      restorer,
      trans
    });
  }
};

const cellOutputsPlugin: JupyterFrontEndPlugin<void> = {
  id: 'executorlab:cell-outputs',
  description:
    'Renders futures (a live status line) and dependency graphs displayed in notebook cells; ' +
    'adds the command that shows a task in the Executors sidebar.',
  autoStart: true,
  // Notebooks clone the registry when they open: this activates at startup, before.
  requires: [IRenderMimeRegistry, ITaskMonitorModel],
  optional: [ITranslator],
  activate: (
    app: JupyterFrontEnd,
    rendermime: IRenderMimeRegistry,
    model: ITaskMonitorModel,
    translator: ITranslator | null
  ): void => {
    translator = translator ?? nullTranslator;
    const trans = translator.load('executorlab');

    app.commands.addCommand(SHOW_TASK_COMMAND, {
      label: trans.__('Show Task in Executors'),
      caption: trans.__('Select a task in the Executors sidebar and open its details'),
      describedBy: {
        args: {
          type: 'object',
          properties: {
            taskId: { type: 'string', description: trans.__('The id of the task') }
          },
          required: ['taskId']
        }
      },
      execute: args => {
        const taskId = args.taskId;
        if (typeof taskId !== 'string' || taskId === '') {
          return;
        }
        model.select(taskId);
        app.shell.activateById(EXECUTORS_SIDEBAR_ID);
      }
    });

    rendermime.addFactory(
      createFutureRendererFactory({
        monitor: model,
        commands: app.commands,
        translator,
        serverSettings: app.serviceManager.serverSettings
      }),
      CELL_OUTPUT_RANK
    );
    rendermime.addFactory(createGraphRendererFactory({ translator }), CELL_OUTPUT_RANK);
  }
};

const plugins: JupyterFrontEndPlugin<any>[] = [
  connectionPlugin,
  taskMonitorPlugin,
  cacheBrowserPlugin,
  dependencyGraphPlugin,
  resourceUsagePlugin,
  cellOutputsPlugin
];

export default plugins;
