// Runs in a worker thread: reads and writes executorlib-format cache files with h5wasm, so a 100 MB
// result being compressed never stalls the bridge's event loop. Requests come from Hdf5Files.
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import h5wasm from 'h5wasm/node';
import type { Hdf5Request, Hdf5Response, FileSummary } from './hdf5-files.js';

// gzip as executorlib's files, at level 1: a 100 MB result compresses ~25% faster than at h5py's
// default 4 (measured in h5wasm); the files read the same. 64 KiB chunks measured fastest.
const GZIP_LEVEL = 1;
const CHUNK_BYTES = 64 << 10;
/** Datasets whose bytes a listing reads: a pickled float (runtime) or int (queue_id), a few bytes. */
const SMALL_DATASETS = ['runtime', 'queue_id'];

function write(path: string, datasets: Record<string, Uint8Array>, attributes: Record<string, string | number>): void {
  mkdirSync(dirname(path), { recursive: true });
  // A temporary name in the same folder, renamed when complete: a crash never leaves a half file, and of
  // two writers of one key the last rename wins with a whole file.
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const file = new h5wasm.File(temporary, 'w');
    try {
      for (const [name, data] of Object.entries(datasets)) {
        file.create_dataset({
          name,
          data,
          shape: [data.length],
          dtype: '<B',
          chunks: [Math.max(1, Math.min(data.length, CHUNK_BYTES))],
          compression: 'gzip',
          compression_opts: GZIP_LEVEL
        });
      }
      for (const [name, value] of Object.entries(attributes)) file.create_attribute(name, value);
    } finally {
      file.close();
    }
    // HDF5 reports some failures (a refused name, a full disk) only on stderr: check before the rename.
    const written = new h5wasm.File(temporary, 'r');
    try {
      const missing = Object.keys(datasets).filter(name => !(written.get(name) instanceof h5wasm.Dataset));
      if (missing.length > 0) throw new Error(`HDF5 did not write dataset(s) ${missing.join(', ')} of ${path}`);
    } finally {
      written.close();
    }
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

function bytesOf(value: unknown): Uint8Array {
  if (value instanceof Uint8Array) return value;
  // Legacy executorlib files hold the pickle as one opaque (np.void) scalar.
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new Error(`not a byte dataset (${typeof value})`);
}

function read(path: string, names: string[]): Record<string, Uint8Array> {
  const file = new h5wasm.File(path, 'r');
  try {
    const out: Record<string, Uint8Array> = {};
    for (const name of names) {
      const dataset = file.get(name);
      if (dataset instanceof h5wasm.Dataset) out[name] = bytesOf(dataset.value);
    }
    return out;
  } finally {
    file.close();
  }
}

/** What a listing shows without unpickling anything: dataset names and sizes, attributes, small datasets. */
function summarize(path: string): FileSummary {
  const file = new h5wasm.File(path, 'r');
  try {
    const datasets: Record<string, number> = {};
    const small: Record<string, Uint8Array> = {};
    for (const name of file.keys()) {
      const dataset = file.get(name);
      if (!(dataset instanceof h5wasm.Dataset)) continue;
      const shape = dataset.shape ?? [];
      datasets[name] = shape.reduce((n, d) => n * d, 1) * (dataset.metadata.size ?? 1);
      if (SMALL_DATASETS.includes(name)) small[name] = bytesOf(dataset.value);
    }
    const attributes: Record<string, string | number> = {};
    for (const [name, attribute] of Object.entries(file.attrs)) {
      const value = attribute.json_value;
      if (typeof value === 'string' || typeof value === 'number') attributes[name] = value;
    }
    return { datasets, attributes, small };
  } finally {
    file.close();
  }
}

await h5wasm.ready;
parentPort!.on('message', (request: Hdf5Request) => {
  let response: Hdf5Response;
  try {
    if (request.op === 'write') {
      write(request.path, request.datasets, request.attributes);
      response = { id: request.id, ok: true };
    } else if (request.op === 'read') {
      response = { id: request.id, ok: true, datasets: read(request.path, request.names) };
    } else {
      response = { id: request.id, ok: true, summary: summarize(request.path) };
    }
  } catch (error) {
    response = { id: request.id, ok: false, error: (error as Error).message ?? String(error) };
  }
  const transfer = "datasets" in response && response.datasets ? [...new Set(Object.values(response.datasets).map(d => d.buffer as ArrayBuffer))] : [];
  parentPort!.postMessage(response, transfer);
});
parentPort!.postMessage({ ready: true });
