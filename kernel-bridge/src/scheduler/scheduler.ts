// Owns executors and tasks: admits submissions, holds them until their dependencies are done and the
// executor has cores free, hands them to the executor's backend, and reports every state change.
import type { CachedResult, CacheInputs, CacheRef } from '../cache/store.js';
import { EventEmitter } from 'node:events';
import type { Backend, TaskOutcome } from '../backends/backend.js';
import type { ExecutorOptions, ResourceDict, TaskState } from '../protocol/messages.js';
import { blockGpuProblem } from '../resources/capabilities.js';
import { GpuPool } from '../resources/gpu-pool.js';
import { KeyedQueue } from './queue.js';
import { ResultStore } from './results.js';
import { appendOutput, coresOf, gpusOf, isFinal, mergeResources, type Task, type TaskView } from './task.js';

export interface Executor {
  readonly id: string;
  readonly name: string;
  readonly clientId: string;
  readonly options: ExecutorOptions;
  readonly backend: Backend;
  readonly queue: KeyedQueue<Task>;
  coresInUse: number;
  running: number;
  /** Tasks submitted and not finished yet. */
  unfinished: number;
  shutdown: boolean;
  /** Its kernel went away. */
  orphaned: boolean;
  /** As the kernel asked for it: local, slurm, flux, slurm-cluster, flux-cluster. */
  backendKind: string;
}

/** What the panel shows of an executor. */
export interface ExecutorView {
  id: string;
  name: string;
  backend: string;
  client_id: string;
  block_allocation: boolean;
  max_cores: number | null;
  max_workers: number | null;
  cores_in_use: number;
  running: number;
  unfinished: number;
  shutdown: boolean;
  orphaned: boolean;
}

export interface SchedulerEvents {
  /** A task changed state (also fired on submission). */
  task: [task: Task];
  /** A task finished: done, error or cancelled; outcome is null for cancelled. */
  finished: [task: Task, outcome: TaskOutcome | null];
  stream: [task: Task, name: 'stdout' | 'stderr', text: string];
  /** Something worth a line in the bridge's log. */
  log: [line: string];
}

export interface SchedulerOptions {
  /** Bytes of results held for tasks that may still depend on them. */
  resultBudgetBytes: number;
  /** Results held at most, however small. */
  resultEntries: number;
  /** Finished task records kept for the panel; the oldest go first. */
  finishedRecords: number;
}

/** Refusal of a request, with a message for the person who made it. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

export interface Submission {
  taskId: string;
  executorId: string;
  clientId: string;
  fnName: string;
  resourceDict: ResourceDict;
  blobs: Buffer[];
  dependencies?: string[];
  cache?: { ref: CacheRef; inputs: CacheInputs };
  /** A short text of the arguments (the kernel's), for the panel. */
  args?: string | null;
}

/** Where results are cached: looked up before a call runs, written after it succeeded. */
export interface ResultCache {
  lookup(ref: CacheRef): Promise<CachedResult | null>;
  store(ref: CacheRef, fnName: string, inputs: CacheInputs, result: Buffer, runtime: number, summary: string | null): Promise<void>;
}

