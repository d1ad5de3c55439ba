// Where the bridge runs, for the frontend (`placement` in `GET /api/status`): on this machine alone, inside a
// SLURM job (its nodes, CPUs, GPUs and time left) or inside a flux instance (what `flux resource list` reports).
// Facts come from the environment plus at most one command (squeue or flux); a missing or failing command
// leaves its fields null and never throws.
import { availableParallelism, hostname } from 'node:os';
import { execa } from 'execa';
import { slurmAllocation } from './slurm.js';

export type Placement =
  | { kind: 'local'; hostname: string; cpus: number; gpus: number }
  | {
      kind: 'slurm';
      hostname: string;
      job_id: string;
      nodes: number;
      node_list: string | null;
      /** CPUs of the whole allocation (all nodes). */
      cpus: number;
      /** GPUs of the whole allocation, or null when the SLURM_* variables do not tell. */
      gpus: number | null;
      /** As squeue prints it (%L): "1-02:03:04", "1:23:45", "UNLIMITED"; null when unknown. */
      time_left: string | null;
      /** When the job's time runs out, epoch milliseconds; null when unknown or unlimited. */
      end_time: number | null;
    }
  | { kind: 'flux'; hostname: string; uri: string; nodes: number | null; cpus: number | null; gpus: number | null };

/** Runs a command to its end; `exitCode` is non-zero (or -1) when it failed or could not start. */
export type Runner = (file: string, args: string[], env: NodeJS.ProcessEnv) => Promise<{ exitCode: number; stdout: string }>;

export const runCommand: Runner = async (file, args, env) => {
  const result = await execa(file, args, { env, reject: false, timeout: 10_000, stdin: 'ignore' });
  return { exitCode: typeof result.exitCode === 'number' ? result.exitCode : -1, stdout: String(result.stdout ?? '') };
};

/** The one squeue call: time left (%L) and end time (%e) of the job, "|"-separated. */
export function squeueTimeCommand(jobId: string): string[] {
  return ['squeue', '--noheader', `--jobs=${jobId}`, '--format=%L|%e'];
}

/** The one flux call: counts of the instance's usable ("up") resources, summed into one line. */
export const FLUX_RESOURCE_COMMAND = ['flux', 'resource', 'list', '--states=up', '--no-header', '--format={nnodes} {ncores} {ngpus}'];

/**
 * squeue's `%L|%e` line. Time left stays as printed ("UNLIMITED" included); the end time, printed in the
 * local time zone without an offset ("2026-11-21T15:00:00"), becomes epoch milliseconds. The first job line
 * counts (a heterogeneous job lists one per component).
 */
export function parseSqueueTime(stdout: string): { time_left: string | null; end_time: number | null } {
  const line = stdout.split('\n').find(l => l.trim() !== '');
  if (line === undefined || !line.includes('|')) return { time_left: null, end_time: null };
  const [left, end] = line.trim().split('|').map(part => part.trim());
  // Anything else squeue may print ("INVALID", "NOT_SET", "N/A", "Unknown") means unknown.
  const timeLeft = /^(UNLIMITED|(\d+-)?(\d+:)?\d+:\d+)$/.test(left) ? left : null;
  let endTime: number | null = null;
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(end ?? '');
  if (match && timeLeft !== 'UNLIMITED') {
    const [, y, mo, d, h, mi, s] = match.map(Number);
    const ms = new Date(y, mo - 1, d, h, mi, s).getTime();
    endTime = Number.isFinite(ms) ? ms : null;
  }
  return { time_left: timeLeft, end_time: endTime };
}

