// What a batch scheduler says about one job, in words shared by SLURM and flux.

export type JobState =
  | 'pending'
  | 'running'
  | 'completed'
  | 'failed'
  | 'cancelled'
  | 'timeout'
  | 'out_of_memory'
  | 'node_fail'
  | 'unknown';

export interface JobStatus {
  id: string;
  state: JobState;
  /** the scheduler's own word, e.g. "TIMEOUT", "CANCELLED", "CD" */
  raw: string;
  reason: string | null;
  /** The nodes the job ran on, as the scheduler prints them ("node[1-2]"), when it says. */
  nodes?: string | null;
}

const FINISHED: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled', 'timeout', 'out_of_memory', 'node_fail']);

/** True once the job will not change state again; `unknown` is not finished, so callers keep asking. */
export function isFinished(state: JobState): boolean {
  return FINISHED.has(state);
}
