// What the panel's cache browser asks of a cache directory: its entries (paged, sorted), one entry's
// details, deleting entries and cleaning. Only files of the cache layout directly inside the directory
// are listed or deleted; symlinks are never followed; the directory must lie in an allowed root.
import { createHash } from 'node:crypto';
import { lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { lstat, readdir, realpath, unlink } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, isAbsolute, join, sep } from 'node:path';
import type { FileSummary, Hdf5Files } from './hdf5-files.js';
import { unpickleNumber } from './pickle.js';
import { ATTRIBUTES } from './store.js';

/** `<key>_o.h5` (a result: output or error) and `<key>_i.h5` (a cluster job's input: not finished). */
const CACHE_FILE = /^([^.].*)_(o|i)\.h5$/;
/** executorlib's keys: the function's name and an md5. */
const HASHED_KEY = /^(.*)[0-9a-f]{32}$/;
const SORT_KEYS = ['modified', 'key', 'size', 'function', 'status', 'runtime'] as const;
/** Sorting by these needs no file opened: a page is summarized alone. */
const STAT_SORTS = new Set(['modified', 'key', 'size']);
const MAX_PAGE = 1000;
/** How long a folder's scan serves the next pages when the folder's mtime did not change. */
const SCAN_REUSE_MS = 2000;
const INDEX_VERSION = 1;

/** Code-point order: the same in every locale, and far faster than localeCompare on 10,000 names. */
function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type SortKey = (typeof SORT_KEYS)[number];
export type EntryStatus = 'done' | 'failed' | 'pending';

export interface CacheEntry {
  file: string;
  key: string;
  function: string;
  status: EntryStatus;
  runtime: number | null;
  size: number;
  /** Seconds since the epoch. */
  modified: number;
  /** A short repr of the result, when executorlab wrote the file. */
  result: string | null;
  /** Who wrote it: executorlab's files carry attributes, executorlib's do not. */
  writer: 'executorlab' | 'executorlib';
  queue_id: number | null;
  /** A call of this bridge with this key is not finished: the file is never deleted meanwhile. */
  in_use: boolean;
}

export class CacheRequestError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 403 | 404 | 409
  ) {
    super(message);
  }
}

interface Found {
  file: string;
  key: string;
  kind: 'o' | 'i';
  size: number;
  mtimeMs: number;
}

/** The facts of a file that do not come from its name or stat. */
interface Facts {
  /** The result dataset present: output, error, or neither (null). */
  holds: 'output' | 'error' | null;
  /** The function's name, when the file says it (executorlab's attribute). */
  fn: string | null;
  runtime: number | null;
  result: string | null;
  ours: boolean;
  queue_id: number | null;
}

interface IndexRecord {
  mtimeMs: number;
  size: number;
  /** What a listing shows, no more: the index of 10,000 files is parsed before the first page. */
  summary: Facts;
}

export interface BrowserOptions {
  files: Hdf5Files;
  /** Folders a cache directory may lie in (their realpaths are compared). */
  roots: () => string[];
  /** Whether a call of this bridge with this cache directory and key is not finished. */
  inUse: (directory: string, key: string) => boolean;
  /** Where summaries are kept between bridge runs (one JSON file per cache directory). */
  indexDirectory?: string;
  log: (line: string) => void;
}

export function defaultCacheRoots(): string[] {
  return [homedir(), tmpdir()];
}

function indexHome(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'executorlab', 'cache-index');
}

export class CacheBrowser {
  /** Summaries of files by path, valid while their mtime and size are unchanged. */
  private readonly index = new Map<string, Map<string, IndexRecord>>();
  private readonly saving = new Map<string, NodeJS.Timeout>();
  private readonly scans = new Map<string, { at: number; mtimeMs: number; found: Found[] }>();

  constructor(private readonly options: BrowserOptions) {}

