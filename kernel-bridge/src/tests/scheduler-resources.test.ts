// The scheduler's part of resources: GPUs counted like cores, run_time_max, block allocation's
// max_workers and resize, and stopping warm workers at shutdown.
import { mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, RunHooks, TaskOutcome } from '../backends/backend.js';
import { ExecutorOptions, type ResourceDict } from '../protocol/messages.js';
import { RequestError, Scheduler } from '../scheduler/scheduler.js';
import type { Task } from '../scheduler/task.js';

/** Tasks finish when the test says; with `queueing` they wait in the backend until `admit`. */
class TestBackend implements Backend {
  readonly kind = 'test';
  holdsGpus = false;
  readonly running = new Map<string, { task: Task; hooks: RunHooks; resolve(outcome: TaskOutcome): void }>();
  readonly cancelled: string[] = [];
  resizes: number[] = [];
  shutdowns = 0;
  async run(task: Task, _inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    hooks.started();
    return new Promise(resolve => this.running.set(task.id, { task, hooks, resolve }));
  }
  finish(id: string): void {
    this.running.get(id)!.resolve({ ok: true, runtime: 1, result: Buffer.from('r') });
    this.running.delete(id);
  }
  cancel(id: string): boolean {
    const run = this.running.get(id);
    if (!run) return false;
    this.cancelled.push(id);
    run.resolve({ ok: false, runtime: 2, failure: { error_type: 'ExecutorlabWorkerError', error_message: 'killed', traceback: '' }, exception: null });
    this.running.delete(id);
    return true;
  }
  async resize(n: number): Promise<void> {
    this.resizes.push(n);
  }
  async shutdown(): Promise<void> {
    this.shutdowns += 1;
  }
}

function setup(options: Partial<ExecutorOptions> = {}, gpus: string[] = []) {
  const scheduler = new Scheduler();
  scheduler.gpus.reset(gpus);
  const outcomes = new Map<string, TaskOutcome | null>();
  scheduler.on('finished', (task, outcome) => outcomes.set(task.id, outcome));
  const backends = new Map<string, TestBackend>();
  const executor = (id: string, extra: Partial<ExecutorOptions> = {}) => {
    const backend = new TestBackend();
    backends.set(id, backend);
    scheduler.createExecutor({ id, name: 'T', clientId: 'c', options: ExecutorOptions.parse({ ...options, ...extra }), backend });
    return backend;
  };
  let n = 0;
  const submit = (resourceDict: ResourceDict = {}, executorId = 'e') =>
    scheduler.submit({ taskId: `t${n++}`, executorId, clientId: 'c', fnName: 'f', resourceDict, blobs: [], dependencies: [] });
  return { scheduler, executor, submit, outcomes, backends };
}

const tick = () => new Promise(resolve => setImmediate(resolve));

test('GPUs are counted like cores: distinct devices per running task, the next waits until one is free', async () => {
  const { executor, submit } = setup({}, ['0', '1', '2']);
  const backend = executor('e');
  const a = submit({ gpus_per_core: 2 });
  const b = submit({ gpus_per_core: 1 });
  const c = submit({ gpus_per_core: 1 });
  const d = submit({});
  await tick();
  assert.deepEqual([a.gpus, b.gpus], [['0', '1'], ['2']]);
  assert.equal(c.state, 'queued', 'no GPU free');
  assert.equal(d.state, 'queued', 'FIFO: the queue head waits for its GPUs');
  backend.finish(a.id);
  await tick();
  assert.deepEqual(c.gpus, ['0']);
  assert.equal(d.state, 'running');
  assert.deepEqual(a.gpus, [], 'a finished task holds none');
});

test("GPUs freed by one executor's task start another executor's queued task", async () => {
  const { executor, submit } = setup({}, ['0']);
  const first = executor('e1');
  executor('e2');
  const a = submit({ gpus_per_core: 1 }, 'e1');
  const b = submit({ gpus_per_core: 1 }, 'e2');
  await tick();
  assert.equal(b.state, 'queued');
  first.finish(a.id);
  await tick();
  assert.equal(b.state, 'running');
  assert.deepEqual(b.gpus, ['0']);
});

