import { Token } from '@lumino/coreutils';
import { IDisposable } from '@lumino/disposable';
import { ISignal } from '@lumino/signaling';

import type { IUsageEvent } from './usage/model';

/**
 * Life cycle of a future, as the bridge reports it.
 */
export type TaskState =
  | 'waiting'
  | 'queued'
  | 'running'
  | 'done'
  | 'error'
  | 'cancelled';

export const TASK_STATES: readonly TaskState[] = [
  'waiting',
  'queued',
  'running',
  'done',
  'error',
  'cancelled'
];

/**
 * States after which a task never changes again.
 */
export const FINISHED_STATES: readonly TaskState[] = [
  'done',
  'error',
  'cancelled'
];

/**
 * Resources a task asked for (executorlib's `resource_dict`).
 */
export interface ITaskResources {
  cores: number;
  threads_per_core: number;
  gpus_per_core: number;
}

/**
 * One future as the bridge shows it to the frontend (`TaskView` in the bridge API).
 */
export interface ITaskView {
  id: string;
  executor_id: string;
  executor_name: string;
  fn_name: string;
  state: TaskState;
  /** Epoch milliseconds. */
  submitted_at: number;
  started_at: number | null;
  finished_at: number | null;
  /** Seconds, set once the task finished. */
  runtime: number | null;
  resources: ITaskResources;
  error_type: string | null;
  client_id: string;
  /** Ids of the futures its arguments refer to (older bridges: absent). */
  dependencies?: string[];
  /** Its kernel went away; the record stays. */
  orphaned?: boolean;
  cache_key?: string | null;
  /** The cache file of its result (`<directory>/<key>_o.h5`). */
  cache_file?: string | null;
  /** It finished from its cache file: nothing ran. */
  cache_hit?: boolean;
  /** A short text of its arguments ("1, 'a', list[300]"), made by the kernel. */
  args?: string | null;
  /** Where it ran: the worker's host and pid, or the batch job ("SLURM job 123"). */
  where?: string | null;
  /** What it returned, briefly: a short repr for plain values and cached calls, else type and size. */
  result?: string | null;
}

/**
 * One executor as the bridge shows it (`ExecutorView` in the bridge API).
 */
export interface IExecutorView {
  id: string;
  name: string;
  /** local, slurm, flux, slurm-cluster or flux-cluster. */
  backend: string;
  client_id: string;
  block_allocation: boolean;
  max_cores: number | null;
  max_workers: number | null;
  cores_in_use: number;
  running: number;
  unfinished: number;
  shutdown: boolean;
  orphaned: boolean;
}

/**
 * The bridge runs on its host alone, outside any batch system.
 */
export interface ILocalPlacement {
  kind: 'local';
  hostname: string;
  cpus: number;
  gpus: number;
}

/**
 * The bridge runs inside SLURM job `job_id`; counts cover the whole allocation.
 */
export interface ISlurmPlacement {
  kind: 'slurm';
  hostname: string;
  job_id: string;
  nodes: number;
  /** SLURM's compact form, e.g. `node[01-04]`. */
  node_list: string | null;
  cpus: number;
  gpus: number | null;
  /** As squeue prints it: `1-02:03:04`, `1:23:45`, `UNLIMITED`. */
  time_left: string | null;
  /** Epoch milliseconds when the job's time runs out. */
  end_time: number | null;
}

/**
 * The bridge runs inside the flux instance at `uri`; counts are its usable resources.
 */
export interface IFluxPlacement {
  kind: 'flux';
  hostname: string;
  uri: string;
  nodes: number | null;
  cpus: number | null;
  gpus: number | null;
}

/**
 * Where the bridge runs (`placement` in `GET executorlab/api/status`).
 */
export type Placement = ILocalPlacement | ISlurmPlacement | IFluxPlacement;

/**
 * `GET executorlab/api/status`.
 */
export interface IBridgeStatus {
  version: string;
  pid: number;
  /** Epoch milliseconds. */
  started: number;
  /** Absent from older bridges; null while the bridge has not detected it yet. */
  placement?: Placement | null;
  /** Which bridge process this is (a new one after every restart); absent from older bridges. */
  instance_id?: string;
}

/**
 * `GET executorlab/api/tasks`.
 */
export interface ITaskListReply {
  tasks: ITaskView[];
}

/**
 * First message on every events socket: the complete task list.
 */
export interface ISnapshotEvent {
  type: 'snapshot';
  tasks: ITaskView[];
}

/**
 * Tasks that changed since the previous message (batched by the bridge).
 */
export interface ITasksEvent {
  type: 'tasks';
  tasks: ITaskView[];
}

/**
 * All executors, sent on connect and whenever one of them changed.
 */
