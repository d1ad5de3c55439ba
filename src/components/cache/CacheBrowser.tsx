import { showDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatBytes } from '../../cache/format';
import { ICacheBrowserModel } from '../../cache/tokens';
import { useSignalVersion } from '../../tasks/hooks';
import { CachePager } from './CachePager';
import { CacheResultNotice } from './CacheResultNotice';
import { CacheTable } from './CacheTable';
import { CacheToolbar } from './CacheToolbar';
import { runCleanCacheFlow } from './CleanCacheDialog';
import { runDeleteSelectedFlow } from './DeleteSelectedDialog';

export interface ICacheBrowserProps {
  model: ICacheBrowserModel;
  trans: TranslationBundle;
  /**
   * Ask before deleting: before "Delete selected", and the clean's second dialog
   * ("This deletes N files…"). True by default.
   */
  confirm?: boolean;
  /** JupyterLab's `showDialog` by default. */
  showDialog?: typeof showDialog;
}

/**
 * The cache browser: toolbar, totals, errors, what the last action removed, and
 * the page of cache files.
 *
 * While no directory is open it opens the first one kernels used, if any.
 */
export function CacheBrowser({
  model,
  trans,
  confirm = true,
  showDialog
}: ICacheBrowserProps): JSX.Element {
  useSignalVersion(model.changed);
  const directory = model.directory;
  const [draft, setDraft] = React.useState(directory);
  const [directories, setDirectories] = React.useState<string[]>([]);

  // The model's directory may be set elsewhere (a command, the first known one).
  React.useEffect(() => setDraft(directory), [directory]);

  const loadDirectories = React.useCallback(
    (openFirst: boolean) => {
      let live = true;
      void model.knownDirectories().then(list => {
        if (!live || model.isDisposed) {
          return;
        }
        setDirectories(list);
        if (openFirst && !model.directory && list.length > 0) {
          model.directory = list[0];
        }
      });
      return () => {
        live = false;
      };
    },
    [model]
  );
  React.useEffect(() => loadDirectories(true), [loadDirectories]);

  const listing = model.listing;
  const total = listing?.total ?? 0;

  const open = () => {
    if (draft.trim() === model.directory) {
      void model.refresh();
    } else {
      model.directory = draft;
    }
  };
  const report = (reason: unknown) =>
    console.error('executorlab: cache browser action failed', reason);
  const deleteSelected = () => {
    runDeleteSelectedFlow({ model, trans, confirm, showDialog }).catch(report);
  };
  const clean = () => {
    runCleanCacheFlow({ model, trans, confirm, showDialog }).catch(report);
  };

  let body: JSX.Element | null = null;
  if (!directory) {
    body = (
      <div className="jp-ExecutorlabCache-empty">
        {trans.__(
          'Type the absolute path of a cache directory and press Enter, or pick one that kernels used.'
        )}
      </div>
    );
  } else if (listing === null) {
    body = model.loading ? (
      <div className="jp-ExecutorlabCache-empty">{trans.__('Loading…')}</div>
    ) : null;
  } else if (total === 0) {
    body = (
      <div className="jp-ExecutorlabCache-empty">
        {trans.__('No cache files in this directory.')}
      </div>
    );
  } else {
    body = (
      <>
        <div className="jp-ExecutorlabCache-tableWrapper">
          <CacheTable
            entries={listing.entries}
            selection={model.selection}
            isSelectable={entry => model.isSelectable(entry)}
            sort={model.sort}
            order={model.order}
            onSort={sort => model.setSort(sort)}
            onSelect={(file, selected) => model.select(file, selected)}
            onSelectAll={selected => model.selectAll(selected)}
            now={Date.now()}
            trans={trans}
          />
        </div>
        <CachePager
          offset={model.offset}
          count={listing.entries.length}
          total={total}
          pageSize={model.pageSize}
          onPrevious={() => model.previousPage()}
          onNext={() => model.nextPage()}
          trans={trans}
        />
      </>
    );
  }

  return (
    <div
      className="jp-ExecutorlabCache"
      aria-busy={model.loading}
      data-loading={model.loading ? 'true' : undefined}
    >
      <CacheToolbar
        directory={draft}
        directories={directories}
        onDirectoryChange={setDraft}
        onDirectoryFocus={() => void loadDirectories(false)}
        onOpen={open}
        onRefresh={() => void model.refresh()}
        onDelete={deleteSelected}
        onClean={clean}
        selectionCount={model.selection.size}
        hasDirectory={directory !== ''}
        canClean={total > 0}
        busy={model.loading}
        trans={trans}
      />
      {listing && (
        <div
          className="jp-ExecutorlabCache-totals"
          data-testid="executorlab-cache-totals"
          title={listing.directory}
        >
          {trans._n('%1 entry', '%1 entries', listing.total)}
          {' · '}
          {formatBytes(listing.total_bytes, trans)}
        </div>
      )}
      {model.error && (
        <div
          className="jp-ExecutorlabCache-error"
          data-testid="executorlab-cache-error"
          role="alert"
        >
          {model.error}
        </div>
      )}
      <CacheResultNotice
        result={model.lastResult}
        onDismiss={() => model.clearResult()}
        trans={trans}
      />
      {body}
    </div>
  );
}
