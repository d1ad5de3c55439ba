import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  countByState,
  DEFAULT_TASK_SORT,
  EMPTY_TASK_QUERY,
  executorOptions,
  filterTasks,
  isFinished,
  isQueryActive,
  ITaskFilter,
  ITaskQuery,
  ITaskSort,
  visibleTasks
} from '../tasks/filter';
import { useNow, useSignalVersion } from '../tasks/hooks';
import { ITaskMonitorModel } from '../tokens';
import { ConnectionNotice } from './ConnectionNotice';
import { ExecutorPanelActions, IExecutorPanelActions } from '../executors/actions';
import { ExecutorList } from './ExecutorList';
import { PlacementNotice } from './PlacementNotice';
import { TaskDetails } from './TaskDetails';
import { TaskFilterBar } from './TaskFilterBar';
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
  /** Start and stop executors from the panel; by default over the bridge's API. */
  executorActions?: IExecutorPanelActions;
}

/**
 * Tasks section of the Executors sidebar: where the bridge runs, connection state,
 * counts, the filter bar and the (virtualised, sortable) task table.
 *
 * The filter bar's query and the sort are this component's state; the settings'
 * filter (`filter`) applies on top: of the tasks that match the query, the newest
 * `maxFinishedTasks` finished ones are listed.
 */
export function TaskMonitor({
  model,
  filter,
  trans,
  onShowInGraph,
  serverSettings,
  executorActions
}: ITaskMonitorProps): JSX.Element {
  const actions = React.useMemo(
    () => executorActions ?? new ExecutorPanelActions({ serverSettings, trans }),
    [executorActions, serverSettings, trans]
  );
  useSignalVersion(model.changed);
  const [query, setQuery] = React.useState<ITaskQuery>(EMPTY_TASK_QUERY);
  const [sort, setSort] = React.useState<ITaskSort>(DEFAULT_TASK_SORT);
  const tasks = model.tasks;
  const connected = model.connectionStatus === 'connected';
  // Ticks while some task runs (its runtime) or waits to start (its time queued).
  const now = useNow(connected && tasks.some(t => !isFinished(t.state)));

  const matched = React.useMemo(() => filterTasks(tasks, query), [tasks, query]);
  const shown = React.useMemo(() => visibleTasks(matched, filter), [matched, filter]);
  const counts = React.useMemo(
    () => countByState(filterTasks(tasks, { executorId: query.executorId, text: query.text })),
    [tasks, query.executorId, query.text]
  );
  const executors = React.useMemo(
    () => executorOptions(model.executors, tasks),
    [model.executors, tasks]
  );
  const onSelect = React.useCallback((id: string) => model.select(id), [model]);
  const selectedId = model.selectedTaskId;
  const selected = selectedId === null ? undefined : model.getTask(selectedId);

  let body: JSX.Element;
  if (shown.length > 0) {
    body = (
      <TaskTable
        tasks={shown}
        now={now}
        trans={trans}
        selectedId={selectedId}
        onSelect={onSelect}
        sort={sort}
        onSortChange={setSort}
        scrollResetKey={query}
      />
    );
  } else if (connected) {
    body = (
      <div className="jp-executorlab-TaskMonitor-empty">
        {tasks.length === 0
          ? trans.__(
              'No tasks yet. Futures submitted to an executorlab executor appear here.'
            )
          : isQueryActive(query) && matched.length === 0
            ? trans.__('No tasks match the filter.')
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
      <ExecutorList executors={model.executors} trans={trans} actions={actions} placement={model.placement} />
      <TaskSummary
        tasks={tasks}
        bridgeStatus={model.bridgeStatus}
        trans={trans}
      />
      {tasks.length > 0 && (
        <TaskFilterBar
          query={query}
          onQueryChange={setQuery}
          counts={counts}
          executors={executors}
          listed={shown.length}
          total={tasks.length}
          hiddenBySettings={matched.length - shown.length}
          trans={trans}
        />
      )}
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
