import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IExecutorPanelActions } from '../executors/actions';
import { isPanelExecutor, isStoppable, ownerLabel } from '../executors/model';
import { IExecutorView, Placement } from '../tokens';
import { ExecutorListHeader, runStopExecutorFlow } from './ExecutorActions';
import { runNewExecutorFlow } from './NewExecutorDialog';

export interface IExecutorListProps {
  executors: readonly IExecutorView[];
  trans: TranslationBundle;
  /**
   * Start and stop executors from the panel: a New executor… button, and Stop on
   * the executors started here. Without it the list only shows.
   */
  actions?: IExecutorPanelActions;
  /** Where the bridge runs: which backends New executor… offers. */
  placement?: Placement | null;
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
 * calls running and unfinished, and whose they are. With `actions`, a header with
 * New executor… and Stop on the executors started from the panel.
 */
export function ExecutorList({
  executors,
  trans,
  actions,
  placement = null
}: IExecutorListProps): JSX.Element | null {
  const [creating, setCreating] = React.useState(false);
  const [stopping, setStopping] = React.useState<ReadonlySet<string>>(
    () => new Set()
  );
  const mounted = React.useRef(true);
  React.useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  const onCreate = React.useCallback(async () => {
    if (!actions) {
      return;
    }
    setCreating(true);
    try {
      await runNewExecutorFlow({ actions, placement, trans });
    } finally {
      if (mounted.current) {
        setCreating(false);
      }
    }
  }, [actions, placement, trans]);

  const onStop = React.useCallback(
    async (executor: IExecutorView) => {
      if (!actions) {
        return;
      }
      setStopping(current => new Set(current).add(executor.id));
      let stopped = false;
      try {
        stopped = await runStopExecutorFlow({ executor, actions, trans });
      } finally {
        // Once stopped, Stop stays disabled until the bridge reports it shut down.
        if (mounted.current && !stopped) {
          setStopping(current => {
            const next = new Set(current);
            next.delete(executor.id);
            return next;
          });
        }
      }
    },
    [actions, trans]
  );

  const shown = executors.filter(e => !e.shutdown || e.unfinished > 0);
  if (shown.length === 0 && !actions) {
    return null;
  }
  const list =
    shown.length === 0 ? null : (
      <ul className="jp-executorlab-ExecutorList" aria-label={trans.__('Executors')}>
        {shown.map(e => (
          <li
            key={e.id}
            className="jp-executorlab-ExecutorList-item"
            data-executor-id={e.id}
            data-orphaned={e.orphaned}
            data-owner={isPanelExecutor(e) ? 'panel' : 'kernel'}
            title={
              isPanelExecutor(e)
                ? trans.__('Executor %1, started from the panel', e.id)
                : trans.__('Executor %1 of kernel client %2', e.id, e.client_id)
            }
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
            <span className="jp-executorlab-ExecutorList-owner">
              {ownerLabel(e, trans)}
            </span>
            {e.orphaned && (
              <span className="jp-executorlab-ExecutorList-orphaned">
                {trans.__('orphaned: its kernel is gone')}
              </span>
            )}
            {actions && isStoppable(e) && (
              <button
                type="button"
                className="jp-executorlab-ExecutorList-button jp-executorlab-ExecutorList-stop"
                data-action="stop-executor"
                disabled={stopping.has(e.id)}
                title={trans.__('Stop %1: cancel its queued calls and stop its workers', e.name)}
                onClick={() => void onStop(e)}
              >
                {trans.__('Stop')}
              </button>
            )}
          </li>
        ))}
      </ul>
    );
  if (!actions) {
    return list;
  }
  return (
    <div className="jp-executorlab-ExecutorSection">
      <ExecutorListHeader
        count={shown.length}
        busy={creating}
        onCreate={() => void onCreate()}
        trans={trans}
      />
      {list}
    </div>
  );
}
