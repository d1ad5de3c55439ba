import { ServerConnection } from '@jupyterlab/services';
import { TranslationBundle } from '@jupyterlab/translation';
import { closeIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { requestAPI } from '../handler';
import {
  isFinished,
  TaskDetailsModel,
  TaskDetailsRequest
} from '../tasks/details';
import { useNow, useSignalVersion } from '../tasks/hooks';
import { formatDuration, taskRuntime } from '../tasks/runtime';
import { ITaskMonitorModel, ITaskView } from '../tokens';
import { StateBadge } from './StateBadge';
import { taskQueuedTime } from './TaskRow';
import { TaskOutput } from './TaskOutput';

export interface ITaskDetailsProps {
  /** The live task list: the task's view, the names of its dependencies, the selection. */
  model: ITaskMonitorModel;
  taskId: string;
  trans: TranslationBundle;
  /** Reveal the task in the dependency graph; no "Show in graph" button without it. */
  onShowInGraph?: (id: string) => void;
  /** Server settings for `api/tasks/<id>`; the page's by default. */
  serverSettings?: ServerConnection.ISettings;
  /** Replaces `requestAPI` (tests). */
  request?: TaskDetailsRequest;
  /** Milliseconds between refetches while the task runs; 1000 by default. */
  pollInterval?: number;
}

/**
 * Everything about the selected task: its facts, why it failed, what it printed
 * (live while it runs), Cancel and Show in graph.
 */
export function TaskDetails({
  model,
  taskId,
  trans,
  onShowInGraph,
  serverSettings,
  request,
  pollInterval
}: ITaskDetailsProps): JSX.Element | null {
  useSignalVersion(model.changed);
  // The latest request options, so a new function identity does not restart the fetching.
  const options = React.useRef({ request, serverSettings });
  options.current = { request, serverSettings };
  const [details, setDetails] = React.useState<TaskDetailsModel | null>(null);
  React.useEffect(() => {
    const created = new TaskDetailsModel({
      taskId,
      monitor: model,
      pollInterval,
      request: <T,>(path: string, init?: RequestInit) => {
        const { request, serverSettings } = options.current;
        return request
          ? request<T>(path, init)
          : requestAPI<T>(path, init, serverSettings);
      }
    });
    setDetails(created);
    return () => {
      created.dispose();
    };
  }, [taskId, model, pollInterval]);
  useModelVersion(details);

  const task: ITaskView | null =
    model.getTask(taskId) ?? (details?.taskId === taskId ? details.task : null);
  const unfinished = task !== null && !isFinished(task.state);
  const now = useNow(unfinished);
  if (task === null) {
    return null;
  }
  const current = details?.taskId === taskId ? details : null;
  const failure = current?.failure ?? null;
  const output = current?.output ?? '';

  return (
    <section
      className="jp-executorlab-TaskDetails"
      data-task-id={task.id}
      data-state={task.state}
      aria-label={trans.__('Details of task %1', task.fn_name)}
    >
      <header className="jp-executorlab-TaskDetails-header">
        <span className="jp-executorlab-TaskDetails-fnName" title={task.fn_name}>
          {task.fn_name}
        </span>
        <StateBadge state={task.state} trans={trans} />
        <button
          type="button"
          className="jp-executorlab-TaskDetails-close jp-Button jp-mod-minimal"
          data-action="close"
          title={trans.__('Close the task details')}
          aria-label={trans.__('Close the task details')}
          onClick={() => model.select(null)}
        >
          <closeIcon.react tag="span" />
        </button>
      </header>

      <TaskFacts task={task} now={now} model={model} trans={trans} />

      {(failure || task.error_type) && (
        <div className="jp-executorlab-TaskDetails-failure" role="group" aria-label={trans.__('Exception')}>
          <div className="jp-executorlab-TaskDetails-exception">
            {failure
              ? failure.error_message
                ? trans.__('%1: %2', failure.error_type, failure.error_message)
                : failure.error_type
              : task.error_type}
          </div>
          {failure?.traceback && (
            <pre className="jp-executorlab-TaskDetails-traceback">
              {failure.traceback}
            </pre>
          )}
        </div>
      )}

      <div className="jp-executorlab-TaskDetails-section">
        <div className="jp-executorlab-TaskDetails-sectionTitle">
          {trans.__('Output')}
        </div>
        {output ? (
          <TaskOutput text={output} />
        ) : (
          <div className="jp-executorlab-TaskDetails-placeholder">
            {current === null || (current.details === null && current.loading)
              ? trans.__('Loading…')
              : unfinished
                ? trans.__('No output yet.')
                : trans.__('No output.')}
          </div>
        )}
      </div>

      {current?.error && (
        <div className="jp-executorlab-TaskDetails-error" role="alert">
          {trans.__('Could not load the task details: %1', current.error)}
        </div>
      )}
      {current?.cancelError && (
        <div className="jp-executorlab-TaskDetails-error" role="alert">
          {trans.__('Could not cancel the task: %1', current.cancelError)}
        </div>
      )}

      {(unfinished || onShowInGraph) && (
        <div className="jp-executorlab-TaskDetails-actions">
          {unfinished && (
            <button
              type="button"
              className="jp-executorlab-TaskDetails-button jp-mod-styled jp-mod-warn"
              data-action="cancel"
              disabled={!current || current.cancelling}
              onClick={() => void current?.cancel()}
            >
              {current?.cancelling ? trans.__('Cancelling…') : trans.__('Cancel')}
            </button>
          )}
          {onShowInGraph && (
            <button
              type="button"
              className="jp-executorlab-TaskDetails-button jp-mod-styled"
              data-action="show-in-graph"
              onClick={() => onShowInGraph(task.id)}
            >
              {trans.__('Show in graph')}
            </button>
          )}
        </div>
      )}
    </section>
  );
}

interface ITaskFactsProps {
  task: ITaskView;
  now: number;
  model: ITaskMonitorModel;
  trans: TranslationBundle;
}

/**
 * Id, executor, resources, cache, times and dependencies of a task.
 */
function TaskFacts({ task, now, model, trans }: ITaskFactsProps): JSX.Element {
  const { cores, threads_per_core, gpus_per_core } = task.resources;
  const resources = [
    trans._n('%1 core', '%1 cores', cores),
    trans._n('%1 thread per core', '%1 threads per core', threads_per_core),
    trans._n('%1 GPU per core', '%1 GPUs per core', gpus_per_core)
  ].join(', ');
  const queued = taskQueuedTime(task, now);
  const dependencies = task.dependencies ?? [];

  const facts: [string, string, React.ReactNode][] = [
    ['id', trans.__('Task'), <code>{task.id}</code>],
    ['executor', trans.__('Executor'), task.executor_name],
    ['resources', trans.__('Resources'), resources]
  ];
  if (task.args) {
    facts.splice(2, 0, ['args', trans.__('Arguments'), <code>{task.args}</code>]);
  }
  if (task.where) {
    facts.push(['where', trans.__('Ran on'), task.where]);
  }
  if (task.result) {
    facts.push(['result', trans.__('Result'), <code>{task.result}</code>]);
  }
  if (task.cache_key) {
    facts.push([
      'cache',
      trans.__('Cache key'),
      <>
        <code title={task.cache_file ?? undefined}>{task.cache_key}</code>
        {task.cache_hit && (
          <span className="jp-executorlab-TaskDetails-cacheHit">
            {' '}
            {trans.__('(from cache)')}
          </span>
        )}
      </>
    ]);
  } else if (task.cache_hit) {
    facts.push(['cache', trans.__('Cache'), trans.__('from cache')]);
  }
  if (task.cache_file) {
    facts.push(['cache-file', trans.__('Cache file'), <code>{task.cache_file}</code>]);
  }
  facts.push(
    ['submitted', trans.__('Submitted'), formatTime(task.submitted_at)],
    ['started', trans.__('Started'), formatTime(task.started_at)],
    ['finished', trans.__('Finished'), formatTime(task.finished_at)],
    ['queued', trans.__('Queued for'), formatDuration(queued, trans)],
    ['runtime', trans.__('Run time'), formatDuration(taskRuntime(task, now), trans)]
  );
  if (task.orphaned) {
    facts.push(['orphaned', trans.__('Kernel'), trans.__('gone (the record stays)')]);
  }
  facts.push([
    'dependencies',
    trans.__('Dependencies'),
    dependencies.length === 0 ? (
      trans.__('none')
    ) : (
      <>
        {dependencies.length}
        <ul className="jp-executorlab-TaskDetails-dependencies">
          {dependencies.map(id => {
            const dependency = model.getTask(id);
            return (
              <li key={id} data-task-id={id}>
                {dependency ? (
                  <button
                    type="button"
                    className="jp-executorlab-TaskDetails-dependency"
                    title={trans.__('Select task %1', id)}
                    onClick={() => model.select(id)}
                  >
                    <span className="jp-executorlab-TaskDetails-dependencyName">
                      {dependency.fn_name}
                    </span>
                    <StateBadge state={dependency.state} trans={trans} />
                  </button>
                ) : (
                  <span className="jp-executorlab-TaskDetails-dependencyUnknown">
                    {trans.__('unknown task %1', id)}
                  </span>
                )}
              </li>
            );
          })}
        </ul>
      </>
    )
  ]);

  return (
    <dl className="jp-executorlab-TaskDetails-facts">
      {facts.map(([key, label, value]) => (
        <React.Fragment key={key}>
          <dt>{label}</dt>
          <dd data-fact={key}>{value}</dd>
        </React.Fragment>
      ))}
    </dl>
  );
}

/**
 * Epoch milliseconds as local date and time; a dash for none.
 */
export function formatTime(ms: number | null): string {
  return ms === null ? '–' : new Date(ms).toLocaleString();
}

/**
 * Re-render when a details model (which may not exist yet) changes.
 */
function useModelVersion(details: TaskDetailsModel | null): void {
  const [, setVersion] = React.useState(0);
  React.useEffect(() => {
    if (!details) {
      return;
    }
    const bump = () => setVersion(v => v + 1);
    details.changed.connect(bump);
    // It may have changed between its creation and this effect.
    bump();
    return () => {
      details.changed.disconnect(bump);
    };
  }, [details]);
}
