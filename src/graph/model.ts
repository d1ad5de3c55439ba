import { graphlib, layout as dagreLayout } from '@dagrejs/dagre';
import { ISignal, Signal } from '@lumino/signaling';

import { ITaskView, TASK_STATES, TaskState } from '../tokens';

/**
 * What the graph needs of a task view. `ITaskView` satisfies it; benchmarks
 * and tests may pass smaller records.
 */
export type IGraphTask = Pick<
  ITaskView,
  'id' | 'executor_id' | 'executor_name' | 'fn_name' | 'state'
> &
  Partial<Pick<ITaskView, 'dependencies' | 'cache_hit' | 'submitted_at'>>;

/**
 * Tasks per state.
 */
export type StateCounts = Record<TaskState, number>;

/**
 * One drawn node: a task, or a group of same-function tasks.
 */
export interface IGraphNode {
  /** The task id, or the group id (`group:…`). */
  readonly id: string;
  readonly kind: 'task' | 'group';
  /** The function name. */
  readonly label: string;
  readonly executorId: string;
  /** The task's state; for a group, the most urgent state among its tasks. */
  readonly state: TaskState;
  /** Tasks drawn by this node (one for a task node). */
  readonly taskIds: readonly string[];
  readonly counts: StateCounts;
  readonly cacheHit: boolean;
}

/**
 * Dependency → dependent, between drawn nodes.
 */
export interface IGraphEdge {
  /** `source→target`. */
  readonly id: string;
  readonly source: string;
  readonly target: string;
}

/**
 * A node's box; `x`, `y` are its centre (dagre's convention).
 */
