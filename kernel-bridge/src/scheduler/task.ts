import type { CacheInputs, CacheRef } from '../cache/store.js';
import type { Failure, ResourceDict, TaskState } from '../protocol/messages.js';
import { mergeResourceDicts } from '../resources/capabilities.js';

/** Resources a task runs with once executor defaults are merged in. */
export interface Resources {
  cores: number;
  threads_per_core: number;
  gpus_per_core: number;
  cwd: string | null;
  /** Seconds after which the call is killed; null: no limit. */
  run_time_max: number | null;
  /** The call's own choice; null: the executor's. */
  openmpi_oversubscribe: boolean | null;
  /** The merged resource_dict as given, without null entries (what the environment is built from). */
  requested: ResourceDict;
}

export interface Task {
  readonly id: string;
  readonly executorId: string;
  readonly clientId: string;
  readonly fnName: string;
  readonly resources: Resources;
  /** GPUs (CUDA_VISIBLE_DEVICES tokens) the task holds while it runs. */
  gpus: string[];
  /** The cloudpickled function and (args, kwargs): opaque to the bridge. */
  readonly blobs: Buffer[];
  /** Tasks whose results this one's arguments refer to. */
  readonly dependencies: string[];
  /** Dependencies the task does not wait for: their batch jobs and its job are ordered by the batch system. */
  early?: Set<string>;
  /** Dependencies not finished yet; the task waits while this is non-zero. */
  pendingDependencies: number;
  /** What the function printed, the last OUTPUT_LIMIT characters of it. */
  output: string;
  /** Its client went away; the record stays for the panel. */
  orphaned: boolean;
  state: TaskState;
  submittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  runtime: number | null;
  failure: Failure | null;
  /** Where its result is cached, and the pickles its cache file keeps besides the result. */
  cache?: { ref: CacheRef; inputs: CacheInputs };
  /** It finished from its cache file: nothing ran. */
  cacheHit?: boolean;
  /** A short text of its arguments, made by the kernel. */
  args?: string | null;
  /** Where it ran: the worker's host and pid, or the batch job. */
  where?: string | null;
  /** What it returned, briefly (the worker's text; never unpickled). */
  result?: string | null;
}

/** What the panel sees of a task: plain JSON, no blobs. */
export interface TaskView {
  id: string;
  executor_id: string;
  executor_name: string;
  fn_name: string;
  state: TaskState;
  submitted_at: number;
  started_at: number | null;
  finished_at: number | null;
  runtime: number | null;
  resources: { cores: number; threads_per_core: number; gpus_per_core: number };
  error_type: string | null;
  client_id: string;
  dependencies: string[];
  orphaned: boolean;
  cache_key: string | null;
  /** Where its result is (or will be) cached. */
  cache_file: string | null;
  cache_hit: boolean;
  args: string | null;
  where: string | null;
  result: string | null;
}

/** How much of a task's stdout/stderr the bridge keeps for the panel. */
export const OUTPUT_LIMIT = 64 * 1024;

export function appendOutput(task: Task, text: string): void {
  task.output = (task.output + text).slice(-OUTPUT_LIMIT);
}

export function mergeResources(executorDefaults: ResourceDict, perTask: ResourceDict): Resources {
  const merged = mergeResourceDicts(executorDefaults, perTask);
  return {
    cores: merged.cores ?? 1,
    threads_per_core: merged.threads_per_core ?? 1,
    gpus_per_core: merged.gpus_per_core ?? 0,
    cwd: merged.cwd ?? null,
    run_time_max: merged.run_time_max ?? null,
    openmpi_oversubscribe: merged.openmpi_oversubscribe ?? null,
    requested: merged
  };
}

export function isFinal(state: TaskState): boolean {
  return state === 'done' || state === 'error' || state === 'cancelled';
}

export function coresOf(task: Task): number {
  return task.resources.cores * task.resources.threads_per_core;
}

export function gpusOf(task: Task): number {
  return task.resources.cores * task.resources.gpus_per_core;
}
