// SlurmClusterExecutor / FluxClusterExecutor: one batch job per call. The bridge writes the call's
// `<key>_i.h5`, submits a job that runs `python -m executorlab.cache_worker` on it, and follows the job
// until `<key>_o.h5` is there. A call whose dependencies are jobs too is submitted at once with
// afterok dependencies: the batch system orders them, and they go on when the kernel or the bridge goes.
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Backend, RunHooks, TaskOutcome } from './backend.js';
import { workerPythonPath } from './local.js';
import type { BatchSystem } from '../cluster/batch-system.js';
import { BatchCommandError, shellQuote, tail } from '../cluster/batch-system.js';
import type { JobStatus } from '../cluster/job-state.js';
import type { JobWatcher } from '../cluster/job-watcher.js';
import { readPysqaConfig } from '../cluster/pysqa-config.js';
import { slurmTime } from '../cluster/slurm-queue.js';
import { renderTemplate, TemplateError } from '../cluster/template.js';
import type { Hdf5Files } from '../cache/hdf5-files.js';
import { pickleInt, unpickleInt } from '../cache/pickle.js';
import { ATTRIBUTES, type CacheRef } from '../cache/store.js';
import type { Failure, ResourceDict } from '../protocol/messages.js';
import { findOnPath } from '../resources/host.js';
import { pyRepr } from '../resources/validate.js';
import type { Task } from '../scheduler/task.js';

/** What the cluster backend needs to know of another task (one its call depends on). */
export interface DependencyView {
  task: Task;
  /** Its outcome once it finished. */
  outcome: TaskOutcome | null | undefined;
}

/** The jobs of one batch system this bridge submitted, by task: dependents wait for their ids. */
export class ClusterJobs {
  private readonly ids = new Map<string, Promise<string | null>>();
  private readonly resolvers = new Map<string, (id: string | null) => void>();
  /** Job ids by input file: a second task for the same call attaches to the job. */
  readonly byInput = new Map<string, Promise<string>>();

  expect(taskId: string): void {
    if (this.ids.has(taskId)) return;
    this.ids.set(taskId, new Promise(resolve => this.resolvers.set(taskId, resolve)));
  }

  settle(taskId: string, jobId: string | null): void {
    this.expect(taskId);
    this.resolvers.get(taskId)?.(jobId);
    this.resolvers.delete(taskId);
  }

  private readonly endings = new Map<string, { promise: Promise<void>; resolve(): void }>();

  /** The task finished: a dependent still waiting for its job id gets null (it reads the outcome instead). */
  finished(taskId: string): void {
    this.resolvers.get(taskId)?.(null);
    this.forget(taskId);
    this.endings.get(taskId)?.resolve();
    this.endings.delete(taskId);
  }

  /** Resolves when the (unfinished) task finishes in the scheduler. */
  ending(taskId: string): Promise<void> {
    let ending = this.endings.get(taskId);
    if (!ending) {
      let resolve!: () => void;
      const promise = new Promise<void>(r => (resolve = r));
      this.endings.set(taskId, (ending = { promise, resolve }));
    }
    return ending.promise;
  }

  /** The job id of a task submitted by this bridge (null: it has none, e.g. its submission failed). */
  jobOf(taskId: string): Promise<string | null> {
    this.expect(taskId);
    return this.ids.get(taskId)!;
  }

  forget(taskId: string): void {
    this.ids.delete(taskId);
    this.resolvers.delete(taskId);
  }
}

export interface ClusterBackendOptions {
  batch: BatchSystem;
  watcher: JobWatcher;
  jobs: ClusterJobs;
  files: Hdf5Files;
  python: string;
  pythonpath: string[];
  pmiMode: string | null;
  openmpiOversubscribe: boolean;
  pysqaConfigDirectory: string | null;
  executorName: string;
  dependency(taskId: string): DependencyView | undefined;
  log(line: string): void;
}

const JOB_ERROR = 'ExecutorlabJobError';

/** A call's `_i.h5` contents and the job ids it must wait for (afterok). */
interface InputFile {
  datasets: Record<string, Uint8Array>;
  attributes: Record<string, string | number>;
  after: string[];
}
/** sbatch calls in flight at once: a hundred calls at once must not start a hundred sbatch processes. */
const SUBMISSIONS_IN_FLIGHT = 4;

function failure(message: string, runtime = 0): TaskOutcome {
  return { ok: false, runtime, failure: { error_type: JOB_ERROR, error_message: message, traceback: '' }, exception: null };
}

