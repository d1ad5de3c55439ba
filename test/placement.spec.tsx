import { nullTranslator } from '@jupyterlab/translation';
import { act, cleanup, render } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';

import { BridgeConnection } from '../src/bridge/connection';
import { formatTimeLeft, PlacementNotice } from '../src/components/PlacementNotice';
import { TaskMonitor } from '../src/components/TaskMonitor';
import { DEFAULT_TASK_FILTER } from '../src/tasks/filter';
import { isPlacement, TaskMonitorModel } from '../src/tasks/model';
import { IFluxPlacement, ILocalPlacement, ISlurmPlacement, Placement } from '../src/tokens';
import { FakeWebSocket, jsonResponse, makeSettings } from './helpers';

const trans = nullTranslator.load('executorlab');

afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const LOCAL: ILocalPlacement = { kind: 'local', hostname: 'laptop', cpus: 8, gpus: 0 };

const NOW = 1_800_000_000_000;

const SLURM: ISlurmPlacement = {
  kind: 'slurm',
  hostname: 'node01',
  job_id: '123',
  nodes: 2,
  node_list: 'node[01-02]',
  cpus: 16,
  gpus: 2,
  time_left: '1:23:45',
  end_time: NOW + (1 * 3600 + 23 * 60 + 45) * 1000
};

const FLUX: IFluxPlacement = {
  kind: 'flux',
  hostname: 'node07',
  uri: 'local:///tmp/flux-xyz/local-0',
  nodes: 4,
  cpus: 64,
  gpus: 0
};

function notice(container: HTMLElement): HTMLElement | null {
  return container.querySelector<HTMLElement>('.jp-executorlab-PlacementNotice');
}

function renderNotice(placement: Placement | null, now = NOW): HTMLElement | null {
  const { container } = render(<PlacementNotice placement={placement} trans={trans} now={now} />);
  return notice(container);
}

describe('PlacementNotice', () => {
  it('renders nothing while the placement is unknown', () => {
    expect(renderNotice(null)).toBeNull();
  });

  it('local: host and CPUs, GPUs only when there are some', () => {
    const line = renderNotice(LOCAL)!;
    expect(line.textContent).toBe('Local · laptop · 8 CPUs');
    expect(line.dataset.kind).toBe('local');
    expect(line.title).toContain('Bridge host: laptop');
    cleanup();
    expect(renderNotice({ ...LOCAL, cpus: 1, gpus: 1 })!.textContent).toBe('Local · laptop · 1 CPU · 1 GPU');
  });

  it('SLURM: job, nodes, CPUs, GPUs and the time left; node list in the tooltip', () => {
    const line = renderNotice(SLURM)!;
    expect(line.textContent).toBe('SLURM job 123 · 2 nodes · 16 CPUs · 2 GPUs · 1:23:45 left');
    expect(line.dataset.kind).toBe('slurm');
    expect(line.dataset.timeLow).toBeUndefined();
    expect(line.title).toContain('Nodes: node[01-02]');
    expect(line.title).toContain('SLURM job: 123');
    expect(line.title).toContain('Ends: ');
  });

  it('SLURM: the time left counts from the end time, and warns near the end', () => {
    const line = renderNotice(SLURM, SLURM.end_time! - 5 * 60 * 1000)!;
    expect(line.textContent).toBe('SLURM job 123 · 2 nodes · 16 CPUs · 2 GPUs · 0:05:00 left');
    expect(line.dataset.timeLow).toBe('true');
    cleanup();
    expect(renderNotice(SLURM, SLURM.end_time! + 1)!.textContent).toContain('time is up');
  });

  it('SLURM: without an end time, squeue’s text or no time limit; unknown GPUs are left out', () => {
    const single = { ...SLURM, nodes: 1, node_list: null, gpus: null, end_time: null };
    const line = renderNotice({ ...single, time_left: 'UNLIMITED' })!;
    expect(line.textContent).toBe('SLURM job 123 · 1 node · 16 CPUs · no time limit');
    expect(line.title).not.toContain('Nodes:');
    cleanup();
    expect(renderNotice({ ...single, time_left: '2-00:00:00' })!.textContent).toBe(
      'SLURM job 123 · 1 node · 16 CPUs · 2-00:00:00 left'
    );
    cleanup();
    expect(renderNotice({ ...single, time_left: null })!.textContent).toBe('SLURM job 123 · 1 node · 16 CPUs');
  });

  it('flux: nodes and CPUs, the URI in the tooltip', () => {
    const line = renderNotice(FLUX)!;
    expect(line.textContent).toBe('flux instance · 4 nodes · 64 CPUs');
    expect(line.dataset.kind).toBe('flux');
    expect(line.title).toContain('flux instance: local:///tmp/flux-xyz/local-0');
    cleanup();
    const unknown = renderNotice({ ...FLUX, nodes: null, cpus: null, gpus: null })!;
    expect(unknown.textContent).toBe('flux instance');
    expect(unknown.title).toContain('flux resource list');
  });

  it('ticks the time left every second when no clock is given', () => {
    vi.useFakeTimers({ now: NOW });
    const { container } = render(<PlacementNotice placement={SLURM} trans={trans} />);
    expect(notice(container)!.textContent).toContain('1:23:45 left');
    act(() => vi.advanceTimersByTime(2_000));
    expect(notice(container)!.textContent).toContain('1:23:43 left');
  });
});

