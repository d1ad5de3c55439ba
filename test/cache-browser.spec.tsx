import { Dialog } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { MessageLoop } from '@lumino/messaging';
import { Widget } from '@lumino/widgets';
import { act, cleanup, fireEvent, render, screen, waitFor } from '@testing-library/react';
import * as React from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { formatBytes, formatRelativeTime } from '../src/cache/format';
import { CacheBrowserModel } from '../src/cache/model';
import {
  CacheRequest,
  ICacheEntry,
  ICacheListing,
  ICleanReport,
  IDeleteReport
} from '../src/cache/tokens';
import { CACHE_BROWSER_ID, CacheBrowserWidget } from '../src/cache/widget';
import { CacheBrowser } from '../src/components/cache/CacheBrowser';
import {
  CleanConfirmation,
  CleanModeForm,
  cleanPlanLines
} from '../src/components/cache/CleanCacheDialog';

const trans = nullTranslator.load('executorlab');
const DIR = '/home/user/cache';
const NOW_S = 1_763_700_000;

function makeEntry(i: number, overrides: Partial<ICacheEntry> = {}): ICacheEntry {
  const key = `fn${i}${'a'.repeat(32)}`;
  return {
    file: `${key}_o.h5`,
    key,
    function: `fn${i}`,
    status: 'done',
    runtime: 1.5,
    size: 500_000,
    modified: NOW_S - i * 3600,
    result: `result ${i}`,
    writer: 'executorlab',
    queue_id: null,
    in_use: false,
    ...overrides
  };
}

interface ICall {
  path: string;
  method: string;
  body: any;
  params: URLSearchParams;
}

/**
 * The bridge's cache API over an in-memory directory.
 */
class FakeCacheAPI {
  entries: ICacheEntry[] = [];
  calls: ICall[] = [];
  refuse: { status: number; message: string } | null = null;

  request: CacheRequest = async <T,>(path: string, init: RequestInit = {}): Promise<T> => {
    const [route, query = ''] = path.split('?');
    const params = new URLSearchParams(query);
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(init.body as string) : undefined;
    this.calls.push({ path, method, body, params });
    await Promise.resolve();
    if (this.refuse && route !== 'api/cache/directories') {
      throw new ServerConnection.ResponseError(
        new Response('', { status: this.refuse.status }),
        this.refuse.message
      );
    }
    switch (`${method} ${route}`) {
      case 'GET api/cache/directories':
        return { directories: [DIR, '/tmp/other'] } as T;
      case 'GET api/cache': {
        const sort = params.get('sort') as keyof ICacheEntry;
        const sign = params.get('order') === 'asc' ? 1 : -1;
        const sorted = [...this.entries].sort((a, b) => {
          const [x, y] = [a[sort] as any, b[sort] as any];
          return sign * (x < y ? -1 : x > y ? 1 : 0) || (a.file < b.file ? -1 : 1);
        });
        const offset = Number(params.get('offset'));
        const limit = Number(params.get('limit'));
        const listing: ICacheListing = {
          directory: params.get('directory')!,
          total: this.entries.length,
          total_bytes: this.entries.reduce((n, e) => n + e.size, 0),
          entries: sorted.slice(offset, offset + limit)
        };
        return listing as T;
      }
      case 'POST api/cache/delete': {
        const files = body.files as string[];
        const gone = this.entries.filter(e => files.includes(e.file));
        this.entries = this.entries.filter(e => !gone.includes(e));
        const report: IDeleteReport = {
          removed: gone.map(e => ({ file: e.file, bytes: e.size })),
          bytes: gone.reduce((n, e) => n + e.size, 0),
          refused: []
        };
        return report as T;
      }
      case 'POST api/cache/clean': {
        const matching = this.entries.filter(
          e =>
            body.mode === 'all' ||
            (body.mode === 'failed' && e.status === 'failed') ||
            (body.mode === 'older' && e.modified < NOW_S - body.days * 86_400)
        );
        const going = matching.filter(e => !e.in_use);
        if (!body.dry_run) {
          this.entries = this.entries.filter(e => !going.includes(e));
        }
        const report: ICleanReport = {
          dry_run: body.dry_run === true,
          files: going.map(e => ({ file: e.file, bytes: e.size })),
          count: going.length,
          bytes: going.reduce((n, e) => n + e.size, 0),
          kept_in_use: matching.length - going.length
        };
        return report as T;
      }
    }
    throw new Error(`unexpected ${method} ${path}`);
  };

  posts(path: string): ICall[] {
    return this.calls.filter(c => c.method === 'POST' && c.path === path);
  }

