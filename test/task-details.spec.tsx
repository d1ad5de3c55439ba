import { nullTranslator } from '@jupyterlab/translation';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { TaskDetails } from '../src/components/TaskDetails';
import { TaskMonitor } from '../src/components/TaskMonitor';
import { DEFAULT_TASK_FILTER } from '../src/tasks/filter';
import { ITaskDetails, TaskDetailsModel, TaskDetailsRequest } from '../src/tasks/details';
import { TaskMonitorModel } from '../src/tasks/model';
import { ITaskView } from '../src/tokens';
import { FakeWebSocket, jsonResponse, makeSettings, makeTask } from './helpers';

const trans = nullTranslator.load('executorlab');

function makeDetails(overrides: Partial<ITaskDetails> = {}): ITaskDetails {
  return { ...makeTask(), output: '', failure: null, ...overrides };
}

/**
 * A bridge holding one task's details; `calls` records every request.
 */
interface IFakeBridge {
  details: ITaskDetails;
  calls: { path: string; method: string }[];
  cancelReply: null | (() => Promise<unknown>);
  request: TaskDetailsRequest;
  gets(): number;
}

function fakeBridge(initial: ITaskDetails): IFakeBridge {
  const bridge: IFakeBridge = {
    details: initial,
    calls: [] as { path: string; method: string }[],
    cancelReply: null as null | (() => Promise<unknown>),
    request: (async (path: string, init?: RequestInit) => {
      bridge.calls.push({ path, method: init?.method ?? 'GET' });
      if (path.endsWith('/cancel')) {
        return bridge.cancelReply ? bridge.cancelReply() : { cancelled: true };
      }
      return structuredClone(bridge.details);
    }) as TaskDetailsRequest,
    gets(): number {
      return bridge.calls.filter(c => c.method === 'GET').length;
    }
  };
  return bridge;
}

let connection: BridgeConnection;
let monitor: TaskMonitorModel;

function push(...tasks: ITaskView[]): void {
  FakeWebSocket.last.push({ type: 'tasks', tasks });
}

beforeEach(() => {
  FakeWebSocket.reset();
  connection = new BridgeConnection({ serverSettings: makeSettings() });
  monitor = new TaskMonitorModel(connection);
});

afterEach(() => {
  cleanup();
  monitor.dispose();
  connection.dispose();
  vi.useRealTimers();
});

