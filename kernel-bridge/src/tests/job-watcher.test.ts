// JobWatcher over a stand-in batch system: one status call per interval for all jobs, running and end
// notifications, jobs the batch system forgot, failing status calls, and no polling once nothing is watched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BatchSystem, WorkerLine } from '../cluster/batch-system.js';
import type { JobState, JobStatus } from '../cluster/job-state.js';
import { JobWatcher } from '../cluster/job-watcher.js';
import { DEFAULT_SLURM_TEMPLATE } from '../cluster/template.js';

const INTERVAL = 5;

function status(id: string, state: JobState, raw = state.toUpperCase(), reason: string | null = null): JobStatus {
  return { id, state, raw, reason };
}

/** What the batch system answers to its `call`-th states() (1-based): a map, or an error to throw. */
type Script = (ids: string[], call: number) => Map<string, JobStatus> | Error;

/** A batch system whose states() records each call and answers from a script. */
class ScriptedBatch implements BatchSystem {
  readonly name = 'SLURM';
  readonly defaultTemplate = DEFAULT_SLURM_TEMPLATE;
  readonly calls: string[][] = [];
  constructor(public script: Script) {}
  instanceProblem(): string | null {
    return null;
  }
  workerLine(_o: WorkerLine): string {
    return 'true';
  }
  async submit(): Promise<string> {
    throw new Error('not used');
  }
  async states(ids: string[]): Promise<Map<string, JobStatus>> {
    this.calls.push([...ids]);
    const answer = this.script(ids, this.calls.length);
    if (answer instanceof Error) throw answer;
    return answer;
  }
  async stderrFile(): Promise<string | null> {
    return null;
  }
  async cancel(): Promise<void> {}
}

