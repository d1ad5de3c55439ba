// flux batch jobs: the command lines that submit, follow and cancel them, and parsers of what they print.
// Flux prints job ids in F58 (`ƒ2Ux5bJa5`); followed jobs are keyed by the decimal id: what `flux batch` printed
// goes through fluxIdToDecimal, and `flux jobs` is asked for {id.dec}.
import { hostname } from 'node:os';
import type { JobState, JobStatus } from './job-state.js';

/**
 * Why an executor cannot use flux here: neither the kernel nor the bridge runs inside a flux instance
 * (`uri` null). Every flux executor says it the same way, with how to get one.
 */
export function fluxInstanceProblem(uri: string | null, executorName: string): string | null {
  if (uri) return null;
  const where = `the executorlab bridge (pid ${process.pid} on ${hostname()})`;
  return (
    `${executorName} runs every call as a job of a flux instance, but neither the kernel nor ${where} runs inside one ` +
    `(FLUX_URI is not set). Start one: \`flux start jupyter lab\`, or install the "Python 3 (flux)" kernel with ` +
    `\`executorlab kernelspec install --flux\` and pick it for the notebook`
  );
}

export function fluxBatchCommand(script: string): string[] {
  return ['flux', 'batch', script];
}

/** A call submitted as a job of its own without a batch script (see BatchSystem.submitCall). */
export interface DirectJob {
  jobName: string;
  cwd: string;
  output: string;
  error: string;
  cores: number;
  threadsPerCore: number;
  gpusPerCore: number;
  numNodes: number | null;
  exclusive: boolean;
  /** Seconds. */
  runTimeMax: number | null;
  /** Job ids it must wait for (afterok). */
  after: string[];
  priority: number | null;
  pmiMode: string | null;
  env: Record<string, string>;
  /** What each of the job's `cores` tasks runs (the MPI ranks). */
  command: string[];
}

/**
 * `flux submit`: the default job script's directives as options, and the worker as the job's tasks. Unlike
 * `flux batch` it starts no flux instance inside the job (about 3 s a job here), so a call costs what a bare
 * `flux submit` costs; its MPI ranks are the job's tasks, as `flux run` gives them.
 */
export function fluxSubmitCommand(o: DirectJob): string[] {
  return [
    'flux',
    'submit',
    `--job-name=${o.jobName}`,
    `--cwd=${o.cwd}`,
    `--output=${o.output}`,
    `--error=${o.error}`,
    '-n',
    String(o.cores),
    '-c',
    String(o.threadsPerCore),
    ...(o.numNodes ? ['-N', String(o.numNodes)] : []),
    ...(o.exclusive ? ['--exclusive'] : []),
    ...(o.gpusPerCore > 0 ? ['-g', String(o.gpusPerCore)] : []),
    ...(o.runTimeMax ? ['-t', `${o.runTimeMax}s`] : []),
    ...o.after.map(id => `--dependency=afterok:${id}`),
    ...(o.priority !== null ? [`--urgency=${o.priority}`] : []),
    ...(o.pmiMode ? ['-o', `pmi=${o.pmiMode}`] : []),
    ...Object.entries(o.env).map(([name, value]) => `--env=${name}=${value}`),
    ...o.command
  ];
}

/** `flux batch` and `flux submit` print the new job's id alone on stdout. */
export function parseFluxSubmit(stdout: string): string {
  const id = stdout.trim();
  if (id === '' || /\s/.test(id)) {
    throw new Error(`flux batch printed ${JSON.stringify(stdout)}; expected one job id such as "ƒ2Ux5bJa5"`);
  }
  return id;
}

/**
 * flux-jobs(1): with job ids as arguments only those jobs are listed, inactive ones included (without ids it
 * lists the user's active jobs only). `-n` is the header switch in every flux-core release (`--suppress-header`
 * in old ones, `--no-header` in new ones). `{id}` prints F58 (`ƒ2Ux5bJa5`), so the decimal `{id.dec}` is asked
 * for: followed jobs are keyed by it. `{inactive_reason}` says why an inactive job ended ("Exit 1",
 * "Canceled: …", "Timeout"); it comes last because it is free text. An id flux no longer knows is reported on
 * stderr.
 */
export function fluxJobsCommand(ids: string[]): string[] {
  return ['flux', 'jobs', '-n', '--format={id.dec}|{state}|{result}|{nodelist}|{inactive_reason}', ...ids];
}

const ACTIVE: Record<string, JobState> = {
  NEW: 'pending',
  DEPEND: 'pending',
  PRIORITY: 'pending',
  SCHED: 'pending',
  RUN: 'running',
  CLEANUP: 'running'
};
const RESULTS: Record<string, JobState> = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  CANCELED: 'cancelled',
  TIMEOUT: 'timeout'
};

/** raw is the state while the job is active and its result once INACTIVE; reason is flux's inactive_reason. */
export function parseFluxJobs(stdout: string): Map<string, JobStatus> {
  const jobs = new Map<string, JobStatus>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [id, state, result = '', nodelist = '', ...why] = line.trim().split('|');
    if (!id || !/^\d+$/.test(id) || state === undefined) {
      throw new Error(
        `flux jobs printed ${JSON.stringify(line)}; expected "<decimal id>|<state>|<result>|<nodelist>|<inactive reason>" ` +
          '(--format={id.dec}|{state}|{result}|{nodelist}|{inactive_reason})'
      );
    }
    const raw = state === 'INACTIVE' ? result || state : state;
    const known = state === 'INACTIVE' ? RESULTS[result] : ACTIVE[state];
    const reason = why.join('|').trim();
    jobs.set(id, { id, state: known ?? 'unknown', raw, reason: reason === '' ? null : reason, nodes: nodelist.trim() || null });
  }
  return jobs;
}

export function fluxCancelCommand(ids: string[]): string[] {
  return ['flux', 'cancel', ...ids];
}

const F58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const MAX_JOBID = (1n << 64n) - 1n;

/** A flux job id, decimal or F58 (RFC 19: `ƒ` or ASCII `f`, then base 58), as a decimal string. */
export function fluxIdToDecimal(id: string): string {
  const text = id.trim();
  const value = /^\d+$/.test(text) ? BigInt(text) : decodeF58(text);
  if (value === null || value > MAX_JOBID) {
    throw new Error(`${JSON.stringify(id)} is not a flux job id; expected a decimal number or F58 such as "ƒ2Ux5bJa5", at most 64 bits`);
  }
  return value.toString();
}

function decodeF58(text: string): bigint | null {
  const digits = /^[ƒf](.+)$/u.exec(text)?.[1];
  if (!digits) return null;
  let value = 0n;
  for (const char of digits) {
    const digit = F58.indexOf(char);
    if (digit < 0) return null;
    value = value * 58n + BigInt(digit);
  }
  return value;
}