describe('TaskDetailsModel', () => {
  it('fetches the details, refetches once a second while running, and stops once finished', async () => {
    vi.useFakeTimers({ now: 1_763_700_010_000 });
    const running = makeTask({ id: 't1', state: 'running', started_at: 1_763_700_001_000 });
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [running] });
    const bridge = fakeBridge(makeDetails({ ...running, output: 'step 1\n' }));
    const model = new TaskDetailsModel({ taskId: 't1', monitor, request: bridge.request });
    await vi.advanceTimersByTimeAsync(0);
    expect(bridge.calls).toEqual([{ path: 'api/tasks/t1', method: 'GET' }]);
    expect(model.output).toBe('step 1\n');
    expect(model.finished).toBe(false);

    // It prints more: the next poll shows it.
    bridge.details = { ...bridge.details, output: 'step 1\nstep 2\n' };
    await vi.advanceTimersByTimeAsync(999);
    expect(bridge.gets()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(bridge.gets()).toBe(2);
    expect(model.output).toBe('step 1\nstep 2\n');
    await vi.advanceTimersByTimeAsync(3_000);
    expect(bridge.gets()).toBe(5);

    // It finished: the view change fetches the final details at once, then nothing more.
    const done = { ...running, state: 'done' as const, finished_at: 1_763_700_014_000, runtime: 13 };
    bridge.details = { ...bridge.details, ...done, output: 'step 1\nstep 2\nall done\n' };
    push(done);
    await vi.advanceTimersByTimeAsync(0);
    expect(bridge.gets()).toBe(6);
    expect(model.finished).toBe(true);
    expect(model.output).toContain('all done');
    await vi.advanceTimersByTimeAsync(10_000);
    push({ ...done });
    await vi.advanceTimersByTimeAsync(0);
    expect(bridge.gets()).toBe(6);
    model.dispose();
  });

  it('does not poll a queued task; its view changing to running refetches and starts polling', async () => {
    vi.useFakeTimers({ now: 1_763_700_010_000 });
    const queued = makeTask({ id: 'q', state: 'queued' });
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [queued, makeTask({ id: 'other' })] });
    const bridge = fakeBridge(makeDetails(queued));
    const model = new TaskDetailsModel({ taskId: 'q', monitor, request: bridge.request });
    await vi.advanceTimersByTimeAsync(5_000);
    expect(bridge.gets()).toBe(1);

    // Another task's change is not this task's.
    push(makeTask({ id: 'other', state: 'running' }));
    await vi.advanceTimersByTimeAsync(0);
    expect(bridge.gets()).toBe(1);

    const running = { ...queued, state: 'running' as const, started_at: 1_763_700_015_000 };
    bridge.details = makeDetails(running);
    push(running);
    await vi.advanceTimersByTimeAsync(0);
    expect(bridge.gets()).toBe(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(bridge.gets()).toBe(4);

    // Disposed: no more requests.
    model.dispose();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(bridge.gets()).toBe(4);
  });

  it('cancel posts to the cancel endpoint and reports a 409 with the bridge’s message', async () => {
    const running = makeTask({ id: 'run-1', state: 'running', started_at: 1 });
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [running] });
    const fetch = vi.fn((input: RequestInfo, init?: RequestInit) => {
      // ServerConnection passes a Request with a cache-busting query.
      const url = new URL(typeof input === 'string' ? input : input.url);
      const method = init?.method ?? (typeof input === 'string' ? 'GET' : input.method);
      if (url.pathname.endsWith('/cancel') && method === 'POST') {
        return Promise.resolve(jsonResponse({ error: 'no such unfinished task' }, 409));
      }
      return Promise.resolve(jsonResponse(makeDetails(running)));
    });
    const model = new TaskDetailsModel({
      taskId: 'run-1',
      monitor,
      serverSettings: makeSettings({ fetch }),
      pollInterval: 60_000
    });
    await waitFor(() => expect(model.details?.id).toBe('run-1'));
    const ok = await model.cancel();
    expect(ok).toBe(false);
    expect(model.cancelError).toBe('no such unfinished task');
    expect(model.cancelling).toBe(false);
    const urls = fetch.mock.calls.map(([input, init]) => {
      const url = new URL(typeof input === 'string' ? input : input.url);
      return `${init?.method ?? (typeof input === 'string' ? 'GET' : input.method)} ${url.pathname}`;
    });
    expect(urls).toContain('POST /lab-base/executorlab/api/tasks/run-1/cancel');
    expect(urls[0]).toBe('GET /lab-base/executorlab/api/tasks/run-1');
    model.dispose();
  });
});

