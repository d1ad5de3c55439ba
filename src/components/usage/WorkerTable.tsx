import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { formatBytes } from '../../cache/format';
import { IWorkerUsage } from '../../usage/model';

export interface IWorkerTableProps {
  workers: readonly IWorkerUsage[];
  trans: TranslationBundle;
  /** The executor's name for its id (else the id is shown). */
  executorName?: (id: string) => string | undefined;
}

/**
 * CPU share as top shows it: percent of one core, so a process with two busy
 * threads reads 200 %.
 */
export function formatPercent(value: number | null): string {
  return value === null ? '–' : `${value < 10 ? value.toFixed(1) : Math.round(value)} %`;
}

/**
 * The connected workers with their latest heartbeat, busiest first.
 */
export function WorkerTable(props: IWorkerTableProps): JSX.Element {
  const { trans } = props;
  if (props.workers.length === 0) {
    return <p className="jp-ExecutorlabUsage-noWorkers">{trans.__('No workers are connected.')}</p>;
  }
  const workers = [...props.workers].sort(
    (a, b) => (b.cpu_percent ?? -1) - (a.cpu_percent ?? -1) || a.worker_id.localeCompare(b.worker_id)
  );
  return (
    <table className="jp-ExecutorlabUsage-workers">
      <thead>
        <tr>
          <th scope="col">{trans.__('Executor')}</th>
          <th scope="col">{trans.__('Host')}</th>
          <th scope="col">{trans.__('PID')}</th>
          <th scope="col" className="jp-mod-number">
            {trans.__('CPU')}
          </th>
          <th scope="col" className="jp-mod-number">
            {trans.__('Memory')}
          </th>
        </tr>
      </thead>
      <tbody>
        {workers.map(worker => {
          const executor = worker.executor_id
            ? (props.executorName?.(worker.executor_id) ?? worker.executor_id)
            : '–';
          return (
            <tr key={worker.worker_id} data-worker-id={worker.worker_id}>
              <td title={worker.executor_id ?? undefined}>{executor}</td>
              <td>{worker.host}</td>
              <td title={worker.ranks > 1 ? trans.__('rank 0 of %1 MPI ranks', worker.ranks) : undefined}>
                {worker.pid}
              </td>
              <td className="jp-mod-number">{formatPercent(worker.cpu_percent)}</td>
              <td className="jp-mod-number">{worker.rss === null ? '–' : formatBytes(worker.rss, trans)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