/** Per job, the states of successive polls (the last one repeats); undefined: missing from the answer. */
function perJob(plan: Record<string, (JobState | undefined)[]>): Script {
  const seen = new Map<string, number>();
  return ids => {
    const answer = new Map<string, JobStatus>();
    for (const id of ids) {
      const states = plan[id] ?? [];
      const n = seen.get(id) ?? 0;
      seen.set(id, n + 1);
      const state = states[Math.min(n, states.length - 1)];
      if (state !== undefined) answer.set(id, status(id, state));
    }
    return answer;
  };
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The watcher's timer is unref'd: a ref'd one keeps the test process alive while we wait. */
async function waitFor(condition: () => boolean, what = 'condition', ms = 1000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`);
    await sleep(1);
  }
}

async function settled<T>(promise: Promise<T>, ms = 1000): Promise<T> {
  let done = false;
  let value!: T;
  void promise.then(v => {
    done = true;
    value = v;
  });
  await waitFor(() => done, 'a promise', ms);
  return value;
}

test('many watched jobs are polled with one states() call per interval, holding all their ids', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const batch = new ScriptedBatch(() => new Map());
  // Every job stays pending; each answer takes a moment, so overlapping polls would show.
  batch.script = ids => new Map(ids.map(id => [id, status(id, 'pending')]));
  const original = batch.states.bind(batch);
  batch.states = async ids => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    await sleep(2);
    try {
      return await original(ids);
    } finally {
      inFlight -= 1;
    }
  };
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  const ids = Array.from({ length: 50 }, (_, i) => String(1000 + i));
  const watches = ids.map(id => watcher.watch(id));
  assert.equal(watcher.size, 50);
  await waitFor(() => batch.calls.length >= 3, 'three polls');
  for (const call of batch.calls) assert.deepEqual([...call].sort(), ids);
  assert.equal(maxInFlight, 1, 'one poll at a time');
  for (const w of watches) w.stop();
});

test('two watches of one job share its place in the poll and both learn the end', async () => {
  const batch = new ScriptedBatch(perJob({ '7': ['running', 'completed'] }));
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  let running = 0;
  const first = watcher.watch('7', () => running++);
  const second = watcher.watch('7', () => running++);
  const [a, b] = await settled(Promise.all([first.ended, second.ended]));
  assert.deepEqual(batch.calls, [['7'], ['7']]);
  assert.equal(running, 2, 'each watch is told once');
  assert.equal(a.state, 'completed');
  assert.deepEqual(a, b);
  assert.equal(watcher.size, 0);
});

test('onRunning fires once when a job first runs; ended resolves with its final status', async () => {
  const finals: JobState[] = ['completed', 'timeout', 'cancelled', 'failed', 'out_of_memory', 'node_fail'];
  const plan: Record<string, JobState[]> = {};
  for (const state of finals) plan[`job-${state}`] = ['pending', 'running', 'running', state];
  plan['job-never-ran'] = ['pending', 'completed'];
  const batch = new ScriptedBatch(perJob(plan));
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  const runningAt = new Map<string, number[]>();
  const endedAt = new Map<string, number>();
  const ended = Object.keys(plan).map(id => {
    const watch = watcher.watch(id, () => runningAt.set(id, [...(runningAt.get(id) ?? []), batch.calls.length]));
    return watch.ended.then(s => {
      endedAt.set(id, batch.calls.length);
      return s;
    });
  });
  const statuses = await settled(Promise.all(ended));
  for (const [i, state] of finals.entries()) {
    const id = `job-${state}`;
    assert.deepEqual(statuses[i], status(id, state));
    assert.deepEqual(runningAt.get(id), [2], `${id}: told once, at the poll that first saw it running`);
    assert.equal(endedAt.get(id), 4);
  }
  assert.equal(statuses[finals.length].state, 'completed');
  assert.equal(runningAt.has('job-never-ran'), false, 'a job that never ran is not reported running');
  assert.equal(endedAt.get('job-never-ran'), 2);
  assert.equal(watcher.size, 0);
});

test('a job missing from the answers ends as unknown only after three polls', async () => {
  const batch = new ScriptedBatch(() => new Map());
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  let endedAt = 0;
  const watch = watcher.watch('42');
  const final = await settled(watch.ended.then(s => ((endedAt = batch.calls.length), s)));
  assert.equal(endedAt, 3);
  assert.equal(final.state, 'unknown');
  assert.equal(final.id, '42');
  assert.equal(final.reason, null);
  assert.match(final.raw, /no longer listed by SLURM/);
  assert.equal(watcher.size, 0);
});

test('a job seen again between missing answers starts counting anew', async () => {
  const batch = new ScriptedBatch(perJob({ '9': [undefined, undefined, 'pending', undefined, undefined, undefined] }));
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  let endedAt = 0;
  const final = await settled(watcher.watch('9').ended.then(s => ((endedAt = batch.calls.length), s)));
  assert.equal(endedAt, 6);
  assert.equal(final.state, 'unknown');
});

test('a states() that throws is logged and polling goes on', async () => {
  const logs: string[] = [];
  const batch = new ScriptedBatch((ids, call) =>
    call <= 2 ? new Error('squeue failed (exit code 1): slurm_load_jobs error') : new Map(ids.map(id => [id, status(id, 'completed')]))
  );
  const watcher = new JobWatcher(batch, line => logs.push(line), INTERVAL);
  let endedAt = 0;
  const final = await settled(watcher.watch('5').ended.then(s => ((endedAt = batch.calls.length), s)));
  assert.equal(endedAt, 3);
  assert.equal(final.state, 'completed');
  assert.equal(logs.length, 2);
  assert.match(logs[0], /^SLURM: could not read the state of 1 job\(s\): squeue failed .*slurm_load_jobs error/);
});

test('failed polls do not count as missing answers', async () => {
  // Two failures then two empty answers: still three empty answers needed before "unknown".
  const batch = new ScriptedBatch((_ids, call) => (call <= 2 ? new Error('down') : new Map()));
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  let endedAt = 0;
  await settled(watcher.watch('5').ended.then(() => (endedAt = batch.calls.length)));
  assert.equal(endedAt, 5);
});

test('stop() removes a watch; with nothing watched there is no more polling', async () => {
  const batch = new ScriptedBatch(ids => new Map(ids.map(id => [id, status(id, 'pending')])));
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  const a = watcher.watch('1');
  const b = watcher.watch('2');
  await waitFor(() => batch.calls.length >= 1, 'a poll');
  assert.deepEqual(batch.calls[0], ['1', '2']);
  a.stop();
  assert.equal(watcher.size, 1);
  const after = batch.calls.length;
  await waitFor(() => batch.calls.length >= after + 2, 'two more polls');
  // Polls started after the stop do not name the stopped job.
  for (const call of batch.calls.slice(after)) assert.deepEqual(call, ['2']);
  b.stop();
  assert.equal(watcher.size, 0);
  await sleep(INTERVAL * 3); // a timer armed before the stop fires at most once
  const count = batch.calls.length;
  await sleep(INTERVAL * 8);
  assert.equal(batch.calls.length, count, 'no timer keeps polling');
  // Watching again starts polling again.
  const c = watcher.watch('3');
  await waitFor(() => batch.calls.length > count, 'a poll after watching again');
  assert.deepEqual(batch.calls.at(-1), ['3']);
  c.stop();
});

test('a stopped watch is not polled for once its last watcher left', async () => {
  const batch = new ScriptedBatch(ids => new Map(ids.map(id => [id, status(id, 'pending')])));
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  watcher.watch('1').stop();
  await sleep(INTERVAL * 4);
  // A poll armed by the watch may still run, but it must not ask about the job nobody follows.
  assert.ok(batch.calls.every(call => !call.includes('1')), JSON.stringify(batch.calls));
});

test('a status in an unrecognised word (state unknown) does not end the watch', async () => {
  const batch = new ScriptedBatch((ids, call) => {
    const answer = new Map<string, JobStatus>();
    for (const id of ids) answer.set(id, call <= 4 ? status(id, 'unknown', 'SPECIAL_EXIT') : status(id, 'failed', 'FAILED', 'NonZeroExitCode'));
    return answer;
  });
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  let endedAt = 0;
  const final = await settled(watcher.watch('77').ended.then(s => ((endedAt = batch.calls.length), s)));
  assert.equal(endedAt, 5, 'four unknown answers (more than MISSING_POLLS) did not end it');
  assert.deepEqual(final, status('77', 'failed', 'FAILED', 'NonZeroExitCode'));
});

test('status() asks for one job now', async () => {
  const batch = new ScriptedBatch(perJob({ '3': ['running'] }));
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  assert.deepEqual(await watcher.status('3'), status('3', 'running'));
  assert.equal(await watcher.status('4'), null);
  assert.deepEqual(batch.calls, [['3'], ['4']]);
});

test('a job watched again after a stop gets the full grace of missing polls', async () => {
  const batch = new ScriptedBatch(() => new Map());
  const watcher = new JobWatcher(batch, () => {}, INTERVAL);
  const first = watcher.watch('8');
  await waitFor(() => batch.calls.length >= 2, 'two missing answers');
  first.stop();
  await sleep(INTERVAL * 3);
  const before = batch.calls.filter(call => call.includes('8')).length;
  let polls = 0;
  const final = await settled(watcher.watch('8').ended.then(s => ((polls = batch.calls.filter(call => call.includes('8')).length - before), s)));
  assert.equal(final.state, 'unknown');
  assert.equal(polls, 3);
});
