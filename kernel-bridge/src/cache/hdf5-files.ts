// HDF5 file access for the bridge, done by one worker thread (hdf5-thread.ts) started on first use.
import { Worker } from 'node:worker_threads';

export interface FileSummary {
  /** Dataset name -> size in bytes (uncompressed). */
  datasets: Record<string, number>;
  /** Root attributes with a string or number value. */
  attributes: Record<string, string | number>;
  /** The bytes of the small datasets (runtime, queue_id) that are present. */
  small: Record<string, Uint8Array>;
}

export type Hdf5Request =
  | { id: number; op: 'write'; path: string; datasets: Record<string, Uint8Array>; attributes: Record<string, string | number> }
  | { id: number; op: 'read'; path: string; names: string[] }
  | { id: number; op: 'summary'; path: string };

export type Hdf5Response =
  | { id: number; ok: true; datasets?: Record<string, Uint8Array>; summary?: FileSummary }
  | { id: number; ok: false; error: string };

/** A request as callers write it: the id is added when it is sent. */
type Unsent = Hdf5Request extends infer R ? (R extends unknown ? Omit<R, 'id'> : never) : never;

type Pending = { resolve(response: Hdf5Response & { ok: true }): void; reject(error: Error): void };

export class Hdf5Files {
  private worker: Worker | null = null;
  private ready: Promise<void> | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;

  /** Write `path` whole (a temporary file renamed into place). */
  async write(path: string, datasets: Record<string, Uint8Array>, attributes: Record<string, string | number>): Promise<void> {
    await this.request({ op: 'write', path, datasets, attributes });
  }

  /** The named datasets that exist in `path`, as bytes. */
  async read(path: string, names: string[]): Promise<Record<string, Uint8Array>> {
    return (await this.request({ op: 'read', path, names })).datasets ?? {};
  }

  async summary(path: string): Promise<FileSummary> {
    return (await this.request({ op: 'summary', path })).summary!;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    this.ready = null;
    if (worker) await worker.terminate();
  }

  private async request(body: Unsent): Promise<Hdf5Response & { ok: true }> {
    await this.start();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker!.postMessage({ ...body, id } as Hdf5Request);
    });
  }

  private start(): Promise<void> {
    if (this.ready) return this.ready;
    const worker = new Worker(new URL('./hdf5-thread.js', import.meta.url));
    worker.unref();
    this.worker = worker;
    this.ready = new Promise((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    worker.on('message', (response: Hdf5Response | { ready: true }) => {
      if (!('id' in response)) return;
      const waiting = this.pending.get(response.id);
      this.pending.delete(response.id);
      if (!waiting) return;
      if (response.ok) waiting.resolve(response);
      else waiting.reject(new Error(response.error));
    });
    // A thread that died fails what it had; the next request starts a new one.
    worker.on('exit', code => {
      if (this.worker === worker) {
        this.worker = null;
        this.ready = null;
      }
      for (const waiting of this.pending.values()) waiting.reject(new Error(`the HDF5 thread exited with code ${code}`));
      this.pending.clear();
    });
    return this.ready;
  }
}
