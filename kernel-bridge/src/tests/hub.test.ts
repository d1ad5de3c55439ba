// The worker hub's bookkeeping when a worker dies (with and without its journal), and MPI ranks' own output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TaskOutcome } from '../backends/backend.js';
import { mergeResources, type Task } from '../scheduler/task.js';
import type { RouterEndpoint } from '../transport/endpoint.js';
import { WorkerHub, type WorkerConnection } from '../workers/hub.js';
import type { Journal } from '../workers/journal.js';

const hooks = { started: () => {}, stream: () => {} };
const conn: WorkerConnection = { workerId: 'w', peer: Buffer.from('peer'), ranks: 1, host: 'h', pid: 1, where: 'h:1' };

function task(id: string): Task {
  return {
    id, executorId: 'e', clientId: 'c', fnName: `f${id}`, resources: mergeResources({}, {}), gpus: [], blobs: [],
    dependencies: [], pendingDependencies: 0, output: '', orphaned: false, state: 'queued', submittedAt: 0,
    startedAt: null, finishedAt: null, runtime: null, failure: null
  };
}

/** A hub holding calls a, b, c, d for one worker, and what each call ends with. */
function hubWithCalls() {
  const hub = new WorkerHub(() => {});
  const forgotten: string[] = [];
  hub.attach({ send: async () => {}, forget: (peer: Buffer) => forgotten.push(peer.toString()) } as unknown as RouterEndpoint);
  const ends = ['a', 'b', 'c', 'd'].map(id => hub.run(conn, task(id), [], hooks));
  const death = (running: { fnName: string; resultLost?: boolean } | null): TaskOutcome => ({
    ok: false,
    runtime: 0,
    failure: { error_type: 'ExecutorlabWorkerError', error_message: `${running?.resultLost ? 'lost' : 'died'} ${running?.fnName}`, traceback: '' },
    exception: null
  });
  const describe = async (): Promise<string[]> =>
    (await Promise.all(ends)).map(o => (o === null ? 'again' : o.ok ? `ok ${o.result}` : o.failure.error_message));
  return { hub, death, describe, forgotten };
}

test('without a journal the first call not answered is the one that died, the others run again', async () => {
  const { hub, death, describe, forgotten } = hubWithCalls();
  hub.lost(conn, death);
  assert.deepEqual(await describe(), ['died fa', 'again', 'again', 'again']);
  assert.deepEqual(forgotten, ['peer'], 'the endpoint forgets which socket the dead worker used');
});

test('the journal names the call that died; calls before it get their results from it, or fail as lost', async () => {
  const { hub, death, describe } = hubWithCalls();
  const journal: Journal = { running: 'c', results: new Map([['b', { ok: true, runtime: 0, result: Buffer.from('B') }]]) };
  hub.lost(conn, death, journal);
  assert.deepEqual(await describe(), ['lost fa', 'ok B', 'died fc', 'again']);
});

test('a journal naming none of its calls means it had started none: they all run again', async () => {
  const { hub, death, describe } = hubWithCalls();
  hub.lost(conn, death, { running: 'dropped-earlier', results: new Map() });
  assert.deepEqual(await describe(), ['again', 'again', 'again', 'again']);
});

/** A hub whose worker `w1` (2 MPI ranks) said hello from peer `rank0` and runs call a; what a's output was. */
async function mpiWorker() {
  const logged: string[] = [];
  const hub = new WorkerHub(line => logged.push(line));
  const forgotten: string[] = [];
  hub.attach({ send: async () => {}, forget: (peer: Buffer) => forgotten.push(peer.toString()) } as unknown as RouterEndpoint);
  const say = (peer: string, header: object) => hub.handle(Buffer.from(peer), [Buffer.from(JSON.stringify({ v: 1, ...header }))]);
  const connected = hub.expect('w1');
  say('rank0', { type: 'hello', worker_id: 'w1', ranks: 2, host: 'h', pid: 1 });
  const worker = await connected;
  const output: string[] = [];
  const done = hub.run(worker, task('a'), [], { started: () => {}, stream: (name, text) => output.push(`${name}:${text}`) });
  return { hub, worker, say, output, done, logged, forgotten };
}

