import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { Widget } from '@lumino/widgets';
import { act, fireEvent } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { FutureRenderer } from '../src/outputs/FutureRenderer';
import { parseFutureData } from '../src/outputs/payload';
import { ITaskDetails, TaskDetailsRequest } from '../src/tasks/details';
import { TaskMonitorModel } from '../src/tasks/model';
import {
  FUTURE_MIME_TYPE,
  IFutureOutputData,
  ITaskView,
  SHOW_TASK_COMMAND
} from '../src/tokens';
import { FakeWebSocket, jsonResponse, makeSettings, makeTask } from './helpers';

const NOW = 1_763_700_010_000;

function futureData(overrides: Partial<IFutureOutputData> = {}): IFutureOutputData {
  return {
    version: 1,
    task_id: 't-1',
    bridge: null,
    label: '%%submit In[3]',
    state: 'queued',
    cores: 2,
    output: 'cell',
    ...overrides
  };
}

function mimeModel(data: unknown) {
  return {
    trusted: false,
    data: { [FUTURE_MIME_TYPE]: data, 'text/plain': '<Future t-1 queued>' },
    metadata: {},
    setData: () => undefined
  } as any;
}

/**
 * The bridge's `GET api/tasks/<id>`: the details of the tasks it knows, 404 for the others.
 */
