import { ServerConnection } from '@jupyterlab/services';
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { requestAPI } from '../handler';
import { ConnectionStatus, IBridgeConnection } from '../tokens';

/**
 * `GET executorlab/api/usage[?since=T]`: the bridge's usage history.
 */
export const USAGE_PATH = 'api/usage';

/**
 * One point of the bridge's usage history (sampled once per second while anyone looks).
 */
export interface IUsageSample {
  /** Epoch milliseconds. */
  t: number;
  cores_busy: number;
  cores_total: number;
  gpus_busy: number;
  gpus_total: number;
  /** Calls submitted and not handed to a worker yet. */
  queued: number;
  running: number;
}

/**
 * A connected worker with its latest heartbeat.
 */
export interface IWorkerUsage {
  worker_id: string;
  /** null until the bridge knows it. */
  executor_id: string | null;
  host: string;
  pid: number;
  ranks: number;
  /** Percent of one CPU between its last two heartbeats; null before the second. */
  cpu_percent: number | null;
  /** Resident memory in bytes; null before its first heartbeat. */
  rss: number | null;
  /** Epoch milliseconds of its last heartbeat. */
  updated: number | null;
}

/**
 * `{"type": "usage", "sample": ..., "workers": [...]}` on the events socket, once per second.
 */
export interface IUsageEvent {
  type: 'usage';
  sample: IUsageSample;
  workers: IWorkerUsage[];
}

/**
 * The body of `GET api/usage`.
 */
export interface IUsageHistory {
  interval_ms: number;
  samples: IUsageSample[];
  workers: IWorkerUsage[];
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function isCountOrNull(value: unknown): value is number | null {
  return value === null || isCount(value);
}

const SAMPLE_KEYS = ['t', 'cores_busy', 'cores_total', 'gpus_busy', 'gpus_total', 'queued', 'running'] as const;

export function isUsageSample(value: unknown): value is IUsageSample {
  return isObject(value) && SAMPLE_KEYS.every(key => isCount(value[key]));
}

export function isWorkerUsage(value: unknown): value is IWorkerUsage {
  return (
    isObject(value) &&
    typeof value.worker_id === 'string' &&
    (value.executor_id === null || typeof value.executor_id === 'string') &&
    typeof value.host === 'string' &&
    isCount(value.pid) &&
    isCount(value.ranks) &&
    isCountOrNull(value.cpu_percent) &&
    isCountOrNull(value.rss) &&
    isCountOrNull(value.updated)
  );
}

/**
 * A `usage` event from the events socket: a text frame, or a message already
 * decoded. null for anything else (other event types, malformed samples);
 * malformed workers are left out.
 *
 * `BridgeConnection` can try this where `parseBridgeEvent` returns null, and
 * emit the result on `eventReceived`.
 */
export function parseUsageEvent(data: unknown): IUsageEvent | null {
  let message = data;
  if (typeof data === 'string') {
    // Cheap test first: most frames are task events.
    if (!data.includes('"usage"')) {
      return null;
    }
    try {
      message = JSON.parse(data);
    } catch {
      return null;
    }
  }
  if (!isObject(message) || message.type !== 'usage' || !isUsageSample(message.sample)) {
    return null;
  }
  const workers = Array.isArray(message.workers) ? message.workers.filter(isWorkerUsage) : [];
  return { type: 'usage', sample: message.sample, workers };
}

function parseHistory(body: unknown): IUsageHistory | null {
  if (!isObject(body) || !Array.isArray(body.samples)) {
    return null;
  }
  return {
    interval_ms: isCount(body.interval_ms) && body.interval_ms > 0 ? body.interval_ms : 1000,
    samples: body.samples.filter(isUsageSample),
    workers: Array.isArray(body.workers) ? body.workers.filter(isWorkerUsage) : []
  };
}

/**
 * The bridge's resource usage for the usage view: its history, then new
 * samples as they come.
 *
 * While `active` (the view is visible) it fetches `api/usage` at once, then
 * every `pollInterval` ms only what is new (`?since=`), unless `usage` events
 * arrive on the events socket (they make polls unnecessary while they keep
 * coming). A reconnection of the events socket fetches the history again.
 */
export class UsageModel implements IDisposable {
  constructor(options: UsageModel.IOptions = {}) {
    const settings = options.serverSettings;
    this._request =
      options.request ?? (<T>(path: string) => requestAPI<T>(path, {}, settings));
    this._pollInterval = options.pollInterval ?? 2000;
    this._historyMs = options.historyMs ?? 600_000;
    this._now = options.now ?? Date.now;
    this._connection = options.connection ?? null;
    this._connection?.eventReceived.connect(this._onEvent, this);
    this._connection?.statusChanged.connect(this._onStatus, this);
  }

  /** Oldest first, at most `historyMs` of them. */
  get samples(): readonly IUsageSample[] {
    return this._samples;
  }

  get latest(): IUsageSample | null {
    return this._samples.length ? this._samples[this._samples.length - 1] : null;
  }

  get workers(): readonly IWorkerUsage[] {
    return this._workers;
  }

