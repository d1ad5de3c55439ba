// The scheduler with backends whose calls are batch jobs (batchJobs, startsBefore): dependents are
// dispatched ahead of their dependencies, abandoned when one fails, not timed by the bridge, not cancelled
// when their client leaves, and not written to the cache by the bridge.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Backend, RunHooks, TaskOutcome } from '../backends/backend.js';
import type { CachedResult, CacheRef } from '../cache/store.js';
import { ExecutorOptions } from '../protocol/messages.js';
import type { ResourceDict } from '../protocol/messages.js';
import { Scheduler, type ResultCache } from '../scheduler/scheduler.js';

/** A backend whose calls are batch jobs that end when the test says so. */
class BatchStandIn implements Backend {
  readonly kind = 'batch-stand-in';
  readonly runs: string[] = [];
  readonly inputs = new Map<string, string[]>();
  readonly cancels: string[] = [];
  readonly submittedCalls: string[][] = [];
  shutdowns = 0;
  private readonly pending = new Map<string, (outcome: TaskOutcome) => void>();
  /** submitted() resolves when the test calls this. */
  releaseSubmitted: () => void = () => {};

  constructor(readonly batchJobs: boolean = true) {}

  startsBefore(_dependency: Backend): boolean {
    return this.batchJobs;
  }

  run(task: { id: string }, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    this.runs.push(task.id);
    this.inputs.set(task.id, inputs.map(String));
    hooks.started();
    return new Promise(resolve => this.pending.set(task.id, resolve));
  }

  has(id: string): boolean {
    return this.pending.has(id);
  }

  finish(id: string, result = 'r'): void {
    this.end(id, { ok: true, runtime: 0.5, result: Buffer.from(result) });
  }

  fail(id: string, message = "'x'"): void {
    this.end(id, { ok: false, runtime: 0.1, failure: { error_type: 'KeyError', error_message: message, traceback: 'Traceback ...' }, exception: Buffer.from('pickled KeyError') });
  }

  end(id: string, outcome: TaskOutcome): void {
    const resolve = this.pending.get(id);
    assert.ok(resolve, `${id} runs on this backend`);
    this.pending.delete(id);
    resolve(outcome);
  }

  /** Like a batch system: the job is cancelled, its run() ends later (when the watcher sees it). */
  cancel(id: string): boolean {
    this.cancels.push(id);
    return true;
  }

  submitted(ids: string[]): Promise<void> {
    this.submittedCalls.push(ids);
    return new Promise(resolve => (this.releaseSubmitted = resolve));
  }

  async shutdown(): Promise<void> {
    this.shutdowns += 1;
  }
}

function setup(o: { batchA?: boolean; batchB?: boolean; options?: Partial<ExecutorOptions> } = {}) {
  const scheduler = new Scheduler();
  const a = new BatchStandIn(o.batchA ?? true);
  const b = new BatchStandIn(o.batchB ?? true);
  scheduler.createExecutor({ id: 'ea', name: 'SlurmClusterExecutor', clientId: 'c', options: ExecutorOptions.parse(o.options ?? {}), backend: a });
  scheduler.createExecutor({ id: 'eb', name: 'SlurmClusterExecutor', clientId: 'c', options: ExecutorOptions.parse(o.options ?? {}), backend: b });
  const outcomes = new Map<string, TaskOutcome | null>();
  scheduler.on('finished', (task, outcome) => outcomes.set(task.id, outcome));
  const logs: string[] = [];
  scheduler.on('log', line => logs.push(line));
  let n = 0;
  const submit = (executorId: 'ea' | 'eb', dependencies: string[] = [], resourceDict: ResourceDict = {}, cache = false) => {
    const taskId = `t${n++}`;
    return scheduler.submit({
      taskId,
      executorId,
      clientId: 'c',
      fnName: `f${taskId}`,
      resourceDict,
      blobs: [Buffer.from('f'), Buffer.from('a')],
      dependencies,
      ...(cache
        ? {
            cache: {
              ref: { directory: '/cache', key: `k-${taskId}` },
              inputs: { function: Buffer.from('f'), inputArgs: Buffer.from('a'), inputKwargs: Buffer.from('k'), resourceDict: Buffer.from('r') }
            }
          }
        : {})
    });
  };
  return { scheduler, a, b, submit, outcomes, logs };
}

const tick = () => new Promise(resolve => setImmediate(resolve));
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

test('a call depending on a batch job is dispatched before that job finished', async () => {
  const { scheduler, a, b, submit } = setup();
  const first = submit('ea');
  const second = submit('eb', [first.id]);
  await tick();
  assert.deepEqual(a.runs, [first.id]);
  assert.deepEqual(b.runs, [second.id], 'B went to its backend while A runs');
  assert.equal(first.state, 'running');
  assert.equal(second.state, 'running');
  assert.deepEqual(b.inputs.get(second.id), ['f', 'a'], 'no result of A yet: the job reads it');
  assert.equal(scheduler.executor('eb')!.running, 1);
});

