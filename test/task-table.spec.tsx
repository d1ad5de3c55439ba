import { nullTranslator } from '@jupyterlab/translation';
import { act, cleanup, fireEvent, render } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';

import { TASK_ROW_HEIGHT, TaskTable } from '../src/components/TaskTable';
import { rowWindow } from '../src/components/virtualRows';
import { ITaskView } from '../src/tokens';
import { makeTask } from './helpers';

const trans = nullTranslator.load('executorlab');

afterEach(cleanup);

const BASE = 1_763_700_000_000;

/** `count` tasks, newest first: task i was submitted i ms before the first. */
function manyTasks(count: number): ITaskView[] {
  return Array.from({ length: count }, (_, i) =>
    makeTask({
      id: `t${i}`,
      fn_name: `fn${String(i).padStart(5, '0')}`,
      state: i % 3 === 0 ? 'done' : 'queued',
      submitted_at: BASE - i
    })
  );
}

function rows(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>('tr.jp-executorlab-TaskRow')];
}

function scroller(container: HTMLElement): HTMLElement {
  return container.querySelector<HTMLElement>('.jp-executorlab-TaskTable-scroller')!;
}

/** jsdom has no layout: give the scroll container a height and a settable scrollTop. */
function layOut(node: HTMLElement, height: number): void {
  Object.defineProperty(node, 'clientHeight', { configurable: true, value: height });
  Object.defineProperty(node, 'scrollTop', { configurable: true, writable: true, value: 0 });
}

function scrollTo(node: HTMLElement, top: number): void {
  node.scrollTop = top;
  fireEvent.scroll(node);
}

function spacers(container: HTMLElement): number[] {
  return [...container.querySelectorAll<HTMLElement>('.jp-executorlab-TaskTable-spacer')].map(tr =>
    parseFloat(tr.style.height)
  );
}

describe('rowWindow', () => {
  const base = { count: 1000, rowHeight: 40, overscan: 5, fallbackRows: 20 };

  it('renders the rows in view plus the overscan', () => {
    expect(rowWindow({ ...base, scrollTop: 0, viewport: 400 })).toEqual({
      start: 0,
      end: 16,
      before: 0,
      after: 984 * 40
    });
    expect(rowWindow({ ...base, scrollTop: 4000, viewport: 400 })).toEqual({
      start: 95,
      end: 116,
      before: 95 * 40,
      after: 884 * 40
    });
  });

  it('renders a fallback number of rows before the container has a height', () => {
    expect(rowWindow({ ...base, scrollTop: 0, viewport: 0 })).toMatchObject({ start: 0, end: 25 });
  });

  it('shows the end of a list that got shorter than the scroll position', () => {
    expect(rowWindow({ ...base, count: 30, scrollTop: 4000, viewport: 400 })).toEqual({
      start: 14,
      end: 30,
      before: 14 * 40,
      after: 0
    });
  });

  it('renders everything of a short list', () => {
    expect(rowWindow({ ...base, count: 3, scrollTop: 0, viewport: 400 })).toEqual({
      start: 0,
      end: 3,
      before: 0,
      after: 0
    });
  });
});

