// Pushes task changes to the panel's WebSockets: a snapshot on connect, then only what changed,
// coalesced so a view gets at most one message per interval however busy the scheduler is; and the
// resource usage sample once per second (`broadcast`, from the usage monitor).
import type { WebSocket } from 'ws';
import type { ExecutorView } from '../scheduler/scheduler.js';
import type { TaskView } from '../scheduler/task.js';

export class EventHub {
  private readonly sockets = new Set<WebSocket>();
  private readonly pending = new Map<string, TaskView>();
  private timer: NodeJS.Timeout | null = null;
  private executorsDirty = false;
  /** Called when a socket subscribes (after its snapshot): the usage monitor starts sampling. */
  onSubscribe: (() => void) | null = null;

  constructor(
    private readonly snapshot: () => TaskView[],
    private readonly intervalMs = 100,
    private readonly executors: () => ExecutorView[] = () => []
  ) {}

  add(socket: WebSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => this.sockets.delete(socket));
    socket.send(JSON.stringify({ type: 'snapshot', tasks: this.snapshot() }));
    socket.send(JSON.stringify({ type: 'executors', executors: this.executors() }));
    this.onSubscribe?.();
  }

  /** Send a message to every subscriber now (not coalesced): the usage sample, once per second. */
  broadcast(message: unknown): void {
    if (this.sockets.size === 0) return;
    const text = JSON.stringify(message);
    for (const socket of this.sockets) socket.send(text);
  }

  /** Some executor's counts or state changed: all executors (a short list) go with the next flush. */
  executorsChanged(): void {
    this.executorsDirty = true;
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  taskChanged(view: TaskView): void {
    this.pending.set(view.id, view);
    this.timer ??= setTimeout(() => this.flush(), this.intervalMs);
  }

  get subscribers(): number {
    return this.sockets.size;
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const socket of this.sockets) socket.close(1001, 'bridge stopping');
  }

  private flush(): void {
    this.timer = null;
    if (this.executorsDirty) {
      this.executorsDirty = false;
      const message = JSON.stringify({ type: 'executors', executors: this.executors() });
      for (const socket of this.sockets) socket.send(message);
    }
    if (this.pending.size === 0) return;
    const message = JSON.stringify({ type: 'tasks', tasks: [...this.pending.values()] });
    this.pending.clear();
    for (const socket of this.sockets) socket.send(message);
  }
}
