// Block allocation (executorlib's BlockAllocationTaskScheduler): max_workers warm workers, started once
// with the executor's resources and reused for every call. Each runs the init_function first; a worker
// that dies is restarted up to restart_limit times, after that the pool goes on without it.
import type { Backend, RunHooks, TaskOutcome } from './backend.js';
import type { WorkerLauncher } from './launcher.js';
import { workerPythonPath } from './local.js';
import type { Failure, ResourceDict } from '../protocol/messages.js';
import { blockAllocationProblems } from '../resources/capabilities.js';
import { taskEnvironment } from '../resources/environment.js';
import type { GpuPool } from '../resources/gpu-pool.js';
import type { Resources, Task } from '../scheduler/task.js';
import type { InitOutcome, WorkerHub } from '../workers/hub.js';
import { journalPath } from '../workers/journal.js';
import { newWorkerId, WorkerProcess, WorkerStartError } from '../workers/process.js';
import { KeyedQueue } from '../scheduler/queue.js';

/** What the pool needs of a worker: a WorkerProcess in production, a stand-in in unit tests. */
export interface PoolWorker {
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Resolves with a sentence saying how the process ended. */
  readonly exited: Promise<string>;
  init(blob: Buffer): Promise<InitOutcome>;
  /** null: the worker went away before it started the task (it had others to run first). */
  run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome | null>;
  /** Take back a task it has not started; false if it has. */
  drop(taskId: string): boolean;
  kill(signal?: NodeJS.Signals): void;
  /** Ask it to leave, kill it after a grace period; resolves once it is gone. */
  stop(): Promise<void>;
}

/** Start the worker for place `index` of the pool; rejects when it cannot be started. */
export type LaunchWorker = (index: number) => Promise<PoolWorker>;

export interface BlockAllocationOptions {
  launch: LaunchWorker;
  /** The cloudpickled init_function, or null. */
  initFunction: Buffer | null;
  restartLimit: number;
  /** The executor's class name, for messages. */
  executorName: string;
  /** What this machine cannot do with the workers' resource_dict (the executor's). */
  checkResources(dict: ResourceDict): Promise<string[]>;
  log(line: string): void;
}

type SlotState = 'starting' | 'ready' | 'retiring';

/**
 * A worker is given the next calls before it finishes the current one when calls are short, so it never
 * waits a round trip through the bridge between two of them: as many as it is expected to finish in
 * PREFETCH_SECONDS (from its recent run times), at most MAX_PREFETCH. A call given ahead is not running
 * yet (its state is queued) and a cancel takes it back from the worker without killing it.
 */
const PREFETCH_SECONDS = 0.002;
const MAX_PREFETCH = 32;
/** Weight of the newest run time in a worker's running average. */
const RUNTIME_WEIGHT = 0.3;

/** One place in the pool; its worker process may be replaced, its index (executorlib_worker_id) stays. */
interface Slot {
  readonly index: number;
  state: SlotState;
  worker: PoolWorker | null;
  boot: Promise<void>;
  restarts: number;
  /** The init_function raised in this worker: every call given to it fails with that exception. */
  initFailure: { failure: Failure; exception: Buffer | null } | null;
  /** Calls given to this worker and not finished, in the order it runs them. */
  tasks: string[];
  /** Running average of its calls' run times in seconds; null before the first. */
  runtime: number | null;
  /** Killed by the pool itself (cancel, run_time_max): restarted without counting against restart_limit. */
  killedOnPurpose: boolean;
}

interface Waiter {
  taskId: string;
  /** Order of arrival: calls that go back to the line (their worker died first) keep their place. */
  seq: number;
  resolve(slot: Slot | null): void;
}

/** How many calls a worker may hold at once. */
function capacity(slot: Slot): number {
  if (slot.runtime === null) return 1;
  return Math.max(1, Math.min(MAX_PREFETCH, Math.floor(PREFETCH_SECONDS / Math.max(slot.runtime, 1e-6))));
}

const retiring = (slot: Slot): boolean => slot.state === 'retiring';

export class BlockAllocationBackend implements Backend {
  readonly kind = 'block';
  readonly holdsGpus = true;
  private readonly slots = new Set<Slot>();
  /** Calls handed over by the scheduler, waiting for a worker with room, in order. */
  private readonly waiting = new KeyedQueue<Waiter>(waiter => waiter.taskId);
  /** Calls given to a worker that died before starting them: served before `waiting`, in arrival order. */
  private readonly retries: Waiter[] = [];
  private arrivals = 0;
  /** Calls taken back from a worker by cancel(): their outcome is no run time. */
  private readonly dropped = new Set<string>();
  /** Calls whose worker cancel() killed: if it had not started them yet, they must not run elsewhere. */
  private readonly killed = new Set<string>();
  private closing: Promise<void> | null = null;
  /** How the last worker that was not restarted ended, for the message once none is left. */
  private lastLoss = '';

  constructor(private readonly options: BlockAllocationOptions) {}

  /** Workers the pool has or is starting, not counting those on their way out. */
  get size(): number {
    return [...this.slots].filter(slot => !retiring(slot)).length;
  }