describe('TaskDetails', () => {
  function renderDetails(
    task: ITaskView,
    bridge: ReturnType<typeof fakeBridge>,
    props: Partial<React.ComponentProps<typeof TaskDetails>> = {}
  ) {
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [task] }));
    return render(
      <TaskDetails model={monitor} taskId={task.id} trans={trans} request={bridge.request} {...props} />
    );
  }

  it('shows the exception and traceback of a failed task, its facts, and no Cancel', async () => {
    const failed = makeTask({
      id: 'f1',
      fn_name: 'divide',
      state: 'error',
      started_at: 1_763_700_002_000,
      finished_at: 1_763_700_004_500,
      runtime: 2.5,
      error_type: 'ZeroDivisionError',
      resources: { cores: 4, threads_per_core: 2, gpus_per_core: 1 },
      cache_key: 'divide_0123abcd',
      cache_hit: false
    });
    const bridge = fakeBridge(
      makeDetails({
        ...failed,
        output: 'about to divide\n',
        failure: {
          error_type: 'ZeroDivisionError',
          error_message: 'division by zero',
          traceback: 'Traceback (most recent call last):\n  File "<cell>", line 2, in divide\nZeroDivisionError: division by zero\n'
        }
      })
    );
    const { container } = renderDetails(failed, bridge);
    const root = container.querySelector<HTMLElement>('.jp-executorlab-TaskDetails')!;
    expect(root.dataset.taskId).toBe('f1');
    const traceback = await waitFor(() => {
      const pre = container.querySelector('pre.jp-executorlab-TaskDetails-traceback');
      expect(pre).not.toBeNull();
      return pre!;
    });
    expect(traceback.textContent).toContain('line 2, in divide');
    expect(screen.getByText('ZeroDivisionError: division by zero')).toBeTruthy();
    expect(container.querySelector('pre.jp-executorlab-TaskDetails-output')?.textContent).toBe(
      'about to divide\n'
    );
    expect(root.querySelector('.jp-executorlab-TaskDetails-header')?.textContent).toContain('divide');
    expect(root.querySelector('.jp-executorlab-StateBadge')?.textContent).toBe('Failed');
    const fact = (key: string) => root.querySelector(`dd[data-fact="${key}"]`)?.textContent;
    expect(fact('id')).toBe('f1');
    expect(fact('executor')).toBe('SingleNodeExecutor');
    expect(fact('resources')).toBe('4 cores, 2 threads per core, 1 GPU per core');
    expect(fact('cache')).toBe('divide_0123abcd');
    expect(fact('queued')).toBe('2.0 s');
    expect(fact('runtime')).toBe('2.5 s');
    expect(fact('submitted')).toBe(new Date(failed.submitted_at).toLocaleString());
    expect(fact('dependencies')).toBe('none');
    expect(container.querySelector('[data-action="cancel"]')).toBeNull();
    // No graph to show it in.
    expect(container.querySelector('[data-action="show-in-graph"]')).toBeNull();
    // Finished: one fetch only.
    expect(bridge.gets()).toBe(1);
  });

  it('shows a cache hit and the dependencies by function name', async () => {
    const dep = makeTask({ id: 'd1', fn_name: 'load', state: 'done' });
    const task = makeTask({
      id: 'c1',
      state: 'done',
      cache_key: 'sum_ffff',
      cache_hit: true,
      dependencies: ['d1', 'gone']
    });
    const bridge = fakeBridge(makeDetails(task));
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [dep, task] }));
    const { container } = render(
      <TaskDetails model={monitor} taskId="c1" trans={trans} request={bridge.request} />
    );
    await screen.findByText('No output.');
    const fact = (key: string) => container.querySelector(`dd[data-fact="${key}"]`)?.textContent;
    expect(fact('cache')).toBe('sum_ffff (from cache)');
    expect(fact('dependencies')).toContain('2');
    expect(fact('dependencies')).toContain('load');
    expect(fact('dependencies')).toContain('unknown task gone');
    fireEvent.click(screen.getByText('load'));
    expect(monitor.selectedTaskId).toBe('d1');
  });

  it('shows the output of a running task as it grows, scrolled to the end', async () => {
    const running = makeTask({ id: 'r1', state: 'running', started_at: Date.now() });
    const bridge = fakeBridge(makeDetails({ ...running, output: 'line 1\n' }));
    const { container } = renderDetails(running, bridge, { pollInterval: 20 });
    const pre = await waitFor(() => {
      const found = container.querySelector<HTMLPreElement>('pre.jp-executorlab-TaskDetails-output');
      expect(found?.textContent).toBe('line 1\n');
      return found!;
    });
    // jsdom has no layout: give the box a height and a content height.
    let scrollTop = 0;
    Object.defineProperty(pre, 'scrollHeight', { configurable: true, get: () => 500 });
    Object.defineProperty(pre, 'clientHeight', { configurable: true, get: () => 100 });
    Object.defineProperty(pre, 'scrollTop', {
      configurable: true,
      get: () => scrollTop,
      set: (v: number) => {
        scrollTop = v;
      }
    });
    bridge.details = { ...bridge.details, output: 'line 1\nline 2\n' };
    await waitFor(() => expect(pre.textContent).toBe('line 1\nline 2\n'));
    expect(scrollTop).toBe(500);

    // The reader scrolled up: new output does not pull the view down.
    scrollTop = 100;
    fireEvent.scroll(pre);
    bridge.details = { ...bridge.details, output: 'line 1\nline 2\nline 3\n' };
    await waitFor(() => expect(pre.textContent).toContain('line 3'));
    expect(scrollTop).toBe(100);
    expect(container.querySelector('[data-action="cancel"]')).not.toBeNull();
  });

  it('Cancel is disabled while it runs and shows the bridge’s reason when it fails', async () => {
    const running = makeTask({ id: 'r2', state: 'running', started_at: Date.now() });
    const bridge = fakeBridge(makeDetails(running));
    let reject!: (reason: Error) => void;
    bridge.cancelReply = () => new Promise((_, r) => (reject = r));
    const { container } = renderDetails(running, bridge, { pollInterval: 60_000 });
    await screen.findByText('No output yet.');
    const cancel = container.querySelector<HTMLButtonElement>('[data-action="cancel"]')!;
    expect(cancel.disabled).toBe(false);
    fireEvent.click(cancel);
    await waitFor(() => expect(cancel.disabled).toBe(true));
    expect(bridge.calls).toContainEqual({ path: 'api/tasks/r2/cancel', method: 'POST' });
    await act(async () => reject(new Error('no such unfinished task')));
    expect(await screen.findByText('Could not cancel the task: no such unfinished task')).toBeTruthy();
    expect(cancel.disabled).toBe(false);
  });

  it('Show in graph calls the prop with the task id; the close button clears the selection', async () => {
    const task = makeTask({ id: 'g1', state: 'done', started_at: 1, finished_at: 2, runtime: 0.001 });
    const bridge = fakeBridge(makeDetails(task));
    const onShowInGraph = vi.fn();
    act(() => monitor.select('g1'));
    const { container } = renderDetails(task, bridge, { onShowInGraph });
    await screen.findByText('No output.');
    fireEvent.click(container.querySelector('[data-action="show-in-graph"]')!);
    expect(onShowInGraph).toHaveBeenCalledWith('g1');
    fireEvent.click(container.querySelector('[data-action="close"]')!);
    expect(monitor.selectedTaskId).toBeNull();
  });
});

