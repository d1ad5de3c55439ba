// Resource usage over time for the usage view: cores and GPUs busy against the total, calls waiting and
// running, and each worker's CPU share and memory (from its heartbeats). Sampled once per second, and only
// while someone looks: a subscriber of the events socket, or a recent GET /api/usage.
import type { ExecutorView, Scheduler } from '../scheduler/scheduler.js';
import { mergeResources } from '../scheduler/task.js';

/** One point of the usage history (`GET /api/usage` `samples`, the `usage` event's `sample`). */
export interface UsageSample {
  /** Epoch ms. */
  t: number;
  cores_busy: number;
  cores_total: number;
  gpus_busy: number;
  gpus_total: number;
  /** Calls submitted and not handed to a worker yet (waiting for dependencies or for room). */
  queued: number;
  running: number;
}

/** A connected worker as the usage view shows it. */
export interface WorkerUsageView {
  worker_id: string;
  /** null until the bridge knows (a warm worker that has not run a call yet). */
  executor_id: string | null;
  host: string;
  pid: number;
  /** MPI ranks it runs (it reports rank 0's own numbers). */
  ranks: number;
  /** Share of one CPU between its last two heartbeats (100 = one core busy); null before the second. */
  cpu_percent: number | null;
  /** Resident memory in bytes; null before its first heartbeat. */
  rss: number | null;
  /** When its last heartbeat arrived (epoch ms); null before the first. */
  updated: number | null;
}

export interface UsageEvent {
  type: 'usage';
  sample: UsageSample;
  workers: WorkerUsageView[];
}

export interface UsageHistory {
  interval_ms: number;
  samples: UsageSample[];
  workers: WorkerUsageView[];
}

