import type { Failure } from '../protocol/messages.js';
import type { Task } from '../scheduler/task.js';

export type TaskOutcome =
  | { ok: true; runtime: number; result: Buffer }
  | { ok: false; runtime: number; failure: Failure; exception: Buffer | null };

export interface RunHooks {
  /** The worker has the task: the function is running. */
  started(): void;
  stream(name: 'stdout' | 'stderr', text: string): void;
}

/** Where an executor's tasks run: this machine, an allocation, or a scheduler job per call. */
export interface Backend {
  readonly kind: string;
  run(task: Task, hooks: RunHooks): Promise<TaskOutcome>;
  /** Stop every worker this backend started; running tasks end with an error. */
  shutdown(): Promise<void>;
}
