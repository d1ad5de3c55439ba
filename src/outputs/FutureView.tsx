import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { StateBadge } from '../components/StateBadge';
import { TaskOutput } from '../components/TaskOutput';
import { formatResources, taskQueuedTime } from '../components/TaskRow';
import { isFinished } from '../tasks/details';
import { useNow, useSignalVersion } from '../tasks/hooks';
import { formatDuration, taskRuntime } from '../tasks/runtime';
import { FutureModel } from './futureModel';

export interface IFutureViewProps {
  model: FutureModel;
  trans: TranslationBundle;
  /** Select the task in the Executors sidebar and open it. */
  onShowTask: (taskId: string) => void;
}

/**
 * One line for a future displayed in a cell: state, label, run (or queued) time,
 * resources, where it runs, and a link to the task in the Executors sidebar;
 * under it what the task prints when its output is live. Without the bridge's
 * view of the task it shows the kernel's snapshot, greyed, with the reason.
 */
export function FutureView({ model, trans, onShowTask }: IFutureViewProps): JSX.Element {
  useSignalVersion(model.changed);
  const data = model.data;
  const stale = model.stale;
  const task = stale ? null : model.task;
  const state = model.state;
  const unfinished = task !== null && !isFinished(task.state);
  const now = useNow(unfinished);

  let time: { kind: 'runtime' | 'queued'; text: string } | null = null;
  if (task) {
    const runtime = taskRuntime(task, now);
    const queued = taskQueuedTime(task, now);
    if (runtime !== null) {
      time = { kind: 'runtime', text: formatDuration(runtime, trans) };
    } else if (unfinished && queued !== null) {
      time = { kind: 'queued', text: trans.__('queued %1', formatDuration(queued, trans)) };
    }
  }
  const resources = task
    ? formatResources(task, trans)
    : trans._n('%1 core', '%1 cores', data.cores);
  const note =
    model.source === 'unknown'
      ? trans.__('not known to the running bridge')
      : model.source === 'unreachable'
        ? trans.__('the bridge could not be reached')
        : null;

  return (
    <div
      className={`jp-executorlab-FutureView${stale ? ' jp-mod-stale' : ''}`}
      data-task-id={data.task_id}
      data-state={state}
      data-source={model.source}
      data-stale={stale ? 'true' : undefined}
    >
      <div className="jp-executorlab-FutureView-line">
        <StateBadge state={state} trans={trans} />
        <span className="jp-executorlab-FutureView-label" title={trans.__('Task: %1', data.task_id)}>
          {model.label}
        </span>
        {task?.error_type && (
          <span className="jp-executorlab-FutureView-error">{task.error_type}</span>
        )}
        {task?.cache_hit && (
          <span className="jp-executorlab-FutureView-cacheHit">{trans.__('from cache')}</span>
        )}
        {time && (
          <span
            className="jp-executorlab-FutureView-runtime"
            data-kind={time.kind}
            title={time.kind === 'runtime' ? trans.__('Run time') : trans.__('Queued for')}
          >
            {time.text}
          </span>
        )}
        <span className="jp-executorlab-FutureView-cores" title={trans.__('Resources')}>
          {resources}
        </span>
        {task?.where && (
          <span className="jp-executorlab-FutureView-host" title={trans.__('Ran on: %1', task.where)}>
            {task.where}
          </span>
        )}
        {note && (
          <span
            className="jp-executorlab-FutureView-note"
            title={model.fetchError ?? undefined}
          >
            {note}
          </span>
        )}
        <button
          type="button"
          className="jp-executorlab-FutureView-link jp-Button jp-mod-minimal"
          disabled={stale}
          title={
            stale
              ? trans.__('The running bridge does not know this task')
              : trans.__('Select this task in the Executors sidebar')
          }
          onClick={() => onShowTask(data.task_id)}
        >
          {trans.__('Show in Executors')}
        </button>
      </div>
      {model.liveOutput && !stale && (
        <div
          className="jp-executorlab-FutureView-output"
          role="group"
          aria-label={trans.__('Output of %1', model.label)}
        >
          {model.output ? (
            <TaskOutput text={model.output} />
          ) : (
            <div className="jp-executorlab-FutureView-placeholder">
              {!model.outputLoaded
                ? model.outputError
                  ? trans.__('Could not load the output: %1', model.outputError)
                  : trans.__('Loading…')
                : unfinished
                  ? trans.__('No output yet.')
                  : trans.__('No output.')}
            </div>
          )}
        </div>
      )}
    </div>
  );
}
