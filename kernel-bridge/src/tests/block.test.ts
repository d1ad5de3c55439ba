// The block allocation pool with stand-in workers: which worker gets which call, what happens when one
// dies, restarts, resizing and shutdown. pytest covers the same with real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunHooks, TaskOutcome } from '../backends/backend.js';
import { BlockAllocationBackend, type BlockAllocationOptions, type PoolWorker } from '../backends/block.js';
import { mergeResources, type Task } from '../scheduler/task.js';
import type { InitOutcome } from '../workers/hub.js';

let nextPid = 1000;

class FakeWorker implements PoolWorker {
  readonly pid = nextPid++;
  running = true;
  readonly inits: Buffer[] = [];
  initOutcome: InitOutcome = { ok: true };
  current: { task: Task; resolve(outcome: TaskOutcome): void } | null = null;
  private exit!: (why: string) => void;
  readonly exited = new Promise<string>(resolve => (this.exit = resolve));

  constructor(readonly index: number) {}

  async init(blob: Buffer): Promise<InitOutcome> {
    this.inits.push(blob);
    return this.initOutcome;
  }

  run(task: Task, _inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    hooks.started();
    return new Promise(resolve => (this.current = { task, resolve }));
  }

  finish(result = 'r'): void {
    const current = this.current!;
    this.current = null;
    current.resolve({ ok: true, runtime: 0.1, result: Buffer.from(result) });
  }

  /** The process ends: what it ran fails, as WorkerProcess reports it. */
  die(why = 'worker process was killed by SIGKILL'): void {
    if (!this.running) return;
    this.running = false;
    const what = this.current ? ` while running ${this.current.task.fnName}` : '';
    this.current?.resolve({ ok: false, runtime: 0, failure: { error_type: 'ExecutorlabWorkerError', error_message: why + what, traceback: '' }, exception: null });
    this.current = null;
    this.exit(why);
  }

  drop(): boolean {
    return false;
  }

  kill(): void {
    this.die();
  }

  async stop(): Promise<void> {
    this.die('worker process exited with code 0');
  }
}

function pool(options: Partial<BlockAllocationOptions> & { failLaunch?: boolean } = {}) {
  const launched: FakeWorker[] = [];
  const logs: string[] = [];
  const backend = new BlockAllocationBackend({
    launch: async index => {
      if (options.failLaunch) throw new Error(`worker ${index} exited with code 1 before it connected`);
      const worker = new FakeWorker(index);
      launched.push(worker);
      return worker;
    },
    initFunction: null,
    restartLimit: 0,
    executorName: 'SingleNodeExecutor',
    checkResources: async () => [],
    log: line => logs.push(line),
    ...options
  });
  const alive = () => launched.filter(w => w.running);
  return { backend, launched, alive, logs };
}

let taskCount = 0;
function task(fnName = 'f'): Task {
  return {
    id: `t${taskCount++}`,
    executorId: 'e',
    clientId: 'c',
    fnName,
    resources: mergeResources({}, {}),
    gpus: [],
    blobs: [],
    dependencies: [],
    pendingDependencies: 0,
    output: '',
    orphaned: false,
    state: 'queued',
    submittedAt: 0,
    startedAt: null,
    finishedAt: null,
    runtime: null,
    failure: null
  };
}

const hooks: RunHooks = { started: () => {}, stream: () => {} };
const settle = () => new Promise(resolve => setImmediate(resolve));

async function runningOn(launched: FakeWorker[], t: Task): Promise<FakeWorker> {
  await settle();
  const worker = launched.find(w => w.current?.task === t);
  assert.ok(worker, `${t.id} runs on a worker`);
  return worker;
}

