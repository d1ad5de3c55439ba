// How a worker is started for a call's (or a pool's) resources: as a process or under mpiexec on this
// machine, as an srun step of a SLURM allocation, or with flux run in a flux instance. The backend that
// starts a worker per call and the block allocation share it.
import type { ResourceDict } from '../protocol/messages.js';
import type { Resources } from '../scheduler/task.js';

export interface WorkerSpec {
  resources: Resources;
  workerId: string;
  /** Block allocation: the worker's place in the pool (executorlib_worker_id). */
  workerIndex?: number;
}

export interface WorkerLauncher {
  readonly kind: 'local' | 'slurm' | 'flux';
  /** The batch system places GPUs (srun --gpus-per-task, flux -g): the bridge hands out none. */
  readonly placesGpus: boolean;
  /** Added to the launcher's environment, e.g. the kernel's allocation (SLURM_JOB_ID, FLUX_URI). */
  readonly env: Record<string, string>;
  command(spec: WorkerSpec): string[];
  /** A launcher process (mpiexec, srun, flux) stands between the bridge and the ranks. */
  viaLauncher(resources: Resources): boolean;
  /** Why a call with this (merged, schema-valid) resource_dict cannot run here; empty when it can. */
  resourceProblems(merged: ResourceDict): Promise<string[]>;
}

/**
 * The time limit a launcher (srun --time, flux run -t) is given for a call with run_time_max: a grace
 * longer than the bridge's own. The bridge enforces run_time_max itself, from the moment the call started,
 * and reports TimeoutError; a launcher counts from before the worker's start-up and would otherwise kill it
 * first, which reads as a worker that died. The launcher's limit stays as a backstop should the bridge go.
 */
export const LAUNCHER_TIME_GRACE_S = 60;

export function launcherTimeLimit(runTimeMax: number | null): number | null {
  return runTimeMax === null ? null : runTimeMax + LAUNCHER_TIME_GRACE_S;
}
