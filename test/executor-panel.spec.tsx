import { Dialog } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { act, cleanup, fireEvent, render, waitFor } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { ExecutorList } from '../src/components/ExecutorList';
import { ExecutorPanelActions } from '../src/executors/actions';
import {
  availableBackends,
  emptyExecutorForm,
  ownerLabel,
  validateExecutorForm
} from '../src/executors/model';
import { IExecutorView, Placement } from '../src/tokens';
import { jsonResponse, makeSettings } from './helpers';

const trans = nullTranslator.load('executorlab');

const executor = (overrides: Partial<IExecutorView> = {}): IExecutorView => ({
  id: 'e-1',
  name: 'gpu-pool',
  backend: 'local',
  client_id: 'panel',
  block_allocation: false,
  max_cores: 4,
  max_workers: null,
  cores_in_use: 0,
  running: 0,
  unfinished: 0,
  shutdown: false,
  orphaned: false,
  ...overrides
});

const SLURM: Placement = {
  kind: 'slurm',
  hostname: 'node01',
  job_id: '4242',
  nodes: 2,
  node_list: 'node[01-02]',
  cpus: 64,
  gpus: null,
  time_left: '1:00:00',
  end_time: null
};
const FLUX: Placement = {
  kind: 'flux',
  hostname: 'node01',
  uri: 'local:///tmp/flux',
  nodes: 1,
  cpus: 16,
  gpus: 0
};
const LOCAL: Placement = { kind: 'local', hostname: 'laptop', cpus: 8, gpus: 0 };

interface ICall {
  method: string;
  path: string;
  body: any;
}

/**
 * The bridge's executors API behind the Jupyter server (`<base>/executorlab/api/…`),
 * answered through `requestAPI` with a fake `fetch`.
 */
class FakeBridge {
  calls: ICall[] = [];
  /** The next create is refused with this status and `{error}`. */
  refuseCreate: { status: number; error: string } | null = null;
  refuseStop: { status: number; error: string } | null = null;

  actions = new ExecutorPanelActions({
    serverSettings: makeSettings({ fetch: (input, init) => this._fetch(input, init) })
  });

  posts(path: string): ICall[] {
    return this.calls.filter(c => c.method === 'POST' && c.path === path);
  }

  private async _fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    const request = new Request(input, init);
    const url = new URL(request.url);
    const prefix = '/lab-base/executorlab/';
    expect(url.pathname.startsWith(prefix)).toBe(true);
    const path = url.pathname.slice(prefix.length);
    const text = await request.text();
    const body = text ? JSON.parse(text) : undefined;
    this.calls.push({ method: request.method, path, body });
    if (request.method === 'POST' && path === 'api/executors') {
      if (this.refuseCreate) {
        return jsonResponse({ error: this.refuseCreate.error }, this.refuseCreate.status);
      }
      return jsonResponse({
        executor: executor({
          id: 'e-new',
          name: body.name,
          backend: body.backend,
          max_cores: body.max_cores,
          max_workers: body.max_workers,
          block_allocation: body.block_allocation
        })
      });
    }
    const stop = /^api\/executors\/([^/]+)\/shutdown$/.exec(path);
    if (request.method === 'POST' && stop) {
      if (this.refuseStop) {
        return jsonResponse({ error: this.refuseStop.error }, this.refuseStop.status);
      }
      return jsonResponse({ ok: true });
    }
    return jsonResponse({ error: 'not found' }, 404);
  }
}

function button(action: string, container: ParentNode = document): HTMLButtonElement | null {
  return container.querySelector<HTMLButtonElement>(`[data-action="${action}"]`);
}

/** The dialog open now, once it is there (and its React body rendered). */
async function dialog(testid?: string): Promise<HTMLElement> {
  return waitFor(() => {
    const node = document.querySelector<HTMLElement>('.jp-Dialog');
    if (!node) {
      throw new Error('no dialog');
    }
    if (testid && !node.querySelector(`[data-testid="${testid}"]`)) {
      throw new Error(`no ${testid} in the dialog yet`);
    }
    return node;
  });
}

function field<T extends HTMLElement = HTMLInputElement>(node: ParentNode, name: string): T {
  const element = node.querySelector<T>(`[data-testid="executorlab-new-executor-${name}"]`);
  if (!element) {
    throw new Error(`no field ${name}`);
  }
  return element;
}

async function clickDialogButton(label: string): Promise<void> {
  const node = await dialog();
  const target = [...node.querySelectorAll<HTMLButtonElement>('.jp-Dialog-button')].find(
    b => b.textContent?.trim() === label
  );
  if (!target) {
    throw new Error(`no dialog button ${label}`);
  }
  await act(async () => {
    target.click();
  });
  await waitFor(() => {
    if (document.body.contains(node)) {
      throw new Error('dialog still open');
    }
  });
}