describe('TaskTable, virtualised', () => {
  const tasks = manyTasks(10_000);

  it('renders fewer than 100 of 10,000 rows, with spacers for the rest', () => {
    const { container } = render(<TaskTable tasks={tasks} now={BASE} trans={trans} />);
    const shown = rows(container);
    expect(shown.length).toBeGreaterThan(0);
    expect(shown.length).toBeLessThan(100);
    expect(shown[0].dataset.taskId).toBe('t0');
    const [after] = spacers(container);
    expect(after).toBe((10_000 - shown.length) * TASK_ROW_HEIGHT);
    expect(container.querySelector('table')?.getAttribute('aria-rowcount')).toBe('10001');
  });

  it('moves the window as the container scrolls', () => {
    const { container } = render(<TaskTable tasks={tasks} now={BASE} trans={trans} overscan={5} />);
    const node = scroller(container);
    layOut(node, 10 * TASK_ROW_HEIGHT);
    act(() => scrollTo(node, 0));
    // Ten rows in view, one partly, five below.
    expect(rows(container).map(r => r.dataset.taskId)).toEqual(
      Array.from({ length: 16 }, (_, i) => `t${i}`)
    );

    act(() => scrollTo(node, 5_000 * TASK_ROW_HEIGHT));
    const shown = rows(container);
    expect(shown[0].dataset.taskId).toBe('t4995');
    expect(shown[shown.length - 1].dataset.taskId).toBe('t5015');
    expect(shown[0].getAttribute('aria-rowindex')).toBe(String(4995 + 2));
    expect(spacers(container)).toEqual([4995 * TASK_ROW_HEIGHT, (10_000 - 5016) * TASK_ROW_HEIGHT]);

    act(() => scrollTo(node, 10_000 * TASK_ROW_HEIGHT));
    expect(rows(container).pop()?.dataset.taskId).toBe('t9999');
    expect(rows(container).length).toBeLessThan(100);
  });

  it('keeps a selected row selected out of view, and scrolls to a selection made elsewhere', () => {
    const picked: string[] = [];
    const onSelect = (id: string) => picked.push(id);
    const { container, rerender } = render(
      <TaskTable tasks={tasks} now={BASE} trans={trans} selectedId={null} onSelect={onSelect} overscan={5} />
    );
    const node = scroller(container);
    layOut(node, 10 * TASK_ROW_HEIGHT);
    act(() => scrollTo(node, 0));

    fireEvent.click(container.querySelector('[data-task-id="t3"]')!);
    expect(picked).toEqual(['t3']);
    rerender(<TaskTable tasks={tasks} now={BASE} trans={trans} selectedId="t3" onSelect={onSelect} overscan={5} />);
    expect(node.scrollTop).toBe(0);
    expect(container.querySelector('[data-task-id="t3"]')!.classList.contains('jp-mod-selected')).toBe(true);

    act(() => scrollTo(node, 3_000 * TASK_ROW_HEIGHT));
    expect(container.querySelector('[data-task-id="t3"]')).toBeNull();
    act(() => scrollTo(node, 0));
    expect(container.querySelector('[data-task-id="t3"]')!.classList.contains('jp-mod-selected')).toBe(true);

    // The graph selects a task far below: it scrolls into view, at the bottom edge.
    rerender(<TaskTable tasks={tasks} now={BASE} trans={trans} selectedId="t7000" onSelect={onSelect} overscan={5} />);
    expect(node.scrollTop).toBe(7_001 * TASK_ROW_HEIGHT - 10 * TASK_ROW_HEIGHT);
    const selected = container.querySelector<HTMLElement>('[data-task-id="t7000"]');
    expect(selected?.classList.contains('jp-mod-selected')).toBe(true);
    expect(container.querySelectorAll('.jp-mod-selected')).toHaveLength(1);

    // And one above: at the top edge.
    rerender(<TaskTable tasks={tasks} now={BASE} trans={trans} selectedId="t100" onSelect={onSelect} overscan={5} />);
    expect(node.scrollTop).toBe(100 * TASK_ROW_HEIGHT);
    expect(container.querySelector('[data-task-id="t100"]')?.classList.contains('jp-mod-selected')).toBe(true);
  });

  it('scrolls back to the top on another sort or filter', () => {
    const { container, rerender } = render(<TaskTable tasks={tasks} now={BASE} trans={trans} scrollResetKey="a" />);
    const node = scroller(container);
    layOut(node, 10 * TASK_ROW_HEIGHT);
    act(() => scrollTo(node, 2_000 * TASK_ROW_HEIGHT));
    rerender(<TaskTable tasks={tasks} now={BASE} trans={trans} scrollResetKey="a" />);
    expect(node.scrollTop).toBe(2_000 * TASK_ROW_HEIGHT);

    fireEvent.click(container.querySelector('.jp-executorlab-TaskTable-sortButton[data-sort="submitted"]')!);
    expect(node.scrollTop).toBe(0);
    expect(rows(container)[0].dataset.taskId).toBe('t9999');

    act(() => scrollTo(node, 2_000 * TASK_ROW_HEIGHT));
    rerender(<TaskTable tasks={tasks.slice(0, 5_000)} now={BASE} trans={trans} scrollResetKey="b" />);
    expect(node.scrollTop).toBe(0);
    expect(rows(container)[0].dataset.taskId).toBe('t4999');
  });

  it('moves the selection with the arrow keys', () => {
    const picked: string[] = [];
    const { container, rerender } = render(
      <TaskTable tasks={tasks} now={BASE} trans={trans} selectedId={null} onSelect={id => picked.push(id)} />
    );
    const node = scroller(container);
    fireEvent.keyDown(node, { key: 'ArrowDown' });
    rerender(<TaskTable tasks={tasks} now={BASE} trans={trans} selectedId="t5" onSelect={id => picked.push(id)} />);
    fireEvent.keyDown(node, { key: 'ArrowDown' });
    fireEvent.keyDown(node, { key: 'ArrowUp' });
    fireEvent.keyDown(node, { key: 'End' });
    fireEvent.keyDown(node, { key: 'Home' });
    expect(picked).toEqual(['t0', 't6', 't4', 't9999', 't0']);
  });
});

