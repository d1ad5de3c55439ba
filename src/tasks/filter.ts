import { FINISHED_STATES, ITaskView, TASK_STATES, TaskState } from '../tokens';
import { taskRuntime } from './runtime';

/**
 * User settings that decide which tasks the monitor lists.
 */
export interface ITaskFilter {
  showFinishedTasks: boolean;
  /** Most recent finished tasks kept in the list; unfinished ones are always shown. */
  maxFinishedTasks: number;
}

export const DEFAULT_TASK_FILTER: ITaskFilter = {
  showFinishedTasks: true,
  maxFinishedTasks: 200
};

export function isFinished(state: TaskState): boolean {
  return FINISHED_STATES.includes(state);
}

/**
 * Tasks to list, in the given order (newest first), after applying `filter`.
 */
export function visibleTasks(
  tasks: readonly ITaskView[],
  filter: ITaskFilter
): ITaskView[] {
  let finishedLeft = filter.showFinishedTasks
    ? Math.max(0, filter.maxFinishedTasks)
    : 0;
  return tasks.filter(task => {
    if (!isFinished(task.state)) {
      return true;
    }
    if (finishedLeft > 0) {
      finishedLeft--;
      return true;
    }
    return false;
  });
}

/**
 * Number of tasks in each state.
 */
export function countByState(
  tasks: readonly ITaskView[]
): Record<TaskState, number> {
  const counts: Record<TaskState, number> = {
    waiting: 0,
    queued: 0,
    running: 0,
    done: 0,
    error: 0,
    cancelled: 0
  };
  for (const task of tasks) {
    counts[task.state]++;
  }
  return counts;
}

/**
 * What the person filters the list by, in the filter bar above the table.
 * An empty `states` list, a null `executorId` and blank `text` each let every task pass.
 */
export interface ITaskQuery {
  /** Only tasks in one of these states; all states when empty. */
  states: readonly TaskState[];
  /** Only tasks of this executor; all executors when null. */
  executorId: string | null;
  /** Case-insensitive substring of the function name, task id, executor name or error type. */
  text: string;
}

export const EMPTY_TASK_QUERY: ITaskQuery = {
  states: [],
  executorId: null,
  text: ''
};

/**
 * Whether `query` hides any task at all.
 */
export function isQueryActive(query: ITaskQuery): boolean {
  return (
    query.states.length > 0 ||
    query.executorId !== null ||
    query.text.trim() !== ''
  );
}

/**
 * Tasks that match `query`, in the given order.
 */
export function filterTasks(
  tasks: readonly ITaskView[],
  query: Partial<ITaskQuery>
): ITaskView[] {
  const states =
    query.states && query.states.length > 0 ? new Set(query.states) : null;
  const executorId = query.executorId ?? null;
  const text = (query.text ?? '').trim().toLowerCase();
  if (states === null && executorId === null && text === '') {
    return [...tasks];
  }
  return tasks.filter(
    task =>
      (states === null || states.has(task.state)) &&
      (executorId === null || task.executor_id === executorId) &&
      (text === '' || matchesText(task, text))
  );
}

/**
 * Whether the function name, id, executor name or error type of `task` contains
 * `needle`, which must already be lower case.
 */
function matchesText(task: ITaskView, needle: string): boolean {
  return (
    task.fn_name.toLowerCase().includes(needle) ||
    task.id.toLowerCase().includes(needle) ||
    task.executor_name.toLowerCase().includes(needle) ||
    (task.error_type !== null && task.error_type.toLowerCase().includes(needle))
  );
}

/**
 * Columns the task table sorts by.
 */
export type TaskSortKey = 'function' | 'state' | 'submitted' | 'runtime';

export type TaskSortOrder = 'asc' | 'desc';

export interface ITaskSort {
  key: TaskSortKey;
  order: TaskSortOrder;
}

/**
 * Newest submission first, as the model lists the tasks.
 */
export const DEFAULT_TASK_SORT: ITaskSort = { key: 'submitted', order: 'desc' };

/**
 * The order a column sorts in on its first click: names and states ascending,
 * submission time newest first, runtime longest first.
 */
export function defaultSortOrder(key: TaskSortKey): TaskSortOrder {
  return key === 'function' || key === 'state' ? 'asc' : 'desc';
}

/**
 * The sort after a click on the header of `key`: the same column flips its order,
 * another one starts in its default order.
 */
export function nextSort(current: ITaskSort, key: TaskSortKey): ITaskSort {
  if (current.key === key) {
    return { key, order: current.order === 'asc' ? 'desc' : 'asc' };
  }
  return { key, order: defaultSortOrder(key) };
}

const collator = new Intl.Collator(undefined, {
  numeric: true,
  sensitivity: 'base'
});

function newestFirst(a: ITaskView, b: ITaskView): number {
  return b.submitted_at - a.submitted_at || collator.compare(a.id, b.id);
}

/**
 * A sorted copy of `tasks`. Ties keep newest first; tasks without a runtime (not
 * started) come last in either order. `now` (epoch milliseconds) measures the
 * runtime of running tasks.
 */
export function sortTasks(
  tasks: readonly ITaskView[],
  sort: ITaskSort,
  now: number = Date.now()
): ITaskView[] {
  const sign = sort.order === 'asc' ? 1 : -1;
  switch (sort.key) {
    case 'submitted':
      return [...tasks].sort(
        (a, b) =>
          sign * (a.submitted_at - b.submitted_at) ||
          // Same submission time: the model's order (by id) in both directions.
          collator.compare(a.id, b.id)
      );
    case 'function':
      return [...tasks].sort(
        (a, b) =>
          sign * collator.compare(a.fn_name, b.fn_name) || newestFirst(a, b)
      );
    case 'state': {
      const rank = (task: ITaskView) => TASK_STATES.indexOf(task.state);
      return [...tasks].sort(
        (a, b) => sign * (rank(a) - rank(b)) || newestFirst(a, b)
      );
    }
    case 'runtime': {
      const runtimes = new Map<ITaskView, number | null>();
      for (const task of tasks) {
        runtimes.set(task, taskRuntime(task, now));
      }
      return [...tasks].sort((a, b) => {
        const ra = runtimes.get(a)!;
        const rb = runtimes.get(b)!;
        if (ra === null || rb === null) {
          return (ra === null ? 1 : 0) - (rb === null ? 1 : 0) || newestFirst(a, b);
        }
        return sign * (ra - rb) || newestFirst(a, b);
      });
    }
  }
}

/**
 * One choice of the executor filter.
 */
export interface IExecutorOption {
  id: string;
  /** The executor's name; with its id when another executor has the same name. */
  label: string;
}

/**
 * Executors to filter by: the bridge's, in the order they were created, then any
 * that only the tasks mention (an older bridge, or one since forgotten).
 */
export function executorOptions(
  executors: readonly { id: string; name: string }[],
  tasks: readonly ITaskView[]
): IExecutorOption[] {
  const names = new Map<string, string>();
  for (const executor of executors) {
    names.set(executor.id, executor.name);
  }
  for (const task of tasks) {
    if (!names.has(task.executor_id)) {
      names.set(task.executor_id, task.executor_name);
    }
  }
  const seen = new Map<string, number>();
  for (const name of names.values()) {
    seen.set(name, (seen.get(name) ?? 0) + 1);
  }
  return [...names].map(([id, name]) => ({
    id,
    label: (seen.get(name) ?? 0) > 1 ? `${name} (${id})` : name
  }));
}