test("an MPI rank's output from its own socket reaches the task its worker runs", async () => {
  const { say, output } = await mpiWorker();
  say('rank0', { type: 'stream', task_id: 'a', name: 'stdout', text: '[0] hi\n' });
  say('w-w1-r1', { type: 'stream', task_id: 'a', worker_id: 'w1', name: 'stderr', text: '[1] hi\n' });
  assert.deepEqual(output, ['stdout:[0] hi\n', 'stderr:[1] hi\n']);
});

test("a rank's output arriving just after rank 0's result still belongs to that task; later tasks' do not take it", async () => {
  const { say, output, done } = await mpiWorker();
  say('rank0', { type: 'result', task_id: 'a', ok: true, runtime: 0 });
  assert.equal((await done)?.ok, true);
  say('w-w1-r1', { type: 'stream', task_id: 'a', worker_id: 'w1', name: 'stdout', text: '[1] late\n' });
  say('w-w1-r1', { type: 'stream', task_id: 'other', worker_id: 'w1', name: 'stdout', text: '[1] stray\n' });
  assert.deepEqual(output, ['stdout:[1] late\n']);
});

test('output naming a worker that is not connected is dropped, logged once, and never breaks the hub', async () => {
  const { hub, worker, say, output, logged, forgotten } = await mpiWorker();
  for (let i = 0; i < 3; i++) say('w-ghost-r1', { type: 'stream', task_id: 'a', worker_id: 'ghost', name: 'stdout', text: 'boo\n' });
  // A peer that never said hello and names no worker is ignored as before.
  say('stranger', { type: 'stream', task_id: 'a', name: 'stdout', text: 'boo\n' });
  assert.deepEqual(output, []);
  assert.equal(logged.filter(line => line.includes('ghost')).length, 1);

  say('w-w1-r1', { type: 'stream', task_id: 'a', worker_id: 'w1', name: 'stdout', text: '[1] x\n' });
  hub.lost(worker, () => ({ ok: false, runtime: 0, failure: { error_type: 'E', error_message: '', traceback: '' }, exception: null }));
  assert.deepEqual(forgotten.sort(), ['rank0', 'w-w1-r1'], "the ranks' sockets are forgotten with their worker");
  say('w-w1-r1', { type: 'stream', task_id: 'a', worker_id: 'w1', name: 'stdout', text: '[1] after\n' });
  assert.deepEqual(output, ['stdout:[1] x\n']);
  assert.equal(logged.filter(line => line.includes('w1')).length, 1, 'a lost worker is unknown from then on');
});

/** A hub on a fake clock with worker `w1` connected (and, with `echo`, its echo socket); what it sent where. */
async function watchedWorker(limitMs: number, echo = false) {
  let clock = 1_000_000;
  const hub = new WorkerHub(() => {}, () => clock);
  const sent: string[] = [];
  hub.attach({ send: async (peer: Buffer, header: { type: string }) => void sent.push(`${peer}:${header.type}`), forget: () => {} } as unknown as RouterEndpoint);
  const say = (peer: string, header: object) => hub.handle(Buffer.from(peer), [Buffer.from(JSON.stringify({ v: 1, ...header }))]);
  const connected = hub.expect('w1');
  if (echo) say('e-w1', { type: 'echo', worker_id: 'w1' });
  say('w-w1', { type: 'hello', worker_id: 'w1', ranks: 1, host: 'node2', pid: 42 });
  const worker = await connected;
  const silences: string[] = [];
  hub.onSilent(worker, s => silences.push(`${s.host} ${s.pid} ${s.seconds} ${s.limitSeconds}`));
  hub.watchSilence(limitMs);
  const heartbeat = () => say('w-w1', { type: 'heartbeat', cpu_seconds: 1, rss: 1, host: 'node2', pid: 42 });
  const advance = (ms: number) => {
    clock += ms;
    hub.checkSilence();
  };
  return { hub, worker, say, sent, silences, heartbeat, advance };
}

