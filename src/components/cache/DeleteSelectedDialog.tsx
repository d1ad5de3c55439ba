import { Dialog, showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatBytes } from '../../cache/format';
import { ICacheBrowserModel, IDeleteReport } from '../../cache/tokens';

/**
 * "Delete N selected files (X MB) from <dir>?"
 */
export function deleteQuestion(
  count: number,
  bytes: number,
  directory: string,
  trans: TranslationBundle
): string {
  return trans._n(
    'Delete %1 selected file (%2) from %3?',
    'Delete %1 selected files (%2) from %3?',
    count,
    formatBytes(bytes, trans),
    directory
  );
}

export interface IDeleteSelectedFlowOptions {
  model: ICacheBrowserModel;
  trans: TranslationBundle;
  /** Ask before deleting; true by default. */
  confirm?: boolean;
  /** JupyterLab's `showDialog` by default. */
  showDialog?: typeof showDialog;
}

/**
 * Delete selected: (ask, Cancel / Delete) → delete. Resolves with what was deleted,
 * or null when cancelled or the request failed (`model.error` then says why).
 */
export async function runDeleteSelectedFlow(
  options: IDeleteSelectedFlowOptions
): Promise<IDeleteReport | null> {
  const { model, trans } = options;
  const files = model.selection;
  if (files.size === 0) {
    return null;
  }
  if (options.confirm ?? true) {
    const bytes = (model.listing?.entries ?? [])
      .filter(e => files.has(e.file))
      .reduce((n, e) => n + e.size, 0);
    const directory = model.listing?.directory || model.directory;
    const answer = await (options.showDialog ?? showDialog)({
      title: trans.__('Delete Cache Files?'),
      body: (
        <div
          className="jp-ExecutorlabCache-deleteConfirmation"
          data-testid="executorlab-cache-delete-confirmation"
        >
          {deleteQuestion(files.size, bytes, directory, trans)}
        </div>
      ),
      buttons: [
        Dialog.cancelButton({ label: trans.__('Cancel') }),
        Dialog.warnButton({ label: trans.__('Delete') })
      ],
      defaultButton: 0
    });
    if (!answer.button.accept) {
      return null;
    }
  }
  return model.deleteSelected();
}
