import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  CacheSortKey,
  CacheSortOrder,
  ICacheEntry
} from '../../cache/tokens';
import { CacheRow } from './CacheRow';

export interface ICacheTableProps {
  entries: readonly ICacheEntry[];
  selection: ReadonlySet<string>;
  isSelectable: (entry: ICacheEntry) => boolean;
  sort: CacheSortKey;
  order: CacheSortOrder;
  onSort: (sort: CacheSortKey) => void;
  onSelect: (file: string, selected: boolean) => void;
  /** Select or clear every selectable entry of the page. */
  onSelectAll: (selected: boolean) => void;
  now: number;
  trans: TranslationBundle;
}

interface IColumn {
  id: string;
  label: string;
  /** The API's sort key, for the columns it can sort by. */
  sort?: CacheSortKey;
}

/**
 * One page of cache files; a header click sorts, the header checkbox selects the page.
 */
export function CacheTable({
  entries,
  selection,
  isSelectable,
  sort,
  order,
  onSort,
  onSelect,
  onSelectAll,
  now,
  trans
}: ICacheTableProps): JSX.Element {
  const columns: IColumn[] = [
    { id: 'function', label: trans.__('Function'), sort: 'function' },
    { id: 'status', label: trans.__('Status'), sort: 'status' },
    { id: 'runtime', label: trans.__('Runtime'), sort: 'runtime' },
    { id: 'size', label: trans.__('Size'), sort: 'size' },
    { id: 'modified', label: trans.__('Modified'), sort: 'modified' },
    { id: 'result', label: trans.__('Result') },
    { id: 'writer', label: trans.__('Writer') }
  ];
  const selectable = entries.filter(isSelectable);
  const selectedCount = selectable.filter(e => selection.has(e.file)).length;
  const allSelected = selectable.length > 0 && selectedCount === selectable.length;
  const someSelected = selectedCount > 0 && !allSelected;

  const selectAllRef = React.useRef<HTMLInputElement>(null);
  React.useEffect(() => {
    if (selectAllRef.current) {
      selectAllRef.current.indeterminate = someSelected;
    }
  }, [someSelected]);

  return (
    <table className="jp-ExecutorlabCache-table">
      <thead>
        <tr>
          <th className="jp-ExecutorlabCache-cell-select">
            <input
              ref={selectAllRef}
              type="checkbox"
              className="jp-ExecutorlabCache-selectAll"
              data-testid="executorlab-cache-select-all"
              checked={allSelected}
              disabled={selectable.length === 0}
              title={trans.__('Select all files on this page that are not in use')}
              aria-label={trans.__('Select all files on this page that are not in use')}
              onChange={event => onSelectAll(event.currentTarget.checked)}
            />
          </th>
          {columns.map(column => {
            const active = column.sort !== undefined && column.sort === sort;
            return (
              <th
                key={column.id}
                className={`jp-ExecutorlabCache-cell-${column.id}`}
                data-sort={column.sort}
                aria-sort={
                  active
                    ? order === 'asc'
                      ? 'ascending'
                      : 'descending'
                    : undefined
                }
              >
                {column.sort === undefined ? (
                  column.label
                ) : (
                  <button
                    type="button"
                    className="jp-ExecutorlabCache-sortButton"
                    data-sort={column.sort}
                    data-active={active ? order : undefined}
                    title={trans.__('Sort by %1', column.label)}
                    onClick={() => onSort(column.sort!)}
                  >
                    {column.label}
                    <span
                      className="jp-ExecutorlabCache-sortIndicator"
                      aria-hidden="true"
                    >
                      {active ? (order === 'asc' ? '\u25B2' : '\u25BC') : ''}
                    </span>
                  </button>
                )}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>
        {entries.map(entry => (
          <CacheRow
            key={entry.file}
            entry={entry}
            selected={selection.has(entry.file)}
            selectable={isSelectable(entry)}
            onSelect={onSelect}
            now={now}
            trans={trans}
          />
        ))}
      </tbody>
    </table>
  );
}
