import { nullTranslator } from '@jupyterlab/translation';
import { act, cleanup, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { TaskMonitor } from '../src/components/TaskMonitor';
import { TaskTable } from '../src/components/TaskTable';
import { DEFAULT_TASK_FILTER } from '../src/tasks/filter';
import { TaskMonitorModel } from '../src/tasks/model';
import { FakeWebSocket, makeSettings, makeTask } from './helpers';

const trans = nullTranslator.load('executorlab');

afterEach(cleanup);

function rows(container: HTMLElement): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>('.jp-executorlab-TaskRow')];
}

describe('TaskTable', () => {
  it('renders one row per task with stable selectors', () => {
    const { container } = render(
      <TaskTable
        tasks={[
          makeTask({ id: 't1', fn_name: 'sum', state: 'done', started_at: 0, finished_at: 120, runtime: 0.12 }),
          makeTask({ id: 't2', fn_name: 'simulate', state: 'running', started_at: 1_000 })
        ]}
        now={4_000}
        trans={trans}
      />
    );
    const [done, running] = rows(container);
    expect(done.dataset.taskId).toBe('t1');
    expect(done.dataset.state).toBe('done');
    expect(done.dataset.fnName).toBe('sum');
    expect(done.querySelector('.jp-executorlab-TaskRow-runtime')?.textContent).toBe('0.1 s');
    expect(done.querySelector('.jp-executorlab-StateBadge')?.textContent).toBe('Done');
    expect(running.dataset.state).toBe('running');
    expect(running.querySelector('.jp-executorlab-TaskRow-runtime')?.textContent).toBe('3.0 s');
  });

  it('shows executor, resources and the error type', () => {
    render(
      <TaskTable
        tasks={[
          makeTask({
            fn_name: 'mpi_job',
            state: 'error',
            executor_name: 'SlurmJobExecutor',
            resources: { cores: 4, threads_per_core: 2, gpus_per_core: 1 },
            error_type: 'ZeroDivisionError'
          })
        ]}
        now={0}
        trans={trans}
      />
    );
    expect(screen.getByText('SlurmJobExecutor · 4 cores, 2 threads, 1 GPU')).toBeTruthy();
    expect(screen.getByText('ZeroDivisionError')).toBeTruthy();
    expect(screen.getByText('Failed')).toBeTruthy();
  });
});

describe('TaskMonitor', () => {
  let connection: BridgeConnection;
  let model: TaskMonitorModel;

  beforeEach(() => {
    FakeWebSocket.reset();
    connection = new BridgeConnection({ serverSettings: makeSettings() });
    model = new TaskMonitorModel(connection);
  });

  afterEach(() => {
    model.dispose();
    connection.dispose();
    vi.useRealTimers();
  });

  function renderMonitor(filter = DEFAULT_TASK_FILTER) {
    return render(<TaskMonitor model={model} filter={filter} trans={trans} />);
  }

  it('says it is connecting before the bridge answered', () => {
    renderMonitor();
    expect(screen.getByText('Connecting to the executorlab bridge…')).toBeTruthy();
  });

  it('shows the empty state once connected without tasks', () => {
    renderMonitor();
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [] }));
    expect(screen.getByText(/No tasks yet/)).toBeTruthy();
    expect(screen.queryByText(/executorlab bridge/)).toBeNull();
  });

  it('follows pushed task updates', () => {
    const { container } = renderMonitor();
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [makeTask({ id: 'a' })] }));
    expect(rows(container).map(r => r.dataset.state)).toEqual(['queued']);
    act(() =>
      FakeWebSocket.last.push({
        type: 'tasks',
        tasks: [makeTask({ id: 'a', state: 'done', started_at: 1, finished_at: 2, runtime: 0.001 })]
      })
    );
    expect(rows(container).map(r => r.dataset.state)).toEqual(['done']);
    expect(container.querySelector('.jp-executorlab-TaskSummary')?.textContent).toContain('Done: 1');
  });

  it('keeps the runtime of running tasks ticking', () => {
    vi.useFakeTimers({ now: 100_000 });
    const { container } = renderMonitor();
    act(() =>
      FakeWebSocket.last.push({
        type: 'snapshot',
        tasks: [makeTask({ id: 'r', state: 'running', started_at: 100_000 })]
      })
    );
    const runtime = () => container.querySelector('.jp-executorlab-TaskRow-runtime')?.textContent;
    expect(runtime()).toBe('0.0 s');
    act(() => vi.advanceTimersByTime(3_000));
    expect(runtime()).toBe('3.0 s');
  });

  it('shows a not-connected notice with a retry button when the bridge drops', () => {
    const { container } = renderMonitor();
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [makeTask({ id: 'kept' })] }));
    act(() => FakeWebSocket.last.drop());
    const notice = container.querySelector<HTMLElement>('.jp-executorlab-ConnectionNotice');
    expect(notice?.dataset.status).toBe('disconnected');
    expect(notice?.textContent).toContain('Not connected to the executorlab bridge');
    expect(notice?.textContent).toContain('may be out of date');
    // Last known tasks stay listed while reconnecting.
    expect(rows(container).map(r => r.dataset.taskId)).toEqual(['kept']);

    fireEvent.click(screen.getByText('Retry now'));
    expect(FakeWebSocket.instances).toHaveLength(2);
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [] }));
    expect(container.querySelector('.jp-executorlab-ConnectionNotice')).toBeNull();
    expect(rows(container)).toEqual([]);
  });

  it('hides finished tasks when the settings say so', () => {
    const { container } = renderMonitor({ showFinishedTasks: false, maxFinishedTasks: 200 });
    act(() =>
      FakeWebSocket.last.push({
        type: 'snapshot',
        tasks: [makeTask({ id: 'd', state: 'done' }), makeTask({ id: 'q', state: 'queued' })]
      })
    );
    expect(rows(container).map(r => r.dataset.taskId)).toEqual(['q']);
  });
});