export interface INodeLayout {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface IPoint {
  readonly x: number;
  readonly y: number;
}

export interface IEdgeLayout {
  readonly id: string;
  readonly source: string;
  readonly target: string;
  /** From the source's border to the target's border. */
  readonly points: readonly IPoint[];
}

export interface IGraphLayout {
  /** Structure version this layout was computed for. */
  readonly version: number;
  readonly width: number;
  readonly height: number;
  readonly nodes: ReadonlyMap<string, INodeLayout>;
  readonly edges: ReadonlyMap<string, IEdgeLayout>;
}

/**
 * What an update changed.
 */
export interface IGraphChange {
  /** Nodes or edges were added or removed: the layout is stale. */
  readonly structural: boolean;
  /** Nodes whose state, counts or cache flag changed (all of them after a structural change). */
  readonly nodes: readonly string[];
}

export interface IExecutorEntry {
  readonly id: string;
  readonly name: string;
}

/** Above this many visible tasks, same-function tasks are grouped. */
export const DEFAULT_NODE_LIMIT = 500;

const GROUP_PREFIX = 'group:';

/** Most urgent first: a group takes the first state any of its tasks is in. */
const GROUP_STATE_ORDER: readonly TaskState[] = [
  'error',
  'running',
  'queued',
  'waiting',
  'cancelled',
  'done'
];

/** Node box sizes, in SVG user units. */
export const NODE_SIZE = {
  charWidth: 7,
  padding: 24,
  minWidth: 90,
  maxWidth: 220,
  taskHeight: 32,
  groupHeight: 50
};

/** Above this many nodes, dagre's network-simplex ranker gets too slow. */
const NETWORK_SIMPLEX_LIMIT = 100;
/** Above this many nodes plus edges, skip dagre's crossing-reduction sweeps. */
const ORDER_HEURISTIC_LIMIT = 2500;

export function emptyCounts(): StateCounts {
  const counts = {} as StateCounts;
  for (const state of TASK_STATES) {
    counts[state] = 0;
  }
  return counts;
}

/**
 * The group id for tasks of `fnName` in `executorId`; `level` is null when
 * grouping ignores levels (the coarse fallback).
 */
export function groupId(executorId: string, fnName: string, level: number | null): string {
  return `${GROUP_PREFIX}${executorId}:${level === null ? '*' : level}:${fnName}`;
}

export function isGroupId(id: string): boolean {
  return id.startsWith(GROUP_PREFIX);
}

/**
 * Width of a node labelled `label` (estimated from its length: the model has no DOM).
 */
export function nodeWidth(label: string): number {
  const w = label.length * NODE_SIZE.charWidth + NODE_SIZE.padding;
  return Math.max(NODE_SIZE.minWidth, Math.min(NODE_SIZE.maxWidth, w));
}

/**
 * `label` cut to fit a node of the largest width.
 */
export function fitLabel(label: string): string {
  const max = Math.floor((NODE_SIZE.maxWidth - NODE_SIZE.padding) / NODE_SIZE.charWidth);
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

/**
 * The dependency graph of tasks, as drawn: nodes, edges, grouping, layout and selection.
 *
 * Pure (no DOM): feed it task views with `setTasks`/`update`, read `nodes`,
 * `edges` and `layout()`. The layout is cached until the structure changes, so
 * state changes never move a node.
 */
export class GraphModel {
  constructor(options: GraphModel.IOptions = {}) {
    this._nodeLimit = options.nodeLimit ?? DEFAULT_NODE_LIMIT;
    this._executorId = options.executorId ?? null;
    if (options.tasks) {
      this.setTasks(options.tasks);
    }
  }

  /** Emitted after the drawn graph changed. */
  get changed(): ISignal<GraphModel, IGraphChange> {
    return this._changed;
  }

  /** Emitted with the new selection (a task id, a group id, or null). */
  get selectionChanged(): ISignal<GraphModel, string | null> {
    return this._selectionChanged;
  }

  get nodes(): readonly IGraphNode[] {
    return this._nodeList;
  }

  get edges(): readonly IGraphEdge[] {
    return this._edgeList;
  }

  /** Increases with every structural change. */
  get version(): number {
    return this._version;
  }

  /** Visible tasks (after the executor filter). */
  get taskCount(): number {
    return this._visibleCount;
  }

  getNode(id: string): IGraphNode | undefined {
    return this._nodes.get(id);
  }

  getTask(id: string): IGraphTask | undefined {
    return this._tasks.get(id);
  }

  /**
   * The drawn node that shows task `taskId` (itself, or its group).
   */
  nodeIdOf(taskId: string): string | undefined {
    return this._nodeOfTask.get(taskId);
  }

  /** Every executor seen in the tasks, first seen first. */
  get executors(): readonly IExecutorEntry[] {
    return this._executorList;
  }

  /** Only tasks of this executor are drawn; null: all executors. */
  get executorId(): string | null {
    return this._executorId;
  }

  set executorId(value: string | null) {
    if (value === this._executorId) {
      return;
    }
    this._executorId = value;
    this._refresh(true);
  }

  get nodeLimit(): number {
    return this._nodeLimit;
  }

  set nodeLimit(value: number) {
    if (value === this._nodeLimit) {
      return;
    }
    this._nodeLimit = value;
    this._refresh(false);
  }

  /**
   * Whether automatic grouping is on (more visible tasks than `nodeLimit`).
   */
  get autoGrouped(): boolean {
    return this._visibleCount > this._nodeLimit;
  }

  /** Functions the user collapsed. */
  get collapsedFunctions(): ReadonlySet<string> {
    return this._collapsed;
  }

  /**
   * Replace every task (a snapshot).
   */
  setTasks(tasks: Iterable<IGraphTask>): void {
    this._tasks.clear();
    for (const task of tasks) {
      this._tasks.set(task.id, task);
    }
    this._levels = null;
    this._refresh(true);
  }

  /**
   * Apply changed (new or updated) tasks and removed task ids.
   *
   * Returns what changed; a state change alone is not structural, and neither
   * is a new task that joins an existing group without new edges.
   */
  update(changed: Iterable<IGraphTask>, removed: Iterable<string> = []): IGraphChange {
    let force = false;
    for (const id of removed) {
      if (this._tasks.delete(id)) {
        force = true;
      }
    }
    for (const task of changed) {
      const old = this._tasks.get(task.id);
      if (
        !old ||
        old.fn_name !== task.fn_name ||
        old.executor_id !== task.executor_id ||
        !sameList(old.dependencies, task.dependencies)
      ) {
        this._levels = null;
      }
      this._tasks.set(task.id, task);
    }
    if (force) {
      this._levels = null;
    }
    return this._refresh(false);
  }

  /**
   * Draw the tasks of `group` one by one again.
   */
  expand(group: string): void {
    const node = this._nodes.get(group);
    if (!node || node.kind !== 'group') {
      return;
    }
    this._expanded.set(group, node.label);
    this._refresh(false);
  }

  /**
   * Draw the tasks of function `fnName` as groups (one per executor and level),
   * even below the node limit. Undoes `expand` for that function's groups.
   */
  collapse(fnName: string): void {
    let changed = !this._collapsed.has(fnName);
    this._collapsed.add(fnName);
    for (const [id, fn] of [...this._expanded]) {
      if (fn === fnName) {
        this._expanded.delete(id);
        changed = true;
      }
    }
    if (changed) {
      this._refresh(false);
    }
  }

  /**
   * Forget `collapse(fnName)`: below the limit, its tasks are drawn one by one again.
   */
  uncollapse(fnName: string): void {
    if (this._collapsed.delete(fnName)) {
      this._refresh(false);
    }
  }

  /** The selected task or group id. */
  get selected(): string | null {
    return this._selected;
  }

  /**
   * Select a task or group (null: nothing). Emits `selectionChanged` when it changes.
   */
  select(id: string | null): void {
    if (id === this._selected) {
      return;
    }
    this._selected = id;
    this._selectionChanged.emit(id);
  }

  /**
   * Node positions and edge routes, computed with dagre and cached until the
   * structure changes.
   */
  layout(): IGraphLayout {
    if (this._layout && this._layout.version === this._version) {
      return this._layout;
    }
    const g = new graphlib.Graph();
    const n = this._nodeList.length;
    g.setGraph({
      rankdir: 'TB',
      nodesep: 24,
      ranksep: 48,
      edgesep: 12,
      marginx: 16,
      marginy: 16,
      ranker: n > NETWORK_SIMPLEX_LIMIT ? 'tight-tree' : 'network-simplex'
    });
    g.setDefaultEdgeLabel(() => ({}));
    for (const node of this._nodeList) {
      g.setNode(node.id, {
        width: nodeWidth(node.label),
        height: node.kind === 'group' ? NODE_SIZE.groupHeight : NODE_SIZE.taskHeight
      });
    }
    for (const edge of this._edgeList) {
      g.setEdge(edge.source, edge.target);
    }
    dagreLayout(g, {
      disableOptimalOrderHeuristic: n + this._edgeList.length > ORDER_HEURISTIC_LIMIT
    });

    const nodes = new Map<string, INodeLayout>();
    for (const node of this._nodeList) {
      const label = g.node(node.id);
      nodes.set(node.id, {
        id: node.id,
        x: label.x ?? 0,
        y: label.y ?? 0,
        width: label.width,
        height: label.height
      });
    }
    const edges = new Map<string, IEdgeLayout>();
    for (const edge of this._edgeList) {
      const label = g.edge(edge.source, edge.target);
      edges.set(edge.id, {
        id: edge.id,
        source: edge.source,
        target: edge.target,
        points: (label?.points ?? []).map((p: IPoint) => ({ x: p.x, y: p.y }))
      });
    }
    const graph = g.graph();
    this._layout = {
      version: this._version,
      width: n ? (graph.width ?? 0) : 0,
      height: n ? (graph.height ?? 0) : 0,
      nodes,
      edges
    };
    return this._layout;
  }

  get isDisposed(): boolean {
    return this._isDisposed;
  }

  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    Signal.clearData(this);
  }

  /**
   * Rebuild nodes and edges from the tasks, compare with the previous build,
   * and emit what changed. `force`: structural whatever the comparison says.
   */
  private _refresh(force: boolean): IGraphChange {
    this._updateExecutors();
    const visible: IGraphTask[] = [];
    for (const task of this._tasks.values()) {
      if (this._executorId === null || task.executor_id === this._executorId) {
        visible.push(task);
      }
    }
    visible.sort(bySubmission);
    this._visibleCount = visible.length;

    const nodeOfTask = this._assignNodes(visible);
    const members = new Map<string, IGraphTask[]>();
    const order: string[] = [];
    for (const task of visible) {
      const id = nodeOfTask.get(task.id)!;
      let list = members.get(id);
      if (!list) {
        list = [];
        members.set(id, list);
        order.push(id);
      }
      list.push(task);
    }

    const nodes = new Map<string, IGraphNode>();
    for (const id of order) {
      nodes.set(id, makeNode(id, members.get(id)!));
    }
    const edges = new Map<string, IGraphEdge>();
    for (const task of visible) {
      const target = nodeOfTask.get(task.id)!;
      for (const dep of task.dependencies ?? []) {
        const source = nodeOfTask.get(dep);
        if (source === undefined || source === target) {
          continue;
        }
        const id = `${source}→${target}`;
        if (!edges.has(id)) {
          edges.set(id, { id, source, target });
        }
      }
    }

    const structural =
      force || !sameKeys(nodes, this._nodes) || !sameKeys(edges, this._edges);
    let changedNodes: string[];
    if (structural) {
      changedNodes = order;
      this._version++;
    } else {
      changedNodes = [];
      for (const [id, node] of nodes) {
        if (!sameNode(node, this._nodes.get(id)!)) {
          changedNodes.push(id);
        }
      }
    }
    this._nodes = nodes;
    this._edges = edges;
    this._nodeList = [...nodes.values()];
    this._edgeList = [...edges.values()];
    this._nodeOfTask = nodeOfTask;
    const change: IGraphChange = { structural, nodes: changedNodes };
    if (structural || changedNodes.length) {
      this._changed.emit(change);
    }
    return change;
  }

  /**
   * Which drawn node shows each visible task.
   */
  private _assignNodes(visible: IGraphTask[]): Map<string, string> {
    const levels = this._computeLevels();
    const auto = visible.length > this._nodeLimit;
    const byGroup = new Map<string, IGraphTask[]>();
    for (const task of visible) {
      const id = groupId(task.executor_id, task.fn_name, levels.get(task.id) ?? 0);
      let list = byGroup.get(id);
      if (!list) {
        list = [];
        byGroup.set(id, list);
      }
      list.push(task);
    }
    const nodeOfTask = new Map<string, string>();
    const expandedTasks = new Set<string>();
    let count = 0;
    for (const [id, tasks] of byGroup) {
      const wanted = auto || this._collapsed.has(tasks[0].fn_name);
      if (this._expanded.has(id)) {
        for (const task of tasks) {
          expandedTasks.add(task.id);
        }
      }
      if (wanted && tasks.length > 1 && !this._expanded.has(id)) {
        count++;
        for (const task of tasks) {
          nodeOfTask.set(task.id, id);
        }
      } else {
        count += tasks.length;
        for (const task of tasks) {
          nodeOfTask.set(task.id, task.id);
        }
      }
    }
    if (auto && count > this._nodeLimit) {
      // Still too many: group by function alone, whatever the level.
      const coarse = new Map<string, IGraphTask[]>();
      for (const task of visible) {
        if (expandedTasks.has(task.id)) {
          continue;
        }
        const id = groupId(task.executor_id, task.fn_name, null);
        let list = coarse.get(id);
        if (!list) {
          list = [];
          coarse.set(id, list);
        }
        list.push(task);
      }
      for (const [id, tasks] of coarse) {
        if (tasks.length > 1 && !this._expanded.has(id)) {
          for (const task of tasks) {
            nodeOfTask.set(task.id, id);
          }
        }
      }
    }
    return nodeOfTask;
  }

  /**
   * Dependency level of every task: 0 without known dependencies, else one
   * more than its deepest dependency. Over all tasks, so filters do not move it.
   */
  private _computeLevels(): Map<string, number> {
    if (this._levels) {
      return this._levels;
    }
    const levels = new Map<string, number>();
    const visiting = new Set<string>();
    const level = (start: string): number => {
      // Iterative depth-first walk: chains may be thousands long.
      const stack: string[] = [start];
      while (stack.length) {
        const id = stack[stack.length - 1];
        if (levels.has(id)) {
          stack.pop();
          continue;
        }
        const task = this._tasks.get(id);
        const deps = task?.dependencies ?? [];
        visiting.add(id);
        let ready = true;
        let max = -1;
        for (const dep of deps) {
          if (!this._tasks.has(dep)) {
            continue;
          }
          const l = levels.get(dep);
          if (l !== undefined) {
            max = Math.max(max, l);
          } else if (!visiting.has(dep)) {
            ready = false;
            stack.push(dep);
          }
          // A dependency being visited is a cycle: ignore that edge.
        }
        if (ready) {
          levels.set(id, max + 1);
          visiting.delete(id);
          stack.pop();
        }
      }
      return levels.get(start)!;
    };
    for (const id of this._tasks.keys()) {
      level(id);
    }
    this._levels = levels;
    return levels;
  }

  private _updateExecutors(): void {
    const seen = new Map<string, string>();
    for (const task of this._tasks.values()) {
      if (!seen.has(task.executor_id)) {
        seen.set(task.executor_id, task.executor_name);
      }
    }
    const list = this._executorList;
    if (list.length === seen.size && list.every(e => seen.get(e.id) === e.name)) {
      return;
    }
    this._executorList = [...seen].map(([id, name]) => ({ id, name }));
  }

  private _tasks = new Map<string, IGraphTask>();
  private _levels: Map<string, number> | null = null;
  private _nodes = new Map<string, IGraphNode>();
  private _edges = new Map<string, IGraphEdge>();
  private _nodeList: IGraphNode[] = [];
  private _edgeList: IGraphEdge[] = [];
  private _nodeOfTask = new Map<string, string>();
  /** Expanded group ids, with their function. */
  private _expanded = new Map<string, string>();
  private _collapsed = new Set<string>();
  private _executorList: IExecutorEntry[] = [];
  private _executorId: string | null;
  private _nodeLimit: number;
  private _visibleCount = 0;
  private _version = 0;
  private _layout: IGraphLayout | null = null;
  private _selected: string | null = null;
  private _isDisposed = false;
  private _changed = new Signal<GraphModel, IGraphChange>(this);
  private _selectionChanged = new Signal<GraphModel, string | null>(this);
}

export namespace GraphModel {
  export interface IOptions {
    /** Above this many visible tasks, group same-function tasks (default 500). */
    nodeLimit?: number;
    /** Draw only this executor's tasks (default: all). */
    executorId?: string | null;
    tasks?: Iterable<IGraphTask>;
  }
}

function makeNode(id: string, tasks: IGraphTask[]): IGraphNode {
  const counts = emptyCounts();
  let cacheHit = true;
  for (const task of tasks) {
    counts[task.state]++;
    cacheHit = cacheHit && task.cache_hit === true;
  }
  const first = tasks[0];
  if (!isGroupId(id)) {
    return {
      id,
      kind: 'task',
      label: first.fn_name,
      executorId: first.executor_id,
      state: first.state,
      taskIds: [id],
      counts,
      cacheHit
    };
  }
  return {
    id,
    kind: 'group',
    label: first.fn_name,
    executorId: first.executor_id,
    state: GROUP_STATE_ORDER.find(state => counts[state] > 0) ?? 'done',
    taskIds: tasks.map(task => task.id),
    counts,
    cacheHit
  };
}

function sameNode(a: IGraphNode, b: IGraphNode): boolean {
  if (a.state !== b.state || a.cacheHit !== b.cacheHit || a.taskIds.length !== b.taskIds.length) {
    return false;
  }
  return TASK_STATES.every(state => a.counts[state] === b.counts[state]);
}

function sameKeys(a: Map<string, unknown>, b: Map<string, unknown>): boolean {
  if (a.size !== b.size) {
    return false;
  }
  for (const key of a.keys()) {
    if (!b.has(key)) {
      return false;
    }
  }
  return true;
}

function sameList(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  const x = a ?? [];
  const y = b ?? [];
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function bySubmission(a: IGraphTask, b: IGraphTask): number {
  return (a.submitted_at ?? 0) - (b.submitted_at ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