  /** Process ids of the current workers (for tests and the panel). */
  get pids(): number[] {
    return [...this.slots].flatMap(slot => (slot.worker?.pid !== undefined ? [slot.worker.pid] : []));
  }

  capacity(): number {
    // With no worker left, calls are answered at once by run().
    if (this.closing || this.size === 0) return Infinity;
    let calls = 0;
    for (const slot of this.slots) if (!retiring(slot)) calls += slot.state === 'ready' ? capacity(slot) : 1;
    return calls;
  }

  async resourceProblems(merged: ResourceDict, perTask?: ResourceDict): Promise<string[]> {
    if (perTask !== undefined) return blockAllocationProblems(perTask, this.options.executorName);
    return this.options.checkResources(merged);
  }

  async run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    const seq = this.arrivals++;
    let retry = false;
    for (;;) {
      // A call whose worker died before starting it goes back to the head of the line.
      const slot = await this.slotFor(task.id, seq, retry);
      retry = true;
      if (!slot) return this.unavailable();
      if (slot.initFailure) {
        const failure = slot.initFailure;
        this.finished(slot, task.id);
        hooks.started();
        return { ok: false, runtime: 0, ...failure };
      }
      const worker = slot.worker;
      if (!worker) {
        // Its worker died between the hand-out and now: wait for the next one.
        this.finished(slot, task.id);
        continue;
      }
      const outcome = await worker.run(task, inputs, hooks);
      const cancelled = this.killed.delete(task.id);
      if (slot.worker !== worker || !worker.running) {
        // The worker died: onExit restarts or drops the slot; the call was its failure, or runs again
        // (unless it was the one cancelled).
        if (outcome) return outcome;
        if (cancelled) return { ok: false, runtime: 0, failure: { error_type: 'CancelledError', error_message: 'cancelled', traceback: '' }, exception: null };
        continue;
      }
      if (outcome && !this.dropped.delete(task.id)) slot.runtime = slot.runtime === null ? outcome.runtime : slot.runtime + RUNTIME_WEIGHT * (outcome.runtime - slot.runtime);
      this.finished(slot, task.id);
      return outcome ?? this.unavailable();
    }
  }

  cancel(taskId: string): boolean {
    const retry = this.retries.findIndex(w => w.taskId === taskId);
    const waiter = retry >= 0 ? this.retries.splice(retry, 1)[0] : this.waiting.remove(taskId);
    if (waiter) {
      waiter.resolve(null);
      return true;
    }
    const slot = [...this.slots].find(s => s.tasks.includes(taskId));
    if (!slot?.worker) return false;
    if (slot.worker.drop(taskId)) {
      this.dropped.add(taskId);
      return true;
    }
    slot.killedOnPurpose = true;
    this.killed.add(taskId);
    slot.worker.kill('SIGKILL');
    return true;
  }

  /** Grow by starting workers, shrink by stopping idle ones first and busy ones after their call. */
  async resize(maxWorkers: number): Promise<void> {
    if (this.closing) return;
    const active = [...this.slots].filter(slot => !retiring(slot));
    for (let n = active.length; n < maxWorkers; n++) this.addSlot();
    const order = (slot: Slot): number => (slot.state === 'starting' ? 0.5 : slot.tasks.length);
    const extra = active.sort((a, b) => order(a) - order(b) || b.index - a.index).slice(0, Math.max(0, active.length - maxWorkers));
    for (const slot of extra) this.retire(slot);
  }

  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    for (const waiter of [...this.retries.splice(0), ...this.waiting.drain()]) waiter.resolve(null);
    await Promise.allSettled(
      [...this.slots].map(async slot => {
        await slot.worker?.stop();
        await slot.boot;
      })
    );
  }

  private addSlot(): void {
    const used = new Set([...this.slots].map(slot => slot.index));
    let index = 0;
    while (used.has(index)) index += 1;
    const slot: Slot = {
      index,
      state: 'starting',
      worker: null,
      boot: Promise.resolve(),
      restarts: 0,
      initFailure: null,
      tasks: [],
      runtime: null,
      killedOnPurpose: false
    };
    this.slots.add(slot);
    slot.boot = this.boot(slot);
  }

  private retire(slot: Slot): void {
    const idle = slot.state === 'ready' && slot.tasks.length === 0;
    slot.state = 'retiring';
    // A starting worker is stopped by boot() once it is up, a busy one by finished() after its calls.
    if (idle) void slot.worker?.stop();
  }

  private async boot(slot: Slot): Promise<void> {
    slot.state = 'starting';
    slot.initFailure = null;
    let worker: PoolWorker;
    try {
      worker = await this.options.launch(slot.index);
    } catch (error) {
      this.onExit(slot, null, (error as Error).message);
      return;
    }
    if (this.closing || retiring(slot)) {
      this.slots.delete(slot);
      await worker.stop();
      return;
    }
    slot.worker = worker;
    void worker.exited.then(why => this.onExit(slot, worker, why));
    if (this.options.initFunction) {
      const init = await worker.init(this.options.initFunction);
      if (slot.worker !== worker) return;
      if (!init.ok) {
        slot.initFailure = { failure: init.failure, exception: init.exception };
        this.options.log(`block allocation: init_function raised in worker ${slot.index}: ${init.failure.error_type}: ${init.failure.error_message}`);
      }
    }
    if (this.closing || retiring(slot)) {
      await worker.stop();
      return;
    }
    slot.state = 'ready';
    this.handOut();
  }

  /** A worker ended (or could not start): restart it if it may be, else the pool goes on without it. */
  private onExit(slot: Slot, worker: PoolWorker | null, why: string): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.tasks = [];
    slot.runtime = null;
    if (this.closing || retiring(slot)) {
      this.slots.delete(slot);
      return;
    }
    const onPurpose = slot.killedOnPurpose;
    slot.killedOnPurpose = false;
    if (onPurpose || slot.restarts < this.options.restartLimit) {
      if (!onPurpose) {
        slot.restarts += 1;
        this.options.log(`block allocation: worker ${slot.index} restarted (${slot.restarts} of restart_limit=${this.options.restartLimit}): ${why}`);
      }
      slot.boot = this.boot(slot);
      return;
    }
    this.slots.delete(slot);
    this.lastLoss = why;
    this.options.log(`block allocation: worker ${slot.index} is gone for good (restart_limit=${this.options.restartLimit}): ${why}`);
    if (this.size === 0) for (const waiter of [...this.retries.splice(0), ...this.waiting.drain()]) waiter.resolve(null);
  }

  /** A call of this slot's worker ended: hand it the next one, or stop it if it is retiring. */
  private finished(slot: Slot, taskId: string): void {
    const index = slot.tasks.indexOf(taskId);
    if (index >= 0) slot.tasks.splice(index, 1);
    if (retiring(slot)) {
      if (slot.tasks.length === 0) void slot.worker?.stop();
      return;
    }
    this.handOut();
  }

  private slotFor(taskId: string, seq: number, retry: boolean): Promise<Slot | null> {
    if (this.closing || this.size === 0) return Promise.resolve(null);
    return new Promise(resolve => {
      const waiter = { taskId, seq, resolve };
      if (retry) {
        const at = this.retries.findIndex(w => w.seq > seq);
        this.retries.splice(at < 0 ? this.retries.length : at, 0, waiter);
      } else {
        this.waiting.push(waiter);
      }
      this.handOut();
    });
  }

  /**
   * Give waiting calls to the ready workers with room, the least loaded first. A worker holding calls
   * is topped up only once it is down to half its capacity, so calls travel to it in batches.
   */
  private handOut(): void {
    const open = [...this.slots].filter(slot => slot.state === 'ready' && slot.tasks.length <= capacity(slot) / 2);
    while (this.retries.length > 0 || this.waiting.size > 0) {
      let best: Slot | null = null;
      for (const slot of open) {
        if (slot.tasks.length >= capacity(slot)) continue;
        if (!best || slot.tasks.length < best.tasks.length) best = slot;
      }
      if (!best) return;
      const waiter = this.retries.shift() ?? this.waiting.shift()!;
      best.tasks.push(waiter.taskId);
      waiter.resolve(best);
    }
  }

  private unavailable(): TaskOutcome {
    const message = this.closing
      ? 'the executor was shut down before a worker of its block allocation was free'
      : `no worker is left in the block allocation: every worker ended and restart_limit=${this.options.restartLimit} ` +
        `allows no more restarts (the last one: ${this.lastLoss})`;
    return { ok: false, runtime: 0, failure: { error_type: 'ExecutorlabWorkerError', error_message: message, traceback: message }, exception: null };
  }
}

