import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from '../handler';
import {
  CacheActionResult,
  CacheRequest,
  CacheSortKey,
  CacheSortOrder,
  CleanMode,
  ICacheBrowserModel,
  ICacheDirectories,
  ICacheEntry,
  ICacheListing,
  ICleanReport,
  IDeleteReport
} from './tokens';

/**
 * Entries per page, the bridge's default.
 */
export const DEFAULT_CACHE_PAGE_SIZE = 100;

/**
 * The order a column starts in: newest, biggest and slowest first; names A to Z.
 */
export function naturalOrder(sort: CacheSortKey): CacheSortOrder {
  return sort === 'modified' || sort === 'size' || sort === 'runtime'
    ? 'desc'
    : 'asc';
}

/**
 * One cache directory seen through the bridge's cache API (`api/cache…`).
 *
 * Setting `directory`, sorting and paging load the page at once; the selection
 * only ever holds files of the page shown that are not in use, so what
 * "Delete selected" removes is always visible.
 */
export class CacheBrowserModel implements ICacheBrowserModel {
  constructor(options: CacheBrowserModel.IOptions = {}) {
    const settings = options.serverSettings;
    this._request =
      options.request ??
      (<T>(path: string, init?: RequestInit) =>
        requestAPI<T>(path, init, settings));
    this._directory = (options.directory ?? '').trim();
    this._pageSize = options.pageSize ?? DEFAULT_CACHE_PAGE_SIZE;
  }

  get directory(): string {
    return this._directory;
  }

  set directory(value: string) {
    const directory = value.trim();
    if (directory === this._directory) {
      return;
    }
    this._directory = directory;
    this._offset = 0;
    this._listing = null;
    this._error = null;
    this._lastResult = null;
    this._selection.clear();
    this._changed.emit();
    void this.refresh();
  }

  get sort(): CacheSortKey {
    return this._sort;
  }

  get order(): CacheSortOrder {
    return this._order;
  }

  get offset(): number {
    return this._offset;
  }

  get pageSize(): number {
    return this._pageSize;
  }

  get listing(): ICacheListing | null {
    return this._listing;
  }

  get loading(): boolean {
    return this._pending > 0;
  }

  get error(): string | null {
    return this._error;
  }

  get lastResult(): CacheActionResult | null {
    return this._lastResult;
  }

  get selection(): ReadonlySet<string> {
    return this._selection;
  }

  get changed(): ISignal<ICacheBrowserModel, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  setSort(sort: CacheSortKey, order?: CacheSortOrder): void {
    const next =
      order ??
      (sort === this._sort
        ? this._order === 'asc'
          ? 'desc'
          : 'asc'
        : naturalOrder(sort));
    if (sort === this._sort && next === this._order) {
      return;
    }
    this._sort = sort;
    this._order = next;
    this._offset = 0;
    this._selection.clear();
    this._changed.emit();
    void this.refresh();
  }

  setOffset(offset: number): void {
    const total = this._listing?.total ?? 0;
    let next = Math.max(0, Math.floor(offset));
    if (next >= total) {
      next = lastPageOffset(total, this._pageSize);
    }
    if (next === this._offset) {
      return;
    }
    this._offset = next;
    this._selection.clear();
    this._changed.emit();
    void this.refresh();
  }

  nextPage(): void {
    this.setOffset(this._offset + this._pageSize);
  }

  previousPage(): void {
    this.setOffset(this._offset - this._pageSize);
  }

  isSelectable(entry: ICacheEntry): boolean {
    return !entry.in_use;
  }

  select(file: string, selected = true): void {
    if (selected) {
      const entry = this._listing?.entries.find(e => e.file === file);
      if (!entry || !this.isSelectable(entry) || this._selection.has(file)) {
        return;
      }
      this._selection.add(file);
    } else if (!this._selection.delete(file)) {
      return;
    }
    this._changed.emit();
  }

  selectAll(selected = true): void {
    if (!selected) {
      this.clearSelection();
      return;
    }
    let changed = false;
    for (const entry of this._listing?.entries ?? []) {
      if (this.isSelectable(entry) && !this._selection.has(entry.file)) {
        this._selection.add(entry.file);
        changed = true;
      }
    }
    if (changed) {
      this._changed.emit();
    }
  }

  clearSelection(): void {
    if (this._selection.size > 0) {
      this._selection.clear();
      this._changed.emit();
    }
  }

  clearResult(): void {
    if (this._lastResult !== null) {
      this._lastResult = null;
      this._changed.emit();
    }
  }

  async refresh(): Promise<void> {
    const generation = ++this._generation;
    const directory = this._directory;
    if (!directory) {
      this._listing = null;
      this._error = null;
      this._selection.clear();
      this._changed.emit();
      return;
    }
    await this._call(async () => {
      let listing = await this._request<ICacheListing>(this._listingPath());
      if (generation !== this._generation) {
        return;
      }
      // Past the end (files went away since the page was chosen): show the last page.
      if (listing.entries.length === 0 && this._offset > 0) {
        this._offset = lastPageOffset(listing.total, this._pageSize);
        listing = await this._request<ICacheListing>(this._listingPath());
        if (generation !== this._generation) {
          return;
        }
      }
      this._listing = listing;
      this._error = null;
      this._pruneSelection();
    }, generation);
  }

