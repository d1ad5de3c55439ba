import type { Failure, ResourceDict } from '../protocol/messages.js';
import type { Task } from '../scheduler/task.js';

export type TaskOutcome =
  /** `summary`: a short repr of the result, when the task asked for one (cached calls); `brief`: its type and size. */
  | { ok: true; runtime: number; result: Buffer; summary?: string; brief?: string }
  | { ok: false; runtime: number; failure: Failure; exception: Buffer | null };

export interface RunHooks {
  /** The worker has the task: the function is running; `where` says on what (a host and pid, a job). */
  started(where?: string): void;
  stream(name: 'stdout' | 'stderr', text: string): void;
}

/** Where an executor's tasks run: this machine, an allocation, or a scheduler job per call. */
export interface Backend {
  readonly kind: string;
  /** Its workers hold their GPUs for their lifetime (block allocation): the scheduler hands none out per task. */
  readonly holdsGpus?: boolean;
  /**
   * Why this backend cannot honour `merged` (executor defaults overlaid by the call's keys, schema-valid);
   * empty when it can. `perTask` is the call's own dict, undefined when checking the executor's defaults.
   */
  resourceProblems?(merged: ResourceDict, perTask?: ResourceDict): Promise<string[]>;
  /**
   * Calls run as batch jobs: the batch system enforces run_time_max, the job writes the cache file, and
   * jobs go on when the kernel goes (they are not cancelled when their client leaves or the bridge stops).
   */
  readonly batchJobs?: boolean;
  /** Batch jobs: resolves once each of these calls has its job (or finished), so the kernel may leave. */
  submitted?(taskIds: string[]): Promise<void>;
  /** A call may start before `dependency`'s call finished: the batch system orders them (afterok). */
  startsBefore?(dependency: Backend): boolean;
  /** Run the task; `inputs` are its function and (args, kwargs) blobs, then its dependencies' results. */
  run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome>;
  /** Kill the task if it runs here, or drop it if it waits here for a worker (its run() then resolves
   *  with a failure); false if the backend does not have it. */
  cancel(taskId: string): boolean;
  /** How many calls it can hold at once (block allocation: its workers, with the calls given ahead). */
  capacity?(): number;
  /** Block allocation only: grow or shrink the pool of warm workers. */
  resize?(maxWorkers: number): Promise<void>;
  /** Stop every worker this backend started; running tasks end with an error. */
  shutdown(): Promise<void>;
}
