import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { ConnectionStatus } from '../tokens';

export interface IConnectionNoticeProps {
  status: ConnectionStatus;
  /** Whether tasks from before the disconnection are still listed. */
  showsStaleTasks: boolean;
  onRetry: () => void;
  trans: TranslationBundle;
}

/**
 * Tells that the bridge is not (yet) reachable; renders nothing once connected.
 */
export function ConnectionNotice({
  status,
  showsStaleTasks,
  onRetry,
  trans
}: IConnectionNoticeProps): JSX.Element | null {
  if (status === 'connected') {
    return null;
  }
  if (status === 'connecting') {
    return (
      <div className="jp-executorlab-ConnectionNotice" data-status={status}>
        {trans.__('Connecting to the executorlab bridge…')}
      </div>
    );
  }
  return (
    <div
      className="jp-executorlab-ConnectionNotice"
      data-status={status}
      role="alert"
    >
      <span className="jp-executorlab-ConnectionNotice-text">
        {trans.__('Not connected to the executorlab bridge. Reconnecting…')}
        {showsStaleTasks && ' ' + trans.__('The tasks listed may be out of date.')}
      </span>
      <button
        type="button"
        className="jp-executorlab-ConnectionNotice-retry jp-mod-styled"
        onClick={onRetry}
      >
        {trans.__('Retry now')}
      </button>
    </div>
  );
}
