// Command lines that start workers; pure so the exact flags are unit tested.
import { journalPath } from '../workers/journal.js';

export interface WorkerCommandOptions {
  python: string;
  cores: number;
  openmpiOversubscribe: boolean;
  bridgeFile: string;
  workerId: string;
  /** Block allocation: the worker's place in the pool, passed to functions as executorlib_worker_id. */
  workerIndex?: number;
}

export function workerArgs(o: Pick<WorkerCommandOptions, 'python' | 'bridgeFile' | 'workerId' | 'workerIndex'>): string[] {
  const index = o.workerIndex === undefined ? [] : ['--worker-index', String(o.workerIndex)];
  const journal = ['--journal', journalPath(o.bridgeFile, o.workerId)];
  return [o.python, '-m', 'executorlab.worker', '--bridge-file', o.bridgeFile, '--worker-id', o.workerId, ...index, ...journal];
}

/** executorlib's MpiExecSpawner: no launcher for one core, else `mpiexec -n N [--oversubscribe]`. */
export function localWorkerCommand(o: WorkerCommandOptions): string[] {
  if (o.cores === 1) return workerArgs(o);
  return ['mpiexec', '-n', String(o.cores), ...(o.openmpiOversubscribe ? ['--oversubscribe'] : []), ...workerArgs(o)];
}
