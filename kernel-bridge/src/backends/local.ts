// Runs each task in a fresh worker process on this machine (executorlib's default, non-block mode).
import type { Backend, RunHooks, TaskOutcome } from './backend.js';
import { localWorkerCommand } from './commands.js';
import type { Task } from '../scheduler/task.js';
import type { WorkerHub } from '../workers/hub.js';
import { newWorkerId, WorkerProcess, WorkerStartError } from '../workers/process.js';

export interface LocalBackendOptions {
  python: string;
  pythonpath: string[];
  bridgeFile: string;
  openmpiOversubscribe: boolean;
}

export class LocalBackend implements Backend {
  readonly kind = 'local';
  private readonly workers = new Map<string, WorkerProcess>();

  constructor(
    private readonly hub: WorkerHub,
    private readonly options: LocalBackendOptions
  ) {}

  async run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    const workerId = newWorkerId();
    const started = Date.now();
    let worker: WorkerProcess;
    try {
      worker = await WorkerProcess.start(this.hub, {
        command: localWorkerCommand({
          python: this.options.python,
          cores: task.resources.cores,
          openmpiOversubscribe: this.options.openmpiOversubscribe,
          bridgeFile: this.options.bridgeFile,
          workerId
        }),
        workerId,
        cwd: task.resources.cwd,
        env: { PYTHONPATH: [...this.options.pythonpath, process.env.PYTHONPATH ?? ''].filter(Boolean).join(':') }
      });
    } catch (error) {
      if (!(error instanceof WorkerStartError)) throw error;
      return {
        ok: false,
        runtime: (Date.now() - started) / 1000,
        failure: { error_type: 'ExecutorlabWorkerError', error_message: error.message, traceback: error.message },
        exception: null
      };
    }
    this.workers.set(task.id, worker);
    try {
      return await worker.run(task, inputs, hooks);
    } finally {
      this.workers.delete(task.id);
      await worker.stop();
    }
  }

  cancel(taskId: string): boolean {
    const worker = this.workers.get(taskId);
    if (!worker) return false;
    worker.kill('SIGKILL');
    return true;
  }

  async shutdown(): Promise<void> {
    const all = [...this.workers.values()];
    for (const worker of all) worker.kill('SIGTERM');
    await Promise.allSettled(all.map(w => w.exited));
  }
}