describe('TaskMonitor filter bar', () => {
  let connection: BridgeConnection;
  let model: TaskMonitorModel;

  const executor = (id: string, name: string) => ({
    id,
    name,
    backend: 'local',
    client_id: 'kernel-1',
    block_allocation: false,
    max_cores: null,
    max_workers: null,
    cores_in_use: 0,
    running: 0,
    unfinished: 0,
    shutdown: false,
    orphaned: false
  });

  beforeEach(() => {
    FakeWebSocket.reset();
    connection = new BridgeConnection({ serverSettings: makeSettings() });
    model = new TaskMonitorModel(connection);
  });

  afterEach(() => {
    model.dispose();
    connection.dispose();
  });

  function renderWithTasks(filter = DEFAULT_TASK_FILTER) {
    const view = render(<TaskMonitor model={model} filter={filter} trans={trans} />);
    act(() => {
      FakeWebSocket.last.push({
        type: 'executors',
        executors: [executor('e1', 'SingleNodeExecutor'), executor('e2', 'SlurmJobExecutor')]
      });
      FakeWebSocket.last.push({
        type: 'snapshot',
        tasks: [
          makeTask({ id: 'w', fn_name: 'reduce', state: 'waiting', executor_id: 'e1', submitted_at: 5 }),
          makeTask({ id: 'r', fn_name: 'simulate', state: 'running', executor_id: 'e2', executor_name: 'SlurmJobExecutor', started_at: 4, submitted_at: 4 }),
          makeTask({ id: 'f', fn_name: 'divide', state: 'error', executor_id: 'e1', error_type: 'ZeroDivisionError', submitted_at: 3 }),
          makeTask({ id: 'd1', fn_name: 'sum', state: 'done', executor_id: 'e1', submitted_at: 2 }),
          makeTask({ id: 'd2', fn_name: 'sum', state: 'done', executor_id: 'e2', executor_name: 'SlurmJobExecutor', submitted_at: 1 })
        ]
      });
    });
    return view;
  }

  const chip = (container: HTMLElement, state: string) =>
    container.querySelector<HTMLElement>(`.jp-executorlab-TaskFilterBar-state[data-state="${state}"]`)!;
  const listed = (container: HTMLElement) => rows(container).map(r => r.dataset.taskId);
  const status = (container: HTMLElement) =>
    container.querySelector('.jp-executorlab-TaskFilterBar-status')?.textContent ?? null;

  it('offers a toggle per state with its count, and the executors', () => {
    const { container } = renderWithTasks();
    expect(chip(container, 'done').dataset.count).toBe('2');
    expect(chip(container, 'done').textContent).toBe('Done2');
    expect(chip(container, 'waiting').title).toContain('Waiting on dependencies: 1 task');
    expect(chip(container, 'queued').title).toContain('Queued for resources: 0 tasks');
    expect(chip(container, 'cancelled').getAttribute('aria-pressed')).toBe('false');
    const select = container.querySelector<HTMLSelectElement>('.jp-executorlab-TaskFilterBar-executor')!;
    expect([...select.options].map(o => o.textContent)).toEqual([
      'All executors',
      'SingleNodeExecutor',
      'SlurmJobExecutor'
    ]);
    expect(listed(container)).toEqual(['w', 'r', 'f', 'd1', 'd2']);
    // Nothing filtered: no status line.
    expect(status(container)).toBeNull();
  });

  it('lists only the states toggled on', () => {
    const { container } = renderWithTasks();
    fireEvent.click(chip(container, 'done'));
    expect(chip(container, 'done').getAttribute('aria-pressed')).toBe('true');
    expect(listed(container)).toEqual(['d1', 'd2']);
    fireEvent.click(chip(container, 'error'));
    expect(listed(container)).toEqual(['f', 'd1', 'd2']);
    expect(status(container)).toContain('3 of 5 tasks listed');
    fireEvent.click(chip(container, 'done'));
    fireEvent.click(chip(container, 'error'));
    expect(listed(container)).toEqual(['w', 'r', 'f', 'd1', 'd2']);
  });

  it('filters by executor and by text, and the counts follow', () => {
    const { container } = renderWithTasks();
    const select = container.querySelector<HTMLSelectElement>('.jp-executorlab-TaskFilterBar-executor')!;
    fireEvent.change(select, { target: { value: 'e2' } });
    expect(listed(container)).toEqual(['r', 'd2']);
    expect(chip(container, 'done').dataset.count).toBe('1');
    expect(chip(container, 'waiting').dataset.count).toBe('0');

    fireEvent.change(select, { target: { value: '' } });
    const text = container.querySelector<HTMLInputElement>('.jp-executorlab-TaskFilterBar-text')!;
    fireEvent.change(text, { target: { value: 'zerodiv' } });
    expect(listed(container)).toEqual(['f']);
    fireEvent.change(text, { target: { value: 'SLURM' } });
    expect(listed(container)).toEqual(['r', 'd2']);
    fireEvent.change(text, { target: { value: 'no such task' } });
    expect(listed(container)).toEqual([]);
    expect(screen.getByText('No tasks match the filter.')).toBeTruthy();

    fireEvent.click(screen.getByText('Clear filter'));
    expect(text.value).toBe('');
    expect(listed(container)).toEqual(['w', 'r', 'f', 'd1', 'd2']);
  });

  it('keeps the filter as tasks change, and the settings limit applies on top', () => {
    const { container } = renderWithTasks({ showFinishedTasks: true, maxFinishedTasks: 1 });
    // f and d1 are the newest finished; only f is listed.
    expect(listed(container)).toEqual(['w', 'r', 'f']);
    expect(status(container)).toContain('3 of 5 tasks listed · 2 finished tasks left out by the settings');

    fireEvent.change(container.querySelector('.jp-executorlab-TaskFilterBar-text')!, { target: { value: 'sum' } });
    expect(listed(container)).toEqual(['d1']);
    act(() =>
      FakeWebSocket.last.push({
        type: 'tasks',
        tasks: [makeTask({ id: 'n', fn_name: 'sum', state: 'queued', submitted_at: 9 })]
      })
    );
    expect(listed(container)).toEqual(['n', 'd1']);
  });

  it('sorts on a header click and keeps the selection marked', () => {
    const { container } = renderWithTasks();
    fireEvent.click(container.querySelector('.jp-executorlab-TaskTable-sortButton[data-sort="function"]')!);
    expect(listed(container)).toEqual(['f', 'w', 'r', 'd1', 'd2']);
    act(() => model.select('r'));
    expect(container.querySelector('.jp-mod-selected')?.getAttribute('data-task-id')).toBe('r');
  });
});

describe('TaskMonitor against an unreachable server', () => {
  it('shows the not-connected state when the events socket cannot connect', async () => {
    // A real (jsdom) WebSocket to a port nothing listens on, and a fetch that fails.
    const connection = new BridgeConnection({
      serverSettings: makeSettings({
        wsUrl: 'ws://127.0.0.1:9/',
        WebSocket,
        fetch: () => Promise.reject(new TypeError('Failed to fetch'))
      })
    });
    const model = new TaskMonitorModel(connection);
    const { container } = render(
      <TaskMonitor model={model} filter={DEFAULT_TASK_FILTER} trans={trans} />
    );
    const notice = await screen.findByRole('alert');
    expect(notice.textContent).toContain('Not connected to the executorlab bridge');
    expect(notice.textContent).not.toContain('out of date');
    expect(container.querySelector('.jp-executorlab-TaskMonitor-empty')).toBeNull();
    expect(container.querySelector('.jp-executorlab-TaskSummary')).toBeNull();
    model.dispose();
    connection.dispose();
  });
});
