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

/** A pool of stand-in workers made by `make`, with what it launched and logged. */
function standInPool<W extends PoolWorker & { running: boolean }>(
  make: (index: number) => W,
  options: Partial<BlockAllocationOptions> & { failLaunch?: boolean } = {}
) {
  const launched: W[] = [];
  const logs: string[] = [];
  const backend = new BlockAllocationBackend({
    launch: async index => {
      if (options.failLaunch) throw new Error(`worker ${index} exited with code 1 before it connected`);
      const worker = make(index);
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

function pool(options: Partial<BlockAllocationOptions> & { failLaunch?: boolean } = {}) {
  return standInPool(index => new FakeWorker(index), options);
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

// ---- prefetch: a warm worker that finishes its calls quickly is given the next ones ahead

/** A stand-in with a local queue, like executorlab/worker/loop.py behind WorkerHub: it runs its calls in
 *  the order it got them (the first one runs), reports `runtime` per call, takes back calls it has not
 *  started (drop), and when it dies fails the call it ran and gives back (null) the ones it had not started. */
class QueueWorker implements PoolWorker {
  readonly pid = nextPid++;
  running = true;
  runtime = 1e-5;
  readonly calls: { task: Task; hooks: RunHooks; resolve(outcome: TaskOutcome | null): void }[] = [];
  readonly dropped: string[] = [];
  readonly kills: (NodeJS.Signals | undefined)[] = [];
  /** The most calls it held at once. */
  mostHeld = 0;
  private exit!: (why: string) => void;
  readonly exited = new Promise<string>(resolve => (this.exit = resolve));

  constructor(readonly index: number) {
    // As WorkerProcess: the hub hears of the death before the pool (registered first).
    void this.exited.then(why => {
      const [first, ...rest] = this.calls.splice(0);
      first?.resolve({
        ok: false,
        runtime: 0,
        failure: { error_type: 'ExecutorlabWorkerError', error_message: `${why} while running ${first.task.fnName}`, traceback: '' },
        exception: null
      });
      for (const call of rest) call.resolve(null);
    });
  }

  async init(): Promise<InitOutcome> {
    return { ok: true };
  }

  run(task: Task, _inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome | null> {
    if (!this.running) return Promise.resolve(null);
    return new Promise(resolve => {
      this.calls.push({ task, hooks, resolve });
      this.mostHeld = Math.max(this.mostHeld, this.calls.length);
      if (this.calls.length === 1) this.begin();
    });
  }

  private begin(): void {
    this.calls[0].hooks.started();
  }

  get ids(): string[] {
    return this.calls.map(call => call.task.id);
  }

  /** The first call returns `result`. */
  finish(result = 'r'): Task {
    const call = this.calls.shift();
    assert.ok(call, `worker ${this.pid} has a call to finish`);
    if (this.calls.length > 0) this.begin();
    call.resolve({ ok: true, runtime: this.runtime, result: Buffer.from(result) });
    return call.task;
  }

  drop(taskId: string): boolean {
    const index = this.calls.findIndex(call => call.task.id === taskId);
    if (index <= 0) return false;
    const [call] = this.calls.splice(index, 1);
    this.dropped.push(taskId);
    const message = 'cancelled before it started';
    call.resolve({ ok: false, runtime: 0, failure: { error_type: 'CancelledError', error_message: message, traceback: message }, exception: null });
    return true;
  }

  die(why = 'worker process was killed by SIGKILL'): void {
    if (!this.running) return;
    this.running = false;
    this.exit(why);
  }

  kill(signal?: NodeJS.Signals): void {
    this.kills.push(signal);
    this.die(`worker process was killed by ${signal ?? 'SIGTERM'}`);
  }

  async stop(): Promise<void> {
    this.die('worker process exited with code 0');
  }
}

function queuePool(options: Partial<BlockAllocationOptions> & { runtime?: number } = {}) {
  const started: string[] = [];
  const { backend, launched, alive } = standInPool(index => {
    const worker = new QueueWorker(index);
    if (options.runtime !== undefined) worker.runtime = options.runtime;
    return worker;
  }, options);
  /** Run `t`, recording when its hooks.started() fires. */
  const run = (t: Task) => backend.run(t, [], { started: () => started.push(t.id), stream: () => {} });
  return { backend, launched, alive, started, run };
}

/** One call on each worker (all fresh, so one each), so the pool knows their run times. */
async function warmUp(pool: ReturnType<typeof queuePool>): Promise<void> {
  const workers = pool.alive();
  const outcomes = workers.map(() => pool.run(task('warm')));
  await settle();
  for (const w of workers) {
    assert.equal(w.calls.length, 1, 'a fresh worker holds one call');
    w.finish();
  }
  for (const outcome of outcomes) assert.ok((await outcome).ok);
  await settle();
}

const text = (outcome: TaskOutcome): string => (outcome.ok ? String(outcome.result) : `failed: ${outcome.failure.error_message}`);

test('before its first result a worker holds one call; after a fast one it is given several, at most 32', async () => {
  const p = queuePool({ runtime: 1e-5 });
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  assert.equal(p.backend.capacity(), 1, 'a fresh worker: one call at a time');
  const first = [task(), task(), task()];
  const firstOutcomes = first.map(p.run);
  await settle();
  assert.deepEqual(w.ids, [first[0].id], 'no prefetch before a run time is known');
  w.finish('0');
  await settle();
  // 1e-5 s per call: 0.002 / 1e-5 = 200 calls, clamped to 32.
  assert.equal(p.backend.capacity(), 32);
  assert.deepEqual(w.ids, [first[1].id, first[2].id], 'both waiting calls given at once');
  const many = Array.from({ length: 50 }, () => task());
  const outcomes = many.map(p.run);
  await settle();
  // Calls that come one by one are given while the worker holds at most half its capacity (16): it
  // takes them up to 17, the other 33 wait in the pool.
  assert.equal(w.calls.length, 17);
  assert.deepEqual(w.ids, [first[1], first[2], ...many.slice(0, 15)].map(t => t.id), 'given in submission order');
  const held: number[] = [];
  for (let i = 0; i < 52; i++) {
    w.finish(String(i));
    await settle();
    held.push(w.calls.length);
  }
  // Down to 16 it is topped up to 32 at once (then to 19 with the last 3), never above 32.
  const down = (from: number, to: number) => Array.from({ length: from - to + 1 }, (_, i) => from - i);
  assert.deepEqual(held, [32, ...down(31, 17), 32, ...down(31, 17), 19, ...down(18, 0)]);
  assert.equal(w.mostHeld, 32, 'never more than 32 calls at once');
  assert.deepEqual((await Promise.all([...firstOutcomes, ...outcomes])).map(text), ['0', ...Array.from({ length: 52 }, (_, i) => String(i))]);
  assert.equal(p.launched.length, 1, 'all on the one warm worker');
});

test('capacity is 0.002 s over the running average of a worker\'s run times, the pool\'s the sum', async () => {
  const p = queuePool({ runtime: 0.0005 });
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  await warmUp(p);
  assert.equal(p.backend.capacity(), 4, '0.002 / 0.0005');
  // A slower call pulls the average up: 0.0005 + 0.3 × (0.0025 − 0.0005) = 0.0011 s → 1 call.
  w.runtime = 0.0025;
  const slow = p.run(task());
  await settle();
  w.finish();
  await slow;
  assert.equal(p.backend.capacity(), 1);
  // And a fast one down again: 0.0011 + 0.3 × (0.0001 − 0.0011) = 0.0008 s → 2 calls.
  w.runtime = 0.0001;
  const fast = p.run(task());
  await settle();
  w.finish();
  await fast;
  assert.equal(p.backend.capacity(), 2);
  const calls = [task(), task(), task()];
  const outcomes = calls.map(p.run);
  await settle();
  assert.deepEqual(w.ids, [calls[0].id, calls[1].id], 'two at once, the third waits in the pool');
  w.finish();
  await settle();
  assert.deepEqual(w.ids, [calls[1].id, calls[2].id]);
  w.finish();
  w.finish();
  await Promise.all(outcomes);

  const two = queuePool();
  await two.backend.resize(2);
  assert.equal(two.backend.capacity(), 2, 'starting workers count one call each');
  await settle();
  assert.equal(two.backend.capacity(), 2, 'fresh workers: one call each');
  const [fastWorker, slowWorker] = two.launched;
  fastWorker.runtime = 0.0005;
  slowWorker.runtime = 0.5;
  await warmUp(two);
  assert.equal(two.backend.capacity(), 4 + 1, 'a worker slower than 2 ms per call holds one call');
  const more = Array.from({ length: 6 }, () => task());
  const moreOutcomes = more.map(two.run);
  await settle();
  // One by one, to the one holding the fewest that is at most half full: the fast worker takes calls up
  // to 3 (2 = half of 4), the slow one 1 (it takes a call only when it holds none).
  assert.deepEqual([fastWorker.calls.length, slowWorker.calls.length], [3, 1], 'two wait in the pool');
  fastWorker.finish();
  await settle();
  assert.deepEqual([fastWorker.calls.length, slowWorker.calls.length], [4, 1], 'down to half: topped up to its capacity, 4');
  await two.backend.resize(0);
  await two.backend.shutdown();
  assert.equal(two.backend.capacity(), Infinity, 'after shutdown run() answers at once');
  await Promise.all(moreOutcomes);
});

test('a worker holding calls is topped up only once it is down to half its capacity', async () => {
  const p = queuePool({ runtime: 0.0005 });
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  await warmUp(p);
  assert.equal(p.backend.capacity(), 4, '0.002 / 0.0005; half of it is 2');
  const calls = Array.from({ length: 9 }, (_, i) => task(`c${i}`));
  const outcomes = calls.map(p.run);
  await settle();
  const on = (...indexes: number[]) => indexes.map(i => calls[i].id);
  assert.deepEqual(w.ids, on(0, 1, 2), 'given one by one while it held 0, 1 and 2 calls; at 3 the rest wait');
  w.finish();
  await settle();
  assert.deepEqual(w.ids, on(1, 2, 3, 4), 'down to 2: topped up to 4 at once');
  w.finish();
  await settle();
  assert.deepEqual(w.ids, on(2, 3, 4), 'at 3 (more than half) it gets nothing, although calls wait and it has room');
  const late = task('late');
  const lateOutcome = p.run(late);
  await settle();
  assert.deepEqual(w.ids, on(2, 3, 4), 'nor when another call comes');
  w.finish();
  await settle();
  assert.deepEqual(w.ids, on(3, 4, 5, 6), 'down to 2 again: two more, in order');
  const after: string[][] = [];
  for (let i = 0; i < 4; i++) {
    w.finish();
    await settle();
    after.push(w.ids);
  }
  assert.deepEqual(after, [on(4, 5, 6), on(5, 6, 7, 8), on(6, 7, 8), [...on(7, 8), late.id]], 'the rest, in the order they came');
  while (w.calls.length > 0) {
    w.finish();
    await settle();
  }
  const all = await Promise.all([...outcomes, lateOutcome]);
  assert.ok(all.every(o => o.ok));
  assert.equal(w.mostHeld, 4);
});

test('a call given ahead is queued until it becomes the first of its worker\'s calls', async () => {
  const p = queuePool();
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  await warmUp(p);
  p.started.length = 0;
  const calls = [task(), task(), task()];
  const outcomes = calls.map(p.run);
  await settle();
  assert.deepEqual(w.ids, calls.map(t => t.id));
  assert.deepEqual(p.started, [calls[0].id], 'only the first call started; the others are queued');
  w.finish();
  await settle();
  assert.deepEqual(p.started, [calls[0].id, calls[1].id]);
  w.finish();
  w.finish();
  await Promise.all(outcomes);
  assert.deepEqual(p.started, calls.map(t => t.id), 'each started once, in order');
});

test('cancelling a call given ahead drops it from the worker: no kill, the worker stays', async () => {
  const p = queuePool();
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  await warmUp(p);
  const [running, ahead, after] = [task('long'), task('short'), task('short')];
  const outcomes = [running, ahead, after].map(p.run);
  await settle();
  assert.deepEqual(w.ids, [running.id, ahead.id, after.id]);
  assert.equal(p.backend.cancel(ahead.id), true);
  assert.deepEqual(w.dropped, [ahead.id]);
  assert.deepEqual(w.kills, [], 'not killed');
  const cancelled = await outcomes[1];
  assert.ok(!cancelled.ok && cancelled.failure.error_type === 'CancelledError');
  assert.equal(p.started.includes(ahead.id), false, 'a dropped call never started');
  assert.deepEqual(w.ids, [running.id, after.id]);
  w.finish('long');
  w.finish('after');
  assert.deepEqual([text(await outcomes[0]), text(await outcomes[2])], ['long', 'after']);
  await settle();
  assert.equal(w.running, true);
  assert.equal(p.launched.length, 1, 'no worker was started');
  assert.equal(p.backend.cancel(ahead.id), false, 'a dropped call is gone from the pool');
});

test('cancelling the call a worker runs kills it; the calls given ahead run on its replacement', async () => {
  const p = queuePool({ restartLimit: 0 });
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  await warmUp(p);
  const [running, ahead1, ahead2] = [task('long'), task(), task()];
  const outcomes = [running, ahead1, ahead2].map(p.run);
  await settle();
  assert.deepEqual(w.ids, [running.id, ahead1.id, ahead2.id]);
  assert.equal(p.backend.cancel(running.id), true);
  assert.deepEqual(w.kills, ['SIGKILL']);
  assert.deepEqual(w.dropped, []);
  const killed = await outcomes[0];
  assert.ok(!killed.ok && /killed by SIGKILL while running long/.test(killed.failure.error_message));
  await settle();
  await settle();
  assert.equal(p.launched.length, 2, 'replaced although restart_limit=0: killed on purpose');
  const next = p.launched[1];
  assert.equal(next.index, w.index);
  while (next.calls.length > 0) {
    next.finish(next.ids[0]);
    await settle();
  }
  assert.deepEqual([text(await outcomes[1]), text(await outcomes[2])], [ahead1.id, ahead2.id]);
});

test('a worker that dies fails the call it ran, naming the cause; the calls given ahead run next, in order', async () => {
  // 0.002 / 0.00025: capacity 8. Calls that come one by one are given while it holds at most 4: it
  // holds 5 (the crash and four given ahead), the last two wait in the pool.
  const p = queuePool({ restartLimit: 1, runtime: 0.00025 });
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  await warmUp(p);
  assert.equal(p.backend.capacity(), 8);
  const crash = task('crash');
  const rest = [task('a'), task('b'), task('c'), task('d'), task('e'), task('f')];
  const outcomes = [crash, ...rest].map(p.run);
  await settle();
  assert.deepEqual(w.ids, [crash, ...rest.slice(0, 4)].map(t => t.id), 'four calls given ahead');
  w.die('worker process was killed by SIGKILL');
  const failed = await outcomes[0];
  assert.ok(!failed.ok);
  assert.match(failed.failure.error_message, /killed by SIGKILL while running crash/);
  await settle();
  await settle();
  assert.equal(p.launched.length, 2, 'restarted (restart_limit=1)');
  const next = p.launched[1];
  const order: string[] = [];
  for (let i = 0; i < 20 && order.length < rest.length; i++) {
    if (next.calls.length > 0) order.push(next.finish(next.ids[0]).fnName);
    await settle();
  }
  assert.deepEqual(order, ['a', 'b', 'c', 'd', 'e', 'f'], 'the calls run on the new worker in the order they were submitted');
  assert.deepEqual((await Promise.all(outcomes.slice(1))).map(text), rest.map(t => t.id));
  assert.deepEqual(p.started.filter(id => id !== crash.id).slice(-rest.length), rest.map(t => t.id), 'started (again) in order');
});

test('a worker that dies with calls given ahead and no restart left: they run on the other worker', async () => {
  const p = queuePool({ restartLimit: 0 });
  await p.backend.resize(2);
  await settle();
  const [w1, w2] = p.launched;
  await warmUp(p);
  const calls = Array.from({ length: 6 }, (_, i) => task(`f${i}`));
  const outcomes = calls.map(p.run);
  await settle();
  const onW1 = w1.ids;
  assert.ok(onW1.length >= 2, 'w1 holds a call and at least one given ahead');
  w1.die();
  await settle();
  await settle();
  assert.equal(p.backend.size, 1);
  while (w2.calls.length > 0) {
    w2.finish(w2.ids[0]);
    await settle();
  }
  const results = await Promise.all(outcomes);
  const failedIds = calls.filter((_, i) => !results[i].ok).map(t => t.id);
  assert.deepEqual(failedIds, [onW1[0]], 'only the call w1 ran failed');
  for (const [i, outcome] of results.entries()) if (outcome.ok) assert.equal(text(outcome), calls[i].id);
});

test('dropping calls does not count as a run time: capacity follows the calls that ran', async () => {
  const p = queuePool({ runtime: 0.001 });
  await p.backend.resize(1);
  await settle();
  const [w] = p.launched;
  await warmUp(p);
  assert.equal(p.backend.capacity(), 2, '0.002 / 0.001');
  const outcomes: Promise<TaskOutcome>[] = [];
  const first = task();
  outcomes.push(p.run(first));
  for (let i = 0; i < 4; i++) {
    const ahead = task();
    outcomes.push(p.run(ahead));
    await settle();
    assert.ok(p.backend.cancel(ahead.id));
    await settle();
  }
  assert.equal(w.dropped.length, 4);
  assert.equal(p.backend.capacity(), 2, 'four cancelled calls did not make the worker look faster');
  w.finish();
  await Promise.all(outcomes);
});
