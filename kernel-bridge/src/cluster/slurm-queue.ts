// SLURM batch jobs: the command lines that submit, follow and cancel them, and parsers of what they print.
import type { JobState, JobStatus } from './job-state.js';

export function sbatchCommand(script: string): string[] {
  return ['sbatch', '--parsable', script];
}

/** `sbatch --parsable` prints `<jobid>` or `<jobid>;<cluster>`. */
export function parseSbatch(stdout: string): string {
  const match = /^(\d+)(?:;\S+)?$/.exec(stdout.trim());
  if (!match) {
    throw new Error(`sbatch printed ${JSON.stringify(stdout)}; expected a job id such as "123" or "123;cluster"`);
  }
  return match[1];
}

/**
 * One squeue call for all followed jobs. `--states=all` keeps finished jobs listed, but only for SLURM's
 * MinJobAge (300 s by default): a job missing from the output must be asked about with scontrol or sacct.
 */
export function squeueCommand(ids: string[]): string[] {
  // The reason is free text (it may hold '|'): it comes last. The nodes name the lost one of a NODE_FAIL.
  return ['squeue', '--noheader', '--states=all', `--jobs=${ids.join(',')}`, '--format=%i|%T|%N|%r'];
}

/** Long names (squeue %T, scontrol JobState) and the short codes of squeue %t. */
const SLURM_STATES: [JobState, string[]][] = [
  ['pending', ['PENDING', 'PD', 'CONFIGURING', 'CF', 'REQUEUED', 'RQ', 'REQUEUE_HOLD', 'RH', 'REQUEUE_FED', 'RF',
    'RESV_DEL_HOLD', 'RD', 'SPECIAL_EXIT', 'SE', 'SUSPENDED', 'S']],
  ['running', ['RUNNING', 'R', 'COMPLETING', 'CG', 'STOPPED', 'ST', 'SIGNALING', 'SI', 'STAGE_OUT', 'SO', 'RESIZING', 'RS']],
  ['completed', ['COMPLETED', 'CD']],
  // A preempted job is not requeued here (that shows as REQUEUED), so its work is lost.
  ['failed', ['FAILED', 'F', 'BOOT_FAIL', 'BF', 'DEADLINE', 'DL', 'PREEMPTED', 'PR']],
  ['cancelled', ['CANCELLED', 'CA']],
  ['timeout', ['TIMEOUT', 'TO']],
  ['out_of_memory', ['OUT_OF_MEMORY', 'OOM']],
  ['node_fail', ['NODE_FAIL', 'NF']]
];
const STATE_OF = new Map(SLURM_STATES.flatMap(([state, words]) => words.map(word => [word, state] as const)));

/** Also reads sacct's forms, "CANCELLED by 0" and the truncated "CANCELLED+". */
export function slurmJobState(raw: string): JobState {
  const word = raw.trim().split(/\s+/, 1)[0].replace(/\+$/, '').toUpperCase();
  return STATE_OF.get(word) ?? 'unknown';
}

function reasonOf(value: string | undefined): string | null {
  const reason = value?.trim() ?? '';
  return reason === '' || reason === 'None' || reason === '(null)' ? null : reason;
}

function nodesOf(value: string): string | null {
  const nodes = value.trim();
  return nodes === '' || nodes === '(null)' || nodes === 'None assigned' ? null : nodes;
}

/** Ids are kept as printed, so array tasks (`123_1`) and steps (`123.0`) stay distinct. */
export function parseSqueue(stdout: string): Map<string, JobStatus> {
  const jobs = new Map<string, JobStatus>();
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const [id, raw, nodes, ...reason] = line.trim().split('|');
    if (!id || raw === undefined || nodes === undefined) {
      throw new Error(`squeue printed ${JSON.stringify(line)}; expected "<jobid>|<state>|<nodes>|<reason>" (--format=%i|%T|%N|%r)`);
    }
    jobs.set(id, { id, state: slurmJobState(raw), raw, reason: reasonOf(reason.join('|')), nodes: nodesOf(nodes) });
  }
  return jobs;
}

export function scontrolShowJobCommand(id: string): string[] {
  return ['scontrol', '--oneliner', 'show', 'job', id];
}

export interface ScontrolJob extends JobStatus {
  exitCode: string | null;
  stdErr: string | null;
  stdOut: string | null;
  workDir: string | null;
}

/**
 * Reads `scontrol --oneliner show job`: space-separated Key=Value pairs, where a value may hold spaces
 * (Command=, WorkDir=) but the next pair always starts with a key and "=". For an array job the first task is read.
 */
export function parseScontrolJob(stdout: string): ScontrolJob {
  const line = stdout.split('\n').find(l => l.trim() !== '') ?? '';
  const fields = new Map<string, string>();
  for (const pair of line.trim().split(/ (?=[A-Za-z][A-Za-z0-9_:/]*=)/)) {
    const at = pair.indexOf('=');
    if (at > 0) fields.set(pair.slice(0, at), pair.slice(at + 1));
  }
  const id = fields.get('JobId');
  const raw = fields.get('JobState');
  if (!id || raw === undefined) {
    throw new Error(`scontrol printed ${JSON.stringify(line.slice(0, 200))}; expected "JobId=<id> ... JobState=<state> ..."`);
  }
  const value = (key: string) => {
    const v = fields.get(key);
    return v === undefined || v === '' || v === '(null)' ? null : v;
  };
  return {
    id,
    state: slurmJobState(raw),
    raw,
    reason: reasonOf(fields.get('Reason')),
    exitCode: value('ExitCode'),
    stdErr: value('StdErr'),
    stdOut: value('StdOut'),
    workDir: value('WorkDir')
  };
}

export function scancelCommand(ids: string[]): string[] {
  return ['scancel', ...ids];
}

/** `--time` as minutes:seconds (SLURM reads "M:SS", minutes unbounded), rounded up to whole seconds, at least 1. */
export function slurmTime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) {
    throw new RangeError(`run_time_max must be a non-negative number of seconds, got ${seconds}`);
  }
  const whole = Math.max(1, Math.ceil(seconds));
  return `${Math.floor(whole / 60)}:${String(whole % 60).padStart(2, '0')}`;
}
