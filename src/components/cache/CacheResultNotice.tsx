import { TranslationBundle } from '@jupyterlab/translation';
import { closeIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatBytes } from '../../cache/format';
import { CacheActionResult, ICacheFileBytes } from '../../cache/tokens';

/**
 * File names listed at most under "Show files".
 */
const MAX_LISTED = 200;

export interface ICacheResultNoticeProps {
  result: CacheActionResult | null;
  onDismiss: () => void;
  trans: TranslationBundle;
}

function deletedLine(
  count: number,
  bytes: number,
  trans: TranslationBundle
): string {
  return count === 0
    ? trans.__('No cache file matched; nothing was deleted.')
    : trans._n(
        'Deleted %1 file (%2).',
        'Deleted %1 files (%2).',
        count,
        formatBytes(bytes, trans)
      );
}

function FileList({
  files,
  trans
}: {
  files: readonly ICacheFileBytes[];
  trans: TranslationBundle;
}): JSX.Element | null {
  if (files.length === 0) {
    return null;
  }
  return (
    <details className="jp-ExecutorlabCache-resultFiles">
      <summary>{trans.__('Show files')}</summary>
      <ul>
        {files.slice(0, MAX_LISTED).map(f => (
          <li key={f.file}>
            {f.file} ({formatBytes(f.bytes, trans)})
          </li>
        ))}
        {files.length > MAX_LISTED && (
          <li>{trans.__('… and %1 more', files.length - MAX_LISTED)}</li>
        )}
      </ul>
    </details>
  );
}

/**
 * What the last delete or clean removed, and what it kept.
 */
export function CacheResultNotice({
  result,
  onDismiss,
  trans
}: ICacheResultNoticeProps): JSX.Element | null {
  if (!result) {
    return null;
  }
  let body: JSX.Element;
  if (result.action === 'delete') {
    const { removed, bytes, refused } = result.report;
    body = (
      <>
        <div>{deletedLine(removed.length, bytes, trans)}</div>
        <FileList files={removed} trans={trans} />
        {refused.length > 0 && (
          <div className="jp-ExecutorlabCache-resultRefused">
            {trans._n(
              '%1 file was not deleted:',
              '%1 files were not deleted:',
              refused.length
            )}
            <ul>
              {refused.slice(0, MAX_LISTED).map(r => (
                <li key={r.file}>
                  {r.file}: {r.reason}
                </li>
              ))}
            </ul>
          </div>
        )}
      </>
    );
  } else {
    const { count, bytes, files, kept_in_use } = result.report;
    body = (
      <>
        <div>{deletedLine(count, bytes, trans)}</div>
        <FileList files={files} trans={trans} />
        {kept_in_use > 0 && (
          <div className="jp-ExecutorlabCache-resultKept">
            {trans._n(
              '%1 file in use was kept.',
              '%1 files in use were kept.',
              kept_in_use
            )}
          </div>
        )}
      </>
    );
  }
  return (
    <div
      className="jp-ExecutorlabCache-result"
      data-action={result.action}
      data-testid="executorlab-cache-result"
      role="status"
    >
      <div className="jp-ExecutorlabCache-resultBody">{body}</div>
      <button
        type="button"
        className="jp-ExecutorlabCache-dismiss"
        data-action="dismiss-result"
        title={trans.__('Dismiss')}
        aria-label={trans.__('Dismiss')}
        onClick={onDismiss}
      >
        <closeIcon.react tag="span" />
      </button>
    </div>
  );
}