test('N warm workers take calls in turn; a call waits while all are busy', async () => {
  const { backend, launched } = pool();
  await backend.resize(2);
  await settle();
  assert.deepEqual(launched.map(w => w.index), [0, 1]);
  const [a, b, c] = [task(), task(), task()];
  const outcomes = [a, b, c].map(t => backend.run(t, [], hooks));
  const wa = await runningOn(launched, a);
  const wb = await runningOn(launched, b);
  assert.notEqual(wa, wb);
  assert.equal(launched.find(w => w.current?.task === c), undefined);
  wa.finish('A');
  assert.equal(String(((await outcomes[0]) as { result: Buffer }).result), 'A');
  assert.equal(await runningOn(launched, c), wa, 'the freed worker is reused, no new process');
  assert.equal(launched.length, 2);
  wb.finish();
  wa.finish();
  await Promise.all(outcomes);
});

test('every worker runs the init_function; if it raised, each call given to that worker fails with it', async () => {
  const blob = Buffer.from('pickled init');
  const { backend, launched } = pool({ initFunction: blob });
  await backend.resize(1);
  await settle();
  assert.deepEqual(launched[0].inits, [blob]);

  const broken = pool({ initFunction: blob, launch: async index => {
    const worker = new FakeWorker(index);
    worker.initOutcome = {
      ok: false,
      failure: { error_type: 'KeyError', error_message: "'x'", traceback: 'Traceback …' },
      exception: Buffer.from('pickled KeyError')
    };
    return worker;
  } });
  await broken.backend.resize(1);
  await settle();
  for (let i = 0; i < 2; i++) {
    const outcome = await broken.backend.run(task(), [], hooks);
    assert.ok(!outcome.ok);
    assert.equal(outcome.failure.error_type, 'KeyError');
    assert.equal(String(outcome.exception), 'pickled KeyError');
  }
});

test('without restart_limit a dead worker fails its call and the pool goes on without it', async () => {
  const { backend, launched, alive } = pool();
  await backend.resize(2);
  const a = task('crash');
  const outcome = backend.run(a, [], hooks);
  (await runningOn(launched, a)).die();
  const failed = await outcome;
  assert.ok(!failed.ok && /killed by SIGKILL while running crash/.test(failed.failure.error_message));
  await settle();
  assert.equal(backend.size, 1);
  assert.equal(alive().length, 1);
  const b = task();
  const next = backend.run(b, [], hooks);
  (await runningOn(launched, b)).finish();
  assert.ok((await next).ok);
});

test('when no worker is left, waiting and later calls fail naming restart_limit', async () => {
  const { backend, launched } = pool({ restartLimit: 1 });
  await backend.resize(1);
  const [first, second, third] = [task(), task(), task()];
  const outcomes = [first, second, third].map(t => backend.run(t, [], hooks));
  (await runningOn(launched, first)).die();
  const restarted = await runningOn(launched, second);
  assert.equal(launched.length, 2, 'restarted once');
  assert.equal(restarted.index, 0, 'in the same place of the pool');
  restarted.die();
  const [a, b, c] = await Promise.all(outcomes);
  assert.ok(!a.ok && !b.ok && !c.ok);
  assert.match(b.failure.error_message, /killed by SIGKILL while running f/);
  assert.match(
    c.failure.error_message,
    /^no worker is left in the block allocation: .*restart_limit=1 allows no more restarts \(the last one: worker process was killed by SIGKILL\)/
  );
  const later = await backend.run(task(), [], hooks);
  assert.ok(!later.ok && /restart_limit=1/.test(later.failure.error_message));
  assert.equal(backend.size, 0);
});

test('a worker that cannot start counts against restart_limit', async () => {
  const { backend, logs } = pool({ failLaunch: true, restartLimit: 2 });
  await backend.resize(1);
  await settle();
  const outcome = await backend.run(task(), [], hooks);
  assert.ok(!outcome.ok && /exited with code 1 before it connected/.test(outcome.failure.error_message));
  assert.equal(logs.filter(line => /restarted/.test(line)).length, 2);
});

