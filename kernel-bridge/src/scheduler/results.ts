// Results the bridge holds so tasks submitted later can depend on them. Bounded by bytes and by count:
// the oldest results go first, except those that waiting tasks still need. Clients pass values of
// futures that are already done themselves, so a result is only needed here for the moment it takes
// to reach them; the bounds keep a long run of small tasks from growing the bridge.
import type { TaskOutcome } from '../backends/backend.js';

interface Entry {
  outcome: TaskOutcome;
  bytes: number;
  pins: number;
}

function sizeOf(outcome: TaskOutcome): number {
  return outcome.ok ? outcome.result.length : (outcome.exception?.length ?? 0) + outcome.failure.traceback.length;
}

export class ResultStore {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly budgetBytes: number,
    private readonly maxEntries: number
  ) {}

  put(taskId: string, outcome: TaskOutcome, pins: number): void {
    const entry = { outcome, bytes: sizeOf(outcome), pins };
    this.entries.set(taskId, entry);
    this.bytes += entry.bytes;
    this.evict();
  }

  get(taskId: string): TaskOutcome | undefined {
    return this.entries.get(taskId)?.outcome;
  }

  pin(taskId: string): void {
    const entry = this.entries.get(taskId);
    if (entry) entry.pins += 1;
  }

  unpin(taskId: string): void {
    const entry = this.entries.get(taskId);
    if (entry && entry.pins > 0) entry.pins -= 1;
    this.evict();
  }

  get heldBytes(): number {
    return this.bytes;
  }

  private overBudget(): boolean {
    return this.bytes > this.budgetBytes || this.entries.size > this.maxEntries;
  }

  private evict(): void {
    if (!this.overBudget()) return;
    // Map iteration order is insertion order: oldest first.
    for (const [id, entry] of this.entries) {
      if (!this.overBudget()) return;
      if (entry.pins > 0) continue;
      this.entries.delete(id);
      this.bytes -= entry.bytes;
    }
  }
}
