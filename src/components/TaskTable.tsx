import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import {
  DEFAULT_TASK_SORT,
  ITaskSort,
  nextSort,
  sortTasks,
  TaskSortKey
} from '../tasks/filter';
import { ITaskView } from '../tokens';
import { TaskRow } from './TaskRow';
import { useVirtualRows } from './virtualRows';

/**
 * Height of a task row (two lines) until a rendered one is measured.
 */
export const TASK_ROW_HEIGHT = 43;

export interface ITaskTableProps {
  /** The tasks to list, newest first (as the model holds them). */
  tasks: readonly ITaskView[];
  now: number;
  trans: TranslationBundle;
  selectedId?: string | null;
  onSelect?: (id: string) => void;
  /** The sort; the table keeps its own (newest first at the start) when omitted. */
  sort?: ITaskSort;
  /** A header was clicked: the sort it asks for. */
  onSortChange?: (sort: ITaskSort) => void;
  /** Rows rendered beyond each edge of the visible ones; 10 by default. */
  overscan?: number;
  /** When it changes (another filter), the table scrolls back to the top, as on a new sort. */
  scrollResetKey?: unknown;
}

interface ISortColumn {
  key: TaskSortKey;
  label: string;
}

/**
 * Futures in a scrollable table that renders only the rows in view, so it stays
 * smooth with tens of thousands of them. A header click sorts; a click on a row,
 * or the arrow keys, selects; a selection made elsewhere scrolls into view.
 */
export function TaskTable({
  tasks,
  now,
  trans,
  selectedId = null,
  onSelect,
  sort: controlledSort,
  onSortChange,
  overscan,
  scrollResetKey
}: ITaskTableProps): JSX.Element {
  const [ownSort, setOwnSort] = React.useState<ITaskSort>(DEFAULT_TASK_SORT);
  const sort = controlledSort ?? ownSort;
  const changeSort = (key: TaskSortKey) => {
    const next = nextSort(sort, key);
    if (controlledSort === undefined) {
      setOwnSort(next);
    }
    onSortChange?.(next);
  };

  // Only the runtime order depends on the ticking clock.
  const sortNow = sort.key === 'runtime' ? now : 0;
  const sorted = React.useMemo(
    () => sortTasks(tasks, sort, sortNow),
    [tasks, sort.key, sort.order, sortNow]
  );

  const rows = useVirtualRows({
    count: sorted.length,
    estimatedRowHeight: TASK_ROW_HEIGHT,
    overscan,
    rowSelector: 'tbody > tr.jp-executorlab-TaskRow',
    headerSelector: 'thead'
  });

  // Another order or filter starts at the top.
  const { scrollToTop } = rows;
  const mounted = React.useRef(false);
  React.useLayoutEffect(() => {
    if (mounted.current) {
      scrollToTop();
    }
    mounted.current = true;
  }, [sort.key, sort.order, scrollResetKey, scrollToTop]);

  // A selection made elsewhere (the graph, a dependency link, the keyboard) shows.
  const selectedIndex = React.useMemo(
    () => (selectedId === null ? -1 : sorted.findIndex(t => t.id === selectedId)),
    [sorted, selectedId]
  );
  const indexRef = React.useRef(selectedIndex);
  indexRef.current = selectedIndex;
  const { scrollIntoView } = rows;
  React.useLayoutEffect(() => {
    scrollIntoView(indexRef.current);
  }, [selectedId, scrollIntoView]);

  const onKeyDown = (event: React.KeyboardEvent) => {
    if (!onSelect || sorted.length === 0) {
      return;
    }
    const last = sorted.length - 1;
    const page = Math.max(
      1,
      Math.floor((rows.containerRef.current?.clientHeight ?? 0) / rows.rowHeight) - 1
    );
    let index: number;
    switch (event.key) {
      case 'ArrowDown':
        index = selectedIndex < 0 ? 0 : Math.min(last, selectedIndex + 1);
        break;
      case 'ArrowUp':
        index = selectedIndex < 0 ? 0 : Math.max(0, selectedIndex - 1);
        break;
      case 'PageDown':
        index = Math.min(last, Math.max(0, selectedIndex) + page);
        break;
      case 'PageUp':
        index = Math.max(0, selectedIndex - page);
        break;
      case 'Home':
        index = 0;
        break;
      case 'End':
        index = last;
        break;
      default:
        return;
    }
    event.preventDefault();
    if (index !== selectedIndex) {
      onSelect(sorted[index].id);
    }
  };

  const sortButton = ({ key, label }: ISortColumn) => {
    const active = sort.key === key;
    return (
      <button
        key={key}
        type="button"
        className="jp-executorlab-TaskTable-sortButton"
        data-sort={key}
        data-active={active ? sort.order : undefined}
        aria-pressed={active}
        title={
          active
            ? sort.order === 'asc'
              ? trans.__('Sorted by %1, ascending; click to reverse', label)
              : trans.__('Sorted by %1, descending; click to reverse', label)
            : trans.__('Sort by %1', label)
        }
        onClick={() => changeSort(key)}
      >
        {label}
        {active && (
          <span className="jp-executorlab-TaskTable-sortIndicator" aria-hidden="true">
            {sort.order === 'asc' ? '\u25B2' : '\u25BC'}
          </span>
        )}
      </button>
    );
  };
  const ariaSort = (keys: TaskSortKey[]) =>
    keys.includes(sort.key)
      ? sort.order === 'asc'
        ? 'ascending'
        : 'descending'
      : undefined;

  const visible = sorted.slice(rows.start, rows.end);
  return (
    <div
      ref={rows.containerRef}
      className="jp-executorlab-TaskTable-scroller"
      onScroll={rows.onScroll}
      onKeyDown={onKeyDown}
      tabIndex={0}
      role="region"
      aria-label={trans.__('Tasks')}
    >
      <table
        className="jp-executorlab-TaskTable"
        aria-rowcount={sorted.length + 1}
        data-row-count={sorted.length}
      >
        <thead>
          <tr aria-rowindex={1}>
            <th
              className="jp-executorlab-TaskTable-function"
              aria-sort={ariaSort(['function', 'state', 'submitted'])}
            >
              <span className="jp-executorlab-TaskTable-sortButtons">
                {[
                  { key: 'function' as const, label: trans.__('Function') },
                  { key: 'state' as const, label: trans.__('State') },
                  { key: 'submitted' as const, label: trans.__('Submitted') }
                ].map(sortButton)}
              </span>
            </th>
            <th
              className="jp-executorlab-TaskTable-runtime"
              aria-sort={ariaSort(['runtime'])}
            >
              {sortButton({ key: 'runtime', label: trans.__('Runtime') })}
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.before > 0 && (
            <tr
              className="jp-executorlab-TaskTable-spacer"
              aria-hidden="true"
              style={{ height: rows.before }}
            >
              <td colSpan={2} />
            </tr>
          )}
          {visible.map((task, i) => (
            <TaskRow
              key={task.id}
              task={task}
              now={now}
              trans={trans}
              selected={task.id === selectedId}
              onSelect={onSelect}
              rowIndex={rows.start + i + 2}
            />
          ))}
          {rows.after > 0 && (
            <tr
              className="jp-executorlab-TaskTable-spacer"
              aria-hidden="true"
              style={{ height: rows.after }}
            >
              <td colSpan={2} />
            </tr>
          )}
        </tbody>
      </table>
    </div>
  );
}
