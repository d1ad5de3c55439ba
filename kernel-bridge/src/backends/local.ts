// Runs each task in a fresh worker process on this machine (executorlib's default, non-block mode).
import { randomUUID } from 'node:crypto';
import { execa, type ResultPromise } from 'execa';
import type { Backend, RunHooks, TaskOutcome } from './backend.js';
import { localWorkerCommand } from './commands.js';
import type { Task } from '../scheduler/task.js';
import type { WorkerConnection, WorkerHub } from '../workers/hub.js';

export interface LocalBackendOptions {
  python: string;
  pythonpath: string[];
  bridgeFile: string;
  openmpiOversubscribe: boolean;
}

const TAIL_BYTES = 4096;
const STOP_GRACE_MS = 3000;

function tail(text: string): string {
  return text.length > TAIL_BYTES ? text.slice(-TAIL_BYTES) : text;
}

export class LocalBackend implements Backend {
  readonly kind = 'local';
  private readonly processes = new Set<ResultPromise>();

  constructor(
    private readonly hub: WorkerHub,
    private readonly options: LocalBackendOptions
  ) {}

  async run(task: Task, hooks: RunHooks): Promise<TaskOutcome> {
    const workerId = `w-${randomUUID()}`;
    const [file, ...args] = localWorkerCommand({
      python: this.options.python,
      cores: task.resources.cores,
      openmpiOversubscribe: this.options.openmpiOversubscribe,
      bridgeFile: this.options.bridgeFile,
      workerId
    });
    const hello = this.hub.expect(workerId);
    const started = Date.now();
    let output = '';
    const child = execa(file, args, {
      cwd: task.resources.cwd ?? undefined,
      env: { PYTHONPATH: [...this.options.pythonpath, process.env.PYTHONPATH ?? ''].filter(Boolean).join(':') },
      stdin: 'ignore',
      all: true,
      buffer: false,
      reject: false
    });
    this.processes.add(child);
    child.all?.on('data', (chunk: Buffer) => (output = tail(output + chunk.toString('utf8'))));
    const exited = child.then(result => {
      this.processes.delete(child);
      const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
      const spawnError = result.failed && result.exitCode === undefined && !result.signal ? `: ${result.shortMessage}` : '';
      return `worker process \`${file} ${args.slice(0, 3).join(' ')} …\` ${how}${spawnError}`;
    });

    const lost = (why: string): TaskOutcome => ({
      ok: false,
      runtime: (Date.now() - started) / 1000,
      failure: {
        error_type: 'ExecutorlabWorkerError',
        error_message: why,
        traceback: output ? `${why}\nlast output of the worker:\n${output}` : why
      },
      exception: null
    });

    let running = true;
    void exited.then(() => (running = false));
    const first = await Promise.race([hello, exited]);
    if (typeof first === 'string') {
      this.hub.forget(workerId, first);
      return lost(`${first} before it connected`);
    }
    const conn: WorkerConnection = first;
    const outcome = await Promise.race([
      this.hub.run(conn, task, hooks),
      exited.then(why => {
        const outcome = lost(`${why} while running ${task.fnName}`);
        this.hub.lost(conn, outcome);
        return outcome;
      })
    ]);
    if (running) await this.hub.stop(conn);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
    return outcome;
  }

  async shutdown(): Promise<void> {
    const all = [...this.processes];
    for (const child of all) child.kill('SIGTERM');
    await Promise.allSettled(all);
  }
}
