// Block allocation (executorlib's BlockAllocationTaskScheduler): max_workers warm workers, started once
// with the executor's resources and reused for every call. Each runs the init_function first; a worker
// that dies is restarted up to restart_limit times, after that the pool goes on without it.
import type { Backend, RunHooks, TaskOutcome } from './backend.js';
import { localWorkerCommand } from './commands.js';
import { workerPythonPath } from './local.js';
import type { Failure, ResourceDict } from '../protocol/messages.js';
import { blockAllocationProblems } from '../resources/capabilities.js';
import { taskEnvironment } from '../resources/environment.js';
import type { GpuPool } from '../resources/gpu-pool.js';
import type { Resources, Task } from '../scheduler/task.js';
import type { InitOutcome, WorkerHub } from '../workers/hub.js';
import { newWorkerId, WorkerProcess, WorkerStartError } from '../workers/process.js';

/** What the pool needs of a worker: a WorkerProcess in production, a stand-in in unit tests. */
export interface PoolWorker {
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Resolves with a sentence saying how the process ended. */
  readonly exited: Promise<string>;
  init(blob: Buffer): Promise<InitOutcome>;
  run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome>;
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

type SlotState = 'starting' | 'idle' | 'busy' | 'retiring';

/** One place in the pool; its worker process may be replaced, its index (executorlib_worker_id) stays. */
interface Slot {
  readonly index: number;
  state: SlotState;
  worker: PoolWorker | null;
  boot: Promise<void>;
  restarts: number;
  /** The init_function raised in this worker: every call given to it fails with that exception. */
  initFailure: { failure: Failure; exception: Buffer | null } | null;
  taskId: string | null;
  /** Killed by the pool itself (cancel, run_time_max): restarted without counting against restart_limit. */
  killedOnPurpose: boolean;
}

interface Waiter {
  taskId: string;
  resolve(slot: Slot | null): void;
}

const retiring = (slot: Slot): boolean => slot.state === 'retiring';

export class BlockAllocationBackend implements Backend {
  readonly kind = 'block';
  readonly holdsGpus = true;
  private readonly slots = new Set<Slot>();
  /** Calls handed over by the scheduler, waiting for an idle worker, in order. */
  private readonly waiting: Waiter[] = [];
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

  async resourceProblems(merged: ResourceDict, perTask?: ResourceDict): Promise<string[]> {
    if (perTask !== undefined) return blockAllocationProblems(perTask, this.options.executorName);
    return this.options.checkResources(merged);
  }

  async run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    const slot = await this.idleSlot(task.id);
    if (!slot) return this.unavailable();
    if (slot.initFailure) {
      const failure = slot.initFailure;
      this.release(slot);
      hooks.started();
      return { ok: false, runtime: 0, ...failure };
    }
    const worker = slot.worker!;
    slot.taskId = task.id;
    const outcome = await worker.run(task, inputs, hooks);
    // A worker that died meanwhile is onExit's business: restarted or dropped there.
    if (slot.worker === worker && worker.running) {
      slot.taskId = null;
      this.release(slot);
    }
    return outcome;
  }

  cancel(taskId: string): boolean {
    const waiter = this.waiting.findIndex(w => w.taskId === taskId);
    if (waiter >= 0) {
      this.waiting.splice(waiter, 1)[0].resolve(null);
      return true;
    }
    const slot = [...this.slots].find(s => s.taskId === taskId);
    if (!slot?.worker) return false;
    slot.killedOnPurpose = true;
    slot.worker.kill('SIGKILL');
    return true;
  }

  /** Grow by starting workers, shrink by stopping idle ones first and busy ones after their call. */
  async resize(maxWorkers: number): Promise<void> {
    if (this.closing) return;
    const active = [...this.slots].filter(slot => !retiring(slot));
    for (let n = active.length; n < maxWorkers; n++) this.addSlot();
    const order: Record<SlotState, number> = { idle: 0, starting: 1, busy: 2, retiring: 3 };
    const extra = active.sort((a, b) => order[a.state] - order[b.state] || b.index - a.index).slice(0, Math.max(0, active.length - maxWorkers));
    for (const slot of extra) this.retire(slot);
  }

  shutdown(): Promise<void> {
    this.closing ??= this.close();
    return this.closing;
  }

  private async close(): Promise<void> {
    for (const waiter of this.waiting.splice(0)) waiter.resolve(null);
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
      taskId: null,
      killedOnPurpose: false
    };
    this.slots.add(slot);
    slot.boot = this.boot(slot);
  }

  private retire(slot: Slot): void {
    const idle = slot.state === 'idle';
    slot.state = 'retiring';
    // A starting worker is stopped by boot() once it is up, a busy one by release() after its call.
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
    slot.state = 'idle';
    this.handOut();
  }

  /** A worker ended (or could not start): restart it if it may be, else the pool goes on without it. */
  private onExit(slot: Slot, worker: PoolWorker | null, why: string): void {
    if (slot.worker !== worker) return;
    slot.worker = null;
    slot.taskId = null;
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
    if (this.size === 0) for (const waiter of this.waiting.splice(0)) waiter.resolve(null);
  }

  private release(slot: Slot): void {
    if (retiring(slot)) {
      void slot.worker?.stop();
      return;
    }
    slot.state = 'idle';
    this.handOut();
  }

  private idleSlot(taskId: string): Promise<Slot | null> {
    if (this.closing || this.size === 0) return Promise.resolve(null);
    return new Promise(resolve => {
      this.waiting.push({ taskId, resolve });
      this.handOut();
    });
  }

  private handOut(): void {
    while (this.waiting.length > 0) {
      const slot = [...this.slots].find(s => s.state === 'idle');
      if (!slot) return;
      slot.state = 'busy';
      this.waiting.shift()!.resolve(slot);
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
  python: string;
  pythonpath: string[];
  bridgeFile: string;
  openmpiOversubscribe: boolean;
  /** The executor's resources: every worker gets them. */
  resources: Resources;
  gpus: GpuPool;
}

/** Workers as processes on this machine (`python -m executorlab.worker`, under mpiexec for cores > 1). */
export function processLauncher(o: ProcessLauncherOptions): LaunchWorker {
  const { resources } = o;
  return async index => {
    const need = resources.cores * resources.gpus_per_core;
    if (need > o.gpus.available) {
      throw new WorkerStartError(
        `worker ${index} needs ${need} GPUs (cores × gpus_per_core) but ${o.gpus.available} of this machine's ${o.gpus.total} are free`
      );
    }
    const gpus = o.gpus.take(need);
    const workerId = newWorkerId();
    try {
      const worker = await WorkerProcess.start(o.hub, {
        command: localWorkerCommand({
          python: o.python,
          cores: resources.cores,
          openmpiOversubscribe: resources.openmpi_oversubscribe ?? o.openmpiOversubscribe,
          bridgeFile: o.bridgeFile,
          workerId,
          workerIndex: index
        }),
        workerId,
        cwd: resources.cwd,
        env: { ...workerPythonPath(o.pythonpath), ...taskEnvironment(resources.requested, gpus) },
        viaLauncher: resources.cores > 1
      });
      void worker.exited.then(() => o.gpus.give(gpus));
      return worker;
    } catch (error) {
      o.gpus.give(gpus);
      throw error;
    }
  };
}