describe('formatTimeLeft', () => {
  it('prints squeue’s forms', () => {
    expect(formatTimeLeft(0)).toBe('0:00:00');
    expect(formatTimeLeft(-5_000)).toBe('0:00:00');
    expect(formatTimeLeft(59_999)).toBe('0:00:59');
    expect(formatTimeLeft((10 * 3600 + 5) * 1000)).toBe('10:00:05');
    expect(formatTimeLeft((86_400 * 2 + 3 * 3600 + 4 * 60 + 5) * 1000)).toBe('2-03:04:05');
  });
});

describe('isPlacement', () => {
  it('accepts the three kinds and refuses anything else', () => {
    expect([LOCAL, SLURM, FLUX].every(isPlacement)).toBe(true);
    expect(isPlacement(undefined)).toBe(false);
    expect(isPlacement(null)).toBe(false);
    expect(isPlacement({ ...LOCAL, kind: 'pbs' })).toBe(false);
    expect(isPlacement({ ...SLURM, cpus: '16' })).toBe(false);
    expect(isPlacement({ ...FLUX, uri: undefined })).toBe(false);
  });
});

describe('TaskMonitor', () => {
  it('shows the placement the bridge status reports, on top', async () => {
    FakeWebSocket.reset();
    const connection = new BridgeConnection({
      serverSettings: makeSettings({
        fetch: () => Promise.resolve(jsonResponse({ version: '0.1.0', pid: 42, started: 1, placement: FLUX }))
      })
    });
    const model = new TaskMonitorModel(connection);
    const { container } = render(<TaskMonitor model={model} filter={DEFAULT_TASK_FILTER} trans={trans} />);
    expect(notice(container)).toBeNull();
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [] }));
    await vi.waitFor(() => expect(notice(container)?.textContent).toBe('flux instance · 4 nodes · 64 CPUs'));
    expect(container.querySelector('.jp-executorlab-TaskMonitor')?.firstElementChild).toBe(notice(container));
    // Gone with the connection: it was the old bridge's.
    act(() => FakeWebSocket.last.drop());
    expect(notice(container)).toBeNull();
    model.dispose();
    connection.dispose();
  });

  it('shows nothing for an older bridge without a placement', async () => {
    FakeWebSocket.reset();
    const connection = new BridgeConnection({ serverSettings: makeSettings() });
    const model = new TaskMonitorModel(connection);
    const { container } = render(<TaskMonitor model={model} filter={DEFAULT_TASK_FILTER} trans={trans} />);
    act(() => FakeWebSocket.last.push({ type: 'snapshot', tasks: [] }));
    await vi.waitFor(() => expect(model.bridgeStatus).not.toBeNull());
    expect(model.placement).toBeNull();
    expect(notice(container)).toBeNull();
    model.dispose();
    connection.dispose();
  });
});
