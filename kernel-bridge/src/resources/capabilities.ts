// Whether a backend can honour a (schema-valid) resource_dict. A key the backend would silently ignore
// or fail on later is refused at submit() instead, naming the key and what it would need.
import { statSync } from 'node:fs';
import type { GpuFacts, HostProbe } from './host.js';
import { pyRepr } from './validate.js';
import type { ResourceDict } from './schema.js';

/** Executor defaults overlaid by the call's own keys; null entries mean "not set" and hide nothing. */
export function mergeResourceDicts(executorDefaults: ResourceDict, perTask: ResourceDict): ResourceDict {
  const set = (dict: ResourceDict) => Object.entries(dict).filter(([, v]) => v !== null && v !== undefined);
  return Object.fromEntries([...set(executorDefaults), ...set(perTask)]) as ResourceDict;
}

export function isEmptyResourceDict(dict: ResourceDict): boolean {
  return Object.values(dict).every(v => v === null || v === undefined);
}

export interface LocalFacts {
  gpus: GpuFacts;
  /** Path of mpiexec, or null when it is not on PATH. */
  mpiexec: string | null;
  /** Why the executor's Python cannot import mpi4py, null when it can, undefined when not checked. */
  mpi4py?: string | null;
  python: string;
  /** The executor's class name, as the user wrote it. */
  executorName: string;
}

const CLUSTER_ONLY = 'is only honoured by the SLURM/flux executors (SlurmJobExecutor, FluxJobExecutor, SlurmClusterExecutor, FluxClusterExecutor)';

/** What a process on this machine (SingleNodeExecutor) cannot do with this dict; empty when it can. */
export function localResourceProblems(dict: ResourceDict, facts: LocalFacts): string[] {
  const problems: string[] = [];
  const here = `${facts.executorName} runs every call as a process on this machine`;
  const key = (name: keyof ResourceDict) => `resource_dict['${name}']=${pyRepr(dict[name])}`;
  if ((dict.num_nodes ?? 1) > 1) problems.push(`${key('num_nodes')} ${CLUSTER_ONLY}; ${here}, on one node`);
  if (dict.exclusive) problems.push(`${key('exclusive')} ${CLUSTER_ONLY}; ${here}`);
  if (dict.slurm_cmd_args && dict.slurm_cmd_args.length > 0) problems.push(`${key('slurm_cmd_args')} ${CLUSTER_ONLY}; ${here}, without srun`);
  if (dict.submission_template != null) problems.push(`resource_dict['submission_template'] ${CLUSTER_ONLY}; ${here}, without a job script`);
  if (dict.priority != null) problems.push(`${key('priority')} ${CLUSTER_ONLY}; ${here}, in submission order`);
  if (dict.memory_max != null || dict.partition != null) {
    problems.push(`memory_max and partition are only honoured by SlurmClusterExecutor and FluxClusterExecutor; ${here}, without a job`);
  }
  if (dict.cwd != null) {
    const problem = directoryProblem(dict.cwd);
    if (problem) problems.push(`${key('cwd')} ${problem}; the worker's working directory must exist`);
  }
  const cores = dict.cores ?? 1;
  const gpus = cores * (dict.gpus_per_core ?? 0);
  if (gpus > facts.gpus.devices.length) {
    problems.push(
      `${key('gpus_per_core')} asks for ${gpus} GPU${gpus === 1 ? '' : 's'} per call (cores × gpus_per_core) ` +
        `but this machine has ${facts.gpus.devices.length} (${facts.gpus.source})`
    );
  }
  if (cores > 1) {
    const mpi = 'so the function runs under MPI, which needs';
    if (!facts.mpiexec) {
      problems.push(`${key('cores')} ${mpi} mpiexec on PATH (Debian package openmpi-bin); it was not found`);
    } else if (facts.mpi4py) {
      problems.push(`${key('cores')} ${mpi} mpi4py in ${facts.python} (Debian package python3-mpi4py); importing it failed: ${facts.mpi4py}`);
    }
  }
  return problems;
}

function directoryProblem(path: string): string | null {
  try {
    return statSync(path).isDirectory() ? null : 'is not a directory';
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'does not exist' : `cannot be used (${code ?? (error as Error).message})`;
  }
}

/** Keys of a resource_dict that say where a call's result is cached, not what it runs on. */
const NOT_RESOURCES = new Set(['cache_key', 'cache_directory']);

/**
 * Block allocation: the workers are started once with the executor's resources, so a call has none
 * (executorlib refuses any per-call dict; a call's own cache_key or cache_directory is allowed here).
 */
export function blockAllocationProblems(perTask: ResourceDict | undefined, executorName: string): string[] {
  if (perTask === undefined) return [];
  const resources = Object.fromEntries(Object.entries(perTask).filter(([key]) => !NOT_RESOURCES.has(key)));
  if (isEmptyResourceDict(resources as ResourceDict)) return [];
  return [
    `resource_dict=${pyRepr(resources)} was given to submit(), but with block_allocation=True the workers are started ` +
      `once with fixed resources, so the resource requirements have to be defined on the executor level: ` +
      `${executorName}(resource_dict=..., block_allocation=True)`
  ];
}

/** localResourceProblems with the facts gathered: mpi4py is probed (once per Python) only for cores > 1. */
export async function checkLocalResources(
  dict: ResourceDict,
  host: HostProbe,
  worker: { python: string; env: Record<string, string>; executorName: string }
): Promise<string[]> {
  const mpiexec = host.mpiexec();
  const mpi4py = (dict.cores ?? 1) > 1 && mpiexec ? await host.mpi4pyProblem(worker.python, worker.env) : undefined;
  return localResourceProblems(dict, { gpus: host.gpus, mpiexec, mpi4py, python: worker.python, executorName: worker.executorName });
}

/** Block allocation: every worker holds cores × gpus_per_core GPUs for its lifetime. */
export function blockGpuProblem(dict: ResourceDict, workers: number, gpusOnMachine: number): string | null {
  const perWorker = (dict.cores ?? 1) * (dict.gpus_per_core ?? 0);
  if (perWorker * workers <= gpusOnMachine) return null;
  return (
    `max_workers=${workers} workers with resource_dict['gpus_per_core']=${dict.gpus_per_core} and cores=${dict.cores ?? 1} ` +
    `need ${perWorker * workers} GPUs; this machine has ${gpusOnMachine}`
  );
}
