// The cluster backend (one batch job per call) over a stand-in batch system and stand-in HDF5 files, with a
// real JobWatcher; plus the pure parts: worker lines, shell quoting, stderr tails and the job registry.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunHooks, TaskOutcome } from '../backends/backend.js';
import { ClusterBackend, ClusterJobs, type DependencyView } from '../backends/cluster.js';
import {
  BatchCommandError,
  FluxBatchSystem,
  shellQuote,
  SlurmBatchSystem,
  tail,
  type BatchSystem,
  type WorkerLine
} from '../cluster/batch-system.js';
import type { DirectJob } from '../cluster/flux-queue.js';
import type { JobState, JobStatus } from '../cluster/job-state.js';
import { JobWatcher } from '../cluster/job-watcher.js';
import { DEFAULT_SLURM_TEMPLATE } from '../cluster/template.js';
import type { FileSummary, Hdf5Files } from '../cache/hdf5-files.js';
import { pickleInt } from '../cache/pickle.js';
import type { ResourceDict } from '../protocol/messages.js';
import { mergeResources, type Task } from '../scheduler/task.js';

// ---- pure parts

const line = (o: Partial<WorkerLine> = {}): WorkerLine => ({
  python: 'python',
  inputFile: 'file',
  cores: 1,
  pmiMode: null,
  openmpiOversubscribe: false,
  slurmCmdArgs: [],
  ...o
});

/** The words the shell makes of `words` (each printed NUL-terminated by sh's own printf). */
function argvOf(words: string): string[] {
  const out = execFileSync('sh', ['-c', `set -- ${words}; printf '%s\\0' "$@"`]);
  return String(out).split('\0').slice(0, -1);
}

test('SLURM worker line: the bare worker for one core, srun with pmix for more', () => {
  const slurm = new SlurmBatchSystem();
  assert.equal(slurm.workerLine(line()), 'python -m executorlab.cache_worker file');
  // A single core ignores the MPI options: no srun step at all.
  assert.equal(slurm.workerLine(line({ pmiMode: 'pmi2', openmpiOversubscribe: true, slurmCmdArgs: ['--exact'] })), 'python -m executorlab.cache_worker file');
  assert.equal(slurm.workerLine(line({ cores: 2 })), 'srun -n 2 --mpi=pmix python -m executorlab.cache_worker file');
  assert.equal(
    slurm.workerLine(line({ cores: 4, pmiMode: 'pmi2', openmpiOversubscribe: true, slurmCmdArgs: ['--exact', '--cpu-bind=cores'] })),
    'srun -n 4 --mpi=pmi2 --oversubscribe --exact --cpu-bind=cores python -m executorlab.cache_worker file'
  );
});

test('flux worker line: flux run, with -o pmi= only when a PMI is chosen', () => {
  const flux = new FluxBatchSystem();
  assert.equal(flux.workerLine(line()), 'python -m executorlab.cache_worker file');
  assert.equal(flux.workerLine(line({ cores: 2, pmiMode: 'pmix' })), 'flux run -n 2 -o pmi=pmix python -m executorlab.cache_worker file');
  assert.equal(flux.workerLine(line({ cores: 3 })), 'flux run -n 3 python -m executorlab.cache_worker file');
});

test('worker lines quote paths with spaces and quotes so the shell gives them back whole', () => {
  const input = `/scratch/my "cache"/it's here/k_i.h5`;
  const python = '/opt/py env/bin/python3';
  for (const system of [new SlurmBatchSystem(), new FluxBatchSystem()]) {
    const one = system.workerLine(line({ python, inputFile: input }));
    assert.equal(one.startsWith(shellQuote(python) + ' '), true);
    // The words the shell makes of the rest of the line.
    const rest = one.slice(shellQuote(python).length);
    assert.deepEqual(argvOf(rest), ['-m', 'executorlab.cache_worker', input]);
    const many = system.workerLine(line({ python, inputFile: input, cores: 2, pmiMode: 'pmix', slurmCmdArgs: ['--comment=a b'] }));
    const words = argvOf(many);
    assert.deepEqual(words.slice(-4), [python, '-m', 'executorlab.cache_worker', input]);
    if (system.name === 'SLURM') assert.deepEqual(words.slice(0, 5), ['srun', '-n', '2', '--mpi=pmix', '--comment=a b']);
    else assert.deepEqual(words.slice(0, 6), ['flux', 'run', '-n', '2', '-o', 'pmi=pmix']);
  }
});

