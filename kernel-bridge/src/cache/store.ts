// The cache of a call's result: `<directory>/<key>_o.h5` in executorlib's format. Looked up before a
// call runs, written (in the background, whole or not at all) after it succeeded.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Hdf5Files, type FileSummary } from './hdf5-files.js';
import { pickleFloat, unpickleNumber } from './pickle.js';

export interface CacheRef {
  /** Absolute. */
  directory: string;
  key: string;
}

/** What a cache file keeps of the call besides its result (pickles made by the kernel). */
export interface CacheInputs {
  function: Buffer;
  inputArgs: Buffer;
  inputKwargs: Buffer;
  resourceDict: Buffer;
}

export interface CachedResult {
  result: Buffer;
  runtime: number;
}

/** Attribute names of the facts a listing shows without unpickling (executorlib ignores them). */
export const ATTRIBUTES = {
  function: 'executorlab_function',
  status: 'executorlab_status',
  runtime: 'executorlab_runtime',
  created: 'executorlab_created',
  size: 'executorlab_size',
  result: 'executorlab_result'
} as const;

/** A copy that owns its memory: a blob may be a view into a whole batch's frame. */
function own(bytes: Buffer): Uint8Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return copy;
}

/** Told of every file this store wrote, with what a listing shows of it (the browser's index). */
export type WrittenListener = (path: string, summary: FileSummary) => void;

export class CacheStore {
  /** Writes in progress, by path: a lookup of the same key waits for its write. */
  private readonly writing = new Map<string, Promise<void>>();
  onWritten: WrittenListener | null = null;

  constructor(
    private readonly log: (line: string) => void,
    readonly files = new Hdf5Files()
  ) {}

  outputPath(ref: CacheRef): string {
    return join(ref.directory, `${ref.key}_o.h5`);
  }

  /** The cached result of the call, or null (no file, or one that holds no output). */
  async lookup(ref: CacheRef): Promise<CachedResult | null> {
    const path = this.outputPath(ref);
    await this.writing.get(path)?.catch(() => {});
    try {
      await stat(path);
    } catch {
      return null;
    }
    const data = await this.files.read(path, ['output', 'runtime']);
    if (!data.output) return null;
    const output = data.output;
    return {
      result: Buffer.from(output.buffer, output.byteOffset, output.byteLength),
      runtime: (data.runtime && unpickleNumber(data.runtime)) || 0
    };
  }

  /** Write the result of a call that succeeded; resolves when the file is in place (or failed, logged). */
  store(ref: CacheRef, fnName: string, inputs: CacheInputs, result: Buffer, runtime: number, summary: string | null): Promise<void> {
    const path = this.outputPath(ref);
    const datasets = {
      function: own(inputs.function),
      input_args: own(inputs.inputArgs),
      input_kwargs: own(inputs.inputKwargs),
      resource_dict: own(inputs.resourceDict),
      output: own(result),
      runtime: pickleFloat(runtime)
    };
    const sizes = Object.fromEntries(Object.entries(datasets).map(([name, data]) => [name, data.byteLength]));
    const small = { runtime: datasets.runtime };
    const attributes = {
          [ATTRIBUTES.function]: fnName,
          [ATTRIBUTES.status]: 'done',
          [ATTRIBUTES.runtime]: runtime,
          [ATTRIBUTES.created]: Date.now() / 1000,
          [ATTRIBUTES.size]: result.byteLength,
          ...(summary !== null ? { [ATTRIBUTES.result]: summary } : {})
    };
    const write = this.files
      .write(path, datasets, attributes)
      .then(() => this.onWritten?.(path, { datasets: sizes, attributes, small }))
      .catch(error => this.log(`cache: could not write ${path}: ${(error as Error).message}`))
      .finally(() => {
        if (this.writing.get(path) === write) this.writing.delete(path);
      });
    this.writing.set(path, write);
    return write;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.writing.values()]);
    await this.files.close();
  }
}
