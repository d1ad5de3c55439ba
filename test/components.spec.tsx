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
