// Owns executors and tasks: admits submissions, holds them until the executor has cores free, hands
// them to the executor's backend, and reports every state change.
import { EventEmitter } from 'node:events';
import type { Backend, TaskOutcome } from '../backends/backend.js';
import type { ExecutorOptions, ResourceDict, TaskState } from '../protocol/messages.js';
import { coresOf, isFinal, mergeResources, type Task, type TaskView } from './task.js';

export interface Executor {
  readonly id: string;
  readonly name: string;
  readonly clientId: string;
  readonly options: ExecutorOptions;
  readonly backend: Backend;
  readonly queue: Task[];
  coresInUse: number;
  running: number;
  shutdown: boolean;
}

export interface SchedulerEvents {
  /** A task changed state (also fired on submission). */
  task: [task: Task];
  /** A task finished: done, error or cancelled; outcome is null for cancelled. */
  finished: [task: Task, outcome: TaskOutcome | null];
  stream: [task: Task, name: 'stdout' | 'stderr', text: string];
}

/** Refusal of a request, with a message for the person who made it. */
export class RequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RequestError';
  }
}

export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly executors = new Map<string, Executor>();
  private readonly tasks = new Map<string, Task>();

  createExecutor(spec: Omit<Executor, 'queue' | 'coresInUse' | 'running' | 'shutdown'>): Executor {
    if (this.executors.has(spec.id)) throw new RequestError(`executor ${spec.id} exists already`);
    const executor: Executor = { ...spec, queue: [], coresInUse: 0, running: 0, shutdown: false };
    this.executors.set(spec.id, executor);
    return executor;
  }

  submit(s: {
    taskId: string;
    executorId: string;
    clientId: string;
    fnName: string;
    resourceDict: ResourceDict;
    blobs: Buffer[];
  }): Task {
    const executor = this.executors.get(s.executorId);
    if (!executor) throw new RequestError(`unknown executor ${s.executorId}`);
    if (executor.shutdown) throw new RequestError('cannot schedule new futures after shutdown');
    if (this.tasks.has(s.taskId)) throw new RequestError(`task id ${s.taskId} is in use`);
    const resources = mergeResources(executor.options.resource_dict, s.resourceDict);
    const maxCores = executor.options.max_cores;
    if (maxCores !== null && resources.cores * resources.threads_per_core > maxCores) {
      throw new RequestError(
        `the task asks for ${resources.cores * resources.threads_per_core} cores ` +
          `(cores × threads_per_core) but the executor has max_cores=${maxCores}`
      );
    }
    const task: Task = {
      id: s.taskId,
      executorId: executor.id,
      clientId: s.clientId,
      fnName: s.fnName,
      resources,
      blobs: s.blobs,
      state: 'queued',
      submittedAt: Date.now(),
      startedAt: null,
      finishedAt: null,
      runtime: null,
      failure: null
    };
    this.tasks.set(task.id, task);
    executor.queue.push(task);
    this.emit('task', task);
    this.dispatch(executor);
    return task;
  }

  cancel(taskId: string): boolean {
    const task = this.tasks.get(taskId);
    if (!task || task.state !== 'queued') return false;
    const executor = this.executors.get(task.executorId)!;
    executor.queue.splice(executor.queue.indexOf(task), 1);
    this.finish(task, 'cancelled', null);
    return true;
  }

  /** Stop accepting tasks; with cancelFutures drop the queued ones; resolves when nothing runs. */
  async shutdownExecutor(executorId: string, wait: boolean, cancelFutures: boolean): Promise<void> {
    const executor = this.executors.get(executorId);
    if (!executor) throw new RequestError(`unknown executor ${executorId}`);
    executor.shutdown = true;
    if (cancelFutures) for (const task of [...executor.queue]) this.cancel(task.id);
    if (!wait) return;
    await new Promise<void>(resolve => {
      const check = (): void => {
        if (executor.queue.length === 0 && executor.running === 0) {
          this.off('finished', check);
          resolve();
        }
      };
      this.on('finished', check);
      check();
    });
  }

  async close(): Promise<void> {
    for (const executor of this.executors.values()) {
      executor.shutdown = true;
      for (const task of [...executor.queue]) this.cancel(task.id);
    }
    await Promise.allSettled([...this.executors.values()].map(e => e.backend.shutdown()));
  }

  task(taskId: string): Task | undefined {
    return this.tasks.get(taskId);
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
      client_id: task.clientId
    };
  }

  private hasRoom(executor: Executor, task: Task): boolean {
    const { max_cores, max_workers } = executor.options;
    if (max_cores !== null) return executor.coresInUse + coresOf(task) <= max_cores;
    if (max_workers !== null) return executor.running < max_workers;
    return true;
  }

  private dispatch(executor: Executor): void {
    while (executor.queue.length > 0 && this.hasRoom(executor, executor.queue[0])) {
      const task = executor.queue.shift()!;
      executor.running += 1;
      executor.coresInUse += coresOf(task);
      void this.start(executor, task);
    }
  }

  private async start(executor: Executor, task: Task): Promise<void> {
    let outcome: TaskOutcome;
    try {
      outcome = await executor.backend.run(task, {
        started: () => {
          task.startedAt = Date.now();
          this.setState(task, 'running');
        },
        stream: (name, text) => this.emit('stream', task, name, text)
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
    executor.running -= 1;
    executor.coresInUse -= coresOf(task);
    task.runtime = outcome.runtime;
    if (!outcome.ok) task.failure = outcome.failure;
    this.finish(task, outcome.ok ? 'done' : 'error', outcome);
    this.dispatch(executor);
  }

  private finish(task: Task, state: TaskState, outcome: TaskOutcome | null): void {
    task.finishedAt = Date.now();
    // The bridge keeps the record for the panel, not the inputs.
    task.blobs.length = 0;
    this.setState(task, state);
    this.emit('finished', task, outcome);
  }

  private setState(task: Task, state: TaskState): void {
    if (isFinal(task.state)) return;
    task.state = state;
    this.emit('task', task);
  }
}