export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly executors = new Map<string, Executor>();
  private readonly tasks = new Map<string, Task>();
  private readonly finishedOrder: string[] = [];
  private finishedHead = 0;
  /** dependency id -> tasks registered as needing it and not yet dispatched or finished. */
  private readonly dependents = new Map<string, Set<Task>>();
  private readonly results: ResultStore;
  private readonly cancelRequested = new Set<string>();
  private readonly timedOut = new Set<string>();
  /** This machine's GPUs, shared by all executors whose tasks take them per call. */
  readonly gpus = new GpuPool();
  /** Set by the bridge; without it `cache` on a submission is ignored. */
  cache: ResultCache | null = null;

  constructor(
    private readonly options: SchedulerOptions = { resultBudgetBytes: 256 << 20, resultEntries: 1000, finishedRecords: 10_000 }
  ) {
    super();
    this.results = new ResultStore(options.resultBudgetBytes, options.resultEntries);
    // GPUs given back by one executor's task may be what another executor's queue waits for.
    this.gpus.on('released', () => {
      for (const executor of this.executors.values()) this.dispatch(executor);
    });
  }

  createExecutor(
    spec: Omit<Executor, 'queue' | 'coresInUse' | 'running' | 'unfinished' | 'shutdown' | 'orphaned' | 'backendKind'> & { backendKind?: string }
  ): Executor {
    if (this.executors.has(spec.id)) throw new RequestError(`executor ${spec.id} exists already`);
    const executor: Executor = {
      ...spec,
      backendKind: spec.backendKind ?? spec.backend.kind,
      queue: new KeyedQueue<Task>(task => task.id),
      coresInUse: 0,
      running: 0,
      unfinished: 0,
      shutdown: false,
      orphaned: false
    };
    this.executors.set(spec.id, executor);
    return executor;
  }

  executor(id: string): Executor | undefined {
    return this.executors.get(id);
  }

  /** The running (not shut down) executor of `clientId` with this name, the newest if several. */
  executorNamed(name: string, clientId: string): Executor | undefined {
    return [...this.executors.values()].reverse().find(e => e.name === name && e.clientId === clientId && !e.shutdown);
  }

  submit(s: Submission): Task {
    const executor = this.executors.get(s.executorId);
    if (!executor) throw new RequestError(`unknown executor ${s.executorId}`);
    if (executor.shutdown) throw new RequestError('cannot schedule new futures after shutdown');
    if (this.tasks.has(s.taskId)) throw new RequestError(`task id ${s.taskId} is in use`);
    const resources = mergeResources(executor.options.resource_dict, s.resourceDict);
    const maxCores = executor.options.max_cores;
    if (maxCores !== null && coresOfResources(resources) > maxCores) {
      throw new RequestError(
        `the task asks for ${coresOfResources(resources)} cores (cores × threads_per_core) but the executor has max_cores=${maxCores}`
      );
    }
    const dependencies = [...new Set(s.dependencies ?? [])];
    const upstream = dependencies.map(id => {
      const dep = this.tasks.get(id);
      if (!dep) {
        throw new RequestError(`dependency ${id} is unknown to this bridge (its future belongs to a bridge that stopped?)`);
      }
      if ((dep.state === 'done' || dep.state === 'error') && !this.results.get(id)) {
        throw new RequestError(`the result of dependency ${id} (${dep.fnName}) is no longer held by the bridge; pass its value instead`);
      }
      return dep;
    });
    const task: Task = {
      id: s.taskId,
      executorId: executor.id,
      clientId: s.clientId,
      fnName: s.fnName,
      resources,
      gpus: [],
      blobs: s.blobs,
      dependencies,
      pendingDependencies: 0,
      output: '',
      orphaned: false,
      state: 'waiting',
      submittedAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      runtime: null,
      failure: null,
      ...(s.cache ? { cache: s.cache } : {}),
      ...(s.args ? { args: s.args } : {})
    };
    this.tasks.set(task.id, task);
    executor.unfinished += 1;
    for (const dep of upstream) {
      this.registerDependent(dep, task);
      if (isFinal(dep.state)) continue;
      const depBackend = this.executors.get(dep.executorId)?.backend;
      if (depBackend && executor.backend.startsBefore?.(depBackend)) (task.early ??= new Set()).add(dep.id);
      else task.pendingDependencies += 1;
    }
    // The cache is looked up while the dependencies run: a hit needs none of them.
    if (task.cache && this.cache) {
      task.pendingDependencies += 1;
      void this.lookUp(task, this.cache);
    }
    const failed = upstream.find(dep => dep.state === 'error');
    const cancelled = upstream.find(dep => dep.state === 'cancelled');
    if (!failed && !cancelled && task.pendingDependencies === 0) {
      this.enqueue(task);
      return task;
    }
    this.emit('task', task);
    if (failed) this.failFromUpstream(task, this.results.get(failed.id)!);
    else if (cancelled) this.finish(task, 'cancelled', null);
    return task;
  }

  private async lookUp(task: Task, cache: ResultCache): Promise<void> {
    let hit: CachedResult | null = null;
    try {
      hit = await cache.lookup(task.cache!.ref);
    } catch (error) {
      // An unreadable file is a miss: the call runs and its result replaces the file.
      this.emit('log', `cache: ${task.cache!.ref.key}: ${(error as Error).message}; running ${task.fnName}`);
    }
    if (task.state !== 'waiting') return; // cancelled, or failed with a dependency, meanwhile
    if (hit) {
      task.cacheHit = true;
      task.runtime = hit.runtime;
      this.finish(task, 'done', { ok: true, runtime: hit.runtime, result: hit.result });
      return;
    }
    task.pendingDependencies -= 1;
    if (task.pendingDependencies === 0) this.enqueue(task);
  }

  /** Cancel a task wherever it is: waiting, queued, or running (its worker is killed). */
  cancel(taskId: string): boolean {
    const task = this.tasks.get(taskId);
    if (!task || isFinal(task.state)) return false;
    if (task.state === 'running') {
      const executor = this.executors.get(task.executorId)!;
      this.cancelRequested.add(task.id);
      return executor.backend.cancel(task.id);
    }
    if (task.state === 'queued') {
      const executor = this.executors.get(task.executorId)!;
      if (!executor.queue.remove(task.id)) {
        // Handed to the backend already, waiting there for a worker: the backend drops it.
        this.cancelRequested.add(task.id);
        if (executor.backend.cancel(task.id)) return true;
        this.cancelRequested.delete(task.id);
        return false;
      }
    }
    this.finish(task, 'cancelled', null);
    return true;
  }

  /** Stop accepting tasks; with cancelFutures drop the unstarted ones; resolves when nothing is left. */
  async shutdownExecutor(executorId: string, wait: boolean, cancelFutures: boolean): Promise<void> {
    const executor = this.executors.get(executorId);
    if (!executor) throw new RequestError(`unknown executor ${executorId}`);
    executor.shutdown = true;
    if (cancelFutures) {
      for (const task of this.tasksOf(executor)) if (task.state === 'waiting' || task.state === 'queued') this.cancel(task.id);
    }
    // Warm workers (block allocation) outlive their tasks: they are stopped once nothing is left to run.
    const stopped = this.drained(executor).then(() => executor.backend.shutdown());
    if (wait) await stopped;
    else {
      stopped.catch(() => {});
      // Batch jobs outlive the kernel, once they are submitted: the kernel may leave after that.
      const unfinished = this.tasksOf(executor).filter(task => !isFinal(task.state));
      await executor.backend.submitted?.(unfinished.map(task => task.id));
    }
  }

  /** Block allocation: grow or shrink the pool of warm workers; queued tasks start on new ones. */
  async resizeExecutor(executorId: string, maxWorkers: number): Promise<void> {
    const executor = this.executors.get(executorId);
    if (!executor) throw new RequestError(`unknown executor ${executorId}`);
    if (!executor.backend.resize || !executor.options.block_allocation) {
      throw new RequestError('max_workers can only be changed with block_allocation=True');
    }
    if (executor.shutdown) throw new RequestError('cannot change max_workers after shutdown');
    const gpuProblem = blockGpuProblem(executor.options.resource_dict, maxWorkers, this.gpus.total);
    if (gpuProblem) throw new RequestError(gpuProblem);
    executor.options.max_workers = maxWorkers;
    await executor.backend.resize(maxWorkers);
    this.dispatch(executor);
  }

  private drained(executor: Executor): Promise<void> {
    return new Promise<void>(resolve => {
      const check = (): void => {
        if (executor.unfinished === 0) {
          this.off('finished', check);
          resolve();
        }
      };
      this.on('finished', check);
      check();
    });
  }

  /** The client is gone: cancel everything it still had, stop its workers, keep the records. */
  orphanClient(clientId: string): void {
    for (const executor of this.executors.values()) {
      if (executor.clientId !== clientId) continue;
      executor.shutdown = true;
      executor.orphaned = true;
      for (const task of this.tasksOf(executor)) {
        task.orphaned = true;
        // Batch jobs go on; their results land in the cache, where the same calls find them again.
        if (!isFinal(task.state) && !executor.backend.batchJobs) this.cancel(task.id);
        else this.emit('task', task);
      }
      void executor.backend.shutdown();
    }
  }

  async close(): Promise<void> {
    for (const executor of this.executors.values()) {
      executor.shutdown = true;
      if (executor.backend.batchJobs) continue; // a later bridge attaches to the jobs
      for (const task of this.tasksOf(executor)) if (!isFinal(task.state) && task.state !== 'running') this.cancel(task.id);
    }
    await Promise.allSettled([...this.executors.values()].map(e => e.backend.shutdown()));
  }

  task(taskId: string): Task | undefined {
    return this.tasks.get(taskId);
  }

  /** A task and, once it finished, its outcome (held while tasks that depend on it are unfinished). */
  dependency(taskId: string): { task: Task; outcome: TaskOutcome | null | undefined } | undefined {
    const task = this.tasks.get(taskId);
    if (!task) return undefined;
    return { task, outcome: isFinal(task.state) ? (this.results.get(taskId) ?? null) : undefined };
  }

  executorViews(): ExecutorView[] {
    return [...this.executors.values()].map(e => ({
      id: e.id,
      name: e.name,
      backend: e.backendKind,
      client_id: e.clientId,
      block_allocation: e.options.block_allocation,
      max_cores: e.options.max_cores,
      max_workers: e.options.max_workers,
      cores_in_use: e.coresInUse,
      running: e.running,
      unfinished: e.unfinished,
      shutdown: e.shutdown,
      orphaned: e.orphaned
    }));
  }

  views(): TaskView[] {
    return [...this.tasks.values()].map(t => this.view(t));
  }

  view(task: Task): TaskView {
    return {
      id: task.id,
      executor_id: task.executorId,
      executor_name: this.executors.get(task.executorId)?.name ?? '',
      fn_name: task.fnName,
      state: task.state,
      submitted_at: task.submittedAt,
      started_at: task.startedAt,
      finished_at: task.finishedAt,
      runtime: task.runtime,
      resources: {
        cores: task.resources.cores,
        threads_per_core: task.resources.threads_per_core,
        gpus_per_core: task.resources.gpus_per_core
      },
      error_type: task.failure?.error_type ?? null,
      client_id: task.clientId,
      dependencies: task.dependencies,
      cache_key: task.cache?.ref.key ?? null,
      cache_file: task.cache ? `${task.cache.ref.directory}/${task.cache.ref.key}_o.h5` : null,
      cache_hit: task.cacheHit ?? false,
      args: task.args ?? null,
      where: task.where ?? null,
      result: task.result ?? null,
      orphaned: task.orphaned
    };
  }

  get heldResultBytes(): number {
    return this.results.heldBytes;
  }

  private tasksOf(executor: Executor): Task[] {
    return [...this.tasks.values()].filter(task => task.executorId === executor.id);
  }

  private registerDependent(dep: Task, task: Task): void {
    let set = this.dependents.get(dep.id);
    if (!set) this.dependents.set(dep.id, (set = new Set()));
    set.add(task);
    if (isFinal(dep.state)) this.results.pin(dep.id);
  }

  /** The task no longer needs its dependencies' results held for it (`finishedOnly`: of those that finished). */
  private releaseDependencies(task: Task, finishedOnly = false): void {
    for (const id of task.dependencies) {
      if (finishedOnly && task.early?.has(id) && !isFinal(this.tasks.get(id)?.state ?? 'done')) continue;
      const set = this.dependents.get(id);
      if (!set?.delete(task)) continue;
      if (set.size === 0) this.dependents.delete(id);
      const dep = this.tasks.get(id);
      if (dep && isFinal(dep.state)) this.results.unpin(id);
    }
  }

  private enqueue(task: Task): void {
    const executor = this.executors.get(task.executorId)!;
    task.state = 'queued';
    executor.queue.push(task);
    this.emit('task', task);
    this.dispatch(executor);
  }

  /** Whether this scheduler hands out GPUs to the executor's tasks (not when its workers hold their own). */
  private takesGpus(executor: Executor, task: Task): boolean {
    return !executor.backend.holdsGpus && gpusOf(task) > 0;
  }

  private hasRoom(executor: Executor, task: Task): boolean {
    if (this.takesGpus(executor, task) && gpusOf(task) > this.gpus.available) return false;
    const { max_cores, max_workers, block_allocation } = executor.options;
    // Block allocation: as many calls as its warm workers take (short calls are given ahead).
    if (block_allocation) return executor.running < (executor.backend.capacity?.() ?? max_workers ?? Infinity);
    if (max_cores !== null) return executor.coresInUse + coresOf(task) <= max_cores;
    if (max_workers !== null) return executor.running < max_workers;
    return true;
  }

  private dispatch(executor: Executor): void {
    for (let next = executor.queue.peek(); next && this.hasRoom(executor, next); next = executor.queue.peek()) {
      const task = executor.queue.shift()!;
      executor.running += 1;
      executor.coresInUse += coresOf(task);
      if (this.takesGpus(executor, task)) task.gpus = this.gpus.take(gpusOf(task));
      // Dependencies it started before (batch jobs) are read by the job itself.
      const finished = task.dependencies.filter(id => !task.early?.has(id) || isFinal(this.tasks.get(id)?.state ?? 'done'));
      const inputs = [...task.blobs, ...finished.flatMap(id => {
        const outcome = this.results.get(id);
        return outcome?.ok ? [outcome.result] : [];
      })];
      this.releaseDependencies(task, true);
      void this.start(executor, task, inputs);
    }
  }

  private async start(executor: Executor, task: Task, inputs: Buffer[]): Promise<void> {
    let outcome: TaskOutcome;
    let deadline: { clear(): void } | undefined;
    const limit = task.resources.run_time_max;
    try {
      outcome = await executor.backend.run(task, inputs, {
        started: where => {
          task.startedAt = Date.now();
          if (where) task.where = where;
          this.setState(task, 'running');
          // A batch job's limit is the batch system's (its own TIMEOUT state).
          if (limit !== null && !executor.backend.batchJobs) deadline = this.killAfter(executor, task, limit);
        },
        stream: (name, text) => {
          appendOutput(task, text);
          this.emit('stream', task, name, text);
        }
      });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      outcome = {
        ok: false,
        runtime: 0,
        failure: { error_type: 'ExecutorlabBridgeError', error_message: message, traceback: (error as Error).stack ?? message },
        exception: null
      };
    }
    deadline?.clear();
    executor.running -= 1;
    executor.coresInUse -= coresOf(task);
    task.runtime = outcome.runtime;
    if (this.timedOut.delete(task.id) && !this.cancelRequested.has(task.id)) {
      const message = `${task.fnName} ran longer than run_time_max=${limit} s and was killed`;
      outcome = { ok: false, runtime: outcome.runtime, failure: { error_type: 'TimeoutError', error_message: message, traceback: '' }, exception: null };
    }
    const gpus = task.gpus;
    task.gpus = [];
    if (this.cancelRequested.delete(task.id)) {
      this.finish(task, 'cancelled', null);
    } else if (!isFinal(task.state)) {
      if (!outcome.ok) task.failure = outcome.failure;
      else {
        task.result = outcome.summary ?? outcome.brief ?? null;
        if (task.cache && this.cache && !executor.backend.batchJobs) {
          const { ref, inputs } = task.cache;
          void this.cache.store(ref, task.fnName, inputs, outcome.result, outcome.runtime, outcome.summary ?? null);
        }
      }
      this.finish(task, outcome.ok ? 'done' : 'error', outcome);
    }
    this.gpus.give(gpus);
    this.dispatch(executor);
  }

  /** run_time_max: kill the task's process when it runs too long; start() then reports TimeoutError. */
  private killAfter(executor: Executor, task: Task, seconds: number): { clear(): void } {
    return setLongTimeout(() => {
      if (isFinal(task.state)) return;
      this.timedOut.add(task.id);
      if (!executor.backend.cancel(task.id)) this.timedOut.delete(task.id);
    }, seconds * 1000);
  }

  private failFromUpstream(task: Task, upstream: TaskOutcome): void {
    if (upstream.ok) return;
    task.failure = upstream.failure;
    this.finish(task, 'error', { ok: false, runtime: 0, failure: upstream.failure, exception: upstream.exception });
  }

  private finish(task: Task, state: TaskState, outcome: TaskOutcome | null): void {
    if (isFinal(task.state)) return;
    task.finishedAt = Date.now();
    const executor = this.executors.get(task.executorId);
    if (executor) executor.unfinished -= 1;
    // The record stays for the panel, the inputs do not.
    task.blobs.length = 0;
    this.releaseDependencies(task);
    const waiting = [...(this.dependents.get(task.id) ?? [])];
    if (outcome) this.results.put(task.id, outcome, waiting.length);
    this.setState(task, state);
    this.emit('finished', task, outcome);
    this.rememberFinished(task);
    for (const dependent of waiting) {
      if (dependent.early?.has(task.id)) {
        if (state !== 'done') this.abandon(dependent, outcome);
        continue;
      }
      if (state === 'done') {
        dependent.pendingDependencies -= 1;
        if (dependent.pendingDependencies === 0 && dependent.state === 'waiting') this.enqueue(dependent);
      } else if (state === 'error' && outcome) {
        this.failFromUpstream(dependent, outcome);
      } else {
        this.finish(dependent, 'cancelled', null);
      }
    }
  }

  /** A call started ahead of a dependency that failed or was cancelled: its job would wait forever. */
  private abandon(task: Task, upstream: TaskOutcome | null): void {
    if (isFinal(task.state)) return;
    const executor = this.executors.get(task.executorId)!;
    const dispatched = task.state === 'running' || (task.state === 'queued' && !executor.queue.remove(task.id));
    if (dispatched) executor.backend.cancel(task.id);
    if (upstream && !upstream.ok) this.failFromUpstream(task, upstream);
    else this.finish(task, 'cancelled', null);
  }

  private rememberFinished(task: Task): void {
    this.finishedOrder.push(task.id);
    while (this.finishedOrder.length - this.finishedHead > this.options.finishedRecords) {
      const old = this.finishedOrder[this.finishedHead++];
      if (!this.dependents.has(old)) this.tasks.delete(old);
    }
    // Drop the consumed head now and then instead of shifting the array on every task.
    if (this.finishedHead > this.options.finishedRecords) {
      this.finishedOrder.splice(0, this.finishedHead);
      this.finishedHead = 0;
    }
  }

  private setState(task: Task, state: TaskState): void {
    if (isFinal(task.state)) return;
    task.state = state;
    this.emit('task', task);
  }
}

/** setTimeout for delays beyond its 24.8-day limit (run_time_max may be up to a year). */
function setLongTimeout(fn: () => void, ms: number): { clear(): void } {
  const MAX = 2 ** 31 - 1;
  let timer: NodeJS.Timeout;
  const arm = (left: number): void => {
    timer = setTimeout(() => (left > MAX ? arm(left - MAX) : fn()), Math.min(left, MAX));
  };
  arm(ms);
  return { clear: () => clearTimeout(timer) };
}

function coresOfResources(resources: Task['resources']): number {
  return resources.cores * resources.threads_per_core;
}
