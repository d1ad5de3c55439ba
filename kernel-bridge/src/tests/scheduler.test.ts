import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, RunHooks, TaskOutcome } from '../backends/backend.js';
import { ExecutorOptions } from '../protocol/messages.js';
import { RequestError, Scheduler } from '../scheduler/scheduler.js';
import type { Task } from '../scheduler/task.js';

/** A backend whose tasks finish when the test says so. */
class ManualBackend implements Backend {
  readonly kind = 'manual';
  readonly running = new Map<string, (outcome: TaskOutcome) => void>();
  async run(task: Task, hooks: RunHooks): Promise<TaskOutcome> {
    hooks.started();
    return new Promise(resolve => this.running.set(task.id, resolve));
  }
  finish(id: string): void {
    this.running.get(id)!({ ok: true, runtime: 0.5, result: Buffer.from('r') });
    this.running.delete(id);
  }
  async shutdown(): Promise<void> {}
}

function setup(options: Partial<ExecutorOptions> = {}) {
  const scheduler = new Scheduler();
  const backend = new ManualBackend();
  scheduler.createExecutor({ id: 'e', name: 'Test', clientId: 'c', options: ExecutorOptions.parse(options), backend });
  let n = 0;
  const submit = (cores = 1) =>
    scheduler.submit({
      taskId: `t${n++}`,
      executorId: 'e',
      clientId: 'c',
      fnName: 'f',
      resourceDict: { cores },
      blobs: [Buffer.from('f'), Buffer.from('a'), Buffer.from('k')]
    });
  return { scheduler, backend, submit };
}

const tick = () => new Promise(resolve => setImmediate(resolve));

test('max_workers bounds how many tasks run at once', async () => {
  const { backend, submit } = setup({ max_workers: 2 });
  const tasks = [submit(), submit(), submit()];
  await tick();
  assert.deepEqual(tasks.map(t => t.state), ['running', 'running', 'queued']);
  backend.finish('t0');
  await tick();
  assert.deepEqual(tasks.map(t => t.state), ['done', 'running', 'running']);
});

test('max_cores counts cores, not tasks', async () => {
  const { backend, submit } = setup({ max_cores: 3 });
  const [a, b] = [submit(2), submit(2)];
  await tick();
  assert.deepEqual([a.state, b.state], ['running', 'queued']);
  backend.finish(a.id);
  await tick();
  assert.equal(b.state, 'running');
});

test('a task asking for more than max_cores is refused at submit', () => {
  const { submit } = setup({ max_cores: 2 });
  assert.throws(() => submit(4), (e: unknown) => e instanceof RequestError && /max_cores=2/.test(e.message));
});

test('states are reported in order and the record outlives its inputs', async () => {
  const { scheduler, backend, submit } = setup();
  const seen: string[] = [];
  scheduler.on('task', t => seen.push(t.state));
  const task = submit();
  await tick();
  backend.finish(task.id);
  await tick();
  assert.deepEqual(seen, ['queued', 'running', 'done']);
  assert.equal(task.blobs.length, 0);
  assert.equal(scheduler.views()[0].runtime, 0.5);
});

test('cancel removes a queued task; shutdown(wait) resolves when the rest finished', async () => {
  const { scheduler, backend, submit } = setup({ max_workers: 1 });
  const [first, second] = [submit(), submit()];
  await tick();
  assert.equal(scheduler.cancel(second.id), true);
  assert.equal(second.state, 'cancelled');
  let closed = false;
  const shutdown = scheduler.shutdownExecutor('e', true, false).then(() => (closed = true));
  await tick();
  assert.equal(closed, false);
  assert.throws(() => submit(), /after shutdown/);
  backend.finish(first.id);
  await shutdown;
  assert.equal(first.state, 'done');
});

test('a backend that throws fails the task instead of the bridge', async () => {
  const scheduler = new Scheduler();
  const broken: Backend = { kind: 'broken', run: async () => { throw new Error('no launcher'); }, shutdown: async () => {} };
  scheduler.createExecutor({ id: 'e', name: 'x', clientId: 'c', options: ExecutorOptions.parse({}), backend: broken });
  const task = scheduler.submit({ taskId: 't', executorId: 'e', clientId: 'c', fnName: 'f', resourceDict: {}, blobs: [] });
  await tick();
  assert.equal(task.state, 'error');
  assert.equal(task.failure?.error_message, 'no launcher');
});
