// Runs each task in a fresh worker process on this machine (executorlib's default, non-block mode).
import type { Backend, RunHooks, TaskOutcome } from './backend.js';
import { localWorkerCommand } from './commands.js';
import type { ResourceDict } from '../protocol/messages.js';
import { checkLocalResources } from '../resources/capabilities.js';
import { taskEnvironment } from '../resources/environment.js';
import type { HostProbe } from '../resources/host.js';
import type { Task } from '../scheduler/task.js';
import type { WorkerHub } from '../workers/hub.js';
import { journalPath } from '../workers/journal.js';
import { newWorkerId, WorkerProcess, WorkerStartError } from '../workers/process.js';

export interface LocalBackendOptions {
  python: string;
  pythonpath: string[];
  bridgeFile: string;
  openmpiOversubscribe: boolean;
  /** The executor's class name, for messages. */
  executorName: string;
  host: HostProbe;
}

/** PYTHONPATH of a worker: the kernel's folders first, so its modules import in the worker. */
export function workerPythonPath(pythonpath: string[]): Record<string, string> {
  return { PYTHONPATH: [...pythonpath, process.env.PYTHONPATH ?? ''].filter(Boolean).join(':') };
}

export class LocalBackend implements Backend {
  readonly kind = 'local';
  private readonly workers = new Map<string, WorkerProcess>();
  /** Tasks whose worker is still starting, and whether they were cancelled meanwhile. */
  private readonly starting = new Map<string, boolean>();

  constructor(
    private readonly hub: WorkerHub,
    private readonly options: LocalBackendOptions
  ) {}

  resourceProblems(merged: ResourceDict): Promise<string[]> {
    const { python, pythonpath, executorName, host } = this.options;
    return checkLocalResources(merged, host, { python, env: workerPythonPath(pythonpath), executorName });
  }

  async run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    const workerId = newWorkerId();
    const started = Date.now();
    const failed = (message: string): TaskOutcome => ({
      ok: false,
      runtime: (Date.now() - started) / 1000,
      failure: { error_type: 'ExecutorlabWorkerError', error_message: message, traceback: message },
      exception: null
    });
    this.starting.set(task.id, false);
    const worker = await WorkerProcess.start(this.hub, {
      command: localWorkerCommand({
        python: this.options.python,
        cores: task.resources.cores,
        openmpiOversubscribe: task.resources.openmpi_oversubscribe ?? this.options.openmpiOversubscribe,
        bridgeFile: this.options.bridgeFile,
        workerId
      }),
      workerId,
      journal: journalPath(this.options.bridgeFile, workerId),
      cwd: task.resources.cwd,
      env: { ...workerPythonPath(this.options.pythonpath), ...taskEnvironment(task.resources.requested, task.gpus) },
      viaLauncher: task.resources.cores > 1
    }).catch((error: unknown) => {
      if (error instanceof WorkerStartError) return error;
      this.starting.delete(task.id);
      throw error;
    });
    const cancelled = this.starting.get(task.id);
    this.starting.delete(task.id);
    if (worker instanceof WorkerStartError) return failed(worker.message);
    if (cancelled) {
      await worker.stop();
      return failed('cancelled before its worker started');
    }
    this.workers.set(task.id, worker);
    try {
      return (await worker.run(task, inputs, hooks)) ?? failed(`${await worker.exited} before it started the task`);
    } finally {
      this.workers.delete(task.id);
      await worker.stop();
    }
  }

  cancel(taskId: string): boolean {
    if (this.starting.has(taskId)) {
      this.starting.set(taskId, true);
      return true;
    }
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
