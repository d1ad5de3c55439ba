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

export interface SlurmStepOptions extends WorkerCommandOptions {
  threadsPerCore: number;
  gpusPerCore: number;
  cwd: string | null;
  numNodes: number | null;
  exclusive: boolean;
  /** srun's --mpi; pmix where OpenMPI has no PMI-1/2 support (Debian's). */
  pmiMode: string;
  /** Seconds; srun's --time counts whole minutes, rounded up. */
  runTimeMax: number | null;
  slurmCmdArgs: string[];
}

/**
 * A task or block-allocation worker as a step of the allocation it runs in (SlurmJobExecutor):
 * `--exact` so steps share the allocation's CPUs instead of each taking whole nodes. `exclusive` is the
 * opposite: the step leaves out `--exact`, and `--cpus-per-task=1` (srun's default), which implies `--exact`
 * since SLURM 21.08, and so gets every CPU of each node it runs on; no other step can use them until it ends.
 * srun's own `--exclusive` does not do that for a step: there it implies `--exact` too. With
 * threads_per_core > 1 the step needs its `--cpus-per-task` for the task layout, and stays exact.
 */
export function slurmStepCommand(o: SlurmStepOptions): string[] {
  return [
    'srun',
    '-n',
    String(o.cores),
    ...(o.exclusive && o.threadsPerCore === 1 ? [] : [`--cpus-per-task=${o.threadsPerCore}`]),
    ...(o.gpusPerCore > 0 ? [`--gpus-per-task=${o.gpusPerCore}`] : []),
    ...(o.cwd !== null ? ['-D', o.cwd] : []),
    ...(o.numNodes !== null ? ['-N', String(o.numNodes)] : []),
    ...(o.exclusive ? [] : ['--exact']),
    `--mpi=${o.pmiMode}`,
    ...(o.runTimeMax !== null ? [`--time=${Math.max(1, Math.ceil(o.runTimeMax / 60))}`] : []),
    ...(o.openmpiOversubscribe ? ['--oversubscribe'] : []),
    ...o.slurmCmdArgs,
    ...workerArgs(o)
  ];
}

export interface FluxRunOptions extends WorkerCommandOptions {
  threadsPerCore: number;
  gpusPerCore: number;
  cwd: string | null;
  numNodes: number | null;
  exclusive: boolean;
  /** flux shell's pmi option (e.g. pmix, simple); null leaves flux's default. */
  pmiMode: string | null;
  /** Seconds; flux takes a duration with its unit, so no rounding to minutes. */
  runTimeMax: number | null;
  /** flux's urgency, 0 (held) to 31. */
  priority: number | null;
  /** Each worker starts its own flux instance, for functions that submit flux jobs themselves. */
  nesting: boolean;
}

/**
 * A task or block-allocation worker as a `flux run` job (FluxJobExecutor). flux has no oversubscription,
 * so openmpiOversubscribe is ignored here: fluxResourceProblems (backends/flux.ts) refuses it first.
 */
export function fluxRunCommand(o: FluxRunOptions): string[] {
  return [
    'flux',
    'run',
    '-n',
    String(o.cores),
    '-c',
    String(o.threadsPerCore),
    ...(o.gpusPerCore > 0 ? ['-g', String(o.gpusPerCore)] : []),
    ...(o.numNodes ? ['-N', String(o.numNodes)] : []),
    ...(o.exclusive ? ['--exclusive'] : []),
    ...(o.pmiMode ? ['-o', `pmi=${o.pmiMode}`] : []),
    ...(o.cwd ? ['--cwd', o.cwd] : []),
    ...(o.runTimeMax ? ['-t', `${o.runTimeMax}s`] : []),
    ...(o.priority !== null ? ['--urgency', String(o.priority)] : []),
    ...(o.nesting ? ['flux', 'start'] : []),
    ...workerArgs(o)
  ];
}
