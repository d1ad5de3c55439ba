import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { ServerConnection } from '@jupyterlab/services';
import { ReactWidget } from '@jupyterlab/ui-components';
import * as React from 'react';

import { TaskMonitor } from '../components/TaskMonitor';
import { ITaskMonitorModel } from '../tokens';
import { DEFAULT_TASK_FILTER, ITaskFilter } from './filter';

/**
 * The "Tasks" section of the Executors sidebar.
 */
export class TaskMonitorWidget extends ReactWidget {
  constructor(options: TaskMonitorWidget.IOptions) {
    super();
    this._model = options.model;
    this._trans = (options.translator ?? nullTranslator).load('executorlab');
    this._onShowInGraph = options.onShowInGraph;
    this._serverSettings = options.serverSettings;
    this.id = 'executorlab-tasks';
    this.addClass('jp-executorlab-TaskMonitorWidget');
    this.title.label = this._trans.__('Tasks');
  }

  get filter(): ITaskFilter {
    return this._filter;
  }

  set filter(value: ITaskFilter) {
    this._filter = value;
    this.update();
  }

  protected render(): JSX.Element {
    return (
      <TaskMonitor
        model={this._model}
        filter={this._filter}
        trans={this._trans}
        onShowInGraph={this._onShowInGraph}
        serverSettings={this._serverSettings}
      />
    );
  }

  private _model: ITaskMonitorModel;
  private _trans: TranslationBundle;
  private _filter: ITaskFilter = DEFAULT_TASK_FILTER;
  private _onShowInGraph?: (id: string) => void;
  private _serverSettings?: ServerConnection.ISettings;
}

export namespace TaskMonitorWidget {
  export interface IOptions {
    model: ITaskMonitorModel;
    translator?: ITranslator;
    /** Opens the dependency graph on the (already selected) task. */
    onShowInGraph?: (id: string) => void;
    /** For the details of a task; the page's settings when absent. */
    serverSettings?: ServerConnection.ISettings;
  }
}
