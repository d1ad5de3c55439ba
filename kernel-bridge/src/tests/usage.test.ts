// Resource usage: the history's ring buffer, CPU % from two heartbeats, the sample's counts, and sampling
// only while someone listens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import { EventHub } from '../events/hub.js';
import { decodeWorkerHeader, ProtocolError } from '../protocol/messages.js';
import {
  cpuPercent,
  RingBuffer,
  UsageMonitor,
  usageSample,
  type ExecutorLoad,
  type UsageEvent,
  type WorkerUsageView
} from '../resources/usage.js';
import { mergeResources, type Task } from '../scheduler/task.js';
import type { RouterEndpoint } from '../transport/endpoint.js';
import { WorkerHub } from '../workers/hub.js';

test('the ring buffer keeps the newest items, oldest first', () => {
  const ring = new RingBuffer<number>(3);
  assert.deepEqual(ring.toArray(), []);
  assert.equal(ring.last(), undefined);
  ring.push(1);
  ring.push(2);
  assert.deepEqual(ring.toArray(), [1, 2]);
  for (const n of [3, 4, 5]) ring.push(n);
  assert.deepEqual(ring.toArray(), [3, 4, 5]);
  assert.equal(ring.size, 3);
  assert.equal(ring.last(), 5);
  ring.push(6);
  assert.deepEqual(ring.toArray(), [4, 5, 6]);
  assert.throws(() => new RingBuffer(0));
});

test('CPU % is the CPU seconds used over the wall time between two heartbeats', () => {
  assert.equal(cpuPercent({ cpuSeconds: 1, at: 0 }, { cpuSeconds: 1.5, at: 1000 }), 50);
  assert.equal(cpuPercent({ cpuSeconds: 10, at: 0 }, { cpuSeconds: 14, at: 2000 }), 200, 'two busy threads');
  assert.equal(cpuPercent({ cpuSeconds: 1, at: 0 }, { cpuSeconds: 1, at: 2000 }), 0);
  assert.equal(cpuPercent({ cpuSeconds: 1, at: 5 }, { cpuSeconds: 2, at: 5 }), null, 'no time passed');
  assert.equal(cpuPercent({ cpuSeconds: 3, at: 0 }, { cpuSeconds: 1, at: 2000 }), null, 'the counter went back');
});

const executor = (over: Partial<ExecutorLoad>): ExecutorLoad => ({
  backend: 'local',
  block_allocation: false,
  max_cores: null,
  max_workers: null,
  cores_in_use: 0,
  running: 0,
  unfinished: 0,
  shutdown: false,
  cores_per_worker: 1,
  ...over
});
const machine = { cpus: 8, gpusTotal: 2, gpusFree: 1 };

test('a sample counts busy cores, running and queued calls; the total is the executors’ limits when all have one', () => {
  const sample = usageSample(
    [
      executor({ max_cores: 4, cores_in_use: 3, running: 2, unfinished: 5 }),
      // Block allocation: 2 warm workers of 2 cores; 6 calls handed out (4 of them given ahead).
      executor({ block_allocation: true, max_workers: 2, cores_per_worker: 2, running: 6, unfinished: 9 })
    ],
    machine
  );
  assert.deepEqual(sample, { cores_busy: 3 + 4, cores_total: 4 + 4, gpus_busy: 1, gpus_total: 2, queued: 3 + 7, running: 4 });
  // One executor without a limit: the machine's CPUs are the total.
  assert.equal(usageSample([executor({ max_cores: 4 }), executor({})], machine).cores_total, 8);
  assert.equal(usageSample([], machine).cores_total, 8);
  // A shut-down executor with nothing left holds nothing; batch jobs use none of the bridge's cores.
  const done = usageSample(
    [
      executor({ max_cores: 2, shutdown: true }),
      executor({ backend: 'slurm-cluster', cores_in_use: 16, running: 3, unfinished: 4 }),
      executor({ max_cores: 6, cores_in_use: 1, running: 1, unfinished: 1 })
    ],
    machine
  );
  assert.deepEqual(done, { cores_busy: 1, cores_total: 6, gpus_busy: 1, gpus_total: 2, queued: 1, running: 4 });
});

