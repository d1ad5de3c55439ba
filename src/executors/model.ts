import { TranslationBundle } from '@jupyterlab/translation';

import { IExecutorView, Placement } from '../tokens';

/**
 * Where an executor started from the panel runs its calls (`backend` in
 * `POST api/executors`).
 */
export type ExecutorBackend =
  | 'local'
  | 'slurm'
  | 'flux'
  | 'slurm-cluster'
  | 'flux-cluster';

export const EXECUTOR_BACKENDS: readonly ExecutorBackend[] = [
  'local',
  'slurm',
  'flux',
  'slurm-cluster',
  'flux-cluster'
];

/**
 * The body of `POST api/executors`.
 */
export interface INewExecutorSpec {
  name: string;
  backend: ExecutorBackend;
  max_cores: number | null;
  max_workers: number | null;
  block_allocation: boolean;
  /** Absolute path, or null for no cache. */
  cache_directory: string | null;
}

/**
 * `client_id` of executors started from the panel (not by a kernel).
 */
export const PANEL_CLIENT_ID = 'panel';

/** 1 to 64 letters, digits, spaces, `_`, `.` or `-`: the bridge's rule. */
export const EXECUTOR_NAME_PATTERN = /^[A-Za-z0-9 _.-]{1,64}$/;

/**
 * The backends the bridge's environment allows: this machine always; SLURM steps
 * inside a SLURM allocation; flux jobs inside a flux instance; the cluster variants
 * (a batch job per call) always, the bridge says when it cannot submit them.
 */
export function availableBackends(
  placement: Placement | null | undefined
): ExecutorBackend[] {
  const backends: ExecutorBackend[] = ['local'];
  if (placement?.kind === 'slurm') {
    backends.push('slurm');
  }
  if (placement?.kind === 'flux') {
    backends.push('flux');
  }
  backends.push('slurm-cluster', 'flux-cluster');
  return backends;
}

/**
 * The backend the dialog starts with: the batch system the bridge runs in, else
 * this machine.
 */
export function defaultBackend(
  placement: Placement | null | undefined
): ExecutorBackend {
  if (placement?.kind === 'slurm') {
    return 'slurm';
  }
  if (placement?.kind === 'flux') {
    return 'flux';
  }
  return 'local';
}

/** A backend's option in the New executor dialog. */
export function backendOptionLabel(
  backend: ExecutorBackend,
  trans: TranslationBundle
): string {
  switch (backend) {
    case 'local':
      return trans.__('Local (this machine)');
    case 'slurm':
      return trans.__('SLURM steps (SlurmJobExecutor)');
    case 'flux':
      return trans.__('flux jobs (FluxJobExecutor)');
    case 'slurm-cluster':
      return trans.__('SLURM, a job per call (SlurmClusterExecutor)');
    case 'flux-cluster':
      return trans.__('flux, a job per call (FluxClusterExecutor)');
  }
}

/**
 * Whose an executor is: "started from the panel", or "kernel <first 8 hex digits>"
 * (kernels connect as `k-<uuid hex>`).
 */
export function ownerLabel(
  executor: Pick<IExecutorView, 'client_id'>,
  trans: TranslationBundle
): string {
  if (isPanelExecutor(executor)) {
    return trans.__('started from the panel');
  }
  return trans.__('kernel %1', shortClientId(executor.client_id));
}

export function shortClientId(clientId: string): string {
  return clientId.replace(/^k-/, '').slice(0, 8);
}

export function isPanelExecutor(
  executor: Pick<IExecutorView, 'client_id'>
): boolean {
  return executor.client_id === PANEL_CLIENT_ID;
}

/** The panel can stop it: started from the panel and not shut down yet. */
export function isStoppable(executor: IExecutorView): boolean {
  return isPanelExecutor(executor) && !executor.shutdown;
}

/** Calls a stop would cancel or cut short. */
export function pendingCalls(executor: IExecutorView): number {
  // `unfinished` counts the running ones too; older bridges may not, so take the larger.
  return Math.max(executor.unfinished, executor.running);
}

/** The line a notebook runs to use the executor. */
export function connectSnippet(name: string): string {
  return `exe = executorlab.connect(${JSON.stringify(name)})`;
}

/**
 * The New executor form as typed: numbers and paths are still text.
 */
export interface INewExecutorForm {
  name: string;
  backend: ExecutorBackend;
  maxCores: string;
  blockAllocation: boolean;
  maxWorkers: string;
  cacheDirectory: string;
}

export function emptyExecutorForm(
  placement?: Placement | null
): INewExecutorForm {
  return {
    name: '',
    backend: defaultBackend(placement),
    maxCores: '',
    blockAllocation: false,
    maxWorkers: '',
    cacheDirectory: ''
  };
}

export type NewExecutorField = 'name' | 'maxCores' | 'maxWorkers' | 'cacheDirectory';

/** Why a field is not acceptable, by field; empty when the form is valid. */
export type NewExecutorErrors = Partial<Record<NewExecutorField, string>>;

/** Starts with `/`: what the bridge calls absolute. */
export function isAbsolutePath(path: string): boolean {
  return path.startsWith('/');
}

/** The bridge's upper bound for max cores and max workers. */
export const MAX_COUNT = 1_000_000;

function parseCount(text: string): number | null | undefined {
  const trimmed = text.trim();
  if (trimmed === '') {
    return null;
  }
  if (!/^\d+$/.test(trimmed)) {
    return undefined;
  }
  const value = Number(trimmed);
  return Number.isSafeInteger(value) && value >= 1 && value <= MAX_COUNT
    ? value
    : undefined;
}

/**
 * Check the form; the spec to send when it is valid, else the reasons by field.
 */
export function validateExecutorForm(
  form: INewExecutorForm,
  trans: TranslationBundle,
  backends: readonly ExecutorBackend[] = EXECUTOR_BACKENDS
): { spec: INewExecutorSpec; errors: null } | { spec: null; errors: NewExecutorErrors } {
  const errors: NewExecutorErrors = {};
  const name = form.name.trim();
  if (name === '') {
    errors.name = trans.__('Enter a name.');
  } else if (name.length > 64) {
    errors.name = trans.__('A name has at most 64 characters.');
  } else if (!EXECUTOR_NAME_PATTERN.test(name)) {
    errors.name = trans.__(
      'Use letters, digits, spaces, "_", "." and "-" only.'
    );
  }
  const maxCores = parseCount(form.maxCores);
  if (maxCores === undefined) {
    errors.maxCores = trans.__(
      'Enter a whole number from 1 to %1, or leave it empty.',
      MAX_COUNT
    );
  }
  const maxWorkers = form.blockAllocation ? parseCount(form.maxWorkers) : null;
  if (maxWorkers === undefined) {
    errors.maxWorkers = trans.__(
      'Enter a whole number from 1 to %1, or leave it empty.',
      MAX_COUNT
    );
  }
  const cacheDirectory = form.cacheDirectory.trim();
  if (cacheDirectory !== '' && !isAbsolutePath(cacheDirectory)) {
    errors.cacheDirectory = trans.__('Enter an absolute path, e.g. /scratch/me/cache.');
  }
  const backend = backends.includes(form.backend) ? form.backend : backends[0];
  if (Object.keys(errors).length > 0) {
    return { spec: null, errors };
  }
  return {
    spec: {
      name,
      backend,
      max_cores: maxCores ?? null,
      max_workers: maxWorkers ?? null,
      block_allocation: form.blockAllocation,
      cache_directory: cacheDirectory === '' ? null : cacheDirectory
    },
    errors: null
  };
}