test('when the dependency fails, the call started ahead is cancelled and fails with its error', async () => {
  const { scheduler, a, b, submit, outcomes } = setup();
  const first = submit('ea');
  const second = submit('eb', [first.id]);
  const third = submit('eb', [second.id]);
  await tick();
  assert.deepEqual(b.runs, [second.id, third.id]);
  a.fail(first.id, 'upstream broke');
  await tick();
  assert.equal(first.state, 'error');
  assert.deepEqual(b.cancels.sort(), [second.id, third.id].sort());
  for (const task of [second, third]) {
    assert.equal(task.state, 'error', task.id);
    assert.deepEqual(task.failure, { error_type: 'KeyError', error_message: 'upstream broke', traceback: 'Traceback ...' });
    const outcome = outcomes.get(task.id) as Extract<TaskOutcome, { ok: false }>;
    assert.equal(String(outcome.exception), 'pickled KeyError');
  }
  assert.deepEqual(a.cancels, [], 'the failed call itself is not cancelled');
  // The cancelled jobs end later: the calls stay failed with A's error, the executor's counts come back.
  b.fail(second.id, 'job cancelled');
  b.fail(third.id, 'job cancelled');
  await tick();
  assert.equal(second.failure?.error_message, 'upstream broke');
  assert.equal(scheduler.executor('eb')!.running, 0);
  assert.equal(scheduler.executor('eb')!.unfinished, 0);
});

test('when the dependency succeeds, the call started ahead is left alone and ends with its own outcome', async () => {
  const { scheduler, a, b, submit, outcomes } = setup();
  const first = submit('ea');
  const second = submit('eb', [first.id]);
  await tick();
  a.finish(first.id, 'A');
  await tick();
  assert.equal(first.state, 'done');
  assert.equal(second.state, 'running');
  assert.deepEqual(b.cancels, []);
  b.finish(second.id, 'B');
  await tick();
  assert.equal(second.state, 'done');
  assert.equal(String((outcomes.get(second.id) as { result: Buffer }).result), 'B');
  // A later call on A's result gets it as an input (A finished before it was dispatched).
  const third = submit('eb', [first.id]);
  await tick();
  assert.deepEqual(b.inputs.get(third.id), ['f', 'a', 'A']);
  assert.equal(scheduler.executor('eb')!.unfinished, 1);
});

test('a cancelled dependency cancels the call started ahead of it', async () => {
  const { scheduler, a, b, submit } = setup();
  const first = submit('ea');
  const second = submit('eb', [first.id]);
  await tick();
  assert.equal(scheduler.cancel(first.id), true);
  assert.deepEqual(a.cancels, [first.id]);
  a.fail(first.id, 'job cancelled'); // the batch job ends
  await tick();
  assert.equal(first.state, 'cancelled');
  assert.equal(second.state, 'cancelled');
  assert.deepEqual(b.cancels, [second.id]);
});

test('a call queued behind max_workers is removed from the queue, not cancelled, when its dependency fails', async () => {
  const { a, b, submit } = setup({ options: { max_workers: 1 } });
  const blocker = submit('eb');
  const first = submit('ea');
  const second = submit('eb', [first.id]);
  await tick();
  assert.equal(second.state, 'queued');
  a.fail(first.id);
  await tick();
  assert.equal(second.state, 'error');
  assert.deepEqual(b.cancels, []);
  b.finish(blocker.id);
  await tick();
  assert.deepEqual(b.runs, [blocker.id], 'it never ran');
});

test('without startsBefore the dependent waits for its dependency as usual', async () => {
  const { a, b, submit } = setup({ batchB: false });
  const first = submit('ea');
  const second = submit('eb', [first.id]);
  await tick();
  assert.equal(second.state, 'waiting');
  assert.deepEqual(b.runs, []);
  a.finish(first.id, 'A');
  await tick();
  assert.deepEqual(b.inputs.get(second.id), ['f', 'a', 'A']);
});

test('run_time_max is the batch system\'s for batch jobs: the bridge arms no deadline', async () => {
  // Fractions of a second keep the test fast: the scheduler does not validate resource_dict itself.
  const { a, b, submit, outcomes } = setup({ batchB: false });
  const job = submit('ea', [], { run_time_max: 0.02 });
  const local = submit('eb', [], { run_time_max: 0.02 });
  await sleep(80);
  assert.deepEqual(b.cancels, [local.id], 'the control: a local call is killed at its limit');
  assert.deepEqual(a.cancels, [], 'the batch job is not');
  assert.equal(job.state, 'running');
  b.fail(local.id, 'killed');
  a.finish(job.id);
  await tick();
  assert.equal(local.failure?.error_type, 'TimeoutError');
  assert.equal(job.state, 'done');
  assert.equal((outcomes.get(job.id) as { ok: boolean }).ok, true);
});

