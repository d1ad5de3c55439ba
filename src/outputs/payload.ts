import {
  ICellGraphData,
  ICellGraphEdge,
  ICellGraphNode,
  IFutureOutputData,
  TASK_STATES,
  TaskState
} from '../tokens';

/**
 * A validated payload, or why it is not one (one line, in English: it describes
 * what the kernel sent, for a developer).
 */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** Above this many nodes a graph is not laid out (dagre would block the page). */
export const MAX_CELL_GRAPH_NODES = 2000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail<T>(error: string): ParseResult<T> {
  return { ok: false, error };
}

/**
 * The data of an `application/vnd.executorlab.future+json` bundle. Optional fields
 * fall back to defaults (no label, one core, output in the cell); the task id and
 * a known state are required.
 */
export function parseFutureData(value: unknown): ParseResult<IFutureOutputData> {
  if (!isObject(value)) {
    return fail('the future data is not an object');
  }
  if (value.version !== 1) {
    return fail(`unsupported future data version ${JSON.stringify(value.version)}`);
  }
  if (typeof value.task_id !== 'string' || value.task_id === '') {
    return fail('the future data has no task_id');
  }
  if (typeof value.state !== 'string' || !TASK_STATES.includes(value.state as TaskState)) {
    return fail(`unknown future state ${JSON.stringify(value.state)}`);
  }
  const cores =
    typeof value.cores === 'number' && Number.isFinite(value.cores) && value.cores > 0
      ? value.cores
      : 1;
  return {
    ok: true,
    value: {
      version: 1,
      task_id: value.task_id,
      bridge: typeof value.bridge === 'string' && value.bridge ? value.bridge : null,
      label: typeof value.label === 'string' && value.label ? value.label : null,
      state: value.state as TaskState,
      cores,
      output: value.output === 'live' ? 'live' : 'cell'
    }
  };
}

function isId(value: unknown): value is number | string {
  return (typeof value === 'number' && Number.isFinite(value)) || typeof value === 'string';
}

/** A label: strings as they are, numbers as text, nothing else. */
function text(value: unknown): string | null {
  if (typeof value === 'string') {
    return value;
  }
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : null;
}

/**
 * The data of an `application/vnd.executorlab.graph+json` bundle: every node has
 * a unique id and a kind, every edge joins two of the nodes.
 */
export function parseGraphData(value: unknown): ParseResult<ICellGraphData> {
  if (!isObject(value)) {
    return fail('the graph data is not an object');
  }
  if (value.version !== 1) {
    return fail(`unsupported graph data version ${JSON.stringify(value.version)}`);
  }
  if (!Array.isArray(value.nodes) || !Array.isArray(value.edges)) {
    return fail('the graph data needs the lists "nodes" and "edges"');
  }
  if (value.nodes.length > MAX_CELL_GRAPH_NODES) {
    return fail(
      `the graph has ${value.nodes.length} nodes, more than the ${MAX_CELL_GRAPH_NODES} drawn in a cell`
    );
  }
  const nodes: ICellGraphNode[] = [];
  const ids = new Set<string>();
  for (const [i, raw] of value.nodes.entries()) {
    if (!isObject(raw) || !isId(raw.id)) {
      return fail(`node ${i} has no id`);
    }
    const key = String(raw.id);
    if (ids.has(key)) {
      return fail(`node id ${key} occurs twice`);
    }
    if (typeof raw.kind !== 'string' || raw.kind === '') {
      return fail(`node ${key} has no kind`);
    }
    ids.add(key);
    const full = text(raw.value);
    nodes.push({
      id: raw.id,
      kind: raw.kind,
      label: text(raw.label) ?? full ?? key,
      value: full
    });
  }
  const edges: ICellGraphEdge[] = [];
  for (const [i, raw] of value.edges.entries()) {
    if (!isObject(raw) || !isId(raw.source) || !isId(raw.target)) {
      return fail(`edge ${i} needs a source and a target`);
    }
    if (!ids.has(String(raw.source)) || !ids.has(String(raw.target))) {
      return fail(`edge ${i} joins a node that is not in the graph`);
    }
    edges.push({
      source: raw.source,
      target: raw.target,
      label: text(raw.label),
      source_label: text(raw.source_label)
    });
  }
  return { ok: true, value: { version: 1, nodes, edges } };
}
