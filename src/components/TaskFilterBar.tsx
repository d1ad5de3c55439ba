import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IExecutorOption, isQueryActive, ITaskQuery } from '../tasks/filter';
import { TASK_STATES, TaskState } from '../tokens';
import { StateBadge } from './StateBadge';

/**
 * What a state means for a future, longer than its badge: "Waiting on dependencies".
 */
export function stateDescription(state: TaskState, trans: TranslationBundle): string {
  switch (state) {
    case 'waiting':
      return trans.__('Waiting on dependencies');
    case 'queued':
      return trans.__('Queued for resources');
    case 'running':
      return trans.__('Running');
    case 'done':
      return trans.__('Done');
    case 'error':
      return trans.__('Failed');
    case 'cancelled':
      return trans.__('Cancelled');
  }
}

export interface ITaskFilterBarProps {
  query: ITaskQuery;
  onQueryChange: (query: ITaskQuery) => void;
  /** Tasks in each state among those that match the executor and the text. */
  counts: Record<TaskState, number>;
  /** Executors to choose from (besides all of them). */
  executors: readonly IExecutorOption[];
  /** Tasks listed in the table. */
  listed: number;
  /** Tasks the bridge knows. */
  total: number;
  /** Finished tasks that match but are left out by the settings (Finished tasks to list). */
  hiddenBySettings: number;
  trans: TranslationBundle;
}

/**
 * Above the task table: a toggle per state (with its count), the executor, a text
 * to look for, and how many tasks are listed of how many.
 */
export function TaskFilterBar({
  query,
  onQueryChange,
  counts,
  executors,
  listed,
  total,
  hiddenBySettings,
  trans
}: ITaskFilterBarProps): JSX.Element {
  const toggle = (state: TaskState) => {
    const states = query.states.includes(state)
      ? query.states.filter(s => s !== state)
      : TASK_STATES.filter(s => s === state || query.states.includes(s));
    onQueryChange({ ...query, states });
  };
  // The chosen executor stays a choice even once the bridge forgot it.
  const options =
    query.executorId === null || executors.some(e => e.id === query.executorId)
      ? executors
      : [...executors, { id: query.executorId, label: query.executorId }];
  const active = isQueryActive(query);

  return (
    <div className="jp-executorlab-TaskFilterBar">
      <div
        className="jp-executorlab-TaskFilterBar-states"
        role="group"
        aria-label={trans.__('Show tasks in these states')}
      >
        {TASK_STATES.map(state => {
          const pressed = query.states.includes(state);
          return (
            <button
              key={state}
              type="button"
              className="jp-executorlab-TaskFilterBar-state"
              data-state={state}
              data-count={counts[state]}
              aria-pressed={pressed}
              title={[
                trans._n(
                  '%2: %1 task',
                  '%2: %1 tasks',
                  counts[state],
                  stateDescription(state, trans)
                ),
                pressed
                  ? trans.__('Click to stop filtering by this state.')
                  : trans.__('Click to list the tasks in this state (and any other state picked).')
              ].join('\n')}
              onClick={() => toggle(state)}
            >
              <StateBadge state={state} trans={trans} />
              <span className="jp-executorlab-TaskFilterBar-count">
                {counts[state]}
              </span>
            </button>
          );
        })}
      </div>
      <div className="jp-executorlab-TaskFilterBar-fields">
        <input
          type="search"
          className="jp-executorlab-TaskFilterBar-text jp-mod-styled"
          value={query.text}
          placeholder={trans.__('Filter tasks')}
          title={trans.__('Filter tasks by function, task id, executor or error type')}
          aria-label={trans.__('Filter tasks by function, task id, executor or error type')}
          spellCheck={false}
          autoComplete="off"
          onChange={event => onQueryChange({ ...query, text: event.currentTarget.value })}
          onKeyDown={event => {
            if (event.key === 'Escape' && query.text !== '') {
              event.preventDefault();
              event.stopPropagation();
              onQueryChange({ ...query, text: '' });
            }
          }}
        />
        <select
          className="jp-executorlab-TaskFilterBar-executor"
          value={query.executorId ?? ''}
          aria-label={trans.__('Executor')}
          title={trans.__('List the tasks of one executor')}
          onChange={event =>
            onQueryChange({ ...query, executorId: event.currentTarget.value || null })
          }
        >
          <option value="">{trans.__('All executors')}</option>
          {options.map(e => (
            <option key={e.id} value={e.id}>
              {e.label}
            </option>
          ))}
        </select>
      </div>
      {(active || listed < total) && (
        <div className="jp-executorlab-TaskFilterBar-status">
          <span className="jp-executorlab-TaskFilterBar-listed">
            {trans._n('%2 of %1 task listed', '%2 of %1 tasks listed', total, listed)}
            {hiddenBySettings > 0 &&
              ' · ' +
                trans._n(
                  '%1 finished task left out by the settings',
                  '%1 finished tasks left out by the settings',
                  hiddenBySettings
                )}
          </span>
          {active && (
            <button
              type="button"
              className="jp-executorlab-TaskFilterBar-clear"
              data-action="clear-filter"
              onClick={() =>
                onQueryChange({ states: [], executorId: null, text: '' })
              }
            >
              {trans.__('Clear filter')}
            </button>
          )}
        </div>
      )}
    </div>
  );
}
