import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IExecutorView } from '../tokens';

export interface IExecutorListProps {
  executors: readonly IExecutorView[];
  trans: TranslationBundle;
}

/** How a person calls the place an executor's calls run. */
export function backendLabel(backend: string, trans: TranslationBundle): string {
  switch (backend) {
    case 'local':
      return trans.__('this machine');
    case 'slurm':
      return trans.__('SLURM steps');
    case 'flux':
      return trans.__('flux jobs');
    case 'slurm-cluster':
      return trans.__('SLURM, a job per call');
    case 'flux-cluster':
      return trans.__('flux, a job per call');
    default:
      return backend;
  }
}

/**
 * The bridge's executors: where their calls run, cores busy against their limit,
 * calls running and unfinished, and whose they are.
 */
export function ExecutorList({
  executors,
  trans
}: IExecutorListProps): JSX.Element | null {
  const shown = executors.filter(e => !e.shutdown || e.unfinished > 0);
  if (shown.length === 0) {
    return null;
  }
  return (
    <ul className="jp-executorlab-ExecutorList" aria-label={trans.__('Executors')}>
      {shown.map(e => (
        <li
          key={e.id}
          className="jp-executorlab-ExecutorList-item"
          data-executor-id={e.id}
          data-orphaned={e.orphaned}
          title={trans.__('Executor %1 of kernel client %2', e.id, e.client_id)}
        >
          <span className="jp-executorlab-ExecutorList-name">{e.name}</span>
          <span className="jp-executorlab-ExecutorList-backend">
            {backendLabel(e.backend, trans)}
            {e.block_allocation && e.max_workers !== null
              ? ' · ' + trans._n('%1 worker', '%1 workers', e.max_workers)
              : ''}
          </span>
          <span className="jp-executorlab-ExecutorList-load">
            {e.max_cores !== null
              ? trans.__('%1/%2 cores busy', e.cores_in_use, e.max_cores)
              : trans._n('%1 core busy', '%1 cores busy', e.cores_in_use)}
            {' · '}
            {trans.__('%1 running, %2 unfinished', e.running, e.unfinished)}
          </span>
          {e.orphaned && (
            <span className="jp-executorlab-ExecutorList-orphaned">
              {trans.__('orphaned: its kernel is gone')}
            </span>
          )}
        </li>
      ))}
    </ul>
  );
}
