import { RenderMimeRegistry, standardRendererFactories } from '@jupyterlab/rendermime';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import plugins from '../src/index';
import { CellGraphRenderer } from '../src/outputs/CellGraphRenderer';
import { FutureRenderer } from '../src/outputs/FutureRenderer';
import { BridgeConnection } from '../src/bridge/connection';
import { EXECUTORS_SIDEBAR_ID } from '../src/sidebar';
import { TaskMonitorModel } from '../src/tasks/model';
import { FUTURE_MIME_TYPE, GRAPH_MIME_TYPE, SHOW_TASK_COMMAND } from '../src/tokens';
import { FakeWebSocket, makeSettings, makeTask } from './helpers';

const plugin = plugins.find(p => p.id === 'executorlab:cell-outputs')!;

describe('executorlab:cell-outputs', () => {
  let connection: BridgeConnection;
  let monitor: TaskMonitorModel;
  let rendermime: RenderMimeRegistry;
  let commands: CommandRegistry;
  let activateById: ReturnType<typeof vi.fn>;

  beforeEach(() => {
    FakeWebSocket.reset();
    connection = new BridgeConnection({ serverSettings: makeSettings() });
    monitor = new TaskMonitorModel(connection);
    rendermime = new RenderMimeRegistry({ initialFactories: standardRendererFactories });
    commands = new CommandRegistry();
    activateById = vi.fn();
    const app = {
      commands,
      shell: { activateById },
      serviceManager: { serverSettings: makeSettings() }
    };
    plugin.activate(app as any, rendermime, monitor, nullTranslator);
  });

  afterEach(() => {
    monitor.dispose();
    connection.dispose();
  });

  it('is exported with the other plugins, starts automatically and needs the registry and the task model', () => {
    expect(plugin).toBeDefined();
    expect(plugin.autoStart).toBe(true);
    expect(plugin.requires?.length).toBe(2);
  });

  it('ranks its renderers before the SVG and plain-text fallbacks of the same bundle, trusted or not', () => {
    const graphBundle = { [GRAPH_MIME_TYPE]: {}, 'image/svg+xml': '<svg/>', 'text/plain': 'graph' };
    const futureBundle = { [FUTURE_MIME_TYPE]: {}, 'text/plain': '<Future>' };
    expect(rendermime.preferredMimeType(graphBundle, 'any')).toBe(GRAPH_MIME_TYPE);
    expect(rendermime.preferredMimeType(graphBundle, 'ensure')).toBe(GRAPH_MIME_TYPE);
    expect(rendermime.preferredMimeType(futureBundle, 'ensure')).toBe(FUTURE_MIME_TYPE);
    expect(rendermime.getRank(GRAPH_MIME_TYPE)).toBeLessThan(rendermime.getRank('image/svg+xml')!);
    // Notebooks clone the registry: the clone has them too.
    const clone = rendermime.clone();
    const future = clone.createRenderer(FUTURE_MIME_TYPE);
    const graph = clone.createRenderer(GRAPH_MIME_TYPE);
    expect(future).toBeInstanceOf(FutureRenderer);
    expect(graph).toBeInstanceOf(CellGraphRenderer);
    future.dispose();
    graph.dispose();
  });

  it('adds executorlab:show-task: it selects the task and opens the Executors sidebar', async () => {
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [makeTask({ id: 't-7' })] });
    expect(commands.hasCommand(SHOW_TASK_COMMAND)).toBe(true);
    expect(commands.label(SHOW_TASK_COMMAND)).toBe('Show Task in Executors');
    await commands.execute(SHOW_TASK_COMMAND, { taskId: 't-7' });
    expect(monitor.selectedTaskId).toBe('t-7');
    expect(activateById).toHaveBeenCalledWith(EXECUTORS_SIDEBAR_ID);

    activateById.mockClear();
    await commands.execute(SHOW_TASK_COMMAND, {});
    expect(monitor.selectedTaskId).toBe('t-7');
    expect(activateById).not.toHaveBeenCalled();
  });
});
