import { ServerConnection } from '@jupyterlab/services';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import { CacheBrowserModel, lastPageOffset, naturalOrder } from '../src/cache/model';
import {
  CacheRequest,
  ICacheEntry,
  ICacheListing,
  ICleanReport,
  IDeleteReport
} from '../src/cache/tokens';
import { jsonResponse, makeSettings } from './helpers';

const DIR = '/home/user/cache';

function makeEntry(i: number, overrides: Partial<ICacheEntry> = {}): ICacheEntry {
  const key = `fn${i}${'0'.repeat(32)}`;
  return {
    file: `${key}_o.h5`,
    key,
    function: `fn${i}`,
    status: 'done',
    runtime: i / 10,
    size: 1000 + i,
    modified: 1_763_700_000 + i,
    result: String(i),
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
 * The bridge's cache API over an in-memory directory, as a request function.
 */
class FakeCacheAPI {
  entries: ICacheEntry[] = [];
  calls: ICall[] = [];
  directories: string[] | null = [DIR];
  /** When set, every listing of this directory fails with this status and message. */
  refuse: { directory: string; status: number; message: string } | null = null;

  request: CacheRequest = async <T>(path: string, init: RequestInit = {}): Promise<T> => {
    const [route, query = ''] = path.split('?');
    const params = new URLSearchParams(query);
    const method = init.method ?? 'GET';
    const body = init.body ? JSON.parse(init.body as string) : undefined;
    this.calls.push({ path, method, body, params });
    await Promise.resolve();
    const directory = params.get('directory') ?? body?.directory;
    if (this.refuse && directory === this.refuse.directory) {
      throw new ServerConnection.ResponseError(
        new Response('', { status: this.refuse.status }),
        this.refuse.message
      );
    }
    return this.answer(`${method} ${route}`, params, body) as T;
  };

  get last(): ICall {
    return this.calls[this.calls.length - 1];
  }

  listings(): ICall[] {
    return this.calls.filter(c => c.path.startsWith('api/cache?'));
  }

  private answer(route: string, params: URLSearchParams, body: any): unknown {
    switch (route) {
      case 'GET api/cache': {
        const sort = params.get('sort') as keyof ICacheEntry;
        const sign = params.get('order') === 'asc' ? 1 : -1;
        const sorted = [...this.entries].sort((a, b) => {
          const [x, y] = [a[sort] as any, b[sort] as any];
          return sign * (x < y ? -1 : x > y ? 1 : 0);
        });
        const offset = Number(params.get('offset'));
        const limit = Number(params.get('limit'));
        const listing: ICacheListing = {
          directory: params.get('directory')!,
          total: this.entries.length,
          total_bytes: this.entries.reduce((n, e) => n + e.size, 0),
          entries: sorted.slice(offset, offset + limit)
        };
        return listing;
      }
      case 'GET api/cache/directories':
        if (this.directories === null) {
          throw new ServerConnection.ResponseError(
            new Response('', { status: 404 }),
            'Not Found'
          );
        }
        return { directories: this.directories };
      case 'POST api/cache/delete': {
        const report: IDeleteReport = { removed: [], bytes: 0, refused: [] };
        for (const file of body.files as string[]) {
          const entry = this.entries.find(e => e.file === file);
          if (!entry) {
            report.refused.push({ file, reason: 'no such cache file' });
          } else if (entry.in_use) {
            report.refused.push({ file, reason: 'in use' });
          } else {
            this.entries = this.entries.filter(e => e !== entry);
            report.removed.push({ file, bytes: entry.size });
            report.bytes += entry.size;
          }
        }
        return report;
      }
      case 'POST api/cache/clean': {
        const matching = this.entries.filter(
          e =>
            body.mode === 'all' ||
            (body.mode === 'failed' && e.status === 'failed') ||
            (body.mode === 'older' && e.modified < 1_763_700_000 + body.days)
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
        return report;
      }
      default:
        throw new ServerConnection.ResponseError(
          new Response('', { status: 404 }),
          `no such endpoint ${route}`
        );
    }
  }
}

describe('CacheBrowserModel', () => {
  let api: FakeCacheAPI;
  let model: CacheBrowserModel;
  let changes: number;

  beforeEach(() => {
    api = new FakeCacheAPI();
    api.entries = Array.from({ length: 5 }, (_, i) => makeEntry(i));
    model = new CacheBrowserModel({ request: api.request });
    changes = 0;
    model.changed.connect(() => changes++);
  });

  afterEach(() => {
    model.dispose();
  });

  async function open(directory = DIR): Promise<void> {
    model.directory = directory;
    await model.refresh();
  }

  describe('listing', () => {
    it('does nothing without a directory', async () => {
      await model.refresh();
      expect(api.calls).toEqual([]);
      expect(model.listing).toBeNull();
      expect(model.error).toBeNull();
    });

    it('lists the first page, newest first, with every parameter in the URL', async () => {
      await model.refresh();
      model.directory = `  ${DIR} `;
      expect(model.directory).toBe(DIR);
      expect(model.loading).toBe(true);
      await model.refresh();
      const call = api.last;
      expect(call.method).toBe('GET');
      expect(call.path.split('?')[0]).toBe('api/cache');
      expect(Object.fromEntries(call.params)).toEqual({
        directory: DIR,
        sort: 'modified',
        order: 'desc',
        offset: '0',
        limit: '100'
      });
      expect(model.loading).toBe(false);
      expect(model.listing?.total).toBe(5);
      expect(model.listing?.total_bytes).toBe(5010);
      expect(model.listing?.entries.map(e => e.function)).toEqual([
        'fn4',
        'fn3',
        'fn2',
        'fn1',
        'fn0'
      ]);
      expect(changes).toBeGreaterThan(0);
    });

    it('loads when the directory is set, and not again for the same one', async () => {
      model.directory = DIR;
      await Promise.resolve();
      await Promise.resolve();
      await Promise.resolve();
      expect(api.listings()).toHaveLength(1);
      model.directory = DIR;
      expect(api.listings()).toHaveLength(1);
    });

    it('escapes the directory in the URL', async () => {
      await open('/tmp/a b&c=d');
      expect(api.last.params.get('directory')).toBe('/tmp/a b&c=d');
      expect(api.last.path).toContain('directory=%2Ftmp%2Fa+b%26c%3Dd');
    });

    it('keeps only the answer of the latest request', async () => {
      let release: (() => void) | undefined;
      const slow = api.request;
      let first = true;
      const request: CacheRequest = async <T>(path: string, init?: RequestInit) => {
        if (first) {
          first = false;
          await new Promise<void>(resolve => (release = resolve));
        }
        return slow<T>(path, init);
      };
      model.dispose();
      model = new CacheBrowserModel({ request, directory: '/old' });
      const stale = model.refresh();
      model.directory = DIR;
      await model.refresh();
      release!();
      await stale;
      expect(model.listing?.directory).toBe(DIR);
    });

    it('uses requestAPI under <baseUrl>/executorlab/ by default', async () => {
      const urls: string[] = [];
      const fetch = (input: RequestInfo) => {
        urls.push(typeof input === 'string' ? input : input.url);
        return Promise.resolve(
          jsonResponse({ directory: DIR, total: 0, total_bytes: 0, entries: [] })
        );
      };
      const viaServer = new CacheBrowserModel({
        serverSettings: makeSettings({ fetch }),
        directory: DIR
      });
      await viaServer.refresh();
      const url = new URL(urls[0]);
      expect(url.origin + url.pathname).toBe(
        'http://localhost:8888/lab-base/executorlab/api/cache'
      );
      expect(url.searchParams.get('directory')).toBe(DIR);
      expect(viaServer.listing?.total).toBe(0);
      viaServer.dispose();
    });
  });

  describe('errors', () => {
    it("shows the API's message when the directory is refused, and clears it after", async () => {
      api.refuse = {
        directory: '/etc',
        status: 403,
        message: '/etc is not inside an allowed cache root (/home/user, /tmp)'
      };
      await open(DIR);
      expect(model.listing).not.toBeNull();
      await open('/etc');
      expect(model.error).toBe('/etc is not inside an allowed cache root (/home/user, /tmp)');
      expect(model.listing).toBeNull();
      expect(model.loading).toBe(false);
      await open(DIR);
      expect(model.error).toBeNull();
      expect(model.listing?.directory).toBe(DIR);
    });

    it('reports a failed delete without losing the listing', async () => {
      await open();
      model.select(model.listing!.entries[0].file);
      api.refuse = { directory: DIR, status: 404, message: `${DIR} does not exist` };
      expect(await model.deleteSelected()).toBeNull();
      expect(model.error).toBe(`${DIR} does not exist`);
      expect(model.listing).not.toBeNull();
      expect(model.lastResult).toBeNull();
    });
  });

  describe('sorting', () => {
    it('starts a new column in its natural order and flips the same column', async () => {
      await open();
      model.setSort('function');
      await model.refresh();
      expect(model.sort).toBe('function');
      expect(model.order).toBe('asc');
      expect(api.last.params.get('sort')).toBe('function');
      expect(api.last.params.get('order')).toBe('asc');
      expect(model.listing?.entries[0].function).toBe('fn0');

      model.setSort('function');
      await model.refresh();
      expect(model.order).toBe('desc');
      expect(api.last.params.get('order')).toBe('desc');
      expect(model.listing?.entries[0].function).toBe('fn4');

      model.setSort('size');
      expect(model.order).toBe('desc');
      model.setSort('runtime', 'asc');
      expect(model.order).toBe('asc');
    });

    it('goes back to the first page and clears the selection', async () => {
      api.entries = Array.from({ length: 150 }, (_, i) => makeEntry(i));
      await open();
      model.nextPage();
      await model.refresh();
      model.select(model.listing!.entries[0].file);
      model.setSort('key');
      expect(model.offset).toBe(0);
      expect(model.selection.size).toBe(0);
    });

    it('knows each column\'s natural order', () => {
      expect(naturalOrder('modified')).toBe('desc');
      expect(naturalOrder('size')).toBe('desc');
      expect(naturalOrder('runtime')).toBe('desc');
      expect(naturalOrder('key')).toBe('asc');
      expect(naturalOrder('function')).toBe('asc');
      expect(naturalOrder('status')).toBe('asc');
    });
  });

  describe('paging', () => {
    beforeEach(() => {
      api.entries = Array.from({ length: 250 }, (_, i) => makeEntry(i));
    });

    it('pages by 100 with offset and limit', async () => {
      await open();
      expect(model.listing?.entries).toHaveLength(100);
      model.nextPage();
      await model.refresh();
      expect(model.offset).toBe(100);
      expect(api.last.params.get('offset')).toBe('100');
      expect(api.last.params.get('limit')).toBe('100');
      model.nextPage();
      await model.refresh();
      expect(model.offset).toBe(200);
      expect(model.listing?.entries).toHaveLength(50);
      const calls = api.calls.length;
      model.nextPage();
      expect(model.offset).toBe(200);
      expect(api.calls.length).toBe(calls);
      model.previousPage();
      await model.refresh();
      expect(model.offset).toBe(100);
      model.setOffset(10_000);
      expect(model.offset).toBe(200);
      model.setOffset(-5);
      expect(model.offset).toBe(0);
    });

    it('honours a custom page size', async () => {
      model.dispose();
      model = new CacheBrowserModel({ request: api.request, pageSize: 20, directory: DIR });
      await model.refresh();
      expect(api.last.params.get('limit')).toBe('20');
      expect(model.listing?.entries).toHaveLength(20);
    });

    it('moves to the last page when the page shown went away', async () => {
      await open();
      model.setOffset(200);
      await model.refresh();
      api.entries = api.entries.slice(0, 120);
      await model.refresh();
      expect(model.offset).toBe(100);
      expect(model.listing?.entries).toHaveLength(20);
      expect(api.listings().slice(-2).map(c => c.params.get('offset'))).toEqual(['200', '100']);
    });

    it('computes the last page', () => {
      expect(lastPageOffset(0, 100)).toBe(0);
      expect(lastPageOffset(100, 100)).toBe(0);
      expect(lastPageOffset(101, 100)).toBe(100);
      expect(lastPageOffset(250, 100)).toBe(200);
    });
  });

  describe('selection', () => {
    beforeEach(() => {
      api.entries[1] = makeEntry(1, { in_use: true });
    });

    it('selects files of the page that are not in use', async () => {
      await open();
      const [free, busy] = [makeEntry(0).file, makeEntry(1).file];
      model.select(free);
      model.select(busy);
      model.select('unknown_o.h5');
      expect([...model.selection]).toEqual([free]);
      expect(model.isSelectable(api.entries[1])).toBe(false);
      model.select(free, false);
      expect(model.selection.size).toBe(0);
    });

    it('selects all selectable files of the page', async () => {
      await open();
      model.selectAll();
      expect(model.selection.size).toBe(4);
      expect(model.selection.has(makeEntry(1).file)).toBe(false);
      model.selectAll(false);
      expect(model.selection.size).toBe(0);
    });

    it('drops files that became in use or went away on refresh', async () => {
      await open();
      model.selectAll();
      api.entries[0] = makeEntry(0, { in_use: true });
      api.entries = api.entries.filter(e => e.function !== 'fn2');
      await model.refresh();
      expect([...model.selection].sort()).toEqual([makeEntry(3).file, makeEntry(4).file]);
    });

    it('is cleared by a page change and a new directory', async () => {
      api.entries = Array.from({ length: 150 }, (_, i) => makeEntry(i));
      await open();
      model.selectAll();
      model.nextPage();
      expect(model.selection.size).toBe(0);
      await model.refresh();
      model.selectAll();
      model.directory = '/tmp/other';
      expect(model.selection.size).toBe(0);
      expect(model.listing).toBeNull();
    });
  });

  describe('delete', () => {
    it('posts the directory and the selected files, then lists again', async () => {
      await open();
      const files = model.listing!.entries.slice(0, 2).map(e => e.file);
      files.forEach(f => model.select(f));
      const report = await model.deleteSelected();
      const post = api.calls.find(c => c.path === 'api/cache/delete')!;
      expect(post.method).toBe('POST');
      expect(post.body).toEqual({ directory: DIR, files });
      expect(report?.removed.map(r => r.file)).toEqual(files);
      expect(model.lastResult).toEqual({ action: 'delete', report });
      expect(model.selection.size).toBe(0);
      expect(api.last.path.startsWith('api/cache?')).toBe(true);
      expect(model.listing?.total).toBe(3);
      model.clearResult();
      expect(model.lastResult).toBeNull();
    });

    it('sends nothing without a selection', async () => {
      await open();
      const calls = api.calls.length;
      expect(await model.deleteSelected()).toBeNull();
      expect(api.calls.length).toBe(calls);
    });
  });

  describe('clean', () => {
    beforeEach(() => {
      api.entries[0] = makeEntry(0, { status: 'failed' });
      api.entries[2] = makeEntry(2, { status: 'failed', in_use: true });
    });

    it('plans with a dry run that deletes nothing', async () => {
      await open();
      const plan = await model.planClean('older', 7);
      expect(api.last.path).toBe('api/cache/clean');
      expect(api.last.method).toBe('POST');
      expect(api.last.body).toEqual({ directory: DIR, mode: 'older', days: 7, dry_run: true });
      expect(plan).toEqual({
        dry_run: true,
        files: [0, 1, 3, 4].map(i => ({
          file: makeEntry(i).file,
          bytes: 1000 + i
        })),
        count: 4,
        bytes: 4008,
        kept_in_use: 1
      });
      expect(api.entries).toHaveLength(5);
      expect(model.lastResult).toBeNull();
    });

    it('dry run then clean: deletes, records what went and lists again', async () => {
      await open();
      const plan = await model.planClean('failed');
      expect(api.last.body).toEqual({ directory: DIR, mode: 'failed', dry_run: true });
      expect(plan?.count).toBe(1);
      expect(plan?.kept_in_use).toBe(1);
      const report = await model.clean('failed');
      const post = api.calls.filter(c => c.path === 'api/cache/clean')[1];
      expect(post.body).toEqual({ directory: DIR, mode: 'failed', dry_run: false });
      expect(report?.dry_run).toBe(false);
      expect(report?.files).toEqual([{ file: makeEntry(0).file, bytes: 1000 }]);
      expect(model.lastResult).toEqual({ action: 'clean', report });
      expect(api.last.path.startsWith('api/cache?')).toBe(true);
      expect(model.listing?.total).toBe(4);
    });

    it('sends no days for all', async () => {
      await open();
      await model.clean('all', 3);
      const post = api.calls.find(c => c.path === 'api/cache/clean')!;
      expect(post.body).toEqual({ directory: DIR, mode: 'all', dry_run: false });
      expect(model.listing?.total).toBe(1);
    });

    it('reports a refused clean', async () => {
      await open();
      api.refuse = { directory: DIR, status: 400, message: 'mode older needs days, a number >= 0, got -1' };
      expect(await model.planClean('older', -1)).toBeNull();
      expect(model.error).toBe('mode older needs days, a number >= 0, got -1');
    });
  });

  describe('known directories', () => {
    it("returns the bridge's list", async () => {
      api.directories = ['/a', '/b'];
      expect(await model.knownDirectories()).toEqual(['/a', '/b']);
      expect(api.last.path).toBe('api/cache/directories');
      expect(model.error).toBeNull();
    });

    it('is empty when the endpoint is missing (404)', async () => {
      api.directories = null;
      expect(await model.knownDirectories()).toEqual([]);
      expect(model.error).toBeNull();
    });
  });

  it('stops emitting once disposed', async () => {
    await open();
    model.dispose();
    expect(model.isDisposed).toBe(true);
    const before = changes;
    model.directory = '/tmp/x';
    await Promise.resolve();
    expect(changes).toBe(before);
  });
});
