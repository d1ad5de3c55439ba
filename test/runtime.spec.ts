import { nullTranslator } from '@jupyterlab/translation';
import { describe, expect, it } from 'vitest';

import { formatDuration, taskRuntime } from '../src/tasks/runtime';
import { makeTask } from './helpers';

const trans = nullTranslator.load('executorlab');

describe('taskRuntime', () => {
  it('counts a running task from its start to now', () => {
    const task = makeTask({ state: 'running', started_at: 10_000 });
    expect(taskRuntime(task, 12_500)).toBe(2.5);
  });

  it('never goes negative when the browser clock is behind the bridge', () => {
    const task = makeTask({ state: 'running', started_at: 10_000 });
    expect(taskRuntime(task, 9_000)).toBe(0);
  });

  it('uses the reported runtime of a finished task, whatever the time now', () => {
    const task = makeTask({ state: 'done', started_at: 0, finished_at: 9_000, runtime: 8.25 });
    expect(taskRuntime(task, 1e12)).toBe(8.25);
  });

  it('falls back to finish minus start when no runtime was reported', () => {
    const task = makeTask({ state: 'error', started_at: 1_000, finished_at: 4_000 });
    expect(taskRuntime(task, 1e12)).toBe(3);
  });

  it('has no runtime before the task started', () => {
    expect(taskRuntime(makeTask({ state: 'queued' }), 5)).toBeNull();
    expect(taskRuntime(makeTask({ state: 'waiting' }), 5)).toBeNull();
    expect(taskRuntime(makeTask({ state: 'cancelled' }), 5)).toBeNull();
  });
});

describe('formatDuration', () => {
  it.each([
    [null, '–'],
    [0.04, '0.0 s'],
    [1.26, '1.3 s'],
    [42.9, '42 s'],
    [185, '3 min 05 s'],
    [7_620, '2 h 07 min']
  ])('formats %s seconds as %s', (seconds, text) => {
    expect(formatDuration(seconds, trans)).toBe(text);
  });
});
