import { nullTranslator } from '@jupyterlab/translation';
import { cleanup, fireEvent, render } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { TaskTable } from '../src/components/TaskTable';
import { TaskMonitorModel } from '../src/tasks/model';
import { FakeWebSocket, makeSettings, makeTask } from './helpers';

const trans = nullTranslator.load('executorlab');

afterEach(cleanup);

describe('one selection for the table and the graph', () => {
  it('the model emits the selected id once per change, and events keep the executors list', () => {
    FakeWebSocket.reset();
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const model = new TaskMonitorModel(connection);
    const seen: (string | null)[] = [];
    model.selectionChanged.connect((_, id) => seen.push(id));
    model.select('a');
    model.select('a');
    model.select(null);
    expect(seen).toEqual(['a', null]);
    FakeWebSocket.last.push({ type: 'executors', executors: [] });
    expect(model.executors).toEqual([]);
    model.dispose();
    connection.dispose();
  });

  it('a click on a row selects it; the selected row is marked', () => {
    const picked: string[] = [];
    const tasks = [makeTask({ id: 'a' }), makeTask({ id: 'b' })];
    const { container, rerender } = render(
      <TaskTable tasks={tasks} now={0} trans={trans} selectedId={null} onSelect={id => picked.push(id)} />
    );
    fireEvent.click(container.querySelector('[data-task-id="b"]')!);
    expect(picked).toEqual(['b']);
    rerender(<TaskTable tasks={tasks} now={0} trans={trans} selectedId="b" onSelect={id => picked.push(id)} />);
    expect(container.querySelector('[data-task-id="b"]')!.classList.contains('jp-mod-selected')).toBe(true);
    expect(container.querySelector('[data-task-id="a"]')!.classList.contains('jp-mod-selected')).toBe(false);
  });
});

describe('a row says what a call was given', () => {
  it('shows the short arguments next to the function name', () => {
    const { container } = render(
      <TaskTable tasks={[makeTask({ id: 'a', args: "2, 'x', list[300]" })]} now={0} trans={trans} selectedId={null} />
    );
    expect(container.querySelector('.jp-executorlab-TaskRow-args')!.textContent).toBe("(2, 'x', list[300])");
  });
});
