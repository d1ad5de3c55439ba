import { TranslationBundle } from '@jupyterlab/translation';
import * as React from 'react';

import { IUsageSample, IWorkerUsage } from '../../usage/model';
import { ISeries } from './chart';
import { UsageChart } from './UsageChart';
import { WorkerTable } from './WorkerTable';

export interface IResourceUsageProps {
  samples: readonly IUsageSample[];
  workers: readonly IWorkerUsage[];
  /** Between two samples of the bridge (ms): longer gaps break the curves. */
  intervalMs: number;
  /** Width available to the charts (px). */
  width: number;
  error: string | null;
  trans: TranslationBundle;
  executorName?: (id: string) => string | undefined;
}

/** The series of the three charts, made once per translation bundle. */
export function usageSeries(trans: TranslationBundle): { cores: ISeries[]; gpus: ISeries[]; queue: ISeries[] } {
  return {
    cores: [
      { key: 'cores_busy', label: trans.__('busy'), kind: 'area', tone: 'busy', value: s => s.cores_busy },
      { key: 'cores_total', label: trans.__('total'), kind: 'line', tone: 'total', value: s => s.cores_total }
    ],
    gpus: [
      { key: 'gpus_busy', label: trans.__('busy'), kind: 'area', tone: 'busy', value: s => s.gpus_busy },
      { key: 'gpus_total', label: trans.__('total'), kind: 'line', tone: 'total', value: s => s.gpus_total }
    ],
    queue: [
      { key: 'queued', label: trans.__('queued'), kind: 'area', tone: 'queued', value: s => s.queued },
      { key: 'running', label: trans.__('running'), kind: 'line', tone: 'running', value: s => s.running }
    ]
  };
}

/**
 * Cores and GPUs busy against the total over time, the queue's depth, and the
 * workers' CPU and memory.
 */
export function ResourceUsage(props: IResourceUsageProps): JSX.Element {
  const { trans, samples } = props;
  const series = React.useMemo(() => usageSeries(trans), [trans]);
  const latest = samples.length ? samples[samples.length - 1] : null;
  const width = Math.max(240, props.width);
  const gapMs = props.intervalMs * 2.5;
  const empty = trans.__('No samples yet.');
  const hasGpus = samples.some(s => s.gpus_total > 0);
  return (
    <div className="jp-ExecutorlabUsage-content">
      {props.error ? (
        <div className="jp-ExecutorlabUsage-error" role="alert">
          {trans.__('Could not read the usage: %1', props.error)}
        </div>
      ) : null}
      <UsageChart
        title={trans.__('Cores')}
        series={series.cores}
        samples={samples}
        current={latest}
        width={width}
        gapMs={gapMs}
        emptyText={empty}
      />
      {hasGpus ? (
        <UsageChart
          title={trans.__('GPUs')}
          series={series.gpus}
          samples={samples}
          current={latest}
          width={width}
          gapMs={gapMs}
          emptyText={empty}
        />
      ) : (
        <p className="jp-ExecutorlabUsage-noGpus">{trans.__('No GPUs for tasks where the bridge runs.')}</p>
      )}
      <UsageChart
        title={trans.__('Calls')}
        series={series.queue}
        samples={samples}
        current={latest}
        width={width}
        gapMs={gapMs}
        emptyText={empty}
      />
      <section className="jp-ExecutorlabUsage-panel">
        <header className="jp-ExecutorlabUsage-panelHeader">
          <h3 className="jp-ExecutorlabUsage-panelTitle">{trans.__('Workers')}</h3>
          <span className="jp-ExecutorlabUsage-legendValue">{props.workers.length}</span>
        </header>
        <WorkerTable workers={props.workers} trans={trans} executorName={props.executorName} />
      </section>
    </div>
  );
}