/** A fixed-size history: pushing beyond the capacity drops the oldest item. */
export class RingBuffer<T> {
  private readonly items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`a ring buffer holds at least 1 item, not ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  push(item: T): void {
    if (this.items.length < this.capacity) {
      this.items.push(item);
      return;
    }
    this.items[this.head] = item;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Oldest first. */
  toArray(): T[] {
    return this.head === 0 ? [...this.items] : [...this.items.slice(this.head), ...this.items.slice(0, this.head)];
  }

  last(): T | undefined {
    if (this.items.length === 0) return undefined;
    return this.items[(this.head + this.items.length - 1) % this.items.length];
  }
}

/**
 * CPU share between two heartbeats, in percent of one core (a process with 2 busy threads shows 200):
 * the CPU seconds it used over the wall time between them (`at`, ms). null when that cannot be told
 * (no time passed, or the counter went back: another process).
 */
export function cpuPercent(
  before: { cpuSeconds: number; at: number },
  after: { cpuSeconds: number; at: number }
): number | null {
  const elapsed = (after.at - before.at) / 1000;
  const used = after.cpuSeconds - before.cpuSeconds;
  if (!(elapsed > 0) || used < 0) return null;
  return Math.round((used / elapsed) * 1000) / 10;
}

/** What a usage sample needs of one executor. */
export interface ExecutorLoad {
  backend: string;
  block_allocation: boolean;
  max_cores: number | null;
  max_workers: number | null;
  cores_in_use: number;
  running: number;
  unfinished: number;
  shutdown: boolean;
  /** cores × threads_per_core of the executor's resource_dict: what one warm worker holds. */
  cores_per_worker: number;
}

/** Backends whose calls run as batch jobs: they use none of the bridge's cores. */
const BATCH_BACKENDS = new Set(['slurm-cluster', 'flux-cluster']);

/**
 * One sample from the executors' counts.
 * - running: calls handed to a worker; with block allocation at most one per worker (calls given ahead
 *   to a warm worker count as queued).
 * - queued: the other unfinished calls (waiting for dependencies, queued, given ahead).
 * - cores_busy: cores × threads_per_core of the running calls (not of batch jobs, which run elsewhere).
 * - cores_total: the sum of the executors' limits (max_cores, or max_workers × a worker's cores with block
 *   allocation) when every executor that still holds or may run calls has one, else the CPUs where the
 *   bridge runs (`cpus`).
 * - GPUs: the bridge's pool (`gpus_total`, `gpus_free`); warm workers hold theirs while they live.
 */
export function usageSample(
  executors: ExecutorLoad[],
  machine: { cpus: number; gpusTotal: number; gpusFree: number }
): Omit<UsageSample, 't'> {
  let coresBusy = 0;
  let running = 0;
  let queued = 0;
  let limits = 0;
  let unlimited = false;
  let counted = 0;
  for (const e of executors) {
    const batch = BATCH_BACKENDS.has(e.backend);
    const workers = e.block_allocation ? Math.min(e.running, e.max_workers ?? e.running) : e.running;
    running += workers;
    queued += Math.max(0, e.unfinished - workers);
    if (batch) continue;
    coresBusy += e.block_allocation ? workers * e.cores_per_worker : e.cores_in_use;
    if (e.shutdown && e.unfinished === 0) continue;
    counted += 1;
    const limit = e.block_allocation && e.max_workers !== null ? e.max_workers * e.cores_per_worker : e.max_cores;
    if (limit === null) unlimited = true;
    else limits += limit;
  }
  return {
    cores_busy: coresBusy,
    cores_total: counted > 0 && !unlimited ? limits : machine.cpus,
    gpus_busy: Math.max(0, machine.gpusTotal - machine.gpusFree),
    gpus_total: machine.gpusTotal,
    queued,
    running
  };
}

/** The scheduler's executors as usage samples need them. */
export function executorLoads(scheduler: Scheduler): ExecutorLoad[] {
  return scheduler.executorViews().map((view: ExecutorView) => {
    const dict = scheduler.executor(view.id)?.options.resource_dict ?? {};
    const resources = mergeResources(dict, {});
    return { ...view, cores_per_worker: resources.cores * resources.threads_per_core };
  });
}

export interface UsageMonitorOptions {
  /** The current counts (without `t`). */
  sample(): Omit<UsageSample, 't'>;
  workers(): WorkerUsageView[];
  /** How many listen on the events socket. */
  listeners(): number;
  /** Send a `usage` event to the events socket's listeners. */
  publish(event: UsageEvent): void;
  /** Between two samples; 1000 by default. */
  intervalMs?: number;
  /** How much history is kept; 10 minutes by default. */
  historyMs?: number;
  /** Sampling goes on this long after the last GET /api/usage (a view that polls); 15 s by default. */
  requestedWithinMs?: number;
  now?: () => number;
  timers?: { setInterval(fn: () => void, ms: number): unknown; clearInterval(handle: unknown): void };
}

/** Samples once per interval while anyone listens; keeps the history for views that open later. */
export class UsageMonitor {
  private readonly samples: RingBuffer<UsageSample>;
  private readonly intervalMs: number;
  private readonly requestedWithinMs: number;
  private readonly now: () => number;
  private readonly timers: NonNullable<UsageMonitorOptions['timers']>;
  private timer: unknown = null;
  private requestedAt = -Infinity;

  constructor(private readonly options: UsageMonitorOptions) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.samples = new RingBuffer(Math.max(1, Math.round((options.historyMs ?? 600_000) / this.intervalMs)));
    this.requestedWithinMs = options.requestedWithinMs ?? 15_000;
    this.now = options.now ?? Date.now;
    this.timers = options.timers ?? {
      setInterval: (fn, ms) => {
        const handle = setInterval(fn, ms);
        handle.unref();
        return handle;
      },
      clearInterval: handle => clearInterval(handle as NodeJS.Timeout)
    };
  }

  /** Whether it samples now. */
  get sampling(): boolean {
    return this.timer !== null;
  }

  /** Someone started listening (a subscriber joined): sample from now on. */
  wake(): void {
    if (this.timer === null && this.wanted()) this.timer = this.timers.setInterval(this.tick, this.intervalMs);
  }

  /**
   * `GET /api/usage[?since=T]`: the history, or its samples after T (a view that polls), taking a sample
   * when the last one is old; sampling goes on for a while after.
   */
  history(since?: number): UsageHistory {
    this.requestedAt = this.now();
    const last = this.samples.last();
    if (!last || this.now() - last.t >= this.intervalMs) this.take();
    this.wake();
    let samples = this.samples.toArray();
    if (since !== undefined) samples = samples.filter(sample => sample.t > since);
    return { interval_ms: this.intervalMs, samples, workers: this.options.workers() };
  }

  close(): void {
    if (this.timer !== null) this.timers.clearInterval(this.timer);
    this.timer = null;
  }

  private wanted(): boolean {
    return this.options.listeners() > 0 || this.now() - this.requestedAt < this.requestedWithinMs;
  }

  private take(): UsageSample {
    const sample: UsageSample = { t: this.now(), ...this.options.sample() };
    this.samples.push(sample);
    return sample;
  }

  private readonly tick = (): void => {
    if (!this.wanted()) {
      this.close();
      return;
    }
    const sample = this.take();
    if (this.options.listeners() > 0) this.options.publish({ type: 'usage', sample, workers: this.options.workers() });
  };
}
