import { nullTranslator } from '@jupyterlab/translation';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { act } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { EXECUTORS_SIDEBAR_ID, ExecutorsSidebar } from '../src/sidebar';
import { TaskMonitorModel } from '../src/tasks/model';
import { TaskMonitorWidget } from '../src/tasks/widget';
import { FakeWebSocket, makeSettings, makeTask } from './helpers';

function renderNow(widget: Widget): void {
  act(() => MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest));
}

describe('Executors sidebar with its Tasks section', () => {
  let connection: BridgeConnection;
  let model: TaskMonitorModel;
  let tasks: TaskMonitorWidget;
  let sidebar: ExecutorsSidebar;

  beforeEach(() => {
    FakeWebSocket.reset();
    connection = new BridgeConnection({ serverSettings: makeSettings() });
    model = new TaskMonitorModel(connection);
    tasks = new TaskMonitorWidget({ model, translator: nullTranslator });
    sidebar = new ExecutorsSidebar({ translator: nullTranslator });
    sidebar.addWidget(tasks);
    Widget.attach(sidebar, document.body);
    renderNow(tasks);
  });

  afterEach(() => {
    sidebar.dispose();
    model.dispose();
    connection.dispose();
  });

  it('is the widget the tests and the layout restorer find by id', () => {
    expect(sidebar.id).toBe(EXECUTORS_SIDEBAR_ID);
    expect(document.getElementById('executorlab-task-monitor')).toBe(sidebar.node);
    expect(sidebar.title.caption).toBe('Executors');
    expect(sidebar.header.node.textContent).toBe('Executors');
    expect(sidebar.widgets).toEqual([tasks]);
    expect(sidebar.node.textContent).toContain('Tasks');
  });

  it('renders the live task list inside the sidebar', () => {
    act(() =>
      FakeWebSocket.last.push({
        type: 'snapshot',
        tasks: [makeTask({ id: 'x', state: 'running', started_at: 0 })]
      })
    );
    const row = sidebar.node.querySelector<HTMLElement>('.jp-executorlab-TaskRow');
    expect(row?.dataset.taskId).toBe('x');
    expect(row?.dataset.state).toBe('running');
  });

  it('applies a new filter from the settings', () => {
    act(() =>
      FakeWebSocket.last.push({ type: 'snapshot', tasks: [makeTask({ id: 'd', state: 'done' })] })
    );
    expect(sidebar.node.querySelectorAll('.jp-executorlab-TaskRow')).toHaveLength(1);
    tasks.filter = { showFinishedTasks: false, maxFinishedTasks: 0 };
    renderNow(tasks);
    expect(sidebar.node.querySelectorAll('.jp-executorlab-TaskRow')).toHaveLength(0);
    expect(sidebar.node.textContent).toContain('Finished tasks are hidden');
  });
});
