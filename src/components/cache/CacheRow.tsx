import { TranslationBundle } from '@jupyterlab/translation';
import { lockIcon } from '@jupyterlab/ui-components';
import * as React from 'react';

import {
  formatBytes,
  formatISOTime,
  formatRelativeTime
} from '../../cache/format';
import { ICacheEntry } from '../../cache/tokens';
import { formatDuration } from '../../tasks/runtime';
import { CacheStatus } from './CacheStatus';

export interface ICacheRowProps {
  entry: ICacheEntry;
  selected: boolean;
  /** Whether the checkbox may be ticked (not while the file is in use). */
  selectable: boolean;
  onSelect: (file: string, selected: boolean) => void;
  /** Epoch milliseconds the "modified" times are counted back from. */
  now: number;
  trans: TranslationBundle;
}

/**
 * Tooltip of a file an unfinished call uses.
 */
export function inUseReason(trans: TranslationBundle): string {
  return trans.__(
    'In use: an unfinished call uses this cache key, so the file cannot be deleted now.'
  );
}

/**
 * One cache file: checkbox, function, status, runtime, size, modified, result, writer.
 */
export function CacheRow({
  entry,
  selected,
  selectable,
  onSelect,
  now,
  trans
}: ICacheRowProps): JSX.Element {
  const details = [
    trans.__('File: %1', entry.file),
    trans.__('Key: %1', entry.key),
    entry.queue_id !== null ? trans.__('Queue id: %1', entry.queue_id) : null,
    entry.in_use ? inUseReason(trans) : null
  ]
    .filter(Boolean)
    .join('\n');
  const checkboxTitle = selectable
    ? trans.__('Select %1', entry.file)
    : inUseReason(trans);

  return (
    <tr
      className="jp-ExecutorlabCache-row"
      data-file={entry.file}
      data-status={entry.status}
      data-in-use={entry.in_use ? 'true' : undefined}
      aria-selected={selected}
    >
      <td className="jp-ExecutorlabCache-cell-select">
        <input
          type="checkbox"
          className="jp-ExecutorlabCache-select"
          data-testid="executorlab-cache-select"
          checked={selected}
          disabled={!selectable}
          title={checkboxTitle}
          aria-label={checkboxTitle}
          onChange={event => onSelect(entry.file, event.currentTarget.checked)}
        />
      </td>
      <td className="jp-ExecutorlabCache-cell-function" title={details}>
        <span className="jp-ExecutorlabCache-function">{entry.function}</span>
        {entry.in_use && (
          <span
            className="jp-ExecutorlabCache-inUse"
            title={inUseReason(trans)}
          >
            <lockIcon.react
              tag="span"
              className="jp-ExecutorlabCache-inUseIcon"
            />
            {trans.__('in use')}
          </span>
        )}
      </td>
      <td className="jp-ExecutorlabCache-cell-status">
        <CacheStatus status={entry.status} trans={trans} />
      </td>
      <td className="jp-ExecutorlabCache-cell-runtime">
        {formatDuration(entry.runtime, trans)}
      </td>
      <td
        className="jp-ExecutorlabCache-cell-size"
        title={trans._n('%1 byte', '%1 bytes', entry.size)}
      >
        {formatBytes(entry.size, trans)}
      </td>
      <td
        className="jp-ExecutorlabCache-cell-modified"
        title={formatISOTime(entry.modified)}
      >
        <time dateTime={formatISOTime(entry.modified)}>
          {formatRelativeTime(entry.modified, now, trans)}
        </time>
      </td>
      <td
        className="jp-ExecutorlabCache-cell-result"
        title={entry.result ?? undefined}
      >
        {entry.result ?? '–'}
      </td>
      <td className="jp-ExecutorlabCache-cell-writer">{entry.writer}</td>
    </tr>
  );
}
