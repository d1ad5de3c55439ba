// FluxJobExecutor: every call (or block-allocation worker) is a `flux run` job of the flux instance the
// kernel (FLUX_URI, e.g. the "Python 3 (flux)" kernel) or the bridge runs in.
import { fluxRunCommand } from './commands.js';
import { fluxInstanceProblem } from '../cluster/flux-queue.js';
import { launcherTimeLimit, type WorkerLauncher, type WorkerSpec } from './launcher.js';
import { workerPythonPath, type WorkerSetup } from './local.js';
import type { ResourceDict } from '../protocol/messages.js';
import { findOnPath } from '../resources/host.js';
import { pyRepr } from '../resources/validate.js';
import { hostname } from 'node:os';

export interface FluxSetup extends WorkerSetup {
  pmiMode: string | null;
  nesting: boolean;
  /** The kernel's FLUX_URI, if it has one. */
  schedulerEnv: Record<string, string>;
}

/** The flux instance jobs go to: the kernel's, else the bridge's; null outside any. */
export function fluxUri(kernelEnv: Record<string, string>, bridgeEnv: NodeJS.ProcessEnv): string | null {
  return kernelEnv.FLUX_URI || bridgeEnv.FLUX_URI || null;
}

export class FluxLauncher implements WorkerLauncher {
  readonly kind = 'flux';
  readonly placesGpus = true;
  readonly env: Record<string, string>;
  readonly uri: string | null;

  constructor(private readonly setup: FluxSetup) {
    this.uri = fluxUri(setup.schedulerEnv, process.env);
    this.env = this.uri ? { FLUX_URI: this.uri } : {};
  }

  command({ resources, workerId, workerIndex }: WorkerSpec): string[] {
    const { python, bridgeFile, pmiMode, nesting } = this.setup;
    const dict = resources.requested;
    return fluxRunCommand({
      python,
      bridgeFile,
      workerId,
      ...(workerIndex !== undefined ? { workerIndex } : {}),
      cores: resources.cores,
      openmpiOversubscribe: false,
      threadsPerCore: resources.threads_per_core,
      gpusPerCore: resources.gpus_per_core,
      cwd: resources.cwd,
      numNodes: dict.num_nodes ?? null,
      exclusive: dict.exclusive ?? false,
      pmiMode,
      runTimeMax: launcherTimeLimit(resources.run_time_max),
      priority: dict.priority ?? null,
      nesting
    });
  }

  viaLauncher(): boolean {
    return true;
  }

  async resourceProblems(merged: ResourceDict): Promise<string[]> {
    const { executorName, python, pythonpath, host } = this.setup;
    const where = `the executorlab bridge (pid ${process.pid} on ${hostname()})`;
    const noInstance = fluxInstanceProblem(this.uri, executorName);
    if (noInstance) return [noInstance];
    if (!findOnPath('flux', process.env.PATH)) {
      return [`${executorName} starts calls with \`flux run\`, but flux is not on the PATH of ${where}`];
    }
    const problems = fluxResourceProblems(merged, executorName);
    if ((merged.cores ?? 1) > 1) {
      const mpi4py = await host.mpi4pyProblem(python, workerPythonPath(pythonpath));
      if (mpi4py) problems.push(`resource_dict['cores']=${merged.cores} runs the function under MPI, which needs mpi4py in ${python}; importing it failed: ${mpi4py}`);
    }
    return problems;
  }
}

/** What a flux job cannot do with the dict (executorlib refuses the same keys). */
export function fluxResourceProblems(dict: ResourceDict, executorName: string): string[] {
  const problems: string[] = [];
  if (dict.slurm_cmd_args && dict.slurm_cmd_args.length > 0) {
    problems.push(`resource_dict['slurm_cmd_args']=${pyRepr(dict.slurm_cmd_args)} is for srun; ${executorName} starts calls with flux run`);
  }
  if (dict.openmpi_oversubscribe) {
    problems.push(`resource_dict['openmpi_oversubscribe']=True is not supported by flux; ${executorName} cannot oversubscribe cores`);
  }
  if (dict.submission_template != null || dict.memory_max != null || dict.partition != null) {
    problems.push(`submission_template, memory_max and partition are only honoured by SlurmClusterExecutor and FluxClusterExecutor`);
  }
  return problems;
}
