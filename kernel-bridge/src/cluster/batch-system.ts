// The batch system a cluster executor submits one job per call to: SLURM (sbatch, squeue, scontrol,
// scancel) or flux (flux batch, flux jobs, flux cancel). Command lines and parsers are pure (slurm-queue.ts,
// flux-queue.ts); this runs them.
import { execa } from 'execa';
import { readFile } from 'node:fs/promises';
import {
  fluxBatchCommand,
  fluxCancelCommand,
  fluxIdToDecimal,
  fluxInstanceProblem,
  fluxJobsCommand,
  fluxSubmitCommand,
  parseFluxJobs,
  parseFluxSubmit,
  type DirectJob
} from './flux-queue.js';
import type { JobStatus } from './job-state.js';
import {
  parseSbatch,
  parseScontrolJob,
  parseSqueue,
  sbatchCommand,
  scancelCommand,
  scontrolShowJobCommand,
  squeueCommand
} from './slurm-queue.js';
import { DEFAULT_FLUX_TEMPLATE, DEFAULT_SLURM_TEMPLATE } from './template.js';

export interface WorkerLine {
  python: string;
  inputFile: string;
  cores: number;
  pmiMode: string | null;
  openmpiOversubscribe: boolean;
  slurmCmdArgs: string[];
}

export interface BatchSystem {
  /** As people call it: "SLURM", "flux". */
  readonly name: string;
  readonly defaultTemplate: string;
  /** Why no job can be submitted from here at all (no instance to submit to), else null. */
  instanceProblem(executorName: string): string | null;
  /** The shell line of the job script that runs the call on `cores` ranks. */
  workerLine(o: WorkerLine): string;
  /** Submit the script; resolves with the job's id. */
  submit(script: string, cwd: string): Promise<string>;
  /**
   * Where the batch system can submit a call without a job script (the default template's settings as options),
   * and that is cheaper: resolves with the job's id and the command line it ran, kept beside the call's files.
   */
  submitCall?(job: DirectJob): Promise<{ id: string; command: string[] }>;
  /** The states of many jobs in one call; jobs the batch system no longer knows are missing. */
  states(ids: string[]): Promise<Map<string, JobStatus>>;
  /** Where a finished job's stderr went, as far as the batch system says. */
  stderrFile(id: string): Promise<string | null>;
  cancel(ids: string[]): Promise<void>;
}

export class BatchCommandError extends Error {}

/** POSIX shell quoting: the word as one argument whatever it holds. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'"'"'`)}'`;
}

async function run(command: string[], what: string, cwd?: string, env: Record<string, string> = {}): Promise<string> {
  const [file, ...args] = command;
  const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 60_000, env, ...(cwd ? { cwd } : {}) });
  if (result.exitCode !== 0) {
    const why = String(result.stderr || result.stdout || result.shortMessage).trim();
    throw new BatchCommandError(`${what} failed (\`${command.join(' ')}\`, exit code ${result.exitCode ?? 'none'}): ${why}`);
  }
  return String(result.stdout);
}

export class SlurmBatchSystem implements BatchSystem {
  readonly name = 'SLURM';
  readonly defaultTemplate = DEFAULT_SLURM_TEMPLATE;
  private readonly env: Record<string, string>;

  /** `conf`: the cluster's slurm.conf (the kernel's SLURM_CONF, else the bridge's own); null: SLURM's default. */
  constructor(readonly conf: string | null = null) {
    this.env = conf ? { SLURM_CONF: conf } : {};
  }

  instanceProblem(): string | null {
    return null; // sbatch submits to the cluster's controller from anywhere
  }

  workerLine(o: WorkerLine): string {
    const worker = [o.python, '-m', 'executorlab.cache_worker', o.inputFile];
    if (o.cores === 1) return worker.map(shellQuote).join(' ');
    // executorlib's cache_parallel under srun: the ranks are the job's tasks.
    const srun = ['srun', '-n', String(o.cores), `--mpi=${o.pmiMode ?? 'pmix'}`, ...(o.openmpiOversubscribe ? ['--oversubscribe'] : []), ...o.slurmCmdArgs];
    return [...srun, ...worker].map(shellQuote).join(' ');
  }

  async submit(script: string, cwd: string): Promise<string> {
    return parseSbatch(await run(sbatchCommand(script), 'sbatch', cwd, this.env));
  }

  async states(ids: string[]): Promise<Map<string, JobStatus>> {
    if (ids.length === 0) return new Map();
    const [file, ...args] = squeueCommand(ids);
    const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 60_000, env: this.env });
    // squeue refuses a lone id it no longer knows ("Invalid job id specified"): none of them is known.
    if (result.exitCode !== 0 && /Invalid job id/i.test(String(result.stderr))) return new Map();
    if (result.exitCode !== 0) throw new BatchCommandError(`squeue failed (exit code ${result.exitCode}): ${String(result.stderr).trim()}`);
    return parseSqueue(String(result.stdout));
  }

  async stderrFile(id: string): Promise<string | null> {
    try {
      return parseScontrolJob(await run(scontrolShowJobCommand(id), 'scontrol', undefined, this.env)).stdErr;
    } catch {
      return null;
    }
  }

  async cancel(ids: string[]): Promise<void> {
    if (ids.length > 0) await run(scancelCommand(ids), 'scancel', undefined, this.env);
  }
}

export class FluxBatchSystem implements BatchSystem {
  readonly name = 'flux';
  readonly defaultTemplate = DEFAULT_FLUX_TEMPLATE;
  private readonly env: Record<string, string>;

  /** `uri`: the flux instance jobs go to (the kernel's FLUX_URI, else the bridge's own); null outside any. */
  constructor(private readonly uri: string | null = null) {
    this.env = uri ? { FLUX_URI: uri } : {};
  }

  instanceProblem(executorName: string): string | null {
    return fluxInstanceProblem(this.uri, executorName);
  }

  workerLine(o: WorkerLine): string {
    const worker = [o.python, '-m', 'executorlab.cache_worker', o.inputFile];
    if (o.cores === 1) return worker.map(shellQuote).join(' ');
    const flux = ['flux', 'run', '-n', String(o.cores), ...(o.pmiMode ? ['-o', `pmi=${o.pmiMode}`] : [])];
    return [...flux, ...worker].map(shellQuote).join(' ');
  }

  async submit(script: string, cwd: string): Promise<string> {
    // Decimal ids: what `flux jobs` prints in the format used to follow them.
    return fluxIdToDecimal(parseFluxSubmit(await run(fluxBatchCommand(script), 'flux batch', cwd, this.env)));
  }

  async submitCall(job: DirectJob): Promise<{ id: string; command: string[] }> {
    const command = fluxSubmitCommand(job);
    return { id: fluxIdToDecimal(parseFluxSubmit(await run(command, 'flux submit', job.cwd, this.env))), command };
  }

  async states(ids: string[]): Promise<Map<string, JobStatus>> {
    if (ids.length === 0) return new Map();
    const [file, ...args] = fluxJobsCommand(ids);
    const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: 60_000, env: this.env });
    return parseFluxJobs(String(result.stdout));
  }

  async stderrFile(): Promise<string | null> {
    return null; // the default template names it; a custom one is read from its --error line
  }

  async cancel(ids: string[]): Promise<void> {
    if (ids.length > 0) await run(fluxCancelCommand(ids), 'flux cancel', undefined, this.env);
  }
}

/** The last `lines` lines of a text file, or null when it cannot be read. */
export async function tail(path: string, lines = 20): Promise<string | null> {
  try {
    const text = await readFile(path, 'utf8');
    return text.trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return null;
  }
}