/** `{nnodes} {ncores} {ngpus}` lines of `flux resource list`, summed (one line is expected; older flux may split). */
export function parseFluxResources(stdout: string): { nodes: number | null; cpus: number | null; gpus: number | null } {
  let sums: [number, number, number] | null = null;
  for (const line of stdout.split('\n')) {
    if (line.trim() === '') continue;
    const match = /^\s*(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(line);
    if (!match) return { nodes: null, cpus: null, gpus: null };
    const counts = [Number(match[1]), Number(match[2]), Number(match[3])];
    sums = sums ? [sums[0] + counts[0], sums[1] + counts[1], sums[2] + counts[2]] : [counts[0], counts[1], counts[2]];
  }
  return sums ? { nodes: sums[0], cpus: sums[1], gpus: sums[2] } : { nodes: null, cpus: null, gpus: null };
}

/** "2", "a100:2", "a100:2,v100:1" (the form of --gpus and --gpus-per-node) → the sum; null if unreadable. */
function gpuCount(value: string | undefined): number | null {
  if (value === undefined || value.trim() === '') return null;
  let total = 0;
  for (const item of value.split(',')) {
    const count = item.trim().split(':').pop() ?? '';
    if (!/^\d+$/.test(count)) return null;
    total += Number(count);
  }
  return total;
}

/**
 * GPUs of the whole allocation, like its CPUs: SLURM_GPUS (--gpus, a job total) if set, else a per-node
 * count times the nodes: SLURM_GPUS_PER_NODE, SLURM_GPUS_ON_NODE, or the ids in SLURM_JOB_GPUS (the per-node
 * ones describe the node the bridge runs on; other nodes are assumed alike). Null when none is set.
 */
export function slurmGpus(env: NodeJS.ProcessEnv, nodes: number): number | null {
  const total = gpuCount(env.SLURM_GPUS);
  if (total !== null) return total;
  let perNode = gpuCount(env.SLURM_GPUS_PER_NODE) ?? gpuCount(env.SLURM_GPUS_ON_NODE);
  if (perNode === null && env.SLURM_JOB_GPUS !== undefined) {
    perNode = env.SLURM_JOB_GPUS.split(',').filter(id => id.trim() !== '').length;
  }
  return perNode === null ? null : perNode * nodes;
}

async function tryRun(run: Runner, command: string[], env: NodeJS.ProcessEnv): Promise<string | null> {
  try {
    const result = await run(command[0], command.slice(1), env);
    return result.exitCode === 0 ? result.stdout : null;
  } catch {
    return null;
  }
}

/**
 * Where the bridge runs: a flux instance when FLUX_URI is set (its jobs go there, even inside a SLURM job),
 * else a SLURM allocation when SLURM_JOB_ID is set, else this machine with `localGpus` GPUs (the caller's
 * count, e.g. from nvidia-smi). Never throws.
 */
export async function detectPlacement(env: NodeJS.ProcessEnv, run: Runner = runCommand, localGpus = 0): Promise<Placement> {
  const host = hostname();
  if (env.FLUX_URI) {
    const stdout = await tryRun(run, FLUX_RESOURCE_COMMAND, env);
    const counts = stdout === null ? { nodes: null, cpus: null, gpus: null } : parseFluxResources(stdout);
    return { kind: 'flux', hostname: host, uri: env.FLUX_URI, ...counts };
  }
  const allocation = slurmAllocation(env);
  if (allocation) {
    // SLURM_TIME_FORMAT (a user's choice for their shell) would change how %e prints.
    const stdout = await tryRun(run, squeueTimeCommand(allocation.jobId), { ...env, SLURM_TIME_FORMAT: 'standard' });
    const times = stdout === null ? { time_left: null, end_time: null } : parseSqueueTime(stdout);
    return {
      kind: 'slurm',
      hostname: host,
      job_id: allocation.jobId,
      nodes: allocation.nodes,
      node_list: allocation.nodeList,
      cpus: allocation.cpus,
      gpus: slurmGpus(env, allocation.nodes),
      ...times
    };
  }
  return { kind: 'local', hostname: host, cpus: availableParallelism(), gpus: localGpus };
}

export interface PlacementProbeOptions {
  env?: NodeJS.ProcessEnv;
  run?: Runner;
  /** GPUs of this machine, read at each detection (e.g. `() => host.gpus.devices.length`). */
  localGpus?: () => number;
  /** How long a detection is reused, in milliseconds (30 s). */
  maxAgeMs?: number;
  /** Clock, for tests. */
  now?: () => number;
}

/**
 * The placement, detected at most once per `maxAgeMs` (squeue's time left changes; the rest does not).
 * `current()` waits for a fresh value; `latest()` answers at once for synchronous callers such as the
 * status route, and starts a refresh in the background when the value it returns is stale.
 */
export class PlacementProbe {
  private value: Placement | null = null;
  private detectedAt = -Infinity;
  private pending: Promise<Placement> | null = null;
  private readonly env: NodeJS.ProcessEnv;
  private readonly run: Runner;
  private readonly localGpus: () => number;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(options: PlacementProbeOptions = {}) {
    this.env = options.env ?? process.env;
    this.run = options.run ?? runCommand;
    this.localGpus = options.localGpus ?? (() => 0);
    this.maxAgeMs = options.maxAgeMs ?? 30_000;
    this.now = options.now ?? Date.now;
  }

  /** A placement at most `maxAgeMs` old; concurrent callers share one detection. */
  current(): Promise<Placement> {
    if (this.value !== null && this.now() - this.detectedAt < this.maxAgeMs) return Promise.resolve(this.value);
    return this.refresh();
  }

  /** The last detected placement (null before the first one ends); refreshes in the background when stale. */
  latest(): Placement | null {
    if (this.now() - this.detectedAt >= this.maxAgeMs) this.refresh().catch(() => undefined);
    return this.value;
  }

  private refresh(): Promise<Placement> {
    if (!this.pending) {
      this.pending = Promise.resolve()
        .then(() => detectPlacement(this.env, this.run, this.localGpus()))
        .then(placement => {
          this.value = placement;
          this.detectedAt = this.now();
          return placement;
        })
        .finally(() => {
          this.pending = null;
        });
    }
    return this.pending;
  }
}