export interface ProcessLauncherOptions {
  hub: WorkerHub;
  launcher: WorkerLauncher;
  pythonpath: string[];
  bridgeFile: string;
  /** The executor's resources: every worker gets them. */
  resources: Resources;
  gpus: GpuPool;
}

/** Workers started by a launcher (a process, mpiexec, srun or flux run), with the executor's resources. */
export function processLauncher(o: ProcessLauncherOptions): LaunchWorker {
  const { resources, launcher } = o;
  return async index => {
    // Where the batch system places GPUs, the bridge's pool of this machine's GPUs is not involved.
    const need = launcher.placesGpus ? 0 : resources.cores * resources.gpus_per_core;
    if (need > o.gpus.available) {
      throw new WorkerStartError(
        `worker ${index} needs ${need} GPUs (cores × gpus_per_core) but ${o.gpus.available} of this machine's ${o.gpus.total} are free`
      );
    }
    const gpus = o.gpus.take(need);
    const workerId = newWorkerId();
    try {
      const worker = await WorkerProcess.start(o.hub, {
        command: launcher.command({ resources, workerId, workerIndex: index }),
        workerId,
        journal: journalPath(o.bridgeFile, workerId),
        cwd: resources.cwd,
        env: { ...launcher.env, ...workerPythonPath(o.pythonpath), ...taskEnvironment(resources.requested, gpus) },
        viaLauncher: launcher.viaLauncher(resources)
      });
      void worker.exited.then(() => o.gpus.give(gpus));
      return worker;
    } catch (error) {
      o.gpus.give(gpus);
      throw error;
    }
  };
}
