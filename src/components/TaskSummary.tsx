import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { countByState } from '../tasks/filter';
import { IBridgeStatus, ITaskView, TASK_STATES } from '../tokens';
import { stateLabel } from './StateBadge';

export interface ITaskSummaryProps {
  tasks: readonly ITaskView[];
  bridgeStatus: IBridgeStatus | null;
  trans: TranslationBundle;
}

/**
 * Counts per state over all known tasks, and which bridge answers.
 */
export function TaskSummary({
  tasks,
  bridgeStatus,
  trans
}: ITaskSummaryProps): JSX.Element | null {
  if (tasks.length === 0 && !bridgeStatus) {
    return null;
  }
  const counts = countByState(tasks);
  return (
    <div className="jp-executorlab-TaskSummary">
      <span className="jp-executorlab-TaskSummary-counts">
        {TASK_STATES.filter(state => counts[state] > 0).map(state => (
          <span
            key={state}
            className="jp-executorlab-TaskSummary-count"
            data-state={state}
          >
            {stateLabel(state, trans)}: {counts[state]}
          </span>
        ))}
      </span>
      {bridgeStatus && (
        <span
          className="jp-executorlab-TaskSummary-bridge"
          title={trans.__('Bridge process %1', bridgeStatus.pid)}
        >
          {trans.__('bridge %1', bridgeStatus.version)}
        </span>
      )}
    </div>
  );
}
