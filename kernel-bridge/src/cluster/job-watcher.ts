// Follows the jobs of one batch system with one status call for all of them per interval (never one call
// per job), and tells each watcher when its job runs and when it ended.
import type { BatchSystem } from './batch-system.js';
import { isFinished, type JobStatus } from './job-state.js';

interface Watch {
  running: boolean;
  onRunning(): void;
  resolve(status: JobStatus): void;
}

/** Polls a job missing from the batch system's answer may take before it counts as gone. */
const MISSING_POLLS = 3;

export class JobWatcher {
  private readonly watches = new Map<string, Set<Watch>>();
  private readonly missing = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private polling = false;

  constructor(
    private readonly batch: BatchSystem,
    private readonly log: (line: string) => void,
    private readonly intervalMs = 500
  ) {}

  /** Resolves with the job's final status ('unknown' once the batch system forgot it); `stop` ends the watch. */
  watch(id: string, onRunning: () => void = () => {}): { ended: Promise<JobStatus>; stop(): void } {
    let watch!: Watch;
    const ended = new Promise<JobStatus>(resolve => {
      watch = { running: false, onRunning, resolve };
    });
    let set = this.watches.get(id);
    if (!set) this.watches.set(id, (set = new Set()));
    set.add(watch);
    this.arm();
    return {
      ended,
      stop: () => {
        set.delete(watch);
        if (set.size === 0 && this.watches.get(id) === set) {
          this.watches.delete(id);
          this.missing.delete(id);
        }
      }
    };
  }

  /** The current status of one job, asked now (attaching to a job submitted by an earlier bridge). */
  async status(id: string): Promise<JobStatus | null> {
    return (await this.batch.states([id])).get(id) ?? null;
  }

  get size(): number {
    return this.watches.size;
  }

  private arm(): void {
    if (this.timer || this.polling || this.watches.size === 0) return;
    this.timer = setTimeout(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    this.timer = null;
    this.polling = true;
    const ids = [...this.watches.keys()];
    try {
      const states = await this.batch.states(ids);
      for (const id of ids) this.update(id, states.get(id));
    } catch (error) {
      this.log(`${this.batch.name}: could not read the state of ${ids.length} job(s): ${(error as Error).message}`);
    } finally {
      this.polling = false;
      this.arm();
    }
  }

  private update(id: string, status: JobStatus | undefined): void {
    const set = this.watches.get(id);
    if (!set) return;
    const gone = !status;
    if (!status) {
      const polls = (this.missing.get(id) ?? 0) + 1;
      if (polls < MISSING_POLLS) {
        this.missing.set(id, polls);
        return;
      }
      status = { id, state: 'unknown', raw: `no longer listed by ${this.batch.name}`, reason: null };
    }
    this.missing.delete(id);
    if (status.state === 'running') {
      for (const watch of set) {
        if (!watch.running) {
          watch.running = true;
          watch.onRunning();
        }
      }
    }
    if (isFinished(status.state) || gone) {
      this.watches.delete(id);
      for (const watch of set) watch.resolve(status);
    }
  }
}