test('shellQuote round-trips any word through sh', () => {
  const words = ['plain/path_1.h5', 'with space', "it's", '"double"', '$HOME', '`id`', 'back\\slash', "a'b'c", '*', 'semi;colon', 'tab\there', 'ünïcode', '', '--flag=x y', "''"];
  for (const word of words) {
    const out = execFileSync('sh', ['-c', `printf '%s\\n' ${shellQuote(word)}`]);
    assert.equal(String(out), word + '\n', word);
  }
  assert.equal(shellQuote('/a/b-c_d.e:f,g=h@i%j+k'), '/a/b-c_d.e:f,g=h@i%j+k', 'safe words stay bare');
  assert.equal(shellQuote('a b'), "'a b'");
});

test('tail gives the last lines of a file, null for a missing one', async (t: TestContext) => {
  const dir = await mkdtemp(join(tmpdir(), 'cluster-tail-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'job.err');
  await writeFile(path, Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\n\n');
  const last = await tail(path);
  assert.equal(last, Array.from({ length: 20 }, (_, i) => `line ${i + 11}`).join('\n'));
  assert.equal(await tail(path, 2), 'line 29\nline 30');
  await writeFile(join(dir, 'empty'), '');
  assert.equal(await tail(join(dir, 'empty')), '');
  assert.equal(await tail(join(dir, 'missing.err')), null);
});

test('ClusterJobs: jobOf resolves on settle, before or after it is asked', async () => {
  const jobs = new ClusterJobs();
  const early = jobs.jobOf('a');
  jobs.settle('a', '11');
  assert.equal(await early, '11');
  assert.equal(await jobs.jobOf('a'), '11');
  jobs.settle('b', null);
  assert.equal(await jobs.jobOf('b'), null);
});

test('ClusterJobs: finished() resolves a waiting jobOf with null, ending() at finished()', async () => {
  const jobs = new ClusterJobs();
  const waiting = jobs.jobOf('a');
  let ended = false;
  const ending = jobs.ending('a').then(() => (ended = true));
  await new Promise(resolve => setImmediate(resolve));
  assert.equal(ended, false);
  jobs.finished('a');
  assert.equal(await waiting, null);
  await ending;
  assert.equal(ended, true);
  // Settled then finished: the id it had is forgotten, and a second ending() of another task is separate.
  jobs.settle('b', '12');
  const bEnding = jobs.ending('b');
  jobs.finished('b');
  await bEnding;
});

// ---- ClusterBackend with stand-ins

function status(id: string, state: JobState, raw = state.toUpperCase(), reason: string | null = null): JobStatus {
  return { id, state, raw, reason };
}

/** A batch system that keeps its jobs' states in a map the test changes. */
class FakeBatch implements BatchSystem {
  readonly name = 'SLURM';
  readonly defaultTemplate = DEFAULT_SLURM_TEMPLATE;
  private readonly real = new SlurmBatchSystem();
  readonly jobs = new Map<string, JobStatus>();
  readonly statesCalls: string[][] = [];
  readonly submits: { script: string; cwd: string; text: string }[] = [];
  readonly cancels: string[][] = [];
  nextId = 4242;
  /** Replaces the default submit (which answers the next id, pending). */
  submitWith: (() => Promise<string>) | null = null;
  stderr: string | null = null;
  /** What instanceProblem() answers: set to stand for a batch system with no instance to submit to. */
  noInstance: string | null = null;

  instanceProblem(): string | null {
    return this.noInstance;
  }
  workerLine(o: WorkerLine): string {
    return this.real.workerLine(o);
  }
  async submit(script: string, cwd: string): Promise<string> {
    this.submits.push({ script, cwd, text: await readFile(script, 'utf8') });
    if (this.submitWith) return this.submitWith();
    const id = String(this.nextId++);
    this.jobs.set(id, status(id, 'pending'));
    return id;
  }
  async states(ids: string[]): Promise<Map<string, JobStatus>> {
    this.statesCalls.push([...ids]);
    return new Map(ids.filter(id => this.jobs.has(id)).map(id => [id, this.jobs.get(id)!]));
  }
  async stderrFile(): Promise<string | null> {
    return this.stderr;
  }
  async cancel(ids: string[]): Promise<void> {
    this.cancels.push([...ids]);
  }
  set(id: string, state: JobState, raw?: string, reason: string | null = null): void {
    this.jobs.set(id, status(id, state, raw, reason));
  }
}

const OUTPUT = Uint8Array.from([0x80, 4, 0x4b, 3, 0x2e]);

/** Hdf5Files as the backend uses it: calls recorded, answers scripted. */
class FakeFiles {
  readonly writes: { path: string; datasets: Record<string, Uint8Array>; attributes: Record<string, string | number> }[] = [];
  readonly reads: { path: string; names: string[] }[] = [];
  readonly summaries: string[] = [];
  readAnswer: (path: string, names: string[]) => Record<string, Uint8Array> = () => ({ output: OUTPUT });
  summaryAnswer: FileSummary = { datasets: { output: 3 }, attributes: { executorlab_runtime: 1.5 }, small: {} };
  async write(path: string, datasets: Record<string, Uint8Array>, attributes: Record<string, string | number>): Promise<void> {
    this.writes.push({ path, datasets, attributes });
  }
  async read(path: string, names: string[]): Promise<Record<string, Uint8Array>> {
    this.reads.push({ path, names });
    return this.readAnswer(path, names);
  }
  async summary(path: string): Promise<FileSummary> {
    this.summaries.push(path);
    return this.summaryAnswer;
  }
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/** The watcher's timer is unref'd: this ref'd loop keeps the test process alive while we wait. */
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
  let error: unknown;
  let failed = false;
  promise.then(
    v => ((done = true), (value = v)),
    e => ((done = failed = true), (error = e))
  );
  await waitFor(() => done, 'a promise', ms);
  if (failed) throw error;
  return value;
}

let taskCount = 0;
function clusterTask(directory: string, key: string, o: { dependencies?: string[]; resourceDict?: ResourceDict; fnName?: string; id?: string } = {}): Task {
  return {
    id: o.id ?? `t${taskCount++}`,
    executorId: 'e',
    clientId: 'c',
    fnName: o.fnName ?? 'add',
    resources: mergeResources({}, o.resourceDict ?? {}),
    gpus: [],
    blobs: [],
    dependencies: o.dependencies ?? [],
    pendingDependencies: 0,
    output: '',
    orphaned: false,
    state: 'queued',
    submittedAt: 0,
    startedAt: null,
    finishedAt: null,
    runtime: null,
    failure: null,
    cache: {
      ref: { directory, key },
      inputs: {
        function: Buffer.from('fn-pickle'),
        inputArgs: Buffer.from('args-pickle'),
        inputKwargs: Buffer.from('kwargs-pickle'),
        resourceDict: Buffer.from('rd-pickle')
      }
    }
  };
}

async function setup(t: TestContext, o: { pythonpath?: string[] } = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'cluster-backend-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const batch = new FakeBatch();
  const files = new FakeFiles();
  const logs: string[] = [];
  const watcher = new JobWatcher(batch, line => logs.push(line), 5);
  const jobs = new ClusterJobs();
  const dependencies = new Map<string, DependencyView>();
  const backend = new ClusterBackend({
    batch,
    watcher,
    jobs,
    files: files as unknown as Hdf5Files,
    python: '/usr/bin/python3',
    pythonpath: o.pythonpath ?? [],
    pmiMode: null,
    openmpiOversubscribe: false,
    pysqaConfigDirectory: null,
    executorName: 'SlurmClusterExecutor',
    dependency: id => dependencies.get(id),
    log: line => logs.push(line)
  });
  const started: string[] = [];
  const hooksFor = (task: Task): RunHooks => ({ started: () => started.push(task.id), stream: () => {} });
  const run = (task: Task) => backend.run(task, [], hooksFor(task));
  return { dir, batch, files, logs, watcher, jobs, dependencies, backend, started, run };
}

function failureOf(outcome: TaskOutcome) {
  assert.equal(outcome.ok, false, 'the call failed');
  return (outcome as Extract<TaskOutcome, { ok: false }>).failure;
}

test('a call: _i.h5 written, job script rendered and submitted once, queue_id recorded, output read', async t => {
  const { dir, batch, files, watcher, jobs, started, run } = await setup(t, { pythonpath: ['/opt/lab lib'] });
  const task = clusterTask(dir, 'add_abc');
  const input = join(dir, 'add_abc_i.h5');
  const outcomeP = run(task);
  await waitFor(() => files.writes.length === 2, 'the second write of _i.h5');

  const [first, second] = files.writes;
  assert.equal(first.path, input);
  assert.deepEqual(Object.keys(first.datasets).sort(), ['function', 'input_args', 'input_kwargs', 'resource_dict']);
  assert.equal(String(first.datasets.function), 'fn-pickle');
  assert.equal(String(first.datasets.input_args), 'args-pickle');
  assert.equal(String(first.datasets.input_kwargs), 'kwargs-pickle');
  assert.equal(String(first.datasets.resource_dict), 'rd-pickle');
  assert.equal(first.attributes.executorlab_function, 'add');
  assert.equal(first.attributes.executorlab_dependencies, undefined);

  assert.equal(batch.submits.length, 1);
  const script = join(dir, 'add_abc', 'slurm-job.sh');
  assert.equal(batch.submits[0].script, script);
  assert.equal(batch.submits[0].cwd, join(dir, 'add_abc'));
  const text = batch.submits[0].text;
  assert.match(text, /^#!\/bin\/bash\n/);
  assert.match(text, /^#SBATCH --ntasks=1$/m);
  assert.match(text, /^#SBATCH --job-name=add$/m);
  assert.ok(text.includes(`#SBATCH --error=${join(dir, 'add_abc', 'job.err')}\n`), text);
  assert.ok(text.includes(`\n/usr/bin/python3 -m executorlab.cache_worker ${input}\n`), text);
  assert.ok(text.includes("export PYTHONPATH='/opt/lab lib"), text);
  assert.doesNotMatch(text, /--dependency|srun/);
  assert.equal((await stat(script)).mode & 0o777, 0o700);

  assert.equal(second.path, input);
  assert.deepEqual(second.datasets.queue_id, pickleInt(4242n));
  assert.equal(String(second.datasets.function), 'fn-pickle');
  assert.deepEqual(second.attributes, first.attributes);
  assert.equal(await jobs.jobOf(task.id), '4242');

  await waitFor(() => batch.statesCalls.some(call => call.includes('4242')), 'the watcher polling the job');
  assert.deepEqual(started, []);
  batch.set('4242', 'running');
  await waitFor(() => started.length === 1, 'started()');
  await writeFile(join(dir, 'add_abc_o.h5'), 'stand-in');
  batch.set('4242', 'completed');
  const outcome = await settled(outcomeP);
  assert.equal(outcome.ok, true);
  assert.equal(outcome.runtime, 1.5);
  assert.deepEqual(new Uint8Array((outcome as { result: Buffer }).result), OUTPUT);
  assert.deepEqual(files.summaries, [join(dir, 'add_abc_o.h5')]);
  assert.deepEqual(files.reads, [{ path: join(dir, 'add_abc_o.h5'), names: ['output'] }]);
  assert.deepEqual(started, [task.id], 'started once');
  assert.equal(batch.submits.length, 1);
  assert.equal(watcher.size, 0, 'the watch ended');
});

test('a call on several cores runs its worker under srun with the cores as tasks', async t => {
  const { dir, batch, run, backend } = await setup(t);
  const task = clusterTask(dir, 'mpi_1', { resourceDict: { cores: 2, openmpi_oversubscribe: true, slurm_cmd_args: ['--exact'] } });
  const outcomeP = run(task);
  await waitFor(() => batch.submits.length === 1, 'the submission');
  const text = batch.submits[0].text;
  assert.match(text, /^#SBATCH --ntasks=2$/m);
  assert.ok(text.includes(`\nsrun -n 2 --mpi=pmix --oversubscribe --exact /usr/bin/python3 -m executorlab.cache_worker ${join(dir, 'mpi_1_i.h5')}\n`), text);
  backend.cancel(task.id);
  batch.set('4242', 'cancelled');
  await settled(outcomeP);
});

test('an _o.h5 holding the function\'s error becomes that error', async t => {
  const { dir, batch, files, run } = await setup(t);
  files.summaryAnswer = {
    datasets: { error: 10 },
    attributes: { executorlab_runtime: 0.25, executorlab_error_type: 'ZeroDivisionError', executorlab_error_message: 'division by zero', executorlab_traceback: 'Traceback ...' },
    small: {}
  };
  files.readAnswer = () => ({ error: Uint8Array.from([1, 2, 3]) });
  const outcomeP = run(clusterTask(dir, 'div'));
  await waitFor(() => batch.submits.length === 1, 'the submission');
  await writeFile(join(dir, 'div_o.h5'), 'stand-in');
  batch.set('4242', 'completed');
  const outcome = await settled(outcomeP);
  assert.deepEqual(failureOf(outcome), { error_type: 'ZeroDivisionError', error_message: 'division by zero', traceback: 'Traceback ...' });
  assert.equal(outcome.runtime, 0.25);
  assert.deepEqual([...(outcome as { exception: Buffer }).exception], [1, 2, 3]);
});

test('a job that timed out without output fails with its state and the end of its stderr', async t => {
  const { dir, batch, run, started } = await setup(t);
  const stderr = join(dir, 'elsewhere.err');
  await writeFile(stderr, Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join('\n') + '\nslurmstepd: error: *** JOB 4242 CANCELLED DUE TO TIME LIMIT ***\n');
  batch.stderr = stderr;
  const task = clusterTask(dir, 'slow');
  const outcomeP = run(task);
  await waitFor(() => batch.submits.length === 1, 'the submission');
  batch.set('4242', 'running');
  await waitFor(() => started.length === 1, 'started()');
  batch.set('4242', 'timeout', 'TIMEOUT', 'TimeLimit');
  const outcome = await settled(outcomeP);
  const failure = failureOf(outcome);
  assert.equal(failure.error_type, 'ExecutorlabJobError');
  assert.match(failure.error_message, /^SLURM job 4242 of add \(cache key slow\) ended TIMEOUT \(TimeLimit\) without writing /);
  assert.ok(failure.error_message.includes(join(dir, 'slow_o.h5')));
  assert.ok(failure.error_message.includes(`the end of its stderr (${stderr}):\n`));
  assert.ok(failure.error_message.includes('line 30\nslurmstepd: error: *** JOB 4242 CANCELLED DUE TO TIME LIMIT ***'));
  assert.ok(failure.error_message.includes('line 12'));
  assert.ok(!failure.error_message.includes('line 11\n'), 'only the last 20 lines');
  assert.equal((outcome as { exception: unknown }).exception, null);
});

test('a job that ended without output or stderr says its stderr is missing (the job directory\'s job.err)', async t => {
  const { dir, batch, run } = await setup(t);
  const outcomeP = run(clusterTask(dir, 'oom'));
  await waitFor(() => batch.submits.length === 1, 'the submission');
  batch.set('4242', 'out_of_memory', 'OUT_OF_MEMORY');
  const failure = failureOf(await settled(outcomeP));
  assert.match(failure.error_message, /ended OUT_OF_MEMORY without writing/);
  assert.ok(failure.error_message.includes(`its stderr (${join(dir, 'oom', 'job.err')}) is empty or missing`), failure.error_message);
});

test('a job that ended without output names its end state, the scheduler\'s reason and the nodes it ran on', async t => {
  const { dir, batch, run } = await setup(t);
  const outcomeP = run(clusterTask(dir, 'gone'));
  await waitFor(() => batch.submits.length === 1, 'the submission');
  batch.jobs.set('4242', { id: '4242', state: 'cancelled', raw: 'CANCELED', reason: 'Canceled: by root', nodes: 'node[1-2]' });
  const failure = failureOf(await settled(outcomeP));
  assert.match(failure.error_message, /^SLURM job 4242 of add \(cache key gone\) ended CANCELED \(Canceled: by root\) on node\[1-2\] without writing /);
});

test('a batch system that submits calls directly gets the default template\'s settings, and a custom template still a script', async t => {
  const { dir, batch, run } = await setup(t, { pythonpath: ['/opt/lab'] });
  const direct: DirectJob[] = [];
  (batch as BatchSystem).submitCall = async job => {
    direct.push(job);
    const id = String(batch.nextId++);
    await writeFile(join(dir, 'plain_o.h5'), ''); // what the job leaves; FakeFiles answers for its contents
    batch.set(id, 'completed');
    return { id, command: ['flux', 'submit', '--job-name=' + job.jobName] };
  };
  await settled(run(clusterTask(dir, 'plain', { resourceDict: { cores: 2, run_time_max: 30, num_nodes: 2 } })));
  assert.equal(batch.submits.length, 0, 'no job script submitted');
  assert.equal(direct.length, 1);
  const [job] = direct;
  assert.deepEqual([job.jobName, job.cwd, job.output, job.error], ['add', join(dir, 'plain'), join(dir, 'plain', 'job.out'), join(dir, 'plain', 'job.err')]);
  assert.deepEqual([job.cores, job.runTimeMax, job.numNodes, job.after, job.env], [2, 30, 2, [], { PYTHONPATH: '/opt/lab' }]);
  assert.deepEqual(job.command, ['/usr/bin/python3', '-m', 'executorlab.cache_worker', join(dir, 'plain_i.h5')]);
  assert.equal(await readFile(join(dir, 'plain', 'slurm-submit.sh'), 'utf8'), '#!/bin/sh\nflux submit --job-name=add\n');
  const templated = run(clusterTask(dir, 'templated', { resourceDict: { submission_template: '#!/bin/sh\n{{command}}' } }));
  await waitFor(() => batch.submits.length === 1, 'the templated submission');
  assert.equal(direct.length, 1, 'a custom template is submitted as its script');
  await writeFile(join(dir, 'templated_o.h5'), '');
  batch.set('4243', 'completed');
  assert.equal((await settled(templated)).ok, true);
});

test('a batch system with no instance to submit to refuses the executor before anything else', async t => {
  const { batch, backend } = await setup(t);
  assert.deepEqual(await backend.resourceProblems({}), []);
  batch.noInstance = 'no flux here; run flux start';
  assert.deepEqual(await backend.resourceProblems({ cores: 2 }), ['no flux here; run flux start']);
});

test('flux: outside a flux instance the batch system says how to get one; inside one it has no problem', () => {
  const problem = new FluxBatchSystem(null).instanceProblem('FluxClusterExecutor');
  assert.ok(problem);
  for (const words of ['FluxClusterExecutor runs every call as a job of a flux instance', 'FLUX_URI is not set', '`flux start jupyter lab`', '`executorlab kernelspec install --flux`']) {
    assert.ok(problem.includes(words), `${words} in ${problem}`);
  }
  assert.equal(new FluxBatchSystem('local:///run/flux/local').instanceProblem('FluxClusterExecutor'), null);
  assert.equal(new SlurmBatchSystem().instanceProblem(), null);
});

test('a submission the batch system refuses fails the call, and its job id resolves null', async t => {
  const { dir, batch, jobs, run, watcher } = await setup(t);
  batch.submitWith = async () => {
    throw new BatchCommandError('sbatch failed (`sbatch --parsable x`, exit code 1): sbatch: error: Invalid account');
  };
  const task = clusterTask(dir, 'refused');
  const waiting = jobs.jobOf(task.id);
  const outcome = await settled(run(task));
  const failure = failureOf(outcome);
  assert.equal(failure.error_type, 'ExecutorlabJobError');
  assert.equal(failure.error_message, 'sbatch failed (`sbatch --parsable x`, exit code 1): sbatch: error: Invalid account');
  assert.equal(await waiting, null);
  assert.equal(await jobs.jobOf(task.id), null);
  assert.equal(watcher.size, 0);
  assert.equal(batch.statesCalls.length, 0);
});

test('an unexpected error while submitting is thrown, but the job id still resolves null', async t => {
  const { dir, batch, jobs, run } = await setup(t);
  batch.submitWith = async () => {
    throw new TypeError('bug');
  };
  const task = clusterTask(dir, 'broken');
  await assert.rejects(settled(run(task)), /bug/);
  assert.equal(await jobs.jobOf(task.id), null);
});

test('a call whose _i.h5 names a queued job attaches to it instead of submitting', async t => {
  const { dir, batch, files, jobs, watcher, run } = await setup(t);
  const input = join(dir, 'again_i.h5');
  await writeFile(input, 'stand-in from an earlier bridge');
  files.readAnswer = (path): Record<string, Uint8Array> => (path === input ? { queue_id: pickleInt(777n) } : { output: OUTPUT });
  batch.set('777', 'pending');
  const task = clusterTask(dir, 'again');
  const outcomeP = run(task);
  assert.equal(await jobs.jobOf(task.id), '777');
  await waitFor(() => watcher.size === 1 && batch.statesCalls.length >= 2, 'the watcher polling the job');
  assert.deepEqual(files.reads[0], { path: input, names: ['queue_id'] });
  assert.deepEqual(batch.statesCalls[0], ['777'], 'asked once for its state');
  assert.deepEqual(batch.statesCalls[1], ['777'], 'then followed it');
  assert.equal(batch.submits.length, 0, 'not submitted again');
  assert.equal(files.writes.length, 0, 'its input is left as it is');
  await writeFile(join(dir, 'again_o.h5'), 'stand-in');
  batch.set('777', 'completed');
  assert.equal((await settled(outcomeP)).ok, true);
});

test('a call whose _i.h5 names a job the batch system no longer knows is submitted anew', async t => {
  const { dir, batch, files, jobs, run, backend } = await setup(t);
  const input = join(dir, 'stale_i.h5');
  await writeFile(input, 'stand-in');
  files.readAnswer = () => ({ queue_id: pickleInt(778n) });
  const task = clusterTask(dir, 'stale');
  const outcomeP = run(task);
  assert.equal(await jobs.jobOf(task.id), '4242');
  assert.equal(batch.submits.length, 1);
  backend.cancel(task.id);
  batch.set('4242', 'cancelled');
  await settled(outcomeP);
});

test('a second call with the same input attaches to the first one\'s job', async t => {
  const { dir, batch, jobs, run } = await setup(t);
  const firstTask = clusterTask(dir, 'same');
  const first = run(firstTask);
  assert.equal(await jobs.jobOf(firstTask.id), '4242'); // settled together with the registry by input
  const second = run(clusterTask(dir, 'same'));
  await sleep(10);
  assert.equal(batch.submits.length, 1);
  await writeFile(join(dir, 'same_o.h5'), 'stand-in');
  batch.set('4242', 'completed');
  const [a, b] = await settled(Promise.all([first, second]));
  assert.equal(a.ok && b.ok, true);
});

test('two calls with the same input started together submit one job', async t => {
  // e.g. [exe.submit(f, 1) for _ in range(2)] with a cache directory: both dispatched in one go.
  const { dir, batch, run, backend } = await setup(t);
  const tasks = [clusterTask(dir, 'twin'), clusterTask(dir, 'twin')];
  const outcomes = tasks.map(task => run(task));
  await waitFor(() => batch.submits.length >= 1, 'a submission');
  await sleep(20);
  const submits = batch.submits.length;
  for (const task of tasks) backend.cancel(task.id);
  for (const id of ['4242', '4243']) batch.set(id, 'cancelled');
  await settled(Promise.all(outcomes));
  assert.equal(submits, 1);
});

test('cancel() while the job is followed cancels the job', async t => {
  const { dir, batch, backend, run } = await setup(t);
  const task = clusterTask(dir, 'long');
  const outcomeP = run(task);
  await waitFor(() => batch.statesCalls.length >= 1, 'the watcher');
  assert.equal(backend.cancel(task.id), true);
  await waitFor(() => batch.cancels.length === 1, 'the cancel command');
  assert.deepEqual(batch.cancels, [['4242']]);
  batch.set('4242', 'cancelled', 'CANCELLED');
  const failure = failureOf(await settled(outcomeP));
  assert.match(failure.error_message, /ended CANCELLED without writing/);
});

test('cancel() before the job id is known cancels the job once it is submitted', async t => {
  const { dir, batch, backend, run } = await setup(t);
  let submit!: (id: string) => void;
  batch.submitWith = () => new Promise(resolve => (submit = resolve));
  const task = clusterTask(dir, 'racing');
  const outcomeP = run(task);
  await waitFor(() => batch.submits.length === 1, 'the submission');
  backend.cancel(task.id);
  assert.deepEqual(batch.cancels, []);
  batch.set('900', 'pending');
  submit('900');
  await waitFor(() => batch.cancels.length === 1, 'the cancel command');
  assert.deepEqual(batch.cancels, [['900']]);
  batch.set('900', 'cancelled');
  await settled(outcomeP);
});

test('submitted() resolves once every call has its job', async t => {
  const { dir, batch, backend, run } = await setup(t);
  let submit!: (id: string) => void;
  batch.submitWith = () => new Promise(resolve => (submit = resolve));
  const task = clusterTask(dir, 'later');
  const outcomeP = run(task);
  let done = false;
  const submitted = backend.submitted([task.id]).then(() => (done = true));
  await waitFor(() => batch.submits.length === 1, 'the submission');
  await sleep(5);
  assert.equal(done, false);
  batch.set('901', 'pending');
  submit('901');
  await settled(submitted);
  backend.cancel(task.id);
  batch.set('901', 'cancelled');
  await settled(outcomeP);
});

function dependencyTask(dir: string, key: string, id: string): Task {
  return clusterTask(dir, key, { id, fnName: 'upstream' });
}

test('a dependency that is done goes into _i.h5; one still queued becomes afterok on its job', async t => {
  const { dir, batch, files, jobs, dependencies, run, backend } = await setup(t);
  dependencies.set('A', { task: dependencyTask(dir, 'ka', 'A'), outcome: { ok: true, runtime: 1, result: Buffer.from('A-result') } });
  dependencies.set('B', { task: dependencyTask(dir, 'kb', 'B'), outcome: undefined });
  const task = clusterTask(dir, 'kc', { dependencies: ['A', 'B'] });
  const outcomeP = run(task);
  await sleep(10);
  assert.equal(files.writes.length, 0, 'waits for the job id of B');
  jobs.settle('B', '100');
  await waitFor(() => batch.submits.length === 1, 'the submission');
  const written = files.writes[0];
  assert.equal(String(written.datasets.executorlab_dependency_ka), 'A-result');
  assert.equal(written.datasets.executorlab_dependency_kb, undefined);
  assert.deepEqual(JSON.parse(String(written.attributes.executorlab_dependencies)), { kb: join(dir, 'kb_o.h5') });
  assert.match(batch.submits[0].text, /^#SBATCH --dependency=afterok:100$/m);
  backend.cancel(task.id);
  batch.set('4242', 'cancelled');
  dependencies.set('B', { task: dependencyTask(dir, 'kb', 'B'), outcome: { ok: true, runtime: 1, result: Buffer.from('B') } });
  await settled(outcomeP);
});

test('a job ended without output while its dependency failed: the call fails with the dependency\'s error', async t => {
  const { dir, batch, jobs, dependencies, run } = await setup(t);
  dependencies.set('A', { task: dependencyTask(dir, 'ka', 'A'), outcome: undefined });
  jobs.settle('A', '100');
  const task = clusterTask(dir, 'kc', { dependencies: ['A'] });
  const outcomeP = run(task);
  await waitFor(() => batch.submits.length === 1, 'the submission');
  // SLURM ends the dependent (DependencyNeverSatisfied) before the scheduler saw A finish.
  batch.set('4242', 'cancelled', 'CANCELLED', 'DependencyNeverSatisfied');
  await sleep(20);
  let done = false;
  void outcomeP.then(() => (done = true));
  await sleep(1);
  assert.equal(done, false, 'waits for A to finish in the scheduler');
  const upstream: TaskOutcome = { ok: false, runtime: 2, failure: { error_type: 'KeyError', error_message: "'x'", traceback: 'tb' }, exception: Buffer.from('exc') };
  dependencies.set('A', { task: dependencyTask(dir, 'ka', 'A'), outcome: upstream });
  jobs.finished('A');
  assert.deepEqual(await settled(outcomeP), upstream);
});

test('a call whose dependency already failed (and finished) ends instead of waiting forever', async t => {
  // The scheduler dispatched the call ahead of A (startsBefore); A failed while run() was still creating
  // the job directory: the bridge called jobs.finished('A') before inputFile() asked for A's job id.
  const { dir, jobs, dependencies, run, files } = await setup(t);
  const failed: TaskOutcome = { ok: false, runtime: 1, failure: { error_type: 'KeyError', error_message: "'x'", traceback: '' }, exception: null };
  dependencies.set('A', { task: dependencyTask(dir, 'ka', 'A'), outcome: failed });
  jobs.settle('A', null); // its submission failed
  jobs.finished('A');
  const outcome = await settled(run(clusterTask(dir, 'kc', { dependencies: ['A'] })), 100);
  assert.equal(outcome.ok, false);
  assert.equal(files.writes.length, 0);
});

test('no job script or input is written without a cache directory', async t => {
  const { batch, run } = await setup(t);
  const task = clusterTask('/nowhere', 'k');
  delete (task as { cache?: unknown }).cache;
  const failure = failureOf(await run(task));
  assert.match(failure.error_message, /SlurmClusterExecutor needs a cache directory/);
  assert.equal(batch.submits.length, 0);
  assert.equal(existsSync('/nowhere/k'), false);
});

test('the job directory exists before submission (sbatch runs there)', async t => {
  const { dir, batch, run, backend } = await setup(t);
  batch.submitWith = async () => {
    assert.equal(existsSync(join(dir, 'kd')), true);
    return '55';
  };
  batch.set('55', 'pending');
  const task = clusterTask(dir, 'kd');
  const outcomeP = run(task);
  await waitFor(() => batch.statesCalls.length >= 1, 'the watcher');
  backend.cancel(task.id);
  batch.set('55', 'cancelled');
  await settled(outcomeP);
});

test('with the scheduler: cancelling a queued dependency frees the slot of the call started ahead of it', async t => {
  // What a kernel does with fut_a.cancel() (or shutdown(cancel_futures=True)) right after submitting B(A).
  const { dir, batch, files, logs, watcher } = await setup(t);
  const { Scheduler } = await import('../scheduler/scheduler.js');
  const { ExecutorOptions } = await import('../protocol/messages.js');
  const scheduler = new Scheduler();
  const jobs = new ClusterJobs();
  scheduler.on('finished', task => jobs.finished(task.id)); // as the bridge does
  const backend = (name: string) =>
    new ClusterBackend({
      batch,
      watcher,
      jobs,
      files: files as unknown as Hdf5Files,
      python: 'python3',
      pythonpath: [],
      pmiMode: null,
      openmpiOversubscribe: false,
      pysqaConfigDirectory: null,
      executorName: name,
      dependency: id => scheduler.dependency(id),
      log: line => logs.push(line)
    });
  scheduler.createExecutor({ id: 'ea', name: 'A', clientId: 'c', options: ExecutorOptions.parse({ max_workers: 1 }), backend: backend('A') });
  scheduler.createExecutor({ id: 'eb', name: 'B', clientId: 'c', options: ExecutorOptions.parse({}), backend: backend('B') });
  const submit = (taskId: string, executorId: string, dependencies: string[] = []) =>
    scheduler.submit({
      taskId,
      executorId,
      clientId: 'c',
      fnName: taskId,
      resourceDict: {},
      blobs: [],
      dependencies,
      cache: { ref: { directory: dir, key: `k${taskId}` }, inputs: clusterTask(dir, 'x').cache!.inputs }
    });
  submit('X', 'ea'); // holds ea's only worker slot
  const a = submit('A', 'ea'); // queued behind X
  const b = submit('B', 'eb', ['A']); // started ahead of A: same batch system
  assert.equal(b.state, 'queued');
  assert.equal(scheduler.executor('eb')!.running, 1);
  scheduler.cancel(a.id);
  assert.equal(a.state, 'cancelled');
  assert.equal(b.state, 'cancelled');
  await waitFor(() => scheduler.executor('eb')!.running === 0, "B's run() to end", 100);
  for (const id of ['4242', '4243']) batch.set(id, 'cancelled');
  scheduler.cancel('X');
});
