import { ISignal, Signal } from '@lumino/signaling';

import {
  BridgeEvent,
  ConnectionStatus,
  IBridgeConnection,
  IBridgeStatus,
  IExecutorView,
  ITaskMonitorModel,
  ITaskView,
  Placement
} from '../tokens';

/**
 * Task list kept in sync with the bridge's pushed events.
 *
 * A snapshot replaces everything (the bridge may have restarted and forgotten
 * tasks); a `tasks` event upserts the changed records only.
 */
export class TaskMonitorModel implements ITaskMonitorModel {
  constructor(connection: IBridgeConnection) {
    this._connection = connection;
    connection.eventReceived.connect(this._onEvent, this);
    connection.statusChanged.connect(this._emitChanged, this);
    connection.bridgeStatusChanged.connect(this._emitChanged, this);
  }

  get tasks(): readonly ITaskView[] {
    if (this._sorted === null) {
      this._sorted = [...this._tasks.values()].sort(newestFirst);
    }
    return this._sorted;
  }

  get connectionStatus(): ConnectionStatus {
    return this._connection.status;
  }

  get bridgeStatus(): IBridgeStatus | null {
    return this._connection.bridgeStatus;
  }

  get placement(): Placement | null {
    const placement = this._connection.bridgeStatus?.placement;
    return isPlacement(placement) ? placement : null;
  }

  get changed(): ISignal<ITaskMonitorModel, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  getTask(id: string): ITaskView | undefined {
    return this._tasks.get(id);
  }

  get selectedTaskId(): string | null {
    return this._selected;
  }

  get selectionChanged(): ISignal<ITaskMonitorModel, string | null> {
    return this._selectionChanged;
  }

  select(id: string | null): void {
    if (id === this._selected) {
      return;
    }
    this._selected = id;
    this._selectionChanged.emit(id);
    this._changed.emit();
  }

  reconnect(): void {
    this._connection.reconnect();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    Signal.disconnectReceiver(this);
    Signal.clearData(this);
  }

  get executors(): readonly IExecutorView[] {
    return this._executors;
  }

  private _onEvent(_: IBridgeConnection, event: BridgeEvent): void {
    if (event.type === 'executors') {
      this._executors = event.executors;
      this._changed.emit();
      return;
    }
    if (event.type !== 'snapshot' && event.type !== 'tasks') {
      return; // usage samples are the resource view's
    }
    if (event.type === 'snapshot') {
      this._tasks.clear();
    }
    for (const task of event.tasks) {
      this._tasks.set(task.id, task);
    }
    this._sorted = null;
    this._emitThrottled();
  }

  private _emitChanged(): void {
    this._changed.emit();
  }

  /**
   * How often the views redraw for task changes at most (the "event rate" setting); 0: at every event.
   * Changes are applied at once either way; only the redraws are spaced.
   */
  get updatesPerSecond(): number {
    return this._interval > 0 ? 1000 / this._interval : 0;
  }

  set updatesPerSecond(value: number) {
    this._interval = value > 0 ? 1000 / value : 0;
  }

  private _emitThrottled(): void {
    if (this._timer !== null) {
      return; // a redraw is already due: it shows this change too
    }
    const wait = this._lastEmit + this._interval - Date.now();
    if (wait <= 0) {
      this._lastEmit = Date.now();
      this._changed.emit();
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this._lastEmit = Date.now();
      this._changed.emit();
    }, wait);
  }

  private _connection: IBridgeConnection;
  private _tasks = new Map<string, ITaskView>();
  private _executors: readonly IExecutorView[] = [];
  private _interval = 0;
  private _lastEmit = 0;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _selected: string | null = null;
  private _selectionChanged = new Signal<ITaskMonitorModel, string | null>(this);
  private _sorted: ITaskView[] | null = null;
  private _isDisposed = false;
  private _changed = new Signal<ITaskMonitorModel, void>(this);
}

function newestFirst(a: ITaskView, b: ITaskView): number {
  return b.submitted_at - a.submitted_at || a.id.localeCompare(b.id);
}

type Json = Record<string, unknown>;

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

function isCountOrNull(value: unknown): value is number | null {
  return value === null || isCount(value);
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

/**
 * Whether `value` is a placement as the bridge documents it. Anything else
 * (an older bridge without one, an unknown kind) is not shown.
 */
export function isPlacement(value: unknown): value is Placement {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return false;
  }
  const p = value as Json;
  if (typeof p.hostname !== 'string') {
    return false;
  }
  switch (p.kind) {
    case 'local':
      return isCount(p.cpus) && isCount(p.gpus);
    case 'slurm':
      return (
        typeof p.job_id === 'string' &&
        isCount(p.nodes) &&
        isStringOrNull(p.node_list) &&
        isCount(p.cpus) &&
        isCountOrNull(p.gpus) &&
        isStringOrNull(p.time_left) &&
        (p.end_time === null || typeof p.end_time === 'number')
      );
    case 'flux':
      return (
        typeof p.uri === 'string' &&
        isCountOrNull(p.nodes) &&
        isCountOrNull(p.cpus) &&
        isCountOrNull(p.gpus)
      );
    default:
      return false;
  }
}
