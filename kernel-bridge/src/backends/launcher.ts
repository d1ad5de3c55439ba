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
