// The SLURM allocation the bridge runs in, from the environment srun/salloc/sbatch set.
export interface SlurmAllocation {
  jobId: string;
  nodes: number;
  /** CPUs the allocation has on all its nodes together. */
  cpus: number;
  nodeList: string | null;
}

function positive(value: string | undefined): number | null {
  const n = Number(value);
  return value !== undefined && Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * The allocation, or null outside one. CPUs: SLURM_JOB_CPUS_PER_NODE ("8" or "4(x2),2"), else
 * SLURM_CPUS_ON_NODE times the nodes.
 */
export function slurmAllocation(env: NodeJS.ProcessEnv): SlurmAllocation | null {
  const jobId = env.SLURM_JOB_ID ?? env.SLURM_JOBID;
  if (!jobId) return null;
  const nodes = positive(env.SLURM_JOB_NUM_NODES ?? env.SLURM_NNODES) ?? 1;
  let cpus: number | null = null;
  const perNode = env.SLURM_JOB_CPUS_PER_NODE;
  if (perNode && /^\d+(\(x\d+\))?(,\d+(\(x\d+\))?)*$/.test(perNode)) {
    cpus = perNode.split(',').reduce((sum, part) => {
      const [, count, times] = /^(\d+)(?:\(x(\d+)\))?$/.exec(part)!;
      return sum + Number(count) * Number(times ?? 1);
    }, 0);
  }
  cpus ??= (positive(env.SLURM_CPUS_ON_NODE) ?? 1) * nodes;
  return { jobId, nodes, cpus, nodeList: env.SLURM_JOB_NODELIST ?? env.SLURM_NODELIST ?? null };
}