function fakeBridge(known: Record<string, ITaskDetails> = {}) {
  const calls: string[] = [];
  const request = (async (path: string) => {
    calls.push(path);
    const id = decodeURIComponent(path.replace(/^api\/tasks\//, ''));
    const details = known[id];
    if (!details) {
      throw new ServerConnection.ResponseError(
        jsonResponse({ error: `no task ${id}` }, 404),
        `no task ${id}`
      );
    }
    return structuredClone(details);
  }) as TaskDetailsRequest;
  return { calls, request, known };
}

function details(task: ITaskView, output = ''): ITaskDetails {
  return { ...task, output, failure: null };
}

let connection: BridgeConnection;
let monitor: TaskMonitorModel;
let commands: CommandRegistry;
let renderer: FutureRenderer | null;

function push(type: 'snapshot' | 'tasks', ...tasks: ITaskView[]): void {
  act(() => FakeWebSocket.last.push({ type, tasks }));
}

async function flush(ms = 0): Promise<void> {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

async function show(
  data: unknown,
  request: TaskDetailsRequest,
  options: { attach?: boolean } = {}
): Promise<FutureRenderer> {
  renderer = new FutureRenderer({
    monitor,
    commands,
    translator: nullTranslator,
    request,
    pollInterval: 1000
  });
  await renderer.renderModel(mimeModel(data));
  if (options.attach !== false) {
    act(() => Widget.attach(renderer!, document.body));
  }
  await flush();
  return renderer;
}

function view(): HTMLElement {
  const el = renderer!.node.querySelector<HTMLElement>('.jp-executorlab-FutureView');
  if (!el) {
    throw new Error('no future view');
  }
  return el;
}

function part(name: string): HTMLElement | null {
  return renderer!.node.querySelector<HTMLElement>(`.jp-executorlab-FutureView-${name}`);
}

beforeEach(() => {
  vi.useFakeTimers({ now: NOW });
  FakeWebSocket.reset();
  connection = new BridgeConnection({ serverSettings: makeSettings() });
  monitor = new TaskMonitorModel(connection);
  commands = new CommandRegistry();
  renderer = null;
});

afterEach(() => {
  renderer?.dispose();
  monitor.dispose();
  connection.dispose();
  vi.useRealTimers();
});

describe('parseFutureData', () => {
  it('accepts the kernel payload and fills in defaults', () => {
    expect(parseFutureData(futureData())).toEqual({ ok: true, value: futureData() });
    const parsed = parseFutureData({ version: 1, task_id: 't-9', state: 'running' });
    expect(parsed).toEqual({
      ok: true,
      value: { version: 1, task_id: 't-9', bridge: null, label: null, state: 'running', cores: 1, output: 'cell' }
    });
  });

  it('rejects what is not a future', () => {
    expect(parseFutureData(null).ok).toBe(false);
    expect(parseFutureData({ ...futureData(), version: 2 }).ok).toBe(false);
    expect(parseFutureData({ ...futureData(), task_id: 3 }).ok).toBe(false);
    expect(parseFutureData({ ...futureData(), state: 'sleeping' }).ok).toBe(false);
  });
});

describe('FutureRenderer', () => {
  it('renders the snapshot while the task is looked up', async () => {
    let resolve: (value: unknown) => void = () => undefined;
    const request = (() =>
      new Promise<unknown>(r => {
        resolve = r;
      })) as TaskDetailsRequest;
    await show(futureData(), request);
    expect(view().dataset.state).toBe('queued');
    expect(view().dataset.taskId).toBe('t-1');
    expect(view().dataset.source).toBe('pending');
    expect(part('label')?.textContent).toBe('%%submit In[3]');
    expect(part('cores')?.textContent).toBe('2 cores');
    expect(view().textContent).toContain('Queued');
    expect(part('runtime')).toBeNull();
    await act(async () => resolve(details(makeTask({ id: 't-1', state: 'queued' }))));
  });

  it('follows the task monitor: running with a ticking runtime and its host, then done', async () => {
    const bridge = fakeBridge();
    push('snapshot', makeTask({ id: 't-1', fn_name: 'add', state: 'queued', submitted_at: NOW - 4_000 }));
    await show(futureData({ label: null }), bridge.request);
    expect(bridge.calls).toEqual([]); // the monitor knows it: nothing fetched
    expect(view().dataset.source).toBe('monitor');
    expect(part('label')?.textContent).toBe('add');
    expect(part('runtime')?.dataset.kind).toBe('queued');
    expect(part('runtime')?.textContent).toBe('queued 4.0 s');

    const running = makeTask({
      id: 't-1',
      fn_name: 'add',
      state: 'running',
      submitted_at: NOW - 4_000,
      started_at: NOW,
      where: 'node07:4711',
      resources: { cores: 2, threads_per_core: 1, gpus_per_core: 0 }
    });
    push('tasks', running);
    expect(view().dataset.state).toBe('running');
    expect(part('runtime')?.dataset.kind).toBe('runtime');
    expect(part('runtime')?.textContent).toBe('0.0 s');
    expect(part('host')?.textContent).toBe('node07:4711');
    expect(part('cores')?.textContent).toBe('2 cores');

    await flush(12_000);
    expect(part('runtime')?.textContent).toBe('12 s');

    push('tasks', { ...running, state: 'done', finished_at: NOW + 13_000, runtime: 13 });
    expect(view().dataset.state).toBe('done');
    expect(view().querySelector('.jp-executorlab-StateBadge')?.textContent).toBe('Done');
    expect(part('runtime')?.textContent).toBe('13 s');
    expect(bridge.calls).toEqual([]);
  });

  it('fetches a task the monitor does not hold, once', async () => {
    const done = makeTask({ id: 't-1', fn_name: 'mul', state: 'done', started_at: NOW - 3_000, finished_at: NOW, runtime: 3, where: 'host:1234' });
    const bridge = fakeBridge({ 't-1': details(done) });
    push('snapshot');
    await show(futureData({ label: null, state: 'running' }), bridge.request);
    expect(bridge.calls).toEqual(['api/tasks/t-1']);
    expect(view().dataset.source).toBe('fetched');
    expect(view().dataset.state).toBe('done');
    expect(part('label')?.textContent).toBe('mul');
    expect(part('runtime')?.textContent).toBe('3.0 s');
    expect(part('host')?.textContent).toBe('host:1234');

    push('tasks', makeTask({ id: 'other' }));
    await flush(5_000);
    expect(bridge.calls).toEqual(['api/tasks/t-1']);
  });

  it('shows the snapshot greyed when the running bridge does not know the task', async () => {
    const bridge = fakeBridge();
    push('snapshot');
    await show(futureData({ state: 'running' }), bridge.request);
    expect(bridge.calls).toEqual(['api/tasks/t-1']);
    expect(view().dataset.source).toBe('unknown');
    expect(view().dataset.stale).toBe('true');
    expect(view().classList.contains('jp-mod-stale')).toBe(true);
    expect(view().dataset.state).toBe('running');
    expect(part('note')?.textContent).toBe('not known to the running bridge');
    expect(part('label')?.textContent).toBe('%%submit In[3]');
    expect(part('cores')?.textContent).toBe('2 cores');
    expect(part('runtime')).toBeNull();
    expect(part('link')).toBeTruthy();
    expect((part('link') as HTMLButtonElement).disabled).toBe(true);

    // The socket delivers it after all (e.g. a late snapshot): live again.
    push('tasks', makeTask({ id: 't-1', state: 'done', runtime: 1 }));
    expect(view().dataset.source).toBe('monitor');
    expect(view().dataset.stale).toBeUndefined();
    expect(view().dataset.state).toBe('done');
  });

  it('does not ask a bridge instance the kernel did not submit to', async () => {
    connection.dispose();
    monitor.dispose();
    connection = new BridgeConnection({
      serverSettings: makeSettings({
        fetch: () =>
          Promise.resolve(jsonResponse({ version: '0.1.0', pid: 1, started: 1, instance_id: 'new-bridge' }))
      })
    });
    monitor = new TaskMonitorModel(connection);
    push('snapshot');
    await flush();
    expect(monitor.bridgeStatus?.instance_id).toBe('new-bridge');
    const bridge = fakeBridge();
    await show(futureData({ bridge: 'old-bridge', state: 'done' }), bridge.request);
    expect(bridge.calls).toEqual([]);
    expect(view().dataset.source).toBe('unknown');
    expect(part('note')?.textContent).toBe('not known to the running bridge');
  });

  it('retries after the bridge could not be reached, once the socket reconnects', async () => {
    let fail = true;
    const task = makeTask({ id: 't-1', state: 'done', runtime: 2 });
    const calls: string[] = [];
    const request = (async (path: string) => {
      calls.push(path);
      if (fail) {
        throw new ServerConnection.ResponseError(jsonResponse({ error: 'bridge down' }, 503), 'bridge down');
      }
      return details(task);
    }) as TaskDetailsRequest;
    await show(futureData(), request);
    expect(view().dataset.source).toBe('unreachable');
    expect(part('note')?.textContent).toBe('the bridge could not be reached');
    fail = false;
    push('snapshot'); // connected; the task is not in it
    await flush();
    expect(calls).toHaveLength(2);
    expect(view().dataset.source).toBe('fetched');
    expect(view().dataset.state).toBe('done');
  });

  it('shows what the task prints under the line when its output is live, polling while attached', async () => {
    const running = makeTask({ id: 't-1', state: 'running', started_at: NOW });
    push('snapshot', running);
    const bridge = fakeBridge({ 't-1': details(running, 'step 1\n') });
    await show(futureData({ output: 'live' }), bridge.request);
    const output = part('output');
    expect(output).not.toBeNull();
    expect(output?.querySelector('pre')?.textContent).toBe('step 1\n');
    expect(renderer!.model?.polling).toBe(true);

    bridge.known['t-1'] = details(running, 'step 1\nstep 2\n');
    await flush(1_000);
    expect(part('output')?.querySelector('pre')?.textContent).toBe('step 1\nstep 2\n');
    const fetched = bridge.calls.length;

    // Scrolled away (detached): no more polling; the last output stays.
    act(() => Widget.detach(renderer!));
    expect(renderer!.model?.polling).toBe(false);
    await flush(5_000);
    expect(bridge.calls).toHaveLength(fetched);

    act(() => Widget.attach(renderer!, document.body));
    await flush();
    expect(bridge.calls.length).toBe(fetched + 1);
    expect(part('output')?.querySelector('pre')?.textContent).toBe('step 1\nstep 2\n');
  });

  it('shows no output section when the output goes to the cell', async () => {
    push('snapshot', makeTask({ id: 't-1', state: 'running', started_at: NOW }));
    const bridge = fakeBridge();
    await show(futureData(), bridge.request);
    expect(part('output')).toBeNull();
    expect(bridge.calls).toEqual([]);
  });

  it('runs executorlab:show-task with the task id from its link', async () => {
    const execute = vi.fn();
    commands.addCommand(SHOW_TASK_COMMAND, { execute });
    push('snapshot', makeTask({ id: 't-1', state: 'running', started_at: NOW }));
    await show(futureData(), fakeBridge().request);
    const link = part('link') as HTMLButtonElement;
    expect(link.disabled).toBe(false);
    expect(link.textContent).toBe('Show in Executors');
    fireEvent.click(link);
    await flush();
    expect(execute).toHaveBeenCalledWith({ taskId: 't-1' });
  });

  it('updates in place for a new display of the same future', async () => {
    const bridge = fakeBridge();
    push('snapshot');
    await show(futureData(), bridge.request);
    const model = renderer!.model;
    await renderer!.renderModel(mimeModel(futureData({ label: 'renamed' })));
    await flush();
    expect(renderer!.model).toBe(model);
    expect(part('label')?.textContent).toBe('renamed');
    expect(bridge.calls).toHaveLength(1);
  });

  it('renders a one-line error for malformed data', async () => {
    await show({ version: 1, state: 'done' }, fakeBridge().request);
    expect(renderer!.model).toBeNull();
    const error = renderer!.node.querySelector('.jp-executorlab-FutureView-invalid');
    expect(error?.textContent).toBe('Cannot show the future: the future data has no task_id');
  });

  it('stops its timers, polling and signal connections when disposed', async () => {
    const baseline = vi.getTimerCount();
    const running = makeTask({ id: 't-1', state: 'running', started_at: NOW });
    push('snapshot', running);
    const bridge = fakeBridge({ 't-1': details(running, 'x\n') });
    await show(futureData({ output: 'live' }), bridge.request);
    // The ticking runtime and the output poll.
    expect(vi.getTimerCount()).toBeGreaterThanOrEqual(baseline + 2);
    const model = renderer!.model!;
    act(() => renderer!.dispose());
    expect(model.isDisposed).toBe(true);
    expect(model.polling).toBe(false);
    expect(vi.getTimerCount()).toBe(baseline);
    const fetched = bridge.calls.length;
    push('tasks', { ...running, state: 'done', runtime: 3 });
    await flush(5_000);
    expect(bridge.calls).toHaveLength(fetched);
    expect(renderer!.node.textContent).toBe('');
  });

  it('never starts timers when disposed without being attached', async () => {
    push('snapshot', makeTask({ id: 't-1', state: 'running', started_at: NOW }));
    const baseline = vi.getTimerCount();
    await show(futureData({ output: 'live' }), fakeBridge().request, { attach: false });
    expect(vi.getTimerCount()).toBe(baseline);
    expect(renderer!.model?.polling).toBe(false);
    renderer!.dispose();
    expect(vi.getTimerCount()).toBe(baseline);
  });
});
