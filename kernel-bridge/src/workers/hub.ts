// The worker side of the bridge: who is connected, which task each one runs, and their replies.
import { decodeWorkerHeader, encodeHeader, ProtocolError, type Failure, type WorkerMessage } from '../protocol/messages.js';
import type { RouterEndpoint } from '../transport/endpoint.js';
import type { RunHooks, TaskOutcome } from '../backends/backend.js';
import type { Task } from '../scheduler/task.js';

export interface WorkerConnection {
  readonly workerId: string;
  readonly peer: Buffer;
  readonly ranks: number;
  readonly host: string;
  readonly pid: number;
}

interface Running {
  taskId: string;
  hooks: RunHooks;
  resolve(outcome: TaskOutcome): void;
}

/** How a worker's init_function went; a failure carries the pickled exception when it could be pickled. */
export type InitOutcome = { ok: true } | { ok: false; failure: Failure; exception: Buffer | null };

interface Expected {
  resolve(conn: WorkerConnection): void;
  reject(error: Error): void;
}

export class WorkerHub {
  private endpoint: RouterEndpoint | null = null;
  private readonly expected = new Map<string, Expected>();
  private readonly byPeer = new Map<string, WorkerConnection>();
  private readonly running = new Map<string, Running>();
  private readonly initializing = new Map<string, (outcome: InitOutcome) => void>();

  constructor(private readonly log: (line: string) => void) {}

  attach(endpoint: RouterEndpoint): void {
    this.endpoint = endpoint;
  }

  /** Resolves when the worker started with this id says hello. */
  expect(workerId: string): Promise<WorkerConnection> {
    return new Promise((resolve, reject) => this.expected.set(workerId, { resolve, reject }));
  }

  forget(workerId: string, reason: string): void {
    this.expected.get(workerId)?.reject(new Error(reason));
    this.expected.delete(workerId);
  }

  /** Send the task and its inputs; resolves with the worker's result. `lost` ends it if the process dies first. */
  run(conn: WorkerConnection, task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    return new Promise(resolve => {
      this.running.set(conn.peer.toString('hex'), { taskId: task.id, hooks, resolve });
      const header = { v: 1, type: 'task', task_id: task.id, fn_name: task.fnName, dependencies: task.dependencies } as const;
      void this.send(conn, encodeHeader(header), ...inputs);
      hooks.started();
    });
  }

  /** Send the init_function blob; resolves with the worker's init_result. */
  init(conn: WorkerConnection, blob: Buffer): Promise<InitOutcome> {
    return new Promise(resolve => {
      this.initializing.set(conn.peer.toString('hex'), resolve);
      void this.send(conn, encodeHeader({ v: 1, type: 'init' }), blob);
    });
  }

  /** The worker process ended: fail what it was doing, forget it. */
  lost(conn: WorkerConnection, outcome: TaskOutcome): void {
    const key = conn.peer.toString('hex');
    this.running.get(key)?.resolve(outcome);
    this.running.delete(key);
    if (!outcome.ok) this.initializing.get(key)?.({ ok: false, failure: outcome.failure, exception: outcome.exception });
    this.initializing.delete(key);
    this.byPeer.delete(key);
  }

  stop(conn: WorkerConnection): Promise<void> {
    return this.send(conn, encodeHeader({ v: 1, type: 'shutdown' }));
  }

  handle = (peer: Buffer, frames: Buffer[]): void => {
    let message: WorkerMessage;
    try {
      message = decodeWorkerHeader(frames[0]);
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error;
      this.log(`worker ${peer.toString('hex')}: ${error.message}`);
      return;
    }
    const key = peer.toString('hex');
    switch (message.type) {
      case 'hello': {
        const conn: WorkerConnection = {
          workerId: message.worker_id,
          peer,
          ranks: message.ranks,
          host: message.host,
          pid: message.pid
        };
        const waiting = this.expected.get(message.worker_id);
        if (!waiting) {
          this.log(`worker ${message.worker_id}: hello from a worker this bridge did not start; told to stop`);
          void this.send(conn, encodeHeader({ v: 1, type: 'shutdown' }));
          return;
        }
        this.expected.delete(message.worker_id);
        this.byPeer.set(key, conn);
        waiting.resolve(conn);
        return;
      }
      case 'stream':
        this.running.get(key)?.hooks.stream(message.name, message.text);
        return;
      case 'init_result': {
        const resolve = this.initializing.get(key);
        if (!resolve) {
          this.log(`worker ${key}: init_result, but no init_function was sent to it`);
          return;
        }
        this.initializing.delete(key);
        resolve(
          message.ok
            ? { ok: true }
            : {
                ok: false,
                failure: { error_type: message.error_type, error_message: message.error_message, traceback: message.traceback },
                exception: frames[1] ?? null
              }
        );
        return;
      }
      case 'result': {
        const run = this.running.get(key);
        if (!run || run.taskId !== message.task_id) {
          this.log(`worker ${key}: result for ${message.task_id}, which it was not running`);
          return;
        }
        this.running.delete(key);
        const blob = frames[1] ?? Buffer.alloc(0);
        run.resolve(
          message.ok
            ? { ok: true, runtime: message.runtime, result: blob }
            : {
                ok: false,
                runtime: message.runtime,
                failure: {
                  error_type: message.error_type,
                  error_message: message.error_message,
                  traceback: message.traceback
                },
                exception: frames[1] ?? null
              }
        );
        return;
      }
    }
  };

  private send(conn: WorkerConnection, ...frames: Buffer[]): Promise<void> {
    if (!this.endpoint) throw new Error('WorkerHub used before attach()');
    return this.endpoint.send(conn.peer, frames);
  }
}
