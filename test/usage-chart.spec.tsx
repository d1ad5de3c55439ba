import { nullTranslator } from '@jupyterlab/translation';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { act } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { CHART_CLASS, ISeries, renderTimeChart, withGaps } from '../src/components/usage/chart';
import { formatPercent } from '../src/components/usage/WorkerTable';
import { IUsageHistory, IUsageSample, IWorkerUsage, UsageModel } from '../src/usage/model';
import { RESOURCE_USAGE_ID, ResourceUsageWidget } from '../src/usage/widget';

const T0 = 1_763_700_000_000;

function sample(i: number, over: Partial<IUsageSample> = {}): IUsageSample {
  return { t: T0 + i * 1000, cores_busy: i % 3, cores_total: 4, gpus_busy: 0, gpus_total: 0, queued: i, running: 1, ...over };
}

const WORKER: IWorkerUsage = {
  worker_id: 'w-1',
  executor_id: 'e-1',
  host: 'node1',
  pid: 4242,
  ranks: 1,
  cpu_percent: 97.5,
  rss: 40_000_000,
  updated: T0
};

const SERIES: ISeries[] = [
  { key: 'cores_busy', label: 'busy', kind: 'area', tone: 'busy', value: s => s.cores_busy },
  { key: 'cores_total', label: 'total', kind: 'line', tone: 'total', value: s => s.cores_total }
];

function svg(): SVGSVGElement {
  const element = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  document.body.appendChild(element);
  return element;
}

/** Sub-paths of an SVG path: one per unbroken stretch of samples. */
function pieces(path: Element | null): number {
  return (path?.getAttribute('d') ?? '').split('M').length - 1;
}

describe('renderTimeChart', () => {
  afterEach(() => {
    document.body.textContent = '';
  });

  it('draws an area for what is busy and a line for the total, with grid values', () => {
    const element = svg();
    renderTimeChart(element, {
      series: SERIES,
      samples: [0, 1, 2, 3].map(i => sample(i)),
      width: 400,
      height: 120,
      gapMs: 2500,
      label: 'Cores',
      emptyText: 'No samples yet.'
    });
    expect(element.getAttribute('aria-label')).toBe('Cores');
    const area = element.querySelector(`path.${CHART_CLASS.area}[data-series="cores_busy"]`);
    const total = element.querySelector(`path.${CHART_CLASS.line}[data-series="cores_total"]`);
    expect(area?.classList.contains('jp-mod-busy')).toBe(true);
    expect(pieces(area)).toBe(1);
    expect(pieces(total)).toBe(1);
    const values = [...element.querySelectorAll(`.${CHART_CLASS.grid} text`)].map(t => t.textContent);
    expect(values).toContain('0');
    expect(values).toContain('4');
    expect(element.querySelectorAll(`g.${CHART_CLASS.axis} text`).length).toBeGreaterThan(0);
  });

  it('breaks the curves where nobody sampled, and redraws in place', () => {
    const samples = [sample(0), sample(1), sample(10), sample(11)];
    expect(withGaps(samples, 2500).map(p => (p ? p.t - T0 : null))).toEqual([0, 1000, null, 10_000, 11_000]);
    const element = svg();
    const options = { series: SERIES, samples, width: 400, height: 120, gapMs: 2500, label: 'Cores', emptyText: '' };
    renderTimeChart(element, options);
    renderTimeChart(element, options);
    expect(element.querySelectorAll('path')).toHaveLength(2);
    expect(pieces(element.querySelector('[data-series="cores_total"]'))).toBe(2);
  });

  it('says so when there are no samples', () => {
    const element = svg();
    renderTimeChart(element, {
      series: SERIES,
      samples: [],
      width: 400,
      height: 120,
      gapMs: 2500,
      label: 'Cores',
      emptyText: 'No samples yet.'
    });
    expect(element.querySelector('path')).toBeNull();
    expect(element.querySelector(`.${CHART_CLASS.empty}`)?.textContent).toBe('No samples yet.');
  });
});

describe('ResourceUsageWidget', () => {
  let history: IUsageHistory;
  let requests: number;
  let model: UsageModel;
  let widget: ResourceUsageWidget;

  beforeEach(() => {
    vi.useFakeTimers();
    requests = 0;
    history = { interval_ms: 1000, samples: [sample(0), sample(1), sample(2, { gpus_total: 2, gpus_busy: 1 })], workers: [WORKER] };
    model = new UsageModel({
      request: async <T,>() => {
        requests++;
        return history as unknown as T;
      }
    });
    widget = new ResourceUsageWidget({ model, translator: nullTranslator });
  });

  afterEach(() => {
    widget.dispose();
    model.dispose();
    vi.useRealTimers();
    document.body.textContent = '';
  });

  async function settle(): Promise<void> {
    await act(async () => {
      await vi.advanceTimersByTimeAsync(0);
      MessageLoop.flush();
    });
  }

  it('is a main-area widget with a translated title', () => {
    expect(widget.id).toBe(RESOURCE_USAGE_ID);
    expect(widget.title.label).toBe('Resource Usage');
    expect(widget.title.closable).toBe(true);
  });

  it('draws the charts and the worker table once shown, and stops while hidden', async () => {
    expect(requests).toBe(0);
    Widget.attach(widget, document.body);
    await settle();
    expect(model.active).toBe(true);
    expect(requests).toBe(1);
    const charts = widget.node.querySelectorAll(`svg.${CHART_CLASS.chart}`);
    expect([...charts].map(c => c.getAttribute('aria-label'))).toEqual(['Cores', 'GPUs', 'Calls']);
    const row = widget.node.querySelector('tr[data-worker-id="w-1"]');
    expect([...row!.querySelectorAll('td')].map(td => td.textContent)).toEqual(['e-1', 'node1', '4242', '98 %', '40 MB']);
    expect(widget.node.querySelector('[data-series="queued"].jp-ExecutorlabUsage-legendValue')?.textContent).toBe('2');

    widget.hide();
    expect(model.active).toBe(false);
    history = { ...history, samples: [...history.samples, sample(3, { queued: 7 })] };
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000);
      model.addEvent({ type: 'usage', sample: sample(4, { queued: 9 }), workers: [] });
      MessageLoop.flush();
    });
    expect(requests).toBe(1);
    // Hidden: nothing was redrawn.
    expect(widget.node.querySelector('tr[data-worker-id="w-1"]')).not.toBeNull();

    widget.show();
    await settle();
    expect(model.active).toBe(true);
    expect(widget.node.querySelector('[data-series="queued"].jp-ExecutorlabUsage-legendValue')?.textContent).toBe('9');
  });

  it('formats CPU shares as top does', () => {
    expect(formatPercent(null)).toBe('–');
    expect(formatPercent(3.14)).toBe('3.1 %');
    expect(formatPercent(197.6)).toBe('198 %');
  });
});
