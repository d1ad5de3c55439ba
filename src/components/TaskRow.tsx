import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { isFinished } from '../tasks/filter';
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
  /** 1-based position among the table's rows (header included), for assistive technology. */
  rowIndex?: number;
}

/**
 * Seconds a task waited between its submission and its start: live while it has
 * not started, null when it finished without starting (cancelled, or from cache).
 */
export function taskQueuedTime(task: ITaskView, now: number): number | null {
  if (task.started_at !== null) {
    return Math.max(0, (task.started_at - task.submitted_at) / 1000);
  }
  return isFinished(task.state)
    ? null
    : Math.max(0, (now - task.submitted_at) / 1000);
}

/**
 * Resources a task asked for, short: "4 cores, 2 threads, 1 GPU".
 */
export function formatResources(task: ITaskView, trans: TranslationBundle): string {
  const { cores, threads_per_core, gpus_per_core } = task.resources;
  return [
    trans._n('%1 core', '%1 cores', cores),
    threads_per_core > 1
      ? trans._n('%1 thread', '%1 threads', threads_per_core)
      : null,
    gpus_per_core > 0 ? trans._n('%1 GPU', '%1 GPUs', gpus_per_core) : null
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * One future on two lines of fixed height (the table is virtualised): its function,
 * then state, error type, "from cache", executor, resources and time queued;
 * its runtime on the right. Everything else is in its tooltip.
 */
export const TaskRow = React.memo(function TaskRow({
  task,
  now,
  trans,
  selected,
  onSelect,
  rowIndex
}: ITaskRowProps): JSX.Element {
  const resources = formatResources(task, trans);
  const queued = taskQueuedTime(task, now);
  const details = [
    trans.__('Task: %1', task.id),
    trans.__('Executor: %1', task.executor_name),
    trans.__('Resources: %1', resources),
    task.where ? trans.__('Ran on: %1', task.where) : null,
    queued !== null
      ? trans.__('Queued for: %1', formatDuration(queued, trans))
      : null,
    task.cache_hit ? trans.__('Finished from its cache file: nothing ran') : null,
    task.orphaned ? trans.__('Its kernel is gone (the record stays)') : null,
    task.error_type ? trans.__('Error: %1', task.error_type) : null
  ]
    .filter(Boolean)
    .join('\n');

  return (
    <tr
      className={`jp-executorlab-TaskRow${selected ? ' jp-mod-selected' : ''}`}
      aria-selected={selected ?? false}
      aria-rowindex={rowIndex}
      onClick={onSelect ? () => onSelect(task.id) : undefined}
      data-task-id={task.id}
      data-state={task.state}
      data-fn-name={task.fn_name}
      data-cache-hit={task.cache_hit ? 'true' : undefined}
      title={details}
    >
      <td className="jp-executorlab-TaskRow-function">
        <div className="jp-executorlab-TaskRow-fnName">
          {task.fn_name}
          {task.args !== undefined && task.args !== null && (
            <span className="jp-executorlab-TaskRow-args">({task.args})</span>
          )}
        </div>
        <div className="jp-executorlab-TaskRow-detail">
          <StateBadge state={task.state} trans={trans} />
          {task.error_type && (
            <span className="jp-executorlab-TaskRow-error">{task.error_type}</span>
          )}
          {task.cache_hit && (
            <span className="jp-executorlab-TaskRow-cacheHit">
              {trans.__('from cache')}
            </span>
          )}
          <span className="jp-executorlab-TaskRow-executor">
            {task.executor_name} · {resources}
          </span>
          {queued !== null && (
            <span className="jp-executorlab-TaskRow-queued">
              {trans.__('queued %1', formatDuration(queued, trans))}
            </span>
          )}
        </div>
      </td>
      <td className="jp-executorlab-TaskRow-runtime">
        {formatDuration(taskRuntime(task, now), trans)}
      </td>
    </tr>
  );
});