test('orphanClient leaves batch jobs running, marks them orphaned; results still arrive', async () => {
  const { scheduler, a, b, submit } = setup({ batchB: false, options: { max_workers: 1 } });
  const running = submit('ea');
  const queued = submit('ea');
  const ahead = submit('ea', [running.id]); // waits in the queue behind max_workers
  const local = submit('eb');
  await tick();
  assert.deepEqual([running.state, queued.state, local.state], ['running', 'queued', 'running']);
  scheduler.orphanClient('c');
  await tick();
  assert.deepEqual(a.cancels, [], 'no batch job is cancelled');
  assert.deepEqual(b.cancels, [local.id], 'the control: a local call is');
  assert.ok([running, queued, ahead, local].every(t => t.orphaned));
  assert.deepEqual([running.state, queued.state], ['running', 'queued']);
  assert.equal(a.shutdowns, 1);
  assert.equal(scheduler.executor('ea')!.shutdown, true);
  a.finish(running.id, 'R');
  await tick();
  assert.equal(running.state, 'done');
  assert.equal(queued.state, 'running', 'queued calls are still submitted');
});

test('close() leaves batch jobs alone', async () => {
  const { scheduler, a, submit } = setup({ options: { max_workers: 1 } });
  const running = submit('ea');
  const queued = submit('ea');
  await tick();
  await scheduler.close();
  assert.deepEqual(a.cancels, []);
  assert.deepEqual([running.state, queued.state], ['running', 'queued']);
});

test('shutdownExecutor(wait=False) resolves once the backend says every unfinished call is submitted', async () => {
  const { scheduler, a, submit } = setup();
  const done = submit('ea');
  const running = submit('ea');
  const dependent = submit('ea', [running.id]);
  await tick();
  a.finish(done.id);
  await tick();
  let returned = false;
  const shutdown = scheduler.shutdownExecutor('ea', false, false).then(() => (returned = true));
  await tick();
  assert.deepEqual(a.submittedCalls, [[running.id, dependent.id]]);
  assert.equal(returned, false, 'waits for submitted()');
  assert.throws(() => submit('ea'), /after shutdown/);
  a.releaseSubmitted();
  await shutdown;
  assert.equal(returned, true);
  assert.deepEqual(a.cancels, []);
  assert.equal(a.shutdowns, 0, 'the backend is shut down only once its calls finished');
  a.finish(running.id);
  a.finish(dependent.id);
  await tick();
  assert.equal(a.shutdowns, 1);
});

test('the scheduler does not store the result of a batch job in the cache (the job wrote it)', async () => {
  const { scheduler, a, b, submit } = setup({ batchB: false });
  const lookups: CacheRef[] = [];
  const stores: { key: string; result: string }[] = [];
  const cache: ResultCache = {
    async lookup(ref: CacheRef): Promise<CachedResult | null> {
      lookups.push(ref);
      return null;
    },
    async store(ref, _fnName, _inputs, result) {
      stores.push({ key: ref.key, result: String(result) });
    }
  };
  scheduler.cache = cache;
  const job = submit('ea', [], {}, true);
  const local = submit('eb', [], {}, true);
  await tick();
  await tick();
  assert.deepEqual(lookups.map(ref => ref.key), [`k-${job.id}`, `k-${local.id}`], 'both are looked up');
  assert.equal(job.state, 'running');
  a.finish(job.id, 'J');
  b.finish(local.id, 'L');
  await tick();
  assert.equal(job.state, 'done');
  assert.equal(local.state, 'done');
  assert.deepEqual(stores, [{ key: `k-${local.id}`, result: 'L' }], 'only the local call is stored');
});

test('a cached call started ahead of a failing dependency fails while its cache lookup is pending', async () => {
  const { scheduler, a, b, submit } = setup();
  let answer!: (hit: CachedResult | null) => void;
  scheduler.cache = {
    lookup: () => new Promise(resolve => (answer = resolve)),
    store: async () => {}
  };
  const first = submit('ea');
  const second = submit('eb', [first.id], {}, true);
  await tick();
  assert.equal(second.state, 'waiting', 'looking up its cache file');
  a.fail(first.id);
  await tick();
  assert.equal(second.state, 'error');
  answer(null);
  await tick();
  assert.deepEqual(b.runs, [], 'not dispatched after it failed');
  assert.deepEqual(b.cancels, []);
});
