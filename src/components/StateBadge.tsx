import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { TaskState } from '../tokens';

export interface IStateBadgeProps {
  state: TaskState;
  trans: TranslationBundle;
}

export function stateLabel(state: TaskState, trans: TranslationBundle): string {
  switch (state) {
    case 'waiting':
      return trans.__('Waiting');
    case 'queued':
      return trans.__('Queued');
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

/**
 * Coloured dot plus the state's name.
 */
export function StateBadge({ state, trans }: IStateBadgeProps): JSX.Element {
  return (
    <span className="jp-executorlab-StateBadge" data-state={state}>
      <span className="jp-executorlab-StateBadge-dot" aria-hidden="true" />
      {stateLabel(state, trans)}
    </span>
  );
}
