import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';

/**
 * What a cache file holds: a result (`done`), an error (`failed`), or neither yet
 * (`pending`: a cluster job's input file, or a result being written).
 */
export type CacheEntryStatus = 'done' | 'failed' | 'pending';

/**
 * Who wrote a cache file: executorlab's files carry attributes, executorlib's do not.
 */
export type CacheWriter = 'executorlab' | 'executorlib';

/**
 * One cache file (`CacheEntry` in the bridge API, `GET api/cache`).
 */
export interface ICacheEntry {
  /** The file name inside the cache directory, e.g. `sum1a2b…_o.h5`. */
  file: string;
  key: string;
  function: string;
  status: CacheEntryStatus;
  /** Seconds the call ran, when known. */
  runtime: number | null;
  /** Bytes. */
  size: number;
  /** Seconds since the epoch. */
  modified: number;
  /** A short repr of the result, when executorlab wrote the file. */
  result: string | null;
  writer: CacheWriter;
  queue_id: number | null;
  /** An unfinished call of the bridge uses this key: the file cannot be deleted meanwhile. */
  in_use: boolean;
}

/**
 * Columns the bridge sorts a listing by.
 */
export type CacheSortKey =
  | 'modified'
  | 'key'
  | 'size'
  | 'function'
  | 'status'
  | 'runtime';

export const CACHE_SORT_KEYS: readonly CacheSortKey[] = [
  'modified',
  'key',
  'size',
  'function',
  'status',
  'runtime'
];

export type CacheSortOrder = 'asc' | 'desc';

/**
 * One page of a cache directory (`GET api/cache`).
 */
export interface ICacheListing {
  /** The directory as the bridge resolved it. */
  directory: string;
  /** Cache files in the directory (all pages). */
  total: number;
  /** Bytes of all cache files in the directory (all pages). */
  total_bytes: number;
  entries: ICacheEntry[];
}

/**
 * Which files a clean removes: every one, the failed ones, or those older than some days.
 */
export type CleanMode = 'all' | 'failed' | 'older';

export interface ICacheFileBytes {
  file: string;
  bytes: number;
}

/**
 * The answer of `POST api/cache/clean`: what was (or, with `dry_run`, would be) deleted.
 */
export interface ICleanReport {
  dry_run: boolean;
  files: ICacheFileBytes[];
  count: number;
  bytes: number;
  /** Matching files left alone because an unfinished call uses them. */
  kept_in_use: number;
}

/**
 * The answer of `POST api/cache/delete`.
 */
export interface IDeleteReport {
  removed: ICacheFileBytes[];
  bytes: number;
  refused: { file: string; reason: string }[];
}

/**
 * The answer of `GET api/cache/directories`: cache directories kernels used.
 */
export interface ICacheDirectories {
  directories: string[];
}

/**
 * Calls the executorlab server extension: `path` is below `<baseUrl>/executorlab/`.
 * Resolves with the decoded JSON; rejects with an Error whose message says why
 * (`ServerConnection.ResponseError` carries the HTTP status).
 */
export type CacheRequest = <T>(path: string, init?: RequestInit) => Promise<T>;

/**
 * What the last delete or clean did, for the browser to tell.
 */
export type CacheActionResult =
  | { action: 'delete'; report: IDeleteReport }
  | { action: 'clean'; report: ICleanReport };

/**
 * State of the cache browser: one directory's page of entries, its sort order and
 * the selected files. Emits `changed` whenever anything shown changes.
 */
export interface ICacheBrowserModel extends IDisposable {
  /** The directory browsed ('' for none); setting it loads its first page. */
  directory: string;
  readonly sort: CacheSortKey;
  readonly order: CacheSortOrder;
  /** Index of the page's first entry. */
  readonly offset: number;
  readonly pageSize: number;
  /** The page shown; null before the first load and after a failed one. */
  readonly listing: ICacheListing | null;
  /** Whether a request is under way. */
  readonly loading: boolean;
  /** Why the last request failed (the API's message), or null. */
  readonly error: string | null;
  /** What the last delete or clean did; cleared when the directory changes. */
  readonly lastResult: CacheActionResult | null;
  /** Selected file names: always files of the page shown that are not in use. */
  readonly selection: ReadonlySet<string>;
  readonly changed: ISignal<ICacheBrowserModel, void>;

  /** Sort by `sort`; without `order`, the same column flips and another one starts in its natural order. */
  setSort(sort: CacheSortKey, order?: CacheSortOrder): void;
  /** Show the page starting at `offset` (clamped to the listing). */
  setOffset(offset: number): void;
  nextPage(): void;
  previousPage(): void;

  /** Whether `entry` may be selected (and deleted): not while in use. */
  isSelectable(entry: ICacheEntry): boolean;
  select(file: string, selected?: boolean): void;
  /** Select (or clear) every selectable entry of the page. */
  selectAll(selected?: boolean): void;
  clearSelection(): void;

  /** Forget `lastResult` (the notice was dismissed). */
  clearResult(): void;

  /** Load the page again. */
  refresh(): Promise<void>;
  /** Delete the selected files; null when the request failed (see `error`). */
  deleteSelected(): Promise<IDeleteReport | null>;
  /** What `clean(mode, days)` would delete, deleting nothing; null when the request failed. */
  planClean(mode: CleanMode, days?: number): Promise<ICleanReport | null>;
  /** Delete the files matching `mode`; null when the request failed. */
  clean(mode: CleanMode, days?: number): Promise<ICleanReport | null>;
  /** Cache directories kernels used; [] when the bridge cannot say. */
  knownDirectories(): Promise<string[]>;
}