  get lastListing(): ICall {
    return this.calls.filter(c => c.path.startsWith('api/cache?')).pop()!;
  }
}

function rows(container: ParentNode = document): HTMLElement[] {
  return [...container.querySelectorAll<HTMLElement>('.jp-ExecutorlabCache-row')];
}

function button(action: string): HTMLButtonElement {
  return document.querySelector<HTMLButtonElement>(`[data-action="${action}"]`)!;
}

function checkbox(file: string): HTMLInputElement {
  return document.querySelector<HTMLInputElement>(
    `.jp-ExecutorlabCache-row[data-file="${file}"] .jp-ExecutorlabCache-select`
  )!;
}

/** The dialog open now, once it is there. */
async function dialog(): Promise<HTMLElement> {
  return waitFor(() => {
    const node = document.querySelector<HTMLElement>('.jp-Dialog');
    if (!node) {
      throw new Error('no dialog');
    }
    return node;
  });
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

afterEach(() => {
  cleanup();
  Dialog.flush();
  document.body.innerHTML = '';
});

describe('CacheBrowser', () => {
  let api: FakeCacheAPI;
  let model: CacheBrowserModel;

  beforeEach(() => {
    api = new FakeCacheAPI();
    api.entries = [
      makeEntry(0),
      makeEntry(1, { status: 'failed', result: null, runtime: null, size: 2_000 }),
      makeEntry(2, { in_use: true, status: 'pending', size: 40 }),
      makeEntry(3, { writer: 'executorlib', size: 1_200_000_000 })
    ];
    model = new CacheBrowserModel({ request: api.request, directory: DIR });
  });

  afterEach(() => {
    model.dispose();
  });

  async function renderBrowser(props: Partial<React.ComponentProps<typeof CacheBrowser>> = {}) {
    const result = render(<CacheBrowser model={model} trans={trans} {...props} />);
    await act(() => model.refresh());
    return result;
  }

  it('shows totals and one row per file with stable selectors', async () => {
    await renderBrowser();
    expect(screen.getByTestId('executorlab-cache-totals').textContent).toBe(
      '4 entries · 1.2 GB'
    );
    const shown = rows();
    expect(shown.map(r => r.dataset.file)).toEqual([0, 1, 2, 3].map(i => makeEntry(i).file));
    const [done, failed, busy, foreign] = shown;
    expect(done.dataset.status).toBe('done');
    expect(done.querySelector('.jp-ExecutorlabCache-cell-function')?.textContent).toBe('fn0');
    expect(done.querySelector('.jp-ExecutorlabCache-cell-runtime')?.textContent).toBe('1.5 s');
    expect(done.querySelector('.jp-ExecutorlabCache-cell-size')?.textContent).toBe('500 kB');
    expect(done.querySelector('.jp-ExecutorlabCache-cell-result')?.textContent).toBe('result 0');
    expect(done.querySelector('.jp-ExecutorlabCache-cell-writer')?.textContent).toBe('executorlab');
    expect(done.querySelector('.jp-ExecutorlabCache-cell-modified')?.getAttribute('title')).toBe(
      '2025-11-21T04:40:00Z'
    );
    expect(failed.dataset.status).toBe('failed');
    expect(failed.querySelector('.jp-ExecutorlabCache-status')?.textContent).toContain('Failed');
    expect(failed.querySelector('.jp-ExecutorlabCache-cell-runtime')?.textContent).toBe('–');
    expect(busy.dataset.inUse).toBe('true');
    expect(foreign.querySelector('.jp-ExecutorlabCache-cell-writer')?.textContent).toBe(
      'executorlib'
    );
  });

  it('sorts by a header click, flipping on the second one', async () => {
    await renderBrowser();
    const size = () =>
      document.querySelector<HTMLButtonElement>('.jp-ExecutorlabCache-sortButton[data-sort="size"]')!;
    await act(async () => {
      fireEvent.click(size());
    });
    await waitFor(() => expect(api.lastListing.params.get('sort')).toBe('size'));
    expect(api.lastListing.params.get('order')).toBe('desc');
    await waitFor(() => expect(rows()[0].dataset.file).toBe(makeEntry(3).file));
    expect(size().closest('th')?.getAttribute('aria-sort')).toBe('descending');

    await act(async () => {
      fireEvent.click(size());
    });
    await waitFor(() => expect(rows()[0].dataset.file).toBe(makeEntry(2).file));
    expect(api.lastListing.params.get('order')).toBe('asc');
    expect(size().closest('th')?.getAttribute('aria-sort')).toBe('ascending');
  });

  it('cannot select a file in use and says why', async () => {
    await renderBrowser();
    const busy = checkbox(makeEntry(2).file);
    expect(busy.disabled).toBe(true);
    expect(busy.title).toMatch(/^In use: an unfinished call uses this cache key/);
    expect(button('delete').disabled).toBe(true);

    fireEvent.click(screen.getByTestId('executorlab-cache-select-all'));
    expect([...model.selection].sort()).toEqual([0, 1, 3].map(i => makeEntry(i).file).sort());
    expect(button('delete').textContent).toBe('Delete selected (3)');
    fireEvent.click(screen.getByTestId('executorlab-cache-select-all'));
    expect(model.selection.size).toBe(0);
  });

  it('deletes the selected files after asking', async () => {
    await renderBrowser();
    fireEvent.click(checkbox(makeEntry(0).file));
    fireEvent.click(checkbox(makeEntry(1).file));
    expect(checkbox(makeEntry(0).file).checked).toBe(true);
    expect(button('delete').disabled).toBe(false);

    fireEvent.click(button('delete'));
    const question = await dialog();
    expect(question.querySelector('[data-testid="executorlab-cache-delete-confirmation"]')?.textContent).toBe(
      `Delete 2 selected files (502 kB) from ${DIR}?`
    );
    await clickDialogButton('Cancel');
    expect(api.posts('api/cache/delete')).toHaveLength(0);

    fireEvent.click(button('delete'));
    await clickDialogButton('Delete');
    await waitFor(() => expect(api.posts('api/cache/delete')).toHaveLength(1));
    expect(api.posts('api/cache/delete')[0].body).toEqual({
      directory: DIR,
      files: [makeEntry(0).file, makeEntry(1).file]
    });
    await waitFor(() => expect(rows()).toHaveLength(2));
    expect(screen.getByTestId('executorlab-cache-result').textContent).toContain(
      'Deleted 2 files (502 kB).'
    );
    expect(screen.getByTestId('executorlab-cache-totals').textContent).toBe(
      '2 entries · 1.2 GB'
    );
  });

  it('deletes without asking when confirm is off', async () => {
    await renderBrowser({ confirm: false });
    fireEvent.click(checkbox(makeEntry(0).file));
    fireEvent.click(button('delete'));
    await waitFor(() => expect(api.posts('api/cache/delete')).toHaveLength(1));
    expect(document.querySelector('.jp-Dialog')).toBeNull();
  });

  it('cleans: mode dialog, dry run, "This deletes …", then the clean', async () => {
    await renderBrowser();
    fireEvent.click(button('clean'));
    const choose = await dialog();
    const days = await waitFor(() => {
      const input = choose.querySelector<HTMLInputElement>(
        '[data-testid="executorlab-cache-clean-days"]'
      );
      if (!input) {
        throw new Error('form not rendered yet');
      }
      return input;
    });
    expect(
      choose.querySelector<HTMLInputElement>('[data-testid="executorlab-cache-clean-mode-failed"]')
        ?.checked
    ).toBe(true);
    await act(async () => {
      fireEvent.change(days, { target: { value: '0.05' } });
    });
    await waitFor(() =>
      expect(
        choose.querySelector<HTMLInputElement>('[data-testid="executorlab-cache-clean-mode-older"]')
          ?.checked
      ).toBe(true)
    );
    await clickDialogButton('Continue');

    await waitFor(() => expect(api.posts('api/cache/clean')).toHaveLength(1));
    expect(api.posts('api/cache/clean')[0].body).toEqual({
      directory: DIR,
      mode: 'older',
      days: 0.05,
      dry_run: true
    });
    const confirmation = await dialog();
    const text = await waitFor(() => {
      const body = confirmation.querySelector(
        '[data-testid="executorlab-cache-clean-confirmation"]'
      );
      if (!body) {
        throw new Error('confirmation not rendered yet');
      }
      return [...body.querySelectorAll('p')].map(p => p.textContent);
    });
    // 0.05 days = 72 minutes: fn2 (in use) and fn3 are older.
    expect(text).toEqual([`This deletes 1 file (1.2 GB) from ${DIR}.`, '1 file in use is kept.']);
    expect(api.entries).toHaveLength(4);
    const warn = confirmation.querySelector('.jp-Dialog-button.jp-mod-warn');
    expect(warn?.textContent?.trim()).toBe('Delete');

    await clickDialogButton('Delete');
    await waitFor(() => expect(api.posts('api/cache/clean')).toHaveLength(2));
    expect(api.posts('api/cache/clean')[1].body).toEqual({
      directory: DIR,
      mode: 'older',
      days: 0.05,
      dry_run: false
    });
    await waitFor(() => expect(rows()).toHaveLength(3));
    const result = screen.getByTestId('executorlab-cache-result');
    expect(result.textContent).toContain('Deleted 1 file (1.2 GB).');
    expect(result.textContent).toContain('1 file in use was kept.');
    expect(result.textContent).toContain(makeEntry(3).file);
  });

  it('deletes nothing when the confirmation is cancelled', async () => {
    await renderBrowser();
    fireEvent.click(button('clean'));
    await clickDialogButton('Continue');
    await waitFor(() => expect(api.posts('api/cache/clean')).toHaveLength(1));
    await clickDialogButton('Cancel');
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(api.posts('api/cache/clean')).toHaveLength(1);
    expect(api.entries).toHaveLength(4);
  });

  it('skips only the confirmation when confirm is off', async () => {
    await renderBrowser({ confirm: false });
    fireEvent.click(button('clean'));
    const choose = await dialog();
    const all = await waitFor(() => {
      const input = choose.querySelector<HTMLInputElement>(
        '[data-testid="executorlab-cache-clean-mode-all"]'
      );
      if (!input) {
        throw new Error('form not rendered yet');
      }
      return input;
    });
    await act(async () => {
      fireEvent.click(all);
    });
    await clickDialogButton('Delete');
    await waitFor(() => expect(api.posts('api/cache/clean')).toHaveLength(1));
    expect(api.posts('api/cache/clean')[0].body).toEqual({
      directory: DIR,
      mode: 'all',
      dry_run: false
    });
    await waitFor(() => expect(rows()).toHaveLength(1));
  });

  it("shows the API's message when the directory is refused", async () => {
    await renderBrowser();
    api.refuse = {
      status: 403,
      message: '/etc is not inside an allowed cache root (/home/user, /tmp)'
    };
    const input = screen.getByTestId<HTMLInputElement>('executorlab-cache-directory');
    fireEvent.change(input, { target: { value: '/etc' } });
    await act(async () => {
      fireEvent.keyDown(input, { key: 'Enter' });
    });
    await waitFor(() =>
      expect(screen.getByTestId('executorlab-cache-error').textContent).toBe(
        '/etc is not inside an allowed cache root (/home/user, /tmp)'
      )
    );
    expect(model.directory).toBe('/etc');
    expect(rows()).toHaveLength(0);
    expect(button('clean').disabled).toBe(true);
  });

  it('suggests the directories kernels used and opens the first when none is open', async () => {
    model.dispose();
    model = new CacheBrowserModel({ request: api.request });
    render(<CacheBrowser model={model} trans={trans} />);
    await waitFor(() => expect(model.directory).toBe(DIR));
    await waitFor(() => expect(rows()).toHaveLength(4));
    const options = [...document.querySelectorAll('datalist option')].map(o =>
      o.getAttribute('value')
    );
    expect(options).toEqual([DIR, '/tmp/other']);
    expect(screen.getByTestId<HTMLInputElement>('executorlab-cache-directory').value).toBe(DIR);
  });

  it('pages through a large directory', async () => {
    api.entries = Array.from({ length: 230 }, (_, i) => makeEntry(i));
    await renderBrowser();
    expect(rows()).toHaveLength(100);
    expect(document.querySelector('.jp-ExecutorlabCache-pagerRange')?.textContent).toBe(
      '1–100 of 230'
    );
    expect(button('previous-page').disabled).toBe(true);
    await act(async () => {
      fireEvent.click(button('next-page'));
    });
    await waitFor(() =>
      expect(document.querySelector('.jp-ExecutorlabCache-pagerRange')?.textContent).toBe(
        '101–200 of 230'
      )
    );
    expect(api.lastListing.params.get('offset')).toBe('100');
    await act(async () => {
      fireEvent.click(button('next-page'));
    });
    await waitFor(() => expect(rows()).toHaveLength(30));
    expect(button('next-page').disabled).toBe(true);
  });
});

describe('Clean dialog bodies', () => {
  it('says exactly what the clean deletes', () => {
    const report: ICleanReport = {
      dry_run: true,
      files: [],
      count: 12,
      bytes: 34_500_000,
      kept_in_use: 2
    };
    expect(cleanPlanLines(report, '/scratch/cache', trans)).toEqual([
      'This deletes 12 files (35 MB) from /scratch/cache.',
      '2 files in use are kept.'
    ]);
    expect(cleanPlanLines({ ...report, kept_in_use: 0 }, '/c', trans)).toEqual([
      'This deletes 12 files (35 MB) from /c.'
    ]);
    expect(cleanPlanLines({ ...report, count: 0, bytes: 0, kept_in_use: 0 }, '/c', trans)).toEqual([
      'No cache file in /c matches; nothing is deleted.'
    ]);
    render(<CleanConfirmation report={report} directory="/scratch/cache" trans={trans} />);
    expect(screen.getByText('This deletes 12 files (35 MB) from /scratch/cache.')).toBeTruthy();
  });

  it('chooses the mode and the days', () => {
    const changes: string[] = [];
    render(
      <CleanModeForm
        mode="failed"
        days="30"
        invalidDays
        onModeChange={mode => changes.push(mode)}
        onDaysChange={days => changes.push(`days=${days}`)}
        trans={trans}
      />
    );
    expect(screen.getByRole('alert').textContent).toBe('Enter a number of days, 0 or more.');
    fireEvent.click(screen.getByTestId('executorlab-cache-clean-mode-all'));
    fireEvent.change(screen.getByTestId('executorlab-cache-clean-days'), {
      target: { value: '7' }
    });
    expect(changes).toEqual(['all', 'days=7', 'older']);
  });
});

describe('formatting', () => {
  it('writes sizes in decimal units', () => {
    expect(formatBytes(0, trans)).toBe('0 B');
    expect(formatBytes(999, trans)).toBe('999 B');
    expect(formatBytes(1_500, trans)).toBe('1.5 kB');
    expect(formatBytes(999_950, trans)).toBe('1.0 MB');
    expect(formatBytes(23_400_000, trans)).toBe('23 MB');
    expect(formatBytes(1_230_000_000, trans)).toBe('1.2 GB');
  });

  it('writes times relative to now', () => {
    const now = NOW_S * 1000;
    expect(formatRelativeTime(NOW_S - 5, now, trans)).toBe('just now');
    expect(formatRelativeTime(NOW_S - 300, now, trans)).toBe('5 min ago');
    expect(formatRelativeTime(NOW_S - 3 * 3600, now, trans)).toBe('3 h ago');
    expect(formatRelativeTime(NOW_S - 86_400, now, trans)).toBe('1 day ago');
    expect(formatRelativeTime(NOW_S - 3 * 86_400, now, trans)).toBe('3 days ago');
    expect(formatRelativeTime(NOW_S - 60 * 86_400, now, trans)).toMatch(/^2025-09-2\d$/);
  });
});

describe('CacheBrowserWidget', () => {
  let api: FakeCacheAPI;
  let model: CacheBrowserModel;
  let widget: CacheBrowserWidget;

  beforeEach(() => {
    api = new FakeCacheAPI();
    api.entries = [makeEntry(0)];
    model = new CacheBrowserModel({ request: api.request, directory: DIR });
    widget = new CacheBrowserWidget({ model, translator: nullTranslator });
  });

  afterEach(() => {
    widget.dispose();
    model.dispose();
  });

  it('has the id, class, title and icon the shell needs', () => {
    expect(widget.id).toBe(CACHE_BROWSER_ID);
    expect(widget.id).toBe('executorlab-cache-browser');
    expect(widget.hasClass('jp-ExecutorlabCacheBrowser')).toBe(true);
    expect(widget.title.label).toBe('Executor Cache');
    expect(widget.title.icon).toBeTruthy();
    expect(widget.title.closable).toBe(true);
    expect(widget.confirm).toBe(true);
  });

  it('renders and lists nothing while hidden, then everything once shown', async () => {
    widget.hide();
    Widget.attach(widget, document.body);
    act(() => MessageLoop.sendMessage(widget, Widget.Msg.UpdateRequest));
    await new Promise(resolve => setTimeout(resolve, 10));
    expect(api.calls).toHaveLength(0);
    expect(widget.node.querySelector('.jp-ExecutorlabCache')).toBeNull();

    await act(async () => {
      widget.show();
    });
    await waitFor(() => expect(rows(widget.node)).toHaveLength(1));
    expect(api.lastListing.params.get('directory')).toBe(DIR);
  });

  it('lists the directory again each time it is shown', async () => {
    Widget.attach(widget, document.body);
    await waitFor(() => expect(rows(widget.node)).toHaveLength(1));
    const listed = api.calls.filter(c => c.path.startsWith('api/cache?')).length;
    widget.hide();
    api.entries.push(makeEntry(1));
    await act(async () => {
      widget.show();
    });
    await waitFor(() => expect(rows(widget.node)).toHaveLength(2));
    expect(api.calls.filter(c => c.path.startsWith('api/cache?')).length).toBe(listed + 1);
  });
});
