// SlurmJobExecutor: every call (or block-allocation worker) is an srun step of the allocation the kernel
// or the bridge runs in; `--exact` lets steps share the allocation's CPUs.
import { slurmStepCommand } from './commands.js';
import { launcherTimeLimit, type WorkerLauncher, type WorkerSpec } from './launcher.js';
import { workerPythonPath, type WorkerSetup } from './local.js';
import type { ResourceDict } from '../protocol/messages.js';
import { findOnPath } from '../resources/host.js';
import { slurmAllocation, type SlurmAllocation } from '../resources/slurm.js';
import { pyRepr } from '../resources/validate.js';
import { statSync } from 'node:fs';
import { hostname } from 'node:os';

/** Debian's OpenMPI has no PMI-1/2 support under srun; PMIx is what works there (and on most clusters). */
export const DEFAULT_SLURM_PMI = 'pmix';

export interface SlurmSetup extends WorkerSetup {
  /** The executor's pmi_mode; null: pmix. */
  pmiMode: string | null;
  /** The kernel's SLURM_* variables: its allocation is used when it has one, else the bridge's. */
  schedulerEnv: Record<string, string>;
}

/** The SLURM_* variables steps are started with: the kernel's allocation first, else the bridge's. */
export function slurmEnvironment(kernelEnv: Record<string, string>, bridgeEnv: NodeJS.ProcessEnv): Record<string, string> {
  const own = (env: Record<string, string | undefined>) =>
    Object.fromEntries(Object.entries(env).filter(([name, value]) => name.startsWith('SLURM_') && value !== undefined)) as Record<
      string,
      string
    >;
  const kernel = own(kernelEnv);
  return kernel.SLURM_JOB_ID || kernel.SLURM_JOBID ? kernel : own(bridgeEnv);
}

/** The slurm.conf SLURM clients use for the kernel's jobs: the kernel's SLURM_CONF, else the bridge's; null: SLURM's default. */
export function slurmConf(kernelEnv: Record<string, string>, bridgeEnv: NodeJS.ProcessEnv): string | null {
  return kernelEnv.SLURM_CONF || bridgeEnv.SLURM_CONF || null;
}

export class SlurmLauncher implements WorkerLauncher {
  readonly kind = 'slurm';
  readonly placesGpus = true;
  readonly env: Record<string, string>;
  readonly allocation: SlurmAllocation | null;

  constructor(private readonly setup: SlurmSetup) {
    this.env = slurmEnvironment(setup.schedulerEnv, process.env);
    this.allocation = slurmAllocation(this.env);
  }

  command({ resources, workerId, workerIndex }: WorkerSpec): string[] {
    const { python, bridgeFile, openmpiOversubscribe, pmiMode } = this.setup;
    const dict = resources.requested;
    return slurmStepCommand({
      python,
      bridgeFile,
      workerId,
      ...(workerIndex !== undefined ? { workerIndex } : {}),
      cores: resources.cores,
      threadsPerCore: resources.threads_per_core,
      gpusPerCore: resources.gpus_per_core,
      cwd: resources.cwd,
      numNodes: dict.num_nodes ?? null,
      exclusive: dict.exclusive ?? false,
      pmiMode: pmiMode ?? DEFAULT_SLURM_PMI,
      runTimeMax: launcherTimeLimit(resources.run_time_max),
      openmpiOversubscribe: resources.openmpi_oversubscribe ?? openmpiOversubscribe,
      slurmCmdArgs: dict.slurm_cmd_args ?? []
    });
  }

  viaLauncher(): boolean {
    return true;
  }

  /** Problems of the executor itself (no allocation, no srun), then of the dict against the allocation. */
  async resourceProblems(merged: ResourceDict): Promise<string[]> {
    const { executorName, python, pythonpath, host } = this.setup;
    const where = `the executorlab bridge (pid ${process.pid} on ${hostname()})`;
    if (!this.allocation) {
      return [
        `${executorName} runs every call as an srun step inside a SLURM allocation, but neither the kernel nor ${where} ` +
          `runs inside one (SLURM_JOB_ID is not set). Get an allocation first, e.g. \`salloc -N 1 -n 8\` and start ` +
          `JupyterLab (or your script) in it, or use SlurmClusterExecutor, which submits one job per call from outside an allocation`
      ];
    }
    if (!findOnPath('srun', process.env.PATH)) {
      return [`${executorName} starts calls with srun, which is not on the PATH of ${where} (Debian package slurm-client)`];
    }
    return slurmResourceProblems(merged, {
      allocation: this.allocation,
      executorName,
      mpi4py: (merged.cores ?? 1) > 1 ? await host.mpi4pyProblem(python, workerPythonPath(pythonpath)) : null,
      python
    });
  }
}

export interface SlurmFacts {
  allocation: SlurmAllocation;
  executorName: string;
  /** Why the Python cannot import mpi4py; null when it can or was not asked. */
  mpi4py: string | null;
  python: string;
}

/** What an srun step of this allocation cannot do with the dict; empty when it can. */
export function slurmResourceProblems(dict: ResourceDict, facts: SlurmFacts): string[] {
  const problems: string[] = [];
  const { allocation } = facts;
  const key = (name: keyof ResourceDict) => `resource_dict['${name}']=${pyRepr(dict[name])}`;
  const job = `SLURM job ${allocation.jobId} (${allocation.nodes} node${allocation.nodes === 1 ? '' : 's'}, ${allocation.cpus} CPUs)`;
  const cpus = (dict.cores ?? 1) * (dict.threads_per_core ?? 1);
  if (cpus > allocation.cpus) {
    problems.push(`cores × threads_per_core = ${cpus} CPUs per call, but the allocation, ${job}, has ${allocation.cpus}`);
  }
  if ((dict.num_nodes ?? 1) > allocation.nodes) problems.push(`${key('num_nodes')}, but the allocation, ${job}, has ${allocation.nodes}`);
  if (dict.submission_template != null) {
    problems.push(`resource_dict['submission_template'] is only honoured by SlurmClusterExecutor and FluxClusterExecutor; ${facts.executorName} starts srun steps, not jobs`);
  }
  if (dict.priority != null) problems.push(`${key('priority')} is only honoured by the flux executors; srun steps run in submission order`);
  if (dict.memory_max != null || dict.partition != null) {
    problems.push(`memory_max and partition are only honoured by SlurmClusterExecutor and FluxClusterExecutor; srun steps share the allocation's`);
  }
  if (dict.cwd != null) {
    try {
      if (!statSync(dict.cwd).isDirectory()) problems.push(`${key('cwd')} is not a directory`);
    } catch {
      problems.push(`${key('cwd')} does not exist; the worker's working directory must exist`);
    }
  }
  if ((dict.cores ?? 1) > 1 && facts.mpi4py) {
    problems.push(`${key('cores')} runs the function under MPI, which needs mpi4py in ${facts.python} (Debian package python3-mpi4py); importing it failed: ${facts.mpi4py}`);
  }
  return problems;
}