test('workers that hold their own GPUs are not handed any per task', async () => {
  const { executor, submit } = setup({ resource_dict: { gpus_per_core: 1 } }, ['0']);
  const backend = executor('e');
  backend.holdsGpus = true;
  const [a, b] = [submit(), submit()];
  await tick();
  assert.deepEqual([a.state, b.state, a.gpus], ['running', 'running', []]);
});

test('run_time_max kills the task when exceeded and fails it with TimeoutError', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { executor, submit, outcomes } = setup();
    const backend = executor('e');
    const slow = submit({ run_time_max: 2 });
    const quick = submit({ run_time_max: 2 });
    await tick();
    backend.finish(quick.id);
    mock.timers.tick(1999);
    await tick();
    assert.equal(slow.state, 'running');
    mock.timers.tick(1);
    await tick();
    assert.deepEqual(backend.cancelled, [slow.id]);
    assert.equal(slow.state, 'error');
    const outcome = outcomes.get(slow.id) as Extract<TaskOutcome, { ok: false }>;
    assert.equal(outcome.failure.error_type, 'TimeoutError');
    assert.equal(outcome.failure.error_message, 'f ran longer than run_time_max=2 s and was killed');
    assert.equal(quick.state, 'done');
  } finally {
    mock.timers.reset();
  }
});

test('block allocation: max_workers bounds running tasks whatever max_cores says; resize starts queued ones', async () => {
  const { scheduler, executor, submit } = setup({ block_allocation: true, max_workers: 1, max_cores: 8 });
  const backend = executor('e');
  const tasks = [submit(), submit(), submit()];
  await tick();
  assert.deepEqual(tasks.map(t => t.state), ['running', 'queued', 'queued']);
  await scheduler.resizeExecutor('e', 3);
  await tick();
  assert.deepEqual(backend.resizes, [3]);
  assert.deepEqual(tasks.map(t => t.state), ['running', 'running', 'running']);
  assert.equal(scheduler.executor('e')!.options.max_workers, 3);
});

test('resize is refused without block allocation or beyond the GPUs', async () => {
  const { scheduler, executor } = setup({}, ['0']);
  executor('plain');
  executor('gpu', { block_allocation: true, max_workers: 1, resource_dict: { gpus_per_core: 1 } });
  await assert.rejects(scheduler.resizeExecutor('plain', 2), (e: unknown) => e instanceof RequestError && /block_allocation=True/.test(e.message));
  await assert.rejects(scheduler.resizeExecutor('gpu', 2), /need 2 GPUs; this machine has 1/);
  await assert.rejects(scheduler.resizeExecutor('nope', 2), /unknown executor/);
});

test('cancelling a task that waits inside the backend asks the backend, and reports cancelled', async () => {
  const scheduler = new Scheduler();
  let release!: (outcome: TaskOutcome) => void;
  const dropped: string[] = [];
  const waiting: Backend = {
    kind: 'waiting',
    run: () => new Promise(resolve => (release = resolve)),
    cancel: id => {
      dropped.push(id);
      release({ ok: false, runtime: 0, failure: { error_type: 'X', error_message: 'dropped', traceback: '' }, exception: null });
      return true;
    },
    shutdown: async () => {}
  };
  scheduler.createExecutor({ id: 'e', name: 'W', clientId: 'c', options: ExecutorOptions.parse({}), backend: waiting });
  const task = scheduler.submit({ taskId: 't', executorId: 'e', clientId: 'c', fnName: 'f', resourceDict: {}, blobs: [] });
  await tick();
  assert.equal(task.state, 'queued');
  assert.equal(scheduler.cancel('t'), true);
  await tick();
  assert.deepEqual([dropped, task.state], [['t'], 'cancelled']);
});

test('shutdown stops the backend once its tasks are done, also without wait', async () => {
  const { scheduler, executor, submit } = setup();
  const backend = executor('e');
  const task = submit();
  await tick();
  await scheduler.shutdownExecutor('e', false, false);
  assert.equal(backend.shutdowns, 0, 'a task still runs');
  backend.finish(task.id);
  await tick();
  assert.equal(backend.shutdowns, 1);
});
