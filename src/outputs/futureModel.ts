import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from '../handler';
import { isFinished, parseDetails, TaskDetailsModel, TaskDetailsRequest } from '../tasks/details';
import {
  ConnectionStatus,
  IFutureOutputData,
  ITaskMonitorModel,
  ITaskView,
  TaskState
} from '../tokens';

/**
 * Where a future's view comes from.
 *
 * - `monitor`: the task monitor model (the events socket), live;
 * - `fetched`: one `GET api/tasks/<id>` (the monitor does not hold it, e.g. after a reload);
 * - `pending`: not known yet (a fetch is under way): the kernel's snapshot shows;
 * - `unknown`: the running bridge does not know the task (404, or another bridge instance);
 * - `unreachable`: the bridge could not be asked; tried again when the events socket reconnects.
 */
export type FutureSource = 'monitor' | 'fetched' | 'pending' | 'unknown' | 'unreachable';

/**
 * The state of one future displayed in a notebook cell: the kernel's snapshot
 * (`data`) until the bridge's view of the task is known, then that view, live.
 *
 * It follows the task monitor model; when the monitor does not hold the task it
 * fetches it once. With `outputActive` (the output is on screen) and `output: "live"`
 * it polls what the task prints through a `TaskDetailsModel`.
 */
export class FutureModel implements IDisposable {
  constructor(options: FutureModel.IOptions) {
    this._data = options.data;
    this._monitor = options.monitor;
    const settings = options.serverSettings;
    this._request =
      options.request ??
      (<T>(path: string, init?: RequestInit) => requestAPI<T>(path, init, settings));
    this._pollInterval = options.pollInterval;
    this._connection = this._monitor.connectionStatus;
    this._monitor.changed.connect(this._onMonitorChanged, this);
    this._sync();
    this._shownTask = this.task;
  }

  /** The kernel's snapshot. Setting it (an updated display of the same task) redraws. */
  get data(): IFutureOutputData {
    return this._data;
  }

  set data(value: IFutureOutputData) {
    if (value === this._data) {
      return;
    }
    this._data = value;
    this._updateDetails();
    this._emit();
  }

  get taskId(): string {
    return this._data.task_id;
  }

  /** The bridge's view of the task: live from the monitor, else the last one seen or fetched. */
  get task(): ITaskView | null {
    return this._monitor.getTask(this.taskId) ?? this._view;
  }

  get source(): FutureSource {
    return this._source;
  }

  /** Whether only the kernel's snapshot can be shown, greyed (the bridge does not know the task). */
  get stale(): boolean {
    return this._source === 'unknown' || this._source === 'unreachable';
  }

  /** Why the bridge could not be asked (`unreachable`); null otherwise. */
  get fetchError(): string | null {
    return this._fetchError;
  }

  /** The task's state: the bridge's when known, else the snapshot's. */
  get state(): TaskState {
    return (this.stale ? null : this.task?.state) ?? this._data.state;
  }

  /** The kernel's label, else the task's function name, else its id. */
  get label(): string {
    return this._data.label ?? this.task?.fn_name ?? this.taskId;
  }

  /** Whether what the task prints is shown under the line (`output: "live"`). */
  get liveOutput(): boolean {
    return this._data.output === 'live';
  }

  /**
   * Whether the output is on screen: only then is it polled. Set by the renderer
   * on attach/show (true) and detach/hide (false).
   */
  get outputActive(): boolean {
    return this._outputActive;
  }

  set outputActive(value: boolean) {
    if (value === this._outputActive || this._isDisposed) {
      return;
    }
    this._outputActive = value;
    this._updateDetails();
  }

  /** What the task printed (stdout and stderr), as last fetched. */
  get output(): string {
    return this._output;
  }

  /** Whether the output was fetched at least once. */
  get outputLoaded(): boolean {
    return this._outputLoaded;
  }

  /** Why the last output fetch failed; null after a successful one. */
  get outputError(): string | null {
    return this._details?.error ?? null;
  }

  /** Whether the output is being polled now. */
  get polling(): boolean {
    return this._details !== null && !this._details.isDisposed;
  }