  async deleteSelected(): Promise<IDeleteReport | null> {
    const directory = this._directory;
    const files = [...this._selection];
    if (!directory || files.length === 0) {
      return null;
    }
    const report = await this._call(() =>
      this._request<IDeleteReport>('api/cache/delete', {
        method: 'POST',
        body: JSON.stringify({ directory, files })
      })
    );
    if (report && !this._isDisposed) {
      for (const { file } of report.removed) {
        this._selection.delete(file);
      }
      this._lastResult = { action: 'delete', report };
      this._changed.emit();
      await this.refresh();
    }
    return report;
  }

  planClean(mode: CleanMode, days?: number): Promise<ICleanReport | null> {
    return this._clean(mode, days, true);
  }

  async clean(mode: CleanMode, days?: number): Promise<ICleanReport | null> {
    const report = await this._clean(mode, days, false);
    if (report && !this._isDisposed) {
      this._selection.clear();
      this._lastResult = { action: 'clean', report };
      this._changed.emit();
      await this.refresh();
    }
    return report;
  }

  async knownDirectories(): Promise<string[]> {
    try {
      const answer = await this._request<ICacheDirectories>(
        'api/cache/directories'
      );
      const directories = answer?.directories;
      return Array.isArray(directories)
        ? directories.filter((d): d is string => typeof d === 'string')
        : [];
    } catch {
      // A bridge without the endpoint (404) or not reachable: no suggestions.
      return [];
    }
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._generation++;
    Signal.clearData(this);
  }

  private _listingPath(): string {
    const query = new URLSearchParams({
      directory: this._directory,
      sort: this._sort,
      order: this._order,
      offset: String(this._offset),
      limit: String(this._pageSize)
    });
    return `api/cache?${query.toString()}`;
  }

  private _clean(
    mode: CleanMode,
    days: number | undefined,
    dryRun: boolean
  ): Promise<ICleanReport | null> {
    const directory = this._directory;
    if (!directory) {
      return Promise.resolve(null);
    }
    const body: Record<string, unknown> = { directory, mode, dry_run: dryRun };
    if (mode === 'older') {
      body.days = days;
    }
    return this._call(() =>
      this._request<ICleanReport>('api/cache/clean', {
        method: 'POST',
        body: JSON.stringify(body)
      })
    );
  }

  /**
   * Run one request: `loading` meanwhile, `error` set from its failure. Resolves
   * with its value, or null when it failed or (with `generation`) was superseded.
   */
  private async _call<T>(
    run: () => Promise<T>,
    generation?: number
  ): Promise<T | null> {
    this._pending++;
    this._changed.emit();
    try {
      const value = await run();
      if (generation === undefined) {
        this._error = null;
      }
      return value;
    } catch (reason) {
      if (generation === undefined || generation === this._generation) {
        this._error = errorMessage(reason);
        if (generation !== undefined) {
          this._listing = null;
          this._selection.clear();
        }
      }
      return null;
    } finally {
      this._pending--;
      if (!this._isDisposed) {
        this._changed.emit();
      }
    }
  }

  private _pruneSelection(): void {
    const selectable = new Set(
      (this._listing?.entries ?? [])
        .filter(e => this.isSelectable(e))
        .map(e => e.file)
    );
    for (const file of [...this._selection]) {
      if (!selectable.has(file)) {
        this._selection.delete(file);
      }
    }
  }

  private _request: CacheRequest;
  private _directory: string;
  private _sort: CacheSortKey = 'modified';
  private _order: CacheSortOrder = 'desc';
  private _offset = 0;
  private _pageSize: number;
  private _listing: ICacheListing | null = null;
  private _error: string | null = null;
  private _lastResult: CacheActionResult | null = null;
  private _selection = new Set<string>();
  private _pending = 0;
  private _generation = 0;
  private _isDisposed = false;
  private _changed = new Signal<ICacheBrowserModel, void>(this);
}

export namespace CacheBrowserModel {
  export interface IOptions {
    /** The directory to browse first; none by default. */
    directory?: string;
    /**
     * Calls the server extension; `requestAPI` (src/handler.ts) with `serverSettings`
     * by default. Tests pass a fake.
     */
    request?: CacheRequest;
    /** Server settings for the default request function; the page's by default. */
    serverSettings?: ServerConnection.ISettings;
    /** Entries per page (the API allows 1 to 1000); 100 by default. */
    pageSize?: number;
  }
}

/**
 * Offset of the last page of `total` entries (0 when there are none).
 */
export function lastPageOffset(total: number, pageSize: number): number {
  return total > 0 ? Math.floor((total - 1) / pageSize) * pageSize : 0;
}

/**
 * The message to show for a failed request: the server's reason when it gave one.
 */
export function errorMessage(reason: unknown): string {
  if (reason instanceof Error) {
    return reason.message || String(reason);
  }
  return String(reason);
}