/** A monitor on a fake clock and fake timers: `fire()` runs the interval's callback. */
function monitor(listeners: { count: number }) {
  let now = 1_000_000;
  let callback: (() => void) | null = null;
  const published: UsageEvent[] = [];
  let counter = 0;
  const workers: WorkerUsageView[] = [
    { worker_id: 'w-1', executor_id: 'e', host: 'h', pid: 7, ranks: 1, cpu_percent: 50, rss: 1 << 20, updated: now }
  ];
  const usage = new UsageMonitor({
    sample: () => ({ cores_busy: ++counter, cores_total: 2, gpus_busy: 0, gpus_total: 0, queued: 0, running: 1 }),
    workers: () => workers,
    listeners: () => listeners.count,
    publish: event => published.push(event),
    intervalMs: 1000,
    historyMs: 3000,
    requestedWithinMs: 5000,
    now: () => now,
    timers: {
      setInterval: fn => (callback = fn),
      clearInterval: () => (callback = null)
    }
  });
  return {
    usage,
    published,
    advance(ms: number) {
      now += ms;
      callback?.();
    },
    get ticking() {
      return callback !== null;
    }
  };
}

test('samples are taken and pushed only while the events socket has listeners', () => {
  const listeners = { count: 0 };
  const m = monitor(listeners);
  m.usage.wake();
  assert.equal(m.ticking, false, 'nobody listens: no timer');
  listeners.count = 1;
  m.usage.wake();
  assert.equal(m.ticking, true);
  m.advance(1000);
  m.advance(1000);
  assert.equal(m.published.length, 2);
  assert.equal(m.published[1].type, 'usage');
  assert.equal(m.published[1].sample.t, 1_002_000);
  assert.equal(m.published[1].workers[0].worker_id, 'w-1');
  listeners.count = 0;
  m.advance(1000);
  assert.equal(m.ticking, false, 'the last listener left: sampling stops');
  assert.equal(m.published.length, 2);
});

test('GET /api/usage returns the history (at most historyMs of it) and keeps sampling for a while', () => {
  const listeners = { count: 1 };
  const m = monitor(listeners);
  m.usage.wake();
  for (let i = 0; i < 5; i++) m.advance(1000);
  listeners.count = 0;
  m.advance(1000); // nobody: stops without a sample
  assert.equal(m.ticking, false);
  const history = m.usage.history();
  assert.equal(history.interval_ms, 1000);
  // 3 kept of 5, plus the one taken for the request (the last was 2 s old).
  assert.deepEqual(history.samples.map(s => s.cores_busy), [4, 5, 6]);
  assert.equal(history.workers.length, 1);
  assert.equal(m.ticking, true, 'a view that polls keeps it sampling');
  m.advance(1000);
  assert.equal(m.published.length, 5, 'samples taken for a poller are not pushed to nobody');
  assert.equal(m.usage.history().samples.at(-1)!.cores_busy, 7, 'a fresh sample: none is taken again');
  assert.deepEqual(m.usage.history(history.samples[1].t).samples.map(s => s.cores_busy), [6, 7], 'since: only the newer ones');
  m.advance(5000);
  assert.equal(m.ticking, false, 'the poller went away: sampling stops');
});

class FakeSocket extends EventEmitter {
  readonly sent: { type: string }[] = [];
  send(text: string): void {
    this.sent.push(JSON.parse(text));
  }
  close(): void {}
}

test('a subscriber wakes the monitor; broadcast reaches every subscriber', () => {
  const hub = new EventHub(() => [], 20);
  let woken = 0;
  hub.onSubscribe = () => (woken += 1);
  hub.broadcast({ type: 'usage' }); // nobody: nothing to do
  const socket = new FakeSocket();
  hub.add(socket as unknown as WebSocket);
  assert.equal(woken, 1);
  hub.broadcast({ type: 'usage', sample: {}, workers: [] });
  assert.deepEqual(socket.sent.map(m => m.type), ['snapshot', 'executors', 'usage']);
  hub.close();
});

