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
  readonly inputs = new Map<string, string[]>();
  async run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    this.inputs.set(task.id, inputs.map(String));
    hooks.started();
    return new Promise(resolve => this.running.set(task.id, resolve));
  }
  finish(id: string, result = 'r'): void {
    this.running.get(id)!({ ok: true, runtime: 0.5, result: Buffer.from(result) });
    this.running.delete(id);
  }
  fail(id: string): void {
    const failure = { error_type: 'KeyError', error_message: "'x'", traceback: 'Traceback ...' };
    this.running.get(id)!({ ok: false, runtime: 0.1, failure, exception: Buffer.from('pickled KeyError') });
    this.running.delete(id);
  }
  cancel(id: string): boolean {
    const resolve = this.running.get(id);
    if (!resolve) return false;
    resolve({ ok: false, runtime: 0, failure: { error_type: 'X', error_message: 'killed', traceback: '' }, exception: null });
    this.running.delete(id);
    return true;
  }
  async shutdown(): Promise<void> {}
}

function setup(options: Partial<ExecutorOptions> = {}) {
  const scheduler = new Scheduler();
  const backend = new ManualBackend();
  scheduler.createExecutor({ id: 'e', name: 'Test', clientId: 'c', options: ExecutorOptions.parse(options), backend });
  let n = 0;
  const submit = (cores = 1, dependencies: string[] = []) =>
    scheduler.submit({
      taskId: `t${n++}`,
      executorId: 'e',
      clientId: 'c',
      fnName: 'f',
      resourceDict: { cores },
      blobs: [Buffer.from('f'), Buffer.from('a')],
      dependencies
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
  const broken: Backend = {
    kind: 'broken',
    run: async () => {
      throw new Error('no launcher');
    },
    cancel: () => false,
    shutdown: async () => {}
  };
  scheduler.createExecutor({ id: 'e', name: 'x', clientId: 'c', options: ExecutorOptions.parse({}), backend: broken });
  const task = scheduler.submit({ taskId: 't', executorId: 'e', clientId: 'c', fnName: 'f', resourceDict: {}, blobs: [] });
  await tick();
  assert.equal(task.state, 'error');
  assert.equal(task.failure?.error_message, 'no launcher');
});

test('a task waits for its dependencies and receives their results after its own blobs', async () => {
  const { backend, submit } = setup();
  const [a, b] = [submit(), submit()];
  const c = submit(1, [a.id, b.id]);
  await tick();
  assert.equal(c.state, 'waiting');
  backend.finish(a.id, 'A');
  await tick();
  assert.equal(c.state, 'waiting');
  backend.finish(b.id, 'B');
  await tick();
  assert.equal(c.state, 'running');
  assert.deepEqual(backend.inputs.get(c.id), ['f', 'a', 'A', 'B']);
});

test('a dependency submitted after it finished is still served', async () => {
  const { backend, submit } = setup();
  const a = submit();
  await tick();
  backend.finish(a.id, 'A');
  await tick();
  const b = submit(1, [a.id]);
  await tick();
  assert.equal(b.state, 'running');
  assert.deepEqual(backend.inputs.get(b.id)?.slice(2), ['A']);
});

test('a failed dependency fails the whole chain with the upstream exception, other work continues', async () => {
  const { scheduler, backend, submit } = setup();
  const outcomes = new Map<string, unknown>();
  scheduler.on('finished', (task, outcome) => outcomes.set(task.id, outcome));
  const a = submit();
  const b = submit(1, [a.id]);
  const c = submit(1, [b.id]);
  const other = submit();
  await tick();
  backend.fail(a.id);
  await tick();
  assert.deepEqual([a.state, b.state, c.state], ['error', 'error', 'error']);
  assert.equal(c.failure?.error_type, 'KeyError');
  assert.equal(String((outcomes.get(c.id) as { exception: Buffer }).exception), 'pickled KeyError');
  const late = submit(1, [a.id]);
  assert.equal(late.state, 'error');
  backend.finish(other.id);
  await tick();
  assert.equal(other.state, 'done');
});

test('a cancelled dependency cancels its dependents', async () => {
  const { scheduler, submit } = setup({ max_workers: 1 });
  submit();
  const queued = submit();
  const dependent = submit(1, [queued.id]);
  scheduler.cancel(queued.id);
  assert.deepEqual([queued.state, dependent.state], ['cancelled', 'cancelled']);
  assert.equal(submit(1, [queued.id]).state, 'cancelled');
});

test('cancelling a running task kills it and reports cancelled', async () => {
  const { scheduler, submit } = setup();
  const a = submit();
  await tick();
  assert.equal(scheduler.cancel(a.id), true);
  await tick();
  assert.equal(a.state, 'cancelled');
});

test('an unknown dependency is refused at submit', () => {
  const { submit } = setup();
  assert.throws(() => submit(1, ['t-nowhere']), (e: unknown) => e instanceof RequestError && /t-nowhere/.test(e.message));
});

test('results are evicted by size unless a waiting task needs them', async () => {
  const scheduler = new Scheduler({ resultBudgetBytes: 4, resultEntries: 100, finishedRecords: 100 });
  const backend = new ManualBackend();
  scheduler.createExecutor({ id: 'e', name: 'T', clientId: 'c', options: ExecutorOptions.parse({}), backend });
  const sub = (id: string, deps: string[] = []) =>
    scheduler.submit({ taskId: id, executorId: 'e', clientId: 'c', fnName: 'f', resourceDict: {}, blobs: [], dependencies: deps });
  sub('a');
  sub('b');
  const waiting = sub('w', ['a', 'b']);
  await tick();
  backend.finish('a', 'AAA');
  backend.finish('b', 'BBB');
  await tick();
  assert.equal(waiting.state, 'running');
  assert.deepEqual(backend.inputs.get('w'), ['AAA', 'BBB']);
  sub('c');
  await tick();
  backend.finish('c', 'CCC');
  await tick();
  assert.throws(() => sub('late', ['a']), /no longer held/);
  assert.equal(sub('fine', ['c']).state, 'running');
});

test('orphaning a client cancels its unfinished tasks and keeps the records', async () => {
  const { scheduler, backend, submit } = setup({ max_workers: 1 });
  const a = submit();
  const b = submit();
  await tick();
  backend.finish(a.id);
  await tick();
  const c = submit();
  scheduler.orphanClient('c');
  await tick();
  assert.deepEqual([a.state, b.state, c.state], ['done', 'cancelled', 'cancelled']);
  assert.ok([a, b, c].every(t => t.orphaned));
  assert.equal(scheduler.views().length, 3);
});

test('held results are bounded by count too', async () => {
  const scheduler = new Scheduler({ resultBudgetBytes: 1 << 20, resultEntries: 2, finishedRecords: 100 });
  const backend = new ManualBackend();
  scheduler.createExecutor({ id: 'e', name: 'T', clientId: 'c', options: ExecutorOptions.parse({}), backend });
  const sub = (id: string, deps: string[] = []) =>
    scheduler.submit({ taskId: id, executorId: 'e', clientId: 'c', fnName: 'f', resourceDict: {}, blobs: [], dependencies: deps });
  for (const id of ['a', 'b', 'c']) sub(id);
  await tick();
  for (const id of ['a', 'b', 'c']) backend.finish(id);
  await tick();
  assert.throws(() => sub('late', ['a']), /no longer held/);
  assert.equal(sub('ok', ['c']).state, 'running');
});

test('finished records beyond the limit are forgotten, oldest first', async () => {
  const scheduler = new Scheduler({ resultBudgetBytes: 1 << 20, resultEntries: 10, finishedRecords: 3 });
  const backend = new ManualBackend();
  scheduler.createExecutor({ id: 'e', name: 'T', clientId: 'c', options: ExecutorOptions.parse({}), backend });
  for (let i = 0; i < 8; i++) {
    scheduler.submit({ taskId: `t${i}`, executorId: 'e', clientId: 'c', fnName: 'f', resourceDict: {}, blobs: [] });
    await tick();
    backend.finish(`t${i}`);
    await tick();
  }
  assert.deepEqual(scheduler.views().map(v => v.id), ['t5', 't6', 't7']);
});
