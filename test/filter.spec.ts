import { describe, expect, it } from 'vitest';

import {
  countByState,
  DEFAULT_TASK_SORT,
  EMPTY_TASK_QUERY,
  executorOptions,
  filterTasks,
  isQueryActive,
  nextSort,
  sortTasks,
  visibleTasks
} from '../src/tasks/filter';
import { makeTask } from './helpers';

const tasks = [
  makeTask({ id: 'r', state: 'running' }),
  makeTask({ id: 'd1', state: 'done' }),
  makeTask({ id: 'q', state: 'queued' }),
  makeTask({ id: 'e', state: 'error' }),
  makeTask({ id: 'd2', state: 'done' })
];

describe('visibleTasks', () => {
  it('shows everything by default, keeping the order', () => {
    const shown = visibleTasks(tasks, { showFinishedTasks: true, maxFinishedTasks: 200 });
    expect(shown.map(t => t.id)).toEqual(['r', 'd1', 'q', 'e', 'd2']);
  });

  it('hides finished tasks when asked to', () => {
    const shown = visibleTasks(tasks, { showFinishedTasks: false, maxFinishedTasks: 200 });
    expect(shown.map(t => t.id)).toEqual(['r', 'q']);
  });

  it('keeps only the first (newest) finished tasks up to the limit', () => {
    const shown = visibleTasks(tasks, { showFinishedTasks: true, maxFinishedTasks: 2 });
    expect(shown.map(t => t.id)).toEqual(['r', 'd1', 'q', 'e']);
  });
});

describe('countByState', () => {
  it('counts tasks per state', () => {
    expect(countByState(tasks)).toEqual({
      waiting: 0,
      queued: 1,
      running: 1,
      done: 2,
      error: 1,
      cancelled: 0
    });
  });
});

describe('filterTasks', () => {
  const many = [
    makeTask({ id: 'a1', fn_name: 'simulate', state: 'running', executor_id: 'x', executor_name: 'SlurmJobExecutor' }),
    makeTask({ id: 'b2', fn_name: 'Analyse', state: 'error', executor_id: 'y', executor_name: 'SingleNodeExecutor', error_type: 'ZeroDivisionError' }),
    makeTask({ id: 'c3', fn_name: 'sum', state: 'done', executor_id: 'y', executor_name: 'SingleNodeExecutor' }),
    makeTask({ id: 'd4', fn_name: 'sum', state: 'waiting', executor_id: 'x', executor_name: 'SlurmJobExecutor' })
  ];
  const ids = (tasks: { id: string }[]) => tasks.map(t => t.id);

  it('lets everything through without a query, keeping the order', () => {
    expect(ids(filterTasks(many, EMPTY_TASK_QUERY))).toEqual(['a1', 'b2', 'c3', 'd4']);
    expect(isQueryActive(EMPTY_TASK_QUERY)).toBe(false);
    expect(isQueryActive({ ...EMPTY_TASK_QUERY, text: '   ' })).toBe(false);
  });

  it('keeps the tasks in any of the chosen states', () => {
    expect(ids(filterTasks(many, { states: ['done'] }))).toEqual(['c3']);
    expect(ids(filterTasks(many, { states: ['waiting', 'running'] }))).toEqual(['a1', 'd4']);
    expect(isQueryActive({ ...EMPTY_TASK_QUERY, states: ['done'] })).toBe(true);
  });

  it('keeps the tasks of one executor', () => {
    expect(ids(filterTasks(many, { executorId: 'x' }))).toEqual(['a1', 'd4']);
    expect(ids(filterTasks(many, { executorId: 'nope' }))).toEqual([]);
  });

  it('matches the text, ignoring case, in the function, id, executor name and error type', () => {
    expect(ids(filterTasks(many, { text: 'ANALY' }))).toEqual(['b2']);
    expect(ids(filterTasks(many, { text: 'c3' }))).toEqual(['c3']);
    expect(ids(filterTasks(many, { text: 'slurm' }))).toEqual(['a1', 'd4']);
    expect(ids(filterTasks(many, { text: 'zerodivision' }))).toEqual(['b2']);
    expect(ids(filterTasks(many, { text: '  sum ' }))).toEqual(['c3', 'd4']);
    expect(ids(filterTasks(many, { text: 'nothing like it' }))).toEqual([]);
  });

  it('combines states, executor and text', () => {
    expect(ids(filterTasks(many, { states: ['waiting', 'done'], executorId: 'y', text: 'sum' }))).toEqual(['c3']);
  });

  it('applies before the settings: the newest finished matches are listed', () => {
    const finished = [
      makeTask({ id: 'f1', fn_name: 'other', state: 'done' }),
      makeTask({ id: 'f2', fn_name: 'sum', state: 'done' }),
      makeTask({ id: 'f3', fn_name: 'sum', state: 'done' })
    ];
    const shown = visibleTasks(filterTasks(finished, { text: 'sum' }), { showFinishedTasks: true, maxFinishedTasks: 1 });
    expect(ids(shown)).toEqual(['f2']);
  });
});

