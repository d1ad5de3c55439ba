import { scaleLinear, scaleTime } from 'd3-scale';
import { select } from 'd3-selection';
import { area, curveStepAfter, line } from 'd3-shape';

import { IUsageSample } from '../../usage/model';

export const CHART_CLASS = {
  chart: 'jp-ExecutorlabUsage-chart',
  grid: 'jp-ExecutorlabUsage-grid',
  axis: 'jp-ExecutorlabUsage-axis',
  area: 'jp-ExecutorlabUsage-area',
  line: 'jp-ExecutorlabUsage-line',
  empty: 'jp-ExecutorlabUsage-chartEmpty'
};

/**
 * One curve of a chart: a filled area (what is busy) or a line (the total, a
 * second count). `tone` picks its colour class (`jp-mod-<tone>`), themed in
 * style/usage.css.
 */
export interface ISeries {
  key: string;
  label: string;
  kind: 'area' | 'line';
  tone: 'busy' | 'total' | 'queued' | 'running';
  value: (sample: IUsageSample) => number;
}

export interface IChartOptions {
  series: ISeries[];
  samples: readonly IUsageSample[];
  width: number;
  height: number;
  /** A gap of more than this between two samples (ms) breaks the curves: nobody sampled then. */
  gapMs: number;
  /** The time axis spans at least this (ms), so a short history is not stretched. */
  minSpanMs?: number;
  /** Accessible name of the chart. */
  label: string;
  /** Shown when there are no samples. */
  emptyText: string;
}

const MARGIN = { top: 8, right: 12, bottom: 20, left: 36 };

/** A break in the curves (a gap in the history). */
type Point = IUsageSample | null;

/**
 * The samples with `null` where the time between two exceeds `gapMs`.
 */
export function withGaps(samples: readonly IUsageSample[], gapMs: number): Point[] {
  const points: Point[] = [];
  samples.forEach((sample, i) => {
    if (i > 0 && sample.t - samples[i - 1].t > gapMs) {
      points.push(null);
    }
    points.push(sample);
  });
  return points;
}

/**
 * Draw a time chart of `samples` into `svg` (an SVG element this function
 * owns: it replaces what it drew before): the series' areas and lines, a few
 * horizontal grid lines with their values, and time ticks. Counts are whole
 * numbers; the y axis starts at 0 and reaches the largest value (at least 1).
 */
export function renderTimeChart(svg: SVGSVGElement, options: IChartOptions): void {
  const { series, samples, width, height } = options;
  const root = select(svg)
    .attr('class', CHART_CLASS.chart)
    .attr('width', width)
    .attr('height', height)
    .attr('viewBox', `0 0 ${width} ${height}`)
    .attr('role', 'img')
    .attr('aria-label', options.label);
  root.selectAll('*').remove();
  if (samples.length === 0) {
    root
      .append('text')
      .attr('class', CHART_CLASS.empty)
      .attr('x', width / 2)
      .attr('y', height / 2)
      .attr('text-anchor', 'middle')
      .text(options.emptyText);
    return;
  }
  const last = samples[samples.length - 1].t;
  const first = Math.min(samples[0].t, last - (options.minSpanMs ?? 60_000));
  const x = scaleTime()
    .domain([new Date(first), new Date(last)])
    .range([MARGIN.left, Math.max(MARGIN.left + 1, width - MARGIN.right)]);
  let top = 1;
  for (const sample of samples) {
    for (const s of series) {
      top = Math.max(top, s.value(sample));
    }
  }
  const y = scaleLinear()
    .domain([0, top])
    .range([Math.max(MARGIN.top + 1, height - MARGIN.bottom), MARGIN.top])
    .nice(4);
  const yTicks = y.ticks(4).filter(Number.isInteger);

  const grid = root.append('g').attr('class', CHART_CLASS.grid);
  grid
    .selectAll('line')
    .data(yTicks)
    .join('line')
    .attr('x1', MARGIN.left)
    .attr('x2', width - MARGIN.right)
    .attr('y1', d => y(d))
    .attr('y2', d => y(d));
  grid
    .selectAll('text')
    .data(yTicks)
    .join('text')
    .attr('class', CHART_CLASS.axis)
    .attr('x', MARGIN.left - 4)
    .attr('y', d => y(d))
    .attr('dy', '0.32em')
    .attr('text-anchor', 'end')
    .text(d => String(d));
  const timeFormat = x.tickFormat();
  root
    .append('g')
    .attr('class', CHART_CLASS.axis)
    .selectAll('text')
    .data(x.ticks(Math.max(2, Math.floor(width / 110))))
    .join('text')
    .attr('x', d => x(d))
    .attr('y', height - 4)
    .attr('text-anchor', 'middle')
    .text(d => timeFormat(d));

  const points = withGaps(samples, options.gapMs);
  const defined = (p: Point): p is IUsageSample => p !== null;
  for (const s of series) {
    const value = (p: Point) => y(s.value(p as IUsageSample));
    const time = (p: Point) => x(new Date((p as IUsageSample).t));
    const path =
      s.kind === 'area'
        ? area<Point>().defined(defined).x(time).y0(y(0)).y1(value).curve(curveStepAfter)(points)
        : line<Point>().defined(defined).x(time).y(value).curve(curveStepAfter)(points);
    root
      .append('path')
      .attr('class', `${s.kind === 'area' ? CHART_CLASS.area : CHART_CLASS.line} jp-mod-${s.tone}`)
      .attr('data-series', s.key)
      .attr('d', path ?? '')
      .append('title')
      .text(s.label);
  }
}
