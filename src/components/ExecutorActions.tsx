import { Dialog, showDialog, showErrorMessage } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IExecutorPanelActions } from '../executors/actions';
import { pendingCalls } from '../executors/model';
import { IExecutorView } from '../tokens';

/** "Stop <name>? N calls are unfinished; they will be cancelled." */
export function stopQuestion(
  executor: IExecutorView,
  trans: TranslationBundle
): string {
  return trans._n(
    'Stop %2? %1 call is unfinished; it will be cancelled.',
    'Stop %2? %1 calls are unfinished; they will be cancelled.',
    pendingCalls(executor),
    executor.name
  );
}

export interface IStopExecutorFlowOptions {
  executor: IExecutorView;
  actions: IExecutorPanelActions;
  trans: TranslationBundle;
  /** JupyterLab's `showDialog` by default. */
  showDialog?: typeof showDialog;
  /** JupyterLab's `showErrorMessage` by default. */
  showErrorMessage?: typeof showErrorMessage;
}

/**
 * Stop: ask first when calls are running or unfinished (they get cancelled), else
 * stop at once. Resolves true when the bridge stopped it; false when cancelled or
 * refused (the refusal is shown).
 */
export async function runStopExecutorFlow(
  options: IStopExecutorFlowOptions
): Promise<boolean> {
  const { executor, actions, trans } = options;
  const dialog = options.showDialog ?? showDialog;
  const errorDialog = options.showErrorMessage ?? showErrorMessage;
  if (pendingCalls(executor) > 0) {
    const answer = await dialog({
      title: trans.__('Stop Executor?'),
      body: (
        <p data-testid="executorlab-stop-executor-question">
          {stopQuestion(executor, trans)}
        </p>
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Stop') })
      ],
      // Enter must not cancel calls: Cancel is the default.
      defaultButton: 0
    });
    if (!answer.button.accept) {
      return false;
    }
  }
  const error = await actions.stop(executor.id);
  if (error !== null) {
    await errorDialog(trans.__('Executor Not Stopped'), error, [
      Dialog.okButton({ label: trans.__('Close') })
    ]);
    return false;
  }
  return true;
}

export interface IExecutorListHeaderProps {
  /** Executors listed below it (0: say how executors come about). */
  count: number;
  onCreate: () => void;
  /** The dialog is open or the request under way. */
  busy?: boolean;
  trans: TranslationBundle;
}

/**
 * "Executors" with a New executor… button.
 */
export function ExecutorListHeader({
  count,
  onCreate,
  busy = false,
  trans
}: IExecutorListHeaderProps): JSX.Element {
  return (
    <div className="jp-executorlab-ExecutorList-header">
      <span className="jp-executorlab-ExecutorList-title">
        {count === 0
          ? trans.__('No executors. Kernels start them, or start one here.')
          : trans.__('Executors')}
      </span>
      <button
        type="button"
        className="jp-executorlab-ExecutorList-button jp-executorlab-ExecutorList-new"
        data-action="new-executor"
        disabled={busy}
        title={trans.__('Start an executor on the bridge that notebooks can connect to')}
        onClick={onCreate}
      >
        {trans.__('New executor…')}
      </button>
    </div>
  );
}
