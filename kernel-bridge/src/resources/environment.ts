// The environment variables through which a worker learns its share of the machine.
import type { ResourceDict } from './schema.js';

/** Thread pools that read their size from the environment: OpenMP, OpenBLAS, MKL. */
export const THREAD_VARIABLES = ['OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS', 'MKL_NUM_THREADS'] as const;

/**
 * Variables to add to a worker's environment. Thread counts are set only when threads_per_core was given,
 * so a call that did not ask keeps whatever the user's environment says (executorlib sets none at all).
 */
export function taskEnvironment(requested: ResourceDict, gpus: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  if (requested.threads_per_core != null) {
    for (const name of THREAD_VARIABLES) env[name] = String(requested.threads_per_core);
  }
  if (gpus.length > 0) env.CUDA_VISIBLE_DEVICES = gpus.join(',');
  return env;
}
