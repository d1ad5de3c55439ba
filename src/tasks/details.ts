import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from '../handler';
import {
  FINISHED_STATES,
  ITaskMonitorModel,
  ITaskView,
  TaskState
} from '../tokens';

/**
 * Why a task failed (`failure` in `GET api/tasks/<id>`).
 */
export interface ITaskFailure {
  error_type: string;
  error_message: string;
  traceback: string;
}

/**
 * `GET api/tasks/<id>`: the task view plus what it printed and why it failed.
 */
export interface ITaskDetails extends ITaskView {
  /** The last 64 KiB of its stdout and stderr. */
  output: string;
  failure: ITaskFailure | null;
}

/**
 * Calls the server extension below `<baseUrl>/executorlab/`; resolves with the decoded
 * JSON body, rejects (with the API's message) on an error status.
 */
export type TaskDetailsRequest = <T>(path: string, init?: RequestInit) => Promise<T>;

/**
 * Milliseconds between refetches while a task runs.
 */
export const DETAILS_POLL_INTERVAL = 1000;

export function isFinished(state: TaskState | undefined): boolean {
  return state !== undefined && FINISHED_STATES.includes(state);
}

/**
 * The details of one task (`api/tasks/<id>`), kept current while it is unfinished.
 *
 * It fetches at once, again whenever the monitor model's view of the task changes,
 * and at most once per `pollInterval` while the task runs (so its output shows up
 * as it prints). Once a fetch says the task finished, it stops: finished tasks never
 * change again. Without a monitor model it polls while the task is unfinished.
 */
export class TaskDetailsModel implements IDisposable {
  constructor(options: TaskDetailsModel.IOptions) {
    this.taskId = options.taskId;
    this._monitor = options.monitor ?? null;
    const settings = options.serverSettings;
    this._request =
      options.request ??
      (<T>(path: string, init?: RequestInit) =>
        requestAPI<T>(path, init, settings));
    this._interval = options.pollInterval ?? DETAILS_POLL_INTERVAL;
    if (this._monitor) {
      this._seenView = this._monitor.getTask(this.taskId);
      this._monitor.changed.connect(this._onMonitorChanged, this);
    }
    void this.refresh();
  }

  readonly taskId: string;

  /**
   * The task's view: the monitor's (pushed live) when it knows the task, else the
   * last fetched one; null before anything is known.
   */
  get task(): ITaskView | null {
    return this._monitor?.getTask(this.taskId) ?? this._details;
  }

  /** The last successful fetch; null before the first one. */
  get details(): ITaskDetails | null {
    return this._details;
  }

  get output(): string {
    return this._details?.output ?? '';
  }

  get failure(): ITaskFailure | null {
    return this._details?.failure ?? null;
  }

  /** Whether a fetch is under way. */
  get loading(): boolean {
    return this._inFlight !== null;
  }

  /** Why the last fetch failed (the API's message); null after a successful one. */
  get error(): string | null {
    return this._error;
  }

  /** Whether the fetched details are final (the task finished): no more fetches. */
  get finished(): boolean {
    return isFinished(this._details?.state);
  }

  /** Whether a cancel request is under way. */
  get cancelling(): boolean {
    return this._cancelling;
  }

  /** Why the last cancel failed (the bridge's message); null otherwise. */
  get cancelError(): string | null {
    return this._cancelError;
  }

  /** Emitted after a fetch or cancel started or ended. */
  get changed(): ISignal<TaskDetailsModel, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Fetch the details now. While a fetch is under way, one more follows it.
   */
  refresh(): Promise<void> {
    if (this._isDisposed) {
      return Promise.resolve();
    }
    if (this._inFlight) {
      this._again = true;
      return this._inFlight;
    }
    this._clearTimer();
    this._inFlight = this._fetch();
    this._changed.emit();
    return this._inFlight;
  }

