import { describe, expect, it } from 'vitest';

import { countByState, visibleTasks } from '../src/tasks/filter';
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