async function type(input: HTMLElement, value: string): Promise<void> {
  await act(async () => {
    fireEvent.change(input, { target: { value } });
  });
}

afterEach(() => {
  cleanup();
  Dialog.flush();
  document.body.innerHTML = '';
});

describe('executor model', () => {
  it('offers the backends the placement allows, cluster variants always', () => {
    expect(availableBackends(null)).toEqual(['local', 'slurm-cluster', 'flux-cluster']);
    expect(availableBackends(LOCAL)).toEqual(['local', 'slurm-cluster', 'flux-cluster']);
    expect(availableBackends(SLURM)).toEqual(['local', 'slurm', 'slurm-cluster', 'flux-cluster']);
    expect(availableBackends(FLUX)).toEqual(['local', 'flux', 'slurm-cluster', 'flux-cluster']);
  });

  it('says whose an executor is', () => {
    expect(ownerLabel({ client_id: 'panel' }, trans)).toBe('started from the panel');
    expect(ownerLabel({ client_id: 'k-0123456789abcdef0123456789abcdef' }, trans)).toBe(
      'kernel 01234567'
    );
  });

  it('validates name, numbers and the cache path', () => {
    const form = emptyExecutorForm(null);
    expect(validateExecutorForm(form, trans).errors).toEqual({ name: 'Enter a name.' });
    const bad = validateExecutorForm(
      {
        ...form,
        name: 'a/b',
        maxCores: '0',
        blockAllocation: true,
        maxWorkers: '1.5',
        cacheDirectory: 'relative/cache'
      },
      trans
    );
    expect(Object.keys(bad.errors ?? {}).sort()).toEqual([
      'cacheDirectory',
      'maxCores',
      'maxWorkers',
      'name'
    ]);
    expect(
      validateExecutorForm({ ...form, name: 'ok', maxCores: '2000000' }, trans).errors
    ).toEqual({ maxCores: 'Enter a whole number from 1 to 1000000, or leave it empty.' });
    expect(
      validateExecutorForm({ ...form, name: 'ok', cacheDirectory: 'C:\\cache' }, trans).errors
    ).toEqual({ cacheDirectory: 'Enter an absolute path, e.g. /scratch/me/cache.' });
    expect(validateExecutorForm({ ...form, name: 'x'.repeat(65) }, trans).errors?.name).toBe(
      'A name has at most 64 characters.'
    );
    // Max workers only counts with block allocation.
    expect(
      validateExecutorForm({ ...form, name: 'ok', maxWorkers: 'junk' }, trans).spec
    ).toEqual({
      name: 'ok',
      backend: 'local',
      max_cores: null,
      max_workers: null,
      block_allocation: false,
      cache_directory: null
    });
  });
});