test('the heartbeat message is validated like the other worker messages', () => {
  const good = { v: 1, type: 'heartbeat', cpu_seconds: 1.25, rss: 1 << 20, host: 'node1', pid: 42 };
  assert.deepEqual(decodeWorkerHeader(undefined, good), good);
  for (const bad of [
    { ...good, rss: -1 },
    { ...good, cpu_seconds: 'a lot' },
    { ...good, extra: 1 },
    { v: 1, type: 'heartbeat', cpu_seconds: 1 }
  ]) {
    assert.throws(() => decodeWorkerHeader(undefined, bad), (e: unknown) => e instanceof ProtocolError && /invalid heartbeat/.test(e.message));
  }
});

function task(id: string, executorId: string): Task {
  return {
    id, executorId, clientId: 'c', fnName: 'f', resources: mergeResources({}, {}), gpus: [], blobs: [],
    dependencies: [], pendingDependencies: 0, output: '', orphaned: false, state: 'queued', submittedAt: 0,
    startedAt: null, finishedAt: null, runtime: null, failure: null
  };
}

test('the worker hub keeps each worker’s latest heartbeat, its CPU % and executor, and drops it when it leaves', async () => {
  let now = 0;
  const logged: string[] = [];
  const hub = new WorkerHub(line => logged.push(line), () => now);
  hub.attach({ send: async () => {}, forget: () => {} } as unknown as RouterEndpoint);
  const frame = (header: object): Buffer[] => [Buffer.from(JSON.stringify({ v: 1, ...header }))];
  const peer = Buffer.from('peer-1');
  const hello = hub.expect('w1', 'e1');
  hub.handle(peer, frame({ type: 'hello', worker_id: 'w1', ranks: 2, host: 'node1', pid: 42 }));
  const conn = await hello;
  // A heartbeat from a peer that never said hello is ignored.
  hub.handle(Buffer.from('stranger'), frame({ type: 'heartbeat', cpu_seconds: 1, rss: 1, host: 'x', pid: 1 }));
  assert.deepEqual(hub.workerUsage(), [
    { worker_id: 'w1', executor_id: 'e1', host: 'node1', pid: 42, ranks: 2, cpu_percent: null, rss: null, updated: null }
  ]);
  now = 10_000;
  hub.handle(peer, frame({ type: 'heartbeat', cpu_seconds: 2, rss: 5000, host: 'node1', pid: 42 }));
  assert.equal(hub.workerUsage()[0].cpu_percent, null, 'one heartbeat tells no rate');
  assert.equal(hub.workerUsage()[0].rss, 5000);
  now = 12_000;
  hub.handle(peer, frame({ type: 'heartbeat', cpu_seconds: 3.5, rss: 6000, host: 'node1', pid: 42 }));
  assert.deepEqual(hub.workerUsage()[0], {
    worker_id: 'w1', executor_id: 'e1', host: 'node1', pid: 42, ranks: 2, cpu_percent: 75, rss: 6000, updated: 12_000
  });
  assert.deepEqual(logged, []);
  hub.lost(conn, () => ({ ok: false, runtime: 0, failure: { error_type: 'E', error_message: '', traceback: '' }, exception: null }));
  assert.deepEqual(hub.workerUsage(), [], 'a worker that left is dropped');

  // Without an executor given at start, the first task tells it.
  const other = Buffer.from('peer-2');
  const second = hub.expect('w2');
  hub.handle(other, frame({ type: 'hello', worker_id: 'w2', ranks: 1, host: 'node2', pid: 43 }));
  const conn2 = await second;
  assert.equal(hub.workerUsage()[0].executor_id, null);
  void hub.run(conn2, task('t1', 'e2'), [], { started: () => {}, stream: () => {} });
  assert.equal(hub.workerUsage()[0].executor_id, 'e2');
});