export interface IExecutorsEvent {
  type: 'executors';
  executors: IExecutorView[];
}

export type BridgeEvent = ISnapshotEvent | ITasksEvent | IExecutorsEvent | IUsageEvent;

/**
 * `connecting`: first attempt, nothing known yet.
 * `connected`: the snapshot arrived; events are live.
 * `disconnected`: the socket closed or never opened; retrying with backoff.
 */
export type ConnectionStatus = 'connecting' | 'connected' | 'disconnected';

/**
 * The one events socket to the bridge, shared by every executorlab view.
 */
export interface IBridgeConnection extends IDisposable {
  readonly status: ConnectionStatus;
  readonly statusChanged: ISignal<IBridgeConnection, ConnectionStatus>;
  /** Validated messages pushed by the bridge. */
  readonly eventReceived: ISignal<IBridgeConnection, BridgeEvent>;
  /** Fetched from `api/status` after each (re)connection; null while disconnected. */
  readonly bridgeStatus: IBridgeStatus | null;
  readonly bridgeStatusChanged: ISignal<IBridgeConnection, IBridgeStatus | null>;
  /** Reconnect now instead of waiting for the next backoff step. */
  reconnect(): void;
}

export const IBridgeConnection = new Token<IBridgeConnection>(
  'executorlab:IBridgeConnection',
  'The WebSocket connection that carries live events from the executorlab bridge.'
);

/**
 * Live state of every task the bridge knows, for views to render.
 */
export interface ITaskMonitorModel extends IDisposable {
  /** Newest submission first. */
  readonly tasks: readonly ITaskView[];
  readonly connectionStatus: ConnectionStatus;
  readonly bridgeStatus: IBridgeStatus | null;
  /** Where the bridge runs, when its status reports a well-formed placement. */
  readonly placement: Placement | null;
  /** The bridge's executors, in the order they were created. */
  readonly executors: readonly IExecutorView[];
  /** Emitted after tasks or the connection changed. */
  readonly changed: ISignal<ITaskMonitorModel, void>;
  getTask(id: string): ITaskView | undefined;
  /** The future selected in any view (table, graph); null for none. */
  readonly selectedTaskId: string | null;
  /** Select a future in every view; `changed` and `selectionChanged` are emitted. */
  select(id: string | null): void;
  readonly selectionChanged: ISignal<ITaskMonitorModel, string | null>;
  reconnect(): void;
}

export const ITaskMonitorModel = new Token<ITaskMonitorModel>(
  'executorlab:ITaskMonitorModel',
  'Live list of executorlab futures and their states.'
);

/**
 * MIME type of a future displayed in a notebook cell (`executorlab.display`).
 */
export const FUTURE_MIME_TYPE = 'application/vnd.executorlab.future+json';

/**
 * MIME type of a dependency graph drawn by executorlib's plot mode (nothing ran).
 */
export const GRAPH_MIME_TYPE = 'application/vnd.executorlab.graph+json';

/**
 * Id of the command that selects a task in the Executors sidebar and opens it (args `{taskId}`).
 */
export const SHOW_TASK_COMMAND = 'executorlab:show-task';

/**
 * The data of a `FUTURE_MIME_TYPE` bundle: the kernel's snapshot of one future
 * when it displayed it.
 */
export interface IFutureOutputData {
  version: 1;
  task_id: string;
  /** The bridge instance (`instance_id`) the kernel submitted to; null when unknown. */
  bridge: string | null;
  /** A label given by the kernel (`%%submit In[3]`); null: the task's function name. */
  label: string | null;
  /** The future's state when the kernel displayed it. */
  state: TaskState;
  cores: number;
  /** `live`: show what the task prints under the status line. */
  output: 'cell' | 'live';
}

/**
 * One node of a `GRAPH_MIME_TYPE` graph: a call, an input value, or a list or dict
 * of arguments.
 */
export interface ICellGraphNode {
  id: number | string;
  /** `function`, `input`, `list` or `dict`; other kinds are drawn like functions. */
  kind: string;
  label: string;
  /** The full text (e.g. `__main__.add`, the repr of an input); the node's tooltip. */
  value: string | null;
}

/**
 * Data flows from `source` to `target`.
 */
export interface ICellGraphEdge {
  source: number | string;
  target: number | string;
  /** The target's argument the data goes to. */
  label: string | null;
  /** Which part of the source's result it is (an index or key); null: all of it. */
  source_label: string | null;
}

/**
 * The data of a `GRAPH_MIME_TYPE` bundle.
 */
export interface ICellGraphData {
  version: 1;
  nodes: ICellGraphNode[];
  edges: ICellGraphEdge[];
}