  /**
   * Ask the bridge to cancel the task. Resolves with whether it did; on failure
   * `cancelError` holds the bridge's reason (409: unknown or already finished).
   */
  async cancel(): Promise<boolean> {
    if (this._isDisposed || this._cancelling) {
      return false;
    }
    this._cancelling = true;
    this._cancelError = null;
    this._changed.emit();
    let ok = false;
    try {
      await this._request<{ cancelled: boolean }>(`${this._path}/cancel`, {
        method: 'POST'
      });
      ok = true;
    } catch (reason) {
      this._cancelError = errorMessage(reason);
    } finally {
      this._cancelling = false;
    }
    if (!this._isDisposed) {
      this._changed.emit();
      if (ok) {
        void this.refresh();
      }
    }
    return ok;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._clearTimer();
    this._monitor?.changed.disconnect(this._onMonitorChanged, this);
    Signal.clearData(this);
  }

  private get _path(): string {
    return `api/tasks/${encodeURIComponent(this.taskId)}`;
  }

  private async _fetch(): Promise<void> {
    try {
      const reply = await this._request<unknown>(this._path);
      if (this._isDisposed) {
        return;
      }
      const details = parseDetails(reply);
      if (details) {
        this._details = details;
        this._error = null;
      } else {
        this._error = `executorlab: ${this._path} did not return a task`;
      }
    } catch (reason) {
      if (this._isDisposed) {
        return;
      }
      this._error = errorMessage(reason);
    } finally {
      this._inFlight = null;
    }
    this._changed.emit();
    if (this._again && !this.finished) {
      this._again = false;
      void this.refresh();
      return;
    }
    this._again = false;
    this._schedule();
  }

  /** Poll once more after `pollInterval` while the task runs. */
  private _schedule(): void {
    if (this._isDisposed || this.finished) {
      return;
    }
    const fetched = this._details?.state;
    const pushed = this._monitor?.getTask(this.taskId)?.state;
    const poll = this._monitor
      ? fetched === 'running' || pushed === 'running'
      : fetched !== undefined && !isFinished(fetched);
    if (poll) {
      this._timer = setTimeout(() => {
        this._timer = null;
        void this.refresh();
      }, this._interval);
    }
  }

  private _clearTimer(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _onMonitorChanged(): void {
    const view = this._monitor?.getTask(this.taskId);
    if (view === this._seenView) {
      return;
    }
    this._seenView = view;
    if (view === undefined || this.finished) {
      return;
    }
    void this.refresh();
  }

  private _monitor: ITaskMonitorModel | null;
  private _request: TaskDetailsRequest;
  private _interval: number;
  private _seenView: ITaskView | undefined = undefined;
  private _details: ITaskDetails | null = null;
  private _error: string | null = null;
  private _inFlight: Promise<void> | null = null;
  private _again = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _cancelling = false;
  private _cancelError: string | null = null;
  private _isDisposed = false;
  private _changed = new Signal<TaskDetailsModel, void>(this);
}

export namespace TaskDetailsModel {
  export interface IOptions {
    taskId: string;
    /** The live task list; its view changes trigger refetches. */
    monitor?: ITaskMonitorModel | null;
    /**
     * Calls the server extension; `requestAPI` (src/handler.ts) with `serverSettings`
     * by default. Tests pass a fake.
     */
    request?: TaskDetailsRequest;
    /** Server settings for the default request function; the page's by default. */
    serverSettings?: ServerConnection.ISettings;
    /** Milliseconds between refetches while the task runs; 1000 by default. */
    pollInterval?: number;
  }
}

function errorMessage(reason: unknown): string {
  if (reason instanceof Error) {
    return reason.message || String(reason);
  }
  return String(reason);
}

function parseFailure(value: unknown): ITaskFailure | null {
  if (typeof value !== 'object' || value === null) {
    return null;
  }
  const f = value as Record<string, unknown>;
  if (typeof f.error_type !== 'string') {
    return null;
  }
  return {
    error_type: f.error_type,
    error_message: typeof f.error_message === 'string' ? f.error_message : '',
    traceback: typeof f.traceback === 'string' ? f.traceback : ''
  };
}

/**
 * The reply of `GET api/tasks/<id>` with `output` and `failure` made safe to show;
 * null when it is not a task at all.
 */
export function parseDetails(value: unknown): ITaskDetails | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return null;
  }
  const d = value as Record<string, unknown>;
  if (typeof d.id !== 'string' || typeof d.state !== 'string') {
    return null;
  }
  return {
    ...(d as unknown as ITaskView),
    output: typeof d.output === 'string' ? d.output : '',
    failure: parseFailure(d.failure)
  };
}
