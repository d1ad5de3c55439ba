// Runs each call in a fresh worker (executorlib's default, non-block mode): a process on this machine,
// an srun step or a flux job, as its launcher says.
import type { Backend, RunHooks, TaskOutcome } from './backend.js';
import type { WorkerLauncher } from './launcher.js';
import { workerPythonPath } from './local.js';
import type { ResourceDict } from '../protocol/messages.js';
import { taskEnvironment } from '../resources/environment.js';
import type { Task } from '../scheduler/task.js';
import type { WorkerHub } from '../workers/hub.js';
import { journalPath } from '../workers/journal.js';
import { newWorkerId, WorkerProcess, WorkerStartError } from '../workers/process.js';

export interface OneProcessOptions {
  launcher: WorkerLauncher;
  pythonpath: string[];
  bridgeFile: string;
}

export class OneProcessBackend implements Backend {
  readonly kind: string;
  readonly holdsGpus: boolean;
  private readonly workers = new Map<string, WorkerProcess>();
  /** Tasks whose worker is still starting, and whether they were cancelled meanwhile. */
  private readonly starting = new Map<string, boolean>();

  constructor(
    private readonly hub: WorkerHub,
    private readonly options: OneProcessOptions
  ) {
    this.kind = options.launcher.kind;
    this.holdsGpus = options.launcher.placesGpus;
  }

  resourceProblems(merged: ResourceDict): Promise<string[]> {
    return this.options.launcher.resourceProblems(merged);
  }

  async run(task: Task, inputs: Buffer[], hooks: RunHooks): Promise<TaskOutcome> {
    const { launcher, pythonpath, bridgeFile } = this.options;
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
      command: launcher.command({ resources: task.resources, workerId }),
      workerId,
      journal: journalPath(bridgeFile, workerId),
      cwd: task.resources.cwd,
      env: { ...launcher.env, ...workerPythonPath(pythonpath), ...taskEnvironment(task.resources.requested, task.gpus) },
      viaLauncher: launcher.viaLauncher(task.resources)
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
