import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ITaskFilter, visibleTasks } from '../tasks/filter';
import { useNow, useSignalVersion } from '../tasks/hooks';
import { ITaskMonitorModel } from '../tokens';
import { ConnectionNotice } from './ConnectionNotice';
import { ExecutorList } from './ExecutorList';
import { PlacementNotice } from './PlacementNotice';
import { TaskDetails } from './TaskDetails';
import { TaskSummary } from './TaskSummary';
import { TaskTable } from './TaskTable';

export interface ITaskMonitorProps {
  model: ITaskMonitorModel;
  filter: ITaskFilter;
  trans: TranslationBundle;
  /** Reveal a task in the dependency graph ("Show in graph" in the details). */
  onShowInGraph?: (id: string) => void;
  /** Server settings for the task details (`api/tasks/<id>`); the page's by default. */
  serverSettings?: ServerConnection.ISettings;
}

/**
 * Tasks section of the Executors sidebar: where the bridge runs, connection state,
 * counts, and the task list.
 */
export function TaskMonitor({
  model,
  filter,
  trans,
  onShowInGraph,
  serverSettings
}: ITaskMonitorProps): JSX.Element {
  useSignalVersion(model.changed);
  const tasks = model.tasks;
  const connected = model.connectionStatus === 'connected';
  const now = useNow(connected && tasks.some(t => t.state === 'running'));
  const shown = visibleTasks(tasks, filter);
  const selectedId = model.selectedTaskId;
  const selected = selectedId === null ? undefined : model.getTask(selectedId);

  let body: JSX.Element;
  if (shown.length > 0) {
    body = (
      <TaskTable
        tasks={shown}
        now={now}
        trans={trans}
        selectedId={model.selectedTaskId}
        onSelect={id => model.select(id)}
      />
    );
  } else if (connected) {
    body = (
      <div className="jp-executorlab-TaskMonitor-empty">
        {tasks.length === 0
          ? trans.__(
              'No tasks yet. Futures submitted to an executorlab executor appear here.'
            )
          : trans.__('No unfinished tasks. Finished tasks are hidden in the settings.')}
      </div>
    );
  } else {
    body = <></>;
  }

  return (
    <div className="jp-executorlab-TaskMonitor">
      <PlacementNotice placement={model.placement} trans={trans} />
      <ConnectionNotice
        status={model.connectionStatus}
        showsStaleTasks={!connected && shown.length > 0}
        onRetry={() => model.reconnect()}
        trans={trans}
      />
      <ExecutorList executors={model.executors} trans={trans} />
      <TaskSummary
        tasks={tasks}
        bridgeStatus={model.bridgeStatus}
        trans={trans}
      />
      <div className="jp-executorlab-TaskMonitor-list">{body}</div>
      {selected && (
        <TaskDetails
          key={selected.id}
          model={model}
          taskId={selected.id}
          trans={trans}
          onShowInGraph={onShowInGraph}
          serverSettings={serverSettings}
        />
      )}
    </div>
  );
}