  async list(
    directory: unknown,
    query: { sort?: string; order?: string; offset?: number; limit?: number } = {}
  ): Promise<{ directory: string; total: number; total_bytes: number; entries: CacheEntry[] }> {
    const dir = await this.checkDirectory(directory);
    const sort = (query.sort ?? 'modified') as SortKey;
    if (!SORT_KEYS.includes(sort)) throw new CacheRequestError(`sort must be one of ${SORT_KEYS.join(', ')}, got ${JSON.stringify(query.sort)}`, 400);
    const order = query.order ?? (sort === 'modified' ? 'desc' : 'asc');
    if (order !== 'asc' && order !== 'desc') throw new CacheRequestError(`order must be asc or desc, got ${JSON.stringify(order)}`, 400);
    const offset = query.offset ?? 0;
    const limit = query.limit ?? 100;
    if (!Number.isInteger(offset) || offset < 0) throw new CacheRequestError(`offset must be an integer >= 0, got ${offset}`, 400);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) throw new CacheRequestError(`limit must be an integer from 1 to ${MAX_PAGE}, got ${limit}`, 400);
    const found = await this.scan(dir);
    this.prune(dir, found);
    const total_bytes = found.reduce((n, f) => n + f.size, 0);
    const sign = order === 'asc' ? 1 : -1;
    let entries: CacheEntry[];
    if (STAT_SORTS.has(sort)) {
      const compare = (a: Found, b: Found): number =>
        sort === 'size' ? a.size - b.size : sort === 'key' ? byText(a.key, b.key) : a.mtimeMs - b.mtimeMs;
      const page = [...found].sort((a, b) => sign * compare(a, b) || byText(a.file, b.file)).slice(offset, offset + limit);
      entries = await this.entries(dir, page);
    } else {
      const all = await this.entries(dir, found);
      const value = (e: CacheEntry): string | number => (sort === 'runtime' ? (e.runtime ?? -1) : e[sort as 'function' | 'status']);
      all.sort((a, b) => {
        const [x, y] = [value(a), value(b)];
        return sign * (typeof x === 'number' ? x - (y as number) : byText(x, y as string)) || byText(a.file, b.file);
      });
      entries = all.slice(offset, offset + limit);
    }
    return { directory: dir, total: found.length, total_bytes, entries };
  }

  /** One entry with its datasets (sizes) and attributes. */
  async entry(directory: unknown, file: unknown): Promise<CacheEntry & { datasets: Record<string, number>; attributes: Record<string, string | number> }> {
    const dir = await this.checkDirectory(directory);
    const found = await this.cacheFile(dir, file);
    const summary = await this.options.files.summary(join(dir, found.file));
    return { ...this.describe(dir, found, this.record(found, summary).summary), datasets: summary.datasets, attributes: summary.attributes };
  }

  /** Delete the named entries; refused ones (in use, not cache files) are listed with the reason. */
  async remove(directory: unknown, files: unknown): Promise<{ removed: { file: string; bytes: number }[]; bytes: number; refused: { file: string; reason: string }[] }> {
    const dir = await this.checkDirectory(directory);
    if (!Array.isArray(files) || files.length === 0 || files.length > 100_000) {
      throw new CacheRequestError('files must be a list of 1 to 100000 cache file names', 400);
    }
    const chosen: Found[] = [];
    const refused: { file: string; reason: string }[] = [];
    for (const file of files) {
      try {
        chosen.push(await this.cacheFile(dir, file));
      } catch (error) {
        if (!(error instanceof CacheRequestError)) throw error;
        refused.push({ file: String(file), reason: error.message });
      }
    }
    const { removed, refused: busy } = await this.unlink(dir, chosen);
    return { removed, bytes: removed.reduce((n, r) => n + r.bytes, 0), refused: [...refused, ...busy] };
  }

  /**
   * Clean: every entry, the failed ones, or those not modified for `days`. With `dry_run` nothing is
   * deleted: the answer says what would go, for the dialog that asks first.
   */
  async clean(
    directory: unknown,
    request: { mode?: unknown; days?: unknown; dry_run?: unknown }
  ): Promise<{ dry_run: boolean; files: { file: string; bytes: number }[]; count: number; bytes: number; kept_in_use: number }> {
    const dir = await this.checkDirectory(directory);
    const mode = request.mode;
    if (mode !== 'all' && mode !== 'failed' && mode !== 'older') {
      throw new CacheRequestError(`mode must be all, failed or older, got ${JSON.stringify(mode)}`, 400);
    }
    const days = request.days;
    if (mode === 'older' && (typeof days !== 'number' || !(days >= 0))) {
      throw new CacheRequestError(`mode older needs days, a number >= 0, got ${JSON.stringify(days)}`, 400);
    }
    const dryRun = request.dry_run === true;
    let found = await this.scan(dir);
    if (mode === 'older') found = found.filter(f => f.mtimeMs < Date.now() - (days as number) * 86_400_000);
    if (mode === 'failed') {
      const failed = new Set((await this.entries(dir, found)).filter(e => e.status === 'failed').map(e => e.file));
      found = found.filter(f => failed.has(f.file));
    }
    const chosen = found.filter(f => !this.options.inUse(dir, f.key));
    const files = dryRun ? chosen.map(f => ({ file: f.file, bytes: f.size })) : (await this.unlink(dir, chosen)).removed;
    return { dry_run: dryRun, files, count: files.length, bytes: files.reduce((n, f) => n + f.bytes, 0), kept_in_use: found.length - chosen.length };
  }

  /** A file the bridge just wrote: its summary is known without opening it. */
  async written(path: string, summary: FileSummary): Promise<void> {
    const dir = dirname(path);
    const file = basename(path);
    const match = CACHE_FILE.exec(file);
    if (!match) return;
    try {
      const real = await realpath(dir);
      const stat = await lstat(path);
      const index = this.loadIndex(real);
      index.set(file, this.record({ file, key: match[1], kind: match[2] as 'o' | 'i', size: stat.size, mtimeMs: stat.mtimeMs }, summary));
      this.scheduleSave(real);
    } catch {
      // Gone already: nothing to remember.
    }
  }

  // ---- helpers

  private async checkDirectory(directory: unknown): Promise<string> {
    if (typeof directory !== 'string' || !isAbsolute(directory)) {
      throw new CacheRequestError(`directory must be an absolute path, got ${JSON.stringify(directory)}`, 400);
    }
    let real: string;
    try {
      real = await realpath(directory);
    } catch {
      throw new CacheRequestError(`cache directory ${directory} does not exist`, 404);
    }
    if (!(await lstat(real)).isDirectory()) throw new CacheRequestError(`${directory} is not a directory`, 400);
    const roots = await Promise.all(this.options.roots().map(root => realpath(root).catch(() => null)));
    const inside = roots.some(root => root !== null && (real === root || real.startsWith(root.endsWith(sep) ? root : root + sep)));
    if (!inside) {
      throw new CacheRequestError(
        `${directory} is outside the folders cache directories may be in (${roots.filter(Boolean).join(', ')}); start the bridge with --cache-root to allow another`,
        403
      );
    }
    return real;
  }

  /** A cache file directly in `dir` (by name), a regular file, not a symlink. */
  private async cacheFile(dir: string, file: unknown): Promise<Found> {
    const match = typeof file === 'string' ? CACHE_FILE.exec(file) : null;
    if (typeof file !== 'string' || !match || file.includes('/') || file.includes('\\')) {
      throw new CacheRequestError(`${JSON.stringify(file)} is not a cache file name (<key>_o.h5 or <key>_i.h5)`, 400);
    }
    let stat;
    try {
      stat = await lstat(join(dir, file));
    } catch {
      throw new CacheRequestError(`no cache file ${file} in ${dir}`, 404);
    }
    if (!stat.isFile()) throw new CacheRequestError(`${file} is a symlink or not a regular file: left alone`, 400);
    return { file, key: match[1], kind: match[2] as 'o' | 'i', size: stat.size, mtimeMs: stat.mtimeMs };
  }

  /**
   * The cache files in `dir` with their size and mtime. Synchronous stats: 10,000 take ~30 ms, a promise
   * each took ten times that. A scan is reused for the pages that follow while the folder is unchanged.
   */
  private async scan(dir: string): Promise<Found[]> {
    const folder = await lstat(dir);
    const last = this.scans.get(dir);
    if (last && last.mtimeMs === folder.mtimeMs && Date.now() - last.at < SCAN_REUSE_MS) return last.found;
    const found: Found[] = [];
    for (const item of await readdir(dir, { withFileTypes: true })) {
      // Symlinks (isFile() is false for them) and folders are not entries.
      if (!item.isFile()) continue;
      const match = CACHE_FILE.exec(item.name);
      if (!match) continue;
      const stat = lstatSync(join(dir, item.name), { throwIfNoEntry: false });
      if (stat) found.push({ file: item.name, key: match[1], kind: match[2] as 'o' | 'i', size: stat.size, mtimeMs: stat.mtimeMs });
    }
    this.scans.set(dir, { at: Date.now(), mtimeMs: folder.mtimeMs, found });
    return found;
  }

  private async unlink(dir: string, chosen: Found[]) {
    const removed: { file: string; bytes: number }[] = [];
    const refused: { file: string; reason: string }[] = [];
    for (const f of chosen) {
      if (this.options.inUse(dir, f.key)) {
        refused.push({ file: f.file, reason: 'a call with this key is not finished' });
        continue;
      }
      try {
        await unlink(join(dir, f.file));
        removed.push({ file: f.file, bytes: f.size });
      } catch (error) {
        refused.push({ file: f.file, reason: (error as Error).message });
      }
    }
    return { removed, refused };
  }

  private async entries(dir: string, found: Found[]): Promise<CacheEntry[]> {
    const index = this.loadIndex(dir);
    const current = (f: Found): IndexRecord | undefined => {
      const record = index.get(f.file);
      return record && record.mtimeMs === f.mtimeMs && record.size === f.size ? record : undefined;
    };
    const missing = found.filter(f => !current(f));
    await Promise.all(
      missing.map(async f => {
        const path = join(dir, f.file);
        let record: IndexRecord;
        try {
          record = this.record(f, await this.options.files.summary(path));
        } catch (error) {
          this.options.log(`cache: cannot read ${path}: ${(error as Error).message}`);
          record = { mtimeMs: f.mtimeMs, size: f.size, summary: { holds: null, fn: null, runtime: null, result: null, ours: false, queue_id: null } };
        }
        index.set(f.file, record);
      })
    );
    if (missing.length > 0) this.scheduleSave(dir);
    return found.map(f => this.describe(dir, f, (current(f) ?? index.get(f.file))!.summary));
  }

  private record(f: Found, summary: FileSummary): IndexRecord {
    const number = (name: string): number | null => (summary.small[name] ? unpickleNumber(summary.small[name]) : null);
    const attributes = summary.attributes;
    const text = (name: string): string | null => (typeof attributes[name] === 'string' ? (attributes[name] as string) : null);
    const runtime = attributes[ATTRIBUTES.runtime];
    return {
      mtimeMs: f.mtimeMs,
      size: f.size,
      summary: {
        holds: 'output' in summary.datasets ? 'output' : 'error' in summary.datasets ? 'error' : null,
        fn: text(ATTRIBUTES.function),
        runtime: typeof runtime === 'number' ? runtime : number('runtime'),
        result: text(ATTRIBUTES.result),
        ours: ATTRIBUTES.status in attributes,
        queue_id: number('queue_id')
      }
    };
  }

  private describe(dir: string, f: Found, facts: Facts): CacheEntry {
    const status: EntryStatus = f.kind === 'i' ? 'pending' : facts.holds === 'output' ? 'done' : facts.holds === 'error' ? 'failed' : 'pending';
    return {
      file: f.file,
      key: f.key,
      function: facts.fn ?? (HASHED_KEY.exec(f.key)?.[1] || f.key),
      status,
      runtime: facts.runtime,
      size: f.size,
      modified: f.mtimeMs / 1000,
      result: facts.result,
      writer: facts.ours ? 'executorlab' : 'executorlib',
      queue_id: facts.queue_id,
      in_use: this.options.inUse(dir, f.key)
    };
  }

  // ---- summaries kept between runs: reading 10,000 files' attributes takes seconds

  /** Forget summaries of files that are gone (a full scan says which are left). */
  private prune(dir: string, found: Found[]): void {
    const index = this.loadIndex(dir);
    if (index.size <= found.length) return;
    const present = new Set(found.map(f => f.file));
    for (const file of index.keys()) if (!present.has(file)) index.delete(file);
  }

  private indexFile(dir: string): string {
    const name = createHash('sha256').update(dir).digest('hex').slice(0, 32);
    return join(this.options.indexDirectory ?? indexHome(), `${name}.json`);
  }

  private loadIndex(dir: string): Map<string, IndexRecord> {
    let index = this.index.get(dir);
    if (index) return index;
    index = new Map();
    try {
      const saved = JSON.parse(readFileSync(this.indexFile(dir), "utf8")) as { version?: number; directory: string; files: Record<string, IndexRecord> };
      if (saved.version === INDEX_VERSION && saved.directory === dir) for (const [file, record] of Object.entries(saved.files)) index.set(file, record);
    } catch {
      // None yet, or unreadable: summaries are read again.
    }
    this.index.set(dir, index);
    return index;
  }

  /** Save at most once a second per directory: a burst of results is one write. */
  private scheduleSave(dir: string): void {
    if (this.saving.has(dir)) return;
    const timer = setTimeout(() => {
      this.saving.delete(dir);
      this.saveIndex(dir, this.loadIndex(dir));
    }, 1000);
    timer.unref();
    this.saving.set(dir, timer);
  }

  /** Save what is pending now (the bridge stops). */
  flush(): void {
    for (const [dir, timer] of this.saving) {
      clearTimeout(timer);
      this.saveIndex(dir, this.loadIndex(dir));
    }
    this.saving.clear();
  }

  private saveIndex(dir: string, index: Map<string, IndexRecord>): void {
    const path = this.indexFile(dir);
    try {
      mkdirSync(join(path, '..'), { recursive: true, mode: 0o700 });
      const temporary = `${path}.${process.pid}.tmp`;
      writeFileSync(temporary, JSON.stringify({ version: INDEX_VERSION, directory: dir, files: Object.fromEntries(index) }), { mode: 0o600 });
      renameSync(temporary, path);
    } catch (error) {
      this.options.log(`cache: cannot save the index of ${dir}: ${(error as Error).message}`);
    }
  }
}
