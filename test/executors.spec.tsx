import { nullTranslator } from '@jupyterlab/translation';
import { cleanup, render } from '@testing-library/react';
import * as React from 'react';
import { afterEach, describe, expect, it } from 'vitest';

import { parseBridgeEvent } from '../src/bridge/protocol';
import { ExecutorList } from '../src/components/ExecutorList';
import { IExecutorView } from '../src/tokens';

const trans = nullTranslator.load('executorlab');

afterEach(cleanup);

const executor = (overrides: Partial<IExecutorView> = {}): IExecutorView => ({
  id: 'e-1',
  name: 'SlurmJobExecutor',
  backend: 'slurm',
  client_id: 'k-1',
  block_allocation: false,
  max_cores: 8,
  max_workers: null,
  cores_in_use: 3,
  running: 3,
  unfinished: 5,
  shutdown: false,
  orphaned: false,
  ...overrides
});

describe('executors', () => {
  it('decodes an executors event and drops malformed entries', () => {
    const event = parseBridgeEvent(
      JSON.stringify({ type: 'executors', executors: [executor(), { id: 'broken' }] })
    );
    expect(event).toEqual({ type: 'executors', executors: [executor()] });
  });

  it('lists where calls run, cores busy against the limit, and orphaned executors', () => {
    const { container } = render(
      <ExecutorList
        executors={[
          executor(),
          executor({ id: 'e-2', name: 'SlurmClusterExecutor', backend: 'slurm-cluster', max_cores: null, orphaned: true }),
          executor({ id: 'e-3', name: 'SingleNodeExecutor', backend: 'local', shutdown: true, unfinished: 0 })
        ]}
        trans={trans}
      />
    );
    const items = container.querySelectorAll('.jp-executorlab-ExecutorList-item');
    expect(items).toHaveLength(2);
    expect(items[0].textContent).toContain('SLURM steps');
    expect(items[0].textContent).toContain('3/8 cores busy');
    expect(items[0].textContent).toContain('3 running, 5 unfinished');
    expect(items[1].textContent).toContain('SLURM, a job per call');
    expect(items[1].textContent).toContain('orphaned');
  });
});