  /** Emitted after anything shown changed. */
  get changed(): ISignal<FutureModel, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._monitor.changed.disconnect(this._onMonitorChanged, this);
    this._disposeDetails();
    Signal.clearData(this);
  }

  private _onMonitorChanged(): void {
    const status = this._monitor.connectionStatus;
    const reconnected = status === 'connected' && this._connection !== 'connected';
    this._connection = status;
    if (reconnected && this._source === 'unreachable') {
      this._needsFetch = true;
    }
    const source = this._source;
    this._sync();
    this._updateDetails();
    // Other tasks' changes (most of them) redraw nothing.
    if (this._source !== source || this.task !== this._shownTask) {
      this._emit();
    }
  }

  private _emit(): void {
    this._shownTask = this.task;
    this._changed.emit();
  }

  /**
   * Find the task's view: the monitor's, else the last one (when final), else fetch it once.
   */
  private _sync(): void {
    const view = this._monitor.getTask(this.taskId);
    if (view) {
      this._view = view;
      this._source = 'monitor';
      // Should it disappear unfinished (the bridge restarted), ask the bridge again.
      this._needsFetch = true;
      return;
    }
    if (this._view && isFinished(this._view.state) && !this.stale) {
      return; // evicted after it finished: its last view is final
    }
    if (this._fetching) {
      return;
    }
    const instance = this._monitor.bridgeStatus?.instance_id;
    if (this._data.bridge !== null && instance && instance !== this._data.bridge) {
      this._source = 'unknown'; // submitted to another bridge instance
      this._fetchError = null;
      return;
    }
    if (this._needsFetch) {
      this._needsFetch = false;
      void this._fetch();
    }
  }

  private async _fetch(): Promise<void> {
    this._fetching = true;
    if (this._source !== 'unreachable') {
      this._source = 'pending';
    }
    let source: FutureSource;
    try {
      const reply = await this._request<unknown>(
        `api/tasks/${encodeURIComponent(this.taskId)}`
      );
      const details = parseDetails(reply);
      if (details) {
        this._view = details;
        source = 'fetched';
        this._fetchError = null;
      } else {
        source = 'unreachable';
        this._fetchError = 'the bridge did not return a task';
      }
    } catch (reason) {
      if (isNotFound(reason)) {
        source = 'unknown';
        this._fetchError = null;
      } else {
        source = 'unreachable';
        this._fetchError = reason instanceof Error ? reason.message : String(reason);
      }
    } finally {
      this._fetching = false;
    }
    if (this._isDisposed) {
      return;
    }
    // The socket may have delivered the task meanwhile: it wins.
    if (this._monitor.getTask(this.taskId)) {
      this._sync();
    } else {
      this._source = source;
    }
    this._updateDetails();
    this._emit();
  }

  /**
   * Poll the output while it is live, on screen, the task is known and its final
   * output has not been fetched yet.
   */
  private _updateDetails(): void {
    const want =
      this._outputActive &&
      this.liveOutput &&
      !this._outputFinal &&
      (this._source === 'monitor' || this._source === 'fetched');
    if (!want) {
      this._disposeDetails();
      return;
    }
    if (this._details) {
      return;
    }
    const details = new TaskDetailsModel({
      taskId: this.taskId,
      monitor: this._monitor,
      request: this._request,
      pollInterval: this._pollInterval
    });
    details.changed.connect(this._onDetailsChanged, this);
    this._details = details;
  }

  private _onDetailsChanged(details: TaskDetailsModel): void {
    if (details.details) {
      this._output = details.output;
      this._outputLoaded = true;
      // Fetched details are newer than a fetched view (the socket may be down).
      if (!this._monitor.getTask(this.taskId) && this._source === 'fetched') {
        this._view = details.details;
      }
      if (details.finished) {
        this._outputFinal = true;
      }
    }
    this._emit();
  }

  private _disposeDetails(): void {
    if (this._details) {
      this._details.changed.disconnect(this._onDetailsChanged, this);
      this._details.dispose();
      this._details = null;
    }
  }

  private _data: IFutureOutputData;
  private _monitor: ITaskMonitorModel;
  private _request: TaskDetailsRequest;
  private _pollInterval: number | undefined;
  private _connection: ConnectionStatus;
  private _view: ITaskView | null = null;
  private _shownTask: ITaskView | null = null;
  private _source: FutureSource = 'pending';
  private _needsFetch = true;
  private _fetching = false;
  private _fetchError: string | null = null;
  private _outputActive = false;
  private _details: TaskDetailsModel | null = null;
  private _output = '';
  private _outputLoaded = false;
  private _outputFinal = false;
  private _isDisposed = false;
  private _changed = new Signal<FutureModel, void>(this);
}

export namespace FutureModel {
  export interface IOptions {
    /** The kernel's snapshot (validated). */
    data: IFutureOutputData;
    /** The live task list. */
    monitor: ITaskMonitorModel;
    /** Calls the server extension; `requestAPI` with `serverSettings` by default. Tests pass a fake. */
    request?: TaskDetailsRequest;
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between output fetches while the task runs; 1000 by default. */
    pollInterval?: number;
  }
}

/** Whether a request failed because the bridge does not know the task. */
function isNotFound(reason: unknown): boolean {
  if (reason instanceof ServerConnection.ResponseError) {
    return reason.response.status === 404;
  }
  const status = (reason as { response?: { status?: unknown } } | null)?.response?.status;
  return status === 404;
}
