// Command lines that start workers; pure so the exact flags are unit tested.

export interface WorkerCommandOptions {
  python: string;
  cores: number;
  openmpiOversubscribe: boolean;
  bridgeFile: string;
  workerId: string;
}

export function workerArgs(o: Pick<WorkerCommandOptions, 'python' | 'bridgeFile' | 'workerId'>): string[] {
  return [o.python, '-m', 'executorlab.worker', '--bridge-file', o.bridgeFile, '--worker-id', o.workerId];
}

/** executorlib's MpiExecSpawner: no launcher for one core, else `mpiexec -n N [--oversubscribe]`. */
export function localWorkerCommand(o: WorkerCommandOptions): string[] {
  if (o.cores === 1) return workerArgs(o);
  return ['mpiexec', '-n', String(o.cores), ...(o.openmpiOversubscribe ? ['--oversubscribe'] : []), ...workerArgs(o)];
}
