import * as React from 'react';

import { IUsageSample } from '../../usage/model';
import { ISeries, renderTimeChart } from './chart';

export interface IUsageChartProps {
  title: string;
  series: ISeries[];
  samples: readonly IUsageSample[];
  width: number;
  height?: number;
  gapMs: number;
  emptyText: string;
  /** Current value of each series, shown in the legend. */
  current?: IUsageSample | null;
}

/**
 * A titled time chart with its legend; the curves are drawn with d3 into the
 * SVG after each render (`renderTimeChart`).
 */
export function UsageChart(props: IUsageChartProps): JSX.Element {
  const svg = React.useRef<SVGSVGElement>(null);
  const height = props.height ?? 140;
  React.useEffect(() => {
    if (svg.current) {
      renderTimeChart(svg.current, {
        series: props.series,
        samples: props.samples,
        width: props.width,
        height,
        gapMs: props.gapMs,
        label: props.title,
        emptyText: props.emptyText
      });
    }
  }, [props.series, props.samples, props.width, height, props.gapMs, props.title, props.emptyText]);
  return (
    <section className="jp-ExecutorlabUsage-panel">
      <header className="jp-ExecutorlabUsage-panelHeader">
        <h3 className="jp-ExecutorlabUsage-panelTitle">{props.title}</h3>
        <ul className="jp-ExecutorlabUsage-legend">
          {props.series.map(s => (
            <li key={s.key} className="jp-ExecutorlabUsage-legendItem">
              <span className={`jp-ExecutorlabUsage-swatch jp-mod-${s.kind} jp-mod-${s.tone}`} />
              {s.label}
              {props.current ? (
                <span className="jp-ExecutorlabUsage-legendValue" data-series={s.key}>
                  {s.value(props.current)}
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      </header>
      <svg ref={svg} />
    </section>
  );
}