test('resize: growing adds places, shrinking stops idle workers first and busy ones after their call', async () => {
  const { backend, launched, alive } = pool();
  await backend.resize(3);
  await settle();
  const busy = task();
  const outcome = backend.run(busy, [], hooks);
  const worker = await runningOn(launched, busy);
  await backend.resize(1);
  await settle();
  assert.deepEqual(alive(), [worker], 'the two idle workers stopped');
  await backend.resize(2);
  await settle();
  assert.equal(alive().length, 2);
  assert.ok(alive().some(w => w !== worker && w.index !== worker.index), 'a new place gets a free index');
  await backend.resize(1);
  await settle();
  assert.deepEqual(alive(), [worker], 'the idle one goes, not the busy one');
  worker.finish();
  assert.ok((await outcome).ok);
  await settle();
  assert.deepEqual(alive(), [worker]);
});

test('with one busy and one idle worker, shrinking to one stops the idle one', async () => {
  const shrinking = pool();
  await shrinking.backend.resize(2);
  const long = task();
  const kept = shrinking.backend.run(long, [], hooks);
  const busyWorker = await runningOn(shrinking.launched, long);
  const idleWorker = shrinking.alive().find(w => w !== busyWorker)!;
  await shrinking.backend.resize(1);
  await settle();
  assert.deepEqual(shrinking.alive(), [busyWorker], 'with one busy and one idle, the idle one stops');
  assert.equal(idleWorker.running, false);
  busyWorker.finish();
  assert.ok((await kept).ok);
});

test('shrinking below the busy workers stops them after their call', async () => {
  const { backend, launched, alive } = pool();
  await backend.resize(2);
  const [a, b] = [task(), task()];
  const outcomes = [a, b].map(t => backend.run(t, [], hooks));
  const [wa, wb] = [await runningOn(launched, a), await runningOn(launched, b)];
  await backend.resize(1);
  await settle();
  assert.equal(alive().length, 2, 'both finish their call first');
  wb.finish();
  wa.finish();
  await Promise.all(outcomes);
  await settle();
  assert.equal(alive().length, 1);
  assert.equal(backend.size, 1);
});

test('cancel drops a waiting call, or kills a running one whose worker comes back without using a restart', async () => {
  const { backend, launched, alive } = pool({ restartLimit: 0 });
  await backend.resize(1);
  const running = task();
  const waiting = task();
  const outcomes = [backend.run(running, [], hooks), backend.run(waiting, [], hooks)];
  await runningOn(launched, running);
  assert.equal(backend.cancel(waiting.id), true);
  assert.ok(!(await outcomes[1]).ok);
  assert.equal(backend.cancel(running.id), true);
  assert.ok(!(await outcomes[0]).ok);
  await settle();
  assert.equal(alive().length, 1, 'the killed worker was replaced although restart_limit=0');
  assert.equal(backend.cancel('t-unknown'), false);
});

test('shutdown stops every worker and fails what still waits', async () => {
  const { backend, launched, alive } = pool();
  await backend.resize(2);
  await settle();
  const waiting = [task(), task(), task()].map(t => backend.run(t, [], hooks));
  await settle();
  const running = launched.filter(w => w.current);
  assert.equal(running.length, 2);
  const stopped = backend.shutdown();
  const outcomes = await Promise.all(waiting);
  await stopped;
  assert.deepEqual(alive(), []);
  assert.match((outcomes[2] as { failure: { error_message: string } }).failure.error_message, /shut down/);
  assert.ok(!(await backend.run(task(), [], hooks)).ok);
  await backend.resize(3);
  assert.equal(launched.length, 2, 'no worker starts after shutdown');
});

test('per-call resource dicts are refused, executor defaults go to the machine check', async () => {
  const checked: unknown[] = [];
  const { backend } = pool({ checkResources: async dict => (checked.push(dict), ['nope']) });
  assert.match((await backend.resourceProblems({ cores: 2 }, { cores: 2 }))[0], /executor level/);
  assert.deepEqual(await backend.resourceProblems({ cores: 2 }), ['nope']);
  assert.deepEqual(checked, [{ cores: 2 }]);
});