test('a worker silent for longer than the limit is reported once, with its host and how long it was silent', async () => {
  const { hub, silences, advance } = await watchedWorker(10_000);
  advance(5_000);
  advance(5_000);
  assert.deepEqual(silences, [], 'silent for exactly the limit is not yet too long');
  advance(500);
  assert.deepEqual(silences, ['node2 42 10.5 10']);
  advance(5_000);
  assert.equal(silences.length, 1, 'told once');
  hub.close();
});

test('any message from the worker (its heartbeat, output, a result) counts as a sign of life', async () => {
  const { hub, silences, advance, heartbeat, say, worker } = await watchedWorker(10_000);
  const done = hub.run(worker, task('a'), [], hooks);
  for (let i = 0; i < 5; i++) {
    advance(4_000);
    heartbeat();
  }
  advance(8_000);
  say('w-w1', { type: 'stream', task_id: 'a', name: 'stdout', text: 'x' });
  advance(8_000);
  say('w-w1', { type: 'result', task_id: 'a', ok: true, runtime: 1 });
  advance(8_000);
  assert.deepEqual(silences, []);
  assert.equal((await done)?.ok, true);
  hub.close();
});

test("a worker whose own thread is silent (a call holding the GIL) lives while its echo socket answers", async () => {
  const { hub, silences, advance, say, sent } = await watchedWorker(10_000, true);
  for (let i = 0; i < 10; i++) {
    advance(2_500);
    say('e-w1', { type: 'echo', worker_id: 'w1' });
  }
  assert.deepEqual(silences, []);
  assert.ok(sent.filter(s => s === 'e-w1:echo').length >= 10, 'the echoes go to the echo socket');
  hub.close();
});

test('an echo socket that stops answering is sent one echo at a time, and its worker is reported', async () => {
  const { hub, silences, advance, sent } = await watchedWorker(10_000, true);
  advance(1_000);
  advance(1_000);
  advance(1_000);
  assert.deepEqual(sent, ['e-w1:echo'], 'no second echo while the first is unanswered');
  advance(3_500);
  assert.deepEqual(sent, ['e-w1:echo', 'e-w1:echo'], 'again once the first is older than half the limit');
  advance(4_500);
  assert.deepEqual(silences, ['node2 42 11 10']);
  hub.close();
});

test("echoes from a socket other than the worker's echo socket are ignored", async () => {
  const { hub, say, silences, advance } = await watchedWorker(10_000, true);
  say('e-other', { type: 'echo', worker_id: 'other' });
  advance(6_000);
  say('e-w1-second', { type: 'echo', worker_id: 'w1' });
  advance(4_000);
  advance(1_000);
  assert.deepEqual(silences, ['node2 42 11 10'], 'echoes from the wrong socket are not signs of life');
  hub.close();
});

test('a limit of 0 turns the watch off', async () => {
  const { hub, silences, advance } = await watchedWorker(0);
  advance(1_000_000);
  assert.deepEqual(silences, []);
  hub.close();
});

test('a lost worker is no longer watched', async () => {
  const { hub, worker, silences, advance } = await watchedWorker(10_000);
  hub.lost(worker, () => ({ ok: false, runtime: 0, failure: { error_type: 'E', error_message: 'gone', traceback: '' }, exception: null }));
  for (let i = 0; i < 20; i++) advance(1_000);
  assert.deepEqual(silences, []);
  hub.close();
});

test('after the bridge itself stalled (checks far apart), the backlog is read before any verdict', async () => {
  const { hub, silences, advance, heartbeat } = await watchedWorker(10_000);
  advance(1_000);
  advance(30_000);
  assert.deepEqual(silences, [], 'no verdict right after the stall');
  heartbeat();
  advance(1_000);
  assert.deepEqual(silences, [], 'the heartbeat that waited in the socket counts');
  for (let i = 0; i < 10; i++) advance(1_000);
  assert.deepEqual(silences, ['node2 42 11 10'], 'a worker still silent is reported at the next checks');
  hub.close();
});
