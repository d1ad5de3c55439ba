import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatDuration, taskRuntime } from '../tasks/runtime';
import { ITaskView } from '../tokens';
import { StateBadge } from './StateBadge';

export interface ITaskRowProps {
  task: ITaskView;
  /** Epoch milliseconds used for the live runtime of running tasks. */
  now: number;
  trans: TranslationBundle;
  selected?: boolean;
  onSelect?: (id: string) => void;
}

/**
 * One future: function name, state, executor and resources, runtime.
 */
export function TaskRow({ task, now, trans, selected, onSelect }: ITaskRowProps): JSX.Element {
  const { cores, threads_per_core, gpus_per_core } = task.resources;
  const resources = [
    trans._n('%1 core', '%1 cores', cores),
    threads_per_core > 1
      ? trans._n('%1 thread', '%1 threads', threads_per_core)
      : null,
    gpus_per_core > 0 ? trans._n('%1 GPU', '%1 GPUs', gpus_per_core) : null
  ]
    .filter(Boolean)
    .join(', ');
  const details = [
    trans.__('Task: %1', task.id),
    trans.__('Executor: %1', task.executor_name),
    trans.__('Resources: %1', resources),
    task.error_type ? trans.__('Error: %1', task.error_type) : null
  ]
    .filter(Boolean)
    .join('\n');

  return (
    <tr
      className={`jp-executorlab-TaskRow${selected ? ' jp-mod-selected' : ''}`}
      aria-selected={selected ?? false}
      onClick={onSelect ? () => onSelect(task.id) : undefined}
      data-task-id={task.id}
      data-state={task.state}
      data-fn-name={task.fn_name}
      title={details}
    >
      <td className="jp-executorlab-TaskRow-function">
        <div className="jp-executorlab-TaskRow-fnName">{task.fn_name}</div>
        <div className="jp-executorlab-TaskRow-detail">
          <StateBadge state={task.state} trans={trans} />
          <span className="jp-executorlab-TaskRow-executor">
            {task.executor_name} · {resources}
          </span>
        </div>
        {task.error_type && (
          <div className="jp-executorlab-TaskRow-error">{task.error_type}</div>
        )}
      </td>
      <td className="jp-executorlab-TaskRow-runtime">
        {formatDuration(taskRuntime(task, now), trans)}
      </td>
    </tr>
  );
}