describe('ExecutorList with panel actions', () => {
  let bridge: FakeBridge;

  beforeEach(() => {
    bridge = new FakeBridge();
  });

  const executors = [
    executor(),
    executor({ id: 'e-2', name: 'kernel-one', client_id: 'k-abcdef0123456789', backend: 'slurm' }),
    executor({ id: 'e-3', name: 'stopping', shutdown: true, unfinished: 2 })
  ];

  it('renders as before without actions: no header, no Stop; owners shown', () => {
    const { container } = render(<ExecutorList executors={executors} trans={trans} />);
    expect(button('new-executor', container)).toBeNull();
    expect(button('stop-executor', container)).toBeNull();
    const owners = [...container.querySelectorAll('.jp-executorlab-ExecutorList-owner')].map(
      o => o.textContent
    );
    expect(owners).toEqual(['started from the panel', 'kernel abcdef01', 'started from the panel']);
    cleanup();
    expect(render(<ExecutorList executors={[]} trans={trans} />).container.innerHTML).toBe('');
  });

  it('has New executor… with actions, and Stop only on running panel executors', () => {
    const { container } = render(
      <ExecutorList executors={executors} trans={trans} actions={bridge.actions} />
    );
    expect(button('new-executor', container)?.textContent).toBe('New executor…');
    const stops = [...container.querySelectorAll('[data-action="stop-executor"]')].map(
      b => b.closest('li')?.dataset.executorId
    );
    expect(stops).toEqual(['e-1']);
    cleanup();
    // No executor yet: the header still offers to start one.
    const empty = render(<ExecutorList executors={[]} trans={trans} actions={bridge.actions} />);
    expect(button('new-executor', empty.container)).not.toBeNull();
  });

  it('creates an executor: posts the spec and shows how to connect', async () => {
    render(
      <ExecutorList executors={[]} trans={trans} actions={bridge.actions} placement={SLURM} />
    );
    fireEvent.click(button('new-executor')!);
    const form = await dialog('executorlab-new-executor-name');
    expect(field<HTMLSelectElement>(form, 'backend').value).toBe('slurm');
    expect(field(form, 'max-workers').disabled).toBe(true);

    await type(field(form, 'name'), 'gpu-pool');
    await act(async () => {
      fireEvent.change(field<HTMLSelectElement>(form, 'backend'), {
        target: { value: 'slurm-cluster' }
      });
    });
    await type(field(form, 'max-cores'), '16');
    await act(async () => {
      fireEvent.click(field(form, 'block-allocation'));
    });
    expect(field(form, 'max-workers').disabled).toBe(false);
    await type(field(form, 'max-workers'), '4');
    await type(field(form, 'cache-directory'), '/scratch/me/cache');
    expect(form.querySelector('[role="alert"]')).toBeNull();
    expect(button('new-executor')?.disabled).toBe(true);
    await clickDialogButton('Create');

    await waitFor(() => expect(bridge.posts('api/executors')).toHaveLength(1));
    expect(bridge.posts('api/executors')[0].body).toEqual({
      name: 'gpu-pool',
      backend: 'slurm-cluster',
      max_cores: 16,
      max_workers: 4,
      block_allocation: true,
      cache_directory: '/scratch/me/cache'
    });
    const hint = await dialog('executorlab-new-executor-connect');
    expect(hint.querySelector('.jp-Dialog-header')?.textContent).toContain(
      'Executor gpu-pool Started'
    );
    expect(
      hint.querySelector('[data-testid="executorlab-new-executor-connect"]')?.textContent
    ).toBe('exe = executorlab.connect("gpu-pool")');
    expect(button('copy-connect', hint)).not.toBeNull();
    await clickDialogButton('Close');
    await waitFor(() => expect(button('new-executor')?.disabled).toBe(false));
  });

  it('shows why a field is wrong and asks again instead of posting', async () => {
    render(<ExecutorList executors={[]} trans={trans} actions={bridge.actions} />);
    fireEvent.click(button('new-executor')!);
    let form = await dialog('executorlab-new-executor-name');
    await type(field(form, 'name'), 'bad/name');
    await type(field(form, 'cache-directory'), 'cache');
    await waitFor(() =>
      expect(
        form.querySelector('[data-testid="executorlab-new-executor-name-error"]')?.textContent
      ).toBe('Use letters, digits, spaces, "_", "." and "-" only.')
    );
    expect(
      form.querySelector('[data-testid="executorlab-new-executor-cacheDirectory-error"]')
        ?.textContent
    ).toBe('Enter an absolute path, e.g. /scratch/me/cache.');
    // Max cores untouched: no reason shown for it yet.
    expect(form.querySelector('[data-testid="executorlab-new-executor-maxCores-error"]')).toBeNull();

    await clickDialogButton('Create');
    form = await dialog('executorlab-new-executor-name-error');
    // The same values come back, with every reason.
    expect(field(form, 'name').value).toBe('bad/name');
    expect(field(form, 'cache-directory').value).toBe('cache');
    expect(bridge.calls).toHaveLength(0);
    await clickDialogButton('Cancel');
    expect(bridge.calls).toHaveLength(0);
  });

  it('greys out Create while a typed value breaks a rule', async () => {
    render(<ExecutorList executors={[]} trans={trans} actions={bridge.actions} />);
    fireEvent.click(button('new-executor')!);
    const form = await dialog('executorlab-new-executor-name');
    const create = [...form.querySelectorAll<HTMLButtonElement>('.jp-Dialog-button')].find(
      b => b.textContent?.trim() === 'Create'
    )!;
    const input = async (name: string, value: string) =>
      act(async () => {
        fireEvent.input(field(form, name), { target: { value } });
      });
    await input('name', 'bad/name');
    expect(create.disabled).toBe(true);
    await input('name', 'good name');
    expect(create.disabled).toBe(false);
    await input('max-cores', '0');
    expect(create.disabled).toBe(true);
    await input('max-cores', '2');
    await input('cache-directory', 'relative');
    expect(create.disabled).toBe(true);
    await input('cache-directory', '/abs');
    expect(create.disabled).toBe(false);
    await clickDialogButton('Create');
    await waitFor(() => expect(bridge.posts('api/executors')).toHaveLength(1));
    expect(bridge.posts('api/executors')[0].body).toMatchObject({
      name: 'good name',
      max_cores: 2,
      cache_directory: '/abs'
    });
    await clickDialogButton('Close');
  });

  it('shows the bridge refusing (409) and keeps nothing', async () => {
    bridge.refuseCreate = { status: 409, error: 'An executor named "gpu-pool" exists.' };
    render(<ExecutorList executors={[]} trans={trans} actions={bridge.actions} />);
    fireEvent.click(button('new-executor')!);
    const form = await dialog('executorlab-new-executor-name');
    await type(field(form, 'name'), 'gpu-pool');
    await clickDialogButton('Create');
    await waitFor(() => expect(bridge.posts('api/executors')).toHaveLength(1));
    const error = await dialog();
    expect(error.querySelector('.jp-Dialog-header')?.textContent).toContain(
      'Executor Not Created'
    );
    expect(error.querySelector('.jp-Dialog-body')?.textContent).toBe(
      'An executor named "gpu-pool" exists.'
    );
    await clickDialogButton('Close');
    expect(document.querySelector('.jp-Dialog')).toBeNull();
    expect(bridge.calls).toHaveLength(1);
  });

  it('stops an idle executor at once', async () => {
    render(<ExecutorList executors={[executor()]} trans={trans} actions={bridge.actions} />);
    fireEvent.click(button('stop-executor')!);
    await waitFor(() => expect(bridge.posts('api/executors/e-1/shutdown')).toHaveLength(1));
    expect(document.querySelector('.jp-Dialog')).toBeNull();
    // Until the bridge reports it shut down, it cannot be stopped twice.
    await waitFor(() => expect(button('stop-executor')?.disabled).toBe(true));
  });

  it('asks before stopping an executor with unfinished calls', async () => {
    const busy = executor({ running: 2, unfinished: 3 });
    render(<ExecutorList executors={[busy]} trans={trans} actions={bridge.actions} />);
    fireEvent.click(button('stop-executor')!);
    let ask = await dialog('executorlab-stop-executor-question');
    expect(
      ask.querySelector('[data-testid="executorlab-stop-executor-question"]')?.textContent
    ).toBe('Stop gpu-pool? 3 calls are unfinished; they will be cancelled.');
    expect(ask.querySelector('.jp-Dialog-button.jp-mod-warn')?.textContent?.trim()).toBe('Stop');
    await clickDialogButton('Cancel');
    expect(bridge.calls).toHaveLength(0);
    await waitFor(() => expect(button('stop-executor')?.disabled).toBe(false));

    fireEvent.click(button('stop-executor')!);
    ask = await dialog('executorlab-stop-executor-question');
    await clickDialogButton('Stop');
    await waitFor(() => expect(bridge.posts('api/executors/e-1/shutdown')).toHaveLength(1));
  });

  it('shows why a stop failed', async () => {
    bridge.refuseStop = { status: 404, error: 'no executor e-1' };
    render(<ExecutorList executors={[executor()]} trans={trans} actions={bridge.actions} />);
    fireEvent.click(button('stop-executor')!);
    const error = await dialog();
    await waitFor(() =>
      expect(error.querySelector('.jp-Dialog-body')?.textContent).toBe('no executor e-1')
    );
    expect(error.querySelector('.jp-Dialog-header')?.textContent).toContain(
      'Executor Not Stopped'
    );
    await clickDialogButton('Close');
  });

  it.each([
    [null, ['Local (this machine)', 'SLURM, a job per call (SlurmClusterExecutor)', 'flux, a job per call (FluxClusterExecutor)'], 'local'],
    [
      SLURM,
      [
        'Local (this machine)',
        'SLURM steps (SlurmJobExecutor)',
        'SLURM, a job per call (SlurmClusterExecutor)',
        'flux, a job per call (FluxClusterExecutor)'
      ],
      'slurm'
    ],
    [
      FLUX,
      [
        'Local (this machine)',
        'flux jobs (FluxJobExecutor)',
        'SLURM, a job per call (SlurmClusterExecutor)',
        'flux, a job per call (FluxClusterExecutor)'
      ],
      'flux'
    ]
  ] as [Placement | null, string[], string][])(
    'offers the backends of placement %#',
    async (placement, labels, selected) => {
      render(
        <ExecutorList
          executors={[]}
          trans={trans}
          actions={bridge.actions}
          placement={placement}
        />
      );
      fireEvent.click(button('new-executor')!);
      const form = await dialog('executorlab-new-executor-backend');
      const select = field<HTMLSelectElement>(form, 'backend');
      expect([...select.options].map(o => o.textContent)).toEqual(labels);
      expect(select.value).toBe(selected);
      await clickDialogButton('Cancel');
    }
  );
});