describe('TaskTable, sorting', () => {
  const tasks = [
    makeTask({ id: 'a', fn_name: 'beta', state: 'done', submitted_at: 3, started_at: 3, finished_at: 4, runtime: 2 }),
    makeTask({ id: 'b', fn_name: 'alpha', state: 'running', submitted_at: 2, started_at: 1_000 }),
    makeTask({ id: 'c', fn_name: 'gamma', state: 'waiting', submitted_at: 1 })
  ];
  const ids = (container: HTMLElement) => rows(container).map(r => r.dataset.taskId);
  const header = (container: HTMLElement, key: string) =>
    container.querySelector<HTMLElement>(`.jp-executorlab-TaskTable-sortButton[data-sort="${key}"]`)!;

  it('lists newest first, and sorts by a column on a header click', () => {
    const { container } = render(<TaskTable tasks={tasks} now={1_500} trans={trans} />);
    expect(ids(container)).toEqual(['a', 'b', 'c']);
    expect(header(container, 'submitted').dataset.active).toBe('desc');

    fireEvent.click(header(container, 'function'));
    expect(ids(container)).toEqual(['b', 'a', 'c']);
    expect(header(container, 'function').dataset.active).toBe('asc');
    expect(header(container, 'submitted').dataset.active).toBeUndefined();
    expect(container.querySelector('th.jp-executorlab-TaskTable-function')?.getAttribute('aria-sort')).toBe(
      'ascending'
    );

    fireEvent.click(header(container, 'function'));
    expect(ids(container)).toEqual(['c', 'a', 'b']);
    expect(header(container, 'function').dataset.active).toBe('desc');

    fireEvent.click(header(container, 'state'));
    expect(ids(container)).toEqual(['c', 'b', 'a']);

    // Longest first; b has run 0.5 s at `now`, c has not started.
    fireEvent.click(header(container, 'runtime'));
    expect(ids(container)).toEqual(['a', 'b', 'c']);
    expect(container.querySelector('th.jp-executorlab-TaskTable-runtime')?.getAttribute('aria-sort')).toBe(
      'descending'
    );
    fireEvent.click(header(container, 'runtime'));
    expect(ids(container)).toEqual(['b', 'a', 'c']);

    fireEvent.click(header(container, 'submitted'));
    expect(ids(container)).toEqual(['a', 'b', 'c']);
  });

  it('follows a sort it is given, and reports header clicks', () => {
    const asked: unknown[] = [];
    const { container } = render(
      <TaskTable
        tasks={tasks}
        now={0}
        trans={trans}
        sort={{ key: 'function', order: 'desc' }}
        onSortChange={sort => asked.push(sort)}
      />
    );
    expect(ids(container)).toEqual(['c', 'a', 'b']);
    fireEvent.click(header(container, 'function'));
    expect(asked).toEqual([{ key: 'function', order: 'asc' }]);
    // Controlled: the order changes only when the owner passes the new sort.
    expect(ids(container)).toEqual(['c', 'a', 'b']);
  });
});

describe('TaskRow', () => {
  it('shows the time queued and marks results from the cache', () => {
    const { container } = render(
      <TaskTable
        tasks={[
          makeTask({ id: 'q', state: 'queued', submitted_at: 1_000 }),
          makeTask({ id: 'r', state: 'running', submitted_at: 1_000, started_at: 3_500 }),
          makeTask({ id: 'c', state: 'done', submitted_at: 1_000, finished_at: 1_001, cache_hit: true })
        ]}
        now={13_000}
        trans={trans}
      />
    );
    const row = (id: string) => container.querySelector<HTMLElement>(`[data-task-id="${id}"]`)!;
    expect(row('q').querySelector('.jp-executorlab-TaskRow-queued')?.textContent).toBe('queued 12 s');
    expect(row('r').querySelector('.jp-executorlab-TaskRow-queued')?.textContent).toBe('queued 2.5 s');
    expect(row('c').querySelector('.jp-executorlab-TaskRow-queued')).toBeNull();
    expect(row('c').querySelector('.jp-executorlab-TaskRow-cacheHit')?.textContent).toBe('from cache');
    expect(row('c').dataset.cacheHit).toBe('true');
    expect(row('q').querySelector('.jp-executorlab-TaskRow-cacheHit')).toBeNull();
    expect(row('q').title).toContain('Queued for: 12 s');
  });
});