  /** Milliseconds between two samples of the bridge. */
  get intervalMs(): number {
    return this._intervalMs;
  }

  /** Why the last fetch failed; null once one succeeded. */
  get error(): string | null {
    return this._error;
  }

  get changed(): ISignal<UsageModel, void> {
    return this._changed;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Whether a view shows the usage: fetch and poll only while it does.
   */
  get active(): boolean {
    return this._active;
  }

  set active(value: boolean) {
    if (value === this._active || this._isDisposed) {
      return;
    }
    this._active = value;
    if (value) {
      void this.refresh();
      this._timer = setInterval(() => this._poll(), this._pollInterval);
    } else if (this._timer !== null) {
      clearInterval(this._timer);
      this._timer = null;
    }
  }

  /**
   * Fetch what is new (everything the first time); resolves once applied.
   */
  async refresh(full = false): Promise<void> {
    if (this._isDisposed) {
      return;
    }
    const since = full ? null : (this.latest?.t ?? null);
    const path = since === null ? USAGE_PATH : `${USAGE_PATH}?since=${since}`;
    let history: IUsageHistory | null;
    try {
      history = parseHistory(await this._request<unknown>(path));
      if (!history) {
        throw new Error('api/usage did not return a usage history');
      }
    } catch (reason) {
      if (this._isDisposed) {
        return;
      }
      this._error = reason instanceof Error ? reason.message : String(reason);
      this._changed.emit();
      return;
    }
    if (this._isDisposed) {
      return;
    }
    this._error = null;
    this._intervalMs = history.interval_ms;
    this._samples = full ? mergeSamples([], history.samples) : mergeSamples(this._samples, history.samples);
    this._workers = history.workers;
    this._trim();
    this._changed.emit();
  }

  /**
   * Apply a `usage` event (also called for those `eventReceived` carries).
   */
  addEvent(event: IUsageEvent): void {
    if (this._isDisposed) {
      return;
    }
    this._lastEvent = this._now();
    this._samples = mergeSamples(this._samples, [event.sample]);
    this._workers = event.workers;
    this._trim();
    this._changed.emit();
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this.active = false;
    this._isDisposed = true;
    this._connection?.eventReceived.disconnect(this._onEvent, this);
    this._connection?.statusChanged.disconnect(this._onStatus, this);
    Signal.clearData(this);
  }

  private _poll(): void {
    // Live events make the poll unnecessary while they keep coming.
    if (this._now() - this._lastEvent < this._pollInterval * 1.5) {
      return;
    }
    if (this._polling) {
      return;
    }
    this._polling = true;
    void this.refresh().finally(() => (this._polling = false));
  }

  private _onEvent(_: IBridgeConnection, event: unknown): void {
    const usage = parseUsageEvent(event);
    if (usage) {
      this.addEvent(usage);
    }
  }

  private _onStatus(_: IBridgeConnection, status: ConnectionStatus): void {
    // Another bridge (or the same after a restart): its history replaces ours.
    if (status === 'connected' && this._active) {
      void this.refresh(true);
    }
  }

  private _trim(): void {
    const latest = this.latest;
    if (!latest) {
      return;
    }
    const from = latest.t - this._historyMs;
    let drop = 0;
    while (drop < this._samples.length && this._samples[drop].t < from) {
      drop++;
    }
    if (drop > 0) {
      this._samples = this._samples.slice(drop);
    }
  }

  private _request: <T>(path: string) => Promise<T>;
  private _pollInterval: number;
  private _historyMs: number;
  private _now: () => number;
  private _connection: IBridgeConnection | null;
  private _samples: IUsageSample[] = [];
  private _workers: IWorkerUsage[] = [];
  private _intervalMs = 1000;
  private _error: string | null = null;
  private _active = false;
  private _timer: ReturnType<typeof setInterval> | null = null;
  private _polling = false;
  private _lastEvent = -Infinity;
  private _isDisposed = false;
  private _changed = new Signal<UsageModel, void>(this);
}

/**
 * `current` with the samples of `more` that are newer than its last one, in order.
 */
function mergeSamples(current: IUsageSample[], more: IUsageSample[]): IUsageSample[] {
  let last = current.length ? current[current.length - 1].t : -Infinity;
  const added: IUsageSample[] = [];
  for (const sample of [...more].sort((a, b) => a.t - b.t)) {
    if (sample.t > last) {
      added.push(sample);
      last = sample.t;
    }
  }
  return added.length ? [...current, ...added] : current;
}

export namespace UsageModel {
  export interface IOptions {
    /** The events socket: its `usage` events (once wired) and reconnections. */
    connection?: IBridgeConnection | null;
    serverSettings?: ServerConnection.ISettings;
    /** Fetches below `<baseUrl>/executorlab/` (tests pass their own). */
    request?: <T>(path: string) => Promise<T>;
    /** Milliseconds between polls while active and no events come (2000). */
    pollInterval?: number;
    /** Milliseconds of history kept (10 minutes). */
    historyMs?: number;
    now?: () => number;
  }
}
