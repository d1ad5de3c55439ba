import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { TaskMonitorModel } from '../src/tasks/model';
import { FakeWebSocket, makeSettings, makeTask } from './helpers';

describe('TaskMonitorModel', () => {
  let connection: BridgeConnection;
  let model: TaskMonitorModel;
  let changes: number;

  beforeEach(() => {
    FakeWebSocket.reset();
    connection = new BridgeConnection({ serverSettings: makeSettings() });
    model = new TaskMonitorModel(connection);
    changes = 0;
    model.changed.connect(() => changes++);
  });

  afterEach(() => {
    model.dispose();
    connection.dispose();
  });

  it('starts empty and connecting', () => {
    expect(model.tasks).toEqual([]);
    expect(model.connectionStatus).toBe('connecting');
  });

  it('lists the snapshot newest submission first', () => {
    FakeWebSocket.last.push({
      type: 'snapshot',
      tasks: [
        makeTask({ id: 'old', submitted_at: 1000 }),
        makeTask({ id: 'new', submitted_at: 3000 }),
        makeTask({ id: 'mid', submitted_at: 2000 })
      ]
    });
    expect(model.tasks.map(t => t.id)).toEqual(['new', 'mid', 'old']);
    expect(model.connectionStatus).toBe('connected');
    expect(changes).toBeGreaterThan(0);
  });

  it('updates changed tasks and adds new ones from a tasks event', () => {
    FakeWebSocket.last.push({
      type: 'snapshot',
      tasks: [makeTask({ id: 'a', submitted_at: 1 }), makeTask({ id: 'b', submitted_at: 2 })]
    });
    FakeWebSocket.last.push({
      type: 'tasks',
      tasks: [
        makeTask({ id: 'a', submitted_at: 1, state: 'done', started_at: 10, finished_at: 20, runtime: 0.01 }),
        makeTask({ id: 'c', submitted_at: 3, state: 'waiting' })
      ]
    });
    expect(model.tasks.map(t => [t.id, t.state])).toEqual([
      ['c', 'waiting'],
      ['b', 'queued'],
      ['a', 'done']
    ]);
    expect(model.getTask('a')?.runtime).toBe(0.01);
  });

  it('replaces all tasks with the snapshot after a reconnection', () => {
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [makeTask({ id: 'before-restart' })] });
    FakeWebSocket.last.drop();
    expect(model.connectionStatus).toBe('disconnected');
    // Tasks stay visible (marked stale by the view) until the bridge answers again.
    expect(model.tasks.map(t => t.id)).toEqual(['before-restart']);

    model.reconnect();
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [makeTask({ id: 'after-restart' })] });
    expect(model.tasks.map(t => t.id)).toEqual(['after-restart']);
    expect(model.getTask('before-restart')).toBeUndefined();
  });

  it('emits changed when the connection status changes', () => {
    FakeWebSocket.last.drop();
    expect(changes).toBe(1);
    expect(model.connectionStatus).toBe('disconnected');
  });

  it('stops listening once disposed', () => {
    model.dispose();
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [makeTask()] });
    expect(changes).toBe(0);
    expect(model.isDisposed).toBe(true);
  });
});

describe('TaskMonitorModel redraw rate', () => {
  it('spaces redraws to the updates-per-second setting, showing the latest tasks', async () => {
    FakeWebSocket.reset();
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const model = new TaskMonitorModel(connection);
    model.updatesPerSecond = 20; // one redraw per 50 ms at most
    let redraws = 0;
    model.changed.connect(() => redraws++);
    FakeWebSocket.last.push({ type: 'snapshot', tasks: [] });
    const first = redraws;
    for (let i = 0; i < 5; i++) {
      FakeWebSocket.last.push({ type: 'tasks', tasks: [makeTask({ id: `t${i}` })] });
    }
    expect(model.tasks).toHaveLength(5); // applied at once
    expect(redraws - first).toBeLessThanOrEqual(1);
    await new Promise(resolve => setTimeout(resolve, 80));
    expect(redraws - first).toBe(2);
    model.dispose();
    connection.dispose();
  });
});