describe('sortTasks', () => {
  const tasks = [
    makeTask({ id: 'n', fn_name: 'beta', state: 'running', submitted_at: 3_000, started_at: 3_000 }),
    makeTask({ id: 'm', fn_name: 'alpha', state: 'done', submitted_at: 2_000, started_at: 2_000, finished_at: 2_500, runtime: 0.5 }),
    makeTask({ id: 'o', fn_name: 'Gamma', state: 'queued', submitted_at: 1_000 }),
    makeTask({ id: 'p', fn_name: 'task10', state: 'error', submitted_at: 4_000, started_at: 4_000, finished_at: 9_000, runtime: 5 }),
    makeTask({ id: 'q', fn_name: 'task9', state: 'waiting', submitted_at: 4_000 })
  ];
  const ids = (list: { id: string }[]) => list.map(t => t.id);
  const now = 5_000;

  it('sorts newest first by default, ids breaking ties', () => {
    expect(DEFAULT_TASK_SORT).toEqual({ key: 'submitted', order: 'desc' });
    expect(ids(sortTasks(tasks, DEFAULT_TASK_SORT, now))).toEqual(['p', 'q', 'n', 'm', 'o']);
    expect(ids(sortTasks(tasks, { key: 'submitted', order: 'asc' }, now))).toEqual(['o', 'm', 'n', 'p', 'q']);
  });

  it('sorts by function name, ignoring case and numbering naturally', () => {
    expect(ids(sortTasks(tasks, { key: 'function', order: 'asc' }, now))).toEqual(['m', 'n', 'o', 'q', 'p']);
    expect(ids(sortTasks(tasks, { key: 'function', order: 'desc' }, now))).toEqual(['p', 'q', 'o', 'n', 'm']);
  });

  it('sorts by state in the order of the life cycle', () => {
    expect(ids(sortTasks(tasks, { key: 'state', order: 'asc' }, now))).toEqual(['q', 'o', 'n', 'm', 'p']);
    expect(ids(sortTasks(tasks, { key: 'state', order: 'desc' }, now))).toEqual(['p', 'm', 'n', 'o', 'q']);
  });

  it('sorts by runtime, live for running tasks, tasks not started last', () => {
    // n has run 2 s at `now`; m ran 0.5 s; p 5 s; o and q have not started.
    expect(ids(sortTasks(tasks, { key: 'runtime', order: 'desc' }, now))).toEqual(['p', 'n', 'm', 'q', 'o']);
    expect(ids(sortTasks(tasks, { key: 'runtime', order: 'asc' }, now))).toEqual(['m', 'n', 'p', 'q', 'o']);
    expect(ids(sortTasks(tasks, { key: 'runtime', order: 'desc' }, 9_000))).toEqual(['n', 'p', 'm', 'q', 'o']);
  });

  it('leaves its input alone', () => {
    const before = ids(tasks);
    sortTasks(tasks, { key: 'function', order: 'asc' }, now);
    expect(ids(tasks)).toEqual(before);
  });

  it('a header click flips the order of the same column, another column starts in its own order', () => {
    expect(nextSort(DEFAULT_TASK_SORT, 'submitted')).toEqual({ key: 'submitted', order: 'asc' });
    expect(nextSort(DEFAULT_TASK_SORT, 'function')).toEqual({ key: 'function', order: 'asc' });
    expect(nextSort({ key: 'function', order: 'asc' }, 'function')).toEqual({ key: 'function', order: 'desc' });
    expect(nextSort({ key: 'function', order: 'asc' }, 'runtime')).toEqual({ key: 'runtime', order: 'desc' });
    expect(nextSort({ key: 'runtime', order: 'desc' }, 'state')).toEqual({ key: 'state', order: 'asc' });
  });
});

describe('executorOptions', () => {
  it('lists the bridge executors, then those only tasks mention; same names get their id', () => {
    const options = executorOptions(
      [
        { id: 'e1', name: 'SingleNodeExecutor' },
        { id: 'e2', name: 'SingleNodeExecutor' },
        { id: 'e3', name: 'SlurmJobExecutor' }
      ],
      [
        makeTask({ executor_id: 'e3', executor_name: 'SlurmJobExecutor' }),
        makeTask({ executor_id: 'old', executor_name: 'FluxJobExecutor' })
      ]
    );
    expect(options).toEqual([
      { id: 'e1', label: 'SingleNodeExecutor (e1)' },
      { id: 'e2', label: 'SingleNodeExecutor (e2)' },
      { id: 'e3', label: 'SlurmJobExecutor' },
      { id: 'old', label: 'FluxJobExecutor' }
    ]);
  });
});