describe('TaskMonitor with a selected task', () => {
  it('renders the details below the table for the selected task only', async () => {
    const details = makeDetails({ id: 'a', state: 'done', output: 'hello\n' });
    const fetch = vi.fn(() => Promise.resolve(jsonResponse(details)));
    const onShowInGraph = vi.fn();
    const { container } = render(
      <TaskMonitor
        model={monitor}
        filter={DEFAULT_TASK_FILTER}
        trans={trans}
        onShowInGraph={onShowInGraph}
        serverSettings={makeSettings({ fetch })}
      />
    );
    act(() =>
      FakeWebSocket.last.push({
        type: 'snapshot',
        tasks: [makeTask({ id: 'a', state: 'done' }), makeTask({ id: 'b' })]
      })
    );
    expect(container.querySelector('.jp-executorlab-TaskDetails')).toBeNull();
    fireEvent.click(container.querySelector('.jp-executorlab-TaskRow[data-task-id="a"]')!);
    const root = container.querySelector<HTMLElement>('.jp-executorlab-TaskDetails');
    expect(root?.dataset.taskId).toBe('a');
    // Below the table.
    expect(container.querySelector('.jp-executorlab-TaskMonitor-list + .jp-executorlab-TaskDetails')).toBe(root);
    await waitFor(() =>
      expect(container.querySelector('.jp-executorlab-TaskDetails-output')?.textContent).toBe('hello\n')
    );
    fireEvent.click(container.querySelector('[data-action="show-in-graph"]')!);
    expect(onShowInGraph).toHaveBeenCalledWith('a');

    // A selection the monitor does not know shows nothing.
    act(() => monitor.select('unknown'));
    expect(container.querySelector('.jp-executorlab-TaskDetails')).toBeNull();
  });
});
