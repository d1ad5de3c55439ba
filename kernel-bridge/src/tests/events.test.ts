import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { EventHub } from '../events/hub.js';
import type { TaskView } from '../scheduler/task.js';

class FakeSocket extends EventEmitter {
  readonly sent: unknown[] = [];
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(): void {}
}

const view = (id: string, state: TaskView['state']) => ({ id, state }) as TaskView;

test('a new subscriber gets a snapshot, then coalesced changes', async () => {
  const hub = new EventHub(() => [view('a', 'queued')], 20);
  const socket = new FakeSocket();
  hub.add(socket as unknown as WebSocket);
  assert.deepEqual(socket.sent, [
    { type: 'snapshot', tasks: [{ id: 'a', state: 'queued' }] },
    { type: 'executors', executors: [] }
  ]);
  hub.taskChanged(view('a', 'running'));
  hub.taskChanged(view('b', 'queued'));
  hub.taskChanged(view('a', 'done'));
  await new Promise(resolve => setTimeout(resolve, 60));
  assert.deepEqual(socket.sent.slice(2), [
    { type: 'tasks', tasks: [{ id: 'a', state: 'done' }, { id: 'b', state: 'queued' }] }
  ]);
  socket.emit('close');
  assert.equal(hub.subscribers, 0);
  hub.close();
});

test('executor changes go out once per flush, as the whole (short) list', async () => {
  let running = 0;
  const executors = () => [{ id: 'e', name: 'SlurmJobExecutor', backend: 'slurm', running }] as never[];
  const hub = new EventHub(() => [], 20, executors);
  const socket = new FakeSocket();
  hub.add(socket as unknown as WebSocket);
  assert.deepEqual(socket.sent[1], { type: 'executors', executors: [{ id: 'e', name: 'SlurmJobExecutor', backend: 'slurm', running: 0 }] });
  running = 1;
  hub.executorsChanged();
  running = 2;
  hub.executorsChanged();
  await new Promise(resolve => setTimeout(resolve, 60));
  assert.deepEqual(socket.sent.slice(2), [
    { type: 'executors', executors: [{ id: 'e', name: 'SlurmJobExecutor', backend: 'slurm', running: 2 }] }
  ]);
  hub.close();
});