function bytes(data: Uint8Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export class ClusterBackend implements Backend {
  readonly kind: string;
  readonly batchJobs = true;
  /** Job ids of the calls this executor follows, by task. */
  private readonly running = new Map<string, string>();
  private readonly cancelled = new Set<string>();
  private pysqaTemplate: Promise<string> | null = null;
  private inFlight = 0;
  private readonly waitingToSubmit: Array<() => void> = [];

  constructor(private readonly options: ClusterBackendOptions) {
    this.kind = `${options.batch.name.toLowerCase()}-cluster`;
  }

  /** Calls of executors on the same batch system are ordered by it: a dependent need not wait. */
  startsBefore(dependency: Backend): boolean {
    return dependency instanceof ClusterBackend && dependency.options.batch === this.options.batch;
  }

  async resourceProblems(merged: ResourceDict): Promise<string[]> {
    const { batch, executorName } = this.options;
    const tools = batch.name === 'SLURM' ? ['sbatch', 'squeue', 'scancel'] : ['flux'];
    const missing = tools.filter(tool => !findOnPath(tool, process.env.PATH));
    if (missing.length > 0) {
      return [`${executorName} submits one ${batch.name} job per call, but ${missing.join(', ')} is not on the bridge's PATH`];
    }
    const noInstance = batch.instanceProblem(executorName);
    if (noInstance) return [noInstance];
    const problems: string[] = [];
    if (merged.cwd != null && !merged.cwd.startsWith('/')) problems.push(`resource_dict['cwd']=${pyRepr(merged.cwd)} must be an absolute path: the job runs elsewhere`);
    if (batch.name !== 'SLURM' && merged.slurm_cmd_args?.length) problems.push(`resource_dict['slurm_cmd_args'] is for srun; ${executorName} submits flux jobs`);
    try {
      const template = merged.submission_template ?? (await this.template());
      renderTemplate(template, this.variables(merged, { jobDir: '/job', command: 'true', dependencies: [], fnName: 'f' }));
    } catch (error) {
      problems.push(error instanceof TemplateError ? `resource_dict['submission_template'] cannot be rendered: ${error.message}` : (error as Error).message);
    }
    return problems;
  }

  async run(task: Task, _inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    const ref = task.cache?.ref;
    if (!ref) return failure(`${this.options.executorName} needs a cache directory: every call goes through its files`);
    const input = join(ref.directory, `${ref.key}_i.h5`);
    const submittedAt = Date.now();
    const { jobs } = this.options;
    // One job per call: a second task for the same call (another kernel, a rerun) shares the first's job.
    let job = jobs.byInput.get(input);
    if (!job) {
      job = this.jobFor(task, ref, input);
      jobs.byInput.set(input, job);
      void job.catch(() => jobs.byInput.get(input) === job && jobs.byInput.delete(input));
    }
    let jobId: string;
    try {
      jobId = await job;
    } catch (error) {
      jobs.settle(task.id, null);
      this.cancelled.delete(task.id);
      if (!(error instanceof BatchCommandError || error instanceof TemplateError)) throw error;
      return failure(error.message);
    }
    jobs.settle(task.id, jobId);
    this.running.set(task.id, jobId);
    if (this.cancelled.has(task.id)) void this.cancelJob(task.id, jobId);
    const watch = this.options.watcher.watch(jobId, () => hooks.started(`${this.options.batch.name} job ${jobId}`));
    try {
      const status = await watch.ended;
      return await this.outcome(task, ref, jobId, status, (Date.now() - submittedAt) / 1000);
    } finally {
      watch.stop();
      this.running.delete(task.id);
      this.cancelled.delete(task.id);
      if (jobs.byInput.get(input) === job) jobs.byInput.delete(input);
    }
  }

  /** The job of an earlier bridge or kernel that is still queued or running, else a new one. */
  private async jobFor(task: Task, ref: CacheRef, input: string): Promise<string> {
    const earlier = await this.earlierJob(input);
    if (earlier !== null) return earlier;
    // Dependencies' job ids are awaited before a submission slot is taken: a dependent never holds one.
    const prepared = await this.inputFile(task);
    return this.limited(() => this.submit(task, ref, prepared));
  }

  async submitted(taskIds: string[]): Promise<void> {
    await Promise.all(taskIds.map(id => this.options.jobs.jobOf(id)));
  }

  cancel(taskId: string): boolean {
    this.cancelled.add(taskId);
    const jobId = this.running.get(taskId);
    if (jobId) void this.cancelJob(taskId, jobId);
    return true;
  }

  /** The jobs go on: their results arrive in the cache, found again by the same calls later. */
  async shutdown(): Promise<void> {}

  private async cancelJob(taskId: string, jobId: string): Promise<void> {
    try {
      await this.options.batch.cancel([jobId]);
    } catch (error) {
      this.options.log(`${this.options.batch.name}: could not cancel job ${jobId} of task ${taskId}: ${(error as Error).message}`);
    }
  }

  private async limited<T>(submit: () => Promise<T>): Promise<T> {
    if (this.inFlight >= SUBMISSIONS_IN_FLIGHT) await new Promise<void>(resolve => this.waitingToSubmit.push(resolve));
    this.inFlight += 1;
    try {
      return await submit();
    } finally {
      this.inFlight -= 1;
      this.waitingToSubmit.shift()?.();
    }
  }

  /** A job an earlier bridge or kernel submitted for this call that is still queued or running. */
  private async earlierJob(input: string): Promise<string | null> {
    if (!(await exists(input))) return null;
    let queueId: bigint | null = null;
    try {
      const data = await this.options.files.read(input, ['queue_id']);
      queueId = data.queue_id ? unpickleInt(data.queue_id) : null;
    } catch {
      return null; // unreadable: written anew
    }
    if (queueId === null) return null;
    const status = await this.options.watcher.status(String(queueId)).catch(() => null);
    return status && (status.state === 'pending' || status.state === 'running') ? status.id : null;
  }

  private async template(): Promise<string> {
    const directory = this.options.pysqaConfigDirectory;
    if (directory === null) return this.options.batch.defaultTemplate;
    this.pysqaTemplate ??= readPysqaConfig(directory).then(config => config.template);
    return this.pysqaTemplate;
  }

  private variables(
    dict: ResourceDict,
    o: { jobDir: string; command: string; dependencies: string[]; fnName: string }
  ): Record<string, unknown> {
    const cores = dict.cores ?? 1;
    const runTimeMax = dict.run_time_max ?? undefined;
    return {
      job_name: o.fnName,
      working_directory: dict.cwd ?? o.jobDir,
      cores,
      threads_per_core: dict.threads_per_core ?? 1,
      gpus_per_core: dict.gpus_per_core ?? 0,
      num_nodes: dict.num_nodes ?? undefined,
      exclusive: dict.exclusive ?? false,
      run_time_max: runTimeMax,
      run_time_slurm: runTimeMax !== undefined ? slurmTime(runTimeMax) : undefined,
      memory_max: dict.memory_max ?? undefined,
      partition: dict.partition ?? undefined,
      priority: dict.priority ?? undefined,
      // executorlib's name, and pysqa's.
      dependency: o.dependencies,
      dependency_list: o.dependencies,
      output_file: join(o.jobDir, 'job.out'),
      error_file: join(o.jobDir, 'job.err'),
      command: o.command
    };
  }

  /** Write `_i.h5`, submit its job, then record the job's id in the file (queue_id). */
  private async submit(task: Task, ref: CacheRef, prepared: InputFile): Promise<string> {
    const { batch, files, python, pythonpath } = this.options;
    const input = join(ref.directory, `${ref.key}_i.h5`);
    const jobDir = join(ref.directory, ref.key);
    await mkdir(jobDir, { recursive: true });
    const { datasets, attributes, after } = prepared;
    await files.write(input, datasets, attributes);
    const dict = task.resources.requested;
    const path = workerPythonPath(pythonpath).PYTHONPATH;
    let jobId: string;
    if (batch.submitCall && dict.submission_template == null && this.options.pysqaConfigDirectory === null) {
      // The default template's settings as options: no job script, and no batch instance inside the job.
      const submitted = await batch.submitCall({
        jobName: task.fnName,
        cwd: dict.cwd ?? jobDir,
        output: join(jobDir, 'job.out'),
        error: join(jobDir, 'job.err'),
        cores: task.resources.cores,
        threadsPerCore: dict.threads_per_core ?? 1,
        gpusPerCore: dict.gpus_per_core ?? 0,
        numNodes: dict.num_nodes ?? null,
        exclusive: dict.exclusive ?? false,
        runTimeMax: dict.run_time_max ?? null,
        after,
        priority: dict.priority ?? null,
        pmiMode: this.options.pmiMode,
        env: path ? { PYTHONPATH: path } : {},
        command: [python, '-m', 'executorlab.cache_worker', input]
      });
      jobId = submitted.id;
      // What was run, beside the call's files, as a job script would be.
      await writeFile(join(jobDir, `${batch.name.toLowerCase()}-submit.sh`), `#!/bin/sh\n${submitted.command.map(shellQuote).join(' ')}\n`, { mode: 0o700 });
    } else {
      const line = batch.workerLine({
        python,
        inputFile: input,
        cores: task.resources.cores,
        pmiMode: this.options.pmiMode,
        openmpiOversubscribe: task.resources.openmpi_oversubscribe ?? this.options.openmpiOversubscribe,
        slurmCmdArgs: dict.slurm_cmd_args ?? []
      });
      const command = `${path ? `export PYTHONPATH=${shellQuote(path)}\n` : ''}${line}`;
      const template = dict.submission_template ?? (await this.template());
      const script = join(jobDir, `${batch.name.toLowerCase()}-job.sh`);
      await writeFile(script, renderTemplate(template, this.variables(dict, { jobDir, command, dependencies: after, fnName: task.fnName })) + '\n', { mode: 0o700 });
      jobId = await batch.submit(script, jobDir);
    }
    // Recorded for restarts: a later bridge attaches to the job instead of submitting the call again.
    // A job that already finished removed its input; it must not come back.
    if (!(await exists(join(ref.directory, `${ref.key}_o.h5`)))) {
      await files.write(input, { ...datasets, queue_id: pickleInt(BigInt(jobId)) }, attributes);
      if (await exists(join(ref.directory, `${ref.key}_o.h5`))) await rm(input, { force: true });
    }
    return jobId;
  }

  /**
   * The datasets of `_i.h5` (executorlib's, plus the results of dependencies that are done) and the ids of
   * the jobs of dependencies still queued or running (afterok), whose `_o.h5` the worker reads.
   */
  private async inputFile(task: Task): Promise<InputFile> {
    const inputs = task.cache!.inputs;
    const datasets: Record<string, Uint8Array> = {
      function: inputs.function,
      input_args: inputs.inputArgs,
      input_kwargs: inputs.inputKwargs,
      resource_dict: inputs.resourceDict
    };
    const files: Record<string, string> = {};
    const after: string[] = [];
    for (const id of task.dependencies) {
      const dependency = this.options.dependency(id);
      const ref = dependency?.task.cache?.ref;
      if (!dependency || !ref) continue; // no key: the kernel put its value into the arguments
      // Only a dependency still unfinished has a job to wait for; asking a finished one's would never end.
      const jobId = dependency.outcome === undefined ? await this.options.jobs.jobOf(id) : null;
      const done = this.options.dependency(id)?.outcome;
      if (done?.ok) datasets[`executorlab_dependency_${ref.key}`] = done.result;
      else if (done === undefined && jobId !== null) {
        after.push(jobId);
        files[ref.key] = join(ref.directory, `${ref.key}_o.h5`);
      } else throw new BatchCommandError(`dependency ${dependency.task.fnName} (${id}) ${done ? 'failed' : 'was cancelled'}; this call cannot run`);
    }
    const attributes: Record<string, string | number> = { [ATTRIBUTES.function]: task.fnName, [ATTRIBUTES.created]: Date.now() / 1000 };
    if (Object.keys(files).length > 0) attributes.executorlab_dependencies = JSON.stringify(files);
    return { datasets, attributes, after };
  }

  /** What the job left: its `_o.h5` (output or the function's error), or why it ended without one. */
  private async outcome(task: Task, ref: CacheRef, jobId: string, status: JobStatus, waited: number): Promise<TaskOutcome> {
    const output = join(ref.directory, `${ref.key}_o.h5`);
    // A file system shared with the compute nodes may show a new file a moment late.
    if (!(await exists(output)) && status.state === 'completed') await new Promise(resolve => setTimeout(resolve, 1000));
    if (await exists(output)) {
      const summary = await this.options.files.summary(output);
      const runtime = Number(summary.attributes[ATTRIBUTES.runtime] ?? waited);
      if ('output' in summary.datasets) {
        const data = await this.options.files.read(output, ['output']);
        const text = summary.attributes[ATTRIBUTES.result];
        return { ok: true, runtime, result: bytes(data.output), ...(typeof text === 'string' ? { summary: text } : {}) };
      }
      if ('error' in summary.datasets) {
        const data = await this.options.files.read(output, ['error']);
        const text = (name: string) => String(summary.attributes[name] ?? '');
        const failed: Failure = {
          error_type: text('executorlab_error_type') || 'Exception',
          error_message: text('executorlab_error_message'),
          traceback: text('executorlab_traceback')
        };
        return { ok: false, runtime, failure: failed, exception: bytes(data.error) };
      }
    }
    // Its job may have been ended because one it waited for failed (afterok): that failure is the call's.
    for (const id of task.dependencies) {
      if (this.options.dependency(id)?.outcome === undefined) await this.options.jobs.ending(id);
      const upstream = this.options.dependency(id)?.outcome;
      if (upstream && !upstream.ok) return upstream;
      if (upstream === null) return failure(`dependency ${id} was cancelled`, waited);
    }
    const { batch } = this.options;
    const reason = (status.reason ? ` (${status.reason})` : '') + (status.nodes ? ` on ${status.nodes}` : '');
    const stderr = (await batch.stderrFile(jobId)) ?? join(ref.directory, ref.key, 'job.err');
    const lines = await tail(stderr);
    const message =
      `${batch.name} job ${jobId} of ${task.fnName} (cache key ${ref.key}) ended ${status.raw}${reason} without writing ${output}` +
      (lines ? `; the end of its stderr (${stderr}):\n${lines}` : `; its stderr (${stderr}) is empty or missing`);
    return failure(message, waited);
  }
}
