// Workers as processes on this machine: `python -m executorlab.worker`, under mpiexec for cores > 1.
import { localWorkerCommand } from './commands.js';
import type { WorkerLauncher, WorkerSpec } from './launcher.js';
import type { ResourceDict } from '../protocol/messages.js';
import { checkLocalResources } from '../resources/capabilities.js';
import type { HostProbe } from '../resources/host.js';
import type { Resources } from '../scheduler/task.js';

/** PYTHONPATH of a worker: the kernel's folders first, so its modules import in the worker. */
export function workerPythonPath(pythonpath: string[]): Record<string, string> {
  const folders = [...pythonpath, ...(process.env.PYTHONPATH ?? '').split(':')].filter(Boolean);
  return { PYTHONPATH: [...new Set(folders)].join(':') };
}

export interface WorkerSetup {
  python: string;
  pythonpath: string[];
  /** The workers' credentials file (--bridge-file). */
  bridgeFile: string;
  /** The executor's openmpi_oversubscribe; a call's resource_dict may override it. */
  openmpiOversubscribe: boolean;
  /** The executor's class name, for messages. */
  executorName: string;
  host: HostProbe;
}

export class LocalLauncher implements WorkerLauncher {
  readonly kind = 'local';
  readonly placesGpus = false;
  readonly env = {};

  constructor(private readonly setup: WorkerSetup) {}

  command({ resources, workerId, workerIndex }: WorkerSpec): string[] {
    const { python, bridgeFile, openmpiOversubscribe } = this.setup;
    return localWorkerCommand({
      python,
      cores: resources.cores,
      openmpiOversubscribe: resources.openmpi_oversubscribe ?? openmpiOversubscribe,
      bridgeFile,
      workerId,
      ...(workerIndex !== undefined ? { workerIndex } : {})
    });
  }

  viaLauncher(resources: Resources): boolean {
    return resources.cores > 1;
  }

  resourceProblems(merged: ResourceDict): Promise<string[]> {
    const { python, pythonpath, executorName, host } = this.setup;
    return checkLocalResources(merged, host, { python, env: workerPythonPath(pythonpath), executorName });
  }
}
